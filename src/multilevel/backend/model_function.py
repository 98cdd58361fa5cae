"""The NumPyro model function of a :class:`~multilevel.backend.blueprint.Blueprint`.

The data reach the model as a :class:`~multilevel.backend.model_arrays.ModelArrays` argument (never
closed over), so the compiled sampler can be reused for new data of the same shapes and the persistent
compilation cache sees the same program. Sites are declared in a fixed order: missing values, submodel
parameters, fixed effects, each block's SDs, correlations and effects, the residual SD, the likelihood.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from collections.abc import Callable

import jax
import jax.numpy as jnp
import jax.scipy.special as jax_special
import numpy as np
from .. import _numpyro  # noqa: F401  (first: a lazy numpyro left by ArviZ is loaded for real)
import numpyro
from numpyro import handlers
from numpyro.distributions import constraints

from .blueprint import Blueprint
from .discrete import discrete_configurations, with_categories, with_entry_codes
from .integration import integrated_rows
from .likelihood import log_likelihood
from .linear_predictor import linear_predictor, with_columns
from .marginal_likelihood import marginal_log_likelihood
from .model_arrays import ModelArrays
from .prior_densities import log_prior_function
from .random_effects import BlockEffects, FixedEffects, structure_named
from .row_subset import rows_of
from .sites import constraint_of, free_parameter
from .submodels import latent_values, submodel_parameters, submodel_rows, with_latent_means


class LogPriors(NamedTuple):
    """The prior log densities of the focal model's intercept, coefficients and residual SD (None: absent)."""

    intercept: Callable | None
    fixed: Callable | None
    residual: Callable | None

    @classmethod
    def of(cls, plan: Blueprint) -> LogPriors:
        def function(structure):
            return log_prior_function(structure) if structure is not None else None
        return cls(function(plan.intercept_prior), function(plan.fixed_prior), function(plan.residual_prior))


class Focal(NamedTuple):
    """What the focal model's row log density reads, besides the values of the variables."""

    plan: Blueprint
    arrays: ModelArrays
    y: Any  # the outcome (internal units), a JAX array when missing values are filled in
    fixed: FixedEffects
    blocks: tuple[BlockEffects, ...]
    sigma: Any | None  # the residual SD, a JAX array
    submodel_parameters: list
    own: dict  # the family's own parameters (Student-t's nu) by name
    outcome_name: str = "y"  # the outcome's key among the values of the variables


def _fixed_effects(plan: Blueprint, priors: LogPriors, constants: dict) -> FixedEffects:
    p = plan.fixed_count
    intercept = coefficients = None
    if p:
        assert priors.fixed is not None  # the blueprint has a prior for every coefficient
        coefficients = free_parameter("b", constraints.real, (p,))
        numpyro.factor("b prior", priors.fixed(coefficients, constants["fixed prior"]))
    if priors.intercept is not None:
        intercept = free_parameter("Intercept", constraints.real)
        # the prior is stated for the intercept with every predictor centred at its mean
        centred = intercept + (jnp.dot(constants["shift"], coefficients) if coefficients is not None else 0.0)
        numpyro.factor("Intercept prior", priors.intercept(centred[None], constants["intercept prior"]))
    return FixedEffects(intercept, coefficients)


def _residual_sd(plan: Blueprint, priors: LogPriors, constants: dict):
    if priors.residual is None:
        return None
    assert plan.residual_support is not None  # set with the residual prior
    sigma = free_parameter("sigma", constraint_of(plan.residual_support))
    numpyro.factor("sigma prior", priors.residual(sigma[None], constants["residual prior"]))
    return sigma


def _family_parameters(plan: Blueprint, constants: dict) -> dict:
    """The family's own parameters (Student-t's nu), each a site with its prior."""
    own = {}
    for parameter in plan.family_parameters:
        own[parameter.name] = free_parameter(parameter.name, constraint_of(parameter.support))
        numpyro.factor(f"{parameter.name} prior", log_prior_function(parameter.prior)(
            own[parameter.name][None], constants[f"{parameter.name} prior"]))
    return own


def _marginal_likelihood(arrays: ModelArrays, fixed: FixedEffects, block: BlockEffects, sigma) -> None:
    intercept, coefficients = fixed
    if intercept is None:
        full = coefficients if coefficients is not None else jnp.zeros((0,))
    else:
        full = jnp.concatenate([intercept[None], coefficients]) if coefficients is not None else intercept[None]
    assert arrays.sufficient is not None  # the arrays of a marginalized block carry its cross products
    numpyro.factor("log likelihood", marginal_log_likelihood(arrays.sufficient, full, block.scale_tril, sigma))


