"""Models for incomplete predictors: Blimp-style factored (sequential) regressions.

Each incomplete predictor gets a regression on the complete predictors and on the
incomplete predictors that come after it, ordered by missing rate (highest first), with
a random intercept over the first grouping factor when the data are clustered. The focal
model's outcome is never a predictor here: the joint density factors as
p(y | x) p(x1 | x2, ..., complete) p(x2 | ..., complete) ...
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpecificationError
from . import expressions as E
from . import priors as P
from .model_spec import Column, GroupingFactor


@dataclass(frozen=True)
class Submodel:
    """A regression in the joint model besides the focal one.

    ``family="gaussian"``: the model of an incomplete continuous variable (its missing values are
    imputed from it). ``family="probit"``: a missingness model, the probit regression of the
    indicator ``<indicator_of>.missing`` (a selection model when the variable itself is a predictor).
    """

    outcome: str
    columns: tuple[Column, ...]  # predictors (their expressions may involve later incomplete variables)
    factor: GroupingFactor | None  # random intercept over this factor
    missing_count: int
    location: float  # internal standardization of the outcome (observed mean and SD)
    scale: float
    column_means: tuple[float, ...]
    column_sds: tuple[float, ...]
    priors: tuple[tuple[str, P.Prior], ...]  # (parameter name without the prefix, prior)
    family: str = "gaussian"
    indicator_of: str | None = None

    @property
    def predictor_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def prior_for(self, name: str) -> P.Prior:
        for key, prior in self.priors:
            if key == name:
                return prior
        raise KeyError(name)


def order_incomplete(missing_counts: dict[str, int]) -> list[str]:
    """Highest missing rate first (ties by name), as Blimp orders factored regressions."""
    return sorted(missing_counts, key=lambda name: (-missing_counts[name], name))


def _column_scales(columns, values) -> tuple[list[float], list[float]]:
    means, sds = [], []
    for column in columns:
        value = np.asarray(column.expression.evaluate(values, np), dtype=float)
        value = value[~np.isnan(value)]
        means.append(float(np.mean(value)) if value.size else 0.0)
        sds.append(float(np.std(value, ddof=1)) if value.size > 1 and np.std(value) > 0 else 1.0)
    return means, sds


def build_submodels(incomplete: list[str], complete_numeric: list[str], complete_categorical: list,
                    values: dict, missing_counts: dict[str, int], factor: GroupingFactor | None,
                    stated: dict | None = None) -> tuple[Submodel, ...]:
    """Predictor models for the incomplete variables; ``stated`` maps a variable to its stated columns."""
    stated = stated or {}
    ordered = order_incomplete({name: missing_counts[name] for name in incomplete})
    submodels = []
    for position, outcome in enumerate(ordered):
        if outcome in stated:
            columns = list(stated[outcome])
        else:
            later = ordered[position + 1:]
            columns = [Column(name, name, E.Product((E.Variable(name),))) for name in later + complete_numeric]
            for info in complete_categorical:
                for code in range(1, len(info.levels)):
                    name = f"{info.name}{info.levels[code]}"
                    columns.append(Column(name, info.name, E.Product((E.LevelIndicator(info.name, code),))))
        observed = values[outcome][~np.isnan(values[outcome])]
        if observed.size < 3 or np.std(observed) == 0:
            raise SpecificationError(f"'{outcome}' has too few distinct observed values to model its missing ones")
        location, scale = float(np.mean(observed)), float(np.std(observed, ddof=1))
        means, sds = _column_scales(columns, values)
        priors = [("Intercept", P.StudentT(3, location, 2.5 * scale)), ("residual sd", P.HalfStudentT(3, scale))]
        priors += [(column.name, P.Normal(0.0, 2.5 * scale / sd)) for column, sd in zip(columns, sds)]
        if factor is not None:
            priors.append((f"sd(Intercept | {factor.name})", P.HalfStudentT(3, 2.5 * scale)))
        submodels.append(Submodel(outcome, tuple(columns), factor, missing_counts[outcome], location, scale,
                                  tuple(means), tuple(sds), tuple(priors)))
    return tuple(submodels)


def missingness_submodel(variable: str, columns: tuple[Column, ...], values: dict,
                         factor: GroupingFactor | None) -> Submodel:
    """Probit regression of the missingness indicator of ``variable`` (1 = missing)."""
    means, sds = _column_scales(columns, values)
    priors = [("Intercept", P.StudentT(3, 0.0, 2.5))]
    priors += [(column.name, P.Normal(0.0, 2.5 / sd)) for column, sd in zip(columns, sds)]
    if factor is not None:
        priors.append((f"sd(Intercept | {factor.name})", P.HalfStudentT(3, 1.0)))
    return Submodel(f"{variable}.missing", columns, factor, 0, 0.0, 1.0, tuple(means), tuple(sds), tuple(priors),
                    family="probit", indicator_of=variable)
