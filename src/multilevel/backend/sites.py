"""NumPyro sites shared by the parts of the model function."""

from __future__ import annotations

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

from .model_arrays import LOG_2PI


def free_parameter(name: str, support, shape=()):
    return numpyro.sample(name, dist.ImproperUniform(support, (), shape))


def padding_density(name: str, vector, padding) -> None:
    """The entries beyond the true number of missing values (see :func:`bucket`) are standard normal."""
    numpyro.factor(f"{name} padding", -0.5 * jnp.sum(padding * vector ** 2) - 0.5 * LOG_2PI * jnp.sum(padding))
