"""Formula + data → :class:`ModelSpec` and :class:`ModelData` (the resolver).

Everything that can be wrong with the formula or the data is found here, before any
compilation, and reported with the column, the token or the rows involved.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaSpecificationError, ModelNote, SpecificationError, spell
from ..syntax import as_formula, ast
from . import expressions as E
from .checks import (as_data_frame, check_design, check_finite, check_levels, check_text_column,
                     is_numeric_column, suggest)
from .families import Family, make_family
from .model_spec import (Column, GroupingFactor, ModelData, ModelSpec, RandomBlock, Response, Scaling,
                         VariableInfo)
from .prior_assignment import apply_user_priors, default_priors, prior_style
from .missing_data import build_submodels, missingness_submodel
from .random_effects import choose_parameterization
from .terms import ExpandedFormula, Factor, expand_formula

_CATEGORICAL_CALLS = ("C", "factor", "as.factor")
_MISSING_CHOICES = ("model", "listwise")


@dataclass(frozen=True)
class _Categorical:
    info: VariableInfo
    label: str  # how the factor is written in the formula: "Rx" or "C(Rx)"


class _Resolver:
    def __init__(self, text: str, frame: pd.DataFrame, center: dict, reference: dict):
        self.text = text
        self.frame = frame
        self.center = center
        self.reference = reference
        self.variables: dict[str, VariableInfo] = {}
        self.categorical_raw: dict[str, pd.Series] = {}
        self.cluster_factor: str | None = None  # the first grouping factor: latent group means are over it
        self.latent_means: set[str] = set()

    def error(self, message: str, node: ast.Node, hint: str | None = None):
        return FormulaSpecificationError(message, self.text, node.start, node.end, hint=hint)

    # -- columns referenced ----------------------------------------------------------
    def column_names(self, node: ast.Node) -> list[ast.Name]:
        """Every data column named inside a factor, offset or trials expression."""
        if isinstance(node, ast.Name):
            return [node]
        if isinstance(node, ast.Call):
            known = ("I", "scale", "latent_mean", "offset", "trials", "cbind", *_CATEGORICAL_CALLS, *E.FUNCTIONS)
            if node.function not in known:
                raise self.error(f"unknown function '{node.function}'.{suggest(node.function, known)}", node,
                                 hint=f"Known functions: {', '.join(known)}.")
            found = []
            for argument in node.arguments:
                found += self.column_names(argument)
            if node.function not in _CATEGORICAL_CALLS:
                for _, value in node.keywords:
                    found += self.column_names(value)
            return found
        if isinstance(node, ast.Binary):
            return self.column_names(node.left) + self.column_names(node.right)
        if isinstance(node, ast.Unary):
            return self.column_names(node.operand)
        if isinstance(node, ast.Parenthesized):
            return self.column_names(node.inner)
        return []

    def check_exists(self, name: ast.Name) -> None:
        if name.name not in self.frame.columns:
            raise self.error(f"there is no column '{name.name}' in the data.{suggest(name.name, self.frame.columns)}",
                             name, hint=f"Columns: {', '.join(map(str, self.frame.columns[:30]))}"
                                        f"{' ...' if len(self.frame.columns) > 30 else ''}")

    # -- factors ---------------------------------------------------------------------
    def categorical(self, name: str, node: ast.Node, reference: str | None, forced: bool) -> _Categorical:
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
            labels = [_level_label(level) for level in raw_levels]
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
        elif reference is not None and self.variables[key].levels[0] != str(reference):
            raise self.error(f"'{name}' is given two different reference levels", node)
        label = name if key == name else f"C({name})"
        return _Categorical(self.variables[key], label)

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
            return E.GrandMeanCentered(expression, float(np.mean(values)))
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
            sd = float(np.std(values, ddof=1)) if values.size > 1 else 0.0
            if not sd > 0:
                raise self.error("scale() of a constant", node)
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
        if function in _CATEGORICAL_CALLS:
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
        """Numeric columns (and group codes for centering) for evaluating expressions on the data."""
        values = {}
        for name in self.frame.columns:
            series = self.frame[name]
            if is_numeric_column(series):
                values[name] = series.to_numpy(dtype=float)
        for factor, (codes, count) in self.group_codes.items():
            values[f"group index:{factor}"] = codes
            values[f"group count:{factor}"] = count
        return values

    def factor(self, factor: Factor) -> E.Expression | _Categorical:
        node = factor.node
        if isinstance(node, ast.Name):
            series = self.frame[node.name]
            if is_numeric_column(series):
                return self.numeric_variable(node)
            check_text_column(node.name, series)
            return self.categorical(node.name, node, None, forced=False)
        if isinstance(node, ast.Call) and node.function in _CATEGORICAL_CALLS:
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


def _reference_level(resolver: _Resolver, node: ast.Node) -> str:
    if isinstance(node, ast.String):
        return node.value
    if isinstance(node, ast.Number):
        return node.text if "." not in node.text else _level_label(node.value)
    if isinstance(node, ast.Call) and node.function in ("Treatment", "contr.treatment") and len(node.arguments) == 1:
        return _reference_level(resolver, node.arguments[0])
    if isinstance(node, ast.Name):
        return node.name
    raise resolver.error("a reference level is a quoted level such as ref=\"b\"", node)


def _level_label(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    return str(value)


def _columns_for_terms(resolver: _Resolver, expanded: ExpandedFormula, terms, intercept: bool,
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
            if isinstance(resolved, _Categorical):
                margin = tuple(k for k in term if k != key)
                codes = range(len(resolved.info.levels))
                if margin in term_set:
                    codes = codes[1:]  # contrasts: drop the reference level
                elif margin == ():
                    full_coded_main_effect = True
                pieces.append([(f"{resolved.label}{resolved.info.levels[code]}",
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


def _add_categorical_codes(resolver: _Resolver, values: dict) -> None:
    """Integer codes (in level order) of every categorical variable resolved so far and not yet coded."""
    for key, info in resolver.variables.items():
        if info.kind == "categorical" and key not in values:
            position = {label: code for code, label in enumerate(info.levels)}
            raw = resolver.categorical_raw[key]
            codes = raw.map(_level_label).map(position).astype(float).fillna(-1.0)
            values[key] = np.where(raw.isna().to_numpy(), -1, codes.to_numpy()).astype(np.int64)  # -1: missing


def _with_stored_group_means(column: Column, values: dict, group_levels: dict) -> Column:
    """Record the fitting data's cluster means in every group-mean-centred node of a column."""
    def store(expression: E.Expression) -> E.Expression:
        if not isinstance(expression, E.GroupMeanCentered):
            return expression
        raw = np.asarray(expression.argument.evaluate(values, np), dtype=float)
        index = values[f"group index:{expression.factor}"]
        count = values[f"group count:{expression.factor}"]
        seen = ~np.isnan(raw)  # the observed values' mean (missing ones are imputed)
        means = (np.bincount(index[seen], weights=raw[seen], minlength=count)
                 / np.maximum(np.bincount(index[seen], minlength=count), 1))
        return E.GroupMeanCentered(expression.argument, expression.factor, tuple(float(m) for m in means),
                                   tuple(group_levels[expression.factor]))

    return Column(column.name, column.term, E.rewrite(column.expression, store))


