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

Student-t components (``spec.student_t``) are Gaussians whose covariance is divided by a
latent Gamma scale per point. The sweep draws the categories from the t densities (the
scales integrated out), each component's degrees of freedom from its conditional given
the categories, means and scale matrices (scales integrated out too: .student_t), then
each point's scale from its Gamma conditional, and the means and scale matrices from
their conditionals given the scale-weighted statistics, which every covariance type
takes as it takes category counts (a row per point, its scale in its component's
column), with the counts of points beside. A row with missing entries has the t density
of its observed ones, with d_i of them in place of d (the scale integrated out of the
Gaussian marginal), and its missing entries are drawn after its scale, from the
conditional Gaussian with the covariance divided by it. A row of weight m has a scale
per point; its points in one component share the Gamma conditional's rate, so their
scales' sum, which is all the statistics read, is one Gamma draw (.student_t).
Tempered, the target is p(w, theta, nu) p(z | w) p(u | z, nu) p(x | z, u, theta)^beta:
integrating u out of it gives the t's expression with d, delta and 1/2 log |Sigma| times
beta (.._student_t), which the categories and nu are drawn from; u's conditional is
Gamma((nu + beta d) / 2, (nu + beta delta) / 2); the means and scale matrices take beta
times the scale-weighted statistics; a swap compares the replicas' log p(x | z, u, theta).
Tempering takes complete, unweighted rows with t components (the fit refuses the rest).
The model holds no category per point with t components, as with weights.

