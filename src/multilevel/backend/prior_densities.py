"""Log densities of :mod:`multilevel.model.priors` in JAX, grouped and vectorized."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import fields, is_dataclass

import jax.numpy as jnp
import numpy as np
from jax.scipy import special, stats

from ..model import priors as P

LOG_2 = math.log(2.0)


def _student_t(x, df, mu, sigma):
    return stats.t.logpdf(x, df, loc=mu, scale=sigma)


def _log_density(kind: type, params: dict, x):
    if kind is P.Normal:
        return stats.norm.logpdf(x, params["mu"], params["sigma"])
    if kind is P.StudentT:
        return _student_t(x, params["df"], params["mu"], params["sigma"])
    if kind is P.Cauchy:
        return stats.cauchy.logpdf(x, params["mu"], params["sigma"])
    if kind is P.Flat:
        return jnp.zeros_like(x)
    if kind is P.FlatCovariance:
        return params["dimension"] * jnp.log(x)
    if kind is P.HalfNormal:
        return LOG_2 + stats.norm.logpdf(x, 0.0, params["sigma"])
    if kind is P.HalfStudentT:
        return LOG_2 + _student_t(x, params["df"], 0.0, params["sigma"])
    if kind is P.HalfCauchy:
        return LOG_2 + stats.cauchy.logpdf(x, 0.0, params["sigma"])
    if kind is P.Exponential:
        return jnp.log(params["rate"]) - params["rate"] * x
    if kind is P.Gamma:
        shape, rate = params["shape"], params["rate"]
        return shape * jnp.log(rate) - special.gammaln(shape) + (shape - 1) * jnp.log(x) - rate * x
    if kind is P.InverseGamma:
        shape, scale = params["shape"], params["scale"]
        return shape * jnp.log(scale) - special.gammaln(shape) - (shape + 1) * jnp.log(x) - scale / x
    if kind is P.LogNormal:
        return stats.norm.logpdf(jnp.log(x), params["mu"], params["sigma"]) - jnp.log(x)
    if kind is P.Uniform:
        return -jnp.log(params["upper"] - params["lower"]) * jnp.ones_like(x)
    raise TypeError(f"no log density for prior {kind.__name__}")


def _parameters(prior: P.Prior) -> dict:
    assert is_dataclass(prior)  # every kind of prior is a dataclass (the base class is abstract)
    return {field.name: getattr(prior, field.name) for field in fields(prior) if field.name != "on"}


def prior_structure(priors: list[P.Prior]) -> tuple[tuple, dict]:
    """Split priors into a static structure (kinds, positions) and their numeric parameters.

    The structure decides the compiled program; the parameters are passed at run time, so a
    model fitted to new data (whose default priors scale with the data) reuses the compilation.
    """
    groups: dict[tuple, list[int]] = defaultdict(list)
    for position, prior in enumerate(priors):
        groups[(type(prior), prior.on if prior.support != "real" else "sd")].append(position)
    structure, parameters = [], {}
    for index, ((kind, on), positions) in enumerate(groups.items()):
        stacked = defaultdict(list)
        for position in positions:
            for name, value in _parameters(priors[position]).items():
                stacked[name].append(float(value))
        structure.append((kind, on, tuple(positions)))
        parameters[str(index)] = {name: np.asarray(values) for name, values in stacked.items()}
    return tuple(structure), parameters


def log_prior_function(structure: tuple):
    """``log_prior(x, parameters)``: the summed log prior of vector x, one prior per element."""

    def log_prior(x, parameters):
        total = 0.0
        for index, (kind, on, positions) in enumerate(structure):
            values = x[jnp.asarray(positions)]
            params = parameters[str(index)]
            power = P.ON_POWER[on]
            if power == 1:
                total = total + jnp.sum(_log_density(kind, params, values))
            else:
                transformed = values ** power
                jacobian = math.log(abs(power)) + (power - 1) * jnp.log(values)
                total = total + jnp.sum(_log_density(kind, params, transformed) + jacobian)
        return total

    return log_prior


def vector_log_prior(priors: list[P.Prior]):
    """A function x → summed log prior with the parameters bound (for direct evaluation)."""
    structure, parameters = prior_structure(priors)
    function = log_prior_function(structure)
    bound = {key: {name: jnp.asarray(value) for name, value in group.items()} for key, group in parameters.items()}
    return lambda x: function(x, bound)
