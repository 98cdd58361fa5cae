"""The submodels inside the model function: missing continuous values as parameters, the parameters and
log densities of the predictor, missingness, ordinal and nominal models, and latent cluster means."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jax_special
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints

from .blueprint import Blueprint
from .model_arrays import ModelArrays
from .prior_densities import log_prior_function
from .sites import free_parameter, padding_density
from .submodel_plans import SubmodelPlan


def latent_values(plan: Blueprint, arrays: ModelArrays, outcome_name: str):
    """Missing continuous values become parameters (sampled in standardized units).

    Returns the variables with their missing entries filled, and the focal outcome in internal
    units (with its missing entries filled when they are parameters).
    """
    values = dict(arrays.values or {})
    missing = arrays.missing or {}  # present when there are missing values
    y: np.ndarray | jax.Array = arrays.y
    if plan.outcome_latent:
        latent = free_parameter("missing_outcome", constraints.real, (plan.outcome_latent,))
        padding_density("missing_outcome", latent, missing["outcome padding"])
        y = jnp.asarray(y).at[missing["outcome"]].set(latent, mode="drop")
        values[outcome_name] = arrays.constants["outcome location"] + arrays.constants["outcome scale"] * y
    for j, sub in enumerate(plan.submodels):
        if sub.missing and sub.family == "gaussian":
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
    """Sample every submodel's parameters (with their priors); returns them per submodel."""
    result = []
    for j, sub in enumerate(plan.submodels):
        constants = arrays.constants[f"submodel {j}"]
        name = sub.name
        if sub.family == "nominal":
            result.append(_nominal_parameters(sub, constants, arrays))
            continue
        parameters = {"Intercept": free_parameter(f"{name} ~ Intercept", constraints.real)}
        numpyro.factor(f"{name} ~ Intercept prior", log_prior_function(sub.intercept_prior)(
            parameters["Intercept"][None], constants["intercept prior"]))
        if sub.expressions:
            parameters["b"] = free_parameter(f"{name} ~ b", constraints.real, (len(sub.expressions),))
            numpyro.factor(f"{name} ~ b prior", log_prior_function(_present(sub.fixed_prior))(parameters["b"],
                                                                                   constants["fixed prior"]))
        if sub.groups:
            sd = free_parameter(f"{name} ~ sd", constraints.positive)
            numpyro.factor(f"{name} ~ sd prior",
                           log_prior_function(_present(sub.sd_prior))(sd[None], constants["sd prior"]))
            z = numpyro.sample(f"{name} ~ z", dist.Normal(0.0, 1.0).expand((sub.groups,)).to_event(1))
            parameters["cluster effects"] = sd * z
            parameters["group effects"] = (sd * z)[arrays.group_index[0]]
        if sub.family == "gaussian":
            parameters["sigma"] = free_parameter(f"{name} ~ sigma", constraints.positive)
            numpyro.factor(f"{name} ~ sigma prior", log_prior_function(_present(sub.residual_prior))(
                parameters["sigma"][None], constants["residual prior"]))
        if sub.family == "ordinal" and sub.categories > 2:
            # thresholds: the first is 0 (the intercept is free), the others follow by positive steps
            parameters["steps"] = free_parameter(f"{name} ~ threshold steps", constraints.positive,
                                                 (sub.categories - 2,))
            if sub.steps_prior is not None:
                numpyro.factor(f"{name} ~ threshold steps prior", log_prior_function(sub.steps_prior)(
                    parameters["steps"], constants["steps prior"]))
        result.append(parameters)
    return result


def _present(structure: tuple | None) -> tuple:
    """A submodel's prior structure for a part it has (None only for parts it lacks)."""
    assert structure is not None
    return structure


