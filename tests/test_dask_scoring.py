"""Scoring a Dask array block by block: ``dask.array.map_blocks`` and dask-ml's ParallelPostFit.

Each block is scored on its own, so an array larger than memory is never materialised:
the results must equal those of the estimator on the whole array in memory, with one
output block per input block.
"""

import numpy as np
import pytest

from bayes_gmm import BayesianMCMCMixture
from tests.conftest import FAST

da = pytest.importorskip("dask.array")

BLOCK = 700  # does not divide the number of points: the last block is shorter


def _big(X, copies=8):
    """The data repeated, shifted so that no two copies agree, as a lazy Dask array."""
    shifts = np.linspace(-1.0, 1.0, copies)
    big = np.concatenate([X + shift for shift in shifts])
    return big, da.from_array(big, chunks=(BLOCK, X.shape[1]))


def test_map_blocks_scores_a_dask_array_block_by_block(seed_fit, seed_data):
    big, lazy = _big(seed_data[0])
    log_density = lazy.map_blocks(seed_fit.score_samples, drop_axis=1, dtype=np.float64)
    proba = lazy.map_blocks(
        seed_fit.predict_proba, chunks=(lazy.chunks[0], seed_fit.n_components), dtype=np.float64
    )
    labels = lazy.map_blocks(seed_fit.predict, drop_axis=1, dtype=np.int64)
    assert log_density.numblocks == labels.numblocks == (lazy.numblocks[0],)
    np.testing.assert_array_equal(labels.compute(), seed_fit.predict(big))
    np.testing.assert_allclose(log_density.compute(), seed_fit.score_samples(big), rtol=1e-12)
    np.testing.assert_allclose(log_density.mean().compute(), seed_fit.score(big), rtol=1e-12)
    np.testing.assert_allclose(proba.compute(), seed_fit.predict_proba(big), rtol=1e-12)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # short chains
def test_parallel_post_fit_fits_in_memory_and_predicts_a_dask_array(seed_data):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, _ = seed_data
    wrapped = wrappers.ParallelPostFit(BayesianMCMCMixture(**FAST)).fit(X)
    est = wrapped.estimator
    np.testing.assert_array_equal(wrapped.classes_, np.arange(est.n_components))
    big, lazy = _big(X)
    labels, proba = wrapped.predict(lazy), wrapped.predict_proba(lazy)
    assert labels.numblocks == (lazy.numblocks[0],)
    assert proba.numblocks == (lazy.numblocks[0], 1)
    np.testing.assert_array_equal(labels.compute(), est.predict(big))
    np.testing.assert_allclose(proba.compute(), est.predict_proba(big), rtol=1e-12)
