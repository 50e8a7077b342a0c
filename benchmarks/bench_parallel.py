"""Sequential against parallel chains, by data size: where parallel starts to pay.

Run: ``python benchmarks/bench_parallel.py [--repeats N] [--sizes 500 5000 ...]``. Fits
the 2015 PyMC notebook's generator at each size with default settings (2 chains x (1000 +
1000)), once with the chains one after the other in this process and once in parallel
worker processes, alternating, and prints the median wall time of each and their ratio. The
estimator switches to parallel chains from ``bayes_gmm._sampling.PARALLEL_MIN_WORK``
point-iterations (n_samples x chains x (draws + tune)), set per start method of the
worker processes; this table is how those values were chosen.
"""

import argparse
import multiprocessing
import statistics
import time
import warnings
from unittest import mock

from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._sampling import PARALLEL_MIN_WORK
from bayes_gmm.datasets import make_notebook_data

# Forces the choice either way: any fit does some work, none does this much.
_MODES = {"sequential": float("inf"), "parallel": 0}


def timed_fit(X, mode, seed):
    thresholds = dict.fromkeys(PARALLEL_MIN_WORK, _MODES[mode])
    with mock.patch.dict("bayes_gmm._sampling.PARALLEL_MIN_WORK", thresholds):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            BayesianMCMCMixture(random_state=seed).fit(X)
        return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2_000, 20_000, 100_000])
    parser.add_argument(
        "--start-method",
        choices=multiprocessing.get_all_start_methods(),
        default=multiprocessing.get_start_method(),
        help="how worker processes start (this platform's default unless given)",
    )
    args = parser.parse_args()
    multiprocessing.set_start_method(args.start_method, force=True)
    # Warm-up: compilation and imports stay out of the timings.
    timed_fit(make_notebook_data(500)[0], "sequential", 0)
    timed_fit(make_notebook_data(500)[0], "parallel", 0)
    threshold = PARALLEL_MIN_WORK["fork" if args.start_method == "fork" else "spawn"]
    print(f"start method {args.start_method}: threshold {threshold:.0e} point-iterations")
    print(f"{'n_samples':>10}{'work':>10}{'sequential (s)':>16}{'parallel (s)':>14}{'ratio':>8}")
    for n in args.sizes:
        X, _ = make_notebook_data(n)
        times = {mode: [] for mode in _MODES}
        for seed in range(args.repeats):
            for mode in _MODES:
                times[mode].append(timed_fit(X, mode, seed))
        seq, par = (statistics.median(times[mode]) for mode in _MODES)
        work = n * 2 * 2000
        print(f"{n:>10}{work:>10.0e}{seq:>16.2f}{par:>14.2f}{seq / par:>8.2f}")


if __name__ == "__main__":
    main()
