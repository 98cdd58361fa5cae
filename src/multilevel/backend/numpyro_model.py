"""ModelSpec → a NumPyro model over internal (standardized) units, and back to the data's units.

Internally the outcome of a Gaussian model is (y − location)/scale, fixed design columns
are centred (with an intercept) and divided by their SD, and random-effect columns are
divided by their SD. That is an exact reparameterization: every prior is mapped to the
internal units (``Prior.scaled`` / ``shifted``) and every draw is mapped back in
:func:`to_user_units`, so users only ever see the data's units.

The data reach the model as a :class:`ModelArrays` argument (never closed over), so the
compiled sampler can be reused for new data of the same shapes and the persistent
compilation cache sees the same program.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax.numpy as jnp
import jax.scipy.special as jax_special
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints

from ..spec import priors as P
from ..spec.families import FamilyName
from ..spec.model_spec import ModelData, ModelSpec
from ..spec.prior_assignment import block_cor_key, sd_name
from .likelihood import log_likelihood
from .prior_densities import log_prior_function, prior_structure


class ModelArrays(NamedTuple):
    y: jnp.ndarray
    trials: jnp.ndarray | None
    X: jnp.ndarray
    offset: jnp.ndarray | None
    Z: tuple
    group_index: tuple
    constants: dict  # prior parameters and scaling constants: data-dependent numbers kept out of the program
    values: dict | None = None  # raw variables (0 where missing) for columns evaluated at sampling time
    missing: dict | None = None  # variable -> row positions of its missing values
    outcome_observed: jnp.ndarray | None = None  # 1.0 where the outcome is observed


@dataclass(frozen=True)
class Blueprint:
    """Everything about a model that shapes the compiled program (hashable; the sampler cache key).

    Numbers that depend on the data (prior scales, column means) travel in
    ``ModelArrays.constants`` instead, so new data of the same shape reuse the compilation.
    """

    family: object
    intercept: bool
    fixed_count: int
    intercept_prior: tuple | None
    fixed_prior: tuple | None
    residual_prior: tuple | None
    residual_support: tuple | None
    blocks: tuple  # per block: (groups, size, correlated, parameterization, intercept flags, sources, supports, sd prior, lkj eta)
    free: tuple[int, ...]
    intercept_absorbed: bool
    dynamic_fixed: tuple = ()  # (column index, expression) evaluated from imputed values
    dynamic_random: tuple = ()  # per block: ((column index, expression), ...)
    submodels: tuple = ()  # per submodel: (name, missing count, expressions, groups or 0, prior structures, family)
    outcome_latent: int = 0  # number of missing outcome values sampled as parameters


@dataclass(frozen=True)
class InternalPriors:
    intercept: P.Prior | None
    fixed: tuple[P.Prior, ...]
    sds: tuple[tuple[P.Prior, ...], ...]
    cor_eta: tuple[float | None, ...]
    residual: P.Prior | None


@dataclass(frozen=True)
class Absorption:
    """Which fixed effects become the means of a centered block's group coefficients.

    In a centered block, the group coefficients are sampled as beta_j ~ N(mean, Sigma), with the
    intercept and the fixed slopes of the same columns as the mean (hierarchical centering).
    That removes the ridge between a fixed effect and the average of its group deviations.
    One block at most absorbs the intercept: the centered one with the fewest groups (its mean is
    the least determined). ``sources[i][k]`` is "intercept", a fixed column index, or None.
    """

    sources: tuple[tuple, ...]
    absorbed_fixed: frozenset[int]
    intercept_absorbed: bool


def absorption(spec: ModelSpec) -> Absorption:
    fixed_index = {name: k for k, name in enumerate(spec.fixed_names)}
    centered = [i for i, block in enumerate(spec.random) if block.parameterization == "centered"]
    with_intercept = [i for i in centered if any(c.is_intercept for c in spec.random[i].columns)]
    intercept_block = (min(with_intercept, key=lambda i: len(spec.random[i].factor.levels))
                       if spec.intercept and with_intercept else None)
    sources, used = [], set()
    for i, block in enumerate(spec.random):
        row = []
        for column in block.columns:
            source = None
            if i in centered:
                if column.is_intercept and i == intercept_block:
                    source = "intercept"
                elif not column.is_intercept and column.name in fixed_index and fixed_index[column.name] not in used:
                    source = fixed_index[column.name]
                    used.add(source)
            row.append(source)
        sources.append(tuple(row))
    return Absorption(tuple(sources), frozenset(used), intercept_block is not None)


def internal_priors(spec: ModelSpec) -> InternalPriors:
    scaling = spec.scaling
    scale = scaling.outcome_scale if spec.family.name is FamilyName.GAUSSIAN else 1.0
    location = scaling.outcome_location if spec.family.name is FamilyName.GAUSSIAN else 0.0
    intercept = None
    if spec.intercept:
        intercept = spec.prior_for("Intercept").prior.shifted(-location).scaled(1.0 / scale)
    fixed = tuple(spec.prior_for(name).prior.scaled(sd / scale)
                  for name, sd in zip(spec.fixed_names, scaling.column_sds))
    sds = []
    cor_eta = []
    for block, column_sds in zip(spec.random, scaling.random_column_sds):
        sds.append(tuple(spec.prior_for(sd_name(name, block.factor.name)).prior.for_sd_scaled(sd / scale)
                         for name, sd in zip(block.column_names, column_sds)))
        cor_eta.append(spec.prior_for(block_cor_key(block)).prior.eta if block.has_correlations else None)
    residual = spec.prior_for("residual sd").prior.for_sd_scaled(1.0 / scale) if spec.family.has_residual_sd else None
    return InternalPriors(intercept, fixed, tuple(sds), tuple(cor_eta), residual)


def internal_column_means(spec: ModelSpec) -> np.ndarray:
    """Fixed columns are centred internally, except those absorbed into a centered block."""
    means = np.array(spec.scaling.column_means, dtype=float)
    for k in absorption(spec).absorbed_fixed:
        means[k] = 0.0
    return means


def internal_arrays(spec: ModelSpec, data: ModelData) -> ModelArrays:
    """The data in internal units, as NumPy arrays (float64, int32 codes)."""
    scaling = spec.scaling
    gaussian = spec.family.name is FamilyName.GAUSSIAN
    location = scaling.outcome_location if gaussian else 0.0
    scale = scaling.outcome_scale if gaussian else 1.0
    y = (data.y - location) / scale
    X = (data.X - internal_column_means(spec)) / np.asarray(scaling.column_sds) if data.X.shape[1] else data.X
    Z = tuple(Z / np.asarray(sds) for Z, sds in zip(data.Z, scaling.random_column_sds))
    offset = None if data.offset is None else data.offset / scale
    return ModelArrays(y=np.asarray(y, float), trials=None if data.trials is None else np.asarray(data.trials, float),
                       X=np.asarray(X, float), offset=offset, Z=Z,
                       group_index=tuple(np.asarray(index, np.int32) for index in data.group_index),
                       constants=model_constants(spec), **_missing_arrays(spec, data))


def _missing_arrays(spec: ModelSpec, data: ModelData) -> dict:
    result = {}
    if data.outcome_observed is not None and not data.outcome_observed.all() and not spec.outcome_latent:
        result["outcome_observed"] = data.outcome_observed.astype(float)
    if spec.outcome_latent:
        result["missing"] = {"outcome": np.flatnonzero(~data.outcome_observed).astype(np.int32)}
    if spec.submodels:
        values = {}
        for name, value in data.values.items():
            value = np.asarray(value)
            values[name] = np.nan_to_num(value.astype(float), nan=0.0) if value.dtype.kind == "f" else value
        result["values"] = values
        result.setdefault("missing", {}).update({
            submodel.outcome: np.flatnonzero(np.isnan(data.values[submodel.outcome])).astype(np.int32)
            for submodel in spec.submodels if submodel.family == "gaussian"})
    return result


def model_constants(spec: ModelSpec) -> dict:
    priors = internal_priors(spec)
    plan = absorption(spec)
    scaling = spec.scaling
    p = len(spec.fixed)
    constants: dict = {}
    if priors.intercept is not None:
        constants["intercept prior"] = prior_structure([priors.intercept])[1]
        shift = np.zeros(p)
        for k in plan.absorbed_fixed:
            shift[k] = scaling.column_means[k] / scaling.column_sds[k]
        constants["shift"] = shift
    if priors.fixed:
        constants["fixed prior"] = prior_structure(list(priors.fixed))[1]
    if priors.residual is not None:
        constants["residual prior"] = prior_structure([priors.residual])[1]
    for j, submodel in enumerate(spec.submodels):
        constants[f"submodel {j}"] = _submodel_constants(submodel)
    if spec.submodels or spec.outcome_latent:
        gaussian = spec.family.name is FamilyName.GAUSSIAN
        constants["outcome location"] = np.asarray(scaling.outcome_location if gaussian else 0.0)
        constants["outcome scale"] = np.asarray(scaling.outcome_scale if gaussian else 1.0)
    if spec.submodels:
        internal_means = internal_column_means(spec)
        constants["dynamic means"] = np.asarray([internal_means[k] for k in spec.dynamic_fixed], dtype=float)
        constants["dynamic sds"] = np.asarray([scaling.column_sds[k] for k in spec.dynamic_fixed], dtype=float)
        for i, column_sds in enumerate(scaling.random_column_sds):
            constants[f"random sds {i}"] = np.asarray(column_sds, dtype=float)
    for i, (sources, column_sds) in enumerate(zip(plan.sources, scaling.random_column_sds)):
        constants[f"sd prior {i}"] = prior_structure(list(priors.sds[i]))[1]
        constants[f"mean factor {i}"] = np.array([column_sd / scaling.column_sds[source] if isinstance(source, int)
                                                  else 0.0 for source, column_sd in zip(sources, column_sds)])
    return constants


def _submodel_internal_priors(submodel) -> dict:
    """A submodel's priors in its internal units (outcome and predictors standardized)."""
    scale = submodel.scale
    result = {"Intercept": submodel.prior_for("Intercept").shifted(-submodel.location).scaled(1.0 / scale),
              "fixed": [submodel.prior_for(name).scaled(sd / scale)
                        for name, sd in zip(submodel.predictor_names, submodel.column_sds)]}
    if submodel.family == "gaussian":
        result["residual sd"] = submodel.prior_for("residual sd").for_sd_scaled(1.0 / scale)
    if submodel.factor is not None:
        result["sd"] = submodel.prior_for(f"sd(Intercept | {submodel.factor.name})").for_sd_scaled(1.0 / scale)
    return result


