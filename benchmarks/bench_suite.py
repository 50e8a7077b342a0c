"""The benchmark table: data sets x methods, each run in fresh processes.

Run: ``python benchmarks/bench_suite.py [--repeats 3] [--budget 300] [--out FILE]``.

Every (data set, method, repeat) runs in a new Python process that fits twice, with
different seeds: the first fit's wall time counts from the process start (imports and
compilation included: "fresh"), the second is "warm". Its peak resident memory is the
largest sum over the whole process tree (the worker processes of parallel chains
included), polled every 50 ms. A fit that runs past ``--budget`` seconds is cut off: its
process is killed and the row says so, and larger data sets are not tried with that
method. MCMC methods run the estimator's defaults (2 chains x 1000 draws after ``tune="auto"``: 200
warm-up sweeps for Gibbs, 1000 for NUTS), with
``covariance_type="full"`` and ``"tied"`` as further Gibbs rows.
Prints one table and writes the same rows as JSON.

Columns: fresh and warm wall time, PyMC's sampling time (warm fit), minimum bulk ESS over
weights, means and sd (warm fit), ESS per second of warm wall time, peak RSS, largest
absolute error of the posterior means (of weights, means and sd) against the generating
values, and ESS per second relative to the 2015 PyMC notebook's scheme ("seed scheme") on
the same data in this run. Timings are medians over the repeats; that scheme and NUTS run
once per data set
(``--slow-repeats``), as they take minutes.
"""

import argparse
import contextlib
import importlib.util
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import threading
import time

_START = time.perf_counter()

# name -> (generator, n_samples); ordered by size, so that a cut-off skips what follows.
DATASETS = {
    "seed n=500": ("seed", 500),
    "2-D n=2,000": ("blobs2", 2_000),
    "seed n=10,000": ("seed", 10_000),
    "5-D n=10,000": ("blobs5", 10_000),
    "seed n=100,000": ("seed", 100_000),
    "2-D n=100,000": ("blobs2", 100_000),
    "seed n=1,000,000": ("seed", 1_000_000),
}
METHODS = {
    "gibbs": {"sampler": "gibbs"},
    "gibbs (full)": {"sampler": "gibbs", "covariance_type": "full"},
    "gibbs (tied)": {"sampler": "gibbs", "covariance_type": "tied"},
    "nuts (pymc)": {"sampler": "nuts", "nuts_sampler": "pymc"},
    "nuts (nutpie)": {"sampler": "nuts", "nuts_sampler": "nutpie"},
    "nuts (numpyro)": {"sampler": "nuts", "nuts_sampler": "numpyro"},
    "nuts (blackjax)": {"sampler": "nuts", "nuts_sampler": "blackjax"},
    "seed scheme (metropolis)": {"sampler": "metropolis"},
    "sklearn GaussianMixture": None,
    "sklearn BayesianGaussianMixture": None,
}
SEED_SCHEME = "seed scheme (metropolis)"
SLOW_METHODS = ("nuts", "seed scheme")
_BACKEND_MODULES = {"nutpie": "nutpie", "numpyro": "numpyro", "blackjax": "blackjax"}


def make_dataset(generator, n_samples):
    """Data and the generating values: weights (k,), means (k, d), sd (d,)."""
    import numpy as np

    from bayes_gmm.datasets import NOTEBOOK_CENTERS, make_notebook_data

    if generator == "seed":
        X, _ = make_notebook_data(n_samples)
        return X, np.full(3, 1 / 3), NOTEBOOK_CENTERS[:, None], np.ones(1)
    rng = np.random.default_rng(0)
    weights = np.array([0.2, 0.3, 0.5])
    if generator == "blobs2":
        means, sd = np.array([[-4.0, 0.0], [0.0, 3.0], [4.0, -1.0]]), np.array([1.0, 0.5])
    else:
        means = np.column_stack([[-6.0, 0.0, 6.0], rng.normal(0, 2, size=(3, 4))])
        sd = np.array([1.0, 0.5, 2.0, 1.0, 1.5])
    labels = rng.choice(3, size=n_samples, p=weights)
    return means[labels] + sd * rng.standard_normal((n_samples, len(sd))), weights, means, sd


def _fit(method, X, seed):
    """Fit; returns (weights, means, sd per feature, min bulk ESS, sampling seconds)."""
    import numpy as np

    if method.startswith("sklearn"):
        from sklearn.mixture import BayesianGaussianMixture, GaussianMixture

        cls = GaussianMixture if method.endswith(" GaussianMixture") else BayesianGaussianMixture
        est = cls(n_components=3, covariance_type="tied", random_state=seed).fit(X)
        return est.weights_, est.means_, np.sqrt(np.diag(est.covariances_)), None, None
    from bayes_gmm import BayesianMCMCMixture

    est = BayesianMCMCMixture(n_components=3, random_state=seed, **METHODS[method]).fit(X)
    # Per feature: the root of the posterior mean variance, averaged over components.
    sd = np.sqrt(np.diagonal(est._covariance_matrices(), axis1=1, axis2=2).mean(axis=0))
    sampling = est.sample_trace_.posterior.attrs.get("sampling_time")
    return est.weights_, est.means_, sd, est.convergence_["min_ess_bulk"], sampling


def _max_error(fitted, truth):
    """Largest absolute error, components matched by sorting on the first feature."""
    import numpy as np

    weights, means, sd = fitted
    true_weights, true_means, true_sd = truth
    order, true_order = np.argsort(means[:, 0]), np.argsort(true_means[:, 0])
    return float(
        max(
            np.abs(weights[order] - true_weights[true_order]).max(),
            np.abs(means[order] - true_means[true_order]).max(),
            np.abs(sd - true_sd).max(),
        )
    )


