"""Submodel kinds: each kind's log density in NumPy and JAX against scipy, and nobody asks for a kind's name."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import norm

from multilevel.backend.likelihood import special_functions
from multilevel.model.submodel_kinds import GAUSSIAN, MISSINGNESS, NOMINAL, ORDINAL, REGISTRY

from .source_scan import lines_asking

MEAN = np.array([-1.2, 0.0, 0.4, 2.0])


def _both(kind, observed, mean, parameters):
    """The kind's row log density with NumPy and with JAX (double precision), which must agree."""
    result = kind.row_log_density(np.asarray(observed), np.asarray(mean), parameters, np, special_functions(np))
    with jax.enable_x64(True):
        traced = kind.row_log_density(jnp.asarray(observed), jnp.asarray(mean),
                                      {key: jnp.asarray(value) for key, value in parameters.items()}, jnp,
                                      special_functions(jnp))
        np.testing.assert_allclose(np.asarray(traced), result, rtol=1e-12, atol=1e-12)
    return result


def test_gaussian_kind_is_the_normal_density():
    observed = np.array([0.3, -1.0, 2.5, 0.0])
    result = _both(GAUSSIAN, observed, MEAN, {"sigma": np.asarray(0.7)})
    np.testing.assert_allclose(result, norm.logpdf(observed, MEAN, 0.7), rtol=1e-12)


def test_missingness_kind_is_a_probit_regression():
    indicator = np.array([1.0, 0.0, 1.0, 0.0])
    result = _both(MISSINGNESS, indicator, MEAN, {})
    np.testing.assert_allclose(result, np.where(indicator == 1, norm.logcdf(MEAN), norm.logcdf(-MEAN)), rtol=1e-12)


def test_ordinal_kind_has_its_first_threshold_at_zero():
    steps = np.array([0.8, 1.1])  # thresholds 0, 0.8, 1.9
    codes = np.array([0, 1, 2, 3], dtype=np.int32)
    result = _both(ORDINAL, codes, MEAN, {"steps": steps})
    cuts = np.array([-np.inf, 0.0, 0.8, 1.9, np.inf])
    np.testing.assert_allclose(np.exp(result), norm.cdf(cuts[codes + 1] - MEAN) - norm.cdf(cuts[codes] - MEAN),
                               rtol=1e-10)
    binary = _both(ORDINAL, np.array([0, 1, 1, 0], dtype=np.int32), MEAN, {})  # two categories: no steps
    np.testing.assert_allclose(binary, np.array([norm.logcdf(1.2), norm.logcdf(0.0), norm.logcdf(0.4),
                                                 norm.logcdf(-2.0)]), rtol=1e-12)


def test_nominal_kind_is_a_multinomial_logit_with_the_first_category_as_reference():
    linear = np.array([[0.5, -1.0], [0.0, 0.0], [2.0, 1.0], [-0.3, 0.7]])  # categories 2 and 3
    codes = np.array([0, 1, 2, 2], dtype=np.int32)
    result = _both(NOMINAL, codes, linear, {"Intercept": np.zeros(2)})
    logits = np.concatenate([np.zeros((4, 1)), linear], axis=1)
    expected = logits[np.arange(4), codes] - np.log(np.exp(logits).sum(axis=1))
    np.testing.assert_allclose(result, expected, rtol=1e-12)


@pytest.mark.parametrize("kind", list(REGISTRY.values()), ids=list(REGISTRY))
def test_each_kind_codes_and_finds_missing_values_of_its_variable(kind):
    raw = np.array([1.0, np.nan, 3.0, 2.0]) if kind is not NOMINAL else np.array([0, -1, 2, 1])
    assert kind.unknown(raw).tolist() == [False, True, False, False]
    codes = kind.codes(raw, (1.0, 2.0, 3.0) if kind is ORDINAL else ("a", "b", "c"))
    if kind.discrete:
        assert codes.tolist() == [0, -1, 2, 1]
        values = kind.category_values((1.0, 2.0, 3.0))
        assert np.asarray(kind.value_of_code(codes[[0, 2]], values, np)).tolist() == (
            [1.0, 3.0] if kind is ORDINAL else [0, 2])
    else:
        assert codes is None


def test_no_module_outside_the_kind_modules_asks_for_a_submodel_kind_name():
    offenders = lines_asking(r"\b(sub|submodel)\.(family|kind\.name)\b", outside="submodel_kinds")
    assert not offenders, "\n".join(offenders)
