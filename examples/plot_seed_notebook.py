"""
The 2015 PyMC mixture notebook, reproduced
==========================================

The classic notebook simulates 500 points from three unit-variance clusters at -5, 0 and 5,
fits a mixture with Dirichlet weights kept above 0.1, ordered means and one shared standard
deviation, and looks at the traces, the autocorrelation of the standard deviation, the
sampled category of one point and that point's cluster posterior. Here the same model is
fitted by :class:`~bayes_gmm.BayesianMCMCMixture` with the notebook's priors.
"""

import arviz as az
import matplotlib.pyplot as plt
import numpy as np

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm.datasets import make_seed_data

X, y = make_seed_data()
fig, ax = plt.subplots()
ax.hist(X[:, 0], bins=40)
ax.set_xlabel("data value")

# %%
# The notebook's priors: Normal(0, 15) means, Uniform(0, 20) standard deviation.
est = BayesianMCMCMixture(
    n_components=3, mean_prior_loc=0, mean_prior_scale=15, sd_lower=0, sd_upper=20, random_state=0
).fit(X)
trace = est.sample_trace_
print(az.summary(trace, var_names=["weights", "means", "sigma"]))

# %%
# Traces of the weights, the standard deviation and the means.
az.plot_trace(trace, var_names=["weights", "sigma", "means"])

# %%
# Autocorrelation of the standard deviation: the exact Gibbs sweep decorrelates at once.
az.plot_autocorr(trace, var_names=["sigma"], combined=True)

# %%
# The sampled category of point 0 over the draws of the first chain.
i = 0
category = trace.posterior["category"].sel(sample=i)
fig, ax = plt.subplots()
ax.plot(category.sel(chain=0).to_numpy(), drawstyle="steps-mid")
ax.set_ylim(-0.1, 2.1)
ax.set_xlabel("draw")
ax.set_ylabel(f"category of point {i}")

# %%
# That point's cluster posterior: the share of draws in each category.
print("true cluster:", y[i])
print("  data value:", np.round(X[i, 0], 2))
fig, ax = plt.subplots()
ax.hist(category.to_numpy().ravel(), bins=[-0.5, 0.5, 1.5, 2.5], rwidth=0.9)
ax.set_xticks([0, 1, 2])
ax.set_xlabel("category")
plt.show()
