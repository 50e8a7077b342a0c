"""The 2015 PyMC notebook's scheme: Metropolis on the parameters, Gibbs on the categories.

Kept for fidelity and comparison: it is the notebook's sampler on PyMC 5, where its
``ElemwiseCategoricalStep`` became ``CategoricalGibbsMetropolis``; and it is slow: about a
thousandth of the Gibbs sampler's effective samples per second on the notebook's 500 points
(the benchmark table in ``benchmarks/README.md``). The categories use that step's
default uniform proposals: its ``"proportional"`` proposals divide by 1 - p(current), which
is 0 for a point certain of its cluster, and PyMC 5.28 then fails ("Probabilities do not
sum to 1") on the notebook's well separated data.
"""

import pymc as pm


def metropolis_steps(model, parameter_names):
    """``pm.Metropolis`` on the parameters, categorical Gibbs on the categories."""
    return [
        pm.Metropolis(vars=[model[name] for name in parameter_names]),
        pm.CategoricalGibbsMetropolis(vars=[model["category"]]),
    ]
