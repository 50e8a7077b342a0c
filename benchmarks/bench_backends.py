"""The NUTS backends side by side on the 2015 PyMC notebook's problem, against Gibbs.

Run: ``python benchmarks/bench_backends.py`` in an environment with the optional backends
(``pip install -e ".[jax,nutpie]"``); a backend that is not installed gets a row that says
so. Each backend fits the notebook's data with the notebook's priors and default settings
(2 chains x (1000 tune + 1000 draws), ``random_state=0``) twice, in a fresh process of its
own: the first fit pays for compilation (PyTensor's, nutpie's or JAX's; PyTensor's on-disk
cache may already be warm), the second is warm. The posterior means of the warm fit are
compared with a Gibbs fit's: ``max |z|`` is the largest difference over the weights, means
and sd in units of the combined Monte Carlo standard error, against the Bonferroni
threshold of the test suite (a correct pair exceeds it with probability 1e-3). About 4 min.
"""

import argparse
import importlib.metadata
import json
import subprocess
import sys
import time
import warnings

import numpy as np

# nuts_sampler -> the package whose version is reported (None: the Gibbs reference)
BACKENDS = {
    "gibbs": "pymc",
    "pymc": "pymc",
    "nutpie": "nutpie",
    "numpyro": "numpyro",
    "blackjax": "blackjax",
}


def _fit(backend):
    from sklearn.exceptions import ConvergenceWarning

    from bayes_gmm import BayesianMCMCMixture
    from bayes_gmm._demo import NOTEBOOK_PRIORS
    from bayes_gmm.datasets import make_notebook_data

    X, _ = make_notebook_data()
    sampler = {"sampler": "gibbs"} if backend == "gibbs" else {"sampler": "nuts"}
    if backend != "gibbs":
        sampler["nuts_sampler"] = backend
    seconds = []
    for _ in range(2):
        est = BayesianMCMCMixture(random_state=0, **sampler, **NOTEBOOK_PRIORS)
        with warnings.catch_warnings():
            # Reported in the table instead.
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            est.fit(X)
            seconds.append(time.perf_counter() - start)
    summary = est.summary(round_to="none")
    return {
        "first": seconds[0],
        "warm": seconds[1],
        "min_ess_bulk": est.convergence_["min_ess_bulk"],
        "max_r_hat": est.convergence_["max_r_hat"],
        "mean": summary["mean"].to_dict(),
        "mcse": summary["mcse_mean"].to_dict(),
    }


def _run_in_fresh_process(backend):
    """The fit's results, or the last line of the error it raised."""
    done = subprocess.run(
        [sys.executable, __file__, "--one", backend], capture_output=True, text=True
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no output"]
        return {"error": lines[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _agreement(result, reference):
    from scipy import stats

    names = list(reference["mean"])
    z = np.array(
        [
            (result["mean"][n] - reference["mean"][n])
            / np.hypot(result["mcse"][n], reference["mcse"][n])
            for n in names
        ]
    )
    # tests/conftest.py's bonferroni_z (P_MIN = 1e-3), which a script outside the tests
    # cannot import.
    threshold = stats.norm.isf(1e-3 / (2 * len(names)))
    verdict = "yes" if np.all(np.abs(z) < threshold) else "NO"
    return f"{verdict} (max |z| {np.abs(z).max():.2f} < {threshold:.2f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", choices=BACKENDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_fit(args.one)))
        return

    results = {}
    for backend, package in BACKENDS.items():
        version = _version(package)
        results[backend] = (
            {"error": f"{package} is not installed"}
            if version is None
            else _run_in_fresh_process(backend)
        )
        results[backend]["installs"] = f"{package} {version}" if version else "no"
    reference = results["gibbs"]
    print(
        f"{'backend':<10}{'installs':<18}{'works':<7}{'first fit (s)':>14}{'warm fit (s)':>13}"
        f"{'min bulk ESS':>13}{'max R-hat':>10}  agrees with gibbs"
    )
    for backend, result in results.items():
        if "error" in result:
            print(f"{backend:<10}{result['installs']:<18}{'no':<7}  {result['error'][:120]}")
            continue
        agrees = "(reference)" if backend == "gibbs" else _agreement(result, reference)
        print(
            f"{backend:<10}{result['installs']:<18}{'yes':<7}{result['first']:>14.1f}"
            f"{result['warm']:>13.1f}{result['min_ess_bulk']:>13.0f}"
            f"{result['max_r_hat']:>10.3f}  {agrees}"
        )


if __name__ == "__main__":
    main()
