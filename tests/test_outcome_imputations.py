"""Missing outcomes of families whose likelihood leaves them out (bernoulli, poisson) are imputed from the
posterior predictive distribution (issue 15, item 6); an undeclared 0/1 predictor imputed as continuous is
said so."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel.errors import ModelNote
from tests.conftest import quick


def _counts_and_choices(seed: int = 8, n: int = 240, groups: int = 12) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), n // groups)
    x = rng.normal(size=n)
    u = rng.normal(scale=0.3, size=groups)[g]
    probability = 1 / (1 + np.exp(-(-0.3 + 1.5 * x + u)))
    rate = np.exp(0.5 + 0.6 * x + u)
    frame = pd.DataFrame({"choice": (rng.random(n) < probability).astype(float), "count": rng.poisson(rate),
                          "x": x, "g": g}).astype({"count": float})
    hidden = rng.random(n) < 0.25
    frame.loc[hidden, "choice"] = np.nan
    frame.loc[rng.random(n) < 0.25, "count"] = np.nan
    return frame, {"probability": probability, "rate": rate}


@pytest.mark.parametrize("family", ["bernoulli", "poisson"])
def test_missing_outcomes_of_a_family_that_leaves_them_out_are_imputed(family):
    frame, truth = _counts_and_choices()
    outcome = "choice" if family == "bernoulli" else "count"
    missing = frame[outcome].isna().to_numpy()
    fit = ml.fit(f"{outcome} ~ x + (1 | g)", frame, family=family, **quick(chains=2, warmup=200, draws=250))
    stacked = fit.imputations(10)
    imputed = stacked.loc[np.tile(missing, 10), outcome].to_numpy()
    assert not np.isnan(imputed).any() and (imputed == np.round(imputed)).all() and (imputed >= 0).all()
    if family == "bernoulli":
        assert set(np.unique(imputed)) == {0.0, 1.0}
    observed = stacked.loc[np.tile(~missing, 10), outcome].to_numpy()
    np.testing.assert_array_equal(observed, np.tile(frame[outcome].to_numpy()[~missing], 10))  # data kept
    # each missing row's average imputation follows its own expected outcome (its posterior predictive mean)
    average = fit.average_imputation()[outcome].to_numpy()[missing]
    expected = (truth["probability"] if family == "bernoulli" else truth["rate"])[missing]
    assert np.corrcoef(average, expected)[0, 1] > 0.85
    assert abs(average.mean() - expected.mean()) < 0.15 * expected.mean()
    assert outcome in fit.imputed_data_summaries().index
    assert frame[outcome].isna().sum() == missing.sum()  # the user's data are not modified


def test_cli_writes_imputed_bernoulli_outcomes(tmp_path):
    from multilevel.cli import main

    frame, _ = _counts_and_choices(9)
    frame.to_csv(tmp_path / "choices.csv", index=False)
    assert main(["fit", "--data", str(tmp_path / "choices.csv"), "--model", "choice ~ x + (1 | g)", "--family",
                 "bernoulli", "--chains", "2", "--warmup", "150", "--draws", "100", "--seed", "3", "--no-progress",
                 "--imputations", str(tmp_path / "imps.csv"), "--nimps", "3"]) == 0
    completed = pd.read_csv(tmp_path / "imps.csv")
    assert completed["choice"].notna().all() and set(completed["choice"]) == {0, 1}


def test_an_undeclared_binary_predictor_imputed_as_continuous_is_said_so():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"y": rng.normal(size=80), "male": (rng.random(80) < 0.5).astype(float),
                          "g": np.repeat(np.arange(8), 10)})
    frame.loc[:9, "male"] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ml.Model("y ~ male + (1 | g)", frame)
    notes = [str(w.message) for w in caught if issubclass(w.category, ModelNote)]
    assert any("'male' has only the values 0 and 1 but is imputed as continuous" in note
               and "ordinal=['male']" in note and "ORDINAL: male;" in note for note in notes), notes
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ml.Model("y ~ male + (1 | g)", frame, ordinal=["male"])
    assert not [w for w in caught if "imputed as continuous" in str(w.message)]
