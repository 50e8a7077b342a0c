"""Split-merge moves: the points of two components reassigned at once, by Metropolis-Hastings.

A Gibbs sweep moves one point at a time, so a chain seldom leaves the partition of the data
it is in. This move proposes a new allocation of all the points of two components at
once: merging them into one (the other left empty), or splitting them afresh, which also
moves a whole cluster from one component to the other. In pure NumPy.

**What it targets.** The move acts on the model without the ordering of the means, where
the components are exchangeable, and the sweep then sorts the components on the ordering
feature. With an exchangeable prior, the ordered posterior is the law of an unordered
posterior draw with its components sorted, and a kernel that treats every label alike,
followed by sorting, leaves the ordered posterior invariant (DESIGN.md section 7). Given
the weights (or, in the sparse mixture, with them integrated out: a Dirichlet-multinomial
prior on the categories), the other components and, for the tied covariance types, the
shared covariance, the move targets the allocation z_S of the points S of components c
and c' and their covariances (for the types with one per component), with the two means
integrated out (their Normal prior is conjugate given the covariances). The means are
then drawn from their conditional, and in the sparse mixture the weights too, so that
nothing integrated out is used stale: a partially collapsed Gibbs step (van Dyk and Park
2008).

**The proposal.** A point i drawn at random fixes c = z_i, and c' is drawn among the
other components; i stays on c, so the reverse move has the same i, c, c' and S, with the
same probability. With probability 1/2 every point of S goes to c (a merge); otherwise the
points are split afresh (:func:`_launches`): each of ``_LAUNCHES`` two-sided 2-means
refinements from seeds of its own (i and a random point of S, drawn whatever the
allocation is) gives each point a probability of going to c', and one of them, drawn at
random, allocates the points independently. The mixture over the launches is the
proposal's density, which can be evaluated at any allocation, the current one included,
so the move is an independence Metropolis-Hastings step on z_S given the launches. A
component's new covariance is drawn given its proposed points (:meth:`propose_component`
of the covariance type), and the acceptance ratio has the density of the current one
given the current points.
"""

import numpy as np
from scipy.special import expit, gammaln, log_expit

_LOG_HALF = np.log(0.5)
# Split proposals per move, mixed; each is a 2-means of the two components' points from
# seeds of its own, refined this many times. Mixing several makes the proposal put
# comparable mass on different splits of the same points (the two halves of a symmetric
# data set, say), so that a move can go from one to the other and back.
_LAUNCHES = 8
_REFINEMENTS = 3
_SPREAD_FLOOR = 1e-8


def _launches(rng, Z, anchor, spread):
    """Log-odds (L, m) that each point of ``Z`` goes to c' rather than c, under each of
    ``_LAUNCHES`` proposals.

    Each launch seeds side c at the point ``anchor`` and side c' at a point drawn at
    random, then refines the two sides ``_REFINEMENTS`` times as a two-component mixture
    fitted by hard assignments would: each side a Normal per feature with the mean and
    variance of its points (the variance shrunk towards ``spread`` as by one more point),
    weighted by its number of points plus one. The log-odds are those of the last
    refinement; ``anchor``'s are -inf, since it stays on c.
    """
    m, d = Z.shape
    seeds = rng.integers(m - 1, size=_LAUNCHES)
    seeds += seeds >= anchor
    Z_sq = Z**2
    total, total_sq, center = Z.sum(axis=0), Z_sq.sum(axis=0), Z.mean(axis=0)
    # Both sides of every launch at once, stacked: (2, L, d) means and variances.
    means = np.stack([np.broadcast_to(Z[anchor], (_LAUNCHES, d)), Z[seeds]])
    variances = np.broadcast_to(spread, (2, _LAUNCHES, d))
    sizes = np.ones((2, _LAUNCHES))
    for refinement in range(_REFINEMENTS + 1):
        # sum_j (z_j - mean_j)^2 / var_j by matrix products: no (L, m, d) temporary.
        inverse = (1 / variances).reshape(-1, d)
        quadratic = (
            inverse @ Z_sq.T
            - 2 * (means.reshape(-1, d) * inverse) @ Z.T
            + np.sum(means**2 / variances + np.log(variances), axis=-1).reshape(-1, 1)
        )
        log_density = (np.log(sizes).reshape(-1, 1) - 0.5 * quadratic).reshape(2, _LAUNCHES, m)
        logit = log_density[1] - log_density[0]
        logit[:, anchor] = -np.inf
        if refinement == _REFINEMENTS:
            return logit
        side = (logit > 0).astype(float)
        counts = side.sum(axis=1)[:, None]
        counts = np.stack([m - counts, counts])
        sums = side @ Z
        sums = np.stack([total - sums, sums])
        squares = side @ Z_sq
        squares = np.stack([total_sq - squares, squares])
        means = np.where(counts > 0, sums / np.maximum(counts, 1), center)
        variances = (np.maximum(squares - counts * means**2, 0) + spread) / (counts + 1)
        sizes = counts[..., 0] + 1
    raise AssertionError("unreachable")


def _log_split_probability(logit, side):
    """log of the launches' mixture probability of the allocation ``side`` (True: c')."""
    per_launch = log_expit(np.where(side, logit, -logit)).sum(axis=1)
    top = per_launch.max()
    return float(top + np.log(np.mean(np.exp(per_launch - top))))


