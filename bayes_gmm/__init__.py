"""Bayesian Gaussian mixtures fitted by exact MCMC, as a scikit-learn estimator."""

from ._estimator import BayesianMCMCMixture

__version__ = "0.2.0.dev0"

__all__ = ["BayesianMCMCMixture", "__version__"]
