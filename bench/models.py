"""Benchmark models: name → (formula, data loader, options). Shared by every bench script."""

from __future__ import annotations

import multilevel as ml


def _anorexia_model5():
    data = ml.datasets.load("anorexia")
    wide = ml.Normal(0, 10 * data["weight"].std())
    options = dict(target_accept=0.95, priors={
        "Intercept": wide, "fixed": wide, "sd(Intercept | girl)": ml.Gamma(0.001, 0.001, on="precision"),
        "sd(time | girl)": ml.Uniform(0.0001, 200), "residual sd": ml.Uniform(0.0001, 2000)})
    return "weight ~ time + C(Rx, ref=2) + (1 + time || girl)", data, options


def _sleepstudy():
    return "Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"), {}


def _verbagg():
    return ("r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)", ml.datasets.load("verbagg"),
            {"family": "bernoulli"})


def _mathach():
    return ("MathAch ~ SES*Sector + MEANSES + (1 + SES | School)", ml.datasets.load("mathach"),
            {"reference": {"Sector": "Public"}})


MODELS = {
    "anorexia": _anorexia_model5,
    "sleepstudy": _sleepstudy,
    "verbagg": _verbagg,
    "mathach": _mathach,
}

# Smallest bulk ESS over the main parameters per second (whole process), on a 2-core machine.
ANCHORS = {
    "anorexia": {"JAGS 4.3.1 (4 x 20,000 draws)": 262.0, "brms 2.18 sampling only": 43.0},
    "sleepstudy": {"brms 2.18 sampling only": 36.0},
    "verbagg": {"JAGS glm module, (1|id) only": 9.5, "brms 2.18 sampling only": 2.5},
}
BRMS_COMPILE_SECONDS = {"anorexia": 52.0, "sleepstudy": 60.0, "verbagg": 61.0}
BRMS_SAMPLING_SECONDS = {"anorexia": 13.0, "sleepstudy": 24.0, "verbagg": 317.0}
