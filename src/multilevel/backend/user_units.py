"""Internal draws → parameters in the data's units (the inverse of :mod:`multilevel.backend.internal_units`)."""

from __future__ import annotations

import numpy as np

from ..model.model_spec import ModelData, ModelSpec
from .absorption import absorption, group_designs
from .internal_units import internal_column_means, internal_design
from .random_effects import structure_of


def _outcome_units(spec: ModelSpec) -> tuple[float, float]:
    """The focal outcome's internal location and scale (0 and 1 unless it is standardized)."""
    standardized = spec.family.kind.standardized
    return (spec.scaling.outcome_location if standardized else 0.0,
            spec.scaling.outcome_scale if standardized else 1.0)


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
        out.update(submodel.kind.user_units(j, submodel, constrained))
    if spec.outcome_latent:
        imputed = np.asarray(constrained["missing_outcome"])
        out[f"imputed {spec.response.name}"] = location + scale * (imputed if outcome_missing is None else
                                                                   imputed[..., :outcome_missing])
    for name, value in constrained.items():  # already in the data's units
        if name.startswith("latent mean "):
            out[name] = np.asarray(value)
    return out
