"""Marginal likelihoods (bridge sampling) against exact numerical integration, and Bayes factors."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import logsumexp

import multilevel as ml

from .conftest import quick


def _grid(low, high, count):
    points = np.linspace(low, high, count)
    return points, np.log(points[1] - points[0])


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_bridge_sampling_matches_exact_integration_for_a_normal_mean():
    rng = np.random.default_rng(5)
    y = 3 + 1.5 * rng.normal(size=40)
    priors = {"Intercept": ml.Normal(2, 3), "residual sd": ml.HalfNormal(4)}
    fit = ml.fit("y ~ 1", pd.DataFrame({"y": y}), priors=priors, **quick(chains=4, warmup=500, draws=2000))
    result = fit.log_marginal_likelihood()
    mu, log_dmu = _grid(-5, 10, 1501)
    sigma, log_dsigma = _grid(0.01, 8, 1600)
    M, S = np.meshgrid(mu, sigma, indexing="ij")
    log_joint = (stats.norm.logpdf(y[None, None, :], M[..., None], S[..., None]).sum(-1)
                 + stats.norm.logpdf(M, 2, 3) + np.log(2) + stats.norm.logpdf(S, 0, 4))
    exact = logsumexp(log_joint) + log_dmu + log_dsigma
    assert result["error"] < 0.02
    assert abs(result["estimate"] - exact) < max(3 * result["error"], 0.01)


def _random_intercept_exact(frame, mu_prior, tau_prior_sd, sigma_prior_sd):
    """log p(y) of y_ij = mu + u_j + e_ij by integrating (mu, tau, sigma) on a grid; per group y_j is
    N(mu 1, sigma^2 I + tau^2 11') (compound symmetry, in closed form)."""
    groups = [group["y"].to_numpy() for _, group in frame.groupby("g")]
    n = np.array([len(v) for v in groups], float)
    total = np.array([v.sum() for v in groups])
    squares = np.array([(v ** 2).sum() for v in groups])
    mu, log_dmu = _grid(-2, 6, 161)
    tau, log_dtau = _grid(0.005, 4, 160)
    sigma, log_dsigma = _grid(0.3, 2.5, 160)
    T, Sg = np.meshgrid(tau, sigma, indexing="ij")
    result = []
    for m in mu:
        centred = squares - 2 * m * total + n * m ** 2  # sum (y - m)^2 per group
        sums = total - n * m
        var_e, var_u = Sg[..., None] ** 2, T[..., None] ** 2
        quadratic = (centred - var_u * sums ** 2 / (var_e + n * var_u)) / var_e
        log_det = (n - 1) * np.log(var_e) + np.log(var_e + n * var_u)
        log_lik = -0.5 * np.sum(n * np.log(2 * np.pi) + log_det + quadratic, axis=-1)
        log_prior = (stats.norm.logpdf(m, *mu_prior) + np.log(2) + stats.norm.logpdf(T, 0, tau_prior_sd)
                     + np.log(2) + stats.norm.logpdf(Sg, 0, sigma_prior_sd))
        result.append(logsumexp(log_lik + log_prior))
    return logsumexp(result) + log_dmu + log_dtau + log_dsigma


@pytest.mark.parametrize("parameterization", ["marginalized", "noncentered"])
def test_bridge_sampling_of_a_random_intercept_model(parameterization):
    rng = np.random.default_rng(9)
    g = np.repeat(np.arange(12), 6)
    frame = pd.DataFrame({"y": 2 + rng.normal(scale=0.8, size=12)[g] + rng.normal(size=g.size), "g": g})
    priors = {"Intercept": ml.Normal(2, 2), "sd": ml.HalfNormal(1.5), "residual sd": ml.HalfNormal(1.5)}
    fit = ml.fit("y ~ 1 + (1 | g)", frame, priors=priors, parameterization=parameterization,
                 **quick(chains=4, warmup=500, draws=2000, target_accept=0.9))
    result = fit.log_marginal_likelihood()
    exact = _random_intercept_exact(frame, (2, 2), 1.5, 1.5)
    assert result["error"] < 0.1
    assert abs(result["estimate"] - exact) < max(3 * result["error"], 0.05), (result["estimate"], exact)


def test_savage_dickey_agrees_with_bridge_sampling_for_nested_models():
    rng = np.random.default_rng(2)
    n = 60
    frame = pd.DataFrame({"x": rng.normal(size=n)})
    frame["y"] = 1 + 0.45 * frame["x"] + rng.normal(size=n)
    priors = {"Intercept": ml.Normal(0, 5), "x": ml.Normal(0, 1), "residual sd": ml.HalfNormal(3)}
    settings = quick(chains=4, warmup=500, draws=3000)
    full = ml.fit("y ~ x", frame, priors=priors, **settings)
    null = ml.fit("y ~ 1", frame, priors={"Intercept": ml.Normal(0, 5), "residual sd": ml.HalfNormal(3)},
                  **settings)
    bridge = ml.bayes_factor(full, null)
    ratio = full.bayes_factor("x = 0")
    assert ratio["BF10"] > 1 and bridge["BF"] > 1
    # two independent estimates of the same Bayes factor (KDE noise of the density at 0 dominates)
    assert abs(np.log(ratio["BF10"]) - bridge["log BF"]) < 0.2


def test_marginal_likelihood_refuses_improper_priors_and_bad_hypotheses(sleepstudy):
    fit = ml.fit("Reaction ~ Days + (1 | Subject)", sleepstudy, priors={"fixed": ml.Flat()}, **quick())
    with pytest.raises(ml.SpecificationError, match="needs proper priors, but Days has a flat"):
        fit.log_marginal_likelihood()
    with pytest.raises(ml.SpecificationError, match="flat prior"):
        fit.bayes_factor("Days = 0")
    with pytest.raises(ml.SpecificationError, match="write it as coefficient = number"):
        fit.bayes_factor("Days > 1")
    with pytest.raises(ml.SpecificationError, match="'days' is not a coefficient"):
        fit.bayes_factor("days = 0")


def test_marginal_likelihoods_and_bayes_factor_match_r_bridgesampling_on_brms(sleepstudy):
    """R: brms 2.18 + bridgesampling on the same models and priors (tests/reference/data/brms_bridge_sleepstudy.R;
    5 bridge runs per model, their mean and SD stored)."""
    from pathlib import Path

    reference = pd.read_csv(Path(__file__).parent / "reference" / "data" / "brms_bridge_sleepstudy.csv")
    value = {(row.model, row.quantity): row.value for row in reference.itertuples()}
    shared = {"Intercept": ml.Normal(300, 100), "sd": ml.HalfNormal(50), "residual sd": ml.HalfNormal(50)}
    settings = quick(chains=4, warmup=1000, draws=2000)
    with_days = ml.fit("Reaction ~ Days + (1 | Subject)", sleepstudy, priors={**shared, "Days": ml.Normal(0, 20)},
                       **settings)
    without = ml.fit("Reaction ~ 1 + (1 | Subject)", sleepstudy, priors=shared, **settings)
    result = ml.bayes_factor(with_days, without)
    for ours, model in ((result["log ML a"], "A"), (result["log ML b"], "B")):
        assert abs(ours - value[(model, "logml_mean")]) < 0.05, (model, ours)
        # the same models integrated exactly (random effects analytically, then quadrature over the two SDs)
        assert abs(ours - value[(model, "logml_exact_quadrature_check")]) < 0.03, (model, ours)
    r_log_bf = value[("A", "logml_mean")] - value[("B", "logml_mean")]
    assert abs(result["log BF"] - r_log_bf) < 0.05
