"""Which columns the model uses, and which rows it keeps.

Every column named in the formulas must exist; with ``missing="model"`` a missing value of a predictor or
of the outcome is an unknown of the model, while a missing cluster ID, offset or number of trials is an
error naming the rows; with ``missing="listwise"`` each row missing a used value is excluded and counted.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, SpecificationError, spell
from ..syntax import ast
from .centering import normalize_center
from .checks import check_finite, is_numeric_column
from .inputs import ParsedInput
from .resolve import CATEGORICAL_CALLS, check_exists, column_names, factor_columns, group_node_names
from .response import ResponseForm
from .stated_models import StatedModel, parse_submodel_formulas


@dataclass(frozen=True)
class References:
    """Step 3's output: the columns the model reads and the role of each.

    ``predictors``: columns in the focal model's terms or in a stated submodel (other than the outcome);
    ``structural``: the other used columns (cluster IDs, offsets, trials), which must be complete."""

    stated: tuple[StatedModel, ...]
    group_nodes: tuple[ast.Node, ...]  # one per grouping factor of each random term, as written
    random_factor_names: tuple[str, ...]  # "school", "school:class", in order of appearance
    centering: tuple[tuple[str, str], ...]  # (variable, "grand" | "latent" | "group:<factor>")
    used: tuple[str, ...]
    predictors: frozenset[str]
    structural: frozenset[str]


def referenced_columns(parsed: ParsedInput, response: ResponseForm) -> References:
    """(ParsedInput, ResponseForm) → References: every column named must exist (the error points at the
    name); the stated submodels are read; the centering choices are checked against the model."""
    text, frame, expanded = parsed.text, parsed.frame, parsed.expanded
    referenced: list[ast.Name] = list(response.outcome_names)
    if response.trials_node is not None:
        referenced += column_names(response.trials_node, text)
    for factor in expanded.factors.values():
        referenced += column_names(factor.node, text)
    for node in expanded.offsets:
        referenced += column_names(node, text)
    group_nodes = tuple(node for part in expanded.random for node in part.group_nodes)
    for node in group_nodes:
        referenced += group_node_names(node)
    for name in referenced:
        check_exists(name, frame, text)
    stated = parse_submodel_formulas(frame, parsed.stated_formulas)
    for item in stated:
        referenced += item.referenced
    random_factor_names = tuple(dict.fromkeys(":".join(n.name for n in group_node_names(node))
                                              for node in group_nodes))
    centering = normalize_center(parsed.options.center, frame, random_factor_names)
    used = tuple(dict.fromkeys([name.name for name in referenced] + [
        part for how in centering.values() if how.startswith("group:")
        for part in factor_columns(how.split(":", 1)[1])]))
    for variable in centering:
        if variable not in used:
            raise SpecificationError(f"center: '{variable}' is not used in the model")
        if not is_numeric_column(frame[variable]):
            raise SpecificationError(f"center: '{variable}' is categorical; only numeric predictors can be centred")
    predictors = {name.name for factor in expanded.factors.values() for name in column_names(factor.node, text)}
    for item in stated:
        predictors |= {name.name for name in item.referenced} - {response.outcome}
    structural = set(used) - predictors - {response.outcome}
    return References(stated, group_nodes, random_factor_names, tuple(centering.items()), used,
                      frozenset(predictors), frozenset(structural))


@dataclass(frozen=True)
class Rows:
    """Step 4's output: the rows kept and the variables whose missing values the model imputes."""

    kept: pd.DataFrame
    excluded: int
    exclusion_reasons: tuple[tuple[str, int], ...]  # (column, number of missing values) that excluded rows
    imputable: frozenset[str]  # predictors (and the outcome) whose missing values are unknowns of the model
    incomplete: tuple[str, ...]  # imputable predictors with a missing value in the kept rows, sorted

    @property
    def n(self) -> int:
        return len(self.kept)


def select_rows(parsed: ParsedInput, response: ResponseForm, references: References) -> Rows:
    """(ParsedInput, ResponseForm, References) → Rows.

    ``missing="model"``: incomplete predictors (and the outcome) are imputable; a missing structural value
    is refused naming the rows, as is a predictor missing everywhere or made categorical with C(...).
    The rows missing any other used value are excluded (all of them is an error). Used numeric values
    must be finite."""
    frame = parsed.frame
    imputable = set()
    if parsed.options.missing == "model":
        for name in sorted(references.predictors - references.structural):
            if frame[name].isna().any():
                _check_imputable(parsed, name)
                imputable.add(name)
        if response.kind == "value":
            imputable.add(response.outcome)
        refuse_missing_structure(frame, references.structural, references.group_nodes)
    strict = [name for name in references.used if name not in imputable]
    missing_counts = tuple((name, int(frame[name].isna().sum())) for name in strict if frame[name].isna().any())
    keep = ~frame[strict].isna().any(axis=1).to_numpy() if strict else np.ones(len(frame), dtype=bool)
    if not keep.any():
        raise DataError("every row has a missing value in a column the model uses ("
                        + ", ".join(f"{name}: {count} missing" for name, count in missing_counts) + ")")
    kept = frame.loc[keep]
    for name in references.used:
        if is_numeric_column(kept[name]):
            column = kept[name].to_numpy(dtype=float)
            check_finite(name, column[~np.isnan(column)])
    incomplete = tuple(sorted(name for name in imputable - {response.outcome} if kept[name].isna().any()))
    return Rows(kept, int((~keep).sum()), missing_counts, frozenset(imputable), incomplete)


def _check_imputable(parsed: ParsedInput, name: str) -> None:
    """An incomplete predictor is refused when made categorical with C(...) or missing in every row."""
    frame = parsed.frame
    if any(isinstance(f.node, ast.Call) and f.node.function in CATEGORICAL_CALLS
           and name in {n.name for n in column_names(f.node, parsed.text)} for f in parsed.expanded.factors.values()):
        raise SpecificationError(
            f"'{name}' has {int(frame[name].isna().sum())} missing values and is made categorical with "
            f"C(...) in the formula; declare it {spell(f"nominal=['{name}']", f'--nominal {name}')} and use it "
            f"as a plain term instead")
    if frame[name].isna().all():
        raise DataError(f"column '{name}' has no observed values (missing in all {len(frame)} rows): "
                        f"it cannot be modelled or imputed; remove it from the model")


def refuse_missing_structure(frame: pd.DataFrame, structural: AbstractSet[str], group_nodes) -> None:
    """With missing='model', cluster IDs, offsets and numbers of trials must be complete: they cannot be
    imputed, and a row dropped for them would be dropped silently."""
    grouping = {name.name for node in group_nodes for name in group_node_names(node)}
    for name in sorted(structural):
        missing = frame[name].isna().to_numpy()
        if missing.any():
            rows = ", ".join(map(str, frame.index[missing][:5])) + (" ..." if missing.sum() > 5 else "")
            what = "the cluster ID" if name in grouping else "the column"
            raise DataError(f"{what} '{name}' is missing in {int(missing.sum())} row(s) (row labels {rows}); it "
                            f"cannot be imputed. Fill it in or remove those rows, or use "
                            f"{spell("missing='listwise'", "--missing listwise")} (which "
                            f"also excludes rows missing other values)")
