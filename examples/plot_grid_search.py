"""
Choosing the number of components by cross-validation
=====================================================

:class:`~bayes_gmm.BayesianMCMCMixture` has ``score``, the mean log posterior predictive
density, so :class:`~sklearn.model_selection.GridSearchCV` can pick ``n_components`` by
how well each fit predicts held-out points. On the 2015 PyMC notebook's data, three clusters at
-5, 0 and 5, the score climbs to three components and is flat after: more components only
split clusters without predicting new points any better.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm.datasets import make_notebook_data
from bayes_gmm.plotting import plot_mixture

X, y = make_notebook_data()

# %%
# Short chains are enough to rank the candidates. Candidates with the wrong number of
# components mix badly (two components must share three clusters, five must split them)
# and say so in a ``ConvergenceWarning``; the held-out score is what judges them here, so
# those warnings are silenced during the search.
search = GridSearchCV(
    BayesianMCMCMixture(draws=300, tune=300, random_state=0),
    {"n_components": [1, 2, 3, 4, 5]},
    cv=3,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X)
print("best:", search.best_params_)

# %%
# Mean held-out log predictive density per point, with its spread over the three folds.
results = search.cv_results_
k = np.asarray(results["param_n_components"], dtype=int)
fig, ax = plt.subplots()
ax.errorbar(k, results["mean_test_score"], yerr=results["std_test_score"], marker="o", capsize=4)
ax.set_xticks(k)
ax.set_xlabel("n_components")
ax.set_ylabel("mean test score (log predictive density)")

# %%
# The refitted best estimator over the data.
plot_mixture(search.best_estimator_)
plt.show()
