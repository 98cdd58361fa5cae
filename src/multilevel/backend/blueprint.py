"""The :class:`Blueprint`: everything about a model that shapes the compiled program (the sampler's cache key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from .. import _numpyro  # noqa: F401  (first: a lazy numpyro left by ArviZ is loaded for real)
from numpyro.distributions import constraints

from ..model import priors as P
from ..model.families import Family
from ..model.model_spec import ModelSpec
from .absorption import absorption
from .integration_plan import IntegratedBlock, integration_choice
from .internal_units import internal_priors
from .marginal_likelihood import marginalized
from .model_arrays import bucket
from .prior_densities import prior_structure
from .random_effects import structure_name
from .sites import constraint_of  # noqa: F401 (imported from here too)
from .submodel_plans import SubmodelPlan, submodel_plan


class BlockPlan(NamedTuple):
    """The compiled shape of one random-effect block (part of the :class:`Blueprint`)."""

    groups: int
    size: int  # columns
    correlated: bool
    parameterization: str  # centered | noncentered | marginalized
    intercept_flags: tuple[bool, ...]  # per column: is it the intercept
    sources: tuple  # per column: "intercept", a fixed column index or None (see Absorption)
    supports: tuple  # per column: the support of its SD's prior (a key for constraint_of)
    sd_prior: tuple  # the SDs' prior structure
    lkj_eta: float | None  # the correlations' LKJ shape (correlated blocks)
    group_level: tuple[int, ...]  # group-level fixed columns in the intercept's mean
    structure: str = "normal"  # its kind (backend/random_effects): how it is sampled and enters the model


class FamilyParameterPlan(NamedTuple):
    """One of the family's own parameters as the program samples it: site, support and prior structure."""

    name: str
    support: tuple
    prior: tuple


@dataclass(frozen=True)
class Blueprint:
    """Everything about a model that shapes the compiled program (hashable; the sampler cache key).

    Numbers that depend on the data (prior scales, column means) travel in
    ``ModelArrays.constants`` instead, so new data of the same shape reuse the compilation.
    """

    family: Family
    intercept: bool
    fixed_count: int
    intercept_prior: tuple | None
    fixed_prior: tuple | None
    residual_prior: tuple | None
    residual_support: tuple | None
    blocks: tuple[BlockPlan, ...]
    free: tuple[int, ...]
    intercept_absorbed: bool
    dynamic_fixed: tuple = ()  # (column index, expression) evaluated from imputed values
    dynamic_random: tuple = ()  # per block: ((column index, expression), ...)
    submodels: tuple[SubmodelPlan, ...] = ()
    outcome_latent: int = 0  # number of missing outcome values sampled as parameters
    family_parameters: tuple[FamilyParameterPlan, ...] = ()
    integrated: IntegratedBlock | None = None  # missing normal values integrated out of the log density


def _support_key(prior: P.Prior) -> tuple:
    constraint = _support(prior)
    if constraint is constraints.positive:
        return ("positive",)
    if isinstance(constraint, constraints.greater_than):
        return ("greater than", float(constraint.lower_bound))
    return ("interval", float(constraint.lower_bound), float(constraint.upper_bound))


def blueprint(spec: ModelSpec, data_outcome_observed: np.ndarray | None = None) -> Blueprint:
    priors = internal_priors(spec)
    plan = absorption(spec)
    blocks = []
    for i, block in enumerate(spec.random):
        blocks.append(BlockPlan(len(block.factor.levels), block.size, block.has_correlations, block.parameterization,
                                tuple(column.is_intercept for column in block.columns), plan.sources[i],
                                tuple(_support_key(prior) for prior in priors.sds[i]),
                                prior_structure(list(priors.sds[i]))[0], priors.cor_eta[i], plan.group_level[i],
                                structure_name(block)))
    outcome_latent = 0
    if spec.outcome_latent and not marginalized(spec):
        assert data_outcome_observed is not None  # a latent outcome has missing values
        outcome_latent = bucket(int((~data_outcome_observed).sum()))
    return Blueprint(
        family=spec.family, intercept=spec.intercept, fixed_count=len(spec.fixed),
        intercept_prior=prior_structure([priors.intercept])[0] if priors.intercept is not None else None,
        fixed_prior=prior_structure(list(priors.fixed))[0] if priors.fixed else None,
        residual_prior=prior_structure([priors.residual])[0] if priors.residual is not None else None,
        residual_support=_support_key(priors.residual) if priors.residual is not None else None,
        blocks=tuple(blocks), free=tuple(k for k in range(len(spec.fixed)) if k not in plan.off_rows),
        intercept_absorbed=plan.intercept_absorbed,
        dynamic_fixed=tuple((k, spec.fixed[k].expression) for k in spec.dynamic_fixed),
        dynamic_random=tuple(tuple((k, block.columns[k].expression) for k in ks)
                             for block, ks in zip(spec.random, spec.dynamic_random)) if spec.dynamic_random else (),
        submodels=tuple(submodel_plan(submodel) for submodel in spec.submodels),
        family_parameters=tuple(FamilyParameterPlan(parameter.name, _family_support(prior, parameter.lower),
                                                    prior_structure([prior])[0])
                                for parameter, prior in zip(spec.family.kind.parameters, priors.family)),
        outcome_latent=outcome_latent, integrated=integration_choice(spec).block)


def _family_support(prior: P.Prior, lower: float) -> tuple:
    """A family parameter lives on (lower, inf), or on the part of a Uniform prior's interval above lower."""
    if prior.support == "interval":
        low, high = prior.bounds()
        return ("interval", max(float(low), lower), float(high))
    return ("greater than", lower) if lower != 0 else ("positive",)


def _support(prior: P.Prior):
    if prior.support == "interval":
        lower, upper = prior.bounds()
        power = P.ON_POWER[prior.on]
        if power == 1:
            return constraints.interval(lower, upper)
        # Uniform on a variance/precision: convert the bounds to the SD scale
        bounds = sorted(abs(b) ** (1.0 / power) if b > 0 else (0.0 if power > 0 else np.inf) for b in (lower, upper))
        if np.isfinite(bounds[1]):
            return constraints.interval(bounds[0], bounds[1])
        return constraints.greater_than(bounds[0])
    return constraints.positive
