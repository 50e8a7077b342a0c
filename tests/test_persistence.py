"""Pickle, joblib and the netCDF save/load that never unpickles."""

import pickle
import warnings

import h5py
import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture, _persistence
from bayes_gmm.datasets import make_notebook_data
from tests.conftest import SAMPLERS


@pytest.fixture(scope="module")
def frame_fit():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-4, 1, (60, 2)), rng.normal(4, 1, (60, 2))])
    frame = pd.DataFrame(X, columns=["height", "width"])
    est = BayesianMCMCMixture(2, covariance_type="diag", draws=100, tune=100, random_state=0)
    return est.fit(frame), frame


@pytest.fixture(scope="module", params=[s for s in SAMPLERS if s != "gibbs"])
def other_sampler_fit(request):
    """A fit by each sampler but the default, short: the model and the files are under test."""
    X, _ = make_notebook_data(60)
    est = BayesianMCMCMixture(sampler=request.param, draws=10, tune=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X), X


def _assert_model_rebuilt(restored, fitted, X):
    """``model_`` of a restored fit is the model ``fitted`` sampled, built again."""
    assert "_model" not in vars(restored)
    model = restored.model_
    assert model is not fitted.model_
    assert model.str_repr() == fitted.model_.str_repr()
    assert {rv.name for rv in model.free_RVs} == {rv.name for rv in fitted.model_.free_RVs}
    np.testing.assert_array_equal(model.rvs_to_values[model["obs"]].data, X)


def test_pickled_fit_of_every_sampler_rebuilds_its_model(other_sampler_fit):
    est, X = other_sampler_fit
    _assert_model_rebuilt(pickle.loads(pickle.dumps(est)), est, X)


def test_save_load_round_trip_of_every_sampler(other_sampler_fit, tmp_path):
    est, X = other_sampler_fit
    est.save(tmp_path / "fit.nc")
    loaded = BayesianMCMCMixture.load(tmp_path / "fit.nc")
    assert loaded.get_params() == est.get_params()
    assert (
        loaded.sample_trace_.posterior.attrs["sampler"]
        == est.sample_trace_.posterior.attrs["sampler"]
    )
    assert loaded.convergence_ == est.convergence_
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    _assert_model_rebuilt(loaded, est, X)


def test_pickle_and_joblib_round_trips(seed_fit, seed_data, tmp_path):
    X, _ = seed_data
    expected = seed_fit.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(seed_fit)).predict_proba(X), expected)
    joblib.dump(seed_fit, tmp_path / "fit.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "fit.joblib").predict_proba(X), expected)


def test_save_load_round_trip(seed_fit, seed_data, tmp_path):
    X, _ = seed_data
    path = tmp_path / "fit.nc"
    seed_fit.save(path)
    loaded = BayesianMCMCMixture.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), seed_fit.predict_proba(X))
    np.testing.assert_array_equal(loaded.score_samples(X), seed_fit.score_samples(X))
    np.testing.assert_array_equal(loaded.labels_, seed_fit.labels_)
    assert loaded.get_params() == seed_fit.get_params()
    for name in (
        "weights_",
        "means_",
        "covariances_",
        "sd_upper_",
        "mean_prior_scale_",
        "classes_",
    ):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(seed_fit, name))
    assert loaded.order_feature_ == seed_fit.order_feature_
    assert loaded.convergence_ == seed_fit.convergence_
    assert set(loaded.sample_trace_.groups()) == set(seed_fit.sample_trace_.groups())
    # The fitted trace's own attributes are not polluted by saving.
    assert not any(a.startswith("bayes_gmm") for a in seed_fit.sample_trace_.posterior.attrs)
    assert not any(a.startswith("bayes_gmm") for a in loaded.sample_trace_.posterior.attrs)
    assert loaded.model_.str_repr() == seed_fit.model_.str_repr()


def test_save_load_keeps_feature_names(frame_fit, tmp_path):
    est, frame = frame_fit
    est.save(tmp_path / "frame.nc")
    loaded = BayesianMCMCMixture.load(tmp_path / "frame.nc")
    np.testing.assert_array_equal(loaded.feature_names_in_, ["height", "width"])
    np.testing.assert_array_equal(loaded.predict(frame), est.predict(frame))
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(frame.rename(columns={"width": "depth"}))


