"""Samplers of the constrained mixture, each returning InferenceData in one layout.

Every sampler's posterior holds ``weights`` (component), ``means`` (component, feature),
the covariance type's variable (``sigma`` or ``covariance``, with its dims) and, when small
enough, ``category`` (sample), so
that everything downstream is sampler-agnostic. One module per sampler family:

- ``gibbs``: the exact blocked Gibbs step on the latent model (default);
- ``nuts``: NUTS on the marginalised model, categories recovered per draw;
- ``metropolis``: the 2015 PyMC notebook's Metropolis + categorical Gibbs scheme.
"""

import contextlib
import logging
import multiprocessing
import os
import sys

import numpy as np

from .._clusters import COMPONENT_COUNTS
from .._lazy import az, pm
from .._missing import missing_patterns, pattern_marginals
from .._posterior import draws_of, sample_categories_given_draws
from ._forked import run_forked
from .nuts import check_nuts_backend, explain_backend_failure, marginal_initvals
from .tempering import TEMPERING_DIMS, TEMPERING_STATS

__all__ = [
    "SAMPLERS",
    "continue_chains",
    "parallel_context",
    "pymc_sample_kwargs",
    "sample_posterior",
    "sample_until",
]

SAMPLERS = ("gibbs", "nuts", "metropolis")
# Point-iterations (n_samples x chains x (draws + tune)) from which chains run in parallel
# processes, by how a worker process starts; measured on 2 cores (the user guide has the
# tables). A forked worker starts in milliseconds, and forked chains (._forked) were faster
# at every size tried, down to 50 points at the default settings. A spawned one imports
# PyMC again, about 7 s: parallel was still 1.3x slower at 4e8 (benchmarks/bench_parallel.py),
# and the crossover extrapolates to about 8e8.
PARALLEL_MIN_WORK = {"fork": 0, "spawn": 800_000_000}


def parallel_context(*, n_samples, draws, tune, chains):
    """The multiprocessing context to run chains in parallel with, or None for sequential.

    Sequential inside a daemonic process (a Dask worker, say), which may not start
    children, and for problems too small to pay for starting the workers. Any start method
    but fork (spawn, forkserver, joblib's loky inside a ``n_jobs`` search) starts a fresh
    interpreter per worker, and is priced as spawn. A process that has imported JAX (a
    numpyro or blackjax fit, say) never forks: JAX runs threads of its own, and a child
    forked from a multithreaded process can deadlock; its workers are spawned instead.
    """
    if chains < 2 or (os.cpu_count() or 1) < 2 or multiprocessing.current_process().daemon:
        return None
    context = multiprocessing.get_context()
    if context.get_start_method() == "fork" and "jax" in sys.modules:
        context = multiprocessing.get_context("spawn")
    method = "fork" if context.get_start_method() == "fork" else "spawn"
    work = n_samples * chains * (draws + tune)
    return context if work >= PARALLEL_MIN_WORK[method] else None