def _submodel_constants(submodel) -> dict:
    priors = _submodel_internal_priors(submodel)
    constants = {"location": np.asarray(submodel.location), "scale": np.asarray(submodel.scale),
                 "means": np.asarray(submodel.column_means, dtype=float).reshape(-1),
                 "sds": np.asarray(submodel.column_sds, dtype=float).reshape(-1),
                 "intercept prior": prior_structure([priors["Intercept"]])[1]}
    if "residual sd" in priors:
        constants["residual prior"] = prior_structure([priors["residual sd"]])[1]
    if priors["fixed"]:
        constants["fixed prior"] = prior_structure(priors["fixed"])[1]
    if "sd" in priors:
        constants["sd prior"] = prior_structure([priors["sd"]])[1]
    return constants


def _submodel_blueprint(submodel) -> tuple:
    priors = _submodel_internal_priors(submodel)
    return (submodel.outcome, submodel.missing_count, tuple(column.expression for column in submodel.columns),
            len(submodel.factor.levels) if submodel.factor is not None else 0,
            prior_structure([priors["Intercept"]])[0],
            prior_structure([priors["residual sd"]])[0] if "residual sd" in priors else None,
            prior_structure(priors["fixed"])[0] if priors["fixed"] else None,
            prior_structure([priors["sd"]])[0] if "sd" in priors else None, submodel.family)


