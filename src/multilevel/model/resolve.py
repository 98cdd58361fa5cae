"""Resolving a formula's names against the data: columns, numeric expressions, categorical coding, group labels.

:class:`Resolver` turns the factors of an expanded formula into expressions (numeric columns, with their
centering) or categorical factors (levels in coding order, reference level first). It is the working
object of one build step (:func:`multilevel.model.design_columns.design_terms`); what it learns leaves
that step as frozen values (:class:`~multilevel.model.model_spec.VariableInfo` and integer codes).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaSpecificationError, ModelNote
from ..syntax import ast
from . import expressions as E
from .checks import check_levels, check_text_column, is_numeric_column, suggest
from .model_spec import VariableInfo
from .terms import Factor

CATEGORICAL_CALLS = ("C", "factor", "as.factor")


@dataclass(frozen=True)
class CategoricalFactor:
    info: VariableInfo
    label: str  # how the factor is written in the formula: "Rx" or "C(Rx)"


class Resolver:
    """Resolves factors of one formula ``text`` against ``frame``; collects the variables it meets.

    ``center``: variable -> "grand" | "latent" | "group:<factor>"; ``reference``: variable -> reference
    level; ``group_codes``: factor -> (integer codes, number of groups), for group-mean centring and
    ``scale()``; ``cluster_factor``: the factor latent group means are over (None: they are refused).
    """

    def __init__(self, text: str, frame: pd.DataFrame, center: Mapping, reference: Mapping,
                 group_codes: Mapping | None = None, cluster_factor: str | None = None):
        self.text = text
        self.frame = frame
        self.center = center
        self.reference = reference
        self.group_codes = group_codes or {}
        self.cluster_factor = cluster_factor  # the first grouping factor: latent group means are over it
        self.variables: dict[str, VariableInfo] = {}
        self.categorical_raw: dict[str, pd.Series] = {}
        self.latent_means: set[str] = set()

    def error(self, message: str, node: ast.Node, hint: str | None = None):
        return formula_error(self.text, message, node, hint)

    def column_names(self, node: ast.Node) -> list[ast.Name]:
        return column_names(node, self.text)

    def check_exists(self, name: ast.Name) -> None:
        check_exists(name, self.frame, self.text)

    # -- factors ---------------------------------------------------------------------
    def categorical(self, name: str, node: ast.Node, reference: str | None, forced: bool) -> CategoricalFactor:
        series = self.frame[name]
        key = f"C({name})" if forced and is_numeric_column(series) else name
        if key not in self.variables:
            if isinstance(series.dtype, pd.CategoricalDtype):
                present = set(series.dropna().unique())
                raw_levels = [level for level in series.cat.categories if level in present]
            else:
                values = series.dropna().unique()
                try:
                    raw_levels = sorted(values)
                except TypeError:
                    raw_levels = sorted(values, key=str)
            labels = [level_label(level) for level in raw_levels]
            reference = reference if reference is not None else self.reference.get(name)
            if reference is not None:
                wanted = str(reference)
                if wanted not in labels:
                    raise self.error(f"reference level '{wanted}' is not a level of '{name}' "
                                     f"(levels: {', '.join(labels[:20])})", node)
                position = labels.index(wanted)
                labels.insert(0, labels.pop(position))
                raw_levels.insert(0, raw_levels.pop(position))
            try:
                note = check_levels(name, series, len(labels), forced)
            except DataError as error:
                raise self.error(str(error), node) from None
            if note:
                warnings.warn(note.format(reference=labels[0]), ModelNote, stacklevel=2)
            self.variables[key] = VariableInfo(key, "categorical", tuple(labels), tuple(raw_levels))
            self.categorical_raw[key] = series
        elif reference is not None:
            levels = self.variables[key].levels
            # variables[key] is categorical: key is the name only for a text column (never registered as
            # numeric), and C(name) for a numeric column made categorical
            assert levels is not None
            if levels[0] != str(reference):
                raise self.error(f"'{name}' is given two different reference levels", node)
        label = name if key == name else f"C({name})"
        return CategoricalFactor(self.variables[key], label)

    def numeric_variable(self, node: ast.Name) -> E.Expression:
        name = node.name
        series = self.frame[name]
        if not is_numeric_column(series):
            raise self.error(f"column '{name}' is categorical (text); it cannot be used in arithmetic", node,
                             hint="Use it as a term on its own to get dummy codes.")
        self.variables.setdefault(name, VariableInfo(name, "numeric"))
        expression: E.Expression = E.Variable(name)
        how = self.center.get(name)
        if how is not None:
            expression = self._centered(expression, name, how)
        return expression

    def _centered(self, expression: E.Expression, name: str, how: str) -> E.Expression:
        values = self.frame[name].to_numpy(dtype=float)
        if how == "latent":
            return E.Arithmetic("-", expression, self.latent_mean(name))
        if how == "grand":
            seen = values[~np.isnan(values)]  # an incomplete variable: its observed values' mean
            return E.GrandMeanCentered(expression, float(np.mean(seen)) if seen.size else 0.0)
        factor = how.split(":", 1)[1]
        return E.GroupMeanCentered(expression, factor)

    def numeric(self, node: ast.Node) -> E.Expression:
        """Arithmetic inside I(...), log(...), scale(...): columns must be numeric."""
        if isinstance(node, ast.Number):
            return E.Constant(node.value)
        if isinstance(node, ast.Name):
            return self.numeric_variable(node)
        if isinstance(node, ast.Parenthesized):
            return self.numeric(node.inner)
        if isinstance(node, ast.Unary):
            operand = self.numeric(node.operand)
            return E.Negate(operand) if node.operator == "-" else operand
        if isinstance(node, ast.Binary):
            if node.operator in (":", "%in%"):
                raise self.error(f"'{node.operator}' has no arithmetic meaning inside I(...)", node)
            return E.Arithmetic(node.operator, self.numeric(node.left), self.numeric(node.right))
        if isinstance(node, ast.Call):
            return self.numeric_call(node)
        if isinstance(node, ast.String):
            raise self.error("text cannot be used in arithmetic", node)
        raise self.error("this is not an arithmetic expression", node)

    def numeric_call(self, node: ast.Call) -> E.Expression:
        function = node.function
        if function == "I":
            self._arity(node, 1)
            return self.numeric(node.arguments[0])
        if function in E.FUNCTIONS:
            self._arity(node, 1)
            return E.Function(function, self.numeric(node.arguments[0]))
        if function == "scale":
            self._arity(node, 1)
            inner = self.numeric(node.arguments[0])
            values = np.asarray(inner.evaluate(self.numeric_values(), np), dtype=float)
            values = values[~np.isnan(values)]  # as R's scale(): the observed values' mean and SD
            sd = float(np.std(values, ddof=1)) if values.size > 1 else 0.0
            if not sd > 0:
                raise self.error("scale() of a constant" if values.size > 1 else "scale() of fewer than two observed "
                                 "values", node)
            return E.Standardize(inner, float(np.mean(values)), sd)
        if function == "latent_mean":
            self._arity(node, 1)
            argument = node.arguments[0]
            if not isinstance(argument, ast.Name):
                raise self.error("latent_mean(...) takes one variable name", node)
            self.check_exists(argument)
            if not is_numeric_column(self.frame[argument.name]):
                raise self.error(f"latent_mean({argument.name}): '{argument.name}' must be numeric", argument)
            if self.cluster_factor is None:
                raise self.error("latent_mean(...) needs clustered data: add a random effect such as (1 | school)",
                                 node)
            self.variables.setdefault(argument.name, VariableInfo(argument.name, "numeric"))
            return self.latent_mean(argument.name)
        if function in CATEGORICAL_CALLS:
            raise self.error(f"{function}(...) makes a categorical variable; it cannot be used in arithmetic", node)
        known = ", ".join(["I", "C", "scale", "latent_mean", "offset", *E.FUNCTIONS])
        raise self.error(f"unknown function '{function}'.{suggest(function, ['I', 'C', 'scale', *E.FUNCTIONS])}",
                         node, hint=f"Known functions: {known}.")

    def latent_mean(self, name: str) -> E.LatentGroupMean:
        self.latent_means.add(name)
        return E.LatentGroupMean(name, self.cluster_factor)

    def _arity(self, node: ast.Call, count: int) -> None:
        if len(node.arguments) != count or node.keywords:
            raise self.error(f"{node.function}(...) takes {count} argument{'s' if count > 1 else ''}", node)

    def numeric_values(self) -> dict:
        return numeric_values(self.frame, self.group_codes)

    def factor(self, factor: Factor) -> E.Expression | CategoricalFactor:
        node = factor.node
        if isinstance(node, ast.Name):
            series = self.frame[node.name]
            if is_numeric_column(series):
                return self.numeric_variable(node)
            check_text_column(node.name, series)
            return self.categorical(node.name, node, None, forced=False)
        if isinstance(node, ast.Call) and node.function in CATEGORICAL_CALLS:
            if not node.arguments or not isinstance(node.arguments[0], ast.Name):
                raise self.error(f"{node.function}(...) takes a column name", node)
            reference = None
            extra = list(node.arguments[1:]) + [value for _, value in node.keywords]
            for keyword, value in node.keywords:
                if keyword not in ("ref", "reference", "base"):
                    raise self.error(f"unknown argument '{keyword}' of {node.function}(...); use ref=\"level\"", value)
            if len(extra) > 1:
                raise self.error(f"{node.function}(...) takes a column and a reference level", node)
            if extra:
                reference = _reference_level(self, extra[0])
            return self.categorical(node.arguments[0].name, node, reference, forced=True)
        return self.numeric(node)


def formula_error(text: str, message: str, node: ast.Node, hint: str | None = None) -> FormulaSpecificationError:
    """An error pointing at ``node`` in the formula ``text``."""
    return FormulaSpecificationError(message, text, node.start, node.end, hint=hint)


def column_names(node: ast.Node, text: str) -> list[ast.Name]:
    """Every data column named inside a factor, offset or trials expression (an unknown function is refused)."""
    if isinstance(node, ast.Name):
        return [node]
    if isinstance(node, ast.Call):
        known = ("I", "scale", "latent_mean", "offset", "trials", "cbind", *CATEGORICAL_CALLS, *E.FUNCTIONS)
        if node.function not in known:
            raise formula_error(text, f"unknown function '{node.function}'.{suggest(node.function, known)}", node,
                                hint=f"Known functions: {', '.join(known)}.")
        found = []
        for argument in node.arguments:
            found += column_names(argument, text)
        if node.function not in CATEGORICAL_CALLS:
            for _, value in node.keywords:
                found += column_names(value, text)
        return found
    if isinstance(node, ast.Binary):
        return column_names(node.left, text) + column_names(node.right, text)
    if isinstance(node, ast.Unary):
        return column_names(node.operand, text)
    if isinstance(node, ast.Parenthesized):
        return column_names(node.inner, text)
    return []


def check_exists(name: ast.Name, frame: pd.DataFrame, text: str) -> None:
    """Refuse a name that is not a column of ``frame``, pointing at it in ``text``."""
    if name.name not in frame.columns:
        raise formula_error(text, f"there is no column '{name.name}' in the data.{suggest(name.name, frame.columns)}",
                            name, hint=f"Columns: {', '.join(map(str, frame.columns[:30]))}"
                                       f"{' ...' if len(frame.columns) > 30 else ''}")


def numeric_values(frame: pd.DataFrame, group_codes: Mapping) -> dict:
    """Numeric columns (and group codes for centering) for evaluating expressions on the data."""
    values = {}
    for name in frame.columns:
        series = frame[name]
        if is_numeric_column(series):
            values[name] = series.to_numpy(dtype=float)
    for factor, (codes, count) in group_codes.items():
        values[f"group index:{factor}"] = codes
        values[f"group count:{factor}"] = count
    return values


def categorical_codes(variables: Mapping[str, VariableInfo], raw: Mapping[str, pd.Series]) -> dict[str, np.ndarray]:
    """Integer codes (in level order; -1 where missing) of every categorical variable."""
    result = {}
    for key, info in variables.items():
        if info.kind == "categorical":
            assert info.levels is not None  # a categorical variable records its levels
            position = {label: code for code, label in enumerate(info.levels)}
            series = raw[key]
            codes = series.map(level_label).map(position).astype(float).fillna(-1.0)
            result[key] = np.where(series.isna().to_numpy(), -1, codes.to_numpy()).astype(np.int64)  # -1: missing
    return result


def _reference_level(resolver: Resolver, node: ast.Node) -> str:
    if isinstance(node, ast.String):
        return node.value
    if isinstance(node, ast.Number):
        return node.text if "." not in node.text else level_label(node.value)
    if isinstance(node, ast.Call) and node.function in ("Treatment", "contr.treatment") and len(node.arguments) == 1:
        return _reference_level(resolver, node.arguments[0])
    if isinstance(node, ast.Name):
        return node.name
    raise resolver.error("a reference level is a quoted level such as ref=\"b\"", node)


def level_label(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    return str(value)


def group_label_array(frame: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    """Each row's level label of a grouping factor; an interaction a:b joins the parts with ':'."""
    parts = [frame[name].map(level_label).to_numpy(dtype=object) for name in names]
    if len(parts) == 1:
        return parts[0]
    return np.array([":".join(row) for row in zip(*parts)], dtype=object)