The sweep runs on standardised data (median 0, robust spread 1 per feature), so data in
any units meets the same floating-point ranges; :class:`GibbsSweep` converts PyMC's points
on the way in and out.
"""

from typing import NamedTuple

import numpy as np

from .._missing import conditional_log_det, impute, missing_layout, observed_log_joint
from .._noise import log_widths, sample_noise_weight
from .._posterior import (
    Draws,
    complete_log_likelihood,
    half_log_det,
    log_joint,
    sample_categories,
    sample_categories_given_draws,
)
from .._student_t import t_log_density
from .conditionals import (
    collapsed_categories,
    sample_category_counts,
    sample_concentration,
    sample_weights,
    sufficient_statistics,
)
from .split_merge import split_merge
from .student_t import TPoints, sample_degrees_of_freedom, sample_latent_scales


class SweepState(NamedTuple):
    """One state of the latent model, in standardised units.

    ``covariance`` is the covariance type's trace variable (sds or matrices);
    ``concentration`` the sparse mixture's Dirichlet concentration (the fixed one
    otherwise); ``noise_weight`` the noise component's (None without one);
    ``log_likelihood`` the complete-data log p(x | z, theta) of the state,
    standardised units, which parallel tempering's swaps compare (None where no swap needs it).
    """

    weights: np.ndarray
    means: np.ndarray
    covariance: np.ndarray
    concentration: float
    category: np.ndarray
    log_likelihood: float | None = None
    noise_weight: float | None = None
    degrees_of_freedom: np.ndarray | None = None


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
        # Each row's observed entries (n,), or the number of features where none is missing.
        self._n_observed = X.shape[1] if self._layout is None else (~self._layout.missing).sum(1)
        self._noise_log_widths = None
        if spec.noise_box is not None:
            self._noise_log_widths = log_widths(spec.noise_box, self._scale)
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
        """Whether the model holds no category per row: weighted rows, missing entries,
        a noise component."""
        return (
            self.repetitions is not None
            or self._layout is not None
            or self._noise_log_widths is not None
            or self.spec.student_t
        )

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
            noise_weight=float(point["noise_weight"]) if "noise_weight" in point else None,
            degrees_of_freedom=self._degrees_of_freedom(point),
        )

    def _degrees_of_freedom(self, point):
        """The t components' degrees of freedom, one per component (k,) however the model
        ties them, or None for Gaussian components."""
        spec = self.spec
        if not spec.student_t:
            return None
        value = point.get("degrees_of_freedom", spec.t_degrees_of_freedom)
        return np.broadcast_to(np.asarray(value, dtype=float), (spec.n_components,))

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
        if state.noise_weight is not None:
            new_point["noise_weight"] = np.asarray(state.noise_weight)
        if "degrees_of_freedom" in point:
            tied = point["degrees_of_freedom"].ndim == 0
            new_point["degrees_of_freedom"] = np.asarray(
                state.degrees_of_freedom[0] if tied else state.degrees_of_freedom
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
        k, noise = spec.n_components, self._noise_log_widths is not None
        if beta == 1.0 and not (spec.sparse or self.without_categories):
            draws = Draws(state.weights[None], means[None], factor)
            category = sample_categories_given_draws(rng, Z, draws)[0]
        else:
            log_p, tempered, delta = self.category_log_weights(state, factor, beta)
            if self.repetitions is None:
                category = sample_categories(rng, log_p)
            else:
                category = sample_category_counts(rng, log_p, self.repetitions)
            if spec.sparse and not noise:
                category = collapsed_categories(rng, tempered, category, state.concentration)
            elif spec.sparse:
                # Among the Gaussian components, given which points are noise.
                rows, gaussian = _gaussian_part(category, k)
                gaussian = collapsed_categories(
                    rng, tempered[:, rows], gaussian, state.concentration
                )
                if category.ndim == 1:
                    category[rows] = gaussian
                else:
                    category[rows, :k] = gaussian
        # t components: nu, then each point's scale (a (n, k) matrix, a row's in its
        # component's column), given the categories, before the missing entries, whose
        # conditional Gaussian has its covariance divided by the scale.
        scales, degrees_of_freedom = None, state.degrees_of_freedom
        if degrees_of_freedom is not None:
            scales, degrees_of_freedom = self._latent_scales(
                rng, category, delta, degrees_of_freedom, beta
            )
        if self._layout is not None:
            # Given the categories just drawn; every later block sees complete rows. A
            # noise row's entries are never read (no statistic takes it): component 0's
            # draw serves.
            component = np.where(category < k, category, 0)
            precision_factor = beta
            if scales is not None:
                row_scale = scales.sum(axis=1)
                precision_factor = np.where(row_scale > 0, row_scale, 1.0)
            impute(rng, Z, self._layout, component, means, factor[0], precision_factor)
        # The Gaussian components' points; the noise weight given how many are noise.
        Z_gaussian, category_gaussian, n_noise = Z, category, 0
        noise_weight = state.noise_weight
        if noise:
            rows, category_gaussian = _gaussian_part(category, k)
            # Transposed twice: the copy Fortran-ordered, as the statistics read it.
            Z_gaussian = Z.T[:, rows].T
            n_total = Z.shape[0] if self.repetitions is None else self.repetitions.sum()
            n_noise = n_total - (rows.size if category.ndim == 1 else category_gaussian.sum())
            noise_weight = sample_noise_weight(rng, n_noise, n_total)
        moved = None
        if self.split_merge and Z_gaussian.shape[0] == 0:
            moved = False  # every point noise: nothing to split or merge
        elif self.split_merge:
            # After the categories, before anything that conditions on what the move
            # integrates out (the two components' means; the weights, if sparse).
            state, moved = split_merge(
                rng,
                Z_gaussian,
                state._replace(category=category_gaussian),
                covariance,
                self._move_prior,
                beta,
            )
            category_gaussian, means, param = state.category, state.means, state.covariance
        Z, category = Z_gaussian, category_gaussian
        counts, sums = sufficient_statistics(Z, category, spec.n_components)
        # The statistics the means and covariances see: with t components, scale-weighted
        # (a row per point, its scale in its component's column); the weights and the
        # concentration see the counts.
        held, mean_counts, mean_sums = category, counts, sums
        if scales is not None:
            held = scales[rows] if noise else scales
            mean_counts, mean_sums = sufficient_statistics(Z, held, k)
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
            beta * mean_counts,
            beta * mean_sums,
            param,
            self._prior_loc,
            self._prior_scale,
            means,
            spec.order_feature,
        )
        param = covariance.sample_covariance(rng, Z, held, counts, means, param, beta)
        value = None
        if log_likelihood:
            factor = covariance.precision_cholesky(param[None])[0]
            # With t components, given each point's scale (one category per row: the fit
            # refuses weights with tempering).
            row_scales = None if scales is None else held.sum(axis=1)
            value = complete_log_likelihood(Z, category, means, factor, row_scales)
            if noise:
                value -= n_noise * self._noise_log_widths.sum()
        state = SweepState(
            weights, means, param, concentration, category, value, noise_weight, degrees_of_freedom
        )
        return state, {
            "weights_joint_draw": joint_draw,
            **({} if moved is None else {"split_merge_accepted": moved}),
            # The sparse mixture's clusters, which no category in the trace could give.
            **({"component_counts": counts} if spec.sparse and self.without_categories else {}),
        }

    def category_log_weights(self, state, factor, beta):
        """The categories' unnormalised log-probabilities at inverse temperature ``beta``
        (k, n), with the noise component's last ((k + 1, n)), each row's log
        Normal(z_i | theta_c)^beta (k, n), which the sparse mixture's update reads too, and
        for t components their log-density in its place and the squared Mahalanobis
        distances (k, n) (None for Gaussian ones).

        ``factor`` is the state's precision Cholesky factors with a draw axis. With
        missing entries each row's density is its marginal on its observed ones.
        """
        spec = self.spec
        unit = Draws(np.ones((1, spec.n_components)), state.means[None], factor)
        if self._layout is None:
            tempered = log_joint(self._Z, *unit)[0]
        else:
            tempered = observed_log_joint(self._Z_observed, unit, self._layout)[0]
        delta = None
        if state.degrees_of_freedom is not None:
            # t components: their density on each row's observed entries, tempered
            # (complete rows only: the fit refuses missing entries with tempering), and
            # each row's squared distance from every component, which the scales' update
            # reads.
            df = state.degrees_of_freedom[:, None]
            log_det = half_log_det(factor)[0, :, None]
            if self._layout is not None:
                # The observed entries' marginal: |Sigma| = |Sigma_oo| |Sigma_mm|o|.
                log_det = log_det - conditional_log_det(self._layout, factor[0])
            tempered, delta = t_log_density(tempered, log_det, df, self._n_observed, beta)
        elif beta != 1.0:
            tempered *= beta
            if self._layout is not None:
                # The missing entries integrated out of Normal(x | theta_c)^beta leave
                # |Sigma_c,mm|o|^((1 - beta) / 2) behind (see .._missing).
                tempered += (1.0 - beta) * conditional_log_det(self._layout, factor[0])
        log_p = tempered + np.log(state.weights)[:, None]
        if self._noise_log_widths is None:
            return log_p, tempered, delta
        log_p += np.log1p(-state.noise_weight)
        noise_row = np.log(state.noise_weight) + self._noise_log_density(beta)
        return np.vstack([log_p, np.broadcast_to(noise_row, log_p.shape[1])]), tempered, delta

    def _latent_scales(self, rng, category, delta, current, beta):
        """The t components' degrees of freedom and latent scales given the categories
        (one per row, or a row's counts) and the squared distances ``delta`` (k, n), at
        inverse temperature ``beta``: returns the scales as a (n, k) matrix, each row's
        (or the sum of its points') in its component's column, 0 elsewhere and on noise,
        and the new degrees of freedom. Tempered, both conditionals are the untempered
        ones with d and delta times beta (.._student_t).
        """
        k = self.spec.n_components
        if category.ndim == 1:
            rows = np.flatnonzero(category < k)
            columns, count = category[rows], None
        else:
            rows, columns = np.nonzero(category[:, :k])
            count = category[rows, columns]
        dims = self._n_observed if np.ndim(self._n_observed) == 0 else self._n_observed[rows]
        points = TPoints(beta * delta[columns, rows], beta * dims, count)
        df = current
        if self.spec.t_degrees_of_freedom is None:
            if self._covariance.per_component:
                groups = [points.select(columns == c) for c in range(k)]
                df = sample_degrees_of_freedom(rng, current, groups)
            else:
                df = np.repeat(sample_degrees_of_freedom(rng, current[:1], [points]), k)
        scales = np.zeros((category.shape[0], k))
        scales[rows, columns] = sample_latent_scales(rng, points, df[columns])
        return scales, df

    def _noise_log_density(self, beta):
        """log of the noise component's density to the power ``beta`` at each row, its
        missing entries integrated out: (n,), or a float for complete rows.

        The box's density 1 / V to the power beta, integrated over a row's missing
        features, leaves -beta log V_o + (1 - beta) log V_m (V_o and V_m the volumes of
        its observed and missing features). A Gaussian component leaves (1 - beta) m / 2
        log 2 pi - m / 2 log beta beside the terms its update adds (m missing entries):
        equal for every Gaussian component, so the Gaussian rows leave it out, and the
        noise row, which differs, takes it with the opposite sign.
        """
        widths = self._noise_log_widths
        if self._layout is None:
            return -beta * widths.sum()
        missing = self._layout.missing
        density = -((~missing) @ widths)
        if beta != 1.0:
            m = missing.sum(axis=1)
            density = beta * density + (1.0 - beta) * (missing @ widths)
            density -= (1.0 - beta) * m / 2 * np.log(2 * np.pi) - m / 2 * np.log(beta)
        return density


def _gaussian_part(category, k):
    """The rows with a point in a Gaussian component, and their categories among the
    ``k`` Gaussian ones: for category counts (n, k + 1), the rows with a count below
    column ``k``, and those counts."""
    if category.ndim == 1:
        rows = np.flatnonzero(category < k)
        return rows, category[rows]
    rows = np.flatnonzero(category[:, :k].sum(axis=1) > 0)
    return rows, category[rows, :k]
