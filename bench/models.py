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


def _seed001():
    """The Blimp tutorial's MNAR model (seed 001) on its data: the script's models, our default priors."""
    from pathlib import Path

    import pandas as pd

    data = pd.read_csv(Path(__file__).resolve().parents[1] / "tests" / "data" / "04_multilevel.csv")
    return ("y ~ x1i + x2i + x3i + x2i:x3i + (1 + x1i | j)", data,
            {"predictor_models": ["x1i ~ x2i + x3i", "x2i ~ x3i"],
             "missingness_models": ["y.missing ~ y + x1i + x2i + x3i + x2i:x3i"]})


def _insteval():
    """lme4::InstEval: 73,421 ratings, students x lecturers crossed, departments (bench/data, gzipped)."""
    from pathlib import Path

    import pandas as pd

    data = pd.read_csv(Path(__file__).parent / "data" / "instEval.csv.gz",
                       dtype={"s": str, "d": str, "dept": str, "service": float})
    return "y ~ service + (1 | s) + (1 | d) + (1 | dept)", data, {}


def _synthetic_million():
    """10^6 rows in 1,000 clusters: y = 1 + 0.5 x + u + e, sd(u) = 0.7, sigma = 1 (seeded)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(2026)
    n, clusters = 1_000_000, 1_000
    g = rng.integers(0, clusters, n)
    x = rng.normal(size=n)
    y = 1 + 0.5 * x + rng.normal(scale=0.7, size=clusters)[g] + rng.normal(size=n)
    return "y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}), {}


MODELS = {
    "anorexia": _anorexia_model5,
    "sleepstudy": _sleepstudy,
    "verbagg": _verbagg,
    "mathach": _mathach,
    "seed001": _seed001,
    "insteval": _insteval,
    "million": _synthetic_million,
}

# Smallest bulk ESS over the main parameters per second (whole process), on a 2-core machine.
ANCHORS = {
    "anorexia": {"JAGS 4.3.1 (4 x 20,000 draws)": 262.0, "brms 2.18 sampling only": 43.0},
    "sleepstudy": {"brms 2.18 sampling only": 36.0},
    "verbagg": {"JAGS glm module, (1|id) only": 9.5, "brms 2.18 sampling only": 2.5},
}
BRMS_COMPILE_SECONDS = {"anorexia": 52.0, "sleepstudy": 60.0, "verbagg": 61.0}
BRMS_SAMPLING_SECONDS = {"anorexia": 13.0, "sleepstudy": 24.0, "verbagg": 317.0}
