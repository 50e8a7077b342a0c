"""
Which fits of a search mixed badly?
===================================

A grid search fits many models, and each fit's ``convergence_`` says how well its chains
mixed: the largest R-hat, the smallest bulk and tail ESS, the parameter that mixes worst,
and whether every threshold was met. Scorers that read it put those numbers into
``cv_results_`` beside the held-out score, so the worst fits can be found in a table
instead of in a stream of warnings. Here on iris, with full covariance matrices and 1 to
5 components, 3 shuffled folds (iris is sorted by species).
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold

from bayes_gmm import BayesianMCMCMixture

X, _ = load_iris(return_X_y=True)


def convergence(name):
    """A scorer that reports ``convergence_[name]`` of the fit on the training folds."""

    def scorer(estimator, X, y=None):
        value = estimator.convergence_[name]
        return np.nan if value is None else float(value)

    return scorer


scoring = {
    "score": lambda estimator, X, y=None: estimator.score(X),
    "max_r_hat": convergence("max_r_hat"),
    "min_ess_bulk": convergence("min_ess_bulk"),
    "converged": convergence("converged"),
}
search = GridSearchCV(
    BayesianMCMCMixture(covariance_type="full", draws=500, tune=500, random_state=0),
    {"n_components": [1, 2, 3, 4, 5]},
    scoring=scoring,
    refit="score",
    cv=KFold(3, shuffle=True, random_state=0),
)
# The warnings name each fit; the table below says the same, so they are silenced here.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X)

# %%
# One row per candidate: the held-out score, the worst R-hat and ESS over its folds, and
# the share of its folds whose fit met every threshold. Sorting by R-hat puts the fits to
# look at first on top.
results = pd.DataFrame(search.cv_results_)
table = pd.DataFrame(
    {
        "n_components": results["param_n_components"],
        "held-out score": results["mean_test_score"],
        "worst max R-hat": results[[f"split{i}_test_max_r_hat" for i in range(3)]].max(axis=1),
        "worst min ESS": results[[f"split{i}_test_min_ess_bulk" for i in range(3)]].min(axis=1),
        "folds converged": results["mean_test_converged"],
    }
).sort_values("worst max R-hat", ascending=False)
print(table.round(3).to_string(index=False))
print(
    "refitted:", search.best_params_, "converged:", search.best_estimator_.convergence_["converged"]
)
print("worst parameter of the refit:", search.best_estimator_.convergence_["worst_parameter"])

# %%
# The held-out score against the worst R-hat of each candidate.
fig, ax = plt.subplots()
ax.scatter(table["worst max R-hat"], table["held-out score"])
for _, row in table.iterrows():
    ax.annotate(f"k={row['n_components']}", (row["worst max R-hat"], row["held-out score"]))
ax.axvline(1.01, color="0.5", linestyle="--", label="R-hat threshold 1.01")
ax.set_xlabel("worst max R-hat over the folds")
ax.set_ylabel("mean held-out log predictive density")
ax.legend()
plt.show()
