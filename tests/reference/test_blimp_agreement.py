"""Agreement with Blimp 4.1 on the Blimp book's teaching data (logs in data/blimp_book/).

The scripts in tests/data/blimp_book/ state the book's models; we fit them with
``priors="blimp"`` (Blimp's default priors) and compare posterior medians with Blimp's
"Estimate" column: within 0.25 posterior SD for coefficients and standardized coefficients,
0.5 SD for variance components and proportions of variance explained. Blimp's own Monte
Carlo error is part of that margin (its N_Eff is as low as 107 for these correlations).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import multilevel as ml

from .blimp_log import read_blimp_log

HERE = Path(__file__).parent
SCRIPTS = HERE.parent / "data" / "blimp_book"
LOGS = HERE / "data" / "blimp_book"
COEFFICIENT_TOLERANCE = 0.25
VARIANCE_TOLERANCE = 0.5
SHORT = dict(warmup=1000, draws=1500, progress=False, warn=False)


def our_name(section: str, parameter: str, factor: str) -> str:
    """Blimp's parameter label → the row name in our tables."""
    if section == "Proportion Variance Explained":
        return {"by Coefficients": "coefficients", "by Level-2 Random Intercepts": f"random intercepts | {factor}",
                "by Level-2 Random Slopes": f"random slopes | {factor}",
                "by Level-1 Residual Variation": "residual"}[parameter]
    renamed = {"Residual Var.": "residual var", "Residual SD": "residual sd"}
    if parameter in renamed:
        return renamed[parameter]
    for blimp, ours in (("Var(", "var("), ("Cov(", "cov("), ("SD(", "sd("), ("Cor(", "cor(")):
        if parameter.startswith(blimp):
            inner = parameter[len(blimp):-1].replace(",", ", ")
            return f"{ours}{_term(inner)} | {factor})"
    return _term(parameter)


def _term(text: str) -> str:
    return ", ".join(f"I({part})" if "^" in part else part for part in text.split(", "))


def compare(fit, reference: pd.DataFrame, factor: str) -> list[tuple]:
    ours = pd.concat([fit.summary(), fit.standardized_coefficients().set_axis(
        [f"standardized {name}" for name in fit.standardized_coefficients().index]), fit.variance_explained()])
    report = []
    for row in reference.itertuples():
        if row.section == "Proportion Variance Explained" and row.sd == 0:
            continue  # "by Coefficients" in an empty model: exactly 0
        name = our_name(row.section, row.parameter, factor)
        if row.section == "Standardized Coefficients":
            name = f"standardized {name}"
        mine = ours.loc[name]
        coefficient = row.section in ("Coefficients", "Standardized Coefficients")
        tolerance = COEFFICIENT_TOLERANCE if coefficient else VARIANCE_TOLERANCE
        distance = (mine["median"] - row.estimate) / mine["sd"]
        report.append((name, round(float(distance), 3), tolerance, round(float(mine["ess_bulk"]))))
    return report


def check(fit, reference, factor="person", minimum_ess=400):
    assert not reference.empty
    report = compare(fit, reference, factor)
    low = [item for item in report if item[3] < minimum_ess]
    assert not low, f"too few effective draws to compare: {low}"
    failures = [item for item in report if abs(item[1]) > item[2]]
    assert not failures, report


@pytest.fixture(scope="module")
def growth_log():
    return read_blimp_log(LOGS / "7.3_growth_model_random_slopes.log")


def test_empty_model_matches_blimp(growth_log):
    fit = ml.fit_script(SCRIPTS / "empty.imp", priors="blimp", **SHORT)
    check(fit, growth_log[growth_log.run == 1])


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_linear_growth_with_random_slopes_matches_blimp(growth_log):
    fit = ml.fit_script(SCRIPTS / "growth_linear.imp", priors="blimp", **SHORT)
    reference = growth_log[growth_log.run == 2]
    assert set(reference.section) >= {"Variances", "Coefficients", "Standardized Coefficients",
                                      "Proportion Variance Explained"}
    check(fit, reference, minimum_ess=400)


@pytest.mark.statistical
def test_quadratic_growth_matches_blimp(growth_log):
    fit = ml.fit_script(SCRIPTS / "growth_quadratic.imp", priors="blimp", warmup=2000, draws=3000,
                        progress=False, warn=False)
    check(fit, growth_log[growth_log.run == 4])


@pytest.mark.statistical
def test_quadratic_growth_with_three_random_effects_matches_blimp(growth_log, tmp_path):
    """Blimp's N_Eff is 37-100 for these variance components: its medians carry more noise than ours."""
    script = (SCRIPTS / "growth_quadratic.imp").read_text().replace("| visit;", "| visit visit^2;")
    (tmp_path / "medtriallong.csv").write_bytes((SCRIPTS / "medtriallong.csv").read_bytes())
    (tmp_path / "random_quadratic.imp").write_text(script)
    fit = ml.fit_script(tmp_path / "random_quadratic.imp", priors="blimp", warmup=1000, draws=1500,
                        progress=False, warn=False)
    check(fit, growth_log[growth_log.run == 5])


def test_cli_runs_a_book_script_with_blimps_priors(capsys, monkeypatch):
    from multilevel.cli import main

    monkeypatch.setenv("COLUMNS", "200")  # output redirected: tables as wide as COLUMNS, so no cell wraps

    assert main(["fit", str(SCRIPTS / "empty.imp"), "--prior-defaults", "blimp", "--warmup", "300", "--draws", "300",
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "flat on the variance (inverse-Wishart, zero matrix, df = -2)" in printed and "Blimp default" in printed
    assert "Proportion of variance explained" in printed and "random intercepts | person" in printed
    assert "integrated out of the likelihood" in printed


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_missing_data_patterns_and_an_incomplete_binary_predictor_on_book_data():
    """mathprobsolve: Blimp's pattern table (7.1 log) and a binary predictor (ORDINAL) imputed by summing out."""
    fit = ml.fit_script(SCRIPTS / "probsolve_ordinal.imp", chains=2, warmup=300, draws=300, progress=False,
                        warn=False)
    patterns = fit.missing_data_patterns()
    blimp_percent = [66.2, 17.8, 7.1, 5.8, 1.4, 1.2, 0.4]  # "DATA INFORMATION" of 7.1_empty_model.log
    np.testing.assert_allclose(patterns["percent"].round(1), blimp_percent)
    assert patterns.loc[2, "probsolve"] and not patterns.loc[2, ["hispanic", "stanmath"]].any()
    hispanic = fit.spec.submodels[-1] if fit.spec.submodels[-1].outcome == "hispanic" else fit.spec.submodels[0]
    assert hispanic.family == "ordinal" and hispanic.categories == (0.0, 1.0)
    completed = fit.imputations(2)
    assert set(completed["hispanic"].unique()) == {0.0, 1.0} and len(completed) == 2 * 982  # no row dropped
