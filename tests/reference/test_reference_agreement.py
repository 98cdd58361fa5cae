"""Agreement with outside references (brms, JAGS, lme4) computed on the same data.

Like is compared with like: our fit gets the reference's priors. Posterior means must be
within 0.2 posterior SD of the reference for fixed effects and 0.35 SD for variance
components, after checking that the fit has converged (R-hat <= 1.01, bulk ESS >= 400).
"""

from pathlib import Path

import numpy as np
import pytest
import pandas as pd

import multilevel as ml

DATA = Path(__file__).parent / "data"
FIXED_TOLERANCE = 0.2
VARIANCE_TOLERANCE = 0.35


def brms_default_scale(y: pd.Series) -> tuple[float, float]:
    """brms's default location and scale for a Gaussian outcome: median and max(2.5, mad), 1 decimal."""
    median = round(float(np.median(y)), 1)
    mad = round(float(1.4826 * np.median(np.abs(y - np.median(y)))), 1)
    return median, max(2.5, mad)


def check_agreement(fit, reference: pd.DataFrame, pairs: dict, variance_names: set):
    summary = fit.summary()
    used = summary.loc[list(pairs)]
    assert used["rhat"].max() <= 1.01, used["rhat"]
    assert used["ess_bulk"].min() >= 400, used["ess_bulk"]
    report = []
    for ours, theirs in pairs.items():
        distance = (summary.loc[ours, "mean"] - reference.loc[theirs, "mean"]) / summary.loc[ours, "sd"]
        tolerance = VARIANCE_TOLERANCE if ours in variance_names else FIXED_TOLERANCE
        report.append((ours, round(float(distance), 3), tolerance))
    failures = [item for item in report if abs(item[1]) > item[2]]
    assert not failures, report


def test_sleepstudy_matches_brms():
    data = ml.datasets.load("sleepstudy")
    location, scale = brms_default_scale(data["Reaction"])
    fit = ml.fit("Reaction ~ Days + (Days | Subject)", data, seed=1, progress=False, warn=False,
                 priors={"Intercept": ml.StudentT(3, location, scale), "fixed": ml.Flat(),
                         "sd": ml.HalfStudentT(3, scale), "residual sd": ml.HalfStudentT(3, scale),
                         "cor": ml.LKJ(1)})
    reference = pd.read_csv(DATA / "brms_sleepstudy_summary_all.csv").set_index("variable")
    pairs = {"Intercept": "b_Intercept", "Days": "b_Days", "sd(Intercept | Subject)": "sd_Subject__Intercept",
             "sd(Days | Subject)": "sd_Subject__Days", "cor(Days, Intercept | Subject)": "cor_Subject__Intercept__Days",
             "residual sd": "sigma"}
    check_agreement(fit, reference, pairs, {name for name in pairs if "(" in name or name == "residual sd"})


def test_anorexia_model5_matches_jags_with_the_handouts_priors():
    """Seed 002's Model 5: uncorrelated random intercept and time slope, the handout's priors."""
    data = ml.datasets.load("anorexia")
    wide = ml.Normal(0, 10 * data["weight"].std())  # dnorm(0, 1/(100 sdY^2))
    fit = ml.fit("weight ~ time + C(Rx, ref=2) + (1 + time || girl)", data, seed=1, target_accept=0.95,
                 progress=False, warn=False,
                 priors={"Intercept": wide, "fixed": wide,
                         "sd(Intercept | girl)": ml.Gamma(0.001, 0.001, on="precision"),  # ptau0 ~ dgamma
                         "sd(time | girl)": ml.Uniform(0.0001, 200), "residual sd": ml.Uniform(0.0001, 2000)})
    reference = pd.read_csv(DATA / "jags_anorexia_model5_summary.csv").set_index("param")
    pairs = {"Intercept": "g0", "time": "g1", "C(Rx)1": "g2", "C(Rx)3": "g3", "residual sd": "sigma",
             "sd(time | girl)": "tau1"}
    check_agreement(fit, reference, pairs, {"residual sd", "sd(time | girl)"})
    # and the handout's printed estimates (JAGS output, 4 x 20,000 draws)
    summary = fit.summary()
    for name, handout in {"Intercept": 77.68, "time": 2.79, "C(Rx)1": 2.31, "C(Rx)3": 4.29}.items():
        assert abs(summary.loc[name, "mean"] - handout) < FIXED_TOLERANCE * summary.loc[name, "sd"], name


