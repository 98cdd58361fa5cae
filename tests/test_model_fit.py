"""Information criteria, residual correlations and fitted-row predictions (with and without imputations)."""

import numpy as np
import pytest
import pandas as pd

import multilevel as ml

from .conftest import quick


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_effective_number_of_parameters_of_a_linear_regression():
    """With weak priors the effective number of parameters of y ~ x1 + x2 is the 4 free parameters
    (intercept, two slopes, residual SD) for DIC, WAIC and LOO alike, and the criteria agree."""
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    frame["y"] = 1 + 0.5 * frame["x1"] - 0.3 * frame["x2"] + rng.normal(size=n)
    fit = ml.fit("y ~ x1 + x2", frame, **quick(chains=4, warmup=300, draws=500))
    table = fit.information_criteria()
    assert list(table.index) == ["DIC", "DIC2", "WAIC", "LOO"]
    for name in table.index:
        assert abs(table.loc[name, "p"] - 4) < 1.0, name
    assert abs(table.loc["WAIC", "deviance"] - table.loc["LOO", "deviance"]) < 1.0
    assert abs(table.loc["DIC", "deviance"] - table.loc["WAIC", "deviance"]) < 2.0
    # the fitted Gaussian's own deviance at the least-squares solution is a lower bound for D-bar
    X = np.column_stack([np.ones(n), frame[["x1", "x2"]]])
    beta, *_ = np.linalg.lstsq(X, frame["y"], rcond=None)
    residual = frame["y"] - X @ beta
    sigma = np.sqrt(np.mean(residual ** 2))
    minimum = n * np.log(2 * np.pi * sigma ** 2) + n
    assert minimum < table.loc["DIC", "deviance"] < minimum + 2 * 4 + 2.0
    assert table.attrs["notes"]["pareto k"]["above threshold"] == 0
    # computed once per fit (the reports ask again); what a caller does to its copy stays with it
    table.loc["LOO", "elpd"] = 0.0
    table.attrs["notes"]["pareto k"]["above threshold"] = 99
    again = fit.information_criteria()
    assert again.loc["LOO", "elpd"] < 0 and again.attrs["notes"]["pareto k"]["above threshold"] == 0


def test_criteria_residual_correlations_and_predictions_with_imputed_predictors(mar_fit):
    frame, _, fit = mar_fit
    table = fit.information_criteria()
    assert np.isfinite(table.loc[["WAIC", "LOO"], "elpd"]).all()
    assert fit.pointwise_log_likelihood().shape == (4, 250, len(frame))
    assert "log_likelihood" in fit.tree.children
    correlations = fit.residual_correlations()
    assert list(correlations.index) == ["y, x"]
    assert abs(correlations.loc["y, x", "median"]) < 0.1  # the factored models capture the association
    predicted = fit.predict()
    assert predicted.shape == (len(frame), 4)
    assert np.corrcoef(predicted["mean"], frame["y"])[0, 1] > 0.7
    # rows with an imputed x: the prediction uses the draws of x, so its spread is wider than where x is seen
    missing = frame["x"].isna().to_numpy()
    assert predicted["sd"][missing].mean() > predicted["sd"][~missing].mean()


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_marginal_likelihood_integrates_the_imputed_predictor_exactly_where_it_can_be_checked():
    """y = a + b x + e with x ~ N(m, s^2) imputed: given the parameters, y_i without its x is
    N(a + b m, sigma^2 + b^2 s^2) exactly; the marginal pointwise likelihood (its closed form here, checked
    against importance sampling in tests/test_marginal_likelihood.py) must be it."""
    from scipy import stats

    from multilevel.results.marginal import marginal_pointwise

    rng = np.random.default_rng(12)
    n = 300
    x = rng.normal(1.0, 1.5, size=n)
    frame = pd.DataFrame({"y": 2 + 0.8 * x + rng.normal(size=n), "x": x})
    frame.loc[rng.random(n) < 0.3, "x"] = np.nan
    fit = ml.fit("y ~ x", frame, **quick(chains=2, warmup=300, draws=200))
    pointwise = marginal_pointwise(fit, replicates=400).reshape(-1, n)
    draws = {name: value.reshape(-1, *value.shape[2:]) for name, value in fit.draws.items()}
    a, b, sigma = draws["Intercept"], draws["b"][:, 0], draws["sigma"]
    m, s = draws["submodel 0 Intercept"], draws["submodel 0 sigma"]
    missing = frame["x"].isna().to_numpy()
    exact = stats.norm.logpdf(frame["y"].to_numpy()[None, missing], (a + b * m)[:, None],
                              np.sqrt(sigma ** 2 + b ** 2 * s ** 2)[:, None])
    np.testing.assert_allclose(pointwise[:, missing], exact, rtol=1e-9)
    conditional = fit.pointwise_log_likelihood().reshape(-1, n)
    np.testing.assert_allclose(pointwise[:, ~missing], conditional[:, ~missing], rtol=1e-10)  # x seen: the same
    table = fit.information_criteria("marginal")
    assert np.isnan(table.loc["DIC", "deviance"]) and np.isfinite(table.loc["LOO", "elpd"])
    # the marginal LOO of rows with a missing x is lower than the conditional one (less is known about them)
    assert table.loc["LOO", "elpd"] < fit.information_criteria().loc["LOO", "elpd"]
