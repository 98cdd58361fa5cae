"""Each family's pointwise log-likelihood against scipy's distributions, for NumPy and JAX, at extreme
linear predictors too (the logit form y eta - n softplus(eta) must stay exact and finite)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats
from scipy.special import expit, ndtr

from multilevel.backend.likelihood import log_likelihood
from multilevel.model.families import make_family

ETA = np.array([-40.0, -3.0, -0.2, 0.0, 0.7, 5.0, 40.0])


def _reference(family, y, trials):
    if family.link == "logit":
        p = expit(ETA)
    elif family.link == "probit":
        p = ndtr(ETA)
    if family.kind.name == "bernoulli":
        return stats.bernoulli.logpmf(y, p)
    if family.kind.name == "binomial":
        return stats.binom.logpmf(y, trials, p)
    return stats.poisson.logpmf(y, np.exp(ETA))


@pytest.mark.parametrize("family, link", [("bernoulli", "logit"), ("bernoulli", "probit"),
                                          ("binomial", "logit"), ("binomial", "probit"), ("poisson", "log")])
def test_log_likelihood_matches_scipy(family, link):
    family = make_family(family, link)
    trials = np.full(ETA.size, 7.0)
    y = {"bernoulli": np.array([1, 0, 1, 0, 1, 1, 0.0]), "binomial": np.array([0, 2, 3, 7, 4, 7, 7.0]),
         "poisson": np.array([0, 0, 1, 2, 3, 150, 0.0])}[family.kind.name]
    expected = _reference(family, y, trials)
    finite = np.isfinite(expected) & (expected > -700)  # scipy underflows to -inf where the exact value is finite
    ours = log_likelihood(family, y, ETA, trials=trials)
    np.testing.assert_allclose(ours[finite], expected[finite], rtol=1e-9, atol=1e-9)
    with jax.enable_x64(True):
        traced = np.asarray(log_likelihood(family, jnp.asarray(y), jnp.asarray(ETA), trials=jnp.asarray(trials),
                                           xp=jnp))
    np.testing.assert_allclose(traced, ours, rtol=1e-9, atol=1e-9)
    assert np.all(np.isfinite(ours))
