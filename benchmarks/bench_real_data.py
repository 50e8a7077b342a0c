"""Real data sets with known classes: every covariance type against scikit-learn.

Run: ``python benchmarks/bench_real_data.py [--datasets iris wine] [--types full diag]``.

For each data set (iris; wine, standardised) and each covariance type, one fit at the
estimator's defaults (3 components, 2 chains x (1000 tune + 1000 draws), random_state=0)
in this process, after a warm-up fit that pays the one-off compilation. Prints the
adjusted Rand index of ``labels_`` against the true classes, the wall time of the fit, the
largest R-hat and the smallest bulk ESS, next to ``GaussianMixture`` and
``BayesianGaussianMixture`` with ``covariance_type="full"`` on the same data.

``--choose-k`` adds, for iris with ``covariance_type="full"``, the number of components
that held-out score (3 shuffled folds, ``GridSearchCV``), ``bic`` and ``loo`` choose among 1..6.
"""

import argparse
import time
import warnings

from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._covariance import COVARIANCE_TYPES


def load(name):
    if name == "iris":
        return load_iris(return_X_y=True)
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def row(data, method, labels, y, seconds, r_hat=None, ess=None):
    r_hat = "-" if r_hat is None else f"{r_hat:.3f}"
    ess = "-" if ess is None else f"{ess:.0f}"
    ari = adjusted_rand_score(y, labels)
    print(f"{data:<6}{method:<36}{ari:>7.3f}{seconds:>9.2f}{r_hat:>9}{ess:>9}", flush=True)


def choose_k(X, k_values):
    """k chosen by held-out score, bic and loo, with covariance_type="full"."""
    base = BayesianMCMCMixture(covariance_type="full", random_state=0)
    # Shuffled folds: iris is sorted by species, and unshuffled folds would each hold out
    # a species the training folds never saw.
    folds = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(base, {"n_components": list(k_values)}, cv=folds).fit(X)
    bic, loo = {}, {}
    for k in k_values:
        est = BayesianMCMCMixture(k, covariance_type="full", random_state=0).fit(X)
        bic[k], loo[k] = est.bic(X), est.loo().elpd_loo
    print("k:          " + "".join(f"{k:>10}" for k in k_values))
    print("held-out:   " + "".join(f"{s:>10.3f}" for s in search.cv_results_["mean_test_score"]))
    print("bic:        " + "".join(f"{bic[k]:>10.1f}" for k in k_values))
    print("loo elpd:   " + "".join(f"{loo[k]:>10.1f}" for k in k_values))
    print(
        f"chosen: held-out score {search.best_params_['n_components']}, "
        f"bic {min(bic, key=bic.get)}, loo {max(loo, key=loo.get)}"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=["iris", "wine"])
    parser.add_argument("--types", nargs="+", default=list(COVARIANCE_TYPES))
    parser.add_argument("--choose-k", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(f"{'data':<6}{'method':<36}{'ARI':>7}{'fit s':>9}{'max R^':>9}{'min ESS':>9}")
    for data in args.datasets:
        X, y = load(data)
        for covariance_type in args.types:
            # Warm-up: PyMC compiles each model structure once per process.
            BayesianMCMCMixture(3, covariance_type=covariance_type, draws=10, tune=10).fit(X)
            start = time.perf_counter()
            est = BayesianMCMCMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
            seconds = time.perf_counter() - start
            report = est.convergence_
            row(
                data,
                f"bayes_gmm {covariance_type}",
                est.labels_,
                y,
                seconds,
                report["max_r_hat"],
                report["min_ess_bulk"],
            )
        for cls in (GaussianMixture, BayesianGaussianMixture):
            start = time.perf_counter()
            labels = cls(n_components=3, covariance_type="full", random_state=0).fit(X).predict(X)
            row(data, f"sklearn {cls.__name__} full", labels, y, time.perf_counter() - start)
    if args.choose_k:
        choose_k(load("iris")[0], range(1, 7))


if __name__ == "__main__":
    main()
