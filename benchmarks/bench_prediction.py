"""Prediction at scale: ``predict_proba`` and ``score_samples`` on 1e4 to 1e6 new points.

Run: ``python benchmarks/bench_prediction.py [--sizes 10000 100000 1000000]
[--baseline DIR]``. Fits the 2015 PyMC notebook's data at the default settings and
``GaussianMixture(3)`` on the same data, then times each call on new points from the same
clusters and measures its peak memory with ``tracemalloc`` (which sees NumPy's arrays),
less the memory of the result itself. ``--baseline DIR`` adds the rows of another checkout
of bayes_gmm (``git worktree add DIR <commit>``), measured in the same run. Each
implementation runs in its own process, so neither imports the other.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def measure(call, X, repeats):
    """(median seconds, peak MiB beyond the result) of ``call(X)``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(X)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    result = call(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), (peak - result.nbytes) / 2**20


def worker(package, sizes, label, draws):
    """Runs in a fresh process: fits, measures every size, prints JSON rows."""
    sys.path.insert(0, str(package))
    from sklearn.mixture import GaussianMixture

    from bayes_gmm import BayesianMCMCMixture
    from bayes_gmm.datasets import make_notebook_data

    X, _ = make_notebook_data()
    params = {} if draws is None else {"prediction_draws": draws}
    models = {label: BayesianMCMCMixture(3, random_state=0, **params).fit(X)}
    if label == "bayes_gmm":
        models["GaussianMixture"] = GaussianMixture(3, random_state=0).fit(X)
    rng = np.random.default_rng(1)
    rows = []
    for size in sizes:
        new = rng.choice([-5.0, 0.0, 5.0], size=size)[:, None] + rng.normal(size=(size, 1))
        for name, model in models.items():
            # A single timed call at the slow sizes of the old code: it takes minutes.
            repeats = 3 if size <= 100_000 or name != "bayes_gmm (before)" else 1
            for method in ("predict_proba", "score_samples"):
                seconds, mib = measure(getattr(model, method), new, repeats)
                rows.append({"model": name, "n": size, "call": method, "s": seconds, "MiB": mib})
    print(json.dumps(rows))


def run(package, sizes, label, draws=None):
    command = [sys.executable, __file__, "--worker", str(package), "--label", label]
    command += ["--sizes", *map(str, sizes)]
    if draws is not None:
        command += ["--prediction-draws", str(draws)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--baseline", type=Path, help="another checkout, for before/after")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--label", default="bayes_gmm", help=argparse.SUPPRESS)
    parser.add_argument("--prediction-draws", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        draws = args.prediction_draws
        draws = int(draws) if draws not in (None, "all") else draws
        worker(args.worker, args.sizes, args.label, draws)
        return
    rows = run(HERE.parent, args.sizes, "bayes_gmm")
    rows += run(HERE.parent, args.sizes, 'bayes_gmm ("all" draws)', draws="all")
    if args.baseline is not None:
        rows += run(args.baseline, args.sizes, "bayes_gmm (before)")
    reference = {(r["n"], r["call"]): r["s"] for r in rows if r["model"] == "GaussianMixture"}
    print(f"{'model':<28}{'n':>10}  {'call':<15}{'s':>9}{'x GMM':>8}{'peak MiB':>10}")
    for row in sorted(rows, key=lambda r: (r["n"], r["call"])):
        ratio = row["s"] / reference[row["n"], row["call"]]
        print(
            f"{row['model']:<28}{row['n']:>10}  {row['call']:<15}"
            f"{row['s']:>9.3f}{ratio:>8.1f}{row['MiB']:>10.1f}"
        )


if __name__ == "__main__":
    main()