def pymc_sample_kwargs(*, n_samples, draws, tune, chains, random_seed, verbose, var_names):
    """The keyword arguments of ``pm.sample`` for the sampler settings of the estimator.

    Chains run in parallel processes when :func:`parallel_context` says it pays; the draws
    are the same either way, since PyMC draws each chain's generator from ``random_seed``
    (see :func:`_chain_generator` for chains run one by one). Convergence checks are left
    to the estimator, which reports them in its own terms.
    """
    context = parallel_context(n_samples=n_samples, draws=draws, tune=tune, chains=chains)
    return {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "cores": 1 if context is None else min(chains, os.cpu_count()),
        "mp_ctx": context,
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
    sampler,
    model,
    X,
    spec,
    initvals,
    scales,
    *,
    keep_categories,
    nuts_sampler,
    n_temperatures=1,
    split_merge=False,
    replicas=None,
    sample_weight=None,
    **settings,
):
    """Sample ``model`` (built for ``sampler`` by ``_model.build_model``) with ``pm.sample``.

    ``initvals`` holds one starting point of the latent model per chain. ``settings`` are
    the sampler settings of :func:`pymc_sample_kwargs`. ``n_temperatures > 1`` tempers
    the Gibbs sampler, and ``split_merge`` adds its split-merge moves; ``replicas`` (one
    per chain, as returned) continues its hotter replicas. ``sample_weight`` (one per row
    of ``X``, or None) is the weights the model was built with; the Gibbs step sweeps the
    rows of positive weight, which it takes as whole numbers of repetitions. Returns the
    trace and, for a tempered run, each chain's replicas (else None). Raises
    ``KeyboardInterrupt`` if sampling stopped early: PyMC returns a truncated trace then,
    and a fit must never be built from one.
    """
    latent = sampler != "nuts"
    # A model with weights has no category variable: the categories are drawn from the
    # parameters after sampling, as for NUTS.
    sampled_categories = "category" in model.named_vars
    names = spec.parameter_names
    var_names = [*names, "category"] if keep_categories and sampled_categories else list(names)
    if spec.sparse and COMPONENT_COUNTS in model.named_vars:
        var_names.append(COMPONENT_COUNTS)
    kwargs = pymc_sample_kwargs(n_samples=X.shape[0], var_names=var_names, **settings)
    if latent and not sampled_categories:
        # The starts' categories, which a model without them does not take.
        initvals = [{k: v for k, v in start.items() if k != "category"} for start in initvals]
    with model, _quiet_pymc(settings["verbose"]):
        # The step methods subclass PyMC's, so their modules import it: here, not when
        # bayes_gmm is imported (see .._lazy).
        if sampler == "gibbs":
            from .gibbs import GibbsMixtureStep

            rows, repetitions = slice(None), None
            if sample_weight is not None:
                # Rows of weight 0 stand for no point: the sweep leaves them out.
                rows = sample_weight > 0
                repetitions = sample_weight[rows].astype(np.int64)
            kwargs["step"] = GibbsMixtureStep(
                X=X[rows],
                spec=spec,
                center=scales.median,
                spread=scales.spread,
                n_temperatures=n_temperatures,
                split_merge=split_merge,
                repetitions=repetitions,
            )
        elif sampler == "metropolis":
            from .metropolis import metropolis_steps

            kwargs["step"] = metropolis_steps(model, spec.parameter_names)
        else:
            check_nuts_backend(nuts_sampler)
            kwargs["nuts_sampler"] = nuts_sampler
            # Each chain starts in a plausible partition of its own. PyMC would add a
            # jitter of up to 1 to every unconstrained coordinate (the means in the data's
            # units, the covariances' Bartlett factors on the log scale), which can throw
            # a chain out of its partition into a local mode before warm-up begins.
            if nuts_sampler == "pymc":
                kwargs["init"] = "adapt_diag"
            elif nuts_sampler in ("numpyro", "blackjax"):
                kwargs["nuts_sampler_kwargs"] = {"jitter": False}
            # nutpie takes no initvals (PyMC warns and drops them); it starts from the
            # model's own initial point instead.
            initvals = (
                None
                if nuts_sampler == "nutpie"
                else [marginal_initvals(start, spec) for start in initvals]
            )
        with explain_backend_failure(None if latent else nuts_sampler):
            trace, replicas = _sample_chains(initvals, kwargs, replicas)
    _check_complete(trace, settings)
    if replicas is not None:
        _add_exchanges(trace, [chain.pop("history") for chain in replicas])
    if "component_counts" in trace.get("sample_stats", {}):
        counts = trace.sample_stats["component_counts"].to_numpy()
        del trace.sample_stats["component_counts"]
        trace.posterior[COMPONENT_COUNTS] = (("chain", "draw", "component"), counts)
    if np.isnan(X).any():
        # The models observe 0 in place of NaN (see .._model); the one observed variable.
        (observed,) = trace.observed_data.data_vars
        trace.observed_data[observed].values = X
    if keep_categories and not sampled_categories:
        rng = np.random.default_rng([settings["random_seed"], 1])
        trace.posterior["category"] = _recovered_categories(rng, X, spec, trace)
    if keep_categories:
        trace.posterior["category"] = trace.posterior["category"].astype(
            np.min_scalar_type(spec.n_categories - 1)
        )
    trace.posterior.attrs["sampler"] = sampler if latent else f"nuts ({nuts_sampler})"
    return trace, replicas