def worker(dataset, method, seed):
    """Child process: two fits, one JSON line each on stdout."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    X, *truth = make_dataset(*DATASETS[dataset])
    for fit_index in range(2):
        start = time.perf_counter()
        weights, means, sd, ess, sampling = _fit(method, X, seed + fit_index)
        end = time.perf_counter()
        record = {
            "wall": end - (_START if fit_index == 0 else start),
            "sampling": sampling,
            "ess": ess,
            "error": _max_error((weights, means, sd), truth),
        }
        print(json.dumps(record), flush=True)


def _tree_rss(pid):
    import psutil

    try:
        process = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    except psutil.Error:
        return 0


def run_child(dataset, method, seed, budget):
    """Run one child; returns its two records and peak RSS, or None if it was cut off."""
    # A session of its own, so that a cut-off kills the chains' worker processes too.
    child = subprocess.Popen(
        [sys.executable, __file__, "--worker", dataset, method, str(seed)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    peak = [0]
    done = threading.Event()

    def poll():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(child.pid))
            time.sleep(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    records = []
    try:
        while len(records) < 2:
            # Each fit gets the budget; the first one also pays the imports.
            ready, _, _ = select.select([child.stdout], [], [], budget)
            if not ready:
                return None, peak[0]
            line = child.stdout.readline()
            if not line:
                raise RuntimeError(
                    f"{method} on {dataset} failed (exit code {child.wait()}); run "
                    f"`{__file__} --worker '{dataset}' '{method}' {seed}` to see why"
                )
            records.append(json.loads(line))
        child.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        done.set()
        poller.join()
    return records, peak[0]


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def measure(dataset, method, repeats, budget):
    runs = []
    for seed in range(repeats):
        records, peak = run_child(dataset, method, seed, budget)
        if records is None:
            return {"dataset": dataset, "method": method, "cut_off_after_s": budget}
        fresh, warm = records
        runs.append((fresh, warm, peak))
    warm_wall = _median([warm["wall"] for _, warm, _ in runs])
    ess = _median([warm["ess"] for _, warm, _ in runs])
    return {
        "dataset": dataset,
        "method": method,
        "runs": repeats,
        "fresh_wall_s": _median([fresh["wall"] for fresh, _, _ in runs]),
        "warm_wall_s": warm_wall,
        "sampling_s": _median([warm["sampling"] for _, warm, _ in runs]),
        "min_ess_bulk": ess,
        "ess_per_s": None if ess is None else _median([w["ess"] / w["wall"] for _, w, _ in runs]),
        "peak_rss_mib": max(peak for _, _, peak in runs) / 2**20,
        "max_error": _median([warm["error"] for _, warm, _ in runs]),
    }


def _installed_methods():
    installed, missing = [], []
    for method, settings in METHODS.items():
        backend = (settings or {}).get("nuts_sampler")
        module = _BACKEND_MODULES.get(backend)
        if module is not None and importlib.util.find_spec(module) is None:
            missing.append(method)
        else:
            installed.append(method)
    return installed, missing


def _format(value, spec):
    """``value`` in a 9-wide column, or a dash where there is none."""
    return f"{'-':>9}" if value is None else format(value, f">9{spec}")


def print_table(rows):
    header = (
        f"{'data set':<18}{'method':<33}{'fresh s':>9}{'warm s':>9}{'sample s':>9}"
        f"{'min ESS':>9}{'ESS/s':>9}{'RSS MiB':>9}{'max err':>9}{'x seed':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        if "cut_off_after_s" in row or "skipped" in row:
            note = row.get("skipped") or f"cut off: a fit ran past {row['cut_off_after_s']} s"
            print(f"{row['dataset']:<18}{row['method']:<33}{note}")
            continue
        print(
            f"{row['dataset']:<18}{row['method']:<33}"
            f"{_format(row['fresh_wall_s'], '.2f')}{_format(row['warm_wall_s'], '.2f')}"
            f"{_format(row['sampling_s'], '.2f')}{_format(row['min_ess_bulk'], '.0f')}"
            f"{_format(row['ess_per_s'], '.1f')}{row['peak_rss_mib']:>9.0f}"
            f"{row['max_error']:>9.3f}{_format(row.get('x_seed_scheme'), '.0f')}"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--slow-repeats", type=int, default=1)
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per fit")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results.json"))
    args = parser.parse_args()
    installed, missing = _installed_methods()
    methods = [m for m in args.methods if m in installed]
    rows, cut_off = [], set()
    for dataset in args.datasets:
        for method in methods:
            if method in cut_off:
                rows.append(
                    {
                        "dataset": dataset,
                        "method": method,
                        "skipped": "skipped: cut off on a smaller data set",
                    }
                )
                continue
            slow = method.startswith(SLOW_METHODS)
            row = measure(dataset, method, args.slow_repeats if slow else args.repeats, args.budget)
            if "cut_off_after_s" in row:
                cut_off.add(method)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    for dataset in args.datasets:
        reference = next(
            (r for r in rows if r["dataset"] == dataset and r["method"] == SEED_SCHEME), None
        )
        base = None if reference is None else reference.get("ess_per_s")
        for row in rows:
            if row["dataset"] == dataset and base and row.get("ess_per_s"):
                row["x_seed_scheme"] = row["ess_per_s"] / base
    print_table(rows)
    if missing:
        print(f"not installed, so not run: {', '.join(missing)}")
    with open(args.out, "w") as f:
        json.dump({"budget_s": args.budget, "not_installed": missing, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
