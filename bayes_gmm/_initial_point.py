"""Starting values and the ordering feature, from k-means partitions.

Starting the sampler at a k-means partition saves the burn-in a random start would need,
and the best partition shows which feature separates the components best: the one the
ordering restriction should act on.

Each chain starts from a partition of its own, so that chains can land in different modes
of a multimodal posterior and R-hat can see it. The starts are dispersed among plausible
partitions only: independent k-means++ runs whose within-cluster sum of squares is within
``PLAUSIBLE_INERTIA_RATIO`` of the best run's. A random start, or a poor local optimum of
k-means, would leave a chain in a spurious mode far below the main one (an independent Stan
program of this model, started at random points on Old Faithful, left half its chains 199
nats down), which says nothing about the posterior.

k-means partitions standardised data, which weighs features in different units alike, but
shrinks a feature whose spread comes from the gaps between the clusters; one run in the
data's own units challenges it (:func:`own_units_win`).

k-means always fills every component, yet a posterior can put most of its mass on fewer
clusters, with a component (nearly) empty: iris with three full matrices and no weight
floor holds over 99% there, and chains started from three-cluster partitions stay in the
three species with an R-hat of 1.004. So, where the data do not clearly support k clusters
over k - 1, every other chain starts from the best (k - 1)-means partition with the last
component empty: a different start of the kind k-means cannot give. "Clearly" is judged by
scikit-learn's GaussianMixture (maximum likelihood, from the k-means partitions) with the
nearest covariance type: a BIC lower by more than ``STRONG_EVIDENCE_BIC`` for k is very
strong evidence on Kass and Raftery's (1995) scale. Where the evidence is that strong, a
chain started with two clusters merged can stay in a spurious mode (measured: Old
Faithful, two diagonal components, a chain started in one cluster stayed 200 nats below the
others), which the screen avoids.
"""

import warnings
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._noise import initial_noise_weight
from ._spec import data_scales, resolve_spec
from ._student_t import initial_degrees_of_freedom

# k-means on more points than this only refines what a subsample already finds.
_KMEANS_MAX_POINTS = 10_000
# k-means++ runs per chain, from which the plausible partitions are drawn.
RUNS_PER_CHAIN = 4
# Measured on iris, Old Faithful, the galaxies velocities and the 2015 notebook's data with
# k = 2..4, over 16 seeds each: near-ties between different partitions were within 1.08 of
# the best sum of squares, clear local optima (a cluster split, two merged) 1.13 and above;
# Old Faithful with k = 4 also had runs at 1.09 to 1.11, which the threshold splits.
PLAUSIBLE_INERTIA_RATIO = 1.1
# k-POD rounds at most (see filled_for_kmeans); the partition usually settles in a few.
_FILL_ROUNDS = 10
# EM for the ordering feature with missing entries (choose_order_feature_observed): at
# most this many iterations, stopping at this relative change of the log-likelihood; the
# floor (in standardised units, where the spread is 1) keeps a component that holds one
# value from a zero variance.
_EM_ITERATIONS = 200
_EM_TOLERANCE = 1e-8
_EM_VARIANCE_FLOOR = 1e-6
_TINY = 1e-300
# Kass and Raftery (1995): a BIC difference above 10 is very strong evidence.
STRONG_EVIDENCE_BIC = 10.0
# The scikit-learn covariance type nearest each of ours, for the BIC screen: the tied
# diagonal types keep what shapes a partition most, one covariance for every component.
_SKLEARN_COVARIANCE = {
    "full": "full",
    "tied": "tied",
    "diag": "diag",
    "spherical": "spherical",
    "tied_diag": "tied",
    "tied_spherical": "tied",
}


class Partition(NamedTuple):
    """A k-means partition of standardised data: labels (n,), centres (k, d), inertia."""

    labels: np.ndarray
    centers: np.ndarray
    inertia: float


def _subsample_rows(n_rows, seed):
    """All rows, or the indices of a random ``_KMEANS_MAX_POINTS`` of them when there are more."""
    if n_rows <= _KMEANS_MAX_POINTS:
        return slice(None)
    rng = np.random.default_rng(seed)
    return rng.choice(n_rows, _KMEANS_MAX_POINTS, replace=False)


def _fit_subsample(Z, seed):
    """``Z``, or a random ``_KMEANS_MAX_POINTS`` of its rows when it has more."""
    return Z[_subsample_rows(Z.shape[0], seed)]