def completed_designs(plan: Blueprint, arrays: ModelArrays, values: dict):
    """The fixed and random designs with every column that involves an imputed variable recomputed at
    ``values``, in internal units."""
    constants = arrays.constants
    X = with_columns(jnp, jnp.asarray(arrays.X), plan.dynamic_fixed, values, location=constants["dynamic means"],
                     scale=constants["dynamic sds"])
    Z = []
    for i, block in enumerate(arrays.Z):
        columns = plan.dynamic_random[i] if plan.dynamic_random else ()
        sds = constants[f"random sds {i}"] if columns else ()
        Z.append(with_columns(jnp, jnp.asarray(block), columns, values,
                              scale=tuple(sds[k] for k, _ in columns) if columns else None))
    return X, tuple(Z)


def focal_eta(focal: Focal, current: dict):
    """The focal model's linear predictor of every row (internal units), at these values of the variables."""
    plan, arrays = focal.plan, focal.arrays
    X, Z = arrays.X, arrays.Z
    if plan.submodels:
        X, Z = completed_designs(plan, arrays, current)
    everything_free = len(plan.free) == plan.fixed_count
    return linear_predictor(
        jnp, design=X, coefficients=focal.fixed.coefficients, offset=arrays.offset,
        intercept=None if plan.intercept_absorbed else focal.fixed.intercept,
        free=None if everything_free else np.asarray(plan.free, dtype=np.int32),
        random=[structure_named(plan.blocks[block.block].structure).random_part(Z[block.block], block.rows,
                                                                                  block.direct)
                for block in focal.blocks])


def _focal_rows(focal: Focal, current: dict):
    """Per row: the focal model's log-likelihood at these values (0 where the outcome is missing)."""
    plan, arrays = focal.plan, focal.arrays
    eta = focal_eta(focal, current)
    pointwise = log_likelihood(plan.family, focal.y, eta, sigma=focal.sigma, trials=arrays.trials, xp=jnp,
                               **focal.own)
    if arrays.outcome_observed is not None:  # missing outcomes carry no likelihood (they are predicted)
        pointwise = pointwise * arrays.outcome_observed
    return pointwise


def row_log_density(focal: Focal, current: dict):
    """Per row: the focal model's log-likelihood plus every submodel's, at these values; with an integrated
    block, its missing values integrated out (:mod:`multilevel.backend.integration`)."""
    plan, arrays = focal.plan, focal.arrays
    block = plan.integrated
    if block is not None:
        pointwise = integrated_rows(focal, current, block, lambda values: focal_eta(focal, values))
        return pointwise if block.focal else pointwise + _focal_rows(focal, current)
    pointwise = _focal_rows(focal, current)
    if plan.submodels:
        pointwise = pointwise + submodel_rows(plan, arrays, current, focal.submodel_parameters)
    return pointwise


def _row_totals(focal: Focal, start: dict, start_mask):
    """Per row, its log density with its own missing level-1 categories summed out; and the log density of
    each entry (a row with missing discrete values at one combination of their categories, laid out by
    :func:`multilevel.backend.submodel_plans.missing_arrays`), which the categories are drawn from.

    Every row is evaluated once, with its missing categories at the first category, and every entry once:
    the work grows with the incomplete rows times their own combinations, never with the data set times
    every combination."""
    chosen = discrete_configurations(focal.plan, level=1)[0]
    arrays = focal.arrays
    if not chosen:
        return row_log_density(focal, start) + start_mask, None
    first = with_categories(start, arrays.constants, chosen, [0] * len(chosen), 0.0)[0]  # observed ones kept
    base = row_log_density(focal, first) + start_mask
    missing = arrays.missing or {}  # present: some discrete values are missing
    subset, values = rows_of(focal, start, jnp.asarray(missing["discrete entry rows"]))
    mask = start_mask[missing["discrete entry rows"]] if jnp.ndim(start_mask) else start_mask
    entries = row_log_density(subset, with_entry_codes(values, arrays.constants, chosen,
                                                       jnp.asarray(missing["discrete entry codes"]))) + mask
    slots, rows = jnp.asarray(missing["discrete entry slots"]), jnp.asarray(missing["discrete rows"])
    count = rows.shape[0]  # padded entries have slot `count` and are dropped by the sums
    top = jax.lax.stop_gradient(jax.ops.segment_max(entries, slots, num_segments=count))
    top = jnp.where(jnp.isfinite(top), top, 0.0)
    sums = jax.ops.segment_sum(jnp.exp(entries - top[jnp.minimum(slots, count - 1)]), slots, num_segments=count)
    counted = jnp.arange(count) < missing["discrete rows count"]  # padded slots repeat the last row
    change = jnp.where(counted, jnp.log(jnp.where(counted, sums, 1.0)) + top - base[rows], 0.0)
    return base + jnp.zeros_like(base).at[rows].add(change), entries


