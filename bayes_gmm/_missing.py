"""Missing values (NaN) in the data, missing at random: pure NumPy maths.

A Gaussian component's density of a row with missing entries is its marginal density on
the observed coordinates, exactly: the component's mean and covariance restricted to
them. Rows are grouped by their pattern of missing entries, so that every row of a group
shares one marginal per component. Given its component, a row's missing entries are
Gaussian given its observed ones (:func:`impute`): the Gibbs sweep draws them after the
categories, and the parameters' conditionals then see complete data.

The parameters come as :class:`._posterior.Draws` do: precision Cholesky factors ``U``
with Sigma^-1 = U U^T, (S, k, d) for diagonal covariances or (S, k, d, d) for full ones.
"""

from typing import NamedTuple

import numpy as np

from ._noise import sample_in_box
from ._posterior import (
    _LOG_2PI,
    log_joint,
    precision_cholesky_from_covariance,
    sample_categories,
)
from ._student_t import tempered_t

# Imputation works through a pattern's rows in blocks of about this many (draw,
# component, row) triples, so that its temporaries stay at tens of megabytes.
_BLOCK_ENTRIES = 2**21


def check_missing_values(X, params, weighted):
    """Refuse, naming the reason, what cannot take the missing entries of ``X`` (NaN).

    Rows with no observed entry are refused: they carry nothing but a category. With
    ``params`` (the estimator's) and ``weighted`` (whether there are sample weights), the
    options that have no exact update for missing entries are refused too.
    """
    missing = np.isnan(X)
    if not missing.any():
        return
    empty = np.flatnonzero(missing.all(axis=1))
    if empty.size:
        raise ValueError(
            f"X has no observed entry in row(s) {empty[:10].tolist()}"
            f"{' ...' if empty.size > 10 else ''}: a row with every entry missing (NaN) "
            "says nothing about the mixture. Drop those rows before fitting; predict_proba "
            "gives such a row the weights."
        )
    reasons = []
    if weighted:
        reasons.append(
            "sample_weight (a weighted row would need its missing entries drawn per repetition)"
        )
    if params["sampler"] == "metropolis":
        reasons.append("sampler='metropolis' (use 'gibbs' or 'nuts')")
    if tempered_t(params):
        # Integrating a missing entry out of Normal(x | mu, Sigma / u)^beta leaves a power
        # of u behind that can make the tempered scale's integral diverge.
        reasons.append(
            f"n_temperatures={params['n_temperatures']!r} and distribution='student_t' "
            "(tempered t components take complete rows)"
        )
    if reasons:
        raise ValueError(
            f"X has missing entries (NaN) in {int(missing.any(axis=1).sum())} row(s), which "
            f"this fit cannot take with {'; '.join(reasons)}."
        )


class MissingLayout(NamedTuple):
    """Where a data set's entries are missing: the patterns' observed entries (P, d), each
    row's pattern (n,), and the missing entries (n, d)."""

    observed: np.ndarray
    pattern: np.ndarray
    missing: np.ndarray


def missing_layout(X):
    """The :class:`MissingLayout` of ``X``, or None when nothing is missing."""
    missing = np.isnan(X)
    if not missing.any():
        return None
    patterns, pattern = np.unique(~missing, axis=0, return_inverse=True)
    return MissingLayout(patterns, pattern.ravel(), missing)


def missing_patterns(X):
    """The rows of each pattern of observed entries: a list of (observed (d,) bool, rows).

    None when nothing is missing. Patterns come in the order of their first row.
    """
    layout = missing_layout(X)
    if layout is None:
        return None
    order = np.argsort(layout.pattern, kind="stable")
    bounds = np.searchsorted(layout.pattern[order], np.arange(layout.observed.shape[0] + 1))
    groups = [
        (layout.observed[p], order[bounds[p] : bounds[p + 1]])
        for p in range(layout.observed.shape[0])
    ]
    return sorted(groups, key=lambda group: group[1][0])


def covariance_from_factor(precision_cholesky):
    """Sigma = (U U^T)^-1 = U^-T U^-1 from full factors (..., d, d), by one batched
    ``solve`` for U^-T."""
    d = precision_cholesky.shape[-1]
    identity = np.broadcast_to(np.eye(d), precision_cholesky.shape)
    inverse_t = np.linalg.solve(np.swapaxes(precision_cholesky, -1, -2), identity)  # U^-T
    return inverse_t @ np.swapaxes(inverse_t, -1, -2)


