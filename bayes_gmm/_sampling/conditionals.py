"""Exact full conditionals of the latent mixture's blocks, in pure NumPy.

A generator and arrays in, arrays out: tests check each conditional against its known law
without running a chain, and the covariance objects of :mod:`.._covariance` draw from
them. :class:`.gibbs.GibbsMixtureStep` strings them into a sweep.
"""

import itertools

import numpy as np
from scipy.special import gammaln

from ._truncated import slice_sample, truncated_beta, truncated_gamma, truncated_normal

# Joint restricted-Dirichlet proposals tried before the pairwise update of the weights.
_WEIGHT_PROPOSALS = 4
_TINY = np.finfo(float).tiny
# Random-walk Metropolis updates of the log concentration per sweep, and their step: about
# the sd of log concentration under its Gamma prior (1 / sqrt(shape), 0.32 for shape 10),
# which the conditional given the categories never exceeds by much. Each costs k log-gamma
# evaluations, nothing beside the sweep's O(n k d).
_CONCENTRATION_UPDATES = 5
# A point's components are undecided when the best one has less than 1 - this share of its
# likelihood: below it a move has odds under about 1e-6 / concentration.
_UNDECIDED = 1e-6
# The most points that pass updates, so that a sweep's cost stays O(n k d). On five seeds
# of the four data sets of benchmarks/bench_sparse.py, the two chains agreed on the number
# of clusters (its R-hat at most 1.05) in 13 of 20 fits with 64, 10 with 16 or 256, and 9
# without this update; the fits took about a quarter longer.
_COLLAPSED_POINTS = 64
_CONCENTRATION_STEP = 0.3


# A sweep's categories come in one of two layouts. Unweighted data: one category per point,
# (n,) integers. Data with whole-number sample weights: row i stands for m_i repetitions,
# each with a category of its own, and the sweep keeps how many of them each component
# holds, an (n, k) matrix of counts whose rows sum to m_i. Every statistic below takes
# either; on counts it is the statistic of the repeated rows, which is what makes the
# conditionals of the parameters exactly those given the repeated data.


def sufficient_statistics(Z, category, n_components):
    """Counts (k,) and per-feature sums (k, d) of the points in each component.

    Column by column: with a Fortran-ordered ``Z`` each column is contiguous.
    """
    if category.ndim == 2:
        return category.sum(axis=0), category.T @ Z
    counts = np.bincount(category, minlength=n_components)
    sums = np.empty((n_components, Z.shape[1]))
    for j in range(Z.shape[1]):
        sums[:, j] = np.bincount(category, weights=Z[:, j], minlength=n_components)
    return counts, sums


def squared_residuals(Z, category, means):
    """Sum over each component's points of (z_ij - mu_cj)^2, shape (k, d)."""
    k, d = means.shape
    out = np.empty((k, d))
    for j in range(d):
        if category.ndim == 2:
            out[:, j] = np.einsum("ic,ic->c", category, (Z[:, j, None] - means[None, :, j]) ** 2)
            continue
        resid = Z[:, j] - means[:, j].take(category)
        np.square(resid, out=resid)
        out[:, j] = np.bincount(category, weights=resid, minlength=k)
    return out


def scatter_matrices(Z, category, means):
    """Sum over each component's points of (z_i - mu_c)(z_i - mu_c)^T, shape (k, d, d)."""
    k, d = means.shape
    out = np.empty((k, d, d))
    if category.ndim == 2:
        for c in range(k):
            held = np.flatnonzero(category[:, c])
            resid = Z[held] - means[c]
            out[c] = (resid * category[held, c, None]).T @ resid
        return out
    resid = Z - means.take(category, axis=0)
    for c in range(k):
        in_c = resid[category == c]
        out[c] = in_c.T @ in_c
    return out


def sample_category_counts(rng, log_joint_kn, repetitions):
    """Each row's category counts: Multinomial(m_i, p_i), p_ic proportional to
    exp(log_joint_kn[c, i]); (k, n) and (n,) -> (n, k).

    Row i stands for m_i = ``repetitions[i]`` points, whose categories are independent
    given the parameters, each with the law of one point's: their counts are multinomial.
    """
    probabilities = np.exp(log_joint_kn - log_joint_kn.max(axis=0))
    probabilities /= probabilities.sum(axis=0)
    return rng.multinomial(repetitions, probabilities.T)