def test_load_warns_on_version_mismatch(seed_fit, tmp_path, monkeypatch):
    path = tmp_path / "fit.nc"
    real = _persistence.library_versions()
    monkeypatch.setattr(_persistence, "library_versions", lambda: {**real, "pymc": "0.0.1"})
    seed_fit.save(path)
    monkeypatch.undo()
    with pytest.warns(UserWarning, match=r"saved with pymc 0.0.1 \(now "):
        BayesianMCMCMixture.load(path)


def test_load_rejects_files_that_are_not_ours(seed_fit, tmp_path):
    truncated = tmp_path / "truncated.nc"
    seed_fit.save(tmp_path / "whole.nc")
    truncated.write_bytes((tmp_path / "whole.nc").read_bytes()[:2000])
    with pytest.raises(ValueError, match="not a readable netCDF file"):
        BayesianMCMCMixture.load(truncated)

    garbage = tmp_path / "garbage.nc"
    garbage.write_bytes(b"\x80\x04\x95 this is not netCDF, and not to be unpickled either")
    with pytest.raises(ValueError, match="not a readable netCDF file"):
        BayesianMCMCMixture.load(garbage)

    foreign = tmp_path / "foreign.nc"
    with h5py.File(foreign, "w") as handle:
        handle.create_group("posterior").create_dataset("x", data=np.zeros(3))
    with pytest.raises(ValueError, match=r"not one written by BayesianMCMCMixture\.save"):
        BayesianMCMCMixture.load(foreign)

    with pytest.raises(FileNotFoundError):
        BayesianMCMCMixture.load(tmp_path / "missing.nc")


def test_load_rejects_an_unknown_format_version(seed_fit, tmp_path):
    path = tmp_path / "fit.nc"
    seed_fit.save(path)
    newer = _persistence.FORMAT_VERSION + 1
    with h5py.File(path, "a") as handle:
        handle["posterior"].attrs["bayes_gmm_format_version"] = newer
    readable = ", ".join(map(str, _persistence.READABLE_VERSIONS))
    message = rf"has format version {newer}; this bayes_gmm reads versions {readable}\."
    with pytest.raises(ValueError, match=message):
        BayesianMCMCMixture.load(path)


def test_load_reads_a_version_1_file(seed_fit, seed_data, tmp_path):
    """Version 1 (0.1.0, diagonal types only) stored the same metadata for those types."""
    path = tmp_path / "fit.nc"
    seed_fit.save(path)
    with h5py.File(path, "a") as handle:
        handle["posterior"].attrs["bayes_gmm_format_version"] = 1
    loaded = BayesianMCMCMixture.load(path)
    X, _ = seed_data
    np.testing.assert_array_equal(loaded.predict_proba(X), seed_fit.predict_proba(X))


def test_load_rejects_damaged_metadata(seed_fit, tmp_path):
    path = tmp_path / "fit.nc"
    seed_fit.save(path)
    with h5py.File(path, "a") as handle:
        handle["posterior"].attrs["bayes_gmm_params"] = "{not json"
    with pytest.raises(ValueError, match="damaged bayes_gmm metadata"):
        BayesianMCMCMixture.load(path)


def test_saved_file_size(seed_fit, tmp_path):
    path = tmp_path / "fit.nc"
    seed_fit.save(path)
    # Posterior, categories (int8) and log-likelihood of 2 x 1000 draws of 500 points,
    # compressed: a few MB at most.
    assert path.stat().st_size < 8 * 2**20


def test_save_load_numpy_scalar_parameters_and_half_normal_prior(seed_data, tmp_path):
    """GridSearchCV hands out numpy scalars; the half-normal prior has an infinite sd_upper_."""
    X, _ = seed_data
    est = BayesianMCMCMixture(
        np.int64(3), sd_prior="halfnormal", draws=np.int64(100), tune=100, random_state=0
    ).fit(X)
    est.save(tmp_path / "fit.nc")
    loaded = BayesianMCMCMixture.load(tmp_path / "fit.nc")
    assert loaded.get_params()["n_components"] == 3
    np.testing.assert_array_equal(loaded.sd_prior_scale_, est.sd_prior_scale_)
    assert np.isinf(loaded.sd_upper_).all()
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


def test_save_writes_the_parameters_of_the_fit(seed_fit, tmp_path):
    changed = pickle.loads(pickle.dumps(seed_fit)).set_params(n_components=5)
    changed.save(tmp_path / "fit.nc")
    assert BayesianMCMCMixture.load(tmp_path / "fit.nc").n_components == 3