def marginal_draws(draws, observed, covariance):
    """``draws`` restricted to the ``observed`` coordinates: every component's marginal.

    ``covariance``, for full factors, is :func:`covariance_from_factor` of them, computed
    once by the caller for every pattern; diagonal factors need none (None).
    """
    means, factor = draws.means[..., observed], draws.precision_cholesky
    if factor.ndim == 3:
        factor = factor[..., observed]
    else:
        factor = precision_cholesky_from_covariance(covariance[..., observed, :][..., observed])
    noise_log_widths = draws.noise_log_widths
    if noise_log_widths is not None:
        # The noise component's density on the observed features: 1 / their box's volume.
        noise_log_widths = noise_log_widths[..., observed]
    return draws._replace(means=means, precision_cholesky=factor, noise_log_widths=noise_log_widths)


def _padded(matrices, observed, pad):
    """``matrices`` (..., k, d, d) restricted to each pattern's ``observed`` entries (P, d)
    (``pad`` False), or to its missing ones (``pad`` True), and padded with the identity
    elsewhere: (..., P, k, d, d). The padding leaves determinants, inverses and Cholesky
    factors block-diagonal, with the restricted block's own in it."""
    keep = observed if not pad else ~observed
    block = keep[:, :, None] & keep[:, None, :]
    identity = np.eye(observed.shape[1]) * (~keep)[:, :, None]
    return matrices[..., None, :, :, :] * block[:, None] + identity[:, None]


def observed_log_joint(Z, draws, layout):
    """:func:`._posterior.log_joint` of rows with missing entries, (S, k, n): each row
    against every component's marginal on its observed entries.

    ``layout`` is :func:`missing_layout` of the data, and ``Z`` holds 0 where it is
    missing: zeros, not the latest imputed values, so that the result does not depend on
    the chain's history to the last bit. With diagonal covariances a missing entry's term
    is subtracted from the log-density of the row with 0 there; full matrices take every
    pattern's marginal at once, padded (:func:`_padded`), a row gathering its pattern's.
    """
    missing = layout.missing
    if draws.precision_cholesky.ndim == 3:
        out = log_joint(Z, *draws)
        rows, features = np.nonzero(missing)
        factor = draws.precision_cholesky[..., features]  # (S, k, m)
        terms = np.log(factor) - 0.5 * (factor * draws.means[..., features]) ** 2
        terms -= 0.5 * _LOG_2PI
        for draw in range(out.shape[0]):
            for c in range(out.shape[1]):
                out[draw, c] -= np.bincount(rows, weights=terms[draw, c], minlength=Z.shape[0])
        return out
    lower = np.linalg.cholesky(_padded(_covariances(draws), layout.observed, pad=False))
    half_log_det = np.log(np.diagonal(lower, axis1=-2, axis2=-1)).sum(axis=-1)  # (S, P, k)
    resid = (Z[None, None] - draws.means[:, :, None]) * ~missing  # (S, k, n, d)
    rows_lower = np.swapaxes(lower[:, layout.pattern], 1, 2)  # (S, k, n, d, d)
    whitened = np.linalg.solve(rows_lower, resid[..., None])[..., 0]
    n_observed = (~missing).sum(axis=1)
    return (
        np.log(draws.weights)[:, :, None]
        - np.swapaxes(half_log_det[:, layout.pattern], 1, 2)
        - 0.5 * (whitened**2).sum(axis=-1)
        - 0.5 * _LOG_2PI * n_observed
    )


def _missing_precision_factors(layout, precision_cholesky):
    """The Cholesky factors L of every pattern's and component's P_mm, padded with the
    identity on the observed entries (:func:`_padded`): (P, k, d, d). ``precision_cholesky``
    (k, d, d) is one draw's, U with P = U U^T."""
    precision = precision_cholesky @ np.swapaxes(precision_cholesky, -1, -2)
    return precision, np.linalg.cholesky(_padded(precision, layout.observed, pad=True))


def conditional_log_det(layout, precision_cholesky):
    """Half the log-determinant of each row's missing entries' conditional covariance
    given its observed ones, per component: 0.5 log |Sigma_c,mm|o| = -log |L| with
    L L^T = P_c,mm, (k, n). It weighs the components in the tempered category update,
    where the missing entries are integrated out of Normal(x | theta_c)^beta.
    ``precision_cholesky`` is one draw's, (k, d) or (k, d, d)."""
    if precision_cholesky.ndim == 2:
        rows, features = np.nonzero(layout.missing)
        terms = -np.log(precision_cholesky[:, features])  # (k, m)
        return np.stack(
            [np.bincount(rows, weights=t, minlength=layout.missing.shape[0]) for t in terms]
        )
    _, lower = _missing_precision_factors(layout, precision_cholesky)
    half = -np.log(np.diagonal(lower, axis1=-2, axis2=-1)).sum(axis=-1)  # (P, k)
    return half[layout.pattern].T


