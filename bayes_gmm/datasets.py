"""Data sets the documentation, the demo and the tests share."""

import numpy as np

SEED_CENTERS = np.array([-5.0, 0.0, 5.0])


def make_seed_data(n_samples=500, random_state=12345):
    """The seed notebook's data: unit-variance clusters at -5, 0 and 5.

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
    >>> from bayes_gmm.datasets import make_seed_data
    >>> X, y = make_seed_data()
    >>> X.shape, int(y[0]), round(float(X[0, 0]), 2)
    ((500, 1), 2, 3.29)
    """
    rng = np.random.RandomState(random_state)
    y = rng.randint(0, len(SEED_CENTERS), n_samples)
    X = SEED_CENTERS[y] + rng.randn(n_samples)
    return X[:, None], y
