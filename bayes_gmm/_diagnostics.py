"""Convergence diagnostics of a fit, and the warnings that state them.

Thresholds follow Vehtari et al. (2021), "Rank-normalization, folding, and localization":
R-hat below 1.01 and bulk and tail ESS of at least 400 before posterior summaries are
trusted.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._lazy import az
from ._modes import describe_modes

MAX_R_HAT = 1.01
MIN_ESS = 400
# draws="auto" grows the chains at least this many times over per extension, so that a
# fit needs few of them, and aims this far past the length at which the ESS, growing in
# proportion to the draws, would reach MIN_ESS: the ESS of a short run is noisy.
MIN_GROWTH = 2
ESS_MARGIN = 1.25
# Central posterior interval used to judge whether the ordered means are separated.
INTERVAL_PROB = 0.94


def convergence_report(trace, parameter_names, posteriors=None, chain_modes=None):
    """Maximum R-hat, minimum bulk and tail ESS over the parameters, as a dict.

    ``posteriors``, when given, replaces the trace's parameters: datasets of (chain,
    draw, ...) draws, whose draw counts may differ from one dataset to the next (the
    clusters of a sparse fit, and its number of clusters, whose draws are all kept).
    ``max_r_hat`` is None with a single chain. ``divergences`` is the number of divergent
    transitions and ``acceptance_rate`` the mean acceptance where the sampler reports them
    (NUTS, Metropolis), else None: the Gibbs sweep draws from exact conditionals. A
    tempered fit adds ``inverse_temperatures`` (each chain's ladder), ``swap_rates``
    (each neighbour pair's) and ``round_trips`` (each chain's), which
    :func:`warn_if_ladder_does_not_connect` judges. ``chain_modes``, the per-chain
    summary of :func:`bayes_gmm._modes.chain_modes`, is added as it is given.
    """
    import xarray as xr

    if posteriors is None:
        posteriors = [trace.posterior[list(parameter_names)]]
    n_chains = trace.posterior.sizes["chain"]
    # A parameter that never moves (the weight of a single component) has no R-hat or ESS:
    # ArviZ returns NaN for it, with a warning that says nothing to the user.
    with np.errstate(divide="ignore", invalid="ignore"):
        # R-hat compares chains: with one there is none.
        r_hat = xr.merge([_rhat(p) for p in posteriors]) if n_chains > 1 else None
        ess_bulk = xr.merge([az.ess(p, method="bulk") for p in posteriors])
        ess_tail = xr.merge([az.ess(p, method="tail") for p in posteriors])
    stats = trace.get("sample_stats")
    diverging = acceptance = None
    if stats is not None and "diverging" in stats:
        diverging = int(stats["diverging"].sum())
    # NUTS reports its mean acceptance probability, PyMC's Metropolis whether it accepted.
    for name in ("acceptance_rate", "accepted"):
        if stats is not None and name in stats:
            acceptance = float(stats[name].mean())
    report = {
        "max_r_hat": None if r_hat is None else _extreme(r_hat, np.nanmax),
        "min_ess_bulk": _extreme(ess_bulk, np.nanmin),
        "min_ess_tail": _extreme(ess_tail, np.nanmin),
        "divergences": diverging,
        "acceptance_rate": acceptance,
        # The parameter that mixes worst: largest R-hat, or smallest bulk ESS with one chain.
        "worst_parameter": _worst(r_hat, np.nanargmax) if r_hat is not None else None,
    }
    if report["worst_parameter"] is None:
        report["worst_parameter"] = _worst(ess_bulk, np.nanargmin)
    if stats is not None and "round_trips" in stats:
        report.update(_exchange_report(stats))
    if chain_modes is not None:
        report["chain_modes"] = chain_modes
    report["converged"] = not _problems(report)
    return report


def _exchange_report(stats):
    """The ladder of a tempered fit: each chain's inverse temperatures and round trips,
    and each neighbour pair's mean swap probability over chains and draws."""
    with np.errstate(invalid="ignore"):
        swap_rates = np.nanmean(stats["swap_probability"].to_numpy(), axis=(0, 1))
    return {
        "inverse_temperatures": stats["inverse_temperature"].isel(draw=-1).to_numpy().tolist(),
        "swap_rates": swap_rates.tolist(),
        "round_trips": stats["round_trips"].sum("draw").to_numpy().tolist(),
    }


def _rhat(posterior):
    """ArviZ's R-hat, and infinity where each chain stays at its own constant value.

    ArviZ returns NaN there, as for a parameter that never moves at all, yet the chains
    disagree completely: a sparse fit's chains can each keep their own number of clusters.
    """
    r_hat = az.rhat(posterior)
    for name, values in posterior.items():
        draws = values.to_numpy()
        stuck = np.all(draws == draws[:, :1], axis=1)
        apart = np.any(draws[:, 0] != draws[:1, 0], axis=0)
        r_hat[name] = r_hat[name].copy(data=np.where(np.all(stuck, 0) & apart, np.inf, r_hat[name]))
    return r_hat


def _flat(dataset):
    return np.concatenate([dataset[name].to_numpy().ravel() for name in dataset])


def _extreme(dataset, reduce):
    values = _flat(dataset)
    # NaN marks parameters that never move; None if nothing else is left.
    return float(reduce(values)) if not np.isnan(values).all() else None


def _worst(dataset, arg_reduce):
    """Name of the entry at ``arg_reduce`` of a per-parameter dataset, as ``means[1, x0]``."""
    if np.isnan(_flat(dataset)).all():
        return None
    position = int(arg_reduce(_flat(dataset)))
    for name in dataset:
        values = dataset[name]
        if position < values.size:
            index = np.unravel_index(position, values.shape)
            labels = [str(values[dim].values[i]) for dim, i in zip(values.dims, index, strict=True)]
            return f"{name}[{', '.join(labels)}]" if labels else name
        position -= values.size
    raise AssertionError("unreachable: the position lies inside the dataset")


def _problems(report):
    """The thresholds a report misses, in words."""
    problems = []
    r_hat = report["max_r_hat"]
    if r_hat is not None and r_hat > MAX_R_HAT:
        problems.append(f"max R-hat {r_hat:.3f} > {MAX_R_HAT}")
    for kind in ("bulk", "tail"):
        value = report[f"min_ess_{kind}"]
        if value is not None and value < MIN_ESS:
            problems.append(f"min {kind} ESS {value:.0f} < {MIN_ESS}")
    if report["divergences"]:
        problems.append(f"{report['divergences']} divergent transitions")
    return problems


def chains_apart(report):
    """Whether the chains miss the thresholds and sit in different modes
    (``report["chain_modes"]``): what more draws seldom mend."""
    modes = report.get("chain_modes")
    return modes is not None and max(modes["mode"]) > 0 and bool(_problems(report))


def draws_needed(report, n_draws):
    """Draws per chain at which the smallest ESS would reach ``MIN_ESS`` x ``ESS_MARGIN``,
    if it grew in proportion to the draws; None when no ESS falls short."""
    ess = [report[f"min_ess_{kind}"] for kind in ("bulk", "tail")]
    ess = [value for value in ess if value is not None]
    if not ess or min(ess) >= MIN_ESS:
        return None
    return int(np.ceil(n_draws * ESS_MARGIN * MIN_ESS / max(min(ess), 1.0)))


def next_chain_length(report, n_draws, max_draws):
    """The draws per chain to continue to, or None: converged, or ``max_draws`` too few.

    At least ``MIN_GROWTH`` times ``n_draws``, and the length :func:`draws_needed` gives
    where an ESS falls short. Chains that would need more than ``max_draws`` at their
    present rate are not continued (chains apart in modes that they seldom cross, most
    often): the budget would be spent for a fit that still warns.
    """
    if report["converged"] or n_draws >= max_draws:
        return None
    needed = draws_needed(report, n_draws) or 0
    if needed > max_draws:
        return None
    return min(max_draws, max(MIN_GROWTH * n_draws, needed))


def warn_if_not_converged(
    report, n_chains, n_draws, fit, max_draws=None, sparse=False, crossing=None
):
    """A ConvergenceWarning stating the numbers and what to try, when a threshold is missed.

    ``fit`` names the fit (its ``n_components`` and ``covariance_type``), so that the
    warnings of a search over many fits say which one they concern. ``max_draws`` is the
    budget of ``draws="auto"``, which either was spent or would not have been enough.
    ``sparse``: the fit is a sparse mixture, whose chains can disagree on the number of
    clusters. ``crossing`` is the remedy of :func:`mode_crossing_remedy`, said where the
    chains sit in different modes (``report["chain_modes"]``) or may.
    """
    problems = _problems(report)
    if not problems:
        return
    worst = report.get("worst_parameter")
    run = f"{n_chains} chains x {n_draws} draws"
    if max_draws is None:
        more = f"draws={2 * n_draws} (or draws='auto' with the Gibbs sampler)"
    elif n_draws >= max_draws:
        run += f", the budget max_draws={max_draws} spent"
        more = f"a larger max_draws (e.g. {2 * max_draws})"
    else:
        needed = draws_needed(report, n_draws)
        run += (
            f"; at this rate the chains would need about {needed} draws each, more than "
            f"max_draws={max_draws}, so they were not continued"
        )
        more = f"max_draws={needed}"
    compare = (
        "compare the chains in est.n_clusters_summary() and est.summary()"
        if sparse
        else "compare the chains in est.summary() or bayes_gmm.plotting.plot_trace, and try "
        "fewer n_components, another covariance_type, or weight_concentration='sparse'"
    )
    modes = report.get("chain_modes")
    if chains_apart(report):
        advice = (
            f"The chains sit in {max(modes['mode']) + 1} different modes of the posterior "
            f"({describe_modes(modes)}; est.convergence_['chain_modes'] has them), which "
            f"more draws seldom join: {crossing or mode_crossing_remedy()}; or"
        )
    else:
        advice = (
            "Where R-hat stays high as the chains grow, they sit in different modes of the "
            "posterior that no chain crosses, and more draws will not join them: "
            f"{crossing or mode_crossing_remedy()}; or"
        )
    warnings.warn(
        f"{fit}: the posterior sample may not be reliable: {'; '.join(problems)} "
        f"({run}{'' if worst is None else f'; worst mixing: {worst}'}). Try {more}, or "
        f"more chains. {advice} {compare}.",
        ConvergenceWarning,
        stacklevel=4,
    )


def mode_crossing_remedy(
    sampler="gibbs", n_temperatures=1, split_merge=False, tools=("n_temperatures", "split_merge")
):
    """What carries chains between modes, given what the fit already used and the
    ``tools`` its data and model can take (:func:`._sampling.budget.crossing_tools`)."""
    if not tools:
        return (
            "neither parallel tempering nor split-merge moves take t components with "
            "sample weights or missing entries (see the user guide)"
        )
    if sampler != "gibbs":
        options = {
            "n_temperatures": "n_temperatures=4 (parallel tempering)",
            "split_merge": "split_merge=True",
        }
        named = [text for tool, text in options.items() if tool in tools]
        return (
            f"sampler='gibbs' with {' and '.join(named)} can carry chains between modes "
            "(see the user guide)"
        )
    named = []
    if "split_merge" in tools and not split_merge:
        named.append("split_merge=True")
    if "n_temperatures" in tools:
        named.append(
            f"n_temperatures={max(4, 2 * n_temperatures)}"
            + (" (parallel tempering)" if n_temperatures == 1 else " (a longer ladder)")
        )
    return f"{' and '.join(named)} can carry chains between modes (see the user guide)"


def warn_if_ladder_does_not_connect(report, fit):
    """Warn when a tempered chain's replicas made no round trip.

    Swap rates can look fine across a ladder that no state travels from end to end, where
    a phase transition of the tempered posteriors splits it (DESIGN.md section 8): the
    hotter replicas then carry nothing between modes, and the chain is worth no more than
    an untempered one. Its draws are not wrong for that, and R-hat and the ESS judge them
    as any chain's, so this is a warning of its own, not a missed threshold.
    """
    round_trips = report.get("round_trips")
    if round_trips is None or min(round_trips) > 0:
        return
    stuck = [c for c, trips in enumerate(round_trips) if trips == 0]
    ladders = "; ".join(
        f"chain {c}: {' '.join(f'{beta:.3g}' for beta in report['inverse_temperatures'][c])}"
        for c in stuck
    )
    warnings.warn(
        f"{fit}: no state travelled from the posterior to the hottest replica and back in "
        f"chain(s) {', '.join(map(str, stuck))} (inverse temperatures {ladders}; swap rates "
        f"by neighbour pair over all chains {', '.join(f'{r:.2f}' for r in report['swap_rates'])}"
        "), so tempering carried nothing between modes there. A ladder whose rates stay "
        "near the target without round trips is split by a phase transition: "
        "split_merge=True can carry states across it; more n_temperatures, or a longer "
        "warm-up (tune), may.",
        ConvergenceWarning,
        stacklevel=4,
    )


def overlapping_components(means_draws, order_feature, prob=INTERVAL_PROB):
    """Neighbouring components whose central intervals overlap on the ordering feature.

    ``means_draws`` has shape (S, k, d). Returns a list of (c, lower_c, upper_c,
    lower_next, upper_next) for each overlapping pair (c, c + 1).
    """
    tail = (1 - prob) / 2
    lower, upper = np.quantile(means_draws[:, :, order_feature], [tail, 1 - tail], axis=0)
    return [
        (c, lower[c], upper[c], lower[c + 1], upper[c + 1])
        for c in range(len(lower) - 1)
        if upper[c] >= lower[c + 1]
    ]


def warn_if_order_does_not_separate(means_draws, order_feature, feature_name, fit):
    """Warn when the ordering restriction binds: then it no longer stops label switching."""
    overlaps = overlapping_components(means_draws, order_feature)
    if not overlaps:
        return
    pairs = "; ".join(
        f"components {c} and {c + 1}: [{lo:.3g}, {hi:.3g}] and [{lo_next:.3g}, {hi_next:.3g}]"
        for c, lo, hi, lo_next, hi_next in overlaps
    )
    warnings.warn(
        f"{fit}: the {INTERVAL_PROB:.0%} posterior intervals of the means overlap on the ordering "
        f"feature {feature_name!r} ({pairs}). The ordering then no longer prevents label "
        "switching, and per-component summaries mix components: fewer n_components may "
        "describe the data better.",
        ConvergenceWarning,
        stacklevel=4,
    )
