"""The model's log density as a plain function of a flat vector of unconstrained parameters.

This is the seam between the model and anything that needs the unnormalized posterior itself
(bridge sampling for marginal likelihoods). It is NumPyro's potential function (log prior + log
likelihood + log-Jacobians of the transforms to the unconstrained space, negated), evaluated in
the model's internal units; :func:`units_log_jacobian` converts a marginal likelihood of the
internal (standardized) data to one of the data as given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from .. import _numpyro  # noqa: F401  (first: a lazy numpyro left by ArviZ is loaded for real)
from numpyro import handlers
from numpyro.distributions.transforms import biject_to
from numpyro.infer.initialization import init_to_uniform
from numpyro.infer.util import get_potential_fn

from ..model.model_spec import ModelData, ModelSpec
from .blueprint import blueprint
from .internal_units import internal_arrays
from .model_function import make_model


@dataclass
class LogDensity:
    """``evaluate(points)`` → log density (samples,) at unconstrained points (samples, dimension)."""

    names: list[str]
    shapes: dict
    transforms: dict
    _function: Callable  # a batch of unconstrained points → their log densities

    @property
    def dimension(self) -> int:
        return int(sum(int(np.prod(self.shapes[name])) for name in self.names))

    def flatten(self, constrained: dict) -> np.ndarray:
        """Constrained draws (leading dims chain, draw) → unconstrained points (samples, dimension)."""
        parts = []
        with jax.enable_x64(True):
            for name in self.names:
                value = np.asarray(constrained[name])
                lead = value.shape[:2]
                unconstrained = np.asarray(self.transforms[name].inv(jnp.asarray(value)))
                parts.append(unconstrained.reshape(int(np.prod(lead)), -1))
        return np.concatenate(parts, axis=1)

    def evaluate(self, points: np.ndarray, chunk: int = 1000) -> np.ndarray:
        with jax.enable_x64(True):
            values = [np.asarray(self._function(jnp.asarray(points[start:start + chunk])))
                      for start in range(0, points.shape[0], chunk)]
        return np.concatenate(values)


def sample_sites(model, arrays) -> tuple[dict, dict]:
    """The model's latent sites: transform to the unconstrained space and unconstrained shape of each.

    The model is traced abstractly (``jax.eval_shape``): nothing is executed, so no small eager
    computations are compiled one by one, which in a fresh process cost seconds.
    """
    supports: dict = {}

    def trace(arrays):
        seeded = handlers.substitute(handlers.seed(model, rng_seed=0), substitute_fn=init_to_uniform)
        model_trace = handlers.trace(seeded).get_trace(arrays)
        values = {}
        for name, site in model_trace.items():
            if site["type"] == "sample" and not site["is_observed"]:
                supports[name] = site["fn"].support
                values[name] = site["value"]
        return values

    with jax.enable_x64(True):
        shapes = jax.eval_shape(trace, arrays)
    transforms = {name: biject_to(support) for name, support in supports.items()}
    return transforms, {name: tuple(transforms[name].inverse_shape(shapes[name].shape)) for name in transforms}


def log_density(spec: ModelSpec, data: ModelData) -> LogDensity:
    plan = blueprint(spec, data.outcome_observed)
    model = make_model(plan, spec.response.name)
    arrays = internal_arrays(spec, data)
    transforms, shapes = sample_sites(model, arrays)
    with jax.enable_x64(True):
        potential = get_potential_fn(model, transforms, dynamic_args=True)[0](arrays)
    names = sorted(transforms)
    sizes = [int(np.prod(shapes[name])) for name in names]
    offsets = np.cumsum([0] + sizes)

    def one(point):
        z = {name: point[offsets[k]:offsets[k + 1]].reshape(shapes[name]) for k, name in enumerate(names)}
        return -potential(z)

    with jax.enable_x64(True):
        function = jax.jit(jax.vmap(one))
    return LogDensity(names, shapes, transforms, function)


def units_log_jacobian(spec: ModelSpec, data: ModelData) -> float:
    """log |d internal data / d data|: the internal model sees each observed Gaussian outcome (the focal one
    and every continuous predictor model's) divided by its scale; add this to an internal log marginal
    likelihood to get the data's."""
    total = 0.0
    observed = data.n if data.outcome_observed is None else int(np.sum(data.outcome_observed))
    if spec.family.kind.standardized:
        total -= observed * np.log(spec.scaling.outcome_scale)
    for submodel in spec.submodels:
        if not submodel.kind.gaussian_units:
            continue
        assert data.values is not None  # a submodel's variable has values
        values = np.asarray(data.values[submodel.outcome], dtype=float)
        if submodel.level == 2:
            values = values[np.unique(np.asarray(data.group_index[0]), return_index=True)[1]]
        total -= int(np.sum(~np.isnan(values))) * np.log(submodel.scale)
    return float(total)
