"""The model specification: every prior value resolved against the data.

A :class:`MixtureSpec` is all the model layer and the samplers need; the estimator builds
it once per fit from its parameters and the training data.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._covariance import covariance_from_dict, resolve_covariance
from ._noise import resolve_noise_box

# The observed variable of the PyMC models, and its name in the trace's observed_data.
OBSERVED = "obs"

# The 2015 PyMC notebook's floor on every weight.
NOTEBOOK_MIN_WEIGHT = 0.1
# The sparse ("overfitted") mixture's Gamma(shape, rate) hyperprior on the Dirichlet
# concentration: mean 0.01, 95% of its mass in [0.005, 0.017]. The prior then expects few
# clusters (with 10 components and 150 points: one with probability 0.62, two 0.30, three
# 0.07), so a superfluous component empties unless the data need it. With a prior mean of
# 0.05, two draws in three had spurious clusters on three clusters of 500 points.
SPARSE_CONCENTRATION_PRIOR = (10.0, 1000.0)
# The prior sd of the means, as a multiple of a feature's robust spread: loose enough never
# to bind on data of any units. It is also at least the reach of the data (as in Richardson
# & Green 1997), so a component can sit on an outlier.
MEAN_PRIOR_SCALE_FACTOR = 10.0
# IQR / this is the standard deviation of Normal data.
_IQR_TO_SD = 1.349
_MIN_SPREAD_OF_REACH = 1e-12
# The finest grid grid_step looks for, as a fraction of the smallest gap between values.
_MAX_GRID_DIVISOR = 10
_MEAN_PRIOR_ARRAYS = ("mean_prior_loc", "mean_prior_scale")


@dataclass(frozen=True, eq=False)
class MixtureSpec:
    """The constrained mixture, in the units of the data.

    ``covariance`` is the covariance type's object (``bayes_gmm._covariance``) with its
    prior resolved: everything that depends on the covariance type goes through it.
    """

    n_components: int
    weight_concentration: float
    min_weight: float
    mean_prior_loc: np.ndarray
    mean_prior_scale: np.ndarray
    order_feature: int
    covariance: object
    # Gamma (shape, rate) of the concentration in the sparse mixture, where it is a
    # parameter (``weight_concentration`` then only starts it); None when it is fixed.
    concentration_prior: tuple | None = None
    # The noise component's box (:mod:`._noise`): lows and highs (2, d) of the training
    # data; None without a noise component.
    noise_box: np.ndarray | None = None
    # "student_t" for Student-t components (``._student_t``), with their degrees of
    # freedom fixed at ``t_degrees_of_freedom``, or a parameter where it is None.
    distribution: str = "normal"
    t_degrees_of_freedom: float | None = None

    @property
    def student_t(self):
        return self.distribution == "student_t"

    @property
    def df_shape(self):
        """Shape of the t components' degrees of freedom: one per component, or one shared
        where the covariance type ties the components."""
        return (self.n_components,) if self.covariance.per_component else ()

    @property
    def sampled_df(self):
        """Whether the t components' degrees of freedom are a parameter of the model."""
        return self.student_t and self.t_degrees_of_freedom is None

    @property
    def sparse(self):
        """Whether ``n_components`` is only an upper bound: the sparse mixture."""
        return self.concentration_prior is not None

    @property
    def n_features(self):
        return self.mean_prior_loc.shape[0]

    @property
    def covariance_type(self):
        return self.covariance.covariance_type

    @property
    def parameter_names(self):
        """The trace's parameter variables, in the trace layout's order."""
        names = ("weights", "means", self.covariance.trace_name)
        if self.sparse:
            names = (*names, "weight_concentration")
        if self.sampled_df:
            names = (*names, "degrees_of_freedom")
        return (*names, "noise_weight") if self.noise_box is not None else names

    @property
    def n_categories(self):
        """Components, and the noise component if there is one."""
        return self.n_components + (self.noise_box is not None)

    @property
    def n_free_parameters(self):
        """Free parameters: weights (the noise weight too), means and covariances (for
        BIC and AIC)."""
        k, d = self.n_components, self.n_features
        df = int(np.prod(self.df_shape)) if self.sampled_df else 0
        return (self.n_categories - 1) + k * d + self.covariance.n_parameters + df

    def to_dict(self):
        """Plain numbers and lists, for JSON: one flat dict, the covariance's keys included."""
        values = {
            name: np.asarray(value).tolist() if isinstance(value, np.ndarray | tuple) else value
            for name, value in vars(self).items()
            if name != "covariance"
        }
        return {**values, **self.covariance.to_dict()}

    @classmethod
    def from_dict(cls, values):
        """Inverse of :meth:`to_dict`."""
        k = values["n_components"]
        arrays = {name: np.asarray(values[name], dtype=float) for name in _MEAN_PRIOR_ARRAYS}
        d = arrays["mean_prior_loc"].shape[0]
        return cls(
            n_components=k,
            weight_concentration=values["weight_concentration"],
            min_weight=values["min_weight"],
            order_feature=values["order_feature"],
            covariance=covariance_from_dict(values, k, d),
            concentration_prior=_prior_pair(values.get("concentration_prior")),
            noise_box=None if values.get("noise_box") is None else np.asarray(values["noise_box"]),
            distribution=values.get("distribution", "normal"),
            t_degrees_of_freedom=values.get("t_degrees_of_freedom"),
            **arrays,
        )


