"""Stated submodels: the predictor models (``x1 ~ x2 + x3``) and missingness models (``y.missing ~ y + x1``)
the user writes, checked and expanded into terms (their columns are resolved with the focal model's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..errors import FormulaSpecificationError, SpecificationError
from ..syntax import ast
from .inputs import StatedFormula
from .resolve import check_exists, column_names, formula_error
from .terms import ExpandedFormula, expand_formula


@dataclass(frozen=True)
class StatedModel:
    kind: str  # "predictor" | "missingness"
    variable: str  # the modelled variable (for missingness: the variable whose indicator is modelled)
    text: str
    expanded: ExpandedFormula
    referenced: tuple[ast.Name, ...]  # the data columns used


def parse_submodel_formulas(frame: pd.DataFrame, formulas: Sequence[StatedFormula]) -> tuple[StatedModel, ...]:
    """Parsed stated formulas → StatedModels. Refuses an outcome that is not one column (``variable.missing``
    for a missingness model), random terms or offsets, unknown columns, and two models of one variable."""
    stated = []
    for item in formulas:
        kind, parsed = item.kind, item.formula
        text = parsed.text
        outcome = parsed.outcome
        if not isinstance(outcome, ast.Name) or parsed.addition is not None:
            raise FormulaSpecificationError(f"a {kind} model's outcome is one column name", text,
                                            (outcome or parsed).start, (outcome or parsed).end)
        name = outcome.name
        if kind == "missingness":
            if not name.endswith(".missing"):
                raise formula_error(text, "a missingness model's outcome is written variable.missing", outcome,
                                    hint="For example: y.missing ~ y + x1")
            name = name[: -len(".missing")]
        expanded = expand_formula(parsed)
        if expanded.random or expanded.offsets:
            node = expanded.random[0].node if expanded.random else expanded.offsets[0]
            raise formula_error(text, f"a {kind} model takes fixed terms only; its random intercept over the "
                                f"clusters is added automatically", node)
        names = [ast.Name(name, start=outcome.start, end=outcome.start + len(name))]
        for factor in expanded.factors.values():
            names += column_names(factor.node, text)
        for node in names:
            check_exists(node, frame, text)
        stated.append(StatedModel(kind, name, text, expanded, tuple(names)))
    predicted = [item.variable for item in stated if item.kind == "predictor"]
    duplicated = sorted({name for name in predicted if predicted.count(name) > 1})
    if duplicated:
        raise SpecificationError(f"more than one predictor model for {', '.join(duplicated)}")
    return tuple(stated)
