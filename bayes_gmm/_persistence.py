"""Saving a fit as netCDF and reading it back, without pickle.

The file is the fit's InferenceData; what the estimator needs besides (its parameters, the
resolved model and the library versions) travels as JSON strings in the posterior group's
attributes. Reading parses JSON and arrays only, so a file from a stranger cannot run code.
"""

import json
import warnings
from importlib.metadata import version

import numpy as np

from ._lazy import az

FORMAT = "bayes_gmm.BayesianMCMCMixture"
# Version 2 added the full covariance types; a version-1 file (diagonal types only) has the
# same layout for them, so both are read.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


def library_versions():
    """Versions of the libraries a saved fit depends on.

    From the installed distributions' metadata: reading a file must not import PyMC.
    """
    from . import __version__

    return {
        "bayes_gmm": __version__,
        **{name: version(name) for name in ("pymc", "arviz", "scikit-learn")},
    }


def _json_param(value):
    # GridSearchCV hands out numpy scalars (np.int64 from np.arange grids).
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, np.random.RandomState):
        # A generator's state is no parameter one can save meaningfully; a reloaded
        # estimator refits with fresh randomness.
        return None
    return value


def save_fit(trace, path, params, spec, feature_names_in):
    """Write ``trace`` to ``path`` with the metadata :func:`load_fit` needs."""
    metadata = {
        "bayes_gmm_format": FORMAT,
        "bayes_gmm_format_version": FORMAT_VERSION,
        "bayes_gmm_params": json.dumps({k: _json_param(v) for k, v in params.items()}),
        "bayes_gmm_spec": json.dumps(spec.to_dict()),
        "bayes_gmm_feature_names_in": json.dumps(
            None if feature_names_in is None else [str(f) for f in feature_names_in]
        ),
        "bayes_gmm_versions": json.dumps(library_versions()),
    }
    # Shallow copies: the fitted trace keeps its own attributes.
    groups = {name: trace[name].copy() for name in trace.groups()}
    groups["posterior"].attrs = {**groups["posterior"].attrs, **metadata}
    az.InferenceData(**groups).to_netcdf(str(path))


def load_fit(path):
    """Read a file written by :func:`save_fit`: (trace, params, spec dict, feature names).

    Raises ValueError for a file that is not readable netCDF or not one of ours, and
    warns when it was written with other library versions.
    """
    try:
        trace = az.from_netcdf(str(path))
    except FileNotFoundError:
        raise
    except Exception as error:  # h5py, netCDF and xarray raise a zoo of types
        raise ValueError(
            f"{str(path)!r} is not a readable netCDF file of a BayesianMCMCMixture fit "
            f"({type(error).__name__}: {error})"
        ) from error
    attrs = trace.posterior.attrs if "posterior" in trace.groups() else {}
    if attrs.get("bayes_gmm_format") != FORMAT:
        raise ValueError(
            f"{str(path)!r} is a netCDF file, but not one written by "
            "BayesianMCMCMixture.save (its posterior group has no bayes_gmm_format "
            f"attribute equal to {FORMAT!r})."
        )
    if int(attrs.get("bayes_gmm_format_version", -1)) not in READABLE_VERSIONS:
        raise ValueError(
            f"{str(path)!r} has format version {attrs.get('bayes_gmm_format_version')}; "
            f"this bayes_gmm reads versions {', '.join(map(str, READABLE_VERSIONS))}."
        )
    try:
        params = json.loads(attrs["bayes_gmm_params"])
        spec = json.loads(attrs["bayes_gmm_spec"])
        feature_names = json.loads(attrs["bayes_gmm_feature_names_in"])
        saved_versions = json.loads(attrs["bayes_gmm_versions"])
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{str(path)!r} has damaged bayes_gmm metadata: {error!r}") from error
    _warn_on_version_mismatch(path, saved_versions)
    for name in list(attrs):
        if name.startswith("bayes_gmm_"):
            del attrs[name]
    return trace, params, spec, feature_names


def _warn_on_version_mismatch(path, saved):
    current = library_versions()
    differ = {
        name: (saved.get(name), version)
        for name, version in current.items()
        if saved.get(name) != version
    }
    if differ:
        listing = ", ".join(f"{n} {old} (now {new})" for n, (old, new) in differ.items())
        warnings.warn(
            f"{str(path)!r} was saved with {listing}; the fit is loaded as saved, but "
            "refit if results must match this environment exactly.",
            UserWarning,
            stacklevel=4,
        )
