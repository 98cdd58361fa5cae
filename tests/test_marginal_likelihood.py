"""The marginal pointwise likelihood p(y_i | observed predictors, draw): the closed form for Gaussian
models linear in the imputed variables agrees with the importance-sampling estimate, and its
conditioning step agrees with the textbook covariance-form formula."""

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel.results import marginal
from multilevel.results.marginal_gaussian import _conditional, linear_in_imputed


def test_the_precision_form_conditioning_is_the_covariance_form():
    rng = np.random.default_rng(0)
    K, rows = 3, 8
    a = rng.normal(size=(2, rows, K))
    B = np.tril(rng.normal(scale=0.6, size=(2, rows, K, K)), k=-1)  # each variable on earlier ones
    precision = 1.0 / rng.uniform(0.3, 2.0, size=(2, 1, K)) ** 2
    c = rng.normal(size=(2, rows, K))
    values = rng.normal(size=(rows, K))
    missing = np.array([[(row >> k) & 1 for k in range(K)] for row in range(rows)], dtype=float)  # all patterns
    mean, variance = _conditional(a, B, precision, c, values, missing)
    for s in range(2):
        for i in range(rows):
            A = np.linalg.inv(np.eye(K) - B[s, i])
            mu, sigma = A @ a[s, i], A @ np.diag(1 / precision[s, 0]) @ A.T
            m, o = missing[i] > 0, missing[i] == 0
            expected, covariance = values[i].copy(), np.zeros((K, K))
            if m.any():
                gain = sigma[np.ix_(m, o)] @ np.linalg.inv(sigma[np.ix_(o, o)]) if o.any() else np.zeros((m.sum(), 0))
                expected[m] = mu[m] + gain @ (values[i, o] - mu[o])
                covariance[np.ix_(m, m)] = sigma[np.ix_(m, m)] - gain @ sigma[np.ix_(o, m)]
            assert mean[s, i] == pytest.approx(c[s, i] @ expected, abs=1e-10)
            assert variance[s, i] == pytest.approx(c[s, i] @ covariance @ c[s, i], abs=1e-10)


@pytest.fixture(scope="module")
def chained_fit():
    """x2 ~ x3, x1 ~ x2 + x3 (+ a cluster effect), y ~ x1 + x2*x3 + (1 + x1 | g); x1, x2 and y incomplete."""
    rng = np.random.default_rng(4)
    groups, size = 30, 10
    n = groups * size
    g = np.repeat(np.arange(groups), size)
    x3 = rng.normal(size=n)
    x2 = 0.5 * x3 + rng.normal(size=n)
    x1 = 0.4 * x2 - 0.3 * x3 + rng.normal(scale=0.8, size=n) + rng.normal(scale=0.3, size=groups)[g]
    u = rng.normal(scale=0.5, size=(groups, 2))
    y = 1 + (0.8 + u[g, 1]) * x1 + 0.5 * x2 + 0.3 * x3 + 0.4 * x2 * x3 + u[g, 0] + rng.normal(scale=0.7, size=n)
    frame = pd.DataFrame({"y": y, "x1": x1, "x2": x2, "x3": x3, "g": g})
    for column, share in (("x1", 0.25), ("x2", 0.25), ("y", 0.1)):
        frame.loc[rng.random(n) < share, column] = np.nan
    fit = ml.fit("y ~ x1 + x2*x3 + (1 + x1 | g)", frame, chains=2, warmup=300, draws=20, seed=3, progress=False,
                 warn=False)
    return fit, frame


def test_the_closed_form_agrees_with_importance_sampling(chained_fit):
    fit, frame = chained_fit
    models = marginal._integrated_models(fit.spec)
    assert linear_in_imputed(fit.spec, models)  # products with a complete variable and random slopes are linear
    exact = marginal.marginal_pointwise(fit).reshape(40, -1)
    estimate = marginal._monte_carlo(fit, models, 2000, 1)
    seen = frame.loc[frame["y"].notna(), ["x1", "x2"]].isna().to_numpy()
    complete = ~seen.any(axis=1)
    np.testing.assert_allclose(exact[:, complete], estimate[:, complete], atol=1e-10)  # nothing to integrate
    for pattern in ([True, False], [False, True], [True, True]):  # x1 missing, x2 missing (x1 seen), both
        rows = (seen == pattern).all(axis=1)
        difference = exact[:, rows] - estimate[:, rows]
        assert rows.sum() >= 10 and abs(difference.mean()) < 0.01 and np.median(np.abs(difference)) < 0.03


def test_a_complete_variable_regressed_on_a_missing_one_informs_it():
    """y ~ x1 + x2 with x2 complete and stated as x2 ~ x1, x1 incomplete: for a row missing x1,
    p(y | x2) integrates x1 over p(x1 | x2), proportional to p(x2 | x1) p(x1); by hand from each draw."""
    from scipy import stats

    rng = np.random.default_rng(8)
    n = 300
    x1 = rng.normal(size=n)
    x2 = x1 + rng.normal(size=n)
    frame = pd.DataFrame({"y": x1 + x2 + rng.normal(size=n), "x1": x1, "x2": x2})
    frame.loc[rng.random(n) < 0.3, "x1"] = np.nan
    fit = ml.fit("y ~ x1 + x2", frame, predictor_models=["x2 ~ x1"], chains=2, warmup=300, draws=50, seed=5,
                 progress=False, warn=False)
    models = marginal._integrated_models(fit.spec)
    assert [sub.outcome for _, sub in models] == ["x1", "x2"] and linear_in_imputed(fit.spec, models)
    draws = {name: value.reshape(-1, *value.shape[2:]) for name, value in fit.draws.items()}
    first, second = (next(j for j, sub in enumerate(fit.spec.submodels) if sub.outcome == name)
                     for name in ("x1", "x2"))
    m1, s1 = draws[f"submodel {first} Intercept"], draws[f"submodel {first} sigma"]
    a2, b2 = draws[f"submodel {second} Intercept"], draws[f"submodel {second} b"][:, 0]
    s2 = draws[f"submodel {second} sigma"]
    a, b, sigma = draws["Intercept"], draws["b"], draws["sigma"]
    missing = frame["x1"].isna().to_numpy()
    seen_x2 = frame["x2"].to_numpy()[None, missing]
    precision = 1 / s1[:, None] ** 2 + (b2 ** 2 / s2 ** 2)[:, None]
    mean_x1 = (m1[:, None] / s1[:, None] ** 2 + (b2 / s2 ** 2)[:, None] * (seen_x2 - a2[:, None])) / precision
    exact = stats.norm.logpdf(frame["y"].to_numpy()[None, missing], a[:, None] + b[:, :1] * mean_x1
                              + b[:, 1:2] * seen_x2, np.sqrt(sigma[:, None] ** 2 + b[:, :1] ** 2 / precision))
    closed = marginal.marginal_pointwise(fit).reshape(100, -1)
    np.testing.assert_allclose(closed[:, missing], exact, rtol=1e-9)
    estimate = marginal._monte_carlo(fit, models, 2000, 3)
    assert abs((estimate[:, missing] - exact).mean()) < 0.01