def _support_key(prior: P.Prior) -> tuple:
    constraint = _support(prior)
    if constraint is constraints.positive:
        return ("positive",)
    if isinstance(constraint, constraints.greater_than):
        return ("greater than", float(constraint.lower_bound))
    return ("interval", float(constraint.lower_bound), float(constraint.upper_bound))


def _constraint(key: tuple):
    if key[0] == "positive":
        return constraints.positive
    if key[0] == "greater than":
        return constraints.greater_than(key[1])
    return constraints.interval(key[1], key[2])


def blueprint(spec: ModelSpec, data_outcome_observed: np.ndarray | None = None) -> Blueprint:
    priors = internal_priors(spec)
    plan = absorption(spec)
    blocks = []
    for i, block in enumerate(spec.random):
        blocks.append((len(block.factor.levels), block.size, block.has_correlations, block.parameterization,
                       tuple(column.is_intercept for column in block.columns), plan.sources[i],
                       tuple(_support_key(prior) for prior in priors.sds[i]), prior_structure(list(priors.sds[i]))[0],
                       priors.cor_eta[i]))
    return Blueprint(
        family=spec.family, intercept=spec.intercept, fixed_count=len(spec.fixed),
        intercept_prior=prior_structure([priors.intercept])[0] if priors.intercept is not None else None,
        fixed_prior=prior_structure(list(priors.fixed))[0] if priors.fixed else None,
        residual_prior=prior_structure([priors.residual])[0] if priors.residual is not None else None,
        residual_support=_support_key(priors.residual) if priors.residual is not None else None,
        blocks=tuple(blocks), free=tuple(k for k in range(len(spec.fixed)) if k not in plan.absorbed_fixed),
        intercept_absorbed=plan.intercept_absorbed,
        dynamic_fixed=tuple((k, spec.fixed[k].expression) for k in spec.dynamic_fixed),
        dynamic_random=tuple(tuple((k, block.columns[k].expression) for k in ks)
                             for block, ks in zip(spec.random, spec.dynamic_random)) if spec.dynamic_random else (),
        submodels=tuple(_submodel_blueprint(submodel) for submodel in spec.submodels),
        outcome_latent=int((~data_outcome_observed).sum()) if spec.outcome_latent else 0)


