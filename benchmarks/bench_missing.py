"""Missing values: clusters recovered from incomplete real data, and prediction's cost.

Run: ``python benchmarks/bench_missing.py [--masks 3] [--n-predict 1000000]``. Iris and
wine come with scikit-learn.

Two tables, everything in this one process:

- **Recovery.** Wine (standardised, k = 3, 20% of entries removed completely at random)
  and iris (k = 3, ``covariance_type="full"``, 30% removed), each with ``--masks``
  random masks: the adjusted Rand index against the cultivars or species of
  ``BayesianMCMCMixture`` at its defaults given the NaN, beside
  ``IterativeImputer`` + ``GaussianMixture`` (five initialisations) of the same
  covariance type, and the fit's max R-hat and time. The complete data's ARI is the
  first row of each.
- **Prediction.** ``predict_proba`` on ``--n-predict`` rows of three features, with 20% of
  their entries missing and with none, by one full-covariance fit: the time of each and
  their ratio, measured side by side.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_iris, load_wine
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

from bayes_gmm import BayesianMCMCMixture

# The nearest scikit-learn covariance type of each of ours that the table uses.
_SKLEARN = {"tied_diag": "tied", "full": "full"}


def _recovery(name, X, truth, covariance_type, fraction, masks):
    params = {"n_components": 3, "covariance_type": covariance_type, "random_state": 0}
    est = BayesianMCMCMixture(**params).fit(X)
    print(f"{name:<6}{'complete':>10}{adjusted_rand_score(truth, est.labels_):>9.3f}")
    for mask in range(masks):
        rng = np.random.default_rng(mask)
        removed = rng.random(X.shape) < fraction
        removed[removed.all(axis=1), 0] = False  # a row keeps an entry: MCAR still
        X_missing = np.where(removed, np.nan, X)
        start = time.perf_counter()
        est = BayesianMCMCMixture(**params).fit(X_missing)
        seconds = time.perf_counter() - start
        ours = adjusted_rand_score(truth, est.predict(X_missing))
        completed = IterativeImputer(random_state=0, max_iter=20).fit_transform(X_missing)
        mixture = GaussianMixture(3, covariance_type=_SKLEARN[covariance_type], n_init=5)
        theirs = adjusted_rand_score(
            truth, mixture.set_params(random_state=0).fit_predict(completed)
        )
        print(
            f"{name:<6}{f'mask {mask}':>10}{ours:>9.3f}{theirs:>12.3f}"
            f"{est.convergence_['max_r_hat']:>9.3f}{seconds:>9.1f}"
        )


def _prediction(n_rows):
    rng = np.random.default_rng(0)
    centers = np.array([[-4.0, 0.0, 1.0], [0.0, 3.0, -1.0], [4.0, 0.0, 0.0]])
    X = centers[rng.choice(3, size=n_rows)] + rng.normal(size=(n_rows, 3))
    est = BayesianMCMCMixture(3, covariance_type="full", random_state=0).fit(X[:2000])
    removed = rng.random(X.shape) < 0.2
    removed[removed.all(axis=1), 0] = False
    X_missing = np.where(removed, np.nan, X)
    times = {}
    for name, data in {"complete": X, "20% missing": X_missing}.items():
        est.predict_proba(data[:1000])  # warm the threads
        start = time.perf_counter()
        est.predict_proba(data)
        times[name] = time.perf_counter() - start
        print(f"predict_proba, {n_rows} rows, {name:<12}{times[name]:>8.2f} s")
    print(f"ratio missing / complete: {times['20% missing'] / times['complete']:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--masks", type=int, default=3)
    parser.add_argument("--n-predict", type=int, default=1_000_000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'data':<6}{'':>10}{'ARI':>9}{'imputed+GM':>12}{'R-hat':>9}{'seconds':>9}")
    wine, cultivar = load_wine(return_X_y=True)
    _recovery("wine", StandardScaler().fit_transform(wine), cultivar, "tied_diag", 0.2, args.masks)
    iris, species = load_iris(return_X_y=True)
    _recovery("iris", iris, species, "full", 0.3, args.masks)
    _prediction(args.n_predict)


if __name__ == "__main__":
    main()