def _evaluate_columns(columns, values, n) -> np.ndarray:
    if not columns:
        return np.zeros((n, 0))
    with np.errstate(all="ignore"):  # non-finite results are reported by the caller, with the column
        return np.column_stack([np.broadcast_to(np.asarray(column.expression.evaluate(values, np), dtype=float), (n,))
                                for column in columns])


def _normalize_center(center, frame: pd.DataFrame, random_factor_names: list[str]) -> dict[str, str]:
    if not center:
        return {}
    if not isinstance(center, dict):
        raise SpecificationError("center must be a dict such as {'x': 'group', 'z': 'grand'}")
    result = {}
    for name, how in center.items():
        if name not in frame.columns:
            raise SpecificationError(f"center: there is no column '{name}'.{suggest(name, frame.columns)}")
        how = str(how).strip()
        if how in ("grand", "grandmean", "grand mean"):
            result[name] = "grand"
            continue
        if how in ("latent", "latent group mean", "latentmean"):
            if not random_factor_names:
                raise SpecificationError(f"center: '{name}' at its latent group mean needs a grouping factor")
            result[name] = "latent"
            continue
        if how in ("group", "groupmean", "group mean", "within", "cwc"):
            if len(random_factor_names) != 1:
                raise SpecificationError(
                    f"center: say which grouping factor to centre '{name}' within, e.g. 'group:{random_factor_names[0] if random_factor_names else 'school'}'"
                    + (f" (the model has {', '.join(random_factor_names)})" if random_factor_names else ""))
            result[name] = f"group:{random_factor_names[0]}"
            continue
        if how.startswith("group:"):
            factor = how.split(":", 1)[1].strip()
            for part in factor_columns(factor):
                if part not in frame.columns:
                    raise SpecificationError(f"center: no grouping column '{part}' to centre '{name}' within"
                                             f"{suggest(part, frame.columns)}")
            result[name] = f"group:{factor}"
            continue
        raise SpecificationError(f"center: '{how}' for '{name}' is not a centering; use 'grand', 'group', "
                                 f"'group:<factor>' or 'latent'")
    return result