def test_anorexia_uncorrelated_matches_brms():
    data = ml.datasets.load("anorexia")
    location, scale = brms_default_scale(data["weight"])
    # sd(time | girl) is weakly identified with two visits per girl: it needs more draws than the default
    fit = ml.fit("weight ~ time + C(Rx, ref=2) + (1 + time || girl)", data, seed=1, target_accept=0.95,
                 warmup=1000, draws=3000, progress=False, warn=False,
                 priors={"Intercept": ml.StudentT(3, location, scale), "fixed": ml.Flat(),
                         "sd": ml.HalfStudentT(3, scale), "residual sd": ml.HalfStudentT(3, scale)})
    reference = pd.read_csv(DATA / "brms_anorexia_summary_all.csv").set_index("variable")
    pairs = {"Intercept": "b_Intercept", "time": "b_time", "C(Rx)1": "b_Rx1", "C(Rx)3": "b_Rx3",
             "sd(Intercept | girl)": "sd_girl__Intercept", "sd(time | girl)": "sd_girl__time",
             "residual sd": "sigma"}
    check_agreement(fit, reference, pairs, {"sd(Intercept | girl)", "sd(time | girl)", "residual sd"})


def test_mathach_matches_lme4():
    """lme4 REML estimates vs posterior means under default priors (160 schools, 7,185 students).

    The SES-slope SD and its correlation are left out: with a posterior piled against zero,
    a REML point estimate and a posterior mean are different summaries.
    """
    data = ml.datasets.load("mathach")
    fit = ml.fit("MathAch ~ SES*Sector + MEANSES + (1 + SES | School)", data, reference={"Sector": "Public"},
                 seed=1, progress=False, warn=False)
    fixed = pd.read_csv(DATA / "lme4_fixef.csv")
    fixed = fixed[fixed["model"] == "mathach_rawSES_REML"].set_index("term")["estimate"]
    varcorr = pd.read_csv(DATA / "lme4_varcorr.csv")
    varcorr = varcorr[(varcorr["model"] == "mathach_rawSES_REML") & varcorr["var2"].isna()]
    reference = pd.DataFrame({"mean": pd.concat([fixed, pd.Series({
        "sd_intercept": float(varcorr[varcorr["var1"] == "(Intercept)"]["sdcor"].iloc[0]),
        "sigma": float(varcorr[varcorr["grp"] == "Residual"]["sdcor"].iloc[0])})])})
    pairs = {"Intercept": "(Intercept)", "SES": "SES", "SectorCatholic": "SectorCatholic", "MEANSES": "MEANSES",
             "SES:SectorCatholic": "SES:SectorCatholic", "sd(Intercept | School)": "sd_intercept",
             "residual sd": "sigma"}
    check_agreement(fit, reference, pairs, {"sd(Intercept | School)", "residual sd"})


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_verbagg_crossed_logistic_matches_brms():
    data = ml.datasets.load("verbagg")
    fit = ml.fit("r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)", data, family="bernoulli", seed=1,
                 progress=False, warn=False,
                 priors={"Intercept": ml.StudentT(3, 0, 2.5), "fixed": ml.Flat(), "sd": ml.HalfStudentT(3, 2.5)})
    reference = pd.read_csv(DATA / "brms_verbagg_summary_all.csv").set_index("variable")
    pairs = {"Intercept": "b_Intercept", "Anger": "b_Anger", "GenderM": "b_GenderM", "btypescold": "b_btypescold",
             "btypeshout": "b_btypeshout", "situself": "b_situself", "sd(Intercept | id)": "sd_id__Intercept",
             "sd(Intercept | item)": "sd_item__Intercept"}
    check_agreement(fit, reference, pairs, {"sd(Intercept | id)", "sd(Intercept | item)"})
