"""What ``import bayes_gmm`` and prediction from a saved fit import: not PyMC."""

import subprocess
import sys
import textwrap

from bayes_gmm import BayesianMCMCMixture
from tests.conftest import FAST

HEAVY = ("pymc", "pytensor", "arviz")


def _run(code):
    """Run ``code`` in a fresh interpreter; return the heavy modules it imported."""
    script = textwrap.dedent(code) + (f"\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def test_import_bayes_gmm_imports_no_pymc_pytensor_or_arviz():
    assert _run("import sys\nimport bayes_gmm\nbayes_gmm.BayesianMCMCMixture(3)") == "[]"


def test_a_loaded_fit_predicts_without_pymc(tmp_path, seed_data):
    X, _ = seed_data
    path = tmp_path / "fit.nc"
    BayesianMCMCMixture(**FAST).fit(X).save(path)
    imported = _run(
        f"""
        import sys
        import numpy as np
        from bayes_gmm import BayesianMCMCMixture

        est = BayesianMCMCMixture.load({str(path)!r})
        X = np.linspace(-8, 8, 50)[:, None]
        est.predict(X), est.predict_proba(X), est.score_samples(X), est.score(X)
        est.sample(5)
        """
    )
    # Reading the file is ArviZ's job (the trace is its InferenceData); fitting is PyMC's.
    assert imported == "['arviz']"
