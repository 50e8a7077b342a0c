"""The model specification: every prior value resolved against the data.

A :class:`MixtureSpec` is all the model layer and the samplers need; the estimator builds
it once per fit from its parameters and the training data.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._posterior import sigma_shape, sigma_unit

# The 2015 PyMC notebook's floor on every weight.
NOTEBOOK_MIN_WEIGHT = 0.1
# Data-scaled defaults, as multiples of a feature's robust spread: loose enough never to
# bind on data of any units. The prior sd of the means is also at least the reach of the
# data (as in Richardson & Green 1997), so a component can sit on an outlier.
MEAN_PRIOR_SCALE_FACTOR = 10.0
SD_UPPER_FACTOR = 10.0
HALFNORMAL_SCALE_FACTOR = 5.0
SD_PRIORS = ("uniform", "halfnormal")
# A floor far below any resolvable spread (clusters a million times tighter than the data's
# spread still fit). It keeps the posterior proper when a component holds only tied values,
# where sd -> 0 would otherwise be an absorbing, improper mode.
SD_LOWER_FACTOR = 1e-10
# IQR / this is the standard deviation of Normal data.
_IQR_TO_SD = 1.349
_MIN_SPREAD_OF_REACH = 1e-12


@dataclass(frozen=True, eq=False)
class MixtureSpec:
    """The constrained mixture, in the units of the data.

    ``sd_lower``, ``sd_upper`` and ``sd_prior_scale`` have shape () for the spherical
    covariance types and (d,) for the diagonal ones; they broadcast to
    :func:`~bayes_gmm._posterior.sigma_shape`. The sd prior is Uniform(sd_lower, sd_upper)
    for ``sd_prior="uniform"`` (``sd_prior_scale`` is None), and HalfNormal(sd_prior_scale)
    restricted to sigma >= sd_lower for ``"halfnormal"`` (``sd_upper`` is infinite).
    """

    n_components: int
    covariance_type: str
    weight_concentration: float
    min_weight: float
    mean_prior_loc: np.ndarray
    mean_prior_scale: np.ndarray
    sd_lower: np.ndarray
    sd_upper: np.ndarray
    order_feature: int
    sd_prior: str = "uniform"
    sd_prior_scale: np.ndarray | None = None

    @property
    def n_features(self):
        return self.mean_prior_loc.shape[0]

    @property
    def sigma_shape(self):
        return sigma_shape(self.covariance_type, self.n_components, self.n_features)

    def to_dict(self):
        """Plain numbers and lists, for JSON."""
        return {
            name: value.tolist() if isinstance(value, np.ndarray) else value
            for name, value in vars(self).items()
        }

    @classmethod
    def from_dict(cls, values):
        """Inverse of :meth:`to_dict`."""
        arrays = ("mean_prior_loc", "mean_prior_scale", "sd_lower", "sd_upper", "sd_prior_scale")
        return cls(
            **{
                name: np.asarray(value, dtype=float)
                if name in arrays and value is not None
                else value
                for name, value in values.items()
            }
        )


class DataScales(NamedTuple):
    """Per-feature summaries of the training data that the defaults are built from."""

    median: np.ndarray
    spread: np.ndarray
    reach: np.ndarray


def data_scales(X):
    """Median, robust spread and reach (largest distance from the median) of each feature.

    The spread is IQR / 1.349 (the sd for Normal data), or the standard deviation where
    the IQR is 0 because of ties, and never below 1e-12 of the reach. One outlier at 1e12
    moves neither median nor spread; it sets the reach, which is what lets the prior on the
    means cover it.
    """
    q25, median, q75 = np.percentile(X, [25, 50, 75], axis=0)
    reach = np.abs(X - median).max(axis=0)
    spread = (q75 - q25) / _IQR_TO_SD
    spread = np.where(spread > 0, spread, X.std(axis=0))
    # Mostly-tied data can have an IQR of 1e-290 beside a point at 1: standardising by it
    # would overflow. The floor only binds when the reach exceeds the spread 1e12-fold.
    spread = np.maximum(spread, _MIN_SPREAD_OF_REACH * reach)
    constant = np.flatnonzero(spread == 0)
    if constant.size:
        raise ValueError(
            f"X has zero variance in feature(s) {constant.tolist()}: the posterior of a "
            "Gaussian mixture's standard deviation is improper on a constant feature. "
            "Drop the feature before fitting."
        )
    return DataScales(median, spread, reach)


def resolve_min_weight(min_weight, n_components):
    """``"auto"``: the 2015 PyMC notebook's 0.1 while it leaves half the mass free, else less."""
    if min_weight == "auto":
        return min(NOTEBOOK_MIN_WEIGHT, 0.5 / n_components)
    if min_weight * n_components >= 1:
        raise ValueError(
            f"min_weight={min_weight!r} must be smaller than 1 / n_components = "
            f"1/{n_components}: no weights of n_components={n_components} summing to 1 "
            "can all reach it."
        )
    return float(min_weight)