def submodel_rows(plan: Blueprint, arrays: ModelArrays, values: dict, parameters: list[dict], level: int = 1):
    """The summed log density of every submodel of this level at these values: per row (level 1) or
    per cluster (level 2)."""
    total: float | jax.Array = 0.0
    rows = arrays.y.shape[0]
    missing = arrays.missing or {}  # level 2: its "cluster rows", each cluster's first row
    for j, sub in enumerate(plan.submodels):
        if sub.level != level:
            continue
        constants = arrays.constants[f"submodel {j}"]
        chosen = parameters[j]
        mean = chosen["Intercept"]
        if sub.expressions:
            design = _submodel_design(sub, constants, values, rows)
            if level == 2:
                design = design[missing["cluster rows"]]
            if sub.family != "nominal":
                mean = mean + design @ chosen["b"]
        if sub.groups:
            mean = mean + chosen["group effects"]
        def at_level(value):
            return value if level == 1 else jnp.asarray(value)[missing["cluster rows"]]

        if sub.family == "probit":
            indicator = values[sub.name]
            total = total + indicator * jax_special.log_ndtr(mean) + (1 - indicator) * jax_special.log_ndtr(-mean)
        elif sub.family == "nominal":
            linear = chosen["Intercept"] + (design @ chosen["b"] if sub.expressions else 0.0)
            if sub.groups:
                linear = linear + chosen["group effects"]
            linear = jnp.broadcast_to(linear, (design.shape[0] if sub.expressions else
                                               at_level(values[f"{sub.name} code"]).shape[0], sub.categories - 1))
            logits = jnp.concatenate([jnp.zeros(linear.shape[:-1] + (1,)), linear], axis=-1)
            code = jnp.clip(at_level(values[f"{sub.name} code"]), 0, sub.categories - 1)
            total = total + jnp.take_along_axis(jax.nn.log_softmax(logits, axis=-1), code[:, None], axis=1)[:, 0]
        elif sub.family == "ordinal":
            thresholds = jnp.zeros((1,)) if sub.categories == 2 else jnp.concatenate(
                [jnp.zeros((1,)), jnp.cumsum(chosen["steps"])])
            total = total + ordinal_log_probability(at_level(values[f"{sub.name} code"]), mean, thresholds)
        else:
            value = values[sub.name] if level == 1 else jnp.asarray(values[sub.name])[missing["cluster rows"]]
            outcome = (value - constants["location"]) / constants["scale"]
            total = total + dist.Normal(mean, chosen["sigma"]).log_prob(outcome)
    return total


def _nominal_parameters(sub: SubmodelPlan, constants: dict, arrays: ModelArrays) -> dict:
    """Intercepts (K-1), coefficients (predictors x K-1) and random intercepts (one SD per category) of a
    multinomial logit; each category's parameters get the submodel's priors."""
    others = sub.categories - 1
    name = sub.name
    intercepts = free_parameter(f"{name} ~ Intercept", constraints.real, (others,))
    intercept_prior = log_prior_function(sub.intercept_prior)
    numpyro.factor(f"{name} ~ Intercept prior", sum(intercept_prior(intercepts[k:k + 1], constants["intercept prior"])
                                                    for k in range(others)))
    parameters = {"Intercept": intercepts}
    if sub.expressions:
        b = free_parameter(f"{name} ~ b", constraints.real, (len(sub.expressions), others))
        fixed_prior = log_prior_function(_present(sub.fixed_prior))
        numpyro.factor(f"{name} ~ b prior", sum(fixed_prior(b[:, k], constants["fixed prior"]) for k in range(others)))
        parameters["b"] = b
    if sub.groups:
        sd = free_parameter(f"{name} ~ sd", constraints.positive, (others,))
        sd_prior = log_prior_function(_present(sub.sd_prior))
        numpyro.factor(f"{name} ~ sd prior", sum(sd_prior(sd[k:k + 1], constants["sd prior"]) for k in range(others)))
        z = numpyro.sample(f"{name} ~ z", dist.Normal(0.0, 1.0).expand((sub.groups, others)).to_event(2))
        parameters["group effects"] = (sd * z)[arrays.group_index[0]]
    return parameters


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


def ordinal_log_probability(code, mean, thresholds):
    """log P(category = code) under the ordinal probit model: Phi(t_k - mean) - Phi(t_{k-1} - mean), with
    t_{-1} = -inf and t_{K-1} = +inf; computed on the side of the smaller tail for accuracy."""
    categories = thresholds.shape[0] + 1
    upper = jnp.concatenate([thresholds, jnp.full((1,), 40.0)])[jnp.clip(code, 0, categories - 1)] - mean
    lower = jnp.concatenate([jnp.full((1,), -40.0), thresholds])[jnp.clip(code, 0, categories - 1)] - mean
    # log(Phi(u) - Phi(l)); for l > 0 use the mirror image Phi(-l) - Phi(-u)
    mirror = lower > 0
    high = jnp.where(mirror, -lower, upper)
    low = jnp.where(mirror, -upper, lower)
    log_high, log_low = jax_special.log_ndtr(high), jax_special.log_ndtr(low)
    return log_high + jnp.log1p(-jnp.exp(jnp.minimum(log_low - log_high, -1e-12)))
