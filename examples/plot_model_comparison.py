"""
Choosing the number of components: held-out score, LOO and BIC
==============================================================

Three ways to compare mixtures with k = 1 to 6 components on the 2015 PyMC notebook's data: the
mean log posterior predictive density of held-out points (what ``score`` and
``GridSearchCV`` use), Pareto-smoothed leave-one-out cross-validation (``loo``, fully
Bayesian, from one fit per k) and the plug-in BIC (``bic``, for comparison with
scikit-learn's ``GaussianMixture``).
"""

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import train_test_split

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm.datasets import make_notebook_data

X, _ = make_notebook_data()
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)

rows = []
for k in range(1, 7):
    est = BayesianMCMCMixture(n_components=k, draws=500, tune=500, random_state=0).fit(X_train)
    loo = est.loo()
    rows.append(
        {
            "k": k,
            "held-out score": est.score(X_test),
            "elpd_loo": loo.elpd_loo,
            "elpd_loo se": loo.se,
            "BIC": est.bic(X_train),
        }
    )
table = pd.DataFrame(rows).set_index("k")
print(table.round(2))

# %%
# All three rise sharply up to k = 3. Beyond it the held-out score and LOO stay flat within
# their noise: the extra components, forced to hold at least 10% of the weight, split a
# cluster and leave the predictive density almost unchanged. BIC's penalty for the extra
# parameters makes its minimum at k = 3 clear.
fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
axes[0].plot(table.index, table["held-out score"], "o-")
axes[0].set_ylabel("mean log predictive density (test)")
axes[1].errorbar(table.index, table["elpd_loo"], yerr=table["elpd_loo se"], fmt="o-")
axes[1].set_ylabel("elpd LOO (train)")
axes[2].plot(table.index, table["BIC"], "o-")
axes[2].set_ylabel("BIC (train, lower is better)")
for ax in axes:
    ax.set_xlabel("n_components")
fig.tight_layout()
plt.show()
