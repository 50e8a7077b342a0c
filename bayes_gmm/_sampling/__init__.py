"""Samplers of the constrained mixture, each returning InferenceData in one layout.

Every sampler's posterior holds ``weights`` (component), ``means`` (component, feature),
``sigma`` (the covariance type's dims) and, when small enough, ``category`` (sample), so
that everything downstream is sampler-agnostic. One module per sampler family:

- ``gibbs``: the exact blocked Gibbs step on the latent model (default);
- ``nuts``: NUTS on the marginalised model, categories recovered per draw;
- ``metropolis``: the seed notebook's Metropolis + categorical Gibbs scheme.
"""

import contextlib
import logging
import os

import numpy as np
import pymc as pm

from .._posterior import PARAMETER_NAMES, draws_of, sample_categories_given_draws
from .gibbs import GibbsMixtureStep
from .metropolis import metropolis_steps
from .nuts import check_nuts_backend, marginal_initvals

__all__ = ["SAMPLERS", "GibbsMixtureStep", "pymc_sample_kwargs", "sample_posterior"]

SAMPLERS = ("gibbs", "nuts", "metropolis")
# Point-iterations (n_samples x chains x (draws + tune)) from which chains run in parallel
# processes: below it, starting the workers costs more than the sampling they share.
PARALLEL_MIN_WORK = 200_000_000


def pymc_sample_kwargs(*, n_samples, draws, tune, chains, random_seed, verbose, var_names):
    """The keyword arguments of ``pm.sample`` for the sampler settings of the estimator.

    Chains run in parallel processes only for large problems (:data:`PARALLEL_MIN_WORK`);
    the draws are the same either way, since each chain's generator comes from
    ``random_seed``. Convergence checks are left to the estimator, which reports them in its
    own terms.
    """
    parallel = n_samples * chains * (draws + tune) >= PARALLEL_MIN_WORK
    return {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "cores": min(chains, os.cpu_count() or 1) if parallel else 1,
        "random_seed": random_seed,
        "progressbar": verbose >= 1,
        "var_names": list(var_names),
        "compute_convergence_checks": False,
        "return_inferencedata": True,
    }


@contextlib.contextmanager
def _quiet_pymc(verbose):
    """Silence PyMC's log lines unless the user asked for output."""
    logger = logging.getLogger("pymc")
    level = logger.level
    if verbose < 1:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def sample_posterior(
    sampler, model, X, spec, initvals, scales, *, keep_categories, nuts_sampler, **settings
):
    """Sample ``model`` (built for ``sampler`` by ``_model.build_model``) with ``pm.sample``.

    ``settings`` are the sampler settings of :func:`pymc_sample_kwargs`. Raises
    ``KeyboardInterrupt`` if sampling stopped early: PyMC returns a truncated trace then,
    and a fit must never be built from one.
    """
    latent = sampler != "nuts"
    var_names = [*PARAMETER_NAMES, "category"] if keep_categories and latent else PARAMETER_NAMES
    kwargs = pymc_sample_kwargs(n_samples=X.shape[0], var_names=var_names, **settings)
    with model, _quiet_pymc(settings["verbose"]):
        if sampler == "gibbs":
            kwargs["step"] = GibbsMixtureStep(
                X=X, spec=spec, center=scales.median, spread=scales.spread
            )
        elif sampler == "metropolis":
            kwargs["step"] = metropolis_steps(model)
        else:
            check_nuts_backend(nuts_sampler)
            kwargs["nuts_sampler"] = nuts_sampler
            # nutpie takes no initvals (PyMC warns and drops them); it starts from the
            # model's own initial point instead.
            initvals = None if nuts_sampler == "nutpie" else marginal_initvals(initvals, spec)
        trace = pm.sample(initvals=initvals, **kwargs)
    _check_complete(trace, settings)
    if keep_categories and not latent:
        rng = np.random.default_rng([settings["random_seed"], 1])
        trace.posterior["category"] = _recovered_categories(rng, X, spec, trace)
    if keep_categories:
        trace.posterior["category"] = trace.posterior["category"].astype(
            np.min_scalar_type(spec.n_components - 1)
        )
    trace.posterior.attrs["sampler"] = sampler if latent else f"nuts ({nuts_sampler})"
    return trace


def _check_complete(trace, settings):
    n_chains, n_draws = trace.posterior.sizes["chain"], trace.posterior.sizes["draw"]
    if (n_chains, n_draws) != (settings["chains"], settings["draws"]):
        raise KeyboardInterrupt(
            f"sampling stopped after {n_draws} of {settings['draws']} draws in "
            f"{n_chains} of {settings['chains']} chains; nothing was fitted"
        )


def _recovered_categories(rng, X, spec, trace):
    """One category per point and draw from p(z | x, theta_draw): exact joint draws."""
    posterior = trace.posterior
    category = sample_categories_given_draws(rng, X, draws_of(posterior, spec))
    shape = (posterior.sizes["chain"], posterior.sizes["draw"], X.shape[0])
    return (("chain", "draw", "sample"), category.reshape(shape))
