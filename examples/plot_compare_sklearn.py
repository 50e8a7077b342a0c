"""
Compared with scikit-learn's mixtures
=====================================

The same two-dimensional data fitted three ways, each with one variance per component and
feature: :class:`sklearn.mixture.GaussianMixture` (maximum likelihood by EM),
:class:`sklearn.mixture.BayesianGaussianMixture` (variational Bayes) and
:class:`~bayes_gmm.BayesianMCMCMixture` (exact MCMC). The three agree on the predictions
and the means. What only the MCMC fit gives is the posterior itself: an interval for every
parameter, from the draws in ``sample_trace_``.
"""

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture

from bayes_gmm import BayesianMCMCMixture

rng = np.random.default_rng(2)
centers = np.array([[-3.0, 0.0], [0.0, 2.5], [3.0, -1.0]])
y = rng.integers(0, len(centers), 300)
X = centers[y] + rng.normal(size=(300, 2)) * [1.0, 0.7]

models = {
    "GaussianMixture": GaussianMixture(3, covariance_type="diag", random_state=0),
    "BayesianGaussianMixture": BayesianGaussianMixture(
        n_components=3, covariance_type="diag", random_state=0
    ),
    "BayesianMCMCMixture": BayesianMCMCMixture(
        3, covariance_type="diag", draws=1000, tune=1000, random_state=0
    ),
}
for model in models.values():
    model.fit(X)
mcmc = models["BayesianMCMCMixture"]

# %%
# scikit-learn numbers its components in no particular order; the MCMC fit orders them on
# ``order_feature_``. Relabelling the others in that order makes the fits comparable.
a = mcmc.order_feature_
rank = {name: np.argsort(np.argsort(model.means_[:, a])) for name, model in models.items()}
means = {name: model.means_[np.argsort(model.means_[:, a])] for name, model in models.items()}
labels = {name: rank[name][model.predict(X)] for name, model in models.items()}

for name in models:
    agreement = np.mean(labels[name] == labels["BayesianMCMCMixture"])
    print(
        f"{name:>23}: ARI vs truth {adjusted_rand_score(y, labels[name]):.3f}, "
        f"same label as MCMC for {agreement:.1%} of points, means\n{means[name].round(3)}"
    )

# %%
# Predictions side by side, with each fit's means as crosses.
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharex=True, sharey=True)
for ax, name in zip(axes, models, strict=True):
    ax.scatter(X[:, 0], X[:, 1], c=[f"C{c}" for c in labels[name]], s=10)
    ax.scatter(*means[name].T, marker="x", s=100, color="black")
    ax.set_title(name)
    ax.set_xlabel("feature 0")
axes[0].set_ylabel("feature 1")
fig.tight_layout()

# %%
# Only the MCMC fit
# -----------------
# The posterior of every component mean: its 94% highest-density interval from the draws,
# drawn as an offset from the posterior mean, with the two scikit-learn point estimates
# at the same offset. Both fall well inside the intervals. (BayesianGaussianMixture is
# Bayesian too, but its posterior is a variational approximation and scikit-learn reports
# point estimates of it.)
hdi = az.hdi(mcmc.sample_trace_, var_names=["means"], hdi_prob=0.94)["means"].to_numpy()
component = np.arange(3)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True, layout="constrained")
for j, ax in enumerate(axes):
    center = mcmc.means_[:, j]
    ax.errorbar(
        component,
        np.zeros(3),
        yerr=np.abs(hdi[:, j].T - center),
        fmt="o",
        capsize=6,
        label="BayesianMCMCMixture: 94% HDI",
    )
    for offset, name, marker in (
        (0.15, "GaussianMixture", "s"),
        (0.3, "BayesianGaussianMixture", "^"),
    ):
        ax.plot(component + offset, means[name][:, j] - center, marker, label=name)
    ax.axhline(0, color="0.7", linewidth=0.8)
    ax.set_xticks(component)
    ax.set_xlabel("component")
    ax.set_title(f"feature {j}")
axes[0].set_ylabel("mean minus MCMC posterior mean")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3)

# %%
# The same for the weights, as a table.
print(az.summary(mcmc.sample_trace_, var_names=["weights"], kind="stats", hdi_prob=0.94))
plt.show()
