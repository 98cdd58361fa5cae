"""Missing normal values integrated out of the likelihood, end to end: the API and the CLI, the output saying
which variables were integrated, the imputations drawn afterwards, saving. (Agreement with the sampled-values
model on the seed-001 data, 2 x 4 x 1000 draws: tests/statistical/test_integrated_engine.py.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel.cli import main
from multilevel.results.data_summary import data_summary

DATA = Path(__file__).parent / "data" / "04_multilevel.csv"
FORMULA = "y ~ x1i + x2i + x3i + x2i:x3i + (1 + x1i | j)"
OPTIONS = {"predictor_models": ["x1i ~ x2i + x3i", "x2i ~ x3i"],
           "missingness_models": ["y.missing ~ y + x1i + x2i + x3i + x2i:x3i"]}


def _small() -> pd.DataFrame:
    """The seed-001 data's first 12 clusters (a quick fit)."""
    data = pd.read_csv(DATA)
    return data[data["j"] <= 12].reset_index(drop=True)


@pytest.mark.slow
def test_the_fit_says_what_was_integrated_and_imputes_it(tmp_path):
    data = _small()
    before = data.copy()
    fit = ml.fit(FORMULA, data, chains=2, warmup=300, draws=200, seed=5, progress=False, **OPTIONS)
    pd.testing.assert_frame_equal(data, before)
    assert fit.config.dense_mass == "population"  # "auto" for a missing-data model
    assert "'x1i', 'x2i', 'y' integrated out" in data_summary(fit.spec, fit.data)["missing_values_handling"]
    for name in ("x1i", "x2i", "y"):
        missing = data[name].isna()
        assert missing.any() and np.isfinite(fit.draws[f"imputed {name}"]).all()
        assert fit.draws[f"imputed {name}"].shape[-1] == int(missing.sum())
    completed = fit.imputations(3)
    assert set(completed["imputation"]) == {1, 2, 3} and not completed[["x1i", "x2i", "y"]].isna().any().any()
    for name in ("x1i", "x2i", "y"):  # the observed values kept, the missing ones filled and varying
        first = completed[completed["imputation"] == 1][name].to_numpy()
        second = completed[completed["imputation"] == 2][name].to_numpy()
        seen = data[name].notna().to_numpy()
        np.testing.assert_allclose(first[seen], data.loc[seen, name])
        assert np.all(first[~seen] != second[~seen])
    path = tmp_path / "integrated.nc"
    fit.save(path)
    loaded = ml.load(path)
    np.testing.assert_allclose(loaded.draws["imputed y"], fit.draws["imputed y"])
    pd.testing.assert_frame_equal(loaded.summary(), fit.summary())


@pytest.mark.slow
def test_cli_integrates_by_default_and_samples_when_asked(tmp_path, capsys):
    csv = tmp_path / "small.csv"
    _small().to_csv(csv, index=False)
    arguments = ["fit", "--data", str(csv), "--model", FORMULA, "--chains", "2", "--warmup", "150", "--draws", "100",
                 "--no-progress", "--seed", "2"]
    for stated in OPTIONS["predictor_models"]:
        arguments += ["--predictor-model", stated]
    arguments += ["--missingness-model", OPTIONS["missingness_models"][0]]
    assert main(arguments) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "missing values of 'x1i', 'x2i', 'y' integrated out of the likelihood" in printed
    assert main(arguments + ["--sample-missing"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "missing values of 'x1i', 'x2i', 'y' sampled as parameters (integrate=False)" in printed


def test_a_model_that_is_not_conditionally_gaussian_says_why_it_samples():
    data = _small()
    model = ml.Model("y ~ x1i + x2i + I(x1i * x2i) + (1 | j)", data, predictor_models=["x1i ~ x2i + x3i", "x2i ~ x3i"])
    note = data_summary(model.spec, model.data)["missing_values_handling"]
    assert "sampled as parameters" in note and "not linear in them" in note, note
    assert ml.Model(FORMULA, data, **OPTIONS).spec.options["integrate"] is True
