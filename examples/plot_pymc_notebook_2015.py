"""
The 2015 PyMC mixture notebook, reproduced
==========================================

The classic notebook simulates 500 points from three unit-variance clusters at -5, 0 and 5,
fits a mixture with Dirichlet weights kept above 0.1, ordered means and one shared standard
deviation, and looks at the traces, the autocorrelation of the standard deviation, the
sampled category of one point and that point's cluster posterior. Here the same model is
fitted by :class:`~bayes_gmm.BayesianMCMCMixture` with the notebook's priors, and each of
the notebook's figures is one call to :mod:`bayes_gmm.plotting`.
"""

import arviz as az
import matplotlib.pyplot as plt
import numpy as np

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm.datasets import make_notebook_data
from bayes_gmm.plotting import (
    plot_autocorr,
    plot_category_trace,
    plot_cluster_posterior,
    plot_mixture,
    plot_trace,
)

X, y = make_notebook_data()
fig, ax = plt.subplots()
ax.hist(X[:, 0], bins=40)
ax.set_xlabel("data value")

# %%
# The notebook's priors: Normal(0, 15) means, Uniform(0, 20) standard deviation.
est = BayesianMCMCMixture(
    n_components=3, mean_prior_loc=0, mean_prior_scale=15, sd_lower=0, sd_upper=20, random_state=0
).fit(X)
print(az.summary(est.sample_trace_, var_names=["weights", "means", "sigma"]).to_string())

# %%
# Full trace
# ----------
# Traces of the weights, the means and the standard deviation.
#
# The notebook drew a second trace plot "after convergence", with the first 5000 draws
# dropped. It is not needed here: the ``tune`` warm-up iterations are discarded by the
# fit, so every draw in ``sample_trace_`` is already a kept one.
plot_trace(est)
plt.tight_layout()

# %%
# Autocorrelation of the standard deviation
# -----------------------------------------
# The exact Gibbs sweep decorrelates at once, where the notebook's Metropolis step needed
# thinning by 5.
plot_autocorr(est)

# %%
# The cluster of one data point
# -----------------------------
# The sampled category of point 0 over the draws of the first chain.
i = 0
plot_category_trace(est, i)

# %%
# That point's cluster posterior: the share of draws in each category, as the notebook's
# histogram, next to ``predict_proba``, the same probabilities averaged over the draws of
# the other parameters, without the Monte Carlo noise of the sampled categories.
print("true cluster:", y[i])
print("  data value:", np.round(X[i, 0], 2))
plot_cluster_posterior(est, i)

# %%
# What the notebook did not show
# ------------------------------
# The fitted mixture over the data: the posterior predictive density with a 94% pointwise
# band across the draws.
plot_mixture(est)
plt.show()
