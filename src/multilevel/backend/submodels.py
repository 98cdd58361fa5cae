"""The submodels inside the model function: missing continuous values as parameters, every submodel's
parameters and priors, their log densities (each kind's own, see :mod:`multilevel.model.submodel_kinds`),
and latent cluster means."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from .. import _numpyro  # noqa: F401  (first: a lazy numpyro left by ArviZ is loaded for real)
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints

from .blueprint import Blueprint
from .model_arrays import ModelArrays
from .prior_densities import log_prior_function
from .likelihood import special_functions
from .sites import free_parameter, padding_density
from .submodel_plans import SubmodelPlan

_SPECIAL = special_functions(jnp)


def latent_values(plan: Blueprint, arrays: ModelArrays, outcome_name: str):
    """Missing continuous values become parameters (sampled in standardized units).

    Returns the variables with their missing entries filled, and the focal outcome in internal
    units (with its missing entries filled when they are parameters).
    """
    values = dict(arrays.values or {})
    missing = arrays.missing or {}  # present when there are missing values
    y: np.ndarray | jax.Array = arrays.y
    integrated = plan.integrated
    if plan.outcome_latent and not (integrated is not None and integrated.focal):
        latent = free_parameter("missing_outcome", constraints.real, (plan.outcome_latent,))
        padding_density("missing_outcome", latent, missing["outcome padding"])
        y = jnp.asarray(y).at[missing["outcome"]].set(latent, mode="drop")
        values[outcome_name] = arrays.constants["outcome location"] + arrays.constants["outcome scale"] * y
    for j, sub in enumerate(plan.submodels):
        if sub.missing and sub.kind.sampled and not (integrated is not None and j in integrated.members):
            constants = arrays.constants[f"submodel {j}"]
            standardized = free_parameter(f"missing_{sub.name}", constraints.real, (sub.missing,))
            padding_density(f"missing_{sub.name}", standardized, missing[f"{sub.name} padding"])
            latent = constants["location"] + constants["scale"] * standardized
            if sub.level == 2:  # one value per cluster, shared by the cluster's rows
                clusters = jnp.asarray(values[sub.name])[missing["cluster rows"]]
                values[sub.name] = clusters.at[missing[sub.name]].set(latent, mode="drop")[
                    arrays.group_index[0]]
            else:
                values[sub.name] = jnp.asarray(values[sub.name]).at[missing[sub.name]].set(latent, mode="drop")
    return values, y


def submodel_parameters(plan: Blueprint, arrays: ModelArrays) -> list[dict]:
    """Sample every submodel's parameters (with their priors); returns them per submodel. A kind with one
    linear predictor per category after the first gets a last axis of that size on each part, each entry
    with the part's prior."""
    result = []
    for j, sub in enumerate(plan.submodels):
        constants = arrays.constants[f"submodel {j}"]
        name = sub.name
        per = sub.kind.linear_predictors(sub.categories)  # 0: one linear predictor, no last axis
        axis = (per,) if per else ()
        parameters = {"Intercept": free_parameter(f"{name} ~ Intercept", constraints.real, axis)}
        _prior(f"{name} ~ Intercept", sub.intercept_prior, parameters["Intercept"], constants["intercept prior"],
               per)
        if sub.expressions:
            parameters["b"] = free_parameter(f"{name} ~ b", constraints.real, (len(sub.expressions),) + axis)
            _prior(f"{name} ~ b", _present(sub.fixed_prior), parameters["b"], constants["fixed prior"],
                   per, vector=True)
        if sub.groups:
            sd = free_parameter(f"{name} ~ sd", constraints.positive, axis)
            _prior(f"{name} ~ sd", _present(sub.sd_prior), sd, constants["sd prior"], per)
            z = numpyro.sample(f"{name} ~ z", dist.Normal(0.0, 1.0).expand((sub.groups,) + axis).to_event(
                1 + len(axis)))
            if not axis:
                parameters["cluster effects"] = sd * z
            parameters["group effects"] = (sd * z)[arrays.group_index[0]]
        for extra, structure in sub.extra:
            shape = (extra.size,) if extra.size else ()
            parameters[extra.key] = free_parameter(f"{name} ~ {extra.site}", constraints.positive, shape)
            _prior(f"{name} ~ {extra.site}", structure, parameters[extra.key], constants[f"{extra.key} prior"], 0,
                   vector=bool(extra.size))
        result.append(parameters)
    return result