def group_label_array(frame: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    """Each row's level label of a grouping factor; an interaction a:b joins the parts with ':'."""
    parts = [frame[name].map(_level_label).to_numpy(dtype=object) for name in names]
    if len(parts) == 1:
        return parts[0]
    return np.array([":".join(row) for row in zip(*parts)], dtype=object)


def factor_columns(factor: str) -> tuple[str, ...]:
    """The data columns of a grouping factor name: "school" or "school:class"."""
    return tuple(factor.split(":"))


def _group_labels(frame: pd.DataFrame, names: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
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


def _group_node_names(node: ast.Node) -> tuple[ast.Name, ...]:
    if isinstance(node, ast.Name):
        return (node,)
    if isinstance(node, ast.Binary):
        return _group_node_names(node.left) + _group_node_names(node.right)
    if isinstance(node, ast.Parenthesized):
        return _group_node_names(node.inner)
    return ()


def build_model(formula: str | ast.Formula, data, *, family: str | Family | None = None, link: str | None = None,
                priors: dict | None = None, center: dict | None = None, reference: dict | None = None,
                parameterization: str | dict = "auto", missing: str = "model",
                predictor_models: list[str | ast.Formula] | None = None,
                missingness_models: list[str | ast.Formula] | None = None,
                ordinal: list[str] | None = None, nominal: list[str] | None = None) -> tuple[ModelSpec, ModelData]:
    """Resolve a formula against data. The caller's data frame is only read, never modified.

    ``missing="model"``: missing values of numeric predictors and of the outcome are unknowns of
    the model (predictors get factored regressions); a missing grouping factor, offset or number
    of trials is an error naming the rows. ``missing="listwise"``: every row with a missing
    value in a used column is excluded and counted.

    ``predictor_models``: formulas stating the models of incomplete predictors
    (``"x1 ~ x2 + x3"``); predictors without one get the automatic factored regression.
    ``missingness_models``: probit models of missingness indicators (selection models for data
    missing not at random), ``"y.missing ~ y + x1 + x2"``; the variable itself may appear on the
    right. Both get a random intercept over the first grouping factor when the data are clustered.
    ``ordinal``: numeric variables that are ordinal or binary (Blimp's ORDINAL): when incomplete
    they get an ordinal probit model, and their missing values are summed out of the likelihood
    (every combination of categories, per row) instead of being sampled.
    ``nominal``: variables with unordered categories (Blimp's NOMINAL); text and pandas categorical
    columns are nominal already. They enter the focal model as dummy codes; when incomplete they get
    a multinomial logit model and their missing categories are summed out the same way.
    """
    if missing not in _MISSING_CHOICES:
        raise SpecificationError(f"missing='{missing}' is not available; choose one of: {', '.join(_MISSING_CHOICES)}")
    frame = _with_nominal_columns(as_data_frame(data), nominal)
    parsed = as_formula(formula)  # text is parsed; a tree (from a Blimp script) is used as it is
    frame = _with_missingness_indicators(frame, [parsed] + [as_formula(text) for text in
                                                            _as_list(predictor_models) + _as_list(missingness_models)])
    text = parsed.text
    if parsed.outcome is None:
        raise FormulaSpecificationError("the formula has no outcome", text, 0, 1, hint="Write it as y ~ x + (1 | g).")
    expanded = expand_formula(parsed)
    reference = {str(k): v for k, v in (reference or {}).items()}
    resolver = _Resolver(text, frame, {}, reference)

    # -- the outcome ------------------------------------------------------------------
    outcome_node, trials_node, response_kind = parsed.outcome, None, "value"
    if isinstance(outcome_node, ast.Call) and outcome_node.function == "cbind":
        if len(outcome_node.arguments) != 2 or not all(isinstance(a, ast.Name) for a in outcome_node.arguments):
            raise resolver.error("cbind(successes, failures) takes two column names", outcome_node)
        response_kind = "cbind"
    elif not isinstance(outcome_node, ast.Name):
        raise resolver.error("the outcome must be a column name, or cbind(successes, failures)", outcome_node,
                             hint="Transform the outcome in the data (a new column) rather than in the formula.")
    _check_declared_outcome(outcome_node, ordinal, nominal, family)
    if parsed.addition is not None:
        addition = parsed.addition
        if not (isinstance(addition, ast.Call) and addition.function == "trials" and len(addition.arguments) == 1):
            raise resolver.error("after '|' the outcome takes trials(n)", addition,
                                 hint="For a binomial outcome write: successes | trials(n) ~ x")
        if response_kind == "cbind":
            raise resolver.error("use either cbind(...) or | trials(...), not both", addition)
        response_kind, trials_node = "trials", addition.arguments[0]
    if family is None:
        family = "binomial" if response_kind != "value" else "gaussian"
    family = make_family(family, link)
    if response_kind != "value" and not family.kind.takes_trials:
        raise resolver.error(f"trials(...) and cbind(...) are for the binomial family, not {family.kind.name}",
                             parsed.addition or outcome_node)
    if family.kind.takes_trials and response_kind == "value":
        raise resolver.error("a binomial outcome needs its number of trials", outcome_node,
                             hint="Write successes | trials(n) ~ x, or cbind(successes, failures) ~ x; "
                                  f"for 0/1 outcomes use {spell("family='bernoulli'", "--family bernoulli")}.")

    # -- every column referenced must exist -------------------------------------------
    referenced: list[ast.Name] = []
    outcome_names = [outcome_node] if isinstance(outcome_node, ast.Name) else list(outcome_node.arguments)
    referenced += outcome_names
    if trials_node is not None:
        referenced += resolver.column_names(trials_node)
    for factor in expanded.factors.values():
        referenced += resolver.column_names(factor.node)
    for node in expanded.offsets:
        referenced += resolver.column_names(node)
    group_nodes = [node for part in expanded.random for node in part.group_nodes]
    for node in group_nodes:
        referenced += _group_node_names(node)
    for name in referenced:
        resolver.check_exists(name)
    stated = _parse_submodel_formulas(frame, predictor_models, missingness_models, resolver)
    for item in stated:
        referenced += item.referenced
    random_factor_names = []
    for node in group_nodes:
        label = ":".join(n.name for n in _group_node_names(node))
        if label not in random_factor_names:
            random_factor_names.append(label)
    center_choice = _normalize_center(center, frame, random_factor_names)
    used = list(dict.fromkeys([name.name for name in referenced] + [
        part for how in center_choice.values() if how.startswith("group:")
        for part in factor_columns(how.split(":", 1)[1])]))
    for name in center_choice:
        if name not in used:
            raise SpecificationError(f"center: '{name}' is not used in the model")
        if not is_numeric_column(frame[name]):
            raise SpecificationError(f"center: '{name}' is categorical; only numeric predictors can be centred")

    # -- missing values: unknowns of the model, or rows excluded and said --------------------
    predictor_names = {name.name for factor in expanded.factors.values() for name in resolver.column_names(factor.node)}
    for item in stated:
        predictor_names |= {name.name for name in item.referenced} - {outcome_names[0].name}
    structural = set(used) - predictor_names - {node.name for node in outcome_names[:1]}
    imputable = set()
    if missing == "model":
        for name in sorted(predictor_names - structural):
            if frame[name].isna().any():
                if any(isinstance(f.node, ast.Call) and f.node.function in _CATEGORICAL_CALLS
                       and name in {n.name for n in resolver.column_names(f.node)} for f in expanded.factors.values()):
                    raise SpecificationError(
                        f"'{name}' has {int(frame[name].isna().sum())} missing values and is made categorical with "
                        f"C(...) in the formula; declare it {spell(f"nominal=['{name}']", f'--nominal {name}')} and use it "
                        f"as a plain term instead")
                if frame[name].isna().all():
                    raise DataError(f"column '{name}' has no observed values (missing in all {len(frame)} rows): "
                                    f"it cannot be modelled or imputed; remove it from the model")
                imputable.add(name)
        if response_kind == "value":
            imputable.add(outcome_names[0].name)
        _refuse_missing_structure(frame, structural, group_nodes)
    strict = [name for name in used if name not in imputable]
    missing_counts = tuple((name, int(frame[name].isna().sum())) for name in strict if frame[name].isna().any())
    keep = ~frame[strict].isna().any(axis=1).to_numpy() if strict else np.ones(len(frame), dtype=bool)
    excluded = int((~keep).sum())
    if not keep.any():
        raise DataError("every row has a missing value in a column the model uses ("
                        + ", ".join(f"{name}: {count} missing" for name, count in missing_counts) + ")")
    kept = frame.loc[keep]
    n = len(kept)
    resolver.frame = kept
    for name in used:
        if is_numeric_column(kept[name]):
            column = kept[name].to_numpy(dtype=float)
            check_finite(name, column[~np.isnan(column)])
    incomplete = sorted(name for name in imputable - {outcome_names[0].name} if kept[name].isna().any())

    # -- grouping factors -------------------------------------------------------------------
    group_codes: dict[str, tuple[np.ndarray, int]] = {}
    group_levels: dict[str, tuple[str, ...]] = {}
    group_variables: dict[str, tuple[str, ...]] = {}
    for node in group_nodes:
        names = tuple(n.name for n in _group_node_names(node))
        label = ":".join(names)
        if label in group_codes:
            continue
        codes, levels = _group_labels(kept, names)
        if len(levels) < 2:
            raise resolver.error(f"grouping factor '{label}' has only one level ({levels[0]!r}) in the data used; "
                                 f"a random effect needs at least two groups", node)
        group_codes[label] = (codes, len(levels))
        group_levels[label] = levels
        group_variables[label] = names
    for how in center_choice.values():
        if how.startswith("group:"):
            factor = how.split(":", 1)[1]
            if factor not in group_codes:
                codes, levels = _group_labels(kept, factor_columns(factor))
                group_codes[factor] = (codes, len(levels))
                group_levels[factor] = levels
    resolver.group_codes = group_codes
    resolver.center = center_choice
    resolver.cluster_factor = random_factor_names[0] if random_factor_names else None

    # -- fixed effects ----------------------------------------------------------------------
    factor_cache: dict = {}
    fixed_columns = _columns_for_terms(resolver, expanded, expanded.terms, expanded.intercept, factor_cache)
    random_columns = [_columns_for_terms(resolver, expanded, part.terms, () in part.terms, factor_cache)
                      for part in expanded.random]
    values = resolver.numeric_values()
    _add_categorical_codes(resolver, values)
    first_codes = (group_codes[":".join(node.name for node in _group_node_names(expanded.random[0].group_nodes[0]))][0]
                   if expanded.random else None)
    level_two = _level_two_variables(incomplete, values, first_codes)
    incomplete = [name for name in incomplete if _missing_mask(values[name]).any()]  # some were known in the cluster
    latent = _latent_mean_placeholders(resolver.latent_means, values, first_codes, level_two)
    _add_categorical_codes(resolver, values)
    fixed_columns = [_with_stored_group_means(column, values, group_levels) for column in fixed_columns]
    random_columns = [[_with_stored_group_means(column, values, group_levels) for column in columns]
                      for columns in random_columns]
    incomplete_set = set(incomplete)
    dynamic_set = incomplete_set | {E.latent_key(name) for name in latent}  # columns evaluated while sampling
    dynamic_fixed = tuple(k for k, column in enumerate(fixed_columns) if column.expression.variables() & dynamic_set)
    raw_values = dict(values)
    X = _evaluate_columns(fixed_columns, values, n)
    X_observed = X.copy()
    for k in dynamic_fixed:  # placeholders for the checks: the column's observed mean where it is unknown
        finite = np.isfinite(X[:, k])
        X[~finite, k] = X[finite, k].mean() if finite.any() else 0.0
    for k, column in enumerate(fixed_columns):
        if not np.isfinite(X[:, k]).all():
            bad = int((~np.isfinite(X[:, k])).sum())
            raise DataError(f"predictor '{column.name}' is not finite in {bad} row(s) of the data used "
                            f"(for example log of 0 or a negative number); fix the data or the expression")
    names = tuple(column.name for column in fixed_columns)
    if len(set(names)) != len(names):
        duplicated = sorted({name for name in names if names.count(name) > 1})
        raise SpecificationError(f"the formula produces the column(s) {', '.join(duplicated)} twice")
    check_design(names, X, expanded.intercept)

    # -- random effects -------------------------------------------------------------------
    blocks: list[RandomBlock] = []
    Z_list, index_list = [], []
    seen_pairs = set()
    for part, columns in zip(expanded.random, random_columns):
        Z = _evaluate_columns(columns, values, n)
        for k, column in enumerate(columns):
            if column.expression.variables() & dynamic_set:
                finite = np.isfinite(Z[:, k])
                Z[~finite, k] = Z[finite, k].mean() if finite.any() else 0.0
        for node in part.group_nodes:
            label = ":".join(n.name for n in _group_node_names(node))
            for column in columns:
                if (label, column.name) in seen_pairs:
                    raise resolver.error(f"'{column.name}' varies over '{label}' twice", part.node)
                seen_pairs.add((label, column.name))
            codes, count = group_codes[label]
            if family.kind.residual_sd and count >= n and () in part.terms:
                raise resolver.error(f"grouping factor '{label}' has a level for every row ({count} levels, {n} rows); "
                                     f"its random intercept cannot be told apart from the residual", node)
            blocks.append(RandomBlock(GroupingFactor(label, group_variables[label], group_levels[label]),
                                      tuple(columns), part.correlated, "noncentered"))
            Z_list.append(Z)
            index_list.append(codes)
    for block, Z in zip(blocks, Z_list):
        for k, column in enumerate(block.columns):
            if not np.isfinite(Z[:, k]).all():
                raise DataError(f"random-effect column '{column.name}' is not finite in some rows")
            if not column.is_intercept and np.std(Z[:, k]) == 0:
                raise DataError(f"'{column.name}' is constant, so its random slope over '{block.factor.name}' "
                                f"duplicates the random intercept; remove it")

    # -- outcome values ---------------------------------------------------------------------
    for node in outcome_names:
        if not is_numeric_column(kept[node.name]):
            raise resolver.error(f"outcome '{node.name}' is not numeric", node,
                                 hint="Recode it as numbers (0/1 for a binary outcome).")
    y = kept[outcome_names[0].name].to_numpy(dtype=float)
    outcome_observed = ~np.isnan(y)
    if not outcome_observed.any():
        raise DataError(f"outcome '{outcome_names[0].name}' is missing in every row used")
    y = np.where(outcome_observed, y, 0.0)  # placeholder; missing outcomes are left out of the likelihood
    trials = None
    trials_expression = None
    if response_kind == "cbind":
        failures = kept[outcome_names[1].name].to_numpy(dtype=float)
        trials = y + failures
        trials_expression = E.Arithmetic("+", E.Variable(outcome_names[0].name), E.Variable(outcome_names[1].name))
        if (failures < 0).any():
            raise DataError(f"failures column '{outcome_names[1].name}' has negative values")
    elif response_kind == "trials":
        trials_expression = resolver.numeric(trials_node)
        trials = np.broadcast_to(np.asarray(trials_expression.evaluate(values, np), dtype=float), (n,)).copy()
    family.kind.check_outcome(outcome_names[0].name, y[outcome_observed],
                  None if trials is None else trials[outcome_observed])

    offset = None
    offset_expression = None
    for node in expanded.offsets:
        if len(node.arguments) != 1:
            raise resolver.error("offset(...) takes one argument", node)
        expression = resolver.numeric(node.arguments[0])
        offset_expression = expression if offset_expression is None else E.Arithmetic("+", offset_expression, expression)
    if offset_expression is not None:
        offset = np.broadcast_to(np.asarray(offset_expression.evaluate(values, np), dtype=float), (n,)).copy()
        if not np.isfinite(offset).all():
            raise DataError("offset(...) is not finite in some rows (log of 0?)")

    # -- scaling, parameterization, priors ---------------------------------------------------
    y_seen = y[outcome_observed]
    exposure = np.exp(offset[outcome_observed]) if offset is not None else np.ones_like(y_seen)
    location, scale = family.kind.scaling(y_seen, expanded.intercept, exposure)
    column_means, column_sds = [], []
    for k in range(X.shape[1]):  # over the rows where the column is known
        seen = X_observed[np.isfinite(X_observed[:, k]), k]
        column_means.append(float(seen.mean()) if expanded.intercept else 0.0)
        column_sds.append(float(seen.std(ddof=1)) if expanded.intercept else float(np.sqrt((seen ** 2).mean())))
    column_means, column_sds = tuple(column_means), tuple(column_sds)
    random_sds = tuple(tuple(1.0 if column.is_intercept else float(np.std(Z[:, k], ddof=1))
                             for k, column in enumerate(block.columns)) for block, Z in zip(blocks, Z_list))
    choices = _parameterization_choices(parameterization, blocks)
    blocks = [RandomBlock(block.factor, block.columns, block.correlated,
                          choices.get(position) or choices.get(block.factor.name) or choose_parameterization(
                              family, y[outcome_observed], None if trials is None else trials[outcome_observed],
                              codes[outcome_observed], len(block.factor.levels), Z[outcome_observed],
                              tuple(column.is_intercept for column in block.columns)))
              for position, (block, codes, Z) in enumerate(zip(blocks, index_list, Z_list))]
    style, overrides = prior_style(priors)
    prior_defaults = default_priors(family, expanded.intercept, names, column_sds, blocks, random_sds,
                                    location, scale if family.kind.standardized else 1.0, style)
    prior_assignments = apply_user_priors(prior_defaults, overrides, tuple(blocks))

    submodels = ()
    first_factor = blocks[0].factor if blocks else None
    first_index = index_list[0] if blocks else None
    missing_in_kept = {name: int(_missing_mask(values[name]).sum()) if name not in level_two else
                       int(_missing_mask(values[name][_first_rows(first_index)]).sum()) for name in incomplete}
    explicit = []
    for item in stated:  # resolve the stated models' terms with the same resolver (same variables)
        item_resolver = _Resolver(item.text, kept, center_choice, reference)
        item_resolver.variables, item_resolver.categorical_raw = resolver.variables, resolver.categorical_raw
        item_resolver.group_codes = group_codes
        columns = _columns_for_terms(item_resolver, item.expanded, item.expanded.terms, True, {})
        if any(E.latent_means_in(column.expression) for column in columns):
            raise SpecificationError(f"'{item.text}': latent group means in predictor or missingness models are not "
                                     f"available yet; use them in the focal model")
        explicit.append((item, [_with_stored_group_means(c, values, group_levels) for c in columns]))
    _add_categorical_codes(resolver, values)  # categoricals first met in a stated model
    raw_values = dict(values)
    outcome_name = outcome_names[0].name
    selection_uses_outcome = any(outcome_name in {v for c in columns for v in c.expression.variables()}
                                 for item, columns in explicit if item.kind == "missingness")
    # missing Gaussian outcomes are parameters (as in Blimp), so completed data sets include them
    outcome_latent = bool((~outcome_observed).any()) and (
        selection_uses_outcome or (missing == "model" and family.kind.imputes_missing_outcome))
    if outcome_latent:
        if not family.kind.imputes_missing_outcome:
            raise SpecificationError(f"a missingness model uses the outcome '{outcome_name}', whose missing values "
                                     f"must then be imputed; that needs a Gaussian outcome for now")
        raw_values[outcome_name] = kept[outcome_name].to_numpy(dtype=float)
    if incomplete or explicit or outcome_latent or latent:
        numeric_complete = sorted(name for name in predictor_names - structural - incomplete_set
                                  if name in resolver.variables and resolver.variables[name].kind == "numeric"
                                  and name not in {item.variable for item, _ in explicit if item.kind == "predictor"}
                                  and name not in latent)  # modelled (they come last among level 1)
        categorical_complete = [info for info in resolver.variables.values() if info.kind == "categorical"
                                and info.name not in incomplete_set]
        nominal_incomplete = {name: resolver.variables[name] for name in incomplete
                              if name in resolver.variables and resolver.variables[name].kind == "categorical"}
        stated_predictors = {item.variable: columns for item, columns in explicit if item.kind == "predictor"}
        modelled = incomplete + sorted(set(stated_predictors) - set(incomplete))  # stated models of complete ones too
        modelled += sorted(set(latent) - set(modelled))  # complete variables whose latent means are used
        counts = {name: missing_in_kept.get(name, 0) for name in modelled}
        ordinal_set = _check_ordinal(ordinal, frame, modelled, counts)
        submodels = build_submodels(modelled, numeric_complete, categorical_complete, raw_values,
                                    counts, first_factor, stated_predictors, style, ordinal_set,
                                    level_two=frozenset(level_two), clusters=first_index,
                                    latent=frozenset(latent), nominal=nominal_incomplete)
        _check_latent_models(submodels, ordinal_set | set(nominal_incomplete), counts)
        _check_combinations(submodels)
        for item, columns in explicit:
            if item.kind == "missingness":
                indicator = kept[item.variable].isna().to_numpy().astype(float)
                if not indicator.any():
                    raise SpecificationError(f"missingness model '{item.text}': '{item.variable}' has no missing "
                                             f"values in the rows used, so there is no missingness to model; "
                                             f"remove this model")
                raw_values[f"{item.variable}.missing"] = indicator
                submodels += (missingness_submodel(item.variable, tuple(columns), raw_values, first_factor,
                                                          style),)
    if submodels:
        check_acyclic(outcome_names[0].name, fixed_columns + [c for b in blocks for c in b.columns], submodels)
    dynamic_random = tuple(tuple(k for k, column in enumerate(block.columns)
                                 if column.expression.variables() & dynamic_set) for block in blocks)
    blocks = _marginalize_when_exact(blocks, choices, family, submodels, outcome_latent and bool(explicit))
    response = Response(outcome_names[0].name, response_kind, trials_expression, ast.source(parsed.outcome, text))
    spec = ModelSpec(
        formula=text, family=family, response=response, intercept=expanded.intercept,
        fixed=tuple(fixed_columns), random=tuple(blocks), offset=offset_expression,
        variables=tuple(resolver.variables.values()), priors=prior_assignments,
        scaling=Scaling(location, scale, column_means, column_sds, random_sds),
        centering=tuple(center_choice.items()),
        options={"missing": missing, "priors": style},
        submodels=submodels, dynamic_fixed=dynamic_fixed, dynamic_random=dynamic_random,
        outcome_latent=outcome_latent,
        group_level=_group_level_columns(X, index_list, set(dynamic_fixed) | {
            k for k, column in enumerate(fixed_columns) if E.latent_means_in(column.expression)}),
    )
    model_data = ModelData(
        y=y, trials=trials, X=X, offset=offset, group_index=tuple(index_list), Z=tuple(Z_list),
        row_labels=kept.index.to_numpy(), excluded_rows=excluded, exclusion_reasons=missing_counts,
        outcome_observed=outcome_observed, values=_needed_values(raw_values, submodels, fixed_columns, blocks,
                                                                dynamic_fixed, dynamic_random) if submodels else None,
    )
    return spec, model_data


@dataclass(frozen=True)
class _StatedModel:
    kind: str  # "predictor" | "missingness"
    variable: str  # the modelled variable (for missingness: the variable whose indicator is modelled)
    text: str
    expanded: ExpandedFormula
    referenced: tuple  # ast.Name nodes of the data columns used


def _parse_submodel_formulas(frame, predictor_models, missingness_models, focal_resolver) -> list[_StatedModel]:
    stated = []
    for kind, formulas in (("predictor", predictor_models or []), ("missingness", missingness_models or [])):
        if isinstance(formulas, str):
            formulas = [formulas]
        for text in formulas:
            parsed = as_formula(text)
            resolver = _Resolver(parsed.text, frame, {}, {})
            outcome = parsed.outcome
            if not isinstance(outcome, ast.Name) or parsed.addition is not None:
                raise FormulaSpecificationError(f"a {kind} model's outcome is one column name", parsed.text,
                                                (outcome or parsed).start, (outcome or parsed).end)
            name = outcome.name
            if kind == "missingness":
                if not name.endswith(".missing"):
                    raise resolver.error("a missingness model's outcome is written variable.missing", outcome,
                                         hint="For example: y.missing ~ y + x1")
                name = name[: -len(".missing")]
            expanded = expand_formula(parsed)
            if expanded.random or expanded.offsets:
                node = expanded.random[0].node if expanded.random else expanded.offsets[0]
                raise resolver.error(f"a {kind} model takes fixed terms only; its random intercept over the "
                                     f"clusters is added automatically", node)
            names = [ast.Name(name, start=outcome.start, end=outcome.start + len(name))]
            for factor in expanded.factors.values():
                names += resolver.column_names(factor.node)
            for node in names:
                resolver.check_exists(node)
            stated.append(_StatedModel(kind, name, parsed.text, expanded, tuple(names)))
    predicted = [item.variable for item in stated if item.kind == "predictor"]
    duplicated = sorted({name for name in predicted if predicted.count(name) > 1})
    if duplicated:
        raise SpecificationError(f"more than one predictor model for {', '.join(duplicated)}")
    return stated


def _needed_values(values: dict, submodels, fixed_columns, blocks, dynamic_fixed, dynamic_random) -> dict:
    """The raw variables (and group codes) that columns evaluated at sampling time read."""
    expressions = [fixed_columns[k].expression for k in dynamic_fixed]
    expressions += [block.columns[k].expression for block, ks in zip(blocks, dynamic_random) for k in ks]
    expressions += [column.expression for submodel in submodels for column in submodel.columns]
    names = {submodel.outcome for submodel in submodels}
    names |= {f"{submodel.indicator_of}.missing" for submodel in submodels if submodel.indicator_of}
    for expression in expressions:
        names |= expression.variables()
    keep = {name: np.asarray(values[name]) for name in names}
    for key, value in values.items():
        if key.startswith("group index:") or key.startswith("group count:"):
            keep[key] = value
    return keep


def _latent_mean_placeholders(names: set[str], values: dict, index, level_two: list[str]) -> list[str]:
    """Start values (observed cluster means) for the latent group means the formula uses; the model
    replaces them at every step. Only level-1 variables have latent group means."""
    for name in sorted(names):
        if name in level_two or (index is not None and not _varies_within(values[name], index)):
            raise SpecificationError(f"latent_mean({name}): '{name}' is constant within clusters (a level-2 "
                                     f"variable); it is its own cluster mean — use it directly")
        value = np.asarray(values[name], dtype=float)
        seen = ~np.isnan(value)
        sums = np.bincount(index[seen], weights=value[seen], minlength=index.max() + 1)
        counts = np.bincount(index[seen], minlength=index.max() + 1)
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nanmean(value))
        values[E.latent_key(name)] = means[index]
    return sorted(names)


def _group_level_columns(X: np.ndarray, index_list, skip: set) -> tuple[tuple[int, ...], ...]:
    """Per grouping factor, the fixed columns that are constant within each of its groups (group-level
    predictors such as a school's sector), leaving out ``skip`` (columns with imputed or latent values),
    columns constant overall, and factors with one row per group."""
    result = []
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


def _varies_within(value: np.ndarray, index: np.ndarray) -> bool:
    value = np.asarray(value, dtype=float)
    seen = ~np.isnan(value)
    frame = pd.DataFrame({"value": value[seen], "cluster": index[seen]})
    return bool((frame.groupby("cluster")["value"].agg(lambda v: v.max() - v.min()) > 0).any())


def _check_latent_models(submodels, ordinal_set: frozenset, counts: dict) -> None:
    """A latent mean is read off its variable's model: that model must not involve a variable whose missing
    values are summed out (its mean would change with each combination of categories)."""
    summed = {name for name in ordinal_set if counts.get(name)}
    for submodel in submodels:
        if submodel.latent_mean:
            used = {name for column in submodel.columns for name in column.expression.variables()} & summed
            if used or submodel.outcome in ordinal_set:
                raise SpecificationError(f"latent_mean({submodel.outcome}) with the incomplete discrete (ordinal or "
                                         f"nominal) {', '.join(sorted(used or {submodel.outcome}))} in its model "
                                         f"is not available yet")


def _first_rows(index: np.ndarray) -> np.ndarray:
    """The first row of each cluster (codes 0..J-1, each present)."""
    return np.unique(index, return_index=True)[1]


def _level_two_variables(incomplete: list[str], values: dict, index) -> list[str]:
    """Incomplete variables constant within every cluster (of the first grouping factor): level 2.

    Their missing values are imputed once per cluster. A missing value in a cluster where the
    variable is observed in another row is known: it is filled with that value (in our copy).
    A variable that varies within some cluster is level 1.
    """
    if index is None:
        return []
    result = []
    for name in incomplete:
        value = values[name]
        seen = ~_missing_mask(value)
        frame = pd.DataFrame({"value": value[seen], "cluster": index[seen]})
        spread = frame.groupby("cluster")["value"].agg(lambda v: v.max() - v.min())
        if not ((spread == 0).all() and (frame.groupby("cluster").size() > 1).any()):
            continue
        known = frame.groupby("cluster")["value"].first()
        filled = value.copy()
        fill = ~seen & np.isin(index, known.index.to_numpy())
        filled[fill] = known.reindex(index[fill]).to_numpy()
        values[name] = filled
        result.append(name)
    return result


def _as_list(formulas) -> list[str]:
    if formulas is None:
        return []
    return [formulas] if isinstance(formulas, str) else list(formulas)


def _names_in(node) -> list[str]:
    """Every name in a syntax tree."""
    if isinstance(node, ast.Name):
        return [node.name]
    found = []
    for value in vars(node).values() if isinstance(node, ast.Node) else ():
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, tuple):  # keyword pairs
                child = child[1]
            if isinstance(child, ast.Node):
                found += _names_in(child)
    return found


