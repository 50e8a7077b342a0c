"""
Which points is the fit unsure of?
==================================

Three two-dimensional clusters, two of them overlapping. ``predict`` gives each point its
most probable component; ``predict_proba`` says how probable, averaged over the posterior
draws. :func:`~bayes_gmm.plotting.plot_mixture` fades each point by its uncertainty,
``1 - max predict_proba``, and :func:`~bayes_gmm.plotting.plot_uncertainty` shows how that
uncertainty is spread over the points and where along the data it lies.
"""

import matplotlib.pyplot as plt
import numpy as np

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm.plotting import plot_mixture, plot_uncertainty

rng = np.random.default_rng(1)
centers = np.array([[-2.0, 0.0], [1.0, 1.0], [5.0, -1.0]])
y = rng.integers(0, len(centers), 400)
X = centers[y] + rng.normal(size=(400, 2)) * [1.0, 0.8]

# Overlapping clusters trade points back and forth, so the chains need more draws than
# for well separated ones.
est = BayesianMCMCMixture(n_components=3, draws=1000, tune=1000, random_state=0).fit(X)

# %%
# The faint points lie between the two overlapping clusters.
plot_mixture(est)

# %%
# Most points belong to one component with near certainty; the ones between the
# overlapping clusters do not, and the scatter against the feature the means are ordered
# on shows where they sit.
fig, (ax_hist, ax_scatter) = plt.subplots(1, 2, figsize=(10, 4))
plot_uncertainty(est, ax=ax_hist)
plot_uncertainty(est, ax=ax_scatter, kind="scatter")
fig.tight_layout()

# %%
# New points get the same treatment: here a line from one overlapping cluster to the other.
X_new = np.linspace(centers[0], centers[1], 7)
print(np.column_stack([X_new, est.predict_proba(X_new)]).round(3))
plt.show()
