"""The three samplers side by side on the 2015 PyMC notebook's problem, in one process.

Run: ``python benchmarks/bench_samplers.py``. Each sampler fits the notebook's data with
the notebook's priors and default settings (2 chains x 1000 draws, after ``tune="auto"``:
200 warm-up sweeps for Gibbs, 1000 for the others); a
warm-up fit of each first keeps compilation out of the timed one. Prints one table.
"""

import time
import warnings

from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._demo import NOTEBOOK_PRIORS
from bayes_gmm.datasets import make_notebook_data


def main():
    X, _ = make_notebook_data()
    rows = []
    for sampler in ("gibbs", "nuts", "metropolis"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # Warm-up: PyTensor compilation of this sampler's model.
            BayesianMCMCMixture(sampler=sampler, draws=20, tune=20, **NOTEBOOK_PRIORS).fit(X)
            start = time.perf_counter()
            est = BayesianMCMCMixture(sampler=sampler, random_state=0, **NOTEBOOK_PRIORS).fit(X)
            seconds = time.perf_counter() - start
        report = est.convergence_
        rows.append((sampler, seconds, report["min_ess_bulk"], report["max_r_hat"]))
    seed_scheme = next(r for r in rows if r[0] == "metropolis")
    print(
        f"{'sampler':<12}{'wall (s)':>10}{'min bulk ESS':>14}{'max R-hat':>11}"
        f"{'ESS/s':>10}{'x seed scheme':>15}"
    )
    for sampler, seconds, ess, r_hat in rows:
        ratio = (ess / seconds) / (seed_scheme[2] / seed_scheme[1])
        print(
            f"{sampler:<12}{seconds:>10.2f}{ess:>14.0f}{r_hat:>11.3f}{ess / seconds:>10.1f}"
            f"{ratio:>15.1f}"
        )


if __name__ == "__main__":
    main()
