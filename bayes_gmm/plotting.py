"""Plots that show a fitted :class:`~bayes_gmm.BayesianMCMCMixture` and its posterior.

Every function takes a fitted estimator, draws with matplotlib, and returns what it drew
on: the ``Axes``, or the array of axes ArviZ returns. The training data are read back from
``est.sample_trace_.observed_data``, so a fitted estimator (or a trace loaded from disk
into one) is all a plot needs.

Needs matplotlib: ``pip install "bayes_gmm[plot]"``.
"""

import operator

import arviz as az
import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

from ._fitting import MAX_POINTWISE_DRAWS
from ._scoring import pointwise_log_likelihood

__all__ = [
    "plot_autocorr",
    "plot_category_trace",
    "plot_cluster_posterior",
    "plot_mixture",
    "plot_n_clusters",
    "plot_trace",
    "plot_uncertainty",
]

# Draws used for the pointwise band of plot_mixture: enough for stable 3% and 97%
# quantiles, few enough that a density per draw on the grid stays cheap.
MAX_BAND_DRAWS = 200
BAND_PROB = 0.94
GRID_POINTS = 400


def _import_pyplot():
    """matplotlib.pyplot, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            'bayes_gmm.plotting needs matplotlib; install it with pip install "bayes_gmm[plot]"'
        ) from exc
    return plt


# Fail on import rather than at the first plot, with the install hint either way.
_import_pyplot()


def _new_axes(ax):
    if ax is None:
        _, ax = _import_pyplot().subplots()
    return ax


def _training_data(est):
    check_is_fitted(est)
    return est._training_data()


def _data(est, X):
    """The training data when ``X`` is None, else ``X`` checked against the fit."""
    if X is None:
        return _training_data(est)
    X = check_array(X, dtype=np.float64)
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but est was fitted on {est.n_features_in_}."
        )
    return X


def _point_index(est, i):
    n_samples = _training_data(est).shape[0]
    i = operator.index(i)
    if not 0 <= i < n_samples:
        raise ValueError(
            f"i={i} is not the index of a training point: the fit saw {n_samples} points, "
            f"0 to {n_samples - 1}."
        )
    return i


def _feature_label(est, j):
    names = getattr(est, "feature_names_in_", None)
    return str(names[j]) if names is not None else f"feature {j}"


def _named(est, X):
    """``X`` (a checked array) under the names of the columns the fit saw, if it saw any.

    A fit made on a DataFrame warns when it is handed a bare array; the plots work on
    arrays, and hand them back named. pandas comes with arviz.
    """
    names = getattr(est, "feature_names_in_", None)
    if names is None:
        return X
    import pandas as pd

    return pd.DataFrame(X, columns=names)


def _uncertainty(est, X):
    """1 - the largest posterior component probability of each point."""
    return 1.0 - est.predict_proba(_named(est, X)).max(axis=1)


def plot_trace(est, var_names=None, **kwargs):
    """Trace and marginal density of each parameter, by :func:`arviz.plot_trace`.

    The tuning draws are not in ``sample_trace_``: every draw shown is a kept one.

    Parameters
    ----------
    est : BayesianMCMCMixture
        A fitted estimator.
    var_names : sequence of str, default=None
        Posterior variables to show; None: the weights, means and the covariance
        variable (``sigma`` or ``covariance``).
    **kwargs
        Passed to :func:`arviz.plot_trace`.

    Returns
    -------
    axes : ndarray of matplotlib Axes, shape (len(var_names), 2)
        Densities in the first column, traces in the second.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from bayes_gmm import BayesianMCMCMixture
    >>> from bayes_gmm.datasets import make_notebook_data
    >>> from bayes_gmm.plotting import plot_trace
    >>> X, _ = make_notebook_data()
    >>> est = BayesianMCMCMixture(3, draws=100, tune=100, random_state=0).fit(X)
    >>> plot_trace(est).shape
    (3, 2)
    """
    check_is_fitted(est)
    names = est._spec.parameter_names if var_names is None else var_names
    return az.plot_trace(est.sample_trace_, var_names=list(names), **kwargs)


def plot_autocorr(est, var_names=None, **kwargs):
    """Autocorrelation of the draws by lag, by :func:`arviz.plot_autocorr`.

    Chains are combined unless ``combined=False`` is passed.

    Parameters
    ----------
    est : BayesianMCMCMixture
        A fitted estimator.
    var_names : sequence of str, default=None
        Posterior variables to show; None: the covariance variable (``sigma`` or
        ``covariance``).
    **kwargs
        Passed to :func:`arviz.plot_autocorr`.

    Returns
    -------
    axes : matplotlib Axes or ndarray of them
        One panel per scalar parameter (and per chain when not combined).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from bayes_gmm import BayesianMCMCMixture
    >>> from bayes_gmm.datasets import make_notebook_data
    >>> from bayes_gmm.plotting import plot_autocorr
    >>> X, _ = make_notebook_data()
    >>> est = BayesianMCMCMixture(3, draws=100, tune=100, random_state=0).fit(X)
    >>> ax = plot_autocorr(est)
    >>> ax.get_title()
    'sigma\\n0'
    """
    check_is_fitted(est)
    kwargs.setdefault("combined", True)
    names = (est._spec.covariance.trace_name,) if var_names is None else var_names
    return az.plot_autocorr(est.sample_trace_, var_names=list(names), **kwargs)


def plot_category_trace(est, i, ax=None, chain=0):
    """The sampled category of training point ``i`` over the draws of one chain.

    Parameters
    ----------
    est : BayesianMCMCMixture
        A fitted estimator whose trace holds the ``category`` draws.
    i : int
        Index of the training point.
    ax : matplotlib Axes, default=None
        Where to draw; None: a new figure.
    chain : int, default=0
        Position of the chain to show.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        When the trace holds no category draws: the fit keeps none when n_samples *
        chains * draws exceeds ``MAX_POINTWISE_DRAWS`` (4 million).
        :func:`plot_cluster_posterior` needs none.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from bayes_gmm import BayesianMCMCMixture
    >>> from bayes_gmm.datasets import make_notebook_data
    >>> from bayes_gmm.plotting import plot_category_trace
    >>> X, _ = make_notebook_data()
    >>> est = BayesianMCMCMixture(3, draws=100, tune=100, random_state=0).fit(X)
    >>> ax = plot_category_trace(est, 0)
    >>> ax.get_ylabel()
    'category of point 0'
    """
    i = _point_index(est, i)
    posterior = est.sample_trace_.posterior
    if "category" not in posterior:
        raise ValueError(
            "est.sample_trace_ holds no 'category' draws: the fit does not store them when "
            f"n_samples * chains * draws exceeds {MAX_POINTWISE_DRAWS:,}. "
            "plot_cluster_posterior(est, i) shows the same information from the other "
            "parameters' draws."
        )
    n_chains = posterior.sizes["chain"]
    if not 0 <= chain < n_chains:
        raise ValueError(f"chain={chain} is out of range: the trace has {n_chains} chains.")
    ax = _new_axes(ax)
    category = posterior["category"].isel(chain=chain, sample=i).to_numpy()
    ax.plot(category, drawstyle="steps-mid")
    # A noise component's category is the last, k.
    k, n_categories = est._spec.n_components, est._spec.n_categories
    ax.set_ylim(-0.1, n_categories - 1 + 0.1)
    ax.set_yticks(range(n_categories), [*map(str, range(k)), "noise"][:n_categories])
    ax.set_xlabel("draw")
    ax.set_ylabel(f"category of point {i}")
    return ax


def plot_cluster_posterior(est, i, ax=None):
    """Posterior probability of each component for training point ``i``, as bars.

    The bars are ``est.predict_proba`` of the point: the mean over draws of each
    component's conditional probability (Rao-Blackwellised). When the trace holds the
    category draws, a second set of bars shows the share of draws in each category, the
    notebook's histogram: the same quantity, estimated with more Monte Carlo noise.

    Parameters
    ----------
    est : BayesianMCMCMixture
        A fitted estimator.
    i : int
        Index of the training point.
    ax : matplotlib Axes, default=None
        Where to draw; None: a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from bayes_gmm import BayesianMCMCMixture
    >>> from bayes_gmm.datasets import make_notebook_data
    >>> from bayes_gmm.plotting import plot_cluster_posterior
    >>> X, _ = make_notebook_data()
    >>> est = BayesianMCMCMixture(3, draws=100, tune=100, random_state=0).fit(X)
    >>> ax = plot_cluster_posterior(est, 0)
    >>> len(ax.containers)
    2
    """
    i = _point_index(est, i)
    k = len(est.classes_)
    components = np.arange(k)
    proba = est.predict_proba(_named(est, _training_data(est)[i : i + 1]))[0]
    posterior = est.sample_trace_.posterior
    ax = _new_axes(ax)
    # A sparse fit's bars are its clusters; the sampled categories name components.
    if "category" not in posterior or est._clusters is not None:
        ax.bar(components, proba, width=0.8, label="predict_proba (Rao-Blackwellised)")
    else:
        sampled = posterior["category"].isel(sample=i).to_numpy().ravel()
        shares = np.bincount(sampled, minlength=k) / sampled.size
        ax.bar(components - 0.2, proba, width=0.4, label="predict_proba (Rao-Blackwellised)")
        ax.bar(components + 0.2, shares, width=0.4, label="share of sampled categories")
    ax.set_xticks(components, ["noise" if c == -1 else str(c) for c in est.classes_])
    # Head room above probability 1 keeps the legend off the bars.
    ax.set_ylim(0, 1.3)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_xlabel("component")
    ax.set_ylabel(f"posterior probability of point {i}")
    ax.legend()
    return ax


def plot_mixture(est, X=None, ax=None, bins=40, features=None):
    """The data with the fitted mixture over them.

    One feature: a density histogram of ``X``, the posterior predictive density
    (``exp(est.score_samples)``) as a line, and a 94% pointwise band of the mixture
    density across draws (from at most 200 evenly spaced draws). Two or more features: a
    scatter of two of them, coloured by ``est.predict`` (a noise component's points as
    black crosses) and faded by the uncertainty ``1 - max predict_proba``, with the 1-
    and 2-sd ellipses of each component's marginal on those two features, from
    ``means_`` and the posterior mean covariance matrices (rotated where the covariances
    are full).

    Parameters
    ----------
    est : BayesianMCMCMixture
        A fitted estimator.
    X : array-like of shape (n_samples, n_features), default=None
        Data to show; None: the training data.
    ax : matplotlib Axes, default=None
        Where to draw; None: a new figure.
    bins : int, sequence or str, default=40
        Bins of the histogram of one feature, as :func:`numpy.histogram` takes them.
    features : pair of int, default=None
        The two features shown when there are several. None: the two along which the
        posterior mean components are best separated (the spread of ``means_`` in units
        of the mean within-component sd).

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from bayes_gmm import BayesianMCMCMixture
    >>> from bayes_gmm.datasets import make_notebook_data
    >>> from bayes_gmm.plotting import plot_mixture
    >>> X, _ = make_notebook_data()
    >>> est = BayesianMCMCMixture(3, draws=100, tune=100, random_state=0).fit(X)
    >>> ax = plot_mixture(est)
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['data', 'posterior predictive density', '94% pointwise interval']
    """
    X = _data(est, X)
    if X.shape[1] > 1:
        features = _feature_pair(est, features)
    ax = _new_axes(ax)
    if X.shape[1] == 1:
        _plot_density(est, X, ax, bins)
    else:
        _plot_clusters(est, X, ax, features)
    return ax


def _plot_density(est, X, ax, bins):
    low, high = X.min(), X.max()
    pad = 0.1 * (high - low) or 1.0
    grid = np.linspace(low - pad, high + pad, GRID_POINTS)[:, None]
    per_draw = np.exp(pointwise_log_likelihood(grid, est._posterior_draws(MAX_BAND_DRAWS)))
    tail = (1 - BAND_PROB) / 2
    lower, upper = np.quantile(per_draw, [tail, 1 - tail], axis=0)
    heights, _, _ = ax.hist(X[:, 0], bins=bins, density=True, color="0.8", label="data")
    ax.plot(
        grid[:, 0],
        np.exp(est.score_samples(_named(est, grid))),
        color="C0",
        label="posterior predictive density",
    )
    ax.fill_between(
        grid[:, 0], lower, upper, color="C0", alpha=0.3, label=f"{BAND_PROB:.0%} pointwise interval"
    )
    # Head room above the highest bar or band keeps the legend off the peaks.
    ax.set_ylim(0, 1.45 * max(heights.max(), upper.max()))
    ax.set_xlabel(_feature_label(est, 0))
    ax.set_ylabel("density")
    ax.legend()


def _feature_pair(est, features):
    """The two feature indices to show, checked; None picks the best separated pair."""
    d = est.n_features_in_
    if features is None:
        within_sd = np.sqrt(np.diagonal(est._covariance_matrices(), axis1=1, axis2=2).mean(0))
        separation = est.means_.std(axis=0) / within_sd
        return tuple(sorted(np.argsort(-separation, kind="stable")[:2].tolist()))
    try:
        i, j = (operator.index(f) for f in features)
    except (TypeError, ValueError):
        raise ValueError(f"features={features!r} must be a pair of feature indices.") from None
    if not (0 <= i < d and 0 <= j < d and i != j):
        raise ValueError(
            f"features={features!r} must be two different feature indices in 0..{d - 1}."
        )
    return i, j


def _plot_clusters(est, X, ax, features):
    from matplotlib.patches import Ellipse

    i, j = features
    labels = est.predict(_named(est, X))
    alpha = 1.0 - _uncertainty(est, X)
    clustered = labels >= 0
    ax.scatter(
        X[clustered, i],
        X[clustered, j],
        c=[f"C{c}" for c in labels[clustered]],
        alpha=alpha[clustered],
        s=12,
    )
    if not clustered.all():
        # A noise component's points (label -1).
        noise = ~clustered
        ax.scatter(
            X[noise, i], X[noise, j], c="k", marker="x", alpha=alpha[noise], s=16, label="noise"
        )
    pair = np.ix_([i, j], [i, j])
    for c, (mean, matrix) in enumerate(zip(est.means_, est._covariance_matrices(), strict=True)):
        # Principal axes of the 2 x 2 marginal covariance: sd along each, and its angle.
        variances, axes = np.linalg.eigh(matrix[pair])
        angle = np.degrees(np.arctan2(axes[1, 1], axes[0, 1]))
        sd_major, sd_minor = np.sqrt(np.maximum(variances[::-1], 0.0))
        for n_sd, style in ((1, "-"), (2, "--")):
            ax.add_patch(
                Ellipse(
                    mean[[i, j]],
                    2 * n_sd * sd_major,
                    2 * n_sd * sd_minor,
                    angle=angle,
                    fill=False,
                    edgecolor=f"C{c}",
                    linestyle=style,
                    label=f"component {c}" if n_sd == 1 else None,
                )
            )
    ax.set_xlabel(_feature_label(est, i))
    ax.set_ylabel(_feature_label(est, j))
    ax.legend(title="1 and 2 sd")


def plot_uncertainty(est, X=None, ax=None, kind="hist"):
    """How sure the fit is of each point's component: ``1 - max predict_proba``.

    0 means one component takes the point with certainty; the largest possible value,
    ``1 - 1 / n_components``, means every component is as likely.

    Parameters
    ----------
    est : BayesianMCMCMixture
        A fitted estimator.
    X : array-like of shape (n_samples, n_features), default=None
        Points to judge; None: the training data.
    ax : matplotlib Axes, default=None
        Where to draw; None: a new figure.
    kind : {"hist", "scatter"}, default="hist"
        ``"hist"``: a histogram of the uncertainty. ``"scatter"``: the uncertainty against
        the feature the means are ordered on, which shows where the uncertain points lie.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from bayes_gmm import BayesianMCMCMixture
    >>> from bayes_gmm.datasets import make_notebook_data
    >>> from bayes_gmm.plotting import plot_uncertainty
    >>> X, _ = make_notebook_data()
    >>> est = BayesianMCMCMixture(3, draws=100, tune=100, random_state=0).fit(X)
    >>> ax = plot_uncertainty(est, kind="scatter")
    >>> ax.get_xlabel()
    'feature 0 (order feature)'
    """
    if kind not in ("hist", "scatter"):
        raise ValueError(f"kind={kind!r} is not one of 'hist', 'scatter'.")
    X = _data(est, X)
    uncertainty = _uncertainty(est, X)
    ax = _new_axes(ax)
    label = "uncertainty: 1 - max posterior probability"
    if kind == "hist":
        ax.hist(uncertainty, bins=20, range=(0.0, 1.0 - 1.0 / len(est.classes_)))
        ax.set_xlabel(label)
        ax.set_ylabel("number of points")
    else:
        a = est.order_feature_
        ax.scatter(X[:, a], uncertainty, s=12)
        ax.set_xlabel(f"{_feature_label(est, a)} (order feature)")
        ax.set_ylabel(label)
    return ax


def plot_n_clusters(est, ax=None):
    """Posterior probability of each number of clusters of a sparse fit, as bars.

    Bars for the whole posterior (``est.n_clusters_posterior_``), and a marker per chain
    for its own share of draws: chains that disagree have not mixed over the number of
    clusters.

    Parameters
    ----------
    est : BayesianMCMCMixture
        An estimator fitted with ``weight_concentration="sparse"``.
    ax : matplotlib Axes, default=None
        Where to draw; None: a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from bayes_gmm import BayesianMCMCMixture
    >>> from bayes_gmm.datasets import make_notebook_data
    >>> from bayes_gmm.plotting import plot_n_clusters
    >>> X, _ = make_notebook_data()
    >>> est = BayesianMCMCMixture(
    ...     6, weight_concentration="sparse", draws=100, tune=100, random_state=0
    ... ).fit(X)
    >>> ax = plot_n_clusters(est)
    >>> ax.get_xlabel()
    'number of clusters'
    """
    table = est.n_clusters_summary()
    ax = _new_axes(ax)
    ax.bar(table.index, table["probability"], width=0.6, label="all chains")
    chains = [name for name in table if name.startswith("chain")]
    for chain in chains:
        ax.plot(table.index, table[chain], "o", label=chain)
    ax.set_xticks(table.index)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("number of clusters")
    ax.set_ylabel("posterior probability")
    ax.set_title(f"n_components = {est._spec.n_components} at most")
    ax.legend()
    return ax