class DataScales(NamedTuple):
    """Per-feature summaries of the training data that the defaults are built from.

    ``resolution`` is the step of the grid a feature's values are recorded on (0.1 for
    measurements rounded to 0.1, 1 for integers), or 0 where they lie on none. ``box``
    holds each feature's lowest and highest value (2, d).
    """

    median: np.ndarray
    spread: np.ndarray
    reach: np.ndarray
    resolution: np.ndarray | float = 0.0
    box: np.ndarray | None = None


def data_scales(X, sample_weight=None):
    """Median, robust spread and reach (largest distance from the median) of each feature.

    The spread is IQR / 1.349 (the sd for Normal data), or the standard deviation where
    the IQR is 0 because of ties, and never below 1e-12 of the reach. One outlier at 1e12
    moves neither median nor spread; it sets the reach, which is what lets the prior on the
    means cover it. Missing entries (NaN) are left out, feature by feature.

    With a ``sample_weight`` (positive, one per row) every summary is that of the data
    with each row repeated its weight's number of times, exactly for whole-number weights
    (:func:`weighted_percentile`): a fit given counts resolves the same priors as a fit
    given the repeated rows.
    """
    missing = np.isnan(X).any()
    if missing:
        empty = np.flatnonzero(np.isnan(X).all(axis=0))
        if empty.size:
            raise ValueError(
                f"X has no observed value in feature(s) {empty.tolist()}: a feature with "
                "every entry missing says nothing. Drop the feature before fitting."
            )
    if sample_weight is not None:
        q25, median, q75 = weighted_percentile(X, sample_weight, [25, 50, 75])
    elif missing:
        q25, median, q75 = np.nanpercentile(X, [25, 50, 75], axis=0)
    else:
        q25, median, q75 = np.percentile(X, [25, 50, 75], axis=0)
    reach = np.nanmax(np.abs(X - median), axis=0) if missing else np.abs(X - median).max(axis=0)
    spread = (q75 - q25) / _IQR_TO_SD
    if sample_weight is not None:
        center = np.average(X, axis=0, weights=sample_weight)
        sd = np.sqrt(np.average((X - center) ** 2, axis=0, weights=sample_weight))
    else:
        sd = np.nanstd(X, axis=0) if missing else X.std(axis=0)
    spread = np.where(spread > 0, spread, sd)
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
    n_values = None if sample_weight is None else sample_weight.sum()
    resolution = np.array([grid_step(column[~np.isnan(column)], n_values) for column in X.T])
    box = np.stack([np.nanmin(X, axis=0), np.nanmax(X, axis=0)])
    return DataScales(median, spread, reach, resolution, box)


