"""Where the chains disagree: modes of the posterior, seen by Gibbs and by NUTS.

Run: ``python benchmarks/bench_modes.py [--chains 4] [--draws 8000] [--nuts]
[--settings iris:full:3 ...]``.

Real-data fits with full or tied matrices, whose chains mix slowly or not at all (iris,
wine, Old Faithful with three components, the galaxies velocities with four), are fitted
with more chains and draws (Gibbs: 4 x 8000 by default), each chain from its own
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
from bayes_gmm._posterior import draws_of
from bayes_gmm._scoring import category_probabilities
from bayes_gmm._spec import OBSERVED

SETTINGS = [
    ("iris", "full", 3),
    ("wine", "full", 3),
    ("wine", "tied", 3),
    ("faithful", "full", 3),
    ("galaxies", "full", 4),
]


def modal_partition(est, chain):
    """Each point's most probable component over 200 of one chain's draws."""
    posterior = est.sample_trace_.posterior.isel(chain=[chain])
    draws = draws_of(posterior, est._spec, 200)
    return category_probabilities(est._training_data(), draws).argmax(axis=1)


def describe(est, label, seconds):
    posterior = est.sample_trace_.posterior
    # Computed here when the fit dropped it to bound memory.
    trace = est._trace_with_log_likelihood()
    log_likelihood = trace.log_likelihood[OBSERVED].sum("sample").to_numpy()
    partitions = [modal_partition(est, c) for c in range(posterior.sizes["chain"])]
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
    parser.add_argument("--draws", type=int, default=8000)
    parser.add_argument("--nuts", action="store_true")
    parser.add_argument("--settings", nargs="+", help="data:type:k, as wine:full:3")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    settings = SETTINGS
    if args.settings:
        settings = [(d, t, int(k)) for d, t, k in (s.split(":") for s in args.settings)]
    for data, covariance_type, k in settings:
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
