"""Data sets the documentation, the demo and the tests share."""

import warnings

import numpy as np

NOTEBOOK_CENTERS = np.array([-5.0, 0.0, 5.0])


def make_notebook_data(n_samples=500, random_state=12345):
    """The 2015 PyMC mixture notebook's data: unit-variance clusters at -5, 0 and 5.

    With the defaults this is exactly the notebook's draw (``np.random.seed(12345)``,
    ``randint`` for the clusters, then ``randn`` for the noise).

    Parameters
    ----------
    n_samples : int, default=500
        Number of points.
    random_state : int, default=12345
        Seed of the legacy ``RandomState`` stream the notebook used.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
        The data values.
    y : ndarray of shape (n_samples,)
        The true cluster of each point, 0, 1 or 2 from left to right.

    Examples
    --------
    >>> from bayes_gmm.datasets import make_notebook_data
    >>> X, y = make_notebook_data()
    >>> X.shape, int(y[0]), round(float(X[0, 0]), 2)
    ((500, 1), 2, 3.29)
    """
    rng = np.random.RandomState(random_state)
    y = rng.randint(0, len(NOTEBOOK_CENTERS), n_samples)
    X = NOTEBOOK_CENTERS[y] + rng.randn(n_samples)
    return X[:, None], y


# Names of version 0.1.0, kept working with a FutureWarning.
_DEPRECATED = {"make_seed_data": "make_notebook_data", "SEED_CENTERS": "NOTEBOOK_CENTERS"}


def __getattr__(name):
    if name in _DEPRECATED:
        new = _DEPRECATED[name]
        warnings.warn(
            f"bayes_gmm.datasets.{name} is deprecated since 0.2.0 and will be removed in "
            f"0.3.0; use {new}, the same object under a clearer name.",
            FutureWarning,
            stacklevel=2,
        )
        return globals()[new]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
