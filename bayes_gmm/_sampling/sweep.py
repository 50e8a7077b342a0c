"""One exact Gibbs sweep of the latent mixture, at any inverse temperature, in pure NumPy.

The sweep draws every block from its full conditional (:mod:`.conditionals`): categories,
then (in the sparse mixture) the Dirichlet concentration, then weights, means and
covariances. At inverse temperature ``beta`` it targets the tempered posterior of
parallel tempering, p(w, theta) p(z | w) p(x | z, theta)^beta: the priors and p(z | w)
stay whole, and each conditional takes the likelihood's counts and statistics times
``beta``:

- z_i | ... proportional to w_c Normal(x_i | theta_c)^beta;
- w | z, and the sparse mixture's concentration, unchanged (they see the counts through
  p(z | w), which is not tempered);
- the means' conjugate Normal with beta n_c points summing to beta s_c;
- the sds' truncated Gamma with beta n_c squared residuals summing to beta SS_c, and the
  covariance matrices' InverseWishart(df + beta n_c, Psi + beta S_c).

At ``beta = 1`` it is the posterior's sweep, draw for draw the same as before tempering
existed.

Data with whole-number sample weights: row i stands for m_i repetitions, each with a
category of its own. The sweep draws each row's category counts, Multinomial(m_i, p_i),
and every statistic after them is that of the repeated rows (:mod:`.conditionals`), so
each block is drawn from its conditional given the repeated data, exactly, at the cost of
the distinct rows. No category is stored in PyMC's point then: the sweep draws them
afresh from the parameters first, so they are auxiliary variables of one sweep, and the
chain is a Markov chain on the parameters with the posterior as its invariant law.

Missing entries (NaN) work the same way. The categories are drawn from each component's
marginal density on a row's observed entries (the missing ones integrated out), then
the missing entries from their conditional Gaussian given the row's component and
observed entries (:mod:`.._missing`); every later block sees complete data. The
completed entries are auxiliary too: the next sweep draws the categories before it
reads them, and then draws them afresh. Tempered, the target is p(w, theta) p(z | w)
p(x_o, x_m | z, theta)^beta over the completed rows: integrating x_m out of a Gaussian
density to the power beta leaves beta log Normal(x_o | theta_c) + (1 - beta) / 2
log |Sigma_c,mm|o| (and terms equal for every component), and x_m given the rest is its
conditional Gaussian with the covariance divided by beta. A swap compares the replicas'
complete-data log-likelihoods, each at its own imputation, which no later update reads.

The sweep runs on standardised data (median 0, robust spread 1 per feature), so data in
any units meets the same floating-point ranges; :class:`GibbsSweep` converts PyMC's points
on the way in and out.
"""

from typing import NamedTuple

import numpy as np

from .._missing import conditional_log_det, impute, missing_layout, observed_log_joint
from .._posterior import (
    Draws,
    complete_log_likelihood,
    log_joint,
    sample_categories,
    sample_categories_given_draws,
)
from .conditionals import (
    collapsed_categories,
    sample_category_counts,
    sample_concentration,
    sample_weights,
    sufficient_statistics,
)
from .split_merge import split_merge


class SweepState(NamedTuple):
    """One state of the latent model, in standardised units.

    ``covariance`` is the covariance type's trace variable (sds or matrices);
    ``concentration`` the sparse mixture's Dirichlet concentration (the fixed one
    otherwise); ``log_likelihood`` the complete-data log p(x | z, theta) of the state,
    standardised units, which parallel tempering's swaps compare (None where no swap needs it).
    """

    weights: np.ndarray
    means: np.ndarray
    covariance: np.ndarray
    concentration: float
    category: np.ndarray
    log_likelihood: float | None = None