def kmeans_partition(Z, n_components, seed, sample_weight=None):
    """One k-means++ run on standardised data ``Z`` (a subsample when it is large), each row
    counted ``sample_weight`` times."""
    # Imported by the first fit: sklearn.cluster would add about 0.15 s to `import bayes_gmm`.
    from sklearn.cluster import KMeans

    kmeans = KMeans(n_clusters=n_components, n_init=1, random_state=seed)
    rows = _subsample_rows(Z.shape[0], seed)
    with warnings.catch_warnings():
        # Fewer distinct points than components: k-means still returns k centres.
        warnings.simplefilter("ignore", ConvergenceWarning)
        kmeans.fit(Z[rows], sample_weight=None if sample_weight is None else sample_weight[rows])
    return Partition(kmeans.predict(Z), kmeans.cluster_centers_, float(kmeans.inertia_))


def filled_for_kmeans(Z, n_components, seed, sample_weight=None):
    """``Z`` with its missing entries (NaN) filled for k-means, by k-POD (Chi, Chi and
    Baraniuk 2016): each missing entry gets its cluster's centre, and k-means runs again,
    until the partition settles.

    Filling with the median alone pulls every incomplete row towards the data's centre:
    on iris with 30% of entries missing it made sepal width look like the feature that
    separates the species best, and the chains then swapped labels on it.
    """
    missing = np.isnan(Z)
    if not missing.any():
        return Z
    filled = np.where(missing, 0.0, Z)
    previous = None
    for _ in range(_FILL_ROUNDS):
        run = kmeans_partition(filled, n_components, seed, sample_weight)
        filled = np.where(missing, run.centers[run.labels], Z)
        key = _canonical(run.labels)
        if previous is not None and np.array_equal(key, previous):
            break
        previous = key
    return filled