def _with_missingness_indicators(frame: pd.DataFrame, parsed: list) -> pd.DataFrame:
    """``x.missing`` used as a predictor (a pattern-mixture term; Blimp's missingness indicator) where the
    data have no such column: 1 where x is missing, else 0 (added to a copy: the caller's frame is untouched)."""
    wanted = {}
    for formula in parsed:
        outcome = formula.outcome.name if isinstance(formula.outcome, ast.Name) else None
        for name in _names_in(formula.right):
            if name.endswith(".missing") and name not in frame.columns and name[:-len(".missing")] in frame.columns:
                if outcome is not None and name[:-len(".missing")] == outcome:
                    raise SpecificationError(f"'{name}' predicts {outcome} in '{formula.text}': a variable's own "
                                             f"missingness cannot shift its missing values (the shift is not "
                                             f"identified); use it to predict other variables")
                wanted[name] = frame[name[:-len(".missing")]].isna().to_numpy().astype(float)
    if not wanted:
        return frame
    return frame.assign(**wanted)


def _refuse_missing_structure(frame: pd.DataFrame, structural: set, group_nodes) -> None:
    """With missing='model', cluster IDs, offsets and numbers of trials must be complete: they cannot be
    imputed, and a row dropped for them would be dropped silently."""
    grouping = {name.name for node in group_nodes for name in _group_node_names(node)}
    for name in sorted(structural):
        missing = frame[name].isna().to_numpy()
        if missing.any():
            rows = ", ".join(map(str, frame.index[missing][:5])) + (" ..." if missing.sum() > 5 else "")
            what = "the cluster ID" if name in grouping else "the column"
            raise DataError(f"{what} '{name}' is missing in {int(missing.sum())} row(s) (row labels {rows}); it "
                            f"cannot be imputed. Fill it in or remove those rows, or use "
                            f"{spell("missing='listwise'", "--missing listwise")} (which "
                            f"also excludes rows missing other values)")