def _summed_out_likelihood(focal: Focal, values: dict) -> None:
    """The likelihood with the missing discrete values summed out: row by row, or (with missing level-2
    categories) per cluster over them, the cluster's rows (each summed over the missing level-1 categories)
    times the level-2 models."""
    plan, arrays = focal.plan, focal.arrays
    row_discrete = discrete_configurations(plan, level=1)[0]
    cluster_discrete, cluster_configurations = discrete_configurations(plan, level=2)
    missing = arrays.missing or {}  # present: some discrete values are missing
    if not cluster_discrete:
        totals, weights = _row_totals(focal, values, 0.0)
        numpyro.factor("log likelihood", jnp.sum(totals))
        numpyro.deterministic("discrete entry log weights", weights)
        return
    index, clusters = arrays.group_index[0], missing["cluster rows"].shape[0]
    cluster_terms, row_weights = [], []
    for configuration in cluster_configurations:
        current, mask = with_categories(values, arrays.constants, cluster_discrete, configuration, 0.0)
        totals, weights = _row_totals(focal, current, mask)
        if row_discrete:
            row_weights.append(weights)
        per_cluster = jax.ops.segment_sum(totals, index, num_segments=clusters)
        cluster_terms.append(per_cluster + submodel_rows(plan, arrays, current, focal.submodel_parameters, 2))
    cluster_stacked = jnp.stack(cluster_terms)
    numpyro.factor("log likelihood", jnp.sum(jax_special.logsumexp(cluster_stacked, axis=0)))
    numpyro.deterministic("cluster log weights", cluster_stacked)
    if row_discrete:
        numpyro.deterministic("discrete entry log weights", jnp.stack(row_weights))


def _likelihood(focal: Focal, values: dict) -> None:
    plan = focal.plan
    discrete = discrete_configurations(plan)[0]
    cluster_discrete = discrete_configurations(plan, level=2)[0]
    if any(sub.level == 2 for sub in plan.submodels) and not cluster_discrete:  # models of level-2 variables
        numpyro.factor("level-2 models", jnp.sum(submodel_rows(plan, focal.arrays, values,
                                                               focal.submodel_parameters, 2)))
    if not discrete:
        numpyro.factor("log likelihood", jnp.sum(row_log_density(focal, values)))
        return
    _summed_out_likelihood(focal, values)


def declare_parameters(plan: Blueprint, priors: LogPriors, arrays: ModelArrays,
                       outcome_name: str) -> tuple[Focal, dict]:
    """Declare every parameter site (with its prior); the focal model's parts and the values of the variables."""
    values: dict = arrays.values or {}
    y = arrays.y
    if plan.submodels or plan.outcome_latent:
        values, y = latent_values(plan, arrays, outcome_name)
    parameters = submodel_parameters(plan, arrays)
    if any(sub.latent_mean for sub in plan.submodels):
        values = with_latent_means(plan, arrays, values, parameters)
    fixed = _fixed_effects(plan, priors, arrays.constants)
    blocks = tuple(structure_named(block.structure).sample(i, block, arrays, fixed)
                   for i, block in enumerate(plan.blocks))
    sigma = _residual_sd(plan, priors, arrays.constants)
    own = _family_parameters(plan, arrays.constants)
    return Focal(plan, arrays, y, fixed, blocks, sigma, parameters, own, outcome_name), values


def make_model(plan: Blueprint, outcome_name: str = "y"):
    """The NumPyro model function ``model(arrays: ModelArrays)`` for a blueprint."""
    priors = LogPriors.of(plan)

    def model(arrays: ModelArrays):
        focal, values = declare_parameters(plan, priors, arrays, outcome_name)
        if arrays.sufficient is not None:
            _marginal_likelihood(arrays, focal.fixed, focal.blocks[0], focal.sigma)
            return
        _likelihood(focal, values)

    return model


def linear_predictor_at_draw(plan: Blueprint, arrays: ModelArrays, draw: dict, outcome_name: str = "y"):
    """The model's own linear predictor (rows,) at one draw of its sampled sites (internal units): its
    parameters declared as the model does, with these values, and the rows' predictor computed from them.
    Not for a marginalized block (its group effects are not parameters of the model)."""
    if arrays.sufficient is not None:
        raise ValueError("a marginalized model has no group effects among its parameters")
    with handlers.block(), handlers.seed(rng_seed=0), handlers.substitute(data=draw):
        focal, values = declare_parameters(plan, LogPriors.of(plan), arrays, outcome_name)
        return focal_eta(focal, _with_drawn_values(plan, arrays, values, draw))


def _with_drawn_values(plan: Blueprint, arrays: ModelArrays, values: dict, draw: dict) -> dict:
    """The values with the integrated block's missing entries set from a draw's ``missing_<name>`` (drawn after
    sampling: the model itself does not read them)."""
    block = plan.integrated
    if block is None:
        return values
    values = dict(values)
    for j in block.members:
        name = plan.submodels[j].name
        if plan.submodels[j].missing:
            constants = arrays.constants[f"submodel {j}"]
            drawn = constants["location"] + constants["scale"] * jnp.asarray(draw[f"missing_{name}"])
            values[name] = jnp.asarray(values[name]).at[(arrays.missing or {})[name]].set(drawn, mode="drop")
    return values
