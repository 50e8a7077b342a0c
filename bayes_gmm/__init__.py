"""Bayesian Gaussian mixtures fitted by exact MCMC, as a scikit-learn estimator."""

from ._estimator import BayesianMCMCMixture

__version__ = "0.1.0"

__all__ = ["BayesianMCMCMixture", "__version__"]