def sample_weights(rng, counts, concentration, min_weight, current):
    """Draw w | z ~ Dirichlet(concentration + counts) restricted to min(w) >= min_weight.

    A few joint proposals first: the first that satisfies the restriction is an exact
    independent draw. If none does (a nearly empty component), :func:`pairwise_weights`
    updates the current weights instead. Both kernels leave the target invariant and the
    choice between them does not depend on the state, so their mixture does too. Returns
    the weights and whether the joint draw was used.
    """
    if counts.shape[0] == 1:
        return np.ones(1), True
    alpha = concentration + counts
    proposals = rng.dirichlet(alpha, size=_WEIGHT_PROPOSALS)
    valid = proposals.min(axis=1) >= min_weight
    if valid.any():
        # With no floor (the sparse mixture) an empty component's weight can fall below
        # the smallest normal float, or to 0: it is stored as that float, so that every
        # log weight stays finite. Such a component takes a point with probability below
        # n * 1e-308, so no result can tell the difference.
        return np.maximum(proposals[np.argmax(valid)], _TINY), True
    return pairwise_weights(rng, alpha, min_weight, current), False


def collapsed_categories(
    rng, log_likelihood, category, concentration, max_points=_COLLAPSED_POINTS
):
    """Update some categories with the weights integrated out: the sparse mixture's births
    and deaths.

    ``log_likelihood`` (k, n) is log Normal(x_i | mu_c, Sigma_c). Given the others, with
    the weights integrated out under Dirichlet(e), P(z_i = c) is proportional to
    (n_c^-i + e) Normal(x_i | mu_c, Sigma_c): an empty component offers e, where the
    draw given the weights offers its weight, below 1e-30 half the time at e = 0.01. So
    a point can open a cluster, and the last point of one can leave it, far more often
    than given the weights. Single-site Gibbs updates, in turn, of the (at most ``max_points``)
    points whose likelihood is least decided between components: a choice made from the
    likelihoods alone, which this block does not change. Followed by fresh weights given
    the categories (the sweep draws them next), the pair leaves the posterior invariant.

    With category counts (n, k), a row's update is that of one of its repetitions, chosen
    uniformly at random (independently of the categories, so a random-scan Gibbs update
    of the repeated points): it leaves the component it was drawn from with probability
    proportional to the counts. Updates ``category`` in place and returns it.
    """
    k = log_likelihood.shape[0]
    shifted = log_likelihood - log_likelihood.max(axis=0)
    likelihood = np.exp(shifted)
    undecided = 1.0 - 1.0 / likelihood.sum(axis=0)
    chosen = np.flatnonzero(undecided > _UNDECIDED)
    chosen = chosen[np.argsort(-undecided[chosen], kind="stable")[:max_points]]
    counted = category.ndim == 2
    counts = (category.sum(axis=0) if counted else np.bincount(category, minlength=k)).astype(float)
    u = rng.random(chosen.size)
    leaving = rng.random(chosen.size) if counted else None
    for step, (i, u_i) in enumerate(zip(chosen, u, strict=True)):
        if counted:
            held = np.cumsum(category[i])
            old = int(np.count_nonzero(held[:-1] <= leaving[step] * held[-1]))
            category[i, old] -= 1
        else:
            old = category[i]
        counts[old] -= 1
        cumulative = np.cumsum((counts + concentration) * likelihood[:, i])
        # Over the first k - 1 edges only: rounding cannot then give k.
        new = int(np.count_nonzero(cumulative[:-1] < u_i * cumulative[-1]))
        if counted:
            category[i, new] += 1
        else:
            category[i] = new
        counts[new] += 1
    return category


def concentration_log_density(log_concentration, counts, shape, rate):
    """log p(e | z) + log e, up to a constant, for the Dirichlet concentration e = exp(x).

    The Gamma(shape, rate) prior times the Dirichlet-multinomial probability of the
    categories, the weights integrated out: Gamma(k e) / Gamma(n + k e) prod_c
    Gamma(n_c + e) / Gamma(e). The added log e is the Jacobian of the log scale on which
    :func:`sample_concentration` walks. Vectorised over ``log_concentration``.
    """
    x = np.asarray(log_concentration, dtype=float)
    e = np.exp(x)
    k, n = counts.shape[0], counts.sum()
    occupied = counts[counts > 0]
    # Empty components contribute Gamma(e) / Gamma(e) = 1.
    per_component = gammaln(occupied[:, None] + e.ravel()) - gammaln(e.ravel())
    likelihood = gammaln(k * e) - gammaln(n + k * e) + per_component.sum(0).reshape(e.shape)
    return shape * x - rate * e + likelihood


