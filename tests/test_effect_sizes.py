"""Standardized coefficients and the variance decomposition (Rights & Sterba), recomputed by hand."""

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel.errors import SpecificationError

from .conftest import quick


def test_variance_decomposition_and_standardized_coefficients_by_hand(sleepstudy):
    fit = ml.fit("Reaction ~ Days + (Days | Subject)", sleepstudy, **quick())
    draws = {name: value.reshape(-1, *value.shape[2:]) for name, value in fit.draws.items()}
    days = sleepstudy["Days"].to_numpy(float)
    b, sd, cor, sigma = draws["b"][:, 0], draws["sd_0"], draws["cor_0"][:, 1, 0], draws["sigma"]
    fixed = b ** 2 * days.var(ddof=1)
    slopes = sd[:, 1] ** 2 * days.var(ddof=1)
    intercepts = sd[:, 0] ** 2 + 2 * days.mean() * cor * sd[:, 0] * sd[:, 1] + days.mean() ** 2 * sd[:, 1] ** 2
    total = fixed + slopes + intercepts + sigma ** 2
    shares = fit.variance_explained()
    for name, part in {"coefficients": fixed, "random slopes | Subject": slopes,
                       "random intercepts | Subject": intercepts, "residual": sigma ** 2}.items():
        np.testing.assert_allclose(shares.loc[name, "mean"], np.mean(part / total), rtol=1e-10)
    np.testing.assert_allclose(shares["mean"].sum(), 1.0, rtol=1e-12)
    standardized = fit.standardized_coefficients()
    np.testing.assert_allclose(standardized.loc["Days", "median"],
                               np.median(b * days.std(ddof=1) / np.sqrt(total)), rtol=1e-10)


def test_latent_scale_for_binary_outcomes_and_a_clear_error_for_counts():
    data = ml.datasets.load("cbpp")
    fit = ml.fit("incidence | trials(size) ~ period + (1 | herd)", data, **quick())
    shares = fit.variance_explained()
    assert list(shares.index) == ["coefficients", "random intercepts | herd", "residual"]
    assert 0.5 < shares.loc["residual", "median"] < 1.0  # pi^2/3 on the logit scale dominates
    fit = ml.fit("incidence ~ period + (1 | herd)", data, family="poisson", **quick())
    with pytest.raises(SpecificationError, match="latent scale"):
        fit.variance_explained()


def test_conditional_effects_and_johnson_neyman_regions():
    """Effect of x = 1 + 0.8 w: positive for w above -1.25, negative below (w spans about -4 to 4)."""
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(40), 20)
    w = rng.normal(scale=1.5, size=40)[g]
    x = rng.normal(size=g.size)
    y = 1 + x + 0.3 * w + 0.8 * x * w + rng.normal(scale=0.5, size=40)[g] + rng.normal(size=g.size)
    frame = pd.DataFrame({"y": y, "x": x, "w": w, "g": g})
    fit = ml.fit("y ~ x * w + (1 | g)", frame, **quick(chains=2, warmup=300, draws=300))
    effects = fit.conditional_effects("x", "w", at=[-1.25, 2])
    assert abs(effects["median"].iloc[0]) < 3 * effects["sd"].iloc[0]
    assert abs(effects["median"].iloc[1] - 2.6) < 3 * effects["sd"].iloc[1]
    regions = fit.johnson_neyman("x", "w")
    assert list(regions["effect"]) == ["negative", "positive"]
    assert regions["from"].iloc[0] == pytest.approx(w.min()) and regions["to"].iloc[1] == pytest.approx(w.max())
    assert -1.6 < regions["to"].iloc[0] < regions["from"].iloc[1] < -0.9  # the boundaries bracket -1.25


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_burn_in_psr_table_over_expanding_warmup_windows(sleepstudy, tmp_path):
    fit = ml.fit("Reaction ~ Days + (Days | Subject)", sleepstudy, **quick(warmup=400))
    table = fit.burn_in_psr()
    assert len(table) == 20 and list(table["to"])[-1] == 400 and list(table["from"])[-1] == 201
    assert np.isfinite(table["highest R-hat"]).all() and (table["highest R-hat"] >= 0.99).all()
    assert set(table["parameter"]) <= {"Intercept", "Days", "sd(Intercept | Subject)", "sd(Days | Subject)",
                                       "cor(Days, Intercept | Subject)", "residual sd"}  # as in summary()
    assert table["highest R-hat"].iloc[-1] < table["highest R-hat"].iloc[0]  # the chains came to agree
    fit.save(tmp_path / "fit.zip")
    pd.testing.assert_frame_equal(ml.load(tmp_path / "fit.zip").burn_in_psr(), table)


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_within_and_between_decomposition_by_hand():
    """Rights & Sterba's level-specific shares for SES centred within schools and the school mean MEANSES."""
    data = ml.datasets.load("mathach")
    fit = ml.fit("MathAch ~ SES + MEANSES + (1 | School)", data, center={"SES": "group"}, **quick())
    draws = {name: value.reshape(-1, *value.shape[2:]) for name, value in fit.draws.items()}
    ses = data["SES"] - data.groupby("School")["SES"].transform("mean")
    b_ses, b_mean = draws["b"][:, 0], draws["b"][:, 1]
    tau, sigma2 = draws["sd_0"][:, 0] ** 2, draws["sigma"] ** 2
    f1 = b_ses ** 2 * ses.var(ddof=1)
    f2 = b_mean ** 2 * data["MEANSES"].var(ddof=1)
    shares = fit.variance_explained(by_level=True)
    expected = {"within: coefficients": f1 / (f1 + sigma2), "within: residual": sigma2 / (f1 + sigma2),
                "between: coefficients": f2 / (f2 + tau), "between: random intercepts": tau / (f2 + tau),
                "ICC (model-implied, School)": (f2 + tau) / (f1 + f2 + tau + sigma2),
                "ICC (conditional, School)": tau / (tau + sigma2)}
    for name, value in expected.items():
        np.testing.assert_allclose(shares.loc[name, "mean"], np.mean(value), rtol=1e-8, err_msg=name)
    standardized = fit.standardized_coefficients(by_level=True)
    assert set(standardized.index) == {"SES (within)", "MEANSES (between)"}
    np.testing.assert_allclose(standardized.loc["SES (within)", "mean"],
                               np.mean(b_ses * ses.std(ddof=1) / np.sqrt(f1 + sigma2)), rtol=1e-8)


def test_by_level_decomposition_of_an_empty_model():
    fit = ml.fit("MathAch ~ 1 + (1 | School)", ml.datasets.load("mathach"), **quick())
    shares = fit.variance_explained(by_level=True)
    assert shares.loc["within: coefficients", "q97.5"] == 0 and shares.loc["between: random intercepts", "q2.5"] == 1
    # without predictors the model-implied and the conditional ICC are the same quantity
    np.testing.assert_allclose(shares.loc["ICC (model-implied, School)", "mean"],
                               shares.loc["ICC (conditional, School)", "mean"], rtol=1e-10)