def impute(rng, Z, layout, category, means, precision_cholesky, precision_factor=1.0):
    """Draw every missing entry of ``Z`` in place from its component's Gaussian
    conditional on the row's observed entries, with the precision multiplied by
    ``precision_factor``: a float (the inverse temperature beta; a Gaussian density to the
    power beta is the Gaussian with its precision times beta), or one per row (a t
    component's latent scale).

    ``layout`` is :func:`missing_layout` of the data; ``category`` (n,), ``means`` (k, d)
    and ``precision_cholesky`` (k, d) or (k, d, d) are one draw's. With the precision
    P = U U^T, x_m given x_o is Normal(mu_m - P_mm^-1 P_mo (x_o - mu_o), P_mm^-1): with
    L L^T = P_mm, the draw is mu_m - L^-T (L^-1 P_mo (x_o - mu_o) - e), e standard Normal.
    Each row gathers the factor of its pattern and component (:func:`_padded`, P padded
    on the observed entries), so that one batched solve serves every row. With diagonal
    covariances x_m is just Normal(mu_m, sd_m^2). The precision's factor scales e by its
    inverse square root.
    """
    missing = layout.missing
    noise = rng.standard_normal(missing.shape)
    precision_factor = np.asarray(precision_factor, dtype=float)
    if np.any(precision_factor != 1.0):
        noise /= np.sqrt(precision_factor)[..., None]
    if precision_cholesky.ndim == 2:
        rows, features = np.nonzero(missing)
        component = category[rows]
        Z[rows, features] = (
            means[component, features]
            + noise[rows, features] / precision_cholesky[component, features]
        )
        return
    precision, lower = _missing_precision_factors(layout, precision_cholesky)
    lower = lower[layout.pattern, category]  # (n, d, d)
    resid = (Z - means[category]) * ~missing
    # P_mo (x_o - mu_o) on the missing entries, 0 on the observed ones.
    shift = np.einsum("nij,nj->ni", precision[category], resid) * missing
    inner = np.linalg.solve(lower, shift[..., None])[..., 0] - noise * missing
    draw = means[category] - np.linalg.solve(np.swapaxes(lower, -1, -2), inner[..., None])[..., 0]
    Z[missing] = draw[missing]


def pattern_marginals(draws, patterns):
    """(observed, rows, :func:`marginal_draws`) for each pattern of ``patterns`` with an
    observed entry, the full covariances inverted once for all of them."""
    factor = draws.precision_cholesky
    covariance = covariance_from_factor(factor) if factor.ndim == 4 else None
    for observed, rows in patterns:
        if observed.any():
            yield observed, rows, marginal_draws(draws, observed, covariance)


def _conditionals(X, observed, draws, covariance):
    """For rows ``X`` (r, d) that share the pattern ``observed``: each draw's and
    component's log w_c + log Normal(x_o | ...) (S, k, r), the conditional means of the
    missing entries given the observed ones (S, k, r, m), the Cholesky factors of their
    conditional covariances (S, k, m, m), and with t components the squared distances of
    the observed entries from each component (S, k, r) (None for Gaussian ones).
    ``covariance`` (S, k, d, d) is the draws'. With a noise component the log-joint has
    its row last, (S, k + 1, r); the rest stays the Gaussian components'.

    Sigma_mm - Sigma_mo Sigma_oo^-1 Sigma_om and mu_m + Sigma_mo Sigma_oo^-1 (x_o - mu_o):
    the Gaussian's conditional; with nothing observed, the weights and the marginal. A t
    component's is a scale mixture of these with the latent scale's conditional given
    x_o (see :func:`imputed_draws`); its mean is the same.
    """
    missing = ~observed
    mu_m = draws.means[..., missing]
    cov_mm = covariance[..., missing, :][..., missing]
    t = draws.degrees_of_freedom is not None
    if not observed.any():
        log_joint_ = np.repeat(draws.log_weights()[..., None], X.shape[0], axis=-1)
        centre = np.broadcast_to(mu_m[:, :, None], (*mu_m.shape[:2], X.shape[0], mu_m.shape[-1]))
        delta = np.zeros(log_joint_.shape[:1] + mu_m.shape[1:2] + X.shape[:1]) if t else None
        return log_joint_, centre, np.linalg.cholesky(cov_mm), delta
    x_o = X[:, observed]
    marginal = marginal_draws(draws, observed, covariance)
    log_joint_ = log_joint(x_o, *marginal)
    cov_mo = covariance[..., missing, :][..., observed]
    cov_oo = covariance[..., observed, :][..., observed]
    gain = np.swapaxes(np.linalg.solve(cov_oo, np.swapaxes(cov_mo, -1, -2)), -1, -2)  # (S,k,m,o)
    resid = x_o[None, None] - draws.means[..., None, observed]  # (S, k, r, o)
    centre = mu_m[:, :, None] + np.einsum("skmo,skro->skrm", gain, resid)
    conditional = cov_mm - gain @ np.swapaxes(cov_mo, -1, -2)
    delta = None
    if t:
        whitened = np.linalg.solve(np.linalg.cholesky(cov_oo)[:, :, None], resid[..., None])[..., 0]
        delta = (whitened**2).sum(axis=-1)
    return log_joint_, centre, np.linalg.cholesky(conditional), delta


