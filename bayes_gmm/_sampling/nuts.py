"""NUTS on the marginalised model, through PyMC or an optional backend.

Optional backends are looked up, not imported, before sampling: PyMC imports them itself,
and must do so first. Importing blackjax or numpyro imports JAX, which fixes its number
of CPU devices on first use; PyMC sets that number (one device per chain) only when it
imports its JAX module, and a JAX started earlier has one device, too few for two chains.
A missing backend raises an ImportError that names the extra to install.
"""

import contextlib
import importlib.metadata
import importlib.util

# nuts_sampler value -> (module PyMC needs, bayes_gmm extra that installs it)
BACKENDS = {
    "pymc": None,
    "nutpie": ("nutpie", "nutpie"),
    "numpyro": ("numpyro", "jax"),
    "blackjax": ("blackjax", "jax"),
}


def check_nuts_backend(nuts_sampler):
    """Fail now, with the install line, if the backend's package is not installed."""
    requirement = BACKENDS[nuts_sampler]
    if requirement is None:
        return
    module, extra = requirement
    if importlib.util.find_spec(module) is None:
        raise ImportError(
            f"nuts_sampler={nuts_sampler!r} needs the {module!r} package, which is not "
            f'installed: pip install "bayes_gmm[{extra}]"'
        )


@contextlib.contextmanager
def explain_backend_failure(nuts_sampler):
    """Name the known incompatibility when PyMC cannot drive the installed blackjax.

    blackjax 1.6 dropped the ``progress_bar`` argument that PyMC 5.28 passes (PyMC issue
    8367); the ``jax`` extra pins blackjax below 1.6, but another install may bring a
    newer one.
    """
    try:
        yield
    except TypeError as error:
        if nuts_sampler != "blackjax" or "progress_bar" not in str(error):
            raise
        version = importlib.metadata.version("blackjax")
        raise ImportError(
            f"this PyMC cannot drive the installed blackjax {version} ({error}); "
            'install a version it can: pip install "blackjax<1.6", or "bayes_gmm[jax]"'
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
    for name in ("noise_weight", "degrees_of_freedom"):
        if name in initvals:
            values[name] = initvals[name]
    if k > 1:
        values["weights_simplex"] = (initvals["weights"] - m) / (1 - k * m)
    others = [j for j in range(spec.n_features) if j != a]
    if others:
        values["means_other"] = means[:, others]
    return values
