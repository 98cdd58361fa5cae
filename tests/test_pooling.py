"""Rubin's rules, by hand and on completed data sets from a fit."""

import numpy as np
import pandas as pd
import pytest

import multilevel as ml



def test_rubins_rules_by_hand():
    estimates = pd.DataFrame({"b": [1.0, 1.2, 0.9, 1.1], "c": [2.0, 2.0, 2.0, 2.0]})
    variances = pd.DataFrame({"b": [0.04, 0.05, 0.04, 0.03], "c": [0.01, 0.01, 0.01, 0.01]})
    pooled = ml.pool(estimates, variances)
    m, between, within = 4, np.var([1.0, 1.2, 0.9, 1.1], ddof=1), 0.04
    total = within + (1 + 1 / m) * between
    r = (1 + 1 / m) * between / within
    assert pooled.loc["b", "estimate"] == pytest.approx(1.05)
    assert pooled.loc["b", "se"] == pytest.approx(np.sqrt(total))
    assert pooled.loc["b", "df"] == pytest.approx((m - 1) * (1 + 1 / r) ** 2)
    assert pooled.loc["b", "lambda"] == pytest.approx((1 + 1 / m) * between / total)
    df = (m - 1) * (1 + 1 / r) ** 2
    assert pooled.loc["b", "fmi"] == pytest.approx((r + 2 / (df + 3)) / (r + 1))
    # one parameter as plain arrays; DataFrames paired by name, whatever the column order
    single = ml.pool(np.array([1.0, 1.2, 0.9, 1.1]), np.array([0.04, 0.05, 0.04, 0.03]))
    assert single.loc["parameter 1", "estimate"] == pytest.approx(1.05)
    swapped = ml.pool(estimates, variances[["c", "b"]])
    assert swapped.loc["b", "se"] == pytest.approx(pooled.loc["b", "se"])
    # no between-imputation variance: the complete-data answer, with infinite (or complete-data) df
    assert pooled.loc["c", "se"] == pytest.approx(0.1) and np.isinf(pooled.loc["c", "df"])
    assert ml.pool(estimates, variances, complete_df=50).loc["b", "df"] < pooled.loc["b", "df"]
    with pytest.raises(ml.SpecificationError, match="at least two"):
        ml.pool(estimates.head(1), variances.head(1))


def test_pooled_regression_over_imputations_agrees_with_the_posterior(mar_fit):
    _, _, fit = mar_fit
    completed = fit.imputations(20)
    estimates, variances = [], []
    for _, data in completed.groupby("imputation"):  # ordinary least squares on each completed data set
        X = np.column_stack([np.ones(len(data)), data["x"], data["z"]])
        beta, *_ = np.linalg.lstsq(X, data["y"].to_numpy(), rcond=None)
        residual = data["y"].to_numpy() - X @ beta
        covariance = residual @ residual / (len(data) - 3) * np.linalg.inv(X.T @ X)
        estimates.append(beta[1:]), variances.append(np.diag(covariance)[1:])
    pooled = ml.pool(pd.DataFrame(estimates, columns=["x", "z"]), pd.DataFrame(variances, columns=["x", "z"]))
    summary = fit.summary()
    for name in ("x", "z"):
        assert abs(pooled.loc[name, "estimate"] - summary.loc[name, "median"]) < 1.5 * summary.loc[name, "sd"]
    table = fit.imputed_data_summaries(200)
    assert list(table.index) == ["x"] and table.loc["x", "min"] < table.loc["x", "25%"] < table.loc["x", "max"]
