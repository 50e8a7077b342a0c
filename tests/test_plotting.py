"""The plots of bayes_gmm.plotting: what each draws, checked on the artists, not on pixels."""

import copy
import importlib
import sys
import warnings

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402

from bayes_gmm import BayesianMCMCMixture, plotting  # noqa: E402
from bayes_gmm.plotting import (  # noqa: E402
    plot_autocorr,
    plot_category_trace,
    plot_cluster_posterior,
    plot_mixture,
    plot_trace,
    plot_uncertainty,
)


def _quick_fit(X, **params):
    # Short chains keep the module fast; the plots, not the posterior, are under test, so
    # the convergence warnings such short chains raise are expected here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return BayesianMCMCMixture(draws=100, tune=100, random_state=0, **params).fit(X)


@pytest.fixture(scope="module")
def seed_est(seed_data):
    return _quick_fit(seed_data[0], n_components=3)


@pytest.fixture(scope="module")
def blobs_est(blobs_2d):
    return _quick_fit(blobs_2d[0], n_components=3, covariance_type="diag")


@pytest.fixture(scope="module")
def without_categories(seed_est):
    """The notebook fit as a fit on large data stores it: no category draws."""
    est = copy.deepcopy(seed_est)
    est.sample_trace_.posterior = est.sample_trace_.posterior.drop_vars("category")
    return est


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_import_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "bayes_gmm\[plot\]"'):
        importlib.reload(plotting)


def test_plot_trace_shows_each_variable_per_chain_and_component(seed_est):
    axes = plot_trace(seed_est)
    assert axes.shape == (3, 2)
    assert [row[0].get_title() for row in axes] == ["weights", "means", "sigma"]
    # Trace panels: one line per chain and component (sigma is shared by the components).
    assert [len(row[1].lines) for row in axes] == [6, 6, 2]


def test_plot_trace_passes_var_names(seed_est):
    axes = plot_trace(seed_est, var_names=("sigma",))
    assert axes.shape == (1, 2)
    assert axes[0, 0].get_title() == "sigma"


def test_plot_autocorr_combines_chains_unless_told(seed_est):
    ax = plot_autocorr(seed_est)
    assert ax.get_title() == "sigma\n0"
    axes = plot_autocorr(seed_est, combined=False)
    assert [a.get_title() for a in axes] == ["sigma\n0, 0", "sigma\n1, 0"]


def test_plot_category_trace_draws_the_chain_of_the_point(seed_est, seed_data):
    # The most uncertain point changes category, so its two chains differ.
    i = int(seed_est.predict_proba(seed_data[0]).max(axis=1).argmin())
    chains = seed_est.sample_trace_.posterior["category"].isel(sample=i).to_numpy()
    assert not np.array_equal(chains[0], chains[1])
    ax = plot_category_trace(seed_est, i, chain=1)
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_ydata(), chains[1])
    assert line.get_drawstyle() == "steps-mid"
    assert ax.get_ylim() == pytest.approx((-0.1, 2.1))
    assert ax.get_ylabel() == f"category of point {i}"


