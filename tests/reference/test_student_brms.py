"""The Student-t family against brms 2.18 (``family = student()``) on lme4's sleepstudy.

The reference (data/brms_student_sleepstudy.csv, made by data/brms_student_sleepstudy.R) is the
fit with brms's default priors except b ~ normal(0, 2.5 sd(y) / sd(x)); our fit gets those same
priors. Tolerances and convergence checks as in test_reference_agreement.
"""

import pandas as pd

import multilevel as ml

from .test_reference_agreement import DATA, brms_default_scale, check_agreement

PARAMETERS = ["Intercept", "Days", "sd(Intercept | Subject)", "sd(Days | Subject)",
              "cor(Days, Intercept | Subject)", "sigma", "nu"]


def test_student_sleepstudy_agrees_with_brms():
    data = ml.datasets.load("sleepstudy")
    location, scale = brms_default_scale(data["Reaction"])
    priors = {"Intercept": ml.StudentT(3, location, scale), "Days": ml.Normal(0, 2.5 * data["Reaction"].std()
                                                                             / data["Days"].std()),
              "sd": ml.HalfStudentT(3, scale), "sigma": ml.HalfStudentT(3, scale), "cor": ml.LKJ(1),
              "nu": ml.Gamma(2, 0.1)}
    fit = ml.fit("Reaction ~ Days + (Days | Subject)", data, family="student", priors=priors, seed=1,
                 progress=False)
    reference = pd.read_csv(DATA / "brms_student_sleepstudy.csv")
    reference = reference[reference["fit"] == "normal_b"].set_index("parameter")
    check_agreement(fit, reference, {name: name for name in PARAMETERS}, set(PARAMETERS[2:]))