def _support(prior: P.Prior):
    if prior.support == "interval":
        lower, upper = prior.bounds()
        power = P.ON_POWER[prior.on]
        if power == 1:
            return constraints.interval(lower, upper)
        # Uniform on a variance/precision: convert the bounds to the SD scale
        bounds = sorted(abs(b) ** (1.0 / power) if b > 0 else (0.0 if power > 0 else np.inf) for b in (lower, upper))
        return constraints.interval(bounds[0], bounds[1]) if np.isfinite(bounds[1]) else constraints.greater_than(bounds[0])
    return constraints.positive


def _free(name: str, support, shape=()):
    return numpyro.sample(name, dist.ImproperUniform(support, (), shape))


def make_model(plan: Blueprint, outcome_name: str = "y"):
    """The NumPyro model function ``model(arrays: ModelArrays)`` for a blueprint."""
    family = plan.family
    p = plan.fixed_count
    intercept_log_prior = log_prior_function(plan.intercept_prior) if plan.intercept_prior is not None else None
    fixed_log_prior = log_prior_function(plan.fixed_prior) if plan.fixed_prior is not None else None
    residual_log_prior = log_prior_function(plan.residual_prior) if plan.residual_prior is not None else None
    free = np.asarray(plan.free, dtype=np.int32)
    all_free = len(free) == p

    def model(arrays: ModelArrays):
        constants = arrays.constants
        X, Z, y = arrays.X, arrays.Z, arrays.y
        if plan.submodels or plan.outcome_latent:
            values, y = _impute(plan, arrays, outcome_name)
            if plan.submodels:
                X, Z = _dynamic_columns(plan, arrays, values)
        eta = 0.0 if arrays.offset is None else arrays.offset
        intercept = None
        coefficients = None
        if p:
            coefficients = _free("b", constraints.real, (p,))
            numpyro.factor("b prior", fixed_log_prior(coefficients, constants["fixed prior"]))
            if all_free:
                eta = eta + X @ coefficients
            elif len(free):
                eta = eta + X[:, free] @ coefficients[free]
        if intercept_log_prior is not None:
            intercept = _free("Intercept", constraints.real)
            # the prior is stated for the intercept with every predictor centred at its mean
            centred = intercept + (jnp.dot(constants["shift"], coefficients) if p else 0.0)
            numpyro.factor("Intercept prior", intercept_log_prior(centred[None], constants["intercept prior"]))
            if not plan.intercept_absorbed:
                eta = eta + intercept
        for i, (count, size, correlated, parameterization, intercept_flags, sources, supports, sd_prior,
                eta_lkj) in enumerate(plan.blocks):
            sd = jnp.stack([_free(f"sd_{i}_{k}", _constraint(support)) for k, support in enumerate(supports)])
            numpyro.factor(f"sd_{i} prior", log_prior_function(sd_prior)(sd, constants[f"sd prior {i}"]))
            if correlated:
                cholesky = numpyro.sample(f"L_{i}", dist.LKJCholesky(size, eta_lkj))
                scale_tril = sd[:, None] * cholesky
            if parameterization == "noncentered":
                z = numpyro.sample(f"z_{i}", dist.Normal(0.0, 1.0).expand((count, size)).to_event(2))
                effects = z @ scale_tril.T if correlated else z * sd
            else:
                factors = constants[f"mean factor {i}"]
                mean = jnp.stack([
                    intercept if source == "intercept" else
                    (coefficients[source] * factors[k] if isinstance(source, int) else jnp.zeros(()))
                    for k, source in enumerate(sources)])
                if correlated:
                    effects = numpyro.sample(f"r_{i}", dist.MultivariateNormal(mean, scale_tril=scale_tril)
                                             .expand((count,)).to_event(1))
                else:
                    effects = numpyro.sample(f"r_{i}", dist.Normal(mean, sd).expand((count, size)).to_event(2))
            rows = effects[arrays.group_index[i]]
            for k, is_intercept in enumerate(intercept_flags):
                eta = eta + (rows[:, k] if is_intercept else Z[i][:, k] * rows[:, k])
        sigma = None
        if residual_log_prior is not None:
            sigma = _free("sigma", _constraint(plan.residual_support))
            numpyro.factor("sigma prior", residual_log_prior(sigma[None], constants["residual prior"]))
        pointwise = log_likelihood(family, y, eta, sigma=sigma, trials=arrays.trials, xp=jnp)
        if arrays.outcome_observed is not None:  # missing outcomes carry no likelihood (they are predicted)
            pointwise = pointwise * arrays.outcome_observed
        numpyro.factor("log likelihood", jnp.sum(pointwise))

    return model


