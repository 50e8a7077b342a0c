"""How long the chains run, and which sampler options apply: from the estimator's parameters.

``n_temperatures="auto"`` and ``split_merge="auto"`` start plain, and are switched on
(``AUTO_TEMPERATURES`` replicas; the moves) for a second run where the first run's chains
sit in different modes.

``params`` is the estimator's ``get_params()``. ``draws="auto"`` runs ``AUTO_DRAWS`` per chain
first, and the Gibbs chains may be continued up to ``max_draws`` (``AUTO_MAX_DRAWS`` by
default); the other samplers would have to tune their step sizes again to continue.
"""

# draws="auto": the first run's draws per chain, and the default budget it may grow to.
# Measured at 8000: iris with "diag" (the slowest mixing of the real data sets whose
# chains agree) reaches R-hat 1.001 and bulk ESS 512, where 1000 draws give ESS 90.
AUTO_DRAWS = 1000
AUTO_MAX_DRAWS = 8000
# n_temperatures="auto" where switched on.
AUTO_TEMPERATURES = 4


def check_sampler_options(params):
    """Refuse, naming the parameter, options that the chosen sampler would ignore."""
    sampler = params["sampler"]
    if params["max_draws"] is not None and (params["draws"] != "auto" or sampler != "gibbs"):
        raise ValueError(
            f"max_draws={params['max_draws']} applies only with draws='auto' and "
            f"sampler='gibbs' (got draws={params['draws']!r}, sampler={sampler!r}): "
            "the chains of the other samplers are not continued."
        )
    if params["n_temperatures"] != "auto" and params["n_temperatures"] > 1 and sampler != "gibbs":
        raise ValueError(
            f"n_temperatures={params['n_temperatures']} tempers the Gibbs sampler only "
            f"(got sampler={sampler!r}): use sampler='gibbs', or n_temperatures=1."
        )
    if params["noise_component"] is not False and sampler == "metropolis":
        raise ValueError(
            f"noise_component={params['noise_component']!r} is not available with "
            "sampler='metropolis', the 2015 PyMC notebook's scheme kept for fidelity to "
            "it: use sampler='gibbs' or 'nuts'."
        )
    if params["distribution"] == "student_t":
        _check_student_t(params)
    if params["split_merge"] is True and sampler != "gibbs":
        raise ValueError(
            f"split_merge=True adds moves to the Gibbs sampler only (got "
            f"sampler={sampler!r}): use sampler='gibbs', or split_merge=False."
        )


def _check_student_t(params):
    """Refuse what t components cannot take yet, naming the parameter."""
    refused = {
        "sampler": params["sampler"] == "metropolis",
        "split_merge": params["split_merge"] is True,
    }
    for name, value in refused.items():
        if value:
            raise ValueError(
                f"{name}={params[name]!r} cannot be combined with distribution='student_t' "
                "yet: its updates take Gaussian components. Leave it at its default."
            )


def draw_budget(params):
    """Draws per chain of the first run, and the most that draws="auto" may reach."""
    draws = params["draws"]
    if draws != "auto":
        return draws, draws
    if params["sampler"] != "gibbs":
        return AUTO_DRAWS, AUTO_DRAWS
    max_draws = AUTO_MAX_DRAWS if params["max_draws"] is None else params["max_draws"]
    return min(AUTO_DRAWS, max_draws), max_draws


def resolved_tune(params):
    """Warm-up iterations per chain: ``tune``, or for "auto" a fifth of the first run's
    draws with Gibbs and 1000 with the samplers that tune their step sizes."""
    if params["tune"] != "auto":
        return params["tune"]
    if params["sampler"] != "gibbs":
        return 1000
    first_draws = draw_budget(params)[0]
    # A sparse fit starts with every component occupied, and emptying the superfluous
    # ones takes longer than forgetting a start.
    return first_draws if params["weight_concentration"] == "sparse" else first_draws // 5


def first_run_crossing(params):
    """``n_temperatures`` and ``split_merge`` of the first run: "auto" starts plain."""
    return {
        "n_temperatures": 1 if params["n_temperatures"] == "auto" else params["n_temperatures"],
        "split_merge": params["split_merge"] is True,
    }


def crossing_tools(params, weighted=False, missing=False):
    """The mode-crossing options the Gibbs sampler takes for this fit: "n_temperatures"
    and "split_merge". ``weighted`` fits have no split-merge moves (they reassign one
    category per row); t components have none either, and tempering only on complete
    (not ``missing``), unweighted rows."""
    student_t = params["distribution"] == "student_t"
    tools = []
    if not (student_t and (weighted or missing)):
        tools.append("n_temperatures")
    if not (weighted or student_t):
        tools.append("split_merge")
    return tools


def auto_crossing(params, weighted=False, missing=False):
    """The settings that "auto" switches on where the chains sit in different modes, or
    None where nothing is "auto" or the sampler has neither tool (see
    :func:`crossing_tools`)."""
    if params["sampler"] != "gibbs":
        return None
    available = crossing_tools(params, weighted, missing)
    tools = {}
    if params["n_temperatures"] == "auto" and "n_temperatures" in available:
        tools["n_temperatures"] = AUTO_TEMPERATURES
    if params["split_merge"] == "auto" and "split_merge" in available:
        tools["split_merge"] = True
    return tools or None