class GibbsSweep:
    """The exact Gibbs sweep of one resolved model on one data set.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The observed data, in its own units.
    spec : MixtureSpec
        The resolved model.
    center, spread : ndarray of shape (n_features,)
        Location and robust spread of each feature; the covariance type decides the scale
        the sweep standardises by (one across features for the spherical types).
    split_merge : bool, default=False
        Whether the category update ends with a split-merge move (:mod:`.split_merge`).
    repetitions : ndarray of shape (n_samples,), default=None
        Whole, positive sample weights: how many points each row stands for.
    """

    def __init__(self, X, spec, center, spread, split_merge=False, repetitions=None):
        if split_merge and repetitions is not None:
            raise ValueError("split-merge moves take one category per point: no repetitions")
        self.spec = spec
        self.split_merge = split_merge
        self.repetitions = repetitions
        self._center = center
        self._scale = spec.covariance.feature_scale(spread)
        self._covariance = spec.covariance.rescaled(self._scale)
        self._layout = missing_layout(X)
        if self._layout is not None and repetitions is not None:
            raise ValueError("missing entries take one category per row: no repetitions")
        # The observed entries with 0 where missing, for the category update; the sweep's
        # working copy holds each missing entry's latest draw.
        self._Z_observed = np.asfortranarray(np.nan_to_num((X - center) / self._scale, nan=0.0))
        self._Z = self._Z_observed if self._layout is None else self._Z_observed.copy(order="F")
        self._prior_loc = (spec.mean_prior_loc - center) / self._scale
        self._prior_scale = spec.mean_prior_scale / self._scale
        self._move_prior = {
            "loc": self._prior_loc,
            "scale": self._prior_scale,
            "order_feature": spec.order_feature,
            "sparse": spec.sparse,
        }

    @property
    def without_categories(self):
        """Whether the model holds no category per row: weighted rows, missing entries."""
        return self.repetitions is not None or self._layout is not None

    def from_point(self, point):
        """The state of a PyMC point of the latent model."""
        spec = self.spec
        concentration = (
            float(point["weight_concentration"]) if spec.sparse else spec.weight_concentration
        )
        return SweepState(
            weights=point["weights"],
            means=(point["means"] - self._center) / self._scale,
            covariance=self._covariance.standardise(
                point[self._covariance.trace_name], self._scale
            ),
            concentration=concentration,
            category=point.get("category"),
        )

    def to_point(self, state, point):
        """``point`` with the values of ``state``, back in the data's units."""
        new_point = dict(point)
        if self.spec.sparse:
            new_point["weight_concentration"] = np.asarray(state.concentration)
        new_point["weights"] = state.weights
        new_point["means"] = self._center + self._scale * state.means
        new_point[self._covariance.trace_name] = np.asarray(
            self._covariance.unstandardise(state.covariance, self._scale)
        )
        if "category" in point:
            new_point["category"] = np.asarray(state.category, dtype=point["category"].dtype)
        return new_point

    def __call__(self, rng, state, beta=1.0, log_likelihood=False):
        """One sweep from ``state`` at inverse temperature ``beta``.

        Returns the new state and the sweep's statistics: whether the weights came from a
        joint draw, with split-merge moves whether the move was accepted, and with
        repetitions the points each component holds. With ``log_likelihood`` the state
        carries its complete-data log-likelihood.
        """
        spec, covariance, Z = self.spec, self._covariance, self._Z
        means, param = state.means, state.covariance
        factor = covariance.precision_cholesky(param[None])
        if beta == 1.0 and not spec.sparse and self.repetitions is None and self._layout is None:
            draws = Draws(state.weights[None], means[None], factor)
            category = sample_categories_given_draws(rng, Z, draws)[0]
        else:
            # log Normal(z_i | theta_c)^beta once, for both category updates; with missing
            # entries, each row's marginal on its observed ones.
            unit = Draws(np.ones((1, spec.n_components)), means[None], factor)
            if self._layout is None:
                tempered = log_joint(Z, *unit)[0]
            else:
                tempered = observed_log_joint(self._Z_observed, unit, self._layout)[0]
            if beta != 1.0:
                tempered *= beta
                if self._layout is not None:
                    # The missing entries integrated out of Normal(x | theta_c)^beta leave
                    # |Sigma_c,mm|o|^((1 - beta) / 2) behind (see .._missing).
                    tempered += (1.0 - beta) * conditional_log_det(self._layout, factor[0])
            log_p = tempered + np.log(state.weights)[:, None]
            if self.repetitions is None:
                category = sample_categories(rng, log_p)
            else:
                category = sample_category_counts(rng, log_p, self.repetitions)
            if spec.sparse:
                category = collapsed_categories(rng, tempered, category, state.concentration)
        if self._layout is not None:
            # Given the categories just drawn; every later block sees complete rows.
            impute(rng, Z, self._layout, category, means, factor[0], beta)
        moved = None
        if self.split_merge:
            # After the categories, before anything that conditions on what the move
            # integrates out (the two components' means; the weights, if sparse).
            state, moved = split_merge(
                rng, Z, state._replace(category=category), covariance, self._move_prior, beta
            )
            category, means, param = state.category, state.means, state.covariance
        counts, sums = sufficient_statistics(Z, category, spec.n_components)
        concentration = state.concentration
        if spec.sparse:
            concentration = sample_concentration(
                rng, counts, concentration, *spec.concentration_prior
            )
        weights, joint_draw = sample_weights(
            rng, counts, concentration, spec.min_weight, state.weights
        )
        # The likelihood's statistics tempered (times 1.0 changes no bit); the weights and
        # the concentration above took the whole counts.
        means = covariance.sample_means(
            rng,
            beta * counts,
            beta * sums,
            param,
            self._prior_loc,
            self._prior_scale,
            means,
            spec.order_feature,
        )
        param = covariance.sample_covariance(rng, Z, category, counts, means, param, beta)
        value = None
        if log_likelihood:
            factor = covariance.precision_cholesky(param[None])[0]
            value = complete_log_likelihood(Z, category, means, factor)
        return SweepState(weights, means, param, concentration, category, value), {
            "weights_joint_draw": joint_draw,
            **({} if moved is None else {"split_merge_accepted": moved}),
            # The sparse mixture's clusters, which no category in the trace could give.
            **({"component_counts": counts} if spec.sparse and self.without_categories else {}),
        }