def check_acyclic(outcome: str, focal_columns, submodels) -> None:
    """The focal model and the submodels must factor the joint density: no variable may (through a chain
    of models) predict itself. Raises naming the models on the cycle."""
    def base(name: str) -> str:
        return name[:-len(".mean")] if name.endswith(".mean") and not name.endswith(".missing") else name

    models = {outcome: ({base(v) for column in focal_columns for v in column.expression.variables()
                         if not v.startswith("group ")}, f"{outcome} (focal model)")}
    for submodel in submodels:
        node = f"{submodel.indicator_of}.missing" if submodel.family == "probit" else submodel.outcome
        predictors = {base(v) for column in submodel.columns for v in column.expression.variables()
                      if not v.startswith("group ")}
        models[node] = (predictors, f"{node} ~ {' + '.join(submodel.predictor_names) or '1'}")
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str):
        state[node] = 1
        path.append(node)
        for predictor in sorted(models.get(node, (set(), ""))[0]):
            if state.get(predictor) == 1:
                cycle = path[path.index(predictor):]
                lines = "; ".join(models[name][1] for name in cycle)
                raise SpecificationError(f"the models form a cycle ({' -> '.join(cycle + [predictor])}): {lines}. "
                                         f"A variable cannot predict itself through other models; remove one of "
                                         f"these predictors")
            if predictor in models and state.get(predictor) != 2:
                visit(predictor)
        path.pop()
        state[node] = 2

    for node in sorted(models):
        if state.get(node) != 2:
            visit(node)


