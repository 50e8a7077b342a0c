"""scikit-learn's own estimator checks, on an estimator with short chains.

The checks fit about 45 times on small random data sets, testing the API, not the
posterior, so short chains serve.
"""

import os
import subprocess
import sys
import textwrap

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from bayes_gmm import BayesianMCMCMixture

# The default, scikit-learn's default covariance type, the sparse mixture, the noise
# component and Student-t components, whose fits run other code. Short chains after the
# warm-up of a default fit (200 sweeps): with 50, on check_clustering's noisy blobs (where
# scikit-learn's BIC prefers two clusters to three), the chain started with one cluster
# fewer sat in another mode for all 50 draws at random_state=0, and labels pooled over
# chains in different modes skipped a component.
CHEAP = [
    BayesianMCMCMixture(draws=50, tune=200),
    BayesianMCMCMixture(covariance_type="full", draws=50, tune=200),
    BayesianMCMCMixture(weight_concentration="sparse", draws=50, tune=200),
    # predict's -1 for noise and predict_proba's extra column, under every check.
    BayesianMCMCMixture(noise_component=True, draws=50, tune=200),
    # The t density and its latent scales, with weights and NaN under the checks.
    BayesianMCMCMixture(distribution="student_t", draws=50, tune=200),
]


# Fitting with integer weights against fitting the repeated rows, prediction for
# prediction: no MCMC sampler can match that, since the two fits sample data of different
# sizes. What the check stands for, the same posterior, is tested in
# tests/test_sample_weight.py (test_weights_are_repetitions and its slow companions), and
# with Student-t components in tests/test_student_t.py.
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "MCMC draws differ between weighted and repeated rows; the posteriors agree "
        "within Monte Carlo error (tests/test_sample_weight.py)"
    )
}


# Such short chains warn that their ESS is low, which is beside the point here.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(CHEAP, expected_failed_checks=lambda estimator: EXPECTED_FAILURES)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", CHEAP, ids=repr)
def test_array_api_check_in_a_process_with_scipy_array_api(estimator):
    """The one check above that scikit-learn skips here, run where it can run.

    ``check_array_api_input`` needs SCIPY_ARRAY_API=1 before scipy is first imported,
    which a pytest process that already imported scipy cannot do.
    """
    script = textwrap.dedent(
        f"""
        from sklearn.utils.estimator_checks import check_array_api_input
        from bayes_gmm import BayesianMCMCMixture
        check_array_api_input(
            "BayesianMCMCMixture",
            {estimator!r},
            array_namespace="numpy",
            expect_only_array_outputs=False,
        )
        """
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True)