def _impute(plan: Blueprint, arrays: ModelArrays, outcome_name: str):
    """Missing values become parameters; each submodel supplies their density.

    Values are sampled in standardized units. Submodels are evaluated on the current
    (observed + imputed) values. Returns the values and the focal outcome in internal units
    (with its missing entries filled when they are parameters).
    """
    values = dict(arrays.values or {})
    y = arrays.y
    if plan.outcome_latent:
        latent = _free("missing_outcome", constraints.real, (plan.outcome_latent,))
        y = jnp.asarray(y).at[arrays.missing["outcome"]].set(latent)
        values[outcome_name] = arrays.constants["outcome location"] + arrays.constants["outcome scale"] * y
    for j, (name, count, *_rest) in enumerate(plan.submodels):
        if count:
            constants = arrays.constants[f"submodel {j}"]
            latent = _free(f"missing_{name}", constraints.real, (count,))
            values[name] = jnp.asarray(values[name]).at[arrays.missing[name]].set(
                constants["location"] + constants["scale"] * latent)
    for j, (name, _, expressions, groups, intercept_prior, residual_prior, fixed_prior, sd_prior,
            submodel_family) in enumerate(plan.submodels):
        constants = arrays.constants[f"submodel {j}"]
        intercept = _free(f"{name} ~ Intercept", constraints.real)
        numpyro.factor(f"{name} ~ Intercept prior", log_prior_function(intercept_prior)(
            intercept[None], constants["intercept prior"]))
        mean = intercept
        if expressions:
            rows = arrays.y.shape[0]
            design = jnp.stack([jnp.broadcast_to(expression.evaluate(values, jnp), (rows,))
                                for expression in expressions], axis=1)
            design = (design - constants["means"]) / constants["sds"]
            coefficients = _free(f"{name} ~ b", constraints.real, (len(expressions),))
            numpyro.factor(f"{name} ~ b prior", log_prior_function(fixed_prior)(coefficients, constants["fixed prior"]))
            mean = mean + design @ coefficients
        if groups:
            sd = _free(f"{name} ~ sd", constraints.positive)
            numpyro.factor(f"{name} ~ sd prior", log_prior_function(sd_prior)(sd[None], constants["sd prior"]))
            z = numpyro.sample(f"{name} ~ z", dist.Normal(0.0, 1.0).expand((groups,)).to_event(1))
            mean = mean + (sd * z)[arrays.group_index[0]]
        if submodel_family == "probit":
            indicator = values[name]
            log_density = indicator * jax_special.log_ndtr(mean) + (1 - indicator) * jax_special.log_ndtr(-mean)
        else:
            outcome = (values[name] - constants["location"]) / constants["scale"]
            sigma = _free(f"{name} ~ sigma", constraints.positive)
            numpyro.factor(f"{name} ~ sigma prior", log_prior_function(residual_prior)(
                sigma[None], constants["residual prior"]))
            log_density = dist.Normal(mean, sigma).log_prob(outcome)
        numpyro.factor(f"{name} ~ log likelihood", jnp.sum(log_density))
    return values, y