def _with_nominal_columns(frame: pd.DataFrame, nominal) -> pd.DataFrame:
    """Declared nominal numeric columns become categorical (in a copy: the caller's frame is not touched)."""
    names = list(nominal or ())
    for name in names:
        if name not in frame.columns:
            raise SpecificationError(f"nominal variable '{name}' is not a column of the data{suggest(name, frame.columns)}")
    numeric = [name for name in names if is_numeric_column(frame[name])]
    if not numeric:
        return frame
    frame = frame.copy()
    for name in numeric:
        frame[name] = pd.Categorical(frame[name])
    return frame


def _missing_mask(value: np.ndarray) -> np.ndarray:
    """Missing entries of a variable's values: NaN for numbers, code -1 for categorical codes."""
    value = np.asarray(value)
    return np.isnan(value) if value.dtype.kind == "f" else value < 0


def _check_declared_outcome(outcome_node, ordinal, nominal, family) -> None:
    """A declaration on the outcome is never ignored: ordinal and nominal outcomes have no family yet."""
    names = {node.name for node in ([outcome_node] if isinstance(outcome_node, ast.Name) else [])}
    for declared, what in ((ordinal, "ordinal"), (nominal, "nominal")):
        for name in sorted(names & set(_as_list(declared))):
            option = spell(f"{what}=['{name}']", f"--{what} {name}")
            raise SpecificationError(
                f"the outcome '{name}' is declared {what} ({option}), but {what} outcomes are not available yet "
                f"(planned: brms's family='{'cumulative' if what == 'ordinal' else 'categorical'}'); the declaration "
                f"is not ignored. Drop {option} to model it as a {family or 'gaussian'} outcome")