def _feature_vector(value, name, default, n_features, positive):
    if value is None:
        return np.asarray(default, dtype=float)
    try:
        vector = np.broadcast_to(np.asarray(value, dtype=float), (n_features,)).copy()
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}={value!r} must be a number or an array of length n_features={n_features}."
        ) from None
    if not np.all(np.isfinite(vector)) or (positive and np.any(vector <= 0)):
        kind = "positive finite" if positive else "finite"
        raise ValueError(f"{name}={value!r} must be {kind}.")
    return vector


def resolve_spec(params, scales, order_feature):
    """Resolve the estimator's prior parameters against the data.

    ``params`` is the estimator's ``get_params()``; ``None`` priors become data-scaled
    defaults built from the :class:`DataScales` of the training data.
    """
    k = params["n_components"]
    covariance_type = params["covariance_type"]
    n_features = scales.median.shape[0]
    unit = sigma_unit(scales.spread, covariance_type)
    sd_prior = params["sd_prior"]
    _check_sd_prior_parameters(params)
    sd_lower = _sd_bound(params["sd_lower"], SD_LOWER_FACTOR * unit)
    if sd_prior == "uniform":
        sd_upper = _sd_bound(params["sd_upper"], SD_UPPER_FACTOR * unit)
        sd_prior_scale = None
    else:
        sd_upper = np.full(np.shape(unit), np.inf)
        sd_prior_scale = _sd_bound(params["sd_prior_scale"], HALFNORMAL_SCALE_FACTOR * unit)
    if np.any(sd_lower >= sd_upper):
        raise ValueError(
            f"sd_lower={params['sd_lower']!r} must be smaller than sd_upper="
            f"{params['sd_upper']!r} (resolved: {sd_lower} and {sd_upper})."
        )
    return MixtureSpec(
        n_components=int(k),
        covariance_type=covariance_type,
        weight_concentration=float(params["weight_concentration"]),
        min_weight=resolve_min_weight(params["min_weight"], k),
        mean_prior_loc=_feature_vector(
            params["mean_prior_loc"], "mean_prior_loc", scales.median, n_features, positive=False
        ),
        mean_prior_scale=_feature_vector(
            params["mean_prior_scale"],
            "mean_prior_scale",
            np.maximum(MEAN_PRIOR_SCALE_FACTOR * scales.spread, scales.reach),
            n_features,
            positive=True,
        ),
        sd_lower=sd_lower,
        sd_upper=sd_upper,
        order_feature=int(order_feature),
        sd_prior=sd_prior,
        sd_prior_scale=sd_prior_scale,
    )


def _check_sd_prior_parameters(params):
    """Refuse a bound or scale that the chosen sd prior would silently ignore."""
    sd_prior = params["sd_prior"]
    if sd_prior == "halfnormal" and params["sd_upper"] is not None:
        raise ValueError(
            f"sd_upper={params['sd_upper']!r} bounds the Uniform sd prior; with "
            "sd_prior='halfnormal' leave it None and set sd_prior_scale."
        )
    if sd_prior == "uniform" and params["sd_prior_scale"] is not None:
        raise ValueError(
            f"sd_prior_scale={params['sd_prior_scale']!r} is the scale of the half-normal "
            "sd prior; with sd_prior='uniform' leave it None and set sd_upper."
        )


def _sd_bound(value, default):
    if value is None:
        return np.asarray(default, dtype=float)
    return np.full(np.shape(default), float(value))
