import numpy as np
import pytest

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._demo import NOTEBOOK_PRIORS
from bayes_gmm.datasets import make_notebook_data


@pytest.fixture(scope="session")
def seed_data():
    return make_notebook_data()


@pytest.fixture(scope="session")
def seed_fit(seed_data):
    """The seed model with the notebook's priors and default sampler settings, fitted once."""
    X, _ = seed_data
    return BayesianMCMCMixture(n_components=3, random_state=0, **NOTEBOOK_PRIORS).fit(X)


@pytest.fixture(scope="session")
def blobs_2d():
    """Three well separated 2-D clusters with different spreads per feature."""
    rng = np.random.default_rng(0)
    centers = np.array([[-6.0, 0.0], [0.0, 4.0], [6.0, -2.0]])
    labels = rng.integers(0, 3, 300)
    X = centers[labels] + rng.normal(size=(300, 2)) * [1.0, 0.5]
    return X, labels