def _check_combinations(submodels) -> None:
    combinations = 1
    for submodel in submodels:
        if submodel.family in ("ordinal", "nominal") and submodel.missing_count:
            combinations *= len(submodel.categories)
    if combinations > 64:
        raise SpecificationError(f"the incomplete discrete variables have {combinations} combinations of categories "
                                 f"to sum over in each row (at most 64); treat some of them as continuous")


def _check_ordinal(ordinal, frame: pd.DataFrame, modelled: list[str], counts: dict) -> frozenset:
    from .missing_data import MAX_CATEGORIES

    names = frozenset(ordinal or ())
    for name in sorted(names):
        if name not in frame.columns:
            raise SpecificationError(f"ordinal variable '{name}' is not a column of the data{suggest(name, frame.columns)}")
        if not is_numeric_column(frame[name]):
            raise SpecificationError(f"ordinal variable '{name}' must be numeric (its values order the categories)")
    combinations = 1
    for name in names & set(modelled):
        if counts.get(name):
            combinations *= min(MAX_CATEGORIES, frame[name].nunique())
    if combinations > 64:
        raise SpecificationError(f"the incomplete ordinal variables {', '.join(sorted(names & set(modelled)))} have "
                                 f"{combinations} combinations of categories to sum over in each row (at most 64); "
                                 f"treat some of them as continuous")
    return names


