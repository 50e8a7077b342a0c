"""The 2015 PyMC notebook's analysis, end to end: ``python -m bayes_gmm demo``."""

import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from ._estimator import BayesianMCMCMixture
from .datasets import make_notebook_data

# The 2015 PyMC notebook's priors: Normal(0, 15) means and a Uniform(0, 20) sd.
NOTEBOOK_PRIORS = {
    "mean_prior_loc": 0.0,
    "mean_prior_scale": 15.0,
    "sd_lower": 0.0,
    "sd_upper": 20.0,
}
SUMMARY_COLUMNS = ["mean", "sd", "hdi_3%", "hdi_97%", "r_hat", "ess_bulk"]


def posterior_table(estimator):
    """Mean, sd, 94% HDI, R-hat and bulk ESS of every weight, mean and sd."""
    return estimator.summary(hdi_prob=0.94)[SUMMARY_COLUMNS]


def run_demo(out=None, random_state=0, point=0):
    """Fit the notebook's data with its priors and print what the notebook showed."""
    X, y = make_notebook_data()
    estimator = BayesianMCMCMixture(n_components=3, random_state=random_state, **NOTEBOOK_PRIORS)
    start = time.perf_counter()
    estimator.fit(X)
    fit_seconds = time.perf_counter() - start

    table = posterior_table(estimator)
    print("Posterior of the 2015 PyMC notebook's model (500 points, clusters at -5, 0, 5):")
    print(table.to_string())
    print(f"\nminimum bulk ESS: {table['ess_bulk'].min():.0f}")
    print(
        f"adjusted Rand index against the true clusters: "
        f"{adjusted_rand_score(y, estimator.labels_):.3f}"
    )
    proba = estimator.predict_proba(X[point : point + 1])[0]
    print(f"\npoint {point}: true cluster {y[point]}, data value {X[point, 0]:.2f}")
    print(
        "  posterior category frequencies (Rao-Blackwellised): "
        + ", ".join(f"{c}: {p:.3f}" for c, p in enumerate(proba))
    )
    sampled = estimator.sample_trace_.posterior["category"].sel(sample=point).to_numpy().ravel()
    shares = np.bincount(sampled, minlength=3) / sampled.size
    print(
        "  share of sampled categories:                       "
        + ", ".join(f"{c}: {p:.3f}" for c, p in enumerate(shares))
    )
    print(f"\nfit time: {fit_seconds:.2f} s")

    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        table.to_csv(out / "posterior_summary.csv")
        # The fit as save writes it, so that BayesianMCMCMixture.load reads it back; the
        # file is the trace's InferenceData, which arviz.from_netcdf reads too.
        estimator.save(out / "fit.nc")
        print(f"wrote {out / 'posterior_summary.csv'} and {out / 'fit.nc'}")
    return estimator, table
