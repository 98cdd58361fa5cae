"""The outcome: how it is written (a column, ``successes | trials(n)``, ``cbind(successes, failures)``), its
family, and its values in the rows used (with the number of trials and the offset)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, spell
from ..syntax import ast
from . import expressions as E
from .checks import is_numeric_column
from .families import Family, make_family
from .inputs import ParsedInput, check_declared_outcome
from .resolve import formula_error


@dataclass(frozen=True)
class ResponseForm:
    """Step 2's output: the outcome's columns as written, its kind and the family that models it."""

    outcome_names: tuple[ast.Name, ...]  # the outcome (successes), and for cbind(...) the failures
    kind: str  # "value" | "trials" | "cbind"
    trials_node: ast.Node | None  # n in ``successes | trials(n)``
    family: Family

    @property
    def outcome(self) -> str:
        return self.outcome_names[0].name


def resolve_response(parsed: ParsedInput) -> ResponseForm:
    """ParsedInput → ResponseForm: read the left side of the formula and choose the family.

    Refuses an outcome that is not a column name (or ``cbind`` of two), an addition other than
    ``trials(n)``, an ordinal/nominal declaration on the outcome, and trials with a family that has none
    (or a binomial outcome without them)."""
    formula, text, options = parsed.formula, parsed.text, parsed.options
    outcome_node, trials_node, kind = formula.outcome, None, "value"
    assert outcome_node is not None  # read_inputs refuses a formula without an outcome
    if isinstance(outcome_node, ast.Call) and outcome_node.function == "cbind":
        if len(outcome_node.arguments) != 2 or not all(isinstance(a, ast.Name) for a in outcome_node.arguments):
            raise formula_error(text, "cbind(successes, failures) takes two column names", outcome_node)
        kind = "cbind"
    elif not isinstance(outcome_node, ast.Name):
        raise formula_error(text, "the outcome must be a column name, or cbind(successes, failures)", outcome_node,
                            hint="Transform the outcome in the data (a new column) rather than in the formula.")
    check_declared_outcome(outcome_node, options.ordinal, options.nominal, options.family)
    if formula.addition is not None:
        addition = formula.addition
        if not (isinstance(addition, ast.Call) and addition.function == "trials" and len(addition.arguments) == 1):
            raise formula_error(text, "after '|' the outcome takes trials(n)", addition,
                                hint="For a binomial outcome write: successes | trials(n) ~ x")
        if kind == "cbind":
            raise formula_error(text, "use either cbind(...) or | trials(...), not both", addition)
        kind, trials_node = "trials", addition.arguments[0]
    family = options.family
    if family is None:
        family = "binomial" if kind != "value" else "gaussian"
    family = make_family(family, options.link)
    if kind != "value" and not family.kind.takes_trials:
        raise formula_error(text, f"trials(...) and cbind(...) are for the binomial family, not {family.kind.name}",
                            formula.addition or outcome_node)
    if family.kind.takes_trials and kind == "value":
        raise formula_error(text, "a binomial outcome needs its number of trials", outcome_node,
                            hint="Write successes | trials(n) ~ x, or cbind(successes, failures) ~ x; "
                                 f"for 0/1 outcomes use {spell("family='bernoulli'", "--family bernoulli")}.")
    if isinstance(outcome_node, ast.Name):
        names: tuple[ast.Name, ...] = (outcome_node,)
    else:  # cbind(successes, failures): both are names (checked above)
        names = tuple(argument for argument in outcome_node.arguments if isinstance(argument, ast.Name))
    return ResponseForm(names, kind, trials_node, family)


@dataclass(frozen=True)
class OutcomeData:
    """The outcome's values in the rows used: ``y`` (0 where missing), which rows are observed, the
    number of trials (binomial) and the offset."""

    y: np.ndarray
    observed: np.ndarray  # bool per row
    trials: np.ndarray | None
    offset: np.ndarray | None

    @property
    def exposure(self) -> np.ndarray:
        """exp(offset) in the observed rows (1 without an offset)."""
        seen = self.y[self.observed]
        return np.exp(self.offset[self.observed]) if self.offset is not None else np.ones_like(seen)


def outcome_values(parsed: ParsedInput, response: ResponseForm, kept, trials_expression: E.Expression | None,
                   offset_expression: E.Expression | None, values: Mapping) -> OutcomeData:
    """(ParsedInput, ResponseForm, kept rows, the trials' and offset's expressions, variable values)
    → OutcomeData. Refuses a non-numeric outcome, one missing in every row, negative failures, and an
    offset that is not finite; the family checks the observed outcome values."""
    for node in response.outcome_names:
        if not is_numeric_column(kept[node.name]):
            raise formula_error(parsed.text, f"outcome '{node.name}' is not numeric", node,
                                hint="Recode it as numbers (0/1 for a binary outcome).")
    n = len(kept)
    y = kept[response.outcome].to_numpy(dtype=float)
    observed = ~np.isnan(y)
    if not observed.any():
        raise DataError(f"outcome '{response.outcome}' is missing in every row used")
    y = np.where(observed, y, 0.0)  # placeholder; missing outcomes are left out of the likelihood
    trials = None
    if response.kind == "cbind":
        failures_name = response.outcome_names[1].name
        failures = kept[failures_name].to_numpy(dtype=float)
        trials = y + failures
        if (failures < 0).any():
            raise DataError(f"failures column '{failures_name}' has negative values")
    elif response.kind == "trials":
        assert trials_expression is not None  # trials_expression(...) gives one for trials(n)
        trials = np.broadcast_to(np.asarray(trials_expression.evaluate(values, np), dtype=float), (n,)).copy()
    response.family.kind.check_outcome(response.outcome, y[observed], None if trials is None else trials[observed])
    offset = None
    if offset_expression is not None:
        offset = np.broadcast_to(np.asarray(offset_expression.evaluate(values, np), dtype=float), (n,)).copy()
        if not np.isfinite(offset).all():
            raise DataError("offset(...) is not finite in some rows (log of 0?)")
    return OutcomeData(y, observed, trials, offset)


def trials_expression(response: ResponseForm, resolver) -> E.Expression | None:
    """The number of trials as an expression: successes + failures for cbind(...), n for trials(n)."""
    if response.kind == "cbind":
        first, second = response.outcome_names
        return E.Arithmetic("+", E.Variable(first.name), E.Variable(second.name))
    if response.kind == "trials":
        return resolver.numeric(response.trials_node)
    return None


def offset_expression(expanded, resolver) -> E.Expression | None:
    """The sum of the formula's ``offset(...)`` terms as one expression (None without any)."""
    result = None
    for node in expanded.offsets:
        if len(node.arguments) != 1:
            raise resolver.error("offset(...) takes one argument", node)
        expression = resolver.numeric(node.arguments[0])
        result = expression if result is None else E.Arithmetic("+", result, expression)
    return result
