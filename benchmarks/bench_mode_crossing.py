"""Crossing between modes: parallel tempering and split-merge moves, and what they cost.

Run: ``python benchmarks/bench_mode_crossing.py [--configs plain t4 t8 sm sm+t4]
[--chains 4] [--draws 2000] [--cases mirror square iris notebook] [--seeds 0]``.

Each case is fitted with each configuration (``plain``: the Gibbs sampler alone; ``tN``:
``n_temperatures=N``; ``sm``: ``split_merge=True``; ``sm+tN``: both), one after the other
in one process, at the same seed, chains and draws, so that the times compare side by
side. For every fit the table gives the time, the share of each chain's draws in one
mode, R-hat, the smallest bulk ESS, the split-merge acceptance rate, and the ladder: the
swap rate of each neighbour pair (mean over chains) and the round trips of each chain.
Cases:

- ``mirror``: three clusters on a line, exactly mirror-symmetric, two spherical
  components: {left | middle + right} and {left + middle | right} hold exactly half the
  posterior each. The share is that of the first (weight 0 above 1/2).
- ``square``: four clusters on the corners of a square, exactly invariant under a
  quarter turn, two full components: left | right and top | bottom hold half each. The
  share is that of left | right (the means further apart in x than in y).
- ``iris``: iris with three full components (scikit-learn's default type): the share of
  draws in the second mode, where versicolor joins most of virginica (a weight above 0.45).
- ``notebook``: the 2015 PyMC notebook's data at the defaults, a posterior with one mode:
  the cost of tempering where nothing needs it (share: component 0's weight above 1/3).
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm.datasets import make_notebook_data


def mirror_data(n_side=30, separation=4.0, seed=1):
    rng = np.random.default_rng(seed)
    half = np.concatenate(
        [np.abs(rng.normal(0, 1, n_side // 2)), rng.normal(separation, 1, n_side)]
    )
    return np.concatenate([half, -half])[:, None]


def square_data(n_corner=40, half_side=3.0, seed=1):
    rng = np.random.default_rng(seed)
    corner = rng.normal(0, 1, (n_corner, 2)) + half_side
    turns = [corner]
    for _ in range(3):  # a quarter turn: (x, y) -> (-y, x)
        turns.append(turns[-1][:, ::-1] * [-1, 1])
    return np.concatenate(turns)


def weight_share(threshold, component=0):
    return lambda posterior: posterior["weights"].to_numpy()[..., component] > threshold


def left_right(posterior):
    means = posterior["means"].to_numpy()
    gap = np.abs(means[..., 0, :] - means[..., 1, :])
    return gap[..., 0] > gap[..., 1]


CASES = {
    "mirror": (mirror_data, {"n_components": 2, "covariance_type": "spherical"}, weight_share(0.5)),
    "square": (square_data, {"n_components": 2, "covariance_type": "full"}, left_right),
    "iris": (
        lambda: load_iris().data,
        {"n_components": 3, "covariance_type": "full"},
        lambda posterior: (posterior["weights"].to_numpy() > 0.45).any(axis=-1),
    ),
    "notebook": (lambda: make_notebook_data()[0], {"n_components": 3}, weight_share(1 / 3)),
}


def settings_of(config):
    """``plain``, ``tN``, ``sm`` or ``sm+tN`` as estimator parameters."""
    params = {"n_temperatures": 1, "split_merge": False}
    for part in config.split("+"):
        if part == "sm":
            params["split_merge"] = True
        elif part.startswith("t"):
            params["n_temperatures"] = int(part[1:])
        elif part != "plain":
            raise ValueError(f"unknown configuration {config!r}")
    return params


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--configs", nargs="+", default=["plain", "t4", "t8", "sm", "sm+t4"])
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(
        "| case | seed | configuration | seconds | share per chain | R-hat | min bulk ESS "
        "| split-merge acceptance | swap rates | round trips |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.cases:
        data, params, indicator = CASES[name]
        X = data()
        for seed in args.seeds:
            for config in args.configs:
                start = time.perf_counter()
                est = BayesianMCMCMixture(
                    **params,
                    **settings_of(config),
                    chains=args.chains,
                    draws=args.draws,
                    random_state=seed,
                ).fit(X)
                seconds = time.perf_counter() - start
                share = indicator(est.sample_trace_.posterior).mean(axis=1)
                report = est.convergence_
                rates = report.get("swap_rates")
                stats = est.sample_trace_.sample_stats
                accepted = (
                    f"{float(stats['split_merge_accepted'].mean()):.3f}"
                    if "split_merge_accepted" in stats
                    else "-"
                )
                print(
                    f"| {name} | {seed} | {config} | {seconds:.1f} | "
                    f"{' '.join(f'{s:.2f}' for s in share)} | {report['max_r_hat']:.3f} | "
                    f"{report['min_ess_bulk']:.0f} | {accepted} | "
                    f"{'-' if rates is None else ' '.join(f'{r:.2f}' for r in rates)} | "
                    f"{'-' if rates is None else ' '.join(map(str, report['round_trips']))} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
