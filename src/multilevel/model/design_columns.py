"""Design columns: the formula's terms resolved into columns (categorical factors coded by R's rule), the
fixed-effect matrix ``X`` and its checks, and which fixed columns are constant within groups."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..errors import DataError, SpecificationError
from . import expressions as E
from .centering import with_stored_group_means
from .checks import check_design
from .grouping import Groups
from .inputs import ParsedInput
from .model_spec import Column, VariableInfo
from .resolve import CategoricalFactor, Resolver, categorical_codes
from .response import ResponseForm, offset_expression, trials_expression
from .rows import References
from .stated_models import StatedModel
from .terms import ExpandedFormula


@dataclass(frozen=True)
class StatedColumns:
    """A stated submodel with its design columns."""

    model: StatedModel
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Terms:
    """Step 6's output: every formula term resolved into design columns and expressions.

    ``variables``: the data columns met, in order (numeric, or categorical with their levels);
    ``codes``: each categorical variable's integer codes in the kept rows (-1 where missing);
    ``latent_means``: variables whose latent group means the focal model uses."""

    fixed: tuple[Column, ...]
    random: tuple[tuple[Column, ...], ...]  # per random term
    trials: E.Expression | None
    offset: E.Expression | None
    stated: tuple[StatedColumns, ...]
    variables: tuple[VariableInfo, ...]
    codes: Mapping[str, np.ndarray]
    latent_means: frozenset[str]

    def variable(self, name: str) -> VariableInfo | None:
        return next((info for info in self.variables if info.name == name), None)


def design_terms(parsed: ParsedInput, response: ResponseForm, references: References, kept: pd.DataFrame,
                 groups: Groups) -> Terms:
    """(ParsedInput, ResponseForm, References, kept rows, Groups) → Terms.

    Resolves, in this order, the fixed terms, the random terms, the number of trials, the offset and the
    stated submodels' terms; the errors (a text column in arithmetic, an unknown reference level, ...)
    point into the formula that has them."""
    expanded = parsed.expanded
    center, reference = dict(references.centering), parsed.options.references
    cluster = references.random_factor_names[0] if references.random_factor_names else None
    resolver = Resolver(parsed.text, kept, center, reference, groups.codes, cluster)
    factor_cache: dict = {}
    fixed = columns_for_terms(resolver, expanded, expanded.terms, expanded.intercept, factor_cache)
    random = tuple(tuple(columns_for_terms(resolver, expanded, part.terms, () in part.terms, factor_cache))
                   for part in expanded.random)
    trials = trials_expression(response, resolver)
    offset = offset_expression(expanded, resolver)
    stated = tuple(StatedColumns(item, _stated_columns(item, resolver)) for item in references.stated)
    return Terms(tuple(fixed), random, trials, offset, stated, tuple(resolver.variables.values()),
                 MappingProxyType(categorical_codes(resolver.variables, resolver.categorical_raw)),
                 frozenset(resolver.latent_means))


def _stated_columns(item: StatedModel, focal: Resolver) -> tuple[Column, ...]:
    """A stated model's columns, resolved with the focal model's variables (one coding of each factor);
    latent group means are not available in them (no cluster factor)."""
    resolver = Resolver(item.text, focal.frame, focal.center, focal.reference, focal.group_codes)
    resolver.variables, resolver.categorical_raw = focal.variables, focal.categorical_raw
    return tuple(columns_for_terms(resolver, item.expanded, item.expanded.terms, True, {}))


def store_group_means(terms: Terms, values: Mapping, groups: Groups) -> Terms:
    """Terms → Terms whose group-mean-centred nodes record the fitting data's cluster means (computed from
    ``values``, after level-2 values known in their cluster are filled in)."""
    levels = groups.levels

    def stored(columns):
        return tuple(with_stored_group_means(column, values, levels) for column in columns)

    return replace(terms, fixed=stored(terms.fixed), random=tuple(stored(columns) for columns in terms.random),
                   stated=tuple(StatedColumns(item.model, stored(item.columns)) for item in terms.stated))


@dataclass(frozen=True)
class FixedDesign:
    """The fixed-effect design: ``X`` with placeholders (the column's observed mean) where a column is
    unknown until sampling, ``X_observed`` without them (NaN there), and those columns' positions."""

    columns: tuple[Column, ...]
    X: np.ndarray
    X_observed: np.ndarray
    dynamic: tuple[int, ...]  # columns that involve incomplete variables or latent group means

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def fixed_design(columns: Sequence[Column], values: Mapping, sampled: frozenset, n: int,
                 intercept: bool) -> FixedDesign:
    """(fixed columns, variable values, variables evaluated while sampling, rows, intercept) → FixedDesign.
    Refuses non-finite columns, a column produced twice and a rank-deficient design."""
    columns = tuple(columns)
    dynamic = tuple(k for k, column in enumerate(columns) if column.expression.variables() & sampled)
    X = evaluate_columns(columns, values, n)
    X_observed = X.copy()
    for k in dynamic:  # placeholders for the checks: the column's observed mean where it is unknown
        finite = np.isfinite(X[:, k])
        X[~finite, k] = X[finite, k].mean() if finite.any() else 0.0
    for k, column in enumerate(columns):
        if not np.isfinite(X[:, k]).all():
            bad = int((~np.isfinite(X[:, k])).sum())
            raise DataError(f"predictor '{column.name}' is not finite in {bad} row(s) of the data used "
                            f"(for example log of 0 or a negative number); fix the data or the expression")
    names = tuple(column.name for column in columns)
    if len(set(names)) != len(names):
        duplicated = sorted({name for name in names if names.count(name) > 1})
        raise SpecificationError(f"the formula produces the column(s) {', '.join(duplicated)} twice")
    check_design(names, X, intercept)
    return FixedDesign(columns, X, X_observed, dynamic)


def columns_for_terms(resolver: Resolver, expanded: ExpandedFormula, terms, intercept: bool,
                       factor_cache: dict) -> list[Column]:
    """Design columns for terms, coding each categorical factor by R's rule."""
    term_set = set(terms) | ({()} if intercept else set())
    columns: list[Column] = []
    for term in terms:
        full_coded_main_effect = False
        if term == ():
            columns.append(Column("Intercept", "Intercept", E.Product(())))
            continue
        pieces = []  # per factor: list of (label, expression)
        for key in term:
            if key not in factor_cache:
                factor_cache[key] = resolver.factor(expanded.factors[key])
            resolved = factor_cache[key]
            if isinstance(resolved, CategoricalFactor):
                levels = resolved.info.levels
                assert levels is not None  # a categorical variable records its levels
                margin = tuple(k for k in term if k != key)
                codes = range(len(levels))
                if margin in term_set:
                    codes = codes[1:]  # contrasts: drop the reference level
                elif margin == ():
                    full_coded_main_effect = True
                pieces.append([(f"{resolved.label}{levels[code]}",
                                E.LevelIndicator(resolved.info.name, code)) for code in codes])
            else:
                pieces.append([(key, resolved)])
        term_label = ":".join(term)
        for combination in itertools.product(*pieces):
            name = ":".join(label for label, _ in combination)
            columns.append(Column(name, term_label, E.Product(tuple(expression for _, expression in combination))))
        if full_coded_main_effect:
            term_set.add(())  # as in R: a fully coded factor spans the intercept; later factors get contrasts
    return columns


def evaluate_columns(columns: Sequence[Column], values: Mapping, n: int) -> np.ndarray:
    """The columns' values, one column each (n, len(columns))."""
    if not columns:
        return np.zeros((n, 0))
    with np.errstate(all="ignore"):  # non-finite results are reported by the caller, with the column
        return np.column_stack([np.broadcast_to(np.asarray(column.expression.evaluate(values, np), dtype=float), (n,))
                                for column in columns])


def group_level_columns(X: np.ndarray, index_list, skip: set) -> tuple[tuple[int, ...], ...]:
    """Per grouping factor, the fixed columns that are constant within each of its groups (group-level
    predictors such as a school's sector), leaving out ``skip`` (columns with imputed or latent values),
    columns constant overall, and factors with one row per group."""
    result: list[tuple[int, ...]] = []
    for index in index_list:
        groups = int(index.max()) + 1 if len(index) else 0
        if groups >= len(index):  # one row per group (an observation-level effect): nothing is group level
            result.append(())
            continue
        constant = []
        for k in range(X.shape[1]):
            x = X[:, k]
            if k in skip or not len(x) or not np.isfinite(x).all() or np.ptp(x) == 0:
                continue
            low, high = np.full(groups, np.inf), np.full(groups, -np.inf)
            np.minimum.at(low, index, x)
            np.maximum.at(high, index, x)
            if np.all(high - low <= 1e-12 * max(1.0, float(np.abs(x).max()))):
                constant.append(k)
        result.append(tuple(constant))
    return tuple(result)

