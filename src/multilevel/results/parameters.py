"""The table of reported parameters: name, class and draws (chain, draw), in the data's units."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..model.model_spec import ModelSpec
from .naming import (RESIDUAL_SD, RESIDUAL_VAR, block_labels, cor_name, cov_name, icc_name, sd_name,
                     submodel_label, var_name)

__all__ = ["Parameter", "block_labels", "intraclass_correlations", "parameter_table", "predictor_model_parameters"]


@dataclass(frozen=True)
class Parameter:
    name: str
    parameter_class: str  # Intercept | fixed | sd | cor | var | cov | residual sd | residual var | ICC
    draws: np.ndarray  # (chain, draw)
    factor: str | None = None


def parameter_table(spec: ModelSpec, draws: Mapping[str, np.ndarray]) -> list[Parameter]:
    table: list[Parameter] = []
    if spec.intercept:
        table.append(Parameter("Intercept", "Intercept", draws["Intercept"]))
    for k, name in enumerate(spec.fixed_names):
        table.append(Parameter(name, "fixed", draws["b"][..., k]))
    variances = []
    for i, block in enumerate(spec.random):
        factor = block.factor.name
        sd = draws[f"sd_{i}"]
        cor = draws[f"cor_{i}"]
        names = block.column_names
        for k, name in enumerate(names):
            table.append(Parameter(sd_name(name, factor), "sd", sd[..., k], factor))
        if block.has_correlations:
            for a in range(block.size):
                for b in range(a + 1, block.size):
                    table.append(Parameter(cor_name(names[b], names[a], factor), "cor", cor[..., b, a], factor))
        for k, name in enumerate(names):
            table.append(Parameter(var_name(name, factor), "var", sd[..., k] ** 2, factor))
            if block.columns[k].is_intercept:
                variances.append((factor, sd[..., k] ** 2))
        if block.has_correlations:
            for a in range(block.size):
                for b in range(a + 1, block.size):
                    table.append(Parameter(cov_name(names[b], names[a], factor), "cov",
                                           cor[..., b, a] * sd[..., a] * sd[..., b], factor))
    if "sigma" in draws:
        scale_name = spec.family.kind.scale_name
        table.append(Parameter(scale_name, "residual sd", draws["sigma"]))
        if scale_name == RESIDUAL_SD:
            table.append(Parameter(RESIDUAL_VAR, "residual var", draws["sigma"] ** 2))
    for parameter in spec.family.kind.parameters:
        table.append(Parameter(parameter.name, "family", draws[parameter.name]))
    table += intraclass_correlations(spec, draws, variances)
    table += predictor_model_parameters(spec, draws)
    return table


def predictor_model_parameters(spec: ModelSpec, draws) -> list[Parameter]:
    """Rows for each incomplete predictor's model, named ``x1 ~ Intercept``, ``x1 ~ x2``, ..."""
    table = []
    for j, submodel in enumerate(spec.submodels):
        if submodel.kind.per_category:
            table += _per_category_parameters(j, submodel, draws)
            continue
        outcome = submodel.outcome
        kind = submodel.kind.role
        table.append(Parameter(submodel_label(outcome, "Intercept"), kind, draws[f"submodel {j} Intercept"]))
        for k, name in enumerate(submodel.predictor_names):
            table.append(Parameter(submodel_label(outcome, name), kind, draws[f"submodel {j} b"][..., k]))
        if submodel.factor is not None:
            table.append(Parameter(submodel_label(outcome, sd_name("Intercept", submodel.factor.name)), kind,
                                   draws[f"submodel {j} sd"], submodel.factor.name))
        if f"submodel {j} sigma" in draws:
            table.append(Parameter(submodel_label(outcome, RESIDUAL_SD), kind, draws[f"submodel {j} sigma"]))
        if f"submodel {j} thresholds" in draws:  # ordinal: threshold 1 is fixed at 0
            thresholds = draws[f"submodel {j} thresholds"]
            for k in range(thresholds.shape[-1]):
                table.append(Parameter(submodel_label(outcome, f"threshold {k + 2}"), kind, thresholds[..., k]))
    return table


def _per_category_parameters(j: int, submodel, draws) -> list[Parameter]:
    """``x[level] ~ ...`` for each category after the reference (multinomial logit)."""
    table = []
    outcome = submodel.outcome
    for k, level in enumerate(submodel.categories[1:]):
        table.append(Parameter(submodel_label(outcome, "Intercept", level), "predictor model",
                               draws[f"submodel {j} Intercept"][..., k]))
        for m, name in enumerate(submodel.predictor_names):
            table.append(Parameter(submodel_label(outcome, name, level), "predictor model",
                                   draws[f"submodel {j} b"][..., m, k]))
        if submodel.factor is not None:
            table.append(Parameter(submodel_label(outcome, sd_name("Intercept", submodel.factor.name), level),
                                   "predictor model", draws[f"submodel {j} sd"][..., k], submodel.factor.name))
    return table


def intraclass_correlations(spec: ModelSpec, draws, intercept_variances) -> list[Parameter]:
    """ICC per grouping factor with a random intercept: its intercept variance over the total.

    Total = all random-intercept variances + the residual variance (Gaussian) or the latent
    residual variance (pi^2/3 for logit, 1 for probit). With random slopes, this is the ICC
    where the slope predictors are zero. Not defined here for Poisson models.
    """
    if not intercept_variances:
        return []
    residual = spec.family.residual_variance(draws)
    if residual is None:
        return []
    total = sum(variance for _, variance in intercept_variances) + residual
    return [Parameter(icc_name(factor), "ICC", variance / total, factor) for factor, variance in intercept_variances]