def _covariances(draws):
    """The draws' covariance matrices (S, k, d, d), whatever the factors' form."""
    factor = draws.precision_cholesky
    if factor.ndim == 4:
        return covariance_from_factor(factor)
    return factor[..., None] ** -2.0 * np.eye(factor.shape[-1])


def imputed_means(X, draws, noise_box=None):
    """The posterior means of the missing entries (NaN) of ``X`` given its observed ones:
    each draw's and component's conditional mean, weighted by p(c | x_o, theta) and
    averaged over the draws; the noise component's (``noise_box``, with a noise
    component) is the box's centre. Returns a new array with the observed entries as
    they were."""
    out = X.copy()
    covariance = _covariances(draws)
    n_draws, k = draws.weights.shape
    for observed, rows in missing_patterns(X) or []:
        if observed.all():
            continue
        for block in np.array_split(rows, max(1, rows.size * draws.weights.size // _BLOCK_ENTRIES)):
            log_joint_, centre, _, _ = _conditionals(X[block], observed, draws, covariance)
            resp = np.exp(log_joint_ - log_joint_.max(axis=1, keepdims=True))
            resp /= resp.sum(axis=1, keepdims=True)
            mean = np.einsum("skr,skrm->rm", resp[:, :k], centre) / n_draws
            if noise_box is not None:
                box_centre = noise_box[:, ~observed].mean(axis=0)
                mean += resp[:, k].mean(axis=0)[:, None] * box_centre
            out[np.ix_(block, ~observed)] = mean
    return out


def imputed_draws(rng, X, draws, noise_box=None):
    """One completed copy of ``X`` per draw (S, n, d): each row's component drawn from
    p(c | x_o, theta_s), then its missing entries from their conditional Gaussian, or
    uniform in ``noise_box`` for the noise component. A t component's missing entries
    are the conditional Gaussian's with the covariance divided by the row's latent scale,
    drawn first from its conditional given x_o, Gamma((nu + d_o) / 2, rate (nu +
    delta_o) / 2): together a draw from the t's conditional."""
    out = np.repeat(X[None], draws.weights.shape[0], axis=0)
    covariance = _covariances(draws)
    k = draws.weights.shape[1]
    for observed, rows in missing_patterns(X) or []:
        if observed.all():
            continue
        log_joint_, centre, lower, delta = _conditionals(X[rows], observed, draws, covariance)
        n_draws, n_categories, n_rows = log_joint_.shape
        flat = log_joint_.transpose(1, 0, 2).reshape(n_categories, -1)
        category = sample_categories(rng, flat).reshape(n_draws, n_rows)
        gaussian = np.minimum(category, k - 1)  # noise rows are overwritten below
        pick = (np.arange(n_draws)[:, None], gaussian)
        noise = rng.standard_normal((n_draws, n_rows, centre.shape[-1]))
        if delta is not None:
            df = draws.degrees_of_freedom[pick]
            distance = delta[pick[0], gaussian, np.arange(n_rows)[None]]
            scale = rng.gamma((df + observed.sum()) / 2, 2.0 / (df + distance))
            noise /= np.sqrt(scale)[..., None]
        completed = centre[pick[0], gaussian, np.arange(n_rows)[None]]
        completed += np.einsum("srmj,srj->srm", lower[pick], noise)
        if noise_box is not None:
            in_noise = category == k
            box = noise_box[:, ~observed]
            completed[in_noise] = sample_in_box(rng, box, int(in_noise.sum()))
        out[:, rows[:, None], np.flatnonzero(~observed)] = completed
    return out
