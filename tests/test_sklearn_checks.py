"""scikit-learn's own estimator checks, on the default estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from bayes_gmm import BayesianMCMCMixture


@parametrize_with_checks([BayesianMCMCMixture()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
