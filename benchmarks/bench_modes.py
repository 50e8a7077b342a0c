"""Where the chains disagree: modes of the posterior, seen by Gibbs and by NUTS.

Run: ``python benchmarks/bench_modes.py [--chains 4] [--draws 4000] [--nuts]``.

The real-data fits whose chains do not reach R-hat 1.01 with ``draws="auto"`` (wine with
full and tied matrices, Old Faithful with three full matrices, the galaxies velocities
with four components) are fitted with more chains and draws, each chain from its own
plausible k-means partition. For every chain the script prints the mean and sd of the
log-likelihood (categories summed out) over its draws, its posterior mean weights, and
the adjusted Rand index between its modal partition and chain 0's. Chains whose
log-likelihoods settle at different levels, with different partitions, sit in different
modes. ``--nuts`` fits the same settings with NUTS (PyMC's, on the model with the
categories summed out, from the same starts): if its chains split the same way, the modes
belong to the posterior, not to the Gibbs sampler.
"""

import argparse
import time
import warnings

import numpy as np
from bench_real_data import load
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._spec import OBSERVED

SETTINGS = [
    ("wine", "full", 3),
    ("wine", "tied", 3),
    ("faithful", "full", 3),
    ("galaxies", "full", 4),
]


def modal_partition(category):
    """Each point's most frequent category over one chain's draws, (draws, n) -> (n,)."""
    k = int(category.max()) + 1
    counts = np.stack([(category == c).sum(axis=0) for c in range(k)])
    return counts.argmax(axis=0)


def describe(est, label, seconds):
    posterior = est.sample_trace_.posterior
    log_likelihood = est.sample_trace_.log_likelihood[OBSERVED].sum("sample").to_numpy()
    partitions = [modal_partition(chain) for chain in posterior["category"].to_numpy()]
    report = est.convergence_
    print(
        f"{label}: {posterior.sizes['chain']} chains x {est.draws_} draws, {seconds:.0f} s, "
        f"max R-hat {report['max_r_hat']:.3f}, min bulk ESS {report['min_ess_bulk']:.0f}"
    )
    for c, values in enumerate(log_likelihood):
        weights = posterior["weights"].isel(chain=c).mean("draw").to_numpy()
        print(
            f"  chain {c}: log-lik {values.mean():9.1f} (sd {values.std():5.1f}, last "
            f"quarter {values[-len(values) // 4 :].mean():9.1f})  weights "
            f"{np.array2string(weights, precision=2)}  ARI with chain 0 "
            f"{adjusted_rand_score(partitions[0], partitions[c]):.2f}",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=4000)
    parser.add_argument("--nuts", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    for data, covariance_type, k in SETTINGS:
        X, _ = load(data)
        samplers = [("gibbs", args.draws)] + ([("nuts", 1000)] if args.nuts else [])
        for sampler, draws in samplers:
            start = time.perf_counter()
            est = BayesianMCMCMixture(
                k,
                covariance_type=covariance_type,
                sampler=sampler,
                chains=args.chains,
                draws=draws,
                random_state=0,
            ).fit(X)
            describe(est, f"{data} k={k} {covariance_type} {sampler}", time.perf_counter() - start)


if __name__ == "__main__":
    main()