def dispersed_partitions(
    Z, n_components, seeds, n_chains, covariance_type=None, sample_weight=None
):
    """The best partition, and one start per chain.

    ``seeds`` seed the k-means++ runs, ``RUNS_PER_CHAIN`` per chain. The distinct plausible
    partitions (inertia within ``PLAUSIBLE_INERTIA_RATIO`` of the best) go to the chains in
    turn, in the order of their seeds; when there are fewer than chains, they repeat.
    With a ``covariance_type``, every other chain (1, 3, ...) starts instead from
    :func:`fewer_clusters_start` where it gives one.
    """
    runs = [kmeans_partition(Z, n_components, seed, sample_weight) for seed in seeds]
    best = min(runs, key=lambda run: run.inertia)
    distinct = {}
    for run in runs:
        if run.inertia <= PLAUSIBLE_INERTIA_RATIO * best.inertia:
            distinct.setdefault(_canonical(run.labels).tobytes(), run)
    plausible = list(distinct.values())
    fewer = None
    if covariance_type is not None and n_chains > 1:
        fewer = fewer_clusters_start(Z, best, covariance_type, seeds[:RUNS_PER_CHAIN])
    if fewer is None:
        return best, [plausible[c % len(plausible)] for c in range(n_chains)]
    return best, [fewer if c % 2 else plausible[(c // 2) % len(plausible)] for c in range(n_chains)]


def fewer_clusters_start(Z, best, covariance_type, seeds):
    """The best (k - 1)-means partition with component k empty, or None where the data
    clearly support k clusters (see the module docstring).

    The empty component's centre is the data's median (0 in standardised units): its first
    sweep draws its parameters from the prior, which a point can then join.
    """
    from sklearn import config_context
    from sklearn.mixture import GaussianMixture

    n_components = best.centers.shape[0]
    if n_components == 1:
        return None
    fewer = min(
        (kmeans_partition(Z, n_components - 1, seed) for seed in seeds),
        key=lambda run: run.inertia,
    )
    fit_on = _fit_subsample(Z, seeds[0])
    bic = []
    for centers in (best.centers, fewer.centers):
        mixture = GaussianMixture(
            centers.shape[0],
            covariance_type=_SKLEARN_COVARIANCE[covariance_type],
            means_init=centers,
            random_state=seeds[0],
        )
        # Z is a NumPy array whatever the input was; GaussianMixture's k-means
        # initialisation refuses array API dispatch, which a caller may have turned on.
        with warnings.catch_warnings(), config_context(array_api_dispatch=False):
            warnings.simplefilter("ignore", ConvergenceWarning)
            bic.append(mixture.fit(fit_on).bic(fit_on))
    if bic[1] - bic[0] > STRONG_EVIDENCE_BIC:
        return None
    centers = np.vstack([fewer.centers, np.zeros(Z.shape[1])])
    return Partition(fewer.labels, centers, fewer.inertia)


def classification_log_likelihood(Z, labels, n_components, sample_weight=None):
    """How well a partition of ``Z`` explains it: the classification log-likelihood of a
    Gaussian mixture with one shared covariance at its maximum, sum_c n_c log(n_c / n) -
    n / 2 log |W|, up to a constant, W the pooled within-cluster covariance (Friedman and
    Rubin's 1967 criterion with the components' shares). Unchanged by any invertible
    linear map of the features, so it compares partitions that k-means found in
    different units; -inf where W is singular."""
    weights = np.ones(Z.shape[0]) if sample_weight is None else sample_weight
    counts = np.bincount(labels, weights=weights, minlength=n_components)
    centers = np.zeros((n_components, Z.shape[1]))
    occupied = counts > 0
    centers[occupied] = (
        np.stack([np.bincount(labels, weights * z, n_components) for z in Z.T], 1)[occupied]
        / counts[occupied, None]
    )
    resid = Z - centers[labels]
    n = counts.sum()
    sign, log_det = np.linalg.slogdet((resid * weights[:, None]).T @ resid / n)
    if sign <= 0:
        return -np.inf
    shares = counts[occupied] / n
    return float(counts[occupied] @ np.log(shares) - 0.5 * n * log_det)


def _canonical(labels):
    """Labels renumbered in order of first appearance: one key per partition, however its
    clusters are numbered."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse]


def choose_order_feature(Z, labels, centers, sample_weight=None):
    """The feature whose sorted centres have the widest smallest gap, in within-cluster sds."""
    if centers.shape[0] == 1:
        return 0
    within_sd = np.sqrt(np.average((Z - centers[labels]) ** 2, axis=0, weights=sample_weight))
    smallest_gap = np.diff(np.sort(centers, axis=0), axis=0).min(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        separation = np.where(within_sd > 0, smallest_gap / within_sd, smallest_gap * np.inf)
    return int(np.argmax(np.nan_to_num(separation, nan=0.0)))


def choose_order_feature_observed(Z, labels, n_components):
    """:func:`choose_order_feature` for data with missing entries (NaN in ``Z``), from a
    mixture of diagonal Gaussians fitted by EM to the observed entries, from the partition
    ``labels``: its means' smallest gap per feature, in the pooled within-component sd.

    A k-means partition of filled-in data is a poor guide here: on iris with 30% of the
    entries missing, the k-means criterion chose a different feature for each seed (sepal
    width in half of them, on which the chains then swapped labels); the mixture chose
    petal width for every seed and mask tried. With diagonal covariances, EM on the observed
    entries is exact: each feature's update reads the entries observed in it, weighted by
    the responsibilities that the row's observed entries give.
    """
    observed = ~np.isnan(Z)
    filled = np.where(observed, Z, 0.0)
    resp = np.eye(n_components)[labels]
    previous = -np.inf
    for _ in range(_EM_ITERATIONS):
        weights = resp.mean(axis=0)
        mass = resp.T @ observed  # (k, d): each component's observed entries per feature
        means = (resp.T @ filled) / np.maximum(mass, _TINY)
        resid = observed[None] * (filled[None] - means[:, None]) ** 2  # (k, n, d)
        variances = (
            np.einsum("nk,knd->kd", resp, resid) / np.maximum(mass, _TINY) + _EM_VARIANCE_FLOOR
        )
        log_joint = np.log(weights)[:, None] - 0.5 * np.einsum(
            "nd,knd->kn", observed, np.log(variances)[:, None] + resid / variances[:, None]
        )
        top = log_joint.max(axis=0)
        resp = np.exp(log_joint - top).T
        total = resp.sum(axis=1, keepdims=True)
        resp /= total
        log_likelihood = float(np.sum(top + np.log(total[:, 0])))
        if log_likelihood - previous < _EM_TOLERANCE * abs(log_likelihood):
            break
        previous = log_likelihood
    pooled_sd = np.sqrt(weights @ variances)
    smallest_gap = np.diff(np.sort(means, axis=0), axis=0).min(axis=0)
    return int(np.argmax(smallest_gap / pooled_sd))


def initial_point(X, spec, labels, centers, sample_weight=None):
    """A point inside the constrained support: the k-means partition, relabelled in order.

    ``centers`` are in the units of ``X``. Returns the ``initvals`` dict of the latent model,
    whose categories are left out with a ``sample_weight`` (a row then stands for that many
    points, and the model has no category variable).
    """
    k, a = spec.n_components, spec.order_feature
    rank = np.empty(k, dtype=int)
    rank[np.argsort(centers[:, a], kind="stable")] = np.arange(k)
    category = rank[labels]
    means = centers[np.argsort(centers[:, a], kind="stable")].copy()
    # Tied centres (duplicated points) would break the strict ordering: nudge each one ulp.
    for c in range(1, k):
        means[c, a] = max(means[c, a], np.nextafter(means[c - 1, a], np.inf))

    held = category
    if sample_weight is not None:
        # Each row's points all in its k-means cluster: category counts (n, k).
        held = np.zeros((X.shape[0], k))
        held[np.arange(X.shape[0]), category] = sample_weight
    counts = np.bincount(category, weights=sample_weight, minlength=k)
    n = counts.sum()
    weights = spec.min_weight + (1 - k * spec.min_weight) * (counts + 1) / (n + k)
    covariance = spec.covariance
    concentration = {"weight_concentration": np.asarray(spec.weight_concentration)}
    return {
        **(concentration if spec.sparse else {}),
        "weights": weights,
        "means": means,
        covariance.trace_name: covariance.initial_value(
            X, held, means, counts, spec.mean_prior_scale
        ),
        **({"category": category} if sample_weight is None else {}),
        **({} if spec.noise_box is None else {"noise_weight": initial_noise_weight(n)}),
        **({"degrees_of_freedom": initial_degrees_of_freedom(spec)} if spec.sampled_df else {}),
    }


def own_units_win(Z, spread, best, seed, sample_weight=None):
    """Each feature's factor from standardised units to the data's own (its spread over
    the largest, so scaled by one number) where one k-means run in them finds a better
    partition than ``best``, the best run in standardised units; else None.

    Standardising weighs the features alike, which suits features in different units,
    but shrinks a feature whose spread comes from the gaps between the clusters (three
    clusters 6 apart on x, each with a unit sd: x's spread is 7.8, and its clusters stand
    0.8 apart in standardised units, against 0.9 within each on the other features).
    k-means then cuts across the clusters, and the ordering feature, chosen from its
    partition, may not separate them (a chain then sits in another labelling, R-hat 1.5).
    "Better" is a higher :func:`classification_log_likelihood`, which the units do not
    change, on the rows k-means fits (all of them up to ``_KMEANS_MAX_POINTS``): on a
    million rows in 5-D, scoring every row took about 0.1 s a partition, more than the
    k-means run itself.
    """
    units = spread / spread.max()
    if np.allclose(units, 1.0):
        return None
    k = best.centers.shape[0]
    own = kmeans_partition(Z * units, k, seed, sample_weight)
    rows = _subsample_rows(Z.shape[0], seed)
    weights = None if sample_weight is None else sample_weight[rows]
    scores = [
        classification_log_likelihood(Z[rows], run.labels[rows], k, weights) for run in (best, own)
    ]
    return units if scores[1] > scores[0] else None


def chain_starts(X, params, kmeans_seeds, sample_weight=None):
    """The resolved model and each chain's starting point, for the estimator's ``params``.

    The data are standardised (median 0, robust spread 1 per feature) for k-means; the best
    partition chooses the ordering feature, and :func:`dispersed_partitions` each chain's
    start. A sparse fit's chains all start with every component filled, as the sparse
    mixture's authors do: its superfluous components then empty themselves. Missing
    entries (NaN) are filled by :func:`filled_for_kmeans` for the starts; the sampler
    draws them afresh from its first sweep. With a ``sample_weight`` (None, or one per
    row: how many points a row stands for) everything
    is resolved from the rows of positive weight, each counted that many times; there is
    no start with one cluster fewer then, since scikit-learn's GaussianMixture, which
    screens for it, takes no weights. Returns the :class:`~bayes_gmm._spec.MixtureSpec`,
    the data's scales and the ``initvals`` list.
    """
    if sample_weight is not None:
        X, sample_weight = X[sample_weight > 0], sample_weight[sample_weight > 0]
    scales = data_scales(X, sample_weight)
    observed = ~np.isnan(X)
    Z = filled_for_kmeans(
        (X - scales.median) / scales.spread, params["n_components"], kmeans_seeds[0], sample_weight
    )
    X = np.where(observed, X, scales.median + scales.spread * Z)
    screen = params["weight_concentration"] != "sparse" and sample_weight is None

    def partitions(units):
        # The best partition and each chain's, found in ``units``, their centres
        # standardised.
        best, starts = dispersed_partitions(
            Z * units,
            params["n_components"],
            kmeans_seeds,
            params["chains"],
            covariance_type=params["covariance_type"] if screen else None,
            sample_weight=sample_weight,
        )
        return [run._replace(centers=run.centers / units) for run in (best, *starts)]

    best, *starts = partitions(1.0)
    units = own_units_win(Z, scales.spread, best, kmeans_seeds[0], sample_weight)
    if units is not None:
        best, *starts = partitions(units)
    if observed.all():
        order_feature = choose_order_feature(Z, best.labels, best.centers, sample_weight)
    else:
        # Weights with missing entries are refused before (see .._missing).
        order_feature = choose_order_feature_observed(
            np.where(observed, Z, np.nan), best.labels, params["n_components"]
        )
    spec = resolve_spec(params, scales, order_feature)
    initvals = [
        initial_point(
            X, spec, start.labels, scales.median + scales.spread * start.centers, sample_weight
        )
        for start in starts
    ]
    return spec, scales, initvals
