"""The fit is a value: analyses read it, nothing public changes it; derived quantities and notes give a new fit.
Also: LOO and WAIC as ArviZ results, the burn-in table's names, and the report at 80 columns."""

import dataclasses
import io

import numpy as np
import pytest
from rich.console import Console

import multilevel as ml
from multilevel.report.tables import print_estimates
from multilevel.report.text import print_report

from .conftest import quick


@pytest.fixture(scope="module")
def fit():
    return ml.fit("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"), **quick())


def test_a_fit_cannot_be_changed(fit):
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.seed = 3
    with pytest.raises(TypeError):
        fit.timings["total"] = 0.0
    with pytest.raises(TypeError):
        fit.draws["b"] = np.zeros(1)
    with pytest.raises(AttributeError):
        fit.environment.append("a note")
    fit.diagnostics.append("not kept")  # a copy
    assert "not kept" not in fit.diagnostics


def test_a_fit_pickles_as_its_values(fit):
    import pickle

    again = pickle.loads(pickle.dumps(fit.with_notes("kept")))
    assert type(again) is type(fit) and "kept" in again.environment
    np.testing.assert_array_equal(again.summary().to_numpy(), fit.summary().to_numpy())


def test_derive_returns_a_table_and_leaves_the_fit_alone(fit):
    table = fit.derive({"per_week": "7 * Days"})
    np.testing.assert_allclose(table.loc["per_week", "mean"], 7 * fit.summary().loc["Days", "mean"])
    assert fit.quantities == ml.results.derived.Quantities() and fit.derived_quantities().empty
    carrying = fit.with_quantities({"per_week": "7 * b"}, labels={"b": "Days"})
    assert carrying is not fit and fit.derived_quantities().empty
    assert list(carrying.derived_quantities().index) == ["per_week"]
    np.testing.assert_allclose(carrying.derived_quantities().loc["per_week", "mean"], table.loc["per_week", "mean"])
    assert carrying.draws is fit.draws  # the new value shares what was computed from the draws
    # the carried definitions can be used by derive, and still nothing changes
    again = carrying.derive({"per_fortnight": "2 * per_week"})
    np.testing.assert_allclose(again.loc["per_fortnight", "mean"], 14 * fit.summary().loc["Days", "mean"])
    assert list(carrying.derived_quantities().index) == ["per_week"]
    with pytest.raises(ml.SpecificationError, match="'Dayz' is not a label or parameter"):
        fit.with_quantities({"bad": "2 * Dayz"})
    noted = fit.with_notes("a note")
    assert "a note" in noted.environment and "a note" not in fit.environment


def test_quantities_are_shown_by_the_report_and_kept_by_save(fit, tmp_path):
    carrying = fit.with_quantities({"per_week": "7 * Days"})
    text = _rendered(carrying, 132)
    assert "Derived quantities (PARAMETERS)" in text and "per_week = 7 * Days" in text
    assert "Derived quantities" not in _rendered(fit, 132)
    carrying.save(tmp_path / "fit.zip")
    restored = ml.load(tmp_path / "fit.zip")
    assert isinstance(restored, ml.Fit) and restored.quantities == carrying.quantities
    np.testing.assert_allclose(restored.derived_quantities()["mean"], carrying.derived_quantities()["mean"])
    assert restored.diagnostics == fit.diagnostics


def test_loo_and_waic_are_arviz_results_that_match_the_criteria_table(fit):
    from arviz_stats import ELPDData

    table = fit.information_criteria()
    loo, waic = fit.loo(), fit.waic()
    assert isinstance(loo, ELPDData) and isinstance(waic, ELPDData) and waic.kind == "waic"
    np.testing.assert_allclose([loo.elpd, loo.se, loo.p], table.loc["LOO", ["elpd", "se", "p"]])
    np.testing.assert_allclose([waic.elpd, waic.se, waic.p], table.loc["WAIC", ["elpd", "se", "p"]])
    assert loo.pareto_k.size == waic.elpd_i.size == fit.data.n
    with pytest.raises(ml.SpecificationError, match="likelihood must be 'conditional' or 'marginal'"):
        fit.waic("joint")


def test_burn_in_rows_are_named_as_in_the_summary(fit, mar_fit):
    for each in (fit, mar_fit[2]):
        names = set(each.burn_in_psr(rows=20)["parameter"])
        assert names and names <= set(each.summary().index), names - set(each.summary().index)
    from multilevel.results.burn_in import site_labels

    spec = mar_fit[2].spec
    assert site_labels(fit.spec, "L_0", 1) == ["cor(Days, Intercept | Subject)"]
    assert site_labels(spec, "x ~ sd", 1) == ["x ~ sd(Intercept | g)"]


def _rendered(each, width: int = 80) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    print_report(each, console)
    return console.export_text()


@pytest.mark.parametrize("which", ["slopes", "imputed"])
def test_the_report_at_80_columns_shows_every_name_whole(fit, mar_fit, which):
    each = fit if which == "slopes" else mar_fit[2]
    text = _rendered(each)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    for name in each.summary().index:
        assert any(name in line for line in lines), name  # on one line, never folded
    if which == "imputed":
        for name in each.residual_correlations().index:
            assert any(line.startswith(name) for line in lines), name  # the labels column is not lost


def test_a_table_too_wide_for_the_terminal_leaves_out_columns_and_never_breaks_a_word():
    import pandas as pd

    names = ["cor(a_rather_long_predictor_name, Intercept | classroom_identifier)", "x"]
    frame = pd.DataFrame({column: [1234.5678, -0.5] for column in
                          ("median", "mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk", "ess_tail")}, index=names)
    console = Console(width=80, record=True, file=io.StringIO())
    print_estimates(console, "Estimates", frame)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "not shown at this width" in text
    for word in names[0].split():
        assert word in text  # wrapped at spaces if at all
    wide = Console(width=200, record=True, file=io.StringIO())
    print_estimates(wide, "Estimates", frame)
    text = wide.export_text()
    assert names[0] in text and "not shown" not in text
