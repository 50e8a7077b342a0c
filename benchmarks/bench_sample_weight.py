"""Compressed fits: rounded data fitted as its unique rows with counts.

Run: ``python benchmarks/bench_sample_weight.py [--n 1000000] [--decimals 1]
[--covariance-type tied_diag]``. Draws ``n`` points from three 2-D clusters, rounds them to
``decimals`` places, and fits them three ways at the default settings, one after the other
in this process:

- ``uncompressed``: every point;
- ``compressed``: the unique rows, each weighted by its count (the same posterior);
- ``unique rows``: the unique rows unweighted (another posterior, which says what a fit
  of that many rows costs).

It prints each fit's time, its number of rows, its posterior means and sds of the means
and weights, and the largest difference between the uncompressed and compressed
posterior means in units of the larger posterior sd.
"""

import argparse
import time
import warnings

import numpy as np

from bayes_gmm import BayesianMCMCMixture


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--decimals", type=int, default=1)
    parser.add_argument("--covariance-type", default="tied_diag")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    centers = np.array([[-4.0, 0.0], [0.0, 3.0], [4.0, 0.0]])
    labels = rng.choice(3, size=args.n, p=[0.5, 0.3, 0.2])
    X = np.round(centers[labels] + rng.normal(size=(args.n, 2)), args.decimals)
    unique, counts = np.unique(X, axis=0, return_counts=True)
    runs = {
        "uncompressed": (X, None),
        "compressed": (unique, counts),
        "unique rows": (unique, None),
    }
    print(f"{args.n} points rounded to {args.decimals} decimals: {unique.shape[0]} unique rows")
    print(f"{'fit':<14}{'rows':>10}{'seconds':>10}   means (sd)                weights")
    fits = {}
    for name, (data, weight) in runs.items():
        est = BayesianMCMCMixture(3, covariance_type=args.covariance_type, random_state=0)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(data, sample_weight=weight)
        seconds = time.perf_counter() - start
        posterior = est.sample_trace_.posterior
        means = posterior["means"].mean(("chain", "draw")).to_numpy()
        sds = posterior["means"].std(("chain", "draw")).to_numpy()
        cells = ", ".join(f"{m:.3f} ({s:.3f})" for m, s in zip(means[:, 0], sds[:, 0], strict=True))
        print(
            f"{name:<14}{data.shape[0]:>10}{seconds:>10.1f}   {cells}   "
            f"{np.round(est.weights_, 3).tolist()}"
        )
        fits[name] = est
    differences = []
    for variable in ("means", "weights"):
        a, b = (fits[n].sample_trace_.posterior[variable] for n in ("uncompressed", "compressed"))
        sd = np.maximum(a.std(("chain", "draw")), b.std(("chain", "draw"))).to_numpy()
        gap = np.abs(a.mean(("chain", "draw")) - b.mean(("chain", "draw"))).to_numpy()
        differences.append(float((gap / sd).max()))
    gap = max(differences)
    print(f"largest |uncompressed - compressed| posterior mean: {gap:.2f} posterior sds")


if __name__ == "__main__":
    main()
