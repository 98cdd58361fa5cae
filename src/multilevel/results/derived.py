"""Quantities derived from the posterior draws: labelled parameters and their functions (Blimp's
``@label`` and PARAMETERS), and conditional (simple) effects of a predictor at values of a moderator
(Blimp's SIMPLE), each a full posterior.

Expressions are user text: they are parsed into our syntax tree and evaluated here over arrays of
draws — never handed to Python's ``eval``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import FormulaSpecificationError, SpecificationError
from ..model import expressions as E
from ..model.checks import suggest
from ..syntax import ast
from ..syntax.formula import parse_expression
from .summaries import summarize_draws

class ConditionalEffect(NamedTuple):
    """A conditional effect asked for: ``focal`` at ``at`` values of ``moderator`` (None: mean and mean ± 1 SD)."""

    focal: str
    moderator: str
    at: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Quantities:
    """Labels (label, parameter), derived quantities (name, expression) in order, and conditional effects
    that a fit carries: shown in its reports, kept when it is saved."""

    labels: tuple[tuple[str, str], ...] = ()
    definitions: tuple[tuple[str, str], ...] = ()
    conditional: tuple[ConditionalEffect, ...] = ()

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def __bool__(self) -> bool:
        return bool(self.labels or self.definitions or self.conditional)


_OPERATORS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power, "**": np.power}


def parameter_draws(fit) -> dict[str, np.ndarray]:
    """Every reported parameter's draws (chain, draw), by the name in ``fit.summary()``."""
    return {parameter.name: parameter.draws for parameter in fit.parameters}


def evaluate_definition(text: str, environment: dict[str, np.ndarray]) -> np.ndarray:
    """Evaluate ``text`` (numbers, names from ``environment``, + - * / ^, functions such as sqrt, log,
    exp, abs) over draws."""
    node = parse_expression(text)

    def value(node: ast.Node):
        if isinstance(node, ast.Number):
            return node.value
        if isinstance(node, ast.Name):
            if node.name not in environment:
                raise FormulaSpecificationError(
                    f"'{node.name}' is not a label or parameter of this model.{suggest(node.name, environment)}",
                    text, node.start, node.end, hint=f"Known: {', '.join(list(environment)[:20])}")
            return environment[node.name]
        if isinstance(node, ast.Parenthesized):
            return value(node.inner)
        if isinstance(node, ast.Unary):
            return -value(node.operand) if node.operator == "-" else value(node.operand)
        if isinstance(node, ast.Binary) and node.operator in _OPERATORS:
            with np.errstate(all="ignore"):
                return _OPERATORS[node.operator](value(node.left), value(node.right))
        if isinstance(node, ast.Call) and node.function in E.FUNCTIONS and len(node.arguments) == 1:
            with np.errstate(all="ignore"):
                return getattr(np, E.FUNCTIONS[node.function])(value(node.arguments[0]))
        raise FormulaSpecificationError("use numbers, labels, + - * / ^ and functions such as sqrt(...) here",
                                        text, node.start, node.end)

    result = value(node)
    return np.asarray(result, dtype=float)


def derived_draws(fit, definitions: list[tuple[str, str]], labels: dict[str, str]) -> dict[str, np.ndarray]:
    """Draws (chain, draw) of each ``(name, expression)``; expressions may use labels (name → parameter),
    parameter names that are plain words, and quantities defined before them."""
    parameters = parameter_draws(fit)
    environment = {name: draws for name, draws in parameters.items() if name.isidentifier()}
    for label, parameter in labels.items():
        if parameter not in parameters:
            raise SpecificationError(f"label '{label}' names '{parameter}', which is not a parameter of this model"
                                     f"{suggest(parameter, parameters)}")
        environment[label] = parameters[parameter]
    result = {}
    shape = next(iter(parameters.values())).shape
    for name, text in definitions:
        value = np.broadcast_to(evaluate_definition(text, environment), shape).copy()
        environment[name] = result[name] = value
    return result


def _interactions(fit) -> list[tuple[str, str]]:
    """The two-way interactions among the fixed effects, as (one, other) pairs in both orders."""
    pairs = []
    for name in fit.spec.fixed_names:
        parts = name.split(":")
        if len(parts) == 2:
            pairs += [(parts[0], parts[1]), (parts[1], parts[0])]
    return pairs


