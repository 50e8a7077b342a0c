"""The 2015 PyMC notebook's data, default settings: wall time of a warm fit, and its ESS.

Run: ``python benchmarks/bench_notebook_fit.py [--repeats N]``. Prints one table; the first
fit of the process (PyTensor compilation of PyMC's start-point checks) is reported apart.
"""

import argparse
import statistics
import time

import arviz as az

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm.datasets import make_notebook_data


def fit_once(X, random_state):
    start = time.perf_counter()
    est = BayesianMCMCMixture(n_components=3, random_state=random_state).fit(X)
    seconds = time.perf_counter() - start
    summary = az.summary(est.sample_trace_, var_names=["weights", "means", "sigma"])
    return seconds, summary["ess_bulk"].min(), summary["r_hat"].max()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    X, _ = make_notebook_data()
    first = fit_once(X, random_state=0)
    runs = [fit_once(X, random_state=seed) for seed in range(1, args.repeats + 1)]
    times = [r[0] for r in runs]
    print(f"{'measure':<44}{'value':>10}")
    print(f"{'first fit in the process (s)':<44}{first[0]:>10.2f}")
    label = f"warm fit, median of {args.repeats} (s)"
    print(f"{label:<44}{statistics.median(times):>10.2f}")
    print(f"{'warm fit, min / max (s)':<44}{min(times):>5.2f} / {max(times):.2f}")
    print(f"{'minimum bulk ESS (weights, means, sd), worst':<44}{min(r[1] for r in runs):>10.0f}")
    print(
        f"{'minimum bulk ESS, median over fits':<44}{statistics.median(r[1] for r in runs):>10.0f}"
    )
    print(f"{'max R-hat, worst':<44}{max(r[2] for r in runs):>10.3f}")
    ess_per_s = statistics.median(r[1] / r[0] for r in runs)
    print(f"{'min bulk ESS per second, median':<44}{ess_per_s:>10.0f}")


if __name__ == "__main__":
    main()