def sample_concentration(rng, counts, current, shape, rate):
    """Update the sparse mixture's concentration e given the categories, weights integrated out.

    Random-walk Metropolis on log e, which leaves p(e | z) invariant
    (:func:`concentration_log_density`). The sweep then draws w | z, e fresh
    (:func:`sample_weights`): the pair leaves p(e, w | z) invariant, and e moves without
    the weights pinning it, as they would given w.
    """
    x = np.log(current)
    log_p = concentration_log_density(x, counts, shape, rate)
    for _ in range(_CONCENTRATION_UPDATES):
        proposal = x + _CONCENTRATION_STEP * rng.standard_normal()
        log_p_proposal = concentration_log_density(proposal, counts, shape, rate)
        if np.log(rng.random()) < log_p_proposal - log_p:
            x, log_p = proposal, log_p_proposal
    return float(np.exp(x))


def pairwise_weights(rng, alpha, min_weight, current):
    """Exact conditional updates of the weights, two at a time, in a random pairing.

    With s = w_c + w_c' fixed, w_c / s ~ Beta(alpha_c, alpha_c') on [m / s, 1 - m / s]:
    exact however empty a component is, where rejection would almost never accept.
    """
    weights = current.copy()
    for c, other in itertools.pairwise(rng.permutation(alpha.shape[0])):
        total = weights[c] + weights[other]
        share = truncated_beta(
            rng, alpha[c], alpha[other], min_weight / total, 1 - min_weight / total
        )
        weights[c] = total * share
        weights[other] = total - weights[c]
    return weights


def sample_means(rng, counts, sums, sigma_kd, prior_loc, prior_scale, current, order_feature):
    """Draw mu | z, sigma for diagonal covariances: a conjugate Normal per component and feature.

    On the ordering feature each mean is truncated between its neighbours
    (:func:`_ordered_coordinate`); ``order_feature=None`` draws the unrestricted
    conditional, that of the model without the ordering.
    """
    # Precision-weighted means in a form that cannot overflow: with a prior scale of 1e-200
    # (a feature tiny against the unit the spherical types share) 1 / scale^2 would be inf.
    prior_var, sigma_sq = prior_scale**2, sigma_kd**2
    denominator = sigma_sq + counts[:, None] * prior_var
    post_mean = (prior_loc * sigma_sq + sums * prior_var) / denominator
    post_sd = prior_scale * sigma_kd / np.sqrt(denominator)
    means = post_mean + post_sd * rng.standard_normal(post_mean.shape)
    a = order_feature
    if a is not None:
        means[:, a] = _ordered_coordinate(rng, post_mean[:, a], post_sd[:, a], current[:, a])
    return means


def _ordered_coordinate(rng, mean, sd, current):
    """Draw each component's ordered coordinate from Normal(mean, sd) between its neighbours.

    The even components are conditionally independent given the odd ones (each touches
    only its neighbours), so the coordinate is updated in two vectorised blocks, starting
    from ``current``.
    """
    ordered = np.concatenate([[-np.inf], current, [np.inf]])
    for parity in (0, 1):
        idx = np.arange(parity, mean.shape[0], 2)
        ordered[idx + 1] = truncated_normal(rng, mean[idx], sd[idx], ordered[idx], ordered[idx + 2])
    return ordered[1:-1]


def sample_means_correlated(
    rng, counts, sums, precisions, prior_loc, prior_scale, current, order_feature
):
    """Draw mu | z, Sigma for full covariances, ``precisions`` (k, d, d) = Sigma_c^-1.

    Each mean is Normal(m, Q^-1) with Q = D^-1 + n_c Sigma_c^-1 and m = Q^-1 (D^-1 m0 +
    Sigma_c^-1 s_c), D = diag(prior_scale^2), restricted on the ordering coordinate a to
    lie between its neighbours. Exact in two stages: mu_a from its marginal Normal(m_a,
    (Q^-1)_aa) truncated between the neighbours (:func:`_ordered_coordinate`), then the
    other coordinates from their Gaussian conditional given mu_a, whose precision is
    Q_oo and whose mean is m_o - Q_oo^-1 Q_oa (mu_a - m_a). Linear solves and a Cholesky
    factor, no explicit inverse; NumPy's batched ``solve`` throughout (scipy's triangular
    solve loops over a batch in Python). ``order_feature=None`` draws the unrestricted
    conditional Normal(m, Q^-1), that of the model without the ordering.
    """
    k, d = sums.shape
    a = order_feature
    prior_precision = 1.0 / prior_scale**2
    Q = counts[:, None, None] * precisions + np.diag(prior_precision)
    b = prior_precision * prior_loc + (precisions @ sums[..., None])[..., 0]
    if a is None:
        noise = rng.standard_normal((k, d, 1))
        spread = np.linalg.solve(np.swapaxes(np.linalg.cholesky(Q), -1, -2), noise)
        return np.linalg.solve(Q, b[..., None])[..., 0] + spread[..., 0]
    # m and column a of Q^-1 in one batched solve.
    rhs = np.concatenate([b[..., None], np.broadcast_to(np.eye(d)[:, a, None], (k, d, 1))], -1)
    solved = np.linalg.solve(Q, rhs)
    m, sd_a = solved[..., 0], np.sqrt(solved[:, a, 1])
    means = np.empty((k, d))
    means[:, a] = _ordered_coordinate(rng, m[:, a], sd_a, current[:, a])
    others = np.delete(np.arange(d), a)
    if others.size:
        q_oo = Q[:, others][:, :, others]
        shift = np.linalg.solve(
            q_oo, (Q[:, others, a] * (means[:, a] - m[:, a])[:, None])[..., None]
        )
        noise = rng.standard_normal((k, others.size, 1))
        # A Normal(0, Q_oo^-1) draw: R^-T e for the Cholesky factor Q_oo = R R^T.
        spread = np.linalg.solve(np.swapaxes(np.linalg.cholesky(q_oo), -1, -2), noise)
        means[:, others] = m[:, others] - shift[..., 0] + spread[..., 0]
    return means