def _marginalize_when_exact(blocks: list, choices: dict, family: Family, submodels, selection: bool) -> list:
    """Integrate the random effects out of the likelihood where that is exact and cheap.

    A Gaussian model with one random-effect block and no imputed predictors has a closed-form
    marginal likelihood (per group, y_j ~ N(X_j b, Z_j T Z_j' + sigma^2 I)); the sampler then
    explores only the fixed effects and variance parameters, and the group effects are drawn
    afterwards from their exact conditional distribution. Chosen automatically; a stated
    ``parameterization="marginalized"`` that cannot apply is an error.
    """
    exact = family.kind.conjugate_normal and len(blocks) == 1 and not submodels and not selection
    stated = [block for position, block in enumerate(blocks)
              if (choices.get(position) or choices.get(block.factor.name)) == "marginalized"]
    if stated and not exact:
        raise SpecificationError("parameterization='marginalized' needs a Gaussian model with one random-effect "
                                 "term and no imputed predictors; use 'centered' or 'noncentered' here")
    if not exact:
        return blocks
    block = blocks[0]
    if choices.get(0) or choices.get(block.factor.name):
        return blocks if not stated else [RandomBlock(block.factor, block.columns, block.correlated, "marginalized")]
    return [RandomBlock(block.factor, block.columns, block.correlated, "marginalized")]


def _parameterization_choices(parameterization, blocks) -> dict:
    """Choices keyed by factor name, or by block position when given as a list (one per block)."""
    valid = ("centered", "noncentered", "marginalized")
    if parameterization in (None, "auto"):
        return {}
    if isinstance(parameterization, (list, tuple)):
        if len(parameterization) != len(blocks) or any(choice not in valid + ("auto",) for choice in parameterization):
            raise SpecificationError(f"parameterization as a list needs one of 'auto', 'centered', 'noncentered', "
                                     f"'marginalized' "
                                     f"per random-effect block ({len(blocks)})")
        return {position: choice for position, choice in enumerate(parameterization) if choice != "auto"}
    if isinstance(parameterization, str):
        if parameterization not in valid:
            raise SpecificationError(f"parameterization must be 'auto', 'centered', 'noncentered' or "
                                     f"'marginalized', got '{parameterization}'")
        return {block.factor.name: parameterization for block in blocks}
    if isinstance(parameterization, dict):
        names = {block.factor.name for block in blocks}
        for factor, choice in parameterization.items():
            if factor not in names:
                raise SpecificationError(f"parameterization: '{factor}' is not a grouping factor of this model"
                                         f"{suggest(factor, names)}")
            if choice not in valid + ("auto",):
                raise SpecificationError(f"parameterization for '{factor}' must be 'auto', 'centered', "
                                         f"'noncentered' or 'marginalized', got '{choice}'")
        return {factor: choice for factor, choice in parameterization.items() if choice != "auto"}
    raise SpecificationError("parameterization must be 'auto', 'centered', 'noncentered' or a dict per factor")
