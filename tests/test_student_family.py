"""The Student-t outcome family (brms's ``student``): likelihood, priors, recovery of simulated
parameters, and the command line."""

import json

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import multilevel as ml
from multilevel.backend.likelihood import log_likelihood
from multilevel.errors import SpecificationError
from multilevel.model.families import make_family

from .conftest import quick

TRUTH = {"Intercept": 2.0, "x": 0.5, "sd(Intercept | g)": 0.8, "sigma": 1.5, "nu": 4.0}


def simulate_student(seed: int = 11, groups: int = 40, per_group: int = 25) -> pd.DataFrame:
    """y = 2 + 0.5 x + u + 1.5 t(4), sd(u) = 0.8."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per_group)
    x = rng.normal(size=g.size)
    u = rng.normal(0.0, TRUTH["sd(Intercept | g)"], groups)
    y = TRUTH["Intercept"] + TRUTH["x"] * x + u[g] + TRUTH["sigma"] * rng.standard_t(TRUTH["nu"], size=g.size)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{k}" for k in g]})


@pytest.fixture(scope="module")
def student_fit():
    return ml.fit("y ~ x + (1 | g)", simulate_student(), family="student", seed=3, progress=False)


@pytest.mark.parametrize("xp", [np, jnp])
def test_log_likelihood_is_scipys_student_t(xp):
    y, eta = np.array([0.3, -2.0, 5.0, 40.0]), np.array([0.0, 0.5, 1.0, -1.0])
    nu, sigma = np.array([[3.5], [30.0]]), np.array([[1.7], [0.4]])
    values = log_likelihood(make_family("student"), xp.asarray(y), xp.asarray(eta), sigma=xp.asarray(sigma),
                            xp=xp, nu=xp.asarray(nu))
    np.testing.assert_allclose(np.asarray(values), stats.t.logpdf(y, nu, loc=eta, scale=sigma),
                               rtol=1e-12 if xp is np else 1e-5)


def test_family_names_link_and_default_priors():
    family = make_family("student")
    assert str(family) == "student(identity)" and make_family("student_t") == family
    assert family.parameter_names == ("sigma", "nu")
    with pytest.raises(SpecificationError, match="no link 'logit'"):
        make_family("student", "logit")
    spec = ml.Model("y ~ x + (1 | g)", simulate_student(groups=5, per_group=4), family="student").spec
    priors = {p.parameter: p for p in spec.priors}
    assert priors["nu"].prior == ml.Gamma(2.0, 0.1) and priors["nu"].parameter_class == "family"
    assert priors["sigma"].parameter_class == "residual sd" and "residual sd" not in priors


def test_priors_on_nu_and_sigma_by_name_and_bad_priors_refused():
    data = simulate_student(groups=5, per_group=4)
    spec = ml.Model("y ~ x + (1 | g)", data, family="student",
                    priors={"nu": ml.Exponential(1 / 29), "sigma": ml.HalfNormal(2.0)}).spec
    priors = {p.parameter: p for p in spec.priors}
    assert priors["nu"].prior == ml.Exponential(1 / 29) and priors["nu"].source == "user"
    assert priors["sigma"].prior == ml.HalfNormal(2.0)
    with pytest.raises(SpecificationError, match="'nu' must be for positive values"):
        ml.Model("y ~ x + (1 | g)", data, family="student", priors={"nu": ml.Normal(10, 1)})
    with pytest.raises(SpecificationError, match="names no parameter"):
        ml.Model("y ~ x + (1 | g)", data, priors={"nu": ml.Gamma(2, 0.1)})  # Gaussian: no nu


def test_recovers_simulated_parameters(student_fit):
    table = student_fit.summary()
    assert list(table.loc[["sigma", "nu"]].index) == ["sigma", "nu"]
    for name, truth in TRUTH.items():
        row = table.loc[name]
        assert row["ess_bulk"] > 400 and row["rhat"] < 1.01, name
        assert abs(row["mean"] - truth) < 3 * row["sd"], (name, row["mean"], row["sd"])
    # heavy tails are found: a Gaussian would need nu → ∞
    assert table.loc["nu", "q97.5"] < 10


def test_variance_of_the_outcome_and_analyses(student_fit):
    draws = student_fit.draws
    nu, sigma = draws["nu"].reshape(-1), draws["sigma"].reshape(-1)
    tau2 = draws["sd_0"][..., 0].reshape(-1) ** 2
    expected = tau2 / (tau2 + np.where(nu > 2, sigma ** 2 * nu / (nu - 2), np.inf))
    np.testing.assert_allclose(student_fit.icc()["mean"].iloc[0], expected.mean(), rtol=1e-10)
    checks = student_fit.ppc()
    assert checks.loc["sd", "p-value"] > 0.05 and checks.loc["max", "p-value"] > 0.05
    assert np.isfinite(student_fit.loo().elpd) and np.isfinite(student_fit.waic().elpd)
    predicted = student_fit.predict(pd.DataFrame({"x": [0.0, 1.0], "g": ["g0", "new"]}), kind="mean")
    assert predicted["mean"].iloc[1] == pytest.approx(2.5, abs=0.3)


def test_from_the_command_line(tmp_path, capsys):
    from multilevel.cli import main

    csv, out = tmp_path / "t.csv", tmp_path / "t.json"
    simulate_student(groups=10, per_group=10).to_csv(csv, index=False)
    settings = quick()
    code = main(["fit", "--data", str(csv), "--model", "y ~ x + (1 | g)", "--family", "student",
                 "--prior", "nu=Gamma(2, 0.2)", "--chains", str(settings["chains"]), "--warmup",
                 str(settings["warmup"]), "--draws", str(settings["draws"]), "--seed", "5", "--no-progress",
                 "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "student(identity)" in printed and "Gamma(2, 0.2)" in printed
    rows = {row["parameter"]: row for row in json.loads(out.read_text())["summary"]}
    assert rows["nu"]["mean"] > 1 and rows["sigma"]["mean"] > 0
