"""The marginal likelihood of a Gaussian model with its random effects integrated out, and the
draws of those effects from their conditional distribution, against dense linear algebra."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from scipy.stats import multivariate_normal

import multilevel as ml
from multilevel.backend.numpyro_model import (draw_marginalized, internal_arrays, marginal_log_likelihood)
from multilevel.model.build import build_model


def _model(seed=0):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(6), [1, 2, 3, 4, 5, 3])
    x = rng.normal(size=g.size)
    y = 1 + 0.5 * x + rng.normal(size=6)[g] + rng.normal(size=g.size)
    y[4] = np.nan  # a missing outcome: out of the likelihood
    frame = pd.DataFrame({"y": y, "x": x, "g": g})
    spec, data = build_model("y ~ x + (1 + x | g)", frame)
    return spec, data, internal_arrays(spec, data)


def _dense_covariances(arrays, scale_tril, sigma, observed):
    Z, index = np.asarray(arrays.Z[0])[observed], np.asarray(arrays.group_index[0])[observed]
    T = scale_tril @ scale_tril.T
    return [(index == j, Z[index == j] @ T @ Z[index == j].T + sigma ** 2 * np.eye((index == j).sum()))
            for j in np.unique(index)]


def test_marginal_likelihood_equals_the_dense_multivariate_normal():
    spec, data, arrays = _model()
    assert spec.random[0].parameterization == "marginalized"
    observed = data.outcome_observed
    beta = np.array([0.2, -0.4])
    scale_tril = np.array([[0.9, 0.0], [0.3, 0.5]])
    sigma = 0.8
    with jax.enable_x64(True):
        ours, tiny = (float(marginal_log_likelihood({k: jnp.asarray(v) for k, v in arrays.sufficient.items()},
                                                    jnp.asarray(beta), jnp.asarray(tril), jnp.asarray(sigma)))
                      for tril in (scale_tril, np.zeros((2, 2))))
    y = np.asarray(arrays.y)[observed]
    mean = beta[0] + np.asarray(arrays.X)[observed] @ beta[1:]
    dense = sum(multivariate_normal(mean[rows], V).logpdf(y[rows])
                for rows, V in _dense_covariances(arrays, scale_tril, sigma, observed))
    np.testing.assert_allclose(ours, dense, rtol=1e-10)
    assert np.isfinite(tiny)  # a vanishing random-effect SD stays finite (no inverse of the covariance matrix)


def test_group_effects_are_drawn_from_their_exact_conditional():
    spec, data, arrays = _model(1)
    observed = data.outcome_observed
    draws = 20000
    scale_tril = np.array([[0.9, 0.0], [0.3, 0.5]])
    constrained = {"Intercept": np.full((1, draws), 0.2), "b": np.full((1, draws, 1), -0.4),
                   "sd_0_0": np.full((1, draws), 0.9), "sd_0_1": np.full((1, draws), np.hypot(0.3, 0.5)),
                   "L_0": np.broadcast_to(scale_tril / np.array([[0.9], [np.hypot(0.3, 0.5)]]), (1, draws, 2, 2)),
                   "sigma": np.full((1, draws), 0.8)}
    result = draw_marginalized(spec, arrays, constrained, seed=3)
    effects = result["r_0"][0]  # (draws, groups, 2)
    assert result["missing_outcome"].shape == (1, draws, 1)
    T = scale_tril @ scale_tril.T
    Z, index = np.asarray(arrays.Z[0])[observed], np.asarray(arrays.group_index[0])[observed]
    residual = np.asarray(arrays.y)[observed] - 0.2 + 0.4 * np.asarray(arrays.X)[observed, 0]
    for j in range(6):
        rows = index == j
        precision = np.linalg.inv(T) + Z[rows].T @ Z[rows] / 0.64
        covariance = np.linalg.inv(precision)
        mean = covariance @ Z[rows].T @ residual[rows] / 0.64
        assert np.all(np.abs(effects[:, j].mean(axis=0) - mean) < 4 * np.sqrt(np.diag(covariance) / draws)), j
        np.testing.assert_allclose(np.cov(effects[:, j].T), covariance, atol=0.03)


def test_blimp_priors_are_flat_and_uniform_over_covariance_matrices():
    spec, _ = build_model("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"), priors="blimp")
    priors = {a.parameter: a.prior for a in spec.priors}
    assert isinstance(priors["Intercept"], ml.Flat) and isinstance(priors["Days"], ml.Flat)
    assert priors["sd(Days | Subject)"] == ml.FlatCovariance(2)  # |Sigma|^0 → density ∝ sd^2 per SD
    assert priors["residual sd"] == ml.FlatCovariance(1)  # flat on the residual variance
    spec, _ = build_model("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"),
                          priors={"defaults": "blimp", "Days": ml.Normal(0, 10)})
    assert {a.parameter: a.prior for a in spec.priors}["Days"] == ml.Normal(0, 10)
