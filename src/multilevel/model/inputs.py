"""The inputs of a build: the options as given, and the parsed formulas with the data frame they read.

:class:`BuildOptions` holds :func:`~multilevel.model.build.build_model`'s keyword arguments as given;
:class:`ParsedInput` (made by :func:`~multilevel.model.build.read_inputs`) the parsed formulas and the data
frame they are resolved against (a copy where declared nominal columns or ``x.missing`` indicators are
added; the caller's frame is never modified).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ..errors import SpecificationError, spell
from ..syntax import ast
from .checks import is_numeric_column, suggest
from .families import Family
from .resolve import names_in
from .terms import ExpandedFormula

MISSING_CHOICES = ("model", "listwise")


@dataclass(frozen=True)
class BuildOptions:
    """``build_model``'s keyword arguments, as the caller gave them (see its docstring)."""

    family: str | Family | None = None
    link: str | None = None
    priors: Mapping | None = None
    center: Mapping | None = None
    reference: Mapping | None = None
    parameterization: str | Mapping | Sequence = "auto"
    missing: str = "model"
    predictor_models: str | Sequence[str | ast.Formula] | None = None
    missingness_models: str | Sequence[str | ast.Formula] | None = None
    ordinal: Sequence[str] | None = None
    nominal: Sequence[str] | None = None
    integrate: bool = True

    @property
    def references(self) -> dict[str, object]:
        """Reference levels keyed by column name (as text)."""
        return {str(k): v for k, v in (self.reference or {}).items()}


@dataclass(frozen=True)
class StatedFormula:
    """A parsed predictor model (``x1 ~ x2``) or missingness model (``y.missing ~ y + x1``)."""

    kind: str  # "predictor" | "missingness"
    formula: ast.Formula


@dataclass(frozen=True)
class ParsedInput:
    """Step 1's output: the parsed focal formula, its expansion into terms, the stated submodels' formulas,
    and the data frame every name is resolved against."""

    options: BuildOptions
    frame: pd.DataFrame
    formula: ast.Formula
    expanded: ExpandedFormula
    stated_formulas: tuple[StatedFormula, ...]

    @property
    def text(self) -> str:
        return self.formula.text



def as_list(formulas) -> list[str]:
    if formulas is None:
        return []
    return [formulas] if isinstance(formulas, str) else list(formulas)


def with_nominal_columns(frame: pd.DataFrame, nominal) -> pd.DataFrame:
    """Declared nominal numeric columns become categorical (in a copy: the caller's frame is not touched)."""
    names = list(nominal or ())
    for name in names:
        if name not in frame.columns:
            raise SpecificationError(f"nominal variable '{name}' is not a column of the data"
                                     f"{suggest(name, frame.columns)}")
    numeric = [name for name in names if is_numeric_column(frame[name])]
    if not numeric:
        return frame
    frame = frame.copy()
    for name in numeric:
        frame[name] = pd.Categorical(frame[name])
    return frame


def with_missingness_indicators(frame: pd.DataFrame, parsed: list) -> pd.DataFrame:
    """``x.missing`` used as a predictor (a pattern-mixture term; Blimp's missingness indicator) where the
    data have no such column: 1 where x is missing, else 0 (added to a copy: the caller's frame is untouched)."""
    wanted = {}
    for formula in parsed:
        outcome = formula.outcome.name if isinstance(formula.outcome, ast.Name) else None
        for name in names_in(formula.right):
            if name.endswith(".missing") and name not in frame.columns and name[:-len(".missing")] in frame.columns:
                if outcome is not None and name[:-len(".missing")] == outcome:
                    raise SpecificationError(f"'{name}' predicts {outcome} in '{formula.text}': a variable's own "
                                             f"missingness cannot shift its missing values (the shift is not "
                                             f"identified); use it to predict other variables")
                wanted[name] = frame[name[:-len(".missing")]].isna().to_numpy().astype(float)
    if not wanted:
        return frame
    return frame.assign(**wanted)


def check_declared_outcome(outcome_node, ordinal, nominal, family) -> None:
    """A declaration on the outcome is never ignored: ordinal and nominal outcomes have no family yet."""
    names = {node.name for node in ([outcome_node] if isinstance(outcome_node, ast.Name) else [])}
    for declared, what in ((ordinal, "ordinal"), (nominal, "nominal")):
        for name in sorted(names & set(as_list(declared))):
            option = spell(f"{what}=['{name}']", f"--{what} {name}")
            raise SpecificationError(
                f"the outcome '{name}' is declared {what} ({option}), but {what} outcomes are not available yet "
                f"(planned: brms's family='{'cumulative' if what == 'ordinal' else 'categorical'}'); the declaration "
                f"is not ignored. Drop {option} to model it as a {family or 'gaussian'} outcome")