def sample_until(
    sampler, model, X, spec, initvals, scales, *, next_draws, random_seed, crossing=None, **settings
):
    """Sample, then continue the Gibbs chains from where they stopped while asked to.

    ``crossing(trace)``, when given, reads the first run's trace and returns the settings
    to sample again with, from the same starts and with a seed of its own, or None: the
    "auto" mode-crossing tools, switched on where the chains sit in different modes.
    ``next_draws(trace)`` then reads each run's trace and returns the draws per chain to
    continue to, or None to stop: ``draws="auto"``'s rule, which the estimator owns. Each
    extension draws its own seed from ``random_seed``, so the same seed gives the same
    draws however the chains run. ``settings`` are :func:`sample_posterior`'s. Returns
    the final trace.
    """
    trace, replicas = sample_posterior(
        sampler, model, X, spec, initvals, scales, random_seed=random_seed, **settings
    )
    if crossing is not None and (tools := crossing(trace)) is not None:
        # Extensions take the seeds [random_seed, 1, 2, ...].
        seed = np.random.SeedSequence([random_seed, 0]).generate_state(1)[0]
        settings = {**settings, **tools}
        trace, replicas = sample_posterior(
            sampler, model, X, spec, initvals, scales, random_seed=int(seed), **settings
        )
    extension = 0
    while (draws := next_draws(trace)) is not None:
        extension += 1
        seed = np.random.SeedSequence([random_seed, extension]).generate_state(1)[0]
        trace, replicas = continue_chains(
            model,
            X,
            spec,
            trace,
            scales,
            **{
                **settings,
                "draws": draws - trace.posterior.sizes["draw"],
                "tune": 0,
                "random_seed": int(seed),
                "replicas": replicas,
            },
        )
    return trace


def continue_chains(model, X, spec, trace, scales, **settings):
    """``trace`` with each Gibbs chain continued by ``settings["draws"]`` more sweeps from
    its last draw (``settings["tune"]`` is 0), and the chains' replicas, as
    :func:`sample_posterior` returns them.

    The sweep draws the categories first, from the parameters alone, so a chain restarted
    at its last parameters goes on as one chain would; with nothing adapted during
    warm-up, no second warm-up is needed. The categories of the start are not read. A
    tempered chain goes on from its hotter replicas (``settings["replicas"]``) too, on
    the ladder that its warm-up fixed. ``settings`` are :func:`sample_posterior`'s.
    """
    posterior = trace.posterior
    names = spec.parameter_names
    categories = {"category": np.zeros(X.shape[0], dtype=int)}
    starts = [
        {
            **{name: posterior[name].isel(chain=c, draw=-1).to_numpy() for name in names},
            **(categories if "category" in model.named_vars else {}),
        }
        for c in range(posterior.sizes["chain"])
    ]
    more, replicas = sample_posterior("gibbs", model, X, spec, starts, scales, **settings)
    joined = az.concat(trace, more, dim="draw")
    joined.posterior.attrs = posterior.attrs
    return joined, replicas


