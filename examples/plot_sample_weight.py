"""
Counts instead of rows: sample weights
======================================

Measurements are rounded, and rounded data repeat themselves: the 2015 PyMC notebook's
500 points, rounded to 0.5, take 30 distinct values. ``fit(X, sample_weight=counts)``
fits the distinct values with their counts. A whole-number weight is that many
repetitions of the row, each with a category of its own, so the posterior is exactly the
one given every row, and the Gibbs sampler pays for the distinct rows only.
"""

import matplotlib.pyplot as plt
import numpy as np

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm.datasets import make_notebook_data

X, _ = make_notebook_data()
X = np.round(X * 2) / 2
values, counts = np.unique(X, axis=0, return_counts=True)
print(f"{X.shape[0]} rows, {values.shape[0]} distinct values")

fits = {}
for name, (data, weight) in {
    "every row": (X, None),
    "distinct values with counts": (values, counts),
}.items():
    fits[name] = BayesianMCMCMixture(3, random_state=0).fit(data, sample_weight=weight)

# %%
# The two fits sample one posterior: their means and sds agree within Monte Carlo error
# (here a few hundredths of a unit), and so do the weights.
for name, est in fits.items():
    posterior = est.sample_trace_.posterior
    means = posterior["means"].mean(("chain", "draw")).to_numpy().ravel()
    sds = posterior["means"].std(("chain", "draw")).to_numpy().ravel()
    print(
        f"{name:>28}: means {means.round(3)}, sds {sds.round(3)}, weights {est.weights_.round(3)}"
    )

# %%
# Each distinct value is labelled like the rows it stands for.
fig, ax = plt.subplots(figsize=(7, 3))
est = fits["distinct values with counts"]
ax.bar(values[:, 0], counts, width=0.4, color=plt.cm.tab10(est.labels_))
ax.set_xlabel("x (rounded to 0.5)")
ax.set_ylabel("count")
ax.set_title("distinct values, coloured by predicted cluster")
fig.tight_layout()
plt.show()

# %%
# A fractional weight raises a row's likelihood to that power. That is exact with
# ``sampler="nuts"``; the Gibbs sampler, whose categories stand for whole points, refuses
# it and says what to use instead.
try:
    BayesianMCMCMixture(3).fit(values, sample_weight=counts / 2)
except ValueError as error:
    print(error)
