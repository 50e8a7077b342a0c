"""Which mode each chain sits in: its log-likelihood level and its partition of the data.

R-hat says that chains disagree, not why. Chains of a mixture disagree most often because
they sit in different modes of the posterior (different partitions of the data, not
relabellings), which more draws will not join; tempering or split-merge moves may. This
module tells that case apart: per chain, the level of the log-likelihood (categories summed
out) and the modal partition (each point's most probable component given the chain's
draws), and a grouping of the chains into modes.

Two chains share a mode when their modal partitions agree (adjusted Rand index at least
``SAME_PARTITION_ARI``, whatever the component labels) and their log-likelihood levels lie
within ``SAME_LEVEL_SDS`` within-chain sds of each other. The level catches modes with one
partition but different parameters (a covariance stuck in a local mode); the partition
catches modes of equal level (the equal-mass partitions of a symmetric data set).
"""

import numpy as np

from ._posterior import draws_of
from ._scoring import category_probabilities, pointwise_log_likelihood

# Draws per chain and rows that the summary reads: enough to place a chain's level and
# partition, and a bounded cost however long the chains or large the data (about one
# prediction call's worth of work on the training data).
MODE_DRAWS = 50
MODE_ROWS = 10_000
# Partitions that differ in a few boundary points agree to an ARI near 1; a different
# partition (two clusters merged, or one split) to 0.7 or less on the benchmark's data.
SAME_PARTITION_ARI = 0.9
# Within a mode, chains' mean levels differ by Monte Carlo error, a small fraction of the
# level's within-chain sd; different modes of one partition differ by many sds.
SAME_LEVEL_SDS = 3.0


def summary_rows(n_rows):
    """Indices of at most ``MODE_ROWS`` evenly spaced rows: the same rows for every chain."""
    if n_rows <= MODE_ROWS:
        return slice(None)
    return np.linspace(0, n_rows - 1, MODE_ROWS).round().astype(int)


def chain_modes(X, posterior, spec, sample_weight=None):
    """Per chain: log-likelihood level, modal partition and mode, as a dict of lists.

    ``posterior`` holds (chain, draw, ...) draws of the model ``spec`` describes. Returns
    ``log_likelihood`` (each chain's mean over ``MODE_DRAWS`` evenly spaced draws of the
    log-likelihood of ``X``, categories summed out; estimated as ``n / m`` times that of
    ``m = MODE_ROWS`` evenly spaced rows on larger data), ``log_likelihood_sd`` (its sd over
    those draws), ``n_clusters`` (the components the chain's modal partition uses) and
    ``mode`` (the chains' groups, numbered in order of first chain). With a
    ``sample_weight`` each row's log-likelihood counts its weight's times.
    """
    rows = summary_rows(X.shape[0])
    X_rows = X[rows]
    scale = X.shape[0] / X_rows.shape[0]
    row_weight = 1.0 if sample_weight is None else sample_weight[rows]
    levels, spreads, partitions = [], [], []
    for chain in range(posterior.sizes["chain"]):
        draws = draws_of(posterior.isel(chain=[chain]), spec, MODE_DRAWS)
        totals = scale * (row_weight * pointwise_log_likelihood(X_rows, draws)).sum(axis=1)
        levels.append(float(totals.mean()))
        spreads.append(float(totals.std()))
        partitions.append(category_probabilities(X_rows, draws).argmax(axis=1))
    return {
        "log_likelihood": levels,
        "log_likelihood_sd": spreads,
        # The noise component's points (category k) are no cluster.
        "n_clusters": [int(np.unique(p[p < spec.n_components]).size) for p in partitions],
        "mode": group_chains(levels, spreads, partitions),
    }


def group_chains(levels, spreads, partitions):
    """Each chain's mode: the first earlier group whose first chain it shares a mode with
    (see the module docstring), else a new group."""
    from sklearn.metrics import adjusted_rand_score

    heads, modes = [], []
    for chain, partition in enumerate(partitions):
        for mode, head in enumerate(heads):
            pooled_sd = np.sqrt((spreads[chain] ** 2 + spreads[head] ** 2) / 2)
            if (
                abs(levels[chain] - levels[head]) <= SAME_LEVEL_SDS * pooled_sd
                and adjusted_rand_score(partitions[head], partition) >= SAME_PARTITION_ARI
            ):
                modes.append(mode)
                break
        else:
            modes.append(len(heads))
            heads.append(chain)
    return modes


def describe_modes(modes):
    """The chains' modes in words, as ``chains 0, 2: log-likelihood -812.3, 3 clusters``."""
    groups = []
    for mode in range(max(modes["mode"]) + 1):
        chains = [c for c, m in enumerate(modes["mode"]) if m == mode]
        level = np.mean([modes["log_likelihood"][c] for c in chains])
        clusters = sorted({modes["n_clusters"][c] for c in chains})
        groups.append(
            f"chain{'s' if len(chains) > 1 else ''} {', '.join(map(str, chains))}: "
            f"log-likelihood {level:.1f}, {'/'.join(map(str, clusters))} clusters"
        )
    return "; ".join(groups)