def _sample_chains(initvals, kwargs, replicas=None):
    """``pm.sample`` of every chain, and each tempered chain's replicas (else None).

    Forked chains each run their own ``pm.sample`` (see ._forked). So does each tempered
    chain, in this process when the chains do not fork: its step keeps the hotter
    replicas, which must start and end with their chain. The backends other than PyMC's
    NUTS run their chains themselves, and untempered chains that start another way than
    fork go through PyMC's parallel sampler, which pickles the model for them.
    """
    step = kwargs.get("step")
    tempered = getattr(step, "n_temperatures", 1) > 1
    context = kwargs["mp_ctx"]
    forked = (
        context is not None
        and context.get_start_method() == "fork"
        and kwargs.get("nuts_sampler", "pymc") == "pymc"
    )
    if not (forked or tempered):
        return pm.sample(initvals=initvals, **kwargs), None
    if forked:
        _load_compilation_caches()

    def one_chain(chain):
        alone = {
            "chains": 1,
            "cores": 1,
            "mp_ctx": None,
            "random_seed": _chain_generator(kwargs["random_seed"], chain),
        }
        if tempered:
            step.begin_chain(None if replicas is None else replicas[chain])
        trace = pm.sample(
            initvals=None if initvals is None else [initvals[chain]], **{**kwargs, **alone}
        )
        # An interrupted chain stops here, before chains of unequal length are joined.
        _check_complete(trace, {"chains": 1, "draws": kwargs["draws"]})
        return trace, step.replica_state() if tempered else None

    n_chains = kwargs["chains"]
    if forked:
        outcomes = run_forked(context, one_chain, n_chains)
    else:
        outcomes = [one_chain(chain) for chain in range(n_chains)]
    traces, chain_replicas = zip(*outcomes, strict=True)
    trace = traces[0] if n_chains == 1 else az.concat(*traces, dim="chain")
    return trace, list(chain_replicas) if tempered else None


def _load_compilation_caches():
    """Load, before forking, what the first compilation in a process loads.

    PyTensor reads its cache of compiled modules from disk (about a second) and imports its
    C linker's modules the first time it compiles. Loaded here, the children of a process's
    first fit inherit them; otherwise each child loads them again beside the parent. Later
    calls cost nothing: both stay loaded.
    """
    from pytensor.link.c import exceptions  # noqa: F401  (imports setuptools: 0.3 s)
    from pytensor.link.c.basic import get_module_cache

    get_module_cache()


def _chain_generator(random_seed, chain):
    """What makes ``pm.sample(chains=1)`` run chain ``chain`` of ``pm.sample(random_seed)``.

    PyMC spawns one child generator per chain from the seed's generator, and a generator
    spawns its children in order: after ``chain`` of them are spawned and dropped, the
    next child, the one a one-chain run takes, is that chain's. A test checks that the
    draws are the same as one run of every chain.
    """
    generator = np.random.default_rng(random_seed)
    generator.spawn(chain)
    return generator


def _check_complete(trace, settings):
    n_chains, n_draws = trace.posterior.sizes["chain"], trace.posterior.sizes["draw"]
    if (n_chains, n_draws) != (settings["chains"], settings["draws"]):
        raise KeyboardInterrupt(
            f"sampling stopped after {n_draws} of {settings['draws']} draws in "
            f"{n_chains} of {settings['chains']} chains; nothing was fitted"
        )


def _add_exchanges(trace, histories):
    """Each tempered chain's exchanges (:data:`.tempering.TEMPERING_STATS`), one entry per
    draw, as variables of the trace's ``sample_stats``."""
    stats = trace.sample_stats
    for name in TEMPERING_STATS:
        values = np.stack([history[name] for history in histories])
        stats[name] = (("chain", "draw", *TEMPERING_DIMS[name]), values)


def _recovered_categories(rng, X, spec, trace):
    """One category per point and draw from p(z | x, theta_draw): exact joint draws. A
    row with missing entries is drawn given its observed ones."""
    posterior = trace.posterior
    draws = draws_of(posterior, spec)
    patterns = missing_patterns(X)
    if patterns is None:
        category = sample_categories_given_draws(rng, X, draws)
    else:
        category = np.empty((draws.weights.shape[0], X.shape[0]), dtype=np.intp)
        for observed, rows, marginal in pattern_marginals(draws, patterns):
            category[:, rows] = sample_categories_given_draws(rng, X[rows][:, observed], marginal)
    shape = (posterior.sizes["chain"], posterior.sizes["draw"], X.shape[0])
    return (("chain", "draw", "sample"), category.reshape(shape))
