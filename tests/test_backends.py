"""The optional NUTS backends (nutpie, numpyro, blackjax), and JAX's effect on parallel chains.

The fits run where the backend is installed (``pip install "bayes_gmm[nutpie]"`` or
``"bayes_gmm[jax]"``) and are skipped elsewhere; CI installs neither. The other tests need
no backend.
"""

import importlib.metadata
import multiprocessing
import sys
import types
import warnings

import numpy as np
import pytest

from bayes_gmm import BayesianMCMCMixture, _sampling
from bayes_gmm._demo import NOTEBOOK_PRIORS
from bayes_gmm._sampling.nuts import check_nuts_backend, explain_backend_failure
from tests.conftest import assert_posterior_means_agree

BACKEND_MODULES = {"nutpie": "nutpie", "numpyro": "numpyro", "blackjax": "blackjax"}


def test_an_installed_backend_is_found_without_being_imported(tmp_path, monkeypatch):
    # Importing blackjax or numpyro starts JAX before PyMC can give it a device per chain.
    package = tmp_path / "blackjax"
    package.mkdir()
    (package / "__init__.py").write_text("raise AssertionError('imported too early')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "blackjax", raising=False)
    check_nuts_backend("blackjax")
    assert "blackjax" not in sys.modules


def test_blackjax_that_pymc_cannot_drive_is_named(monkeypatch):
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "1.7.1")
    with (
        pytest.raises(ImportError, match=r'blackjax 1\.7\.1 .*pip install "blackjax<1\.6"'),
        explain_backend_failure("blackjax"),
    ):
        raise TypeError("kernel() got an unexpected keyword argument 'progress_bar'")
    # Any other TypeError, or one from another backend, is not ours to explain.
    with pytest.raises(TypeError), explain_backend_failure("numpyro"):
        raise TypeError("kernel() got an unexpected keyword argument 'progress_bar'")


@pytest.mark.parametrize(("n_samples", "parallel"), [(500, False), (250_000, True)])
def test_chains_are_never_forked_once_jax_is_imported(monkeypatch, n_samples, parallel):
    get_context = multiprocessing.get_context
    # Fork as the default start method, as on Linux before Python 3.14.
    monkeypatch.setattr(
        multiprocessing, "get_context", lambda method=None: get_context(method or "fork")
    )
    monkeypatch.setitem(sys.modules, "jax", types.ModuleType("jax"))
    settings = {"n_samples": n_samples, "draws": 1000, "tune": 1000, "chains": 2}
    chosen = _sampling.parallel_context(**settings)
    # Spawned workers import PyMC again, so they are priced as spawn.
    assert (chosen is not None) == parallel
    if parallel:
        assert chosen.get_start_method() == "spawn"


@pytest.mark.slow
@pytest.mark.parametrize("backend", list(BACKEND_MODULES))
def test_backend_agrees_with_gibbs(backend, seed_data, seed_fit):
    pytest.importorskip(BACKEND_MODULES[backend])
    X, _ = seed_data
    est = BayesianMCMCMixture(
        sampler="nuts", nuts_sampler=backend, random_state=0, **NOTEBOOK_PRIORS
    ).fit(X)
    assert est.sample_trace_.posterior.attrs["sampler"] == f"nuts ({backend})"
    assert est.convergence_["converged"], est.convergence_
    assert_posterior_means_agree(seed_fit, est)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpyro", "blackjax"])
def test_gibbs_after_a_jax_fit_spawns_its_chains_with_the_same_draws(
    backend, seed_data, seed_fit, monkeypatch
):
    pytest.importorskip(BACKEND_MODULES[backend])
    X, _ = seed_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short run: its convergence is not the point
        BayesianMCMCMixture(
            sampler="nuts", nuts_sampler=backend, draws=50, tune=50, random_state=0
        ).fit(X)
    assert "jax" in sys.modules
    monkeypatch.setitem(_sampling.PARALLEL_MIN_WORK, "spawn", 0)
    contexts = []
    real_sample = _sampling.pm.sample

    def spy(*args, **kwargs):
        contexts.append(kwargs["mp_ctx"])
        return real_sample(*args, **kwargs)

    monkeypatch.setattr(_sampling.pm, "sample", spy)
    with warnings.catch_warnings():
        # JAX warns from its at-fork hook that a forked child will likely deadlock.
        warnings.filterwarnings("error", message=r"os\.fork\(\) was called")
        again = BayesianMCMCMixture(random_state=0, **NOTEBOOK_PRIORS).fit(X)
    assert [c.get_start_method() for c in contexts] == ["spawn"]
    for name in ("weights", "means", "sigma", "category"):
        np.testing.assert_array_equal(
            again.sample_trace_.posterior[name], seed_fit.sample_trace_.posterior[name]
        )