def check_focal_and_moderator(fit, focal, moderator) -> None:
    """A :class:`SpecificationError` naming the unknown name, with close matches and the names that can be
    used, unless ``focal`` is a coefficient of this model and ``moderator`` a numeric variable interacting
    with it."""
    pairs = _interactions(fit)
    names = fit.spec.fixed_names
    focals = [name for name in names if any(one == name for one, _ in pairs)]
    usable = (f"Focal predictors with an interaction here: {', '.join(focals)}" if focals else
              "This model has no interaction of two predictors, so no conditional effects")
    if not isinstance(focal, str) or focal not in names:
        close = suggest(focal, names) if isinstance(focal, str) else ""
        raise SpecificationError(f"{focal!r} is not a coefficient of this model.{close} {usable}")
    moderators = [other for one, other in pairs if one == focal]
    if not moderators:
        raise SpecificationError(f"'{focal}' interacts with nothing in this model. {usable}")
    if not isinstance(moderator, str) or moderator not in moderators:
        if isinstance(moderator, str) and moderator in fit.frame.columns:
            raise SpecificationError(f"'{moderator}' does not interact with '{focal}' in this model. "
                                     f"Moderators of '{focal}': {', '.join(moderators)}")
        close = suggest(moderator, moderators) if isinstance(moderator, str) else ""
        raise SpecificationError(f"{moderator!r} is not a variable of this model.{close} "
                                 f"Moderators of '{focal}': {', '.join(moderators)}")
    if moderator not in fit.frame.columns or not pd.api.types.is_numeric_dtype(fit.frame[moderator]):
        raise SpecificationError(f"'{moderator}' is not a numeric column of the data; conditional effects are "
                                 f"given at values of a numeric moderator")


def interaction_name(fit, focal: str, moderator: str) -> str:
    for name in (f"{focal}:{moderator}", f"{moderator}:{focal}"):
        if name in fit.spec.fixed_names:
            return name
    raise SpecificationError(f"the model has no interaction of '{focal}' and '{moderator}' "
                             f"(terms: {', '.join(fit.spec.fixed_names)})")


def moderator_points(at) -> list[float] | None:
    """``at`` (None, a number or a list of numbers) as a list of floats; a SpecificationError otherwise."""
    if at is None:
        return None
    if isinstance(at, (int, float, np.number)) and not isinstance(at, bool):
        at = [at]
    if isinstance(at, (str, bytes, dict)) or not np.iterable(at):
        raise SpecificationError(f"at: give the moderator's values as a list of numbers, e.g. at=[0, 1, 2]; "
                                 f"got {at!r}")
    values = list(at)
    if not values or not all(isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
                             and np.isfinite(v) for v in values):
        raise SpecificationError(f"at: give the moderator's values as a list of finite numbers, e.g. at=[0, 1, 2]; "
                                 f"got {at!r}")
    return [float(v) for v in values]


def moderator_values(fit, moderator: str, values=None) -> list[tuple[str, float]]:
    """(label, value on the moderator's scale in the model) pairs; by default its mean and mean ± 1 SD in the
    rows used (Blimp's default), a grand-mean-centred moderator's values are given on the data's scale."""
    column = np.asarray(fit.frame.loc[fit.data.row_labels, moderator], dtype=float) if moderator in fit.frame else None
    if column is None:
        raise SpecificationError(f"'{moderator}' is not a variable of this model")
    centering = dict(fit.spec.centering).get(moderator)
    if centering not in (None, "grand"):
        raise SpecificationError(f"'{moderator}' is centred within clusters; conditional effects at its values "
                                 f"are not available for it yet")
    shift = float(np.nanmean(column)) if centering == "grand" else 0.0
    if values is None:
        mean, sd = float(np.nanmean(column)), float(np.nanstd(column, ddof=1))
        chosen = [(f"{moderator} = mean - 1 SD ({mean - sd:.4g})", mean - sd),
                  (f"{moderator} = mean ({mean:.4g})", mean),
                  (f"{moderator} = mean + 1 SD ({mean + sd:.4g})", mean + sd)]
    else:
        chosen = [(f"{moderator} = {float(value):g}", float(value)) for value in values]
    return [(label, value - shift) for label, value in chosen]