def _dynamic_columns(plan: Blueprint, arrays: ModelArrays, values: dict):
    """Recompute every design column that involves an imputed variable, in internal units."""
    X = jnp.asarray(arrays.X)
    means, sds = arrays.constants["dynamic means"], arrays.constants["dynamic sds"]
    for position, (k, expression) in enumerate(plan.dynamic_fixed):
        column = jnp.broadcast_to(expression.evaluate(values, jnp), X.shape[:1])
        X = X.at[:, k].set((column - means[position]) / sds[position])
    Z = [jnp.asarray(block) for block in arrays.Z]
    for i, columns in enumerate(plan.dynamic_random):
        for k, expression in columns:
            column = jnp.broadcast_to(expression.evaluate(values, jnp), Z[i].shape[:1])
            Z[i] = Z[i].at[:, k].set(column / arrays.constants[f"random sds {i}"][k])
    return X, tuple(Z)


def to_user_units(spec: ModelSpec, constrained: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Internal constrained draws (leading sample dims) → parameters in the data's units.

    Returns ``Intercept`` (...), ``b`` (..., p), ``sigma`` (...), and per block i: ``sd_i``
    (..., q), ``cor_i`` (..., q, q), ``r_i`` (..., groups, q).
    """
    scaling = spec.scaling
    gaussian = spec.family.name is FamilyName.GAUSSIAN
    location = scaling.outcome_location if gaussian else 0.0
    scale = scaling.outcome_scale if gaussian else 1.0
    out: dict[str, np.ndarray] = {}
    sds = np.asarray(scaling.column_sds)
    if spec.fixed:
        out["b"] = np.asarray(constrained["b"]) * scale / sds
    plan = absorption(spec)
    internal_means = internal_column_means(spec)
    if spec.intercept:
        intercept = location + scale * np.asarray(constrained["Intercept"])
        out["Intercept"] = intercept - (out["b"] @ internal_means if spec.fixed else 0.0)
    for i, (block, column_sds) in enumerate(zip(spec.random, scaling.random_column_sds)):
        unit = scale / np.asarray(column_sds)
        sd_internal = np.stack([np.asarray(constrained[f"sd_{i}_{k}"]) for k in range(block.size)], axis=-1)
        out[f"sd_{i}"] = sd_internal * unit
        if block.has_correlations:
            cholesky = np.asarray(constrained[f"L_{i}"])
            out[f"cor_{i}"] = cholesky @ np.swapaxes(cholesky, -1, -2)
        else:
            out[f"cor_{i}"] = np.broadcast_to(np.eye(block.size), sd_internal.shape + (block.size,)).copy()
        if block.parameterization == "noncentered":
            z = np.asarray(constrained[f"z_{i}"])
            if block.has_correlations:
                scale_tril = sd_internal[..., :, None] * np.asarray(constrained[f"L_{i}"])
                effects = np.einsum("...gk,...jk->...gj", z, scale_tril)
            else:
                effects = z * sd_internal[..., None, :]
        else:
            effects = np.array(constrained[f"r_{i}"])
            for k, source in enumerate(plan.sources[i]):  # group coefficients → deviations
                if source == "intercept":
                    effects[..., k] -= np.asarray(constrained["Intercept"])[..., None]
                elif isinstance(source, int):
                    factor = column_sds[k] / sds[source]
                    effects[..., k] -= np.asarray(constrained["b"])[..., source, None] * factor
        out[f"r_{i}"] = effects * unit
    if gaussian:
        out["sigma"] = np.asarray(constrained["sigma"]) * scale
    for j, submodel in enumerate(spec.submodels):
        name, location, unit = submodel.outcome, submodel.location, submodel.scale
        intercept = location + unit * np.asarray(constrained[f"{name} ~ Intercept"])
        if submodel.columns:
            coefficients = np.asarray(constrained[f"{name} ~ b"]) * unit / np.asarray(submodel.column_sds)
            out[f"submodel {j} b"] = coefficients
            intercept = intercept - coefficients @ np.asarray(submodel.column_means)
        out[f"submodel {j} Intercept"] = intercept
        if submodel.family == "gaussian":
            out[f"submodel {j} sigma"] = np.asarray(constrained[f"{name} ~ sigma"]) * unit
        if submodel.factor is not None:
            out[f"submodel {j} sd"] = np.asarray(constrained[f"{name} ~ sd"]) * unit
        if submodel.missing_count:
            out[f"imputed {name}"] = location + unit * np.asarray(constrained[f"missing_{name}"])
    if spec.outcome_latent:
        out[f"imputed {spec.response.name}"] = location + scale * np.asarray(constrained["missing_outcome"])
    return out
