"""Samplers of the constrained mixture, each returning InferenceData in one layout.

Every sampler's posterior holds ``weights`` (component), ``means`` (component, feature),
``sigma`` (the covariance type's dims) and, when small enough, ``category`` (sample).
"""

import contextlib
import logging
import os

import numpy as np
import pymc as pm

from .gibbs import GibbsMixtureStep

__all__ = ["GibbsMixtureStep", "pymc_sample_kwargs", "sample_gibbs"]

PARAMETER_NAMES = ("weights", "means", "sigma")


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
    """Silence PyMC's informational log lines unless the user asked for output."""
    logger = logging.getLogger("pymc")
    level = logger.level
    if verbose < 1:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def sample_gibbs(model, X, spec, initvals, center, spread, *, keep_categories, **settings):
    """Run ``pm.sample`` with the exact Gibbs step on the latent ``model``.

    ``settings`` are the sampler settings of :func:`pymc_sample_kwargs`. Raises
    ``KeyboardInterrupt`` if sampling stopped early: PyMC returns a truncated trace then,
    and a fit must never be built from one.
    """
    var_names = [*PARAMETER_NAMES, "category"] if keep_categories else list(PARAMETER_NAMES)
    kwargs = pymc_sample_kwargs(n_samples=X.shape[0], var_names=var_names, **settings)
    with model, _quiet_pymc(settings["verbose"]):
        step = GibbsMixtureStep(X=X, spec=spec, center=center, spread=spread)
        idata = pm.sample(step=step, initvals=initvals, **kwargs)
    n_chains, n_draws = idata.posterior.sizes["chain"], idata.posterior.sizes["draw"]
    if (n_chains, n_draws) != (settings["chains"], settings["draws"]):
        raise KeyboardInterrupt(
            f"sampling stopped after {n_draws} of {settings['draws']} draws in "
            f"{n_chains} of {settings['chains']} chains; nothing was fitted"
        )
    if keep_categories:
        idata.posterior["category"] = idata.posterior["category"].astype(
            np.min_scalar_type(spec.n_components - 1)
        )
    return idata
