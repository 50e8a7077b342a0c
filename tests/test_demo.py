"""``python -m bayes_gmm demo``: the 2015 PyMC notebook's analysis from the command line."""

import subprocess
import sys

import pandas as pd

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm.__main__ import main
from bayes_gmm._demo import posterior_table


def test_demo_prints_the_posterior_and_writes_its_outputs(tmp_path, capsys):
    main(["demo", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    for expected in (
        "weights[0]",
        "means[2, 0]",
        "sigma[0]",
        "r_hat",
        "ess_bulk",
        "hdi_3%",
        "adjusted Rand index",
        "point 0: true cluster 2, data value 3.29",
        "fit time:",
    ):
        assert expected in out
    table = pd.read_csv(tmp_path / "posterior_summary.csv", index_col=0)
    assert list(table.columns) == ["mean", "sd", "hdi_3%", "hdi_97%", "r_hat", "ess_bulk"]
    assert len(table) == 7
    # The fit file is one that load reads, and it holds the fit whose table was written.
    loaded = BayesianMCMCMixture.load(tmp_path / "fit.nc")
    pd.testing.assert_frame_equal(posterior_table(loaded), table, check_exact=False, atol=1e-9)


def test_help_answers_without_sampling():
    result = subprocess.run(
        [sys.executable, "-m", "bayes_gmm", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in result.stdout
