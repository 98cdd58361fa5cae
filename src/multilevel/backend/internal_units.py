"""The model's internal (standardized) units: priors mapped to them, the design in them, and the
:class:`~multilevel.backend.model_arrays.ModelArrays` the compiled model is given.

Internally the outcome of a Gaussian model is (y − location)/scale, fixed design columns are centred
(except those absorbed into a centered block) and divided by their SD, and random-effect columns are
divided by their SD. :func:`multilevel.backend.user_units.to_user_units` maps draws back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import priors as P
from ..model.model_spec import ModelData, ModelSpec
from ..model.prior_assignment import block_cor_key, sd_name
from .absorption import absorption, group_designs
from .marginal_likelihood import marginalized, sufficient_statistics
from .model_arrays import ModelArrays
from .prior_densities import prior_structure
from .submodel_plans import missing_arrays, submodel_constants


@dataclass(frozen=True)
class InternalPriors:
    intercept: P.Prior | None
    fixed: tuple[P.Prior, ...]
    sds: tuple[tuple[P.Prior, ...], ...]
    cor_eta: tuple[float | None, ...]
    residual: P.Prior | None
    family: tuple[P.Prior, ...] = ()  # the family's own parameters (no rescaling: nu has no units)


def internal_priors(spec: ModelSpec) -> InternalPriors:
    scaling = spec.scaling
    scale = scaling.outcome_scale if spec.family.kind.standardized else 1.0
    location = scaling.outcome_location if spec.family.kind.standardized else 0.0
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
        eta = None
        if block.has_correlations:
            correlations = spec.prior_for(block_cor_key(block)).prior
            assert isinstance(correlations, P.LKJ)  # checked when the priors were assigned
            eta = correlations.eta
        cor_eta.append(eta)
    residual = (spec.prior_for(spec.family.kind.scale_name).prior.for_sd_scaled(1.0 / scale)
                if spec.family.has_residual_sd else None)
    family = tuple(spec.prior_for(parameter.name).prior for parameter in spec.family.kind.parameters)
    return InternalPriors(intercept, fixed, tuple(sds), tuple(cor_eta), residual, family)


def internal_column_means(spec: ModelSpec) -> np.ndarray:
    """Fixed columns are centred internally, except those absorbed into a centered block."""
    means = np.array(spec.scaling.column_means, dtype=float)
    for k in absorption(spec).absorbed_fixed:
        means[k] = 0.0
    return means


def internal_design(spec: ModelSpec, data: ModelData) -> np.ndarray:
    """The fixed-effect columns in internal units (centred where they are not absorbed, scaled)."""
    if not data.X.shape[1]:
        return data.X
    return (data.X - internal_column_means(spec)) / np.asarray(spec.scaling.column_sds)


def internal_arrays(spec: ModelSpec, data: ModelData) -> ModelArrays:
    """The data in internal units, as NumPy arrays (float64, int32 codes)."""
    scaling = spec.scaling
    gaussian = spec.family.kind.standardized
    location = scaling.outcome_location if gaussian else 0.0
    scale = scaling.outcome_scale if gaussian else 1.0
    y = (data.y - location) / scale
    X = internal_design(spec, data)
    Z = tuple(Z / np.asarray(sds) for Z, sds in zip(data.Z, scaling.random_column_sds))
    offset = None if data.offset is None else data.offset / scale
    constants = model_constants(spec)
    constants.update({f"group design {i}": design for i, design in group_designs(spec, X, data.group_index).items()})
    arrays = ModelArrays(y=np.asarray(y, float), trials=None if data.trials is None else np.asarray(data.trials, float),
                         X=np.asarray(X, float), offset=offset, Z=Z,
                         group_index=tuple(np.asarray(index, np.int32) for index in data.group_index),
                         constants=constants, **missing_arrays(spec, data))
    if marginalized(spec):
        arrays = arrays._replace(sufficient=sufficient_statistics(spec, data, arrays))
    return arrays


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
    for parameter, prior in zip(spec.family.kind.parameters, priors.family):
        constants[f"{parameter.name} prior"] = prior_structure([prior])[1]
    for j, submodel in enumerate(spec.submodels):
        constants[f"submodel {j}"] = submodel_constants(submodel)
    if spec.submodels or spec.outcome_latent:
        gaussian = spec.family.kind.standardized
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
