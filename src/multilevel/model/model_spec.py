"""The frozen model specification, and the arrays that feed it.

A :class:`ModelSpec` says what the model *is* (variables, terms, random-effect blocks,
family, priors, centering) and holds every constant learned from the fitting data
(category levels, means used by ``scale()`` and centering, the outcome scale used to
standardize internally), so it can be applied again to new data. :class:`ModelData` holds
the arrays for one data set. Neither imports JAX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping

import numpy as np

from .expressions import Expression, Product
from .families import Family
from .priors import Prior


@dataclass(frozen=True)
class VariableInfo:
    """A data column used by the model."""

    name: str
    kind: str  # "numeric" | "categorical"
    levels: tuple[str, ...] | None = None  # categorical levels in coding order
    level_values: tuple | None = None  # the raw values matching ``levels``


@dataclass(frozen=True)
class Column:
    """One design column: a product of factors. ``term`` is the formula term it came from."""

    name: str
    term: str
    expression: Product

    @property
    def is_intercept(self) -> bool:
        return not self.expression.factors


@dataclass(frozen=True)
class GroupingFactor:
    name: str  # "School", or "a:b" for an interaction/nesting factor
    variables: tuple[str, ...]
    levels: tuple[str, ...]


@dataclass(frozen=True)
class RandomBlock:
    """Random effects of ``columns`` varying over ``factor``; correlated within the block."""

    factor: GroupingFactor
    columns: tuple[Column, ...]
    correlated: bool
    parameterization: str  # "centered" | "noncentered" | "marginalized"
    structure: str = "normal"  # its kind in backend/random_effects (how it is sampled and enters the model)

    @property
    def size(self) -> int:
        return len(self.columns)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def has_correlations(self) -> bool:
        return self.correlated and self.size > 1


@dataclass(frozen=True)
class Response:
    name: str  # the outcome column (successes for binomial)
    kind: str  # "value" | "trials" | "cbind"
    trials: Expression | None = None  # number of trials for binomial
    label: str = ""  # as written


@dataclass(frozen=True)
class ParameterPrior:
    parameter: str  # name as in the summary: "x1", "Intercept", "sd(x | g)", "cor(g)", "residual sd"
    parameter_class: str  # "Intercept" | "fixed" | "sd" | "cor" | "residual sd"
    prior: Prior
    source: str  # "default" | "user"


@dataclass(frozen=True)
class Scaling:
    """Constants of the internal standardization (a reparameterization; results are on the data's scale).

    Internally the sampler sees the outcome as (y − location) / scale (Gaussian only) and
    every fixed design column as (x − mean) / sd (centering only with an intercept), and
    every random-effect column as z / sd. Priors are mapped to these units exactly.
    """

    outcome_location: float
    outcome_scale: float
    column_means: tuple[float, ...]
    column_sds: tuple[float, ...]
    random_column_sds: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class ModelSpec:
    formula: str
    family: Family
    response: Response
    intercept: bool
    fixed: tuple[Column, ...]
    random: tuple[RandomBlock, ...]
    offset: Expression | None
    variables: tuple[VariableInfo, ...]
    priors: tuple[ParameterPrior, ...]
    scaling: Scaling
    centering: tuple[tuple[str, str], ...] = ()  # (variable, "grand" | "group:<factor>")
    options: Mapping[str, object] = field(default_factory=dict, compare=False)
    submodels: tuple = ()  # missing_data.Submodel per incomplete predictor, in factored order
    dynamic_fixed: tuple[int, ...] = ()  # fixed columns that involve incomplete variables
    dynamic_random: tuple[tuple[int, ...], ...] = ()  # per block, columns that involve incomplete variables
    outcome_latent: bool = False  # missing outcomes are sampled, because a missingness model uses the outcome
    group_level: tuple[tuple[int, ...], ...] = ()  # per block, complete fixed columns constant within its groups

    @property
    def incomplete(self) -> tuple[str, ...]:
        return tuple(submodel.outcome for submodel in self.submodels)

    @property
    def fixed_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.fixed)

    def variable(self, name: str) -> VariableInfo:
        for info in self.variables:
            if info.name == name:
                return info
        raise KeyError(name)

    def prior_for(self, parameter: str) -> ParameterPrior:
        for assignment in self.priors:
            if assignment.parameter == parameter:
                return assignment
        raise KeyError(parameter)


@dataclass(frozen=True)
class ModelData:
    """Arrays for one data set, in the row order of the kept rows."""

    y: np.ndarray  # outcome (successes for binomial), float64
    trials: np.ndarray | None
    X: np.ndarray  # (n, p) fixed-effect design without the intercept
    offset: np.ndarray | None
    group_index: tuple[np.ndarray, ...]  # per random block, int32 codes (n,)
    Z: tuple[np.ndarray, ...]  # per random block, (n, q)
    row_labels: np.ndarray  # index labels of the kept rows in the caller's data frame
    excluded_rows: int = 0
    exclusion_reasons: tuple[tuple[str, int], ...] = ()  # (column, number of missing values)
    outcome_observed: np.ndarray | None = None  # False where the outcome is missing (imputed, not in the likelihood)
    values: dict | None = None  # raw variables (NaN where missing) for columns evaluated at sampling time

    @property
    def n(self) -> int:
        return int(self.y.shape[0])
