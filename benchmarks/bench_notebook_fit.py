"""Small fits: the 2015 PyMC notebook's data at default settings, and a grid search over k.

Run: ``python benchmarks/bench_notebook_fit.py [--repeats N] [--baseline DIR]``. Prints one
table: the first fit of a process (PyTensor's compilation included, and PyMC's import,
which ``import bayes_gmm`` leaves to the first fit since 0.2) apart from warm fits, the
minimum bulk ESS and max R-hat of the warm fits, and a ``GridSearchCV`` over n_components =
1..6 with 3 folds. ``--baseline DIR`` runs the same in another checkout of bayes_gmm (``git
worktree add DIR <commit>``), each implementation in its own processes, alternating, in the
same run.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def worker(package, repeats):
    """Runs in a fresh process on ``package``'s bayes_gmm; prints one JSON record."""
    sys.path.insert(0, str(package))
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV

    from bayes_gmm import BayesianMCMCMixture
    from bayes_gmm.datasets import make_notebook_data

    X, _ = make_notebook_data()

    def fit(random_state):
        start = time.perf_counter()
        est = BayesianMCMCMixture(n_components=3, random_state=random_state).fit(X)
        seconds = time.perf_counter() - start
        summary = est.summary()
        return seconds, float(summary["ess_bulk"].min()), float(summary["r_hat"].max())

    first = fit(0)
    warm = [fit(seed) for seed in range(1, repeats + 1)]
    search = GridSearchCV(BayesianMCMCMixture(random_state=0), {"n_components": range(1, 7)}, cv=3)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X)
    record = {
        "first": first[0],
        "warm": [w[0] for w in warm],
        "min_ess": min(w[1] for w in warm),
        "max_r_hat": max(w[2] for w in warm),
        "search": time.perf_counter() - start,
        "search_k": search.best_params_["n_components"],
    }
    print(json.dumps(record))


def run(package, repeats):
    command = [sys.executable, __file__, "--worker", str(package), "--repeats", str(repeats)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=1, help="processes per implementation")
    parser.add_argument("--baseline", type=Path, help="another checkout, for before/after")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.repeats)
        return
    packages = {"bayes_gmm": HERE.parent}
    if args.baseline is not None:
        packages["before"] = args.baseline
    records = {label: [] for label in packages}
    for _ in range(args.rounds):
        for label, package in packages.items():
            records[label].append(run(package, args.repeats))
    print(f"{'measure':<42}" + "".join(f"{label:>12}" for label in packages))
    rows = [
        ("first fit in the process (s)", lambda r: statistics.median(x["first"] for x in r)),
        ("warm fit, median (s)", lambda r: statistics.median(t for x in r for t in x["warm"])),
        ("warm fit, min (s)", lambda r: min(t for x in r for t in x["warm"])),
        ("min bulk ESS (weights, means, sd), worst", lambda r: min(x["min_ess"] for x in r)),
        ("max R-hat, worst", lambda r: max(x["max_r_hat"] for x in r)),
        ("grid search k = 1..6, 3 folds (s)", lambda r: statistics.median(x["search"] for x in r)),
        ("grid search's best k", lambda r: statistics.median(x["search_k"] for x in r)),
    ]
    for name, value in rows:
        print(f"{name:<42}" + "".join(f"{value(records[label]):>12.3f}" for label in packages))


if __name__ == "__main__":
    main()