def test_plot_category_trace_uses_the_given_axes(seed_est):
    _, ax = plt.subplots()
    assert plot_category_trace(seed_est, 0, ax=ax) is ax


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"i": 500}, r"i=500 is not the index of a training point.*500 points"),
     ({"i": -1}, r"i=-1"),
     ({"i": 0, "chain": 2}, r"chain=2 .* 2 chains")],
)  # fmt: skip
def test_plot_category_trace_rejects_out_of_range(seed_est, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_category_trace(seed_est, **kwargs)


def test_plot_category_trace_without_category_draws_points_elsewhere(without_categories):
    with pytest.raises(ValueError, match=r"no 'category' draws.*plot_cluster_posterior"):
        plot_category_trace(without_categories, 0)


def test_plot_cluster_posterior_shows_both_estimates(seed_est, seed_data):
    X, _ = seed_data
    ax = plot_cluster_posterior(seed_est, 0)
    proba_bars, share_bars = ax.containers
    heights = [[bar.get_height() for bar in bars] for bars in (proba_bars, share_bars)]
    np.testing.assert_allclose(heights[0], seed_est.predict_proba(X[:1])[0])
    sampled = seed_est.sample_trace_.posterior["category"].isel(sample=0).to_numpy().ravel()
    np.testing.assert_allclose(heights[1], np.bincount(sampled, minlength=3) / sampled.size)
    assert _legend_texts(ax) == [
        "predict_proba (Rao-Blackwellised)",
        "share of sampled categories",
    ]
    assert ax.get_xlabel() == "component"


def test_plot_cluster_posterior_without_category_draws(without_categories, seed_data):
    ax = plot_cluster_posterior(without_categories, 3)
    (bars,) = ax.containers
    np.testing.assert_allclose(
        [bar.get_height() for bar in bars], without_categories.predict_proba(seed_data[0][3:4])[0]
    )
    assert _legend_texts(ax) == ["predict_proba (Rao-Blackwellised)"]


def test_plot_cluster_posterior_rejects_out_of_range(seed_est):
    with pytest.raises(ValueError, match="i=1000"):
        plot_cluster_posterior(seed_est, 1000)


def test_plot_mixture_1d_density_band_and_histogram(seed_est):
    ax = plot_mixture(seed_est, bins=30)
    (line,) = ax.lines
    (band,) = ax.collections
    assert len(ax.patches) == 30
    x, density = line.get_xdata(), line.get_ydata()
    np.testing.assert_allclose(density, np.exp(seed_est.score_samples(x[:, None])))
    # The grid covers the data with margin, so the predictive density integrates to ~1.
    assert np.trapezoid(density, x) == pytest.approx(1.0, abs=0.01)
    # 2 chains x 100 draws: all 200 draws make the band, so it is recomputed exactly here.
    np.testing.assert_allclose(_band_limits(band, x), _density_quantiles(seed_est, x))
    assert _legend_texts(ax) == ["data", "posterior predictive density", "94% pointwise interval"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("feature 0", "density")


def _density_quantiles(est, x):
    """3% and 97% quantiles over every draw of the 1-D mixture density at ``x``."""
    posterior = est.sample_trace_.posterior
    weights = posterior["weights"].to_numpy().reshape(-1, 1, est.n_components)
    means = posterior["means"].to_numpy().reshape(-1, 1, est.n_components)
    sigma = posterior["sigma"].to_numpy().reshape(-1, 1, 1)
    density = (weights * norm.pdf(x[None, :, None], means, sigma)).sum(axis=-1)
    return np.quantile(density, [0.03, 0.97], axis=0)


def _band_limits(band, x):
    """Lower and upper curve of a fill_between band over the grid ``x``."""
    vertices = band.get_paths()[0].vertices
    at_x = [vertices[vertices[:, 0] == value, 1] for value in x]
    return np.array([y.min() for y in at_x]), np.array([y.max() for y in at_x])


def test_plot_mixture_1d_histogram_of_new_data(seed_est):
    X_new = np.array([[-5.0], [0.0], [0.5], [5.0]])
    ax = plot_mixture(seed_est, X_new, bins=4)
    assert sum(patch.get_height() * patch.get_width() for patch in ax.patches) == pytest.approx(1)
    assert ax.patches[0].get_x() == pytest.approx(-5.0)


def test_plot_mixture_2d_scatter_and_ellipses(blobs_est, blobs_2d):
    X, _ = blobs_2d
    ax = plot_mixture(blobs_est)
    (points,) = ax.collections
    np.testing.assert_allclose(points.get_offsets(), X)
    proba = blobs_est.predict_proba(X)
    expected = [to_rgba(f"C{c}", p) for c, p in zip(proba.argmax(1), proba.max(1), strict=True)]
    np.testing.assert_allclose(points.get_facecolors(), expected)

    ellipses = [patch for patch in ax.patches if isinstance(patch, Ellipse)]
    assert len(ellipses) == 2 * 3
    sd = np.sqrt(blobs_est.covariances_)
    for c in range(3):
        one_sd, two_sd = ellipses[2 * c : 2 * c + 2]
        np.testing.assert_allclose(one_sd.center, blobs_est.means_[c])
        assert (one_sd.width, one_sd.height) == pytest.approx(2 * sd[c])
        assert (two_sd.width, two_sd.height) == pytest.approx(4 * sd[c])
    assert _legend_texts(ax) == ["component 0", "component 1", "component 2"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("feature 0", "feature 1")


def test_plot_mixture_fades_uncertain_points(blobs_est):
    # The point between components 0 and 1 where the fit is least sure which it belongs to.
    segment = np.linspace(blobs_est.means_[0], blobs_est.means_[1], 101)
    between = segment[np.argmin(blobs_est.predict_proba(segment).max(axis=1))]
    X_new = np.array([blobs_est.means_[0], between])
    (points,) = plot_mixture(blobs_est, X_new).collections
    alpha = points.get_facecolors()[:, 3]
    np.testing.assert_allclose(alpha, blobs_est.predict_proba(X_new).max(axis=1))
    assert alpha[0] > 0.99
    # Two components share the point about equally; a third takes nothing there.
    assert alpha[1] < 0.6


def test_plot_mixture_shows_the_features_asked_for():
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(-4, 1, (60, 3)), rng.normal(4, 1, (60, 3))])
    est = _quick_fit(X, n_components=2, covariance_type="spherical")
    ax = plot_mixture(est, features=(2, 0))
    np.testing.assert_allclose(ax.collections[0].get_offsets(), X[:, [2, 0]])
    first = ax.patches[0]
    np.testing.assert_allclose(first.center, est.means_[0, [2, 0]])
    assert first.width == pytest.approx(first.height)
    assert first.width == pytest.approx(2 * np.sqrt(est.covariances_[0]))
    assert ax.get_xlabel() == "feature 2" and ax.get_ylabel() == "feature 0"


def test_plot_mixture_picks_the_best_separated_pair_by_default():
    rng = np.random.default_rng(2)
    # Components differ on features 1 and 3 only.
    centers = np.array([[0.0, -5.0, 0.0, 4.0], [0.0, 5.0, 0.0, -4.0]])
    X = centers[rng.integers(0, 2, 120)] + rng.normal(size=(120, 4))
    est = _quick_fit(X, n_components=2, covariance_type="diag")
    ax = plot_mixture(est)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("feature 1", "feature 3")


@pytest.mark.parametrize("features", [(0, 0), (0, 5), ("a", 1), (1,)])
def test_plot_mixture_refuses_a_bad_feature_pair(blobs_est, features):
    with pytest.raises(ValueError, match=r"features=.* must be"):
        plot_mixture(blobs_est, features=features)


def test_plot_mixture_draws_rotated_ellipses_of_full_covariances():
    rng = np.random.default_rng(3)
    covariance = np.array([[1.0, 0.8], [0.8, 1.0]])
    X = np.concatenate(
        [
            rng.multivariate_normal([-5, 0], covariance, 100),
            rng.multivariate_normal([5, 0], covariance, 100),
        ]
    )
    est = _quick_fit(X, n_components=2, covariance_type="full")
    ax = plot_mixture(est, features=(0, 1))
    for c in range(2):
        ellipse = ax.patches[2 * c]  # the 1-sd ellipse of component c
        variances, axes = np.linalg.eigh(est.covariances_[c])
        assert ellipse.width == pytest.approx(2 * np.sqrt(variances[1]))
        assert ellipse.height == pytest.approx(2 * np.sqrt(variances[0]))
        # The major axis points along the positive correlation, near 45 degrees.
        assert ellipse.angle % 180 == pytest.approx(
            np.degrees(np.arctan2(axes[1, 1], axes[0, 1])) % 180
        )
        assert 30 < ellipse.angle % 180 < 60


def test_plot_mixture_rejects_data_of_another_width(seed_est):
    with pytest.raises(ValueError, match="X has 2 features, but est was fitted on 1"):
        plot_mixture(seed_est, np.zeros((5, 2)))


def test_plot_uncertainty_histogram_counts_every_point(seed_est, seed_data):
    ax = plot_uncertainty(seed_est)
    assert sum(patch.get_height() for patch in ax.patches) == len(seed_data[0])
    assert ax.patches[-1].get_x() + ax.patches[-1].get_width() == pytest.approx(2 / 3)
    assert ax.get_xlabel() == "uncertainty: 1 - max posterior probability"
    assert ax.get_ylabel() == "number of points"


def test_plot_uncertainty_scatter_against_the_order_feature(blobs_est, blobs_2d):
    X, _ = blobs_2d
    ax = plot_uncertainty(blobs_est, X[:50], kind="scatter")
    (points,) = ax.collections
    a = blobs_est.order_feature_
    expected = np.column_stack([X[:50, a], 1 - blobs_est.predict_proba(X[:50]).max(axis=1)])
    np.testing.assert_allclose(points.get_offsets(), expected)
    assert ax.get_xlabel() == f"feature {a} (order feature)"


def test_plot_uncertainty_rejects_unknown_kind(seed_est):
    with pytest.raises(ValueError, match="kind='violin'"):
        plot_uncertainty(seed_est, kind="violin")


@pytest.mark.parametrize("n_features", [1, 2])
def test_plots_of_a_dataframe_fit_raise_no_feature_name_warning(blobs_2d, n_features):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(blobs_2d[0][:, :n_features], columns=["height", "width"][:n_features])
    est = _quick_fit(frame, n_components=3, covariance_type="diag")
    with warnings.catch_warnings():
        # scikit-learn's "X does not have valid feature names, but ... was fitted with".
        warnings.filterwarnings("error", message=".*feature names")
        for X in (None, frame):
            plot_mixture(est, X)
            plot_uncertainty(est, X)
            plot_uncertainty(est, X, kind="scatter")
        plot_cluster_posterior(est, 0)
        plot_category_trace(est, 0)
        plot_trace(est)
        plot_autocorr(est)
    # The axes are labelled with the fit's column names.
    assert plot_mixture(est).get_xlabel() == "height"
