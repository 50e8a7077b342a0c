"""scikit-learn's own estimator checks, on the default estimator."""

import os
import subprocess
import sys
import textwrap

from sklearn.utils.estimator_checks import parametrize_with_checks

from bayes_gmm import BayesianMCMCMixture


@parametrize_with_checks([BayesianMCMCMixture()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_array_api_check_in_a_process_with_scipy_array_api():
    """The one check above that scikit-learn skips here, run where it can run.

    ``check_array_api_input`` needs SCIPY_ARRAY_API=1 before scipy is first imported,
    which a pytest process that already imported scipy cannot do.
    """
    script = textwrap.dedent(
        """
        from sklearn.utils.estimator_checks import check_array_api_input
        from bayes_gmm import BayesianMCMCMixture
        check_array_api_input(
            "BayesianMCMCMixture",
            BayesianMCMCMixture(),
            array_namespace="numpy",
            expect_only_array_outputs=False,
        )
        """
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True)
