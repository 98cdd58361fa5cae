"""Posterior predictive checks, model comparison, figures, the HTML report and their CLI options."""

import json

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel.cli import main

from .conftest import quick


@pytest.fixture(scope="module")
def sleep_fits():
    data = ml.datasets.load("sleepstudy")
    settings = quick(chains=4, warmup=300, draws=300)
    slopes = ml.fit("Reaction ~ Days + (Days | Subject)", data, **settings)
    intercepts = ml.fit("Reaction ~ Days + (1 | Subject)", data, **settings)
    return slopes, intercepts


def test_ppc_flags_overdispersion_that_a_poisson_model_misses():
    """Counts from a negative binomial (many zeros) fitted as Poisson without random effects: the replicated
    data have too few zeros and too small an SD, and their p-values say so; the mean is reproduced."""
    rng = np.random.default_rng(4)
    n = 400
    x = rng.normal(size=n)
    counts = rng.negative_binomial(1.0, 1.0 / (1.0 + np.exp(0.8 + 0.3 * x)))
    frame = pd.DataFrame({"y": counts, "x": x})
    fit = ml.fit("y ~ x", frame, family="poisson", **quick(chains=2, warmup=300, draws=300))
    table = fit.ppc(draws=300)
    assert {"mean", "sd", "min", "max", "share of zeros"} <= set(table.index)
    assert 0.05 < table.loc["mean", "p-value"] < 0.95
    assert table.loc["share of zeros", "p-value"] < 0.01 and table.loc["sd", "p-value"] < 0.01
    assert table.loc["share of zeros", "observed"] == pytest.approx((counts == 0).mean())
    replicated = fit.posterior_predictive(50)
    assert replicated.shape == (50, n) and (replicated >= 0).all()


def test_ppc_of_a_well_specified_multilevel_model(sleep_fits):
    slopes, _ = sleep_fits
    table = slopes.ppc()
    assert "sd of Subject means" in table.index
    assert table.loc[["mean", "sd", "sd of Subject means"], "p-value"].between(0.05, 0.95).all()


def test_compare_ranks_the_random_slope_model_first(sleep_fits):
    slopes, intercepts = sleep_fits
    table = ml.compare(slopes, intercepts, names=["slopes", "intercepts"])
    assert list(table.index) == ["slopes", "intercepts"]
    # ArviZ's sign convention: differences are negative for the worse models (about -20, SE about 12 here)
    assert table.loc["slopes", "elpd_diff"] == 0 and table.loc["intercepts", "elpd_diff"] < -table.loc[
        "intercepts", "dse"]
    assert table.loc["intercepts", "elpd_diff"] != round(table.loc["intercepts", "elpd_diff"])  # not rounded
    assert table["weight"].sum() == pytest.approx(1.0)
    other = ml.fit("Reaction ~ Days + (1 | Subject)", ml.datasets.load("sleepstudy").iloc[:170], **quick())
    with pytest.raises(ml.SpecificationError, match="other rows"):
        ml.compare(slopes, other)


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_figures_and_html_report(sleep_fits, tmp_path):
    slopes, _ = sleep_fits
    written = slopes.save_plots(tmp_path / "plots")
    names = {path.name for path in written}
    for kind in ("trace", "rank", "posterior", "forest", "caterpillar", "ppc", "residuals"):
        assert f"{kind}.png" in names and f"{kind}.svg" in names, kind
    assert all(path.stat().st_size > 5000 for path in written)
    for kind in ("imputations", "simple_slopes"):  # nothing to show: an error naming the plots that apply
        with pytest.raises(ml.MultilevelError, match=f"no '{kind}' plot: .* Plots for this fit: trace, rank"):
            slopes.plot(kind)
    with pytest.raises(ml.SpecificationError, match="no plot 'tracee'"):
        slopes.plot("tracee")
    report = tmp_path / "report.html"
    slopes.report(report)
    text = report.read_text()
    assert text.count("data:image/png;base64,") == 7 and text.count("<table>") >= 8
    for section in ("Fixed effects", "Information criteria", "Posterior predictive checks", "Burn-in potential",
                    "sd(Days | Subject)"):
        assert section in text, section
    assert "<script" not in text and "http://" not in text and "https://" not in text  # opens offline


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_report_of_a_fit_with_imputations_shows_the_missing_data(tmp_path):
    from .conftest import simulate_mar_on_outcome

    frame, _ = simulate_mar_on_outcome(4)
    plain = ml.fit("y ~ x * z + (1 | g)", frame, **quick())
    fit = plain.with_quantities({"slope_sum": "x + z"}, conditional=[("x", "z")])
    assert plain.quantities.conditional == () and plain.quantities.definitions == ()  # the fit given is not changed
    with pytest.raises(ml.MultilevelError, match="no conditional effects yet"):
        plain.plot("simple_slopes")
    assert fit.plot("imputations") is not None and fit.plot("simple_slopes") is not None
    fit.report(tmp_path / "imputed.html")
    text = (tmp_path / "imputed.html").read_text()
    for section in ("Missing-data patterns", "Imputed data summaries", "conditional on the imputations",
                    "Correlations among level-1 residuals", "predictor model: <code>x ~ 1 + z + (1 | g)</code>",
                    "Conditional effect of x", "slope_sum"):
        assert section in text, section


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_cli_plots_report_checks_and_compare(tmp_path, capsys):
    csv = tmp_path / "sleep.csv"
    ml.datasets.load("sleepstudy").to_csv(csv, index=False)
    common = ["--data", str(csv), "--chains", "2", "--warmup", "300", "--draws", "500", "--seed", "3",
              "--no-progress", "--prior", "Intercept=Normal(300, 100)", "--prior", "fixed=Normal(0, 20)",
              "--prior", "sd=HalfNormal(50)", "--prior", "residual sd=HalfNormal(50)"]
    assert main(["fit", "--model", "Reaction ~ Days + (1 | Subject)", *common, "--plots", str(tmp_path / "p"),
                 "--report", str(tmp_path / "r.html"), "--ppc", "--bayes-factor", "Days = 0",
                 "--marginal-likelihood", "--save", str(tmp_path / "a.zip"),
                 "--json", str(tmp_path / "a.json")]) == 0
    printed = capsys.readouterr().out
    for text in ("Posterior predictive checks", "Bayes factor (Savage-Dickey) for Days = 0",
                 "log marginal likelihood (bridge sampling)", "HTML report written", "figure files written"):
        assert text in printed, text
    assert (tmp_path / "p" / "forest.svg").exists() and (tmp_path / "r.html").stat().st_size > 50_000
    assert json.loads((tmp_path / "a.json").read_text())["information_criteria"][3]["criterion"] == "LOO"
    assert main(["fit", "--model", "Reaction ~ 1 + (1 | Subject)", *common, "--save", str(tmp_path / "b.zip")]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "a.zip"), str(tmp_path / "b.zip"), "--bayes-factor"]) == 0
    printed = capsys.readouterr().out
    assert "Model comparison (PSIS-LOO)" in printed and "Bayes factor a vs b: log BF" in printed
