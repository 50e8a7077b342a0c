"""
Scaling features in a pipeline
==============================

Two features on very different scales: an income of tens of thousands of dollars and a
rate of a few hundredths. ``covariance_type="tied_spherical"`` gives every feature the
same standard deviation, which only means something once the features share a scale.
A :class:`~sklearn.pipeline.Pipeline` puts a
:class:`~sklearn.preprocessing.StandardScaler` in front of
:class:`~bayes_gmm.BayesianMCMCMixture`, so ``fit``, ``predict`` and ``score`` take data in
its own units and the scaling travels with the model.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm.plotting import plot_mixture

rng = np.random.default_rng(0)
centers = np.array([[40_000, 0.02], [40_000, 0.06], [70_000, 0.04]])
y = rng.integers(0, len(centers), 300)
X = centers[y] + rng.normal(size=(300, 2)) * [6_000, 0.006]

pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        (
            "mixture",
            BayesianMCMCMixture(
                n_components=3,
                covariance_type="tied_spherical",
                draws=500,
                tune=500,
                random_state=0,
            ),
        ),
    ]
).fit(X)
labels = pipe.predict(X)
print("adjusted Rand index against the true clusters:", round(adjusted_rand_score(y, labels), 3))

# %%
# The posterior mean of the component means, mapped back to the data's units.
for c, (income, rate) in enumerate(pipe["scale"].inverse_transform(pipe["mixture"].means_)):
    print(f"component {c}: income {income:8.0f} dollars, rate {rate:.4f}")

# %%
# The data in its own units, coloured by the pipeline's prediction, and the fit in the
# standardised space the mixture sees, with the 1- and 2-sd ellipses of each component.
fig, (ax_raw, ax_scaled) = plt.subplots(1, 2, figsize=(10, 4))
ax_raw.scatter(X[:, 0], X[:, 1], c=[f"C{c}" for c in labels], s=12)
ax_raw.set_xlabel("income (dollars)")
ax_raw.set_ylabel("rate")
ax_raw.set_title("data units")
plot_mixture(pipe["mixture"], pipe["scale"].transform(X), ax=ax_scaled)
ax_scaled.set_title("standardised")
fig.tight_layout()
plt.show()