def sigma_log_density(log_sigma, n_terms, sum_sq, halfnormal_scale=None):
    """Log conditional density of log sigma, up to a constant.

    Flat prior on sigma (the Uniform), times the half-normal's exp(-sigma^2 / 2 scale^2)
    when ``halfnormal_scale`` is given; r = ``n_terms`` squared residuals sum to ``sum_sq``.
    """
    value = (1 - n_terms) * log_sigma - 0.5 * sum_sq * np.exp(-2 * log_sigma)
    if halfnormal_scale is not None:
        value = value - 0.5 * np.exp(2 * log_sigma) / halfnormal_scale**2
    return value


def sample_sigma(rng, n_terms, sum_sq, lower, upper, current, halfnormal_scale=None):
    """Draw each sd given the r = ``n_terms`` squared residuals, summing to ``sum_sq``, it scales.

    The caller pools residuals over what the covariance type ties. Under the
    Uniform(lower, upper) prior, with r squared residuals summing to SS, the
    precision tau = sigma^-2 is Gamma((r - 1) / 2, SS / 2) restricted to
    [upper^-2, lower^-2]. Under the half-normal prior (``upper``
    infinite) that draw is an independence Metropolis proposal, accepted with probability
    min(1, exp(-(sigma'^2 - sigma^2) / 2 scale^2)): exact, and accepted almost always
    because the prior is wide against the likelihood. With r <= 1 (a component holding at
    most one point) the Gamma shape is not positive and an exact slice-sampling update on
    log sigma takes its place.
    """
    sum_sq = np.maximum(sum_sq, _TINY)
    regular = n_terms >= 2
    all_regular = regular.all()
    # Placeholder parameters where the slice update takes over, so nothing overflows.
    shape, rate = (n_terms - 1) / 2, sum_sq / 2
    if not all_regular:
        shape, rate = np.where(regular, shape, 1.0), np.where(regular, rate, 1.0)
    # Precision bounds: 1 / upper^2 and 1 / lower^2, the latter infinite for lower = 0.
    tau_upper = np.divide(1.0, lower**2, out=np.full(np.shape(lower), np.inf), where=lower > 0)
    tau = truncated_gamma(rng, shape, rate, 1.0 / upper**2, tau_upper)
    sigma = 1.0 / np.sqrt(tau)
    if halfnormal_scale is not None:
        log_accept = -0.5 * (sigma**2 - current**2) / halfnormal_scale**2
        sigma = np.where(np.log(rng.random(sigma.shape)) < log_accept, sigma, current)
    if not all_regular:
        sigma = np.where(regular, sigma, current)
        for i in np.ndindex(sigma.shape):
            if regular[i]:
                continue
            lam = None
            if halfnormal_scale is not None:
                lam = np.broadcast_to(halfnormal_scale, sigma.shape)[i]
            sigma[i] = np.exp(
                slice_sample(
                    rng,
                    lambda s, r=n_terms[i], ss=sum_sq[i], lam=lam: sigma_log_density(s, r, ss, lam),
                    np.log(current[i]),
                    width=1.0,
                    lower=np.log(lower[i]) if lower[i] > 0 else -np.inf,
                    upper=np.log(upper[i]),
                )
            )
    # Rounding in 1 / sqrt(tau) may step a hair outside the support; np.minimum returns a
    # bare scalar for 0-d input, and PyMC's point needs an ndarray.
    return np.asarray(np.minimum(np.maximum(sigma, lower), upper))