def factor_columns(factor: str) -> tuple[str, ...]:
    """The data columns of a grouping factor name: "school" or "school:class"."""
    return tuple(factor.split(":"))


def group_labels(frame: pd.DataFrame, names: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes and level labels of a grouping factor (or an interaction a:b of several)."""
    labels = group_label_array(frame, names)
    unique = pd.unique(labels)
    try:
        order = sorted(unique, key=lambda level: (0, float(level)) if _is_number(level) else (1, level))
    except TypeError:
        order = sorted(unique, key=str)
    position = {level: code for code, level in enumerate(order)}
    codes = np.fromiter((position[level] for level in labels), dtype=np.int32, count=len(labels))
    return codes, tuple(order)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def group_node_names(node: ast.Node) -> tuple[ast.Name, ...]:
    if isinstance(node, ast.Name):
        return (node,)
    if isinstance(node, ast.Binary):
        return group_node_names(node.left) + group_node_names(node.right)
    if isinstance(node, ast.Parenthesized):
        return group_node_names(node.inner)
    return ()


def names_in(node) -> list[str]:
    """Every name in a syntax tree."""
    if isinstance(node, ast.Name):
        return [node.name]
    found = []
    for value in vars(node).values() if isinstance(node, ast.Node) else ():
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, tuple):  # keyword pairs
                child = child[1]
            if isinstance(child, ast.Node):
                found += names_in(child)
    return found

