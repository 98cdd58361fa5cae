"""Internal draws → parameters in the data's units (the inverse of :mod:`multilevel.backend.internal_units`)."""

from __future__ import annotations

import numpy as np

from ..model.model_spec import ModelData, ModelSpec
from .absorption import absorption, group_designs
from .internal_units import internal_column_means, internal_design
from .random_effects import structure_of


def _nominal_user_units(j: int, submodel, constrained: dict) -> dict:
    """Per category after the first: intercept (..., K-1), coefficients (..., p, K-1), SDs; imputed codes."""
    name = submodel.outcome
    out = {}
    intercept = np.asarray(constrained[f"{name} ~ Intercept"])
    if submodel.columns:
        coefficients = np.asarray(constrained[f"{name} ~ b"]) / np.asarray(submodel.column_sds)[:, None]
        out[f"submodel {j} b"] = coefficients
        intercept = intercept - np.einsum("p,...pk->...k", np.asarray(submodel.column_means), coefficients)
    out[f"submodel {j} Intercept"] = intercept
    if submodel.factor is not None:
        out[f"submodel {j} sd"] = np.asarray(constrained[f"{name} ~ sd"])
    if submodel.missing_count:
        out[f"imputed {name}"] = np.asarray(constrained[f"missing_{name}"])
    return out


def _outcome_units(spec: ModelSpec) -> tuple[float, float]:
    """The focal outcome's internal location and scale (0 and 1 unless it is standardized)."""
    standardized = spec.family.kind.standardized
    return (spec.scaling.outcome_location if standardized else 0.0,
            spec.scaling.outcome_scale if standardized else 1.0)


def _submodel_user_units(j: int, submodel, constrained: dict) -> dict:
    """Submodel j's intercept, coefficients, residual SD, thresholds, random intercepts and imputed values."""
    if submodel.family == "nominal":
        return _nominal_user_units(j, submodel, constrained)
    name, location, unit = submodel.outcome, submodel.location, submodel.scale
    out = {}
    intercept = location + unit * np.asarray(constrained[f"{name} ~ Intercept"])
    if submodel.columns:
        coefficients = np.asarray(constrained[f"{name} ~ b"]) * unit / np.asarray(submodel.column_sds)
        out[f"submodel {j} b"] = coefficients
        intercept = intercept - coefficients @ np.asarray(submodel.column_means)
    out[f"submodel {j} Intercept"] = intercept
    if submodel.family == "gaussian":
        out[f"submodel {j} sigma"] = np.asarray(constrained[f"{name} ~ sigma"]) * unit
    if submodel.family == "ordinal" and len(submodel.categories) > 2:
        out[f"submodel {j} thresholds"] = np.cumsum(np.asarray(constrained[f"{name} ~ threshold steps"]), axis=-1)
    if submodel.factor is not None:
        out[f"submodel {j} sd"] = np.asarray(constrained[f"{name} ~ sd"]) * unit
        if submodel.level == 1 and f"{name} ~ z" in constrained:  # the clusters' random intercepts
            out[f"submodel {j} effects"] = np.asarray(constrained[f"{name} ~ z"]) * out[f"submodel {j} sd"][..., None]
    if submodel.missing_count:
        out[f"imputed {name}"] = location + unit * np.asarray(constrained[f"missing_{name}"])[
            ..., :submodel.missing_count]
    return out


def to_user_units(spec: ModelSpec, constrained: dict[str, np.ndarray],
                  outcome_missing: int | None = None, data: ModelData | None = None) -> dict[str, np.ndarray]:
    """Internal constrained draws (leading sample dims) → parameters in the data's units.

    ``data`` (the fitted rows) is needed when group-level predictors were absorbed into a block.

    Returns ``Intercept`` (...), ``b`` (..., p), ``sigma`` (...), and per block i: ``sd_i``
    (..., q), ``cor_i`` (..., q, q), ``r_i`` (..., groups, q).
    """
    location, scale = _outcome_units(spec)
    out: dict[str, np.ndarray] = {}
    if spec.fixed:
        out["b"] = np.asarray(constrained["b"]) * scale / np.asarray(spec.scaling.column_sds)
    plan = absorption(spec)
    designs = {}
    if any(plan.group_level):
        if data is None:
            raise ValueError("to_user_units needs the fitted rows (data=) when group-level predictors "
                             "are part of a block's mean")
        designs = group_designs(spec, internal_design(spec, data), data.group_index)
    if spec.intercept:
        intercept = location + scale * np.asarray(constrained["Intercept"])
        out["Intercept"] = intercept - (out["b"] @ internal_column_means(spec) if spec.fixed else 0.0)
    for i, block in enumerate(spec.random):
        out.update(structure_of(block).user_units(spec, i, constrained, plan, designs.get(i)))
    if spec.family.has_residual_sd:
        out["sigma"] = np.asarray(constrained["sigma"]) * scale
    for parameter in spec.family.kind.parameters:  # no units
        out[parameter.name] = np.asarray(constrained[parameter.name])
    for j, submodel in enumerate(spec.submodels):
        out.update(_submodel_user_units(j, submodel, constrained))
    if spec.outcome_latent:
        imputed = np.asarray(constrained["missing_outcome"])
        out[f"imputed {spec.response.name}"] = location + scale * (imputed if outcome_missing is None else
                                                                   imputed[..., :outcome_missing])
    for name, value in constrained.items():  # already in the data's units
        if name.startswith("latent mean "):
            out[name] = np.asarray(value)
    return out