def conditional_effect_draws(fit, focal: str, moderator: str, values=None) -> dict[str, np.ndarray]:
    """The effect of ``focal`` at values of ``moderator``: b_focal + b_focal:moderator × value, per draw."""
    check_focal_and_moderator(fit, focal, moderator)
    parameters = parameter_draws(fit)
    slope, interaction = parameters[focal], parameters[interaction_name(fit, focal, moderator)]
    return {f"{focal} | {label}": slope + interaction * value
            for label, value in moderator_values(fit, moderator, values)}


def checked_quantities(fit, current: Quantities, definitions: dict[str, str] | None = None,
                       labels: dict[str, str] | None = None, conditional=None) -> Quantities:
    """``current`` with more labels, definitions and conditional effects, each checked against ``fit``
    (a SpecificationError naming the bad name or token otherwise)."""
    merged = {**current.label_map, **(labels or {})}
    pairs = list(current.definitions) + [(str(name), text) for name, text in (definitions or {}).items()]
    derived_draws(fit, pairs, merged)
    effects = list(current.conditional)
    for item in conditional or ():
        if isinstance(item, str) or len(item) not in (2, 3):
            raise SpecificationError(f"conditional: give (focal, moderator) or (focal, moderator, values) "
                                     f"items, got {item!r}")
        focal, moderator, at = (tuple(item) + (None,))[:3]
        at = moderator_points(at)
        conditional_effect_draws(fit, focal, moderator, at)  # checks focal, moderator and values
        effect = ConditionalEffect(focal, moderator, None if at is None else tuple(at))
        if effect not in effects:
            effects.append(effect)
    return Quantities(tuple(merged.items()), tuple(pairs), tuple(effects))


def derived_table(fit, quantities: Quantities) -> pd.DataFrame:
    """Summaries of every derived quantity of ``quantities``, in order."""
    return summarize_draws(derived_draws(fit, list(quantities.definitions), quantities.label_map), *fit.shape)


def derive(fit, definitions: dict[str, str], labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Summaries of ``definitions`` over the fit's draws; the fit's own labels and definitions may be used."""
    quantities = checked_quantities(fit, fit.quantities, definitions, labels)
    return derived_table(fit, quantities).loc[[str(name) for name in definitions]]


def conditional_effects(fit, focal: str, moderator: str, at=None) -> pd.DataFrame:
    """Summaries of the effect of ``focal`` at values of ``moderator`` (default its mean and mean ± 1 SD)."""
    return summarize_draws(conditional_effect_draws(fit, focal, moderator, moderator_points(at)), *fit.shape)


def johnson_neyman(fit, focal: str, moderator: str, level: float = 0.95, points: int = 400) -> pd.DataFrame:
    """Regions of ``moderator`` (over its observed range) where the ``level`` credible interval of the
    conditional effect of ``focal`` excludes zero: one row per region (from, to, effect)."""
    check_focal_and_moderator(fit, focal, moderator)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise SpecificationError(f"level must be a probability between 0 and 1 (e.g. 0.95), got {level!r}")
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
        raise SpecificationError(f"points must be a whole number of at least 2, got {points!r}")
    column = np.asarray(fit.frame.loc[fit.data.row_labels, moderator], dtype=float)
    grid = np.linspace(np.nanmin(column), np.nanmax(column), points)
    draws = conditional_effect_draws(fit, focal, moderator, grid)
    tail = (1 - level) / 2
    bounds = np.array([np.quantile(value, [tail, 1 - tail]) for value in draws.values()])
    sign = np.where(bounds[:, 0] > 0, 1, np.where(bounds[:, 1] < 0, -1, 0))
    regions, start = [], 0
    for k in range(1, points + 1):
        if k == points or sign[k] != sign[start]:
            if sign[start] != 0:
                regions.append({"from": grid[start], "to": grid[k - 1],
                                "effect": "positive" if sign[start] > 0 else "negative"})
            start = k
    return pd.DataFrame(regions, columns=["from", "to", "effect"])
