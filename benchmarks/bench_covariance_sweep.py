"""Time of one Gibbs sweep per point, by covariance type, side by side.

Run: ``python benchmarks/bench_covariance_sweep.py [--n 10000] [--dims 5 20]``.

Builds the Gibbs step of a 3-component fit on n points in d dimensions and times its
``step`` alone (categories, weights, means and covariances), alternating the covariance
types in one process so that machine noise hits all of them alike. Prints the median time
per sweep and per point, and the ratio of each type to ``"diag"``.
"""

import argparse
import statistics
import time

import numpy as np

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._initial_point import initial_point, kmeans_partition
from bayes_gmm._model import build_model, model_coords
from bayes_gmm._sampling.gibbs import GibbsMixtureStep
from bayes_gmm._spec import data_scales, resolve_spec

TYPES = ("diag", "full", "tied", "tied_diag")


def make_step(X, covariance_type):
    params = BayesianMCMCMixture(3, covariance_type=covariance_type).get_params()
    scales = data_scales(X)
    Z = (X - scales.median) / scales.spread
    labels, centers, _ = kmeans_partition(Z, 3, 0)
    spec = resolve_spec(params, scales, 0)
    model = build_model("gibbs", X, spec, model_coords(3, range(X.shape[1]), X.shape[0]))
    with model:
        step = GibbsMixtureStep(X=X, spec=spec, center=scales.median, spread=scales.spread)
    point = initial_point(X, spec, labels, scales.median + scales.spread * centers)
    point["category"] = point["category"].astype(np.int64)
    return step, point


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[5, 20])
    parser.add_argument("--sweeps", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'d':>4}{'type':>12}{'ms/sweep':>11}{'ns/point':>11}{'x diag':>9}")
    for d in args.dims:
        centers = rng.normal(0, 4, size=(3, d))
        X = centers[rng.integers(0, 3, args.n)] + rng.normal(size=(args.n, d))
        steps = {t: make_step(X, t) for t in TYPES}
        times = {t: [] for t in TYPES}
        for _ in range(args.sweeps):
            for covariance_type, (step, point) in steps.items():
                start = time.perf_counter()
                point, _ = step.step(point)
                times[covariance_type].append(time.perf_counter() - start)
                steps[covariance_type] = (step, point)
        base = statistics.median(times["diag"])
        for covariance_type in TYPES:
            median = statistics.median(times[covariance_type])
            print(
                f"{d:>4}{covariance_type:>12}{1e3 * median:>11.3f}"
                f"{1e9 * median / args.n:>11.1f}{median / base:>9.2f}"
            )


if __name__ == "__main__":
    main()