def weighted_percentile(X, weight, q):
    """Percentiles ``q`` of each column of ``X`` (rows repeated ``weight`` times), (len(q), d).

    NumPy's default (linear) percentile of the repeated rows, without repeating them: the
    q-th percentile sits at position h = (W - 1) q / 100 of the sorted repetitions, W the
    total weight, between the repetitions at floor(h) and floor(h) + 1. Exact for whole
    weights; for fractional ones, the same rule on the cumulative weights.
    """
    order = np.argsort(X, axis=0, kind="stable")
    ordered = np.take_along_axis(X, order, axis=0)
    # The cumulative weight at the end of each sorted row, per column.
    ends = np.cumsum(weight[order], axis=0)
    position = (ends[-1] - 1) * np.asarray(q, dtype=float)[:, None] / 100
    below = np.floor(position)
    columns = np.arange(X.shape[1])

    def at(p):
        # The row whose repetitions cover position p: the first with end > p.
        row = np.array([np.searchsorted(ends[:, j], p[:, j], side="right") for j in columns]).T
        return ordered[np.minimum(row, X.shape[0] - 1), columns]

    low, high = at(below), at(below + 1)
    return low + (position - below) * (high - low)


def grid_step(values, n_values=None):
    """The step h of the grid that rounded values lie on, or 0 for values on none.

    The values lie on a grid when some of them are tied (rounding makes ties; continuous
    values almost never tie) and every gap between distinct values is a whole multiple of
    h, to rounding error (1e-6 of a step). h is the largest such step that divides the
    smallest gap into at most ``_MAX_GRID_DIVISOR`` parts: values rounded to 0.1 whose
    smallest gap is 0.2 (0.2, 0.5, 0.7) have h = 0.1. Continuous values fail the test with
    probability 1. ``n_values`` counts the values when rows stand for repetitions (their
    total weight): a row of weight 2 is a tie.
    """
    distinct = np.unique(values)
    n_values = values.size if n_values is None else n_values
    if distinct.size == n_values or distinct.size < 2:
        return 0.0
    gaps = np.diff(distinct)
    for divisor in range(1, _MAX_GRID_DIVISOR + 1):
        step = gaps.min() / divisor
        multiples = gaps / step
        if np.all(np.abs(multiples - np.round(multiples)) <= 1e-6 * multiples):
            return float(step)
    return 0.0


def _prior_pair(values):
    return None if values is None else tuple(float(v) for v in np.ravel(values))


def resolve_min_weight(min_weight, n_components, sparse=False):
    """``"auto"``: the 2015 PyMC notebook's 0.1 while it leaves half the mass free, else
    less; 0 in the sparse mixture, whose superfluous components must be free to empty."""
    if sparse:
        if min_weight not in ("auto", 0):
            raise ValueError(
                f"min_weight={min_weight!r} cannot be combined with "
                "weight_concentration='sparse', whose superfluous components must be free to "
                "empty: leave min_weight='auto' (0 there) or set 0."
            )
        return 0.0
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
    n_features = scales.median.shape[0]
    sparse = params["weight_concentration"] == "sparse"
    if sparse and params["sampler"] != "gibbs":
        raise ValueError(
            f"sampler={params['sampler']!r} does not support weight_concentration='sparse': "
            "its concentration update and the category updates that open and close "
            "clusters are steps of the Gibbs sweep (NUTS sums the categories out, and "
            "with weights near 0 its marginal model has funnels it cannot cross); use "
            "sampler='gibbs'."
        )
    shape, rate = SPARSE_CONCENTRATION_PRIOR
    return MixtureSpec(
        n_components=int(k),
        # The sparse mixture's concentration is a parameter, started at its prior mean.
        weight_concentration=shape / rate if sparse else float(params["weight_concentration"]),
        min_weight=resolve_min_weight(params["min_weight"], k, sparse),
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
        order_feature=int(order_feature),
        covariance=resolve_covariance(params, scales, int(k), n_features),
        concentration_prior=SPARSE_CONCENTRATION_PRIOR if sparse else None,
        # data_scales has refused constant features: the data's box has a volume.
        noise_box=resolve_noise_box(params["noise_component"], scales.box),
        distribution=params["distribution"],
        t_degrees_of_freedom=resolve_t_degrees_of_freedom(params),
    )


def resolve_t_degrees_of_freedom(params):
    """The fixed degrees of freedom of t components, or None where they are sampled;
    refused without t components, where they would mean nothing."""
    value = params["t_degrees_of_freedom"]
    if value is not None and params["distribution"] != "student_t":
        raise ValueError(
            f"t_degrees_of_freedom={value!r} applies to distribution='student_t' only (got "
            f"distribution={params['distribution']!r})."
        )
    return None if value is None else float(value)
