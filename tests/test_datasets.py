"""The data sets, and the names they had in version 0.1.0."""

import pytest

from bayes_gmm import datasets


@pytest.mark.parametrize(("old", "new"), list(datasets._DEPRECATED.items()))
def test_names_of_0_1_0_still_work_and_warn(old, new):
    with pytest.warns(FutureWarning, match=rf"datasets\.{old} is deprecated .* use {new}"):
        value = getattr(datasets, old)
    assert value is getattr(datasets, new)


def test_make_seed_data_still_returns_the_notebook_data():
    with pytest.warns(FutureWarning):
        from bayes_gmm.datasets import make_seed_data
    X, y = make_seed_data()
    assert X.shape == (500, 1) and y.shape == (500,)
    assert y[0] == 2 and round(float(X[0, 0]), 2) == 3.29  # the notebook's point 0


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'make_other_data'"):
        datasets.make_other_data  # noqa: B018
