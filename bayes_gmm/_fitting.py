"""The fitting loop: from the estimator's checked data to a finished trace.

Everything a fit does between the validated ``X`` and the fitted attributes: the refusals
that need the data, the seeds, the resolved model and each chain's start, the PyMC model,
the runs that ``draws="auto"`` and the "auto" mode-crossing tools ask for, and the
trace's pointwise groups. The estimator hands in a ``report`` callback, which reads a
run's trace and returns its convergence report (setting the fitted attributes as it
goes): the rules that decide on another run read only that report.
"""

from typing import NamedTuple

import numpy as np
from sklearn.utils import check_random_state

from ._diagnostics import chains_apart, next_chain_length
from ._initial_point import RUNS_PER_CHAIN, chain_starts
from ._missing import check_missing_values
from ._sample_weight import check_sample_weight
from ._sampling import sample_until
from ._sampling.budget import (
    auto_crossing,
    check_sampler_options,
    crossing_tools,
    draw_budget,
    first_run_crossing,
    resolved_tune,
)
from ._scoring import log_likelihood_dataset

# Per-point draws (categories, pointwise log-likelihood) are stored in the trace while
# n_samples * chains * draws stays at or below this (4 MB as int8 categories, 32 MB of
# log-likelihood); beyond it they would grow without bound. The Rao-Blackwellised
# probabilities carry the categories' information with less noise, and waic/loo compute the
# log-likelihood when asked.
MAX_POINTWISE_DRAWS = 4_000_000


class Fit(NamedTuple):
    """What a fit made: the trace, the resolved model (:class:`._spec.MixtureSpec`), the
    PyMC model, the most draws per chain that ``draws="auto"`` could reach, and the
    mode-crossing options that the fit's data and model take (:func:`crossing_tools`),
    which a convergence warning may name."""

    trace: object
    spec: object
    model: object
    max_draws: int
    crossing_tools: list


def model_attrs(spec):
    """The resolved model, echoed in the trace's posterior attributes.

    netCDF attributes are numbers, strings or 1-D arrays: a matrix is stored flattened
    (row-major).
    """
    return {
        name: np.ravel(value) if isinstance(value, list) else value
        for name, value in spec.to_dict().items()
        if value is not None
    }


def _check_data(X, params, sample_weight):
    """The checks that need the data and the parameters together; returns the weights,
    checked (None for an unweighted fit)."""
    check_sampler_options(params)
    sample_weight = check_sample_weight(sample_weight, X.shape[0], params)
    check_missing_values(X, params, weighted=sample_weight is not None)
    n_rows = X.shape[0] if sample_weight is None else np.count_nonzero(sample_weight)
    k = params["n_components"]
    if n_rows < max(2, k):
        rows = "n_samples" if sample_weight is None else "the rows of positive sample_weight"
        raise ValueError(
            f"{rows}={n_rows} should be >= max(2, n_components) with n_components={k}: a "
            "mixture needs at least two points and one point per component."
        )
    return sample_weight


def fit_trace(X, params, feature_names, sample_weight, report):
    """Sample the posterior of the mixture that ``params`` (the estimator's
    ``get_params()``) describe, given ``X`` (validated, NaN allowed) with the features
    ``feature_names``, and ``sample_weight`` (None or one per row, unchecked).

    ``report(trace, spec)`` returns a run's convergence report; ``draws="auto"``'s rule
    calls it on every run, the last one included. Returns a :class:`Fit`.
    """
    # PyMC is imported by the first fit, not by `import bayes_gmm` (see _lazy).
    from ._model import build_model, model_coords

    sample_weight = _check_data(X, params, sample_weight)
    n_samples = X.shape[0]
    first_draws, max_draws = draw_budget(params)
    rng = check_random_state(params["random_state"])
    sampler_seed = rng.randint(np.iinfo(np.int32).max)
    kmeans_seeds = rng.randint(np.iinfo(np.int32).max, size=RUNS_PER_CHAIN * params["chains"])
    spec, scales, initvals = chain_starts(X, params, kmeans_seeds, sample_weight)
    coords = model_coords(params["n_components"], feature_names, n_samples)
    model = build_model(params["sampler"], X, spec, coords, sample_weight)
    chains = params["chains"]
    settings = {
        "keep_categories": n_samples * chains * first_draws <= MAX_POINTWISE_DRAWS,
        "nuts_sampler": params["nuts_sampler"],
        "chains": chains,
        "verbose": params["verbose"],
        "sample_weight": sample_weight,
        **first_run_crossing(params),
    }
    data = {"weighted": sample_weight is not None, "missing": bool(np.isnan(X).any())}
    tools = auto_crossing(params, **data)

    def crossing(trace):
        # The "auto" crossing tools: switched on where the chains sit in different
        # modes, for a second run from the same starts.
        return tools if chains_apart(report(trace, spec)) else None

    def next_draws(trace):
        # draws="auto": continue the chains until the diagnostics are met or the
        # budget is spent.
        return next_chain_length(report(trace, spec), trace.posterior.sizes["draw"], max_draws)

    trace = sample_until(
        params["sampler"],
        model,
        X,
        spec,
        initvals,
        scales,
        draws=first_draws,
        tune=resolved_tune(params),
        next_draws=next_draws,
        crossing=None if tools is None else crossing,
        random_seed=int(sampler_seed),
        **settings,
    )
    trace.posterior.attrs.update(model_attrs(spec))
    if n_samples * chains * trace.posterior.sizes["draw"] > MAX_POINTWISE_DRAWS:
        # Kept while the first draws were few enough; the extensions went past the bound.
        if "category" in trace.posterior:
            del trace.posterior["category"]
    else:
        trace.add_groups(
            log_likelihood=log_likelihood_dataset(
                X, trace.posterior, spec, trace.observed_data["sample"], sample_weight
            )
        )
    return Fit(trace, spec, model, max_draws, crossing_tools(params, **data))
