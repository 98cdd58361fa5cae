import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import multilevel as ml
from multilevel.backend.prior_densities import vector_log_prior
from multilevel.errors import SpecificationError
from multilevel.model.prior_text import parse_prior, parse_prior_assignment


@pytest.fixture(autouse=True)
def float64():
    # the package evaluates its log densities in 64-bit; so do these comparisons
    with jax.enable_x64(True):
        yield


@pytest.mark.parametrize("prior, reference", [
    (ml.Normal(1, 2), stats.norm(1, 2)),
    (ml.StudentT(3, 1, 2), stats.t(3, 1, 2)),
    (ml.Cauchy(0, 2), stats.cauchy(0, 2)),
    (ml.HalfNormal(2), stats.halfnorm(0, 2)),
    (ml.HalfStudentT(3, 2), None),
    (ml.Exponential(0.5), stats.expon(scale=2)),
    (ml.Gamma(2, 3), stats.gamma(2, scale=1 / 3)),
    (ml.LogNormal(0.2, 0.7), stats.lognorm(0.7, scale=math.exp(0.2))),
    (ml.Uniform(0.5, 4), stats.uniform(0.5, 3.5)),
])
def test_log_densities_match_scipy(prior, reference):
    x = np.array([0.7, 1.3, 2.9])
    ours = float(vector_log_prior([prior] * 3)(jnp.asarray(x)))
    if reference is None:  # half Student-t = 2 x Student-t on the positive half line
        reference_value = float(np.sum(np.log(2) + stats.t(3, 0, 2).logpdf(x)))
    else:
        reference_value = float(np.sum(reference.logpdf(x)))
    assert ours == pytest.approx(reference_value, rel=1e-10)


def test_priors_on_variance_and_precision_are_densities_of_the_sd():
    s = np.array([0.4, 1.7])
    inverse_gamma = float(vector_log_prior([ml.InverseGamma(2, 3)] * 2)(jnp.asarray(s)))
    expected = np.sum(stats.invgamma(2, scale=3).logpdf(s ** 2) + np.log(2 * s))
    assert inverse_gamma == pytest.approx(expected, rel=1e-10)
    precision = float(vector_log_prior([ml.Gamma(2, 3, on="precision")] * 2)(jnp.asarray(s)))
    expected = np.sum(stats.gamma(2, scale=1 / 3).logpdf(s ** -2) + np.log(2) - 3 * np.log(s))
    assert precision == pytest.approx(expected, rel=1e-10)


def test_scaling_is_exact_for_every_prior():
    rng = np.random.default_rng(0)
    for prior in (ml.Normal(1, 2), ml.StudentT(4, -1, 3), ml.HalfStudentT(3, 2), ml.Exponential(2),
                  ml.Gamma(2, 3), ml.InverseGamma(3, 2), ml.LogNormal(0, 1), ml.Uniform(0.1, 5)):
        factor = 2.5
        x = rng.uniform(0.2, 2.0, size=4)
        original = vector_log_prior([prior] * 4)(jnp.asarray(x))
        rescaled = prior.for_sd_scaled(factor) if prior.support != "real" else prior.scaled(factor)
        scaled = vector_log_prior([rescaled] * 4)
        # density of factor * theta at factor * x equals density of theta at x divided by factor
        assert float(scaled(jnp.asarray(factor * x))) == pytest.approx(float(original) - 4 * math.log(factor), rel=1e-9)


def test_prior_text_is_parsed_without_eval():
    assert parse_prior("Normal(0, 2.5)") == ml.Normal(0, 2.5)
    assert parse_prior("Gamma(0.001, 0.001, on='precision')") == ml.Gamma(0.001, 0.001, on="precision")
    assert parse_prior_assignment("sd(Days | Subject) = HalfNormal(10)") == ("sd(Days | Subject)", ml.HalfNormal(10))
    with pytest.raises(Exception, match="not a prior"):
        parse_prior("__import__('os')")
    with pytest.raises(SpecificationError):
        parse_prior_assignment("Normal(0, 1)")


def test_invalid_prior_parameters():
    with pytest.raises(SpecificationError, match="sigma must be a positive"):
        ml.Normal(0, -1)
    with pytest.raises(SpecificationError, match="upper"):
        ml.Uniform(2, 1)
