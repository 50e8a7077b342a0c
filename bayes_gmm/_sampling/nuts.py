"""NUTS on the marginalised model, through PyMC or an optional backend.

Optional backends are imported only when asked for, and a missing one raises an
ImportError that names the extra to install.
"""

import importlib

# nuts_sampler value -> (module PyMC needs, bayes_gmm extra that installs it)
BACKENDS = {
    "pymc": None,
    "nutpie": ("nutpie", "nutpie"),
    "numpyro": ("numpyro", "jax"),
    "blackjax": ("blackjax", "jax"),
}


def check_nuts_backend(nuts_sampler):
    """Import the backend's package now, so a missing one fails with the install line."""
    requirement = BACKENDS[nuts_sampler]
    if requirement is None:
        return
    module, extra = requirement
    try:
        importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"nuts_sampler={nuts_sampler!r} needs the {module!r} package, which is not "
            f'installed: pip install "bayes_gmm[{extra}]"'
        ) from error


def marginal_initvals(initvals, spec):
    """Map a latent-model starting point onto the marginalised model's free variables."""
    k, m, a = spec.n_components, spec.min_weight, spec.order_feature
    means = initvals["means"]
    covariance = spec.covariance
    values = {
        "means_ordered": means[:, a],
        **covariance.marginal_initvals(initvals[covariance.trace_name]),
    }
    if k > 1:
        values["weights_simplex"] = (initvals["weights"] - m) / (1 - k * m)
    others = [j for j in range(spec.n_features) if j != a]
    if others:
        values["means_other"] = means[:, others]
    return values