def _prior(site: str, structure: tuple, value, constants, per_category: int, vector: bool = False) -> None:
    """The prior factor of a submodel part; with ``per_category`` linear predictors (0: one, no last axis)
    the part's prior applies to each entry of its last axis."""
    density = log_prior_function(structure)
    if per_category:
        parts = [density(value[..., k] if vector else value[k:k + 1], constants) for k in range(per_category)]
        numpyro.factor(f"{site} prior", sum(parts))
    else:
        numpyro.factor(f"{site} prior", density(value if vector else value[None], constants))


def _present(structure: tuple | None) -> tuple:
    """A submodel's prior structure for a part it has (None only for parts it lacks)."""
    assert structure is not None
    return structure


def submodel_mean(plan: Blueprint, arrays: ModelArrays, j: int, values: dict, parameters: list[dict]):
    """Submodel j's linear predictor at these values: per row (level 1) or per cluster (level 2)."""
    sub = plan.submodels[j]
    constants = arrays.constants[f"submodel {j}"]
    chosen = parameters[j]
    mean = chosen["Intercept"]
    if sub.expressions:
        design = _submodel_design(sub, constants, values, arrays.y.shape[0])
        if sub.level == 2:
            design = design[(arrays.missing or {})["cluster rows"]]  # level 2: each cluster's first row
        mean = mean + design @ chosen["b"]
    if sub.groups:
        mean = mean + chosen["group effects"]
    return mean


def submodel_observed(plan: Blueprint, arrays: ModelArrays, j: int, values: dict):
    """Submodel j's variable as its row log density reads it: standardized, the indicator, or the codes."""
    sub = plan.submodels[j]
    constants = arrays.constants[f"submodel {j}"]

    def at_level(value):
        return value if sub.level == 1 else jnp.asarray(value)[(arrays.missing or {})["cluster rows"]]

    if sub.kind.discrete:
        return at_level(values[f"{sub.name} code"])
    if sub.kind.gaussian_units:
        return (at_level(values[sub.name]) - constants["location"]) / constants["scale"]
    return values[sub.name]


def submodel_rows(plan: Blueprint, arrays: ModelArrays, values: dict, parameters: list[dict], level: int = 1,
                  skip: frozenset[int] = frozenset()):
    """The summed log density of every submodel of this level (but those in ``skip``) at these values: per
    row (level 1) or per cluster (level 2)."""
    total: float | jax.Array = 0.0
    for j, sub in enumerate(plan.submodels):
        if sub.level != level or j in skip:
            continue
        mean = submodel_mean(plan, arrays, j, values, parameters)
        observed = submodel_observed(plan, arrays, j, values)
        total = total + sub.kind.row_log_density(observed, mean, parameters[j], jnp, _SPECIAL)
    return total


def _submodel_design(sub: SubmodelPlan, constants: dict, values: dict, rows: int):
    """A submodel's predictors at these values, standardized as its coefficients expect."""
    design = jnp.stack([jnp.broadcast_to(expression.evaluate(values, jnp), (rows,))
                        for expression in sub.expressions], axis=1)
    return (design - constants["means"]) / constants["sds"]


def with_latent_means(plan: Blueprint, arrays: ModelArrays, values: dict, parameters: list[dict]) -> dict:
    """Fill ``<x>.mean`` (per row) with the latent cluster means of x read off x's model: intercept + the
    cluster's average of its standardized predictors times their coefficients + the random intercept."""
    values = dict(values)
    index = arrays.group_index[0]
    rows = arrays.y.shape[0]
    for j, sub in enumerate(plan.submodels):
        if not sub.latent_mean:
            continue
        constants = arrays.constants[f"submodel {j}"]
        chosen = parameters[j]
        mean = chosen["Intercept"] + chosen["cluster effects"]
        if sub.expressions:
            sizes = jax.ops.segment_sum(jnp.ones(rows), index, num_segments=sub.groups)
            sums = jax.ops.segment_sum(_submodel_design(sub, constants, values, rows), index, num_segments=sub.groups)
            mean = mean + (sums / jnp.maximum(sizes, 1.0)[:, None]) @ chosen["b"]
        cluster_means = numpyro.deterministic(f"latent mean {sub.name}",
                                              constants["location"] + constants["scale"] * mean)
        values[f"{sub.name}.mean"] = cluster_means[index]
    return values
