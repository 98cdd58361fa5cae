"""NumPyro sites shared by the parts of the model function."""

from __future__ import annotations

import jax.numpy as jnp
from .. import _numpyro  # noqa: F401  (first: a lazy numpyro left by ArviZ is loaded for real)
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints

from .model_arrays import LOG_2PI


def free_parameter(name: str, support, shape=()):
    return numpyro.sample(name, dist.ImproperUniform(support, (), shape))


def padding_density(name: str, vector, padding) -> None:
    """The entries beyond the true number of missing values (see :func:`bucket`) are standard normal."""
    numpyro.factor(f"{name} padding", -0.5 * jnp.sum(padding * vector ** 2) - 0.5 * LOG_2PI * jnp.sum(padding))


def constraint_of(key: tuple):
    """The NumPyro constraint of a support key (see the blueprint's ``_support_key``)."""
    if key[0] == "positive":
        return constraints.positive
    if key[0] == "greater than":
        return constraints.greater_than(key[1])
    return constraints.interval(key[1], key[2])