def _log_target(
    Z, side, param, covariance, components, log_allocation, prior_loc, prior_scale, beta
):
    """log of the move's target at allocation ``side`` (True: c') and covariances ``param``:
    the categories' prior, each component's likelihood with its mean integrated out, and
    the covariances' prior where each component has its own."""
    value = log_allocation(np.count_nonzero(~side), np.count_nonzero(side))
    for component, mask in zip(components, (~side, side), strict=True):
        value += covariance.log_marginal_likelihood(
            Z[mask], param, component, prior_loc, prior_scale, beta
        )
        if covariance.per_component:
            value += covariance.log_prior_component(param, component)
    return value


def _log_proposal(Z, side, param, covariance, components, reference, log_split):
    """log density of the proposal at ``side`` and ``param``: the allocation's (a merge
    with probability 1/2, or the split's ``log_split``) and the covariances' given it."""
    merged = not side.any()
    value = np.logaddexp(_LOG_HALF, _LOG_HALF + log_split) if merged else _LOG_HALF + log_split
    if covariance.per_component:
        for component, mask in zip(components, (~side, side), strict=True):
            value += covariance.log_proposal_component(Z[mask], reference, component, param)
    return value


def split_merge(rng, Z, state, covariance, prior, beta=1.0):
    """One split-merge move of ``state`` (a :class:`.sweep.SweepState` of standardised
    values), at inverse temperature ``beta``; returns the new state (its components sorted
    on the ordering feature) and whether the move was accepted.

    ``prior`` holds the means' prior (``loc``, ``scale``), the ``order_feature``, and, for
    the sparse mixture, ``sparse=True`` (the weights are then integrated out and redrawn).
    """
    weights, means, param, category = state.weights, state.means, state.covariance, state.category
    k = weights.shape[0]
    if k < 2:
        return state, False
    i = int(rng.integers(Z.shape[0]))
    c = int(category[i])
    other = int(rng.integers(k - 1))
    other += other >= c
    components = (c, other)
    members = np.flatnonzero((category == c) | (category == other))
    anchor = int(np.searchsorted(members, i))
    if members.shape[0] == 1:
        return state, False
    ZS = Z[members]
    # The points' spread per feature: the scale of the proposals, the same both ways. On
    # standardised data, floored far below any resolvable spread, so that points tied on a
    # feature (rounded values) cannot make a proposal's density overflow: a ratio that is
    # not a number in one direction would break the balance of the move.
    reference = np.maximum(ZS.var(axis=0), _SPREAD_FLOOR)
    if prior["sparse"]:
        e = state.concentration

        def log_allocation(n_c, n_other):
            return gammaln(n_c + e) + gammaln(n_other + e)
    else:
        log_weights = np.log(weights[list(components)])

        def log_allocation(n_c, n_other):
            return n_c * log_weights[0] + n_other * log_weights[1]

    current = category[members] == other
    logit = _launches(rng, ZS, anchor, reference)
    if rng.random() < 0.5:
        proposed = np.zeros(members.shape[0], dtype=bool)
    else:
        launch = logit[rng.integers(logit.shape[0])]
        proposed = rng.random(launch.shape[0]) < expit(launch)
    log_split_current = _log_split_probability(logit, current)
    log_split_proposed = _log_split_probability(logit, proposed)
    proposed_param = param
    if covariance.per_component:
        for component, mask in zip(components, (~proposed, proposed), strict=True):
            proposed_param = covariance.propose_component(
                rng, ZS[mask], reference, component, proposed_param
            )
    loc, scale = prior["loc"], prior["scale"]
    log_ratio = (
        _log_target(
            ZS, proposed, proposed_param, covariance, components, log_allocation, loc, scale, beta
        )
        - _log_target(ZS, current, param, covariance, components, log_allocation, loc, scale, beta)
        + _log_proposal(ZS, current, param, covariance, components, reference, log_split_current)
        - _log_proposal(
            ZS, proposed, proposed_param, covariance, components, reference, log_split_proposed
        )
    )
    accepted = bool(np.log(rng.random()) < log_ratio)
    if accepted:
        category = category.copy()
        category[members] = np.where(proposed, other, c)
        param = proposed_param
    # The two means were integrated out: drawn afresh from their conditional, without the
    # ordering, as every other variable the move integrated out.
    counts = np.bincount(category, minlength=k)
    sums = np.zeros_like(means)
    for component in components:
        sums[component] = Z[category == component].sum(axis=0)
    fresh = covariance.sample_means(rng, beta * counts, beta * sums, param, loc, scale, means, None)
    means = means.copy()
    means[list(components)] = fresh[list(components)]
    if prior["sparse"]:
        weights = np.maximum(rng.dirichlet(state.concentration + counts), np.finfo(float).tiny)
    order_of = np.argsort(means[:, prior["order_feature"]], kind="stable")
    rank = np.empty(k, dtype=category.dtype)
    rank[order_of] = np.arange(k)
    moved = state._replace(
        weights=weights[order_of],
        means=means[order_of],
        covariance=covariance.permute(param, order_of),
        category=rank[category],
    )
    return moved, accepted
