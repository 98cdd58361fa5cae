"""Numeric expression trees over data variables, evaluated at sampling time.

A design column is a product of *factors*, each an :class:`Expression` of variables.
Evaluation takes a mapping of variable name → array and an array namespace
(``numpy`` or ``jax.numpy``), so the same tree evaluates on the data once, on imputed
values inside the log density, and on new data for prediction. Nothing here calls
Python's ``eval``: user text becomes these nodes in :mod:`multilevel.model.build`.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, fields, replace
from typing import Any, ClassVar
import math
from collections.abc import Callable, Mapping

import numpy as np

FUNCTIONS = {
    "log": "log", "exp": "exp", "sqrt": "sqrt", "abs": "abs", "log1p": "log1p",
    "log2": "log2", "log10": "log10", "sin": "sin", "cos": "cos", "tanh": "tanh",
}


class Expression:
    # every concrete node is a frozen dataclass (the base class has no fields of its own)
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def variables(self) -> frozenset[str]:
        raise NotImplementedError

    def evaluate(self, values: Mapping[str, Any], xp=np):
        raise NotImplementedError


def rewrite(expression: Expression, function: Callable[[Expression], Expression]) -> Expression:
    """Apply ``function`` bottom-up to every node of an expression tree (nodes are frozen dataclasses)."""
    changes: dict[str, Expression | tuple[Expression, ...]] = {}
    for field in fields(expression):
        value = getattr(expression, field.name)
        if isinstance(value, Expression):
            changes[field.name] = rewrite(value, function)
        elif isinstance(value, tuple) and value and all(isinstance(item, Expression) for item in value):
            changes[field.name] = tuple(rewrite(item, function) for item in value)
    return function(replace(expression, **changes) if changes else expression)


@dataclass(frozen=True)
class Variable(Expression):
    name: str

    def variables(self):
        return frozenset({self.name})

    def evaluate(self, values, xp=np):
        return values[self.name]


@dataclass(frozen=True)
class Constant(Expression):
    value: float

    def variables(self):
        return frozenset()

    def evaluate(self, values, xp=np):
        return self.value


@dataclass(frozen=True)
class Arithmetic(Expression):
    operator: str  # + - * / ^ == != < > <= >=
    left: Expression
    right: Expression

    def variables(self):
        return self.left.variables() | self.right.variables()

    def evaluate(self, values, xp=np):
        left = self.left.evaluate(values, xp)
        right = self.right.evaluate(values, xp)
        operator = self.operator
        if operator == "+":
            return left + right
        if operator == "-":
            return left - right
        if operator == "*":
            return left * right
        if operator == "/":
            return left / right
        if operator == "^":
            return left ** right
        comparisons = {"==": xp.equal, "!=": xp.not_equal, "<": xp.less, ">": xp.greater,
                       "<=": xp.less_equal, ">=": xp.greater_equal}
        return xp.asarray(comparisons[operator](left, right), dtype=float)


@dataclass(frozen=True)
class Negate(Expression):
    operand: Expression

    def variables(self):
        return self.operand.variables()

    def evaluate(self, values, xp=np):
        return -self.operand.evaluate(values, xp)


@dataclass(frozen=True)
class Function(Expression):
    function: str
    argument: Expression

    def variables(self):
        return self.argument.variables()

    def evaluate(self, values, xp=np):
        return getattr(xp, FUNCTIONS[self.function])(self.argument.evaluate(values, xp))


@dataclass(frozen=True)
class Standardize(Expression):
    """``scale(x)``: (x − mean) / sd with mean and sd fixed from the fitting data."""

    argument: Expression
    mean: float
    sd: float

    def variables(self):
        return self.argument.variables()

    def evaluate(self, values, xp=np):
        return (self.argument.evaluate(values, xp) - self.mean) / self.sd


@dataclass(frozen=True)
class GrandMeanCentered(Expression):
    """x − mean(x), the mean taken over the fitting data and kept for new data."""

    argument: Expression
    mean: float

    def variables(self):
        return self.argument.variables()

    def evaluate(self, values, xp=np):
        return self.argument.evaluate(values, xp) - self.mean


@dataclass(frozen=True)
class LatentGroupMean(Expression):
    """The latent mean of level-1 variable ``name`` in the row's cluster of ``factor``: the cluster's
    expected value under the variable's own random-intercept model, a parameter of the model
    (Blimp's ``x.mean``). Evaluates from ``values["<name>.mean"]`` (per row), which the model fills
    at every step; outside the model (new data) it is not defined."""

    name: str
    factor: str | None  # None in a stated model's columns (no cluster factor there), which are refused

    def variables(self):
        return frozenset({self.name, latent_key(self.name)})

    def evaluate(self, values, xp=np):
        key = latent_key(self.name)
        if key not in values:
            from ..errors import SpecificationError

            raise SpecificationError(f"latent_mean({self.name}) is a parameter of the fitted model; it has no value "
                                     f"for new data")
        return values[key]


def latent_key(name: str) -> str:
    return f"{name}.mean"


def latent_means_in(expression: Expression) -> set[str]:
    """Names of the variables whose latent group means an expression uses."""
    found: set[str] = set()

    def visit(node):
        if isinstance(node, LatentGroupMean):
            found.add(node.name)
        return node

    rewrite(expression, visit)
    return found


@dataclass(frozen=True)
class GroupMeanCentered(Expression):
    """x − mean of x in the row's cluster of ``factor``.

    ``values`` must hold ``"group index:<factor>"`` (integer codes) and ``"group count:<factor>"``.
    The cluster means are recomputed from the values being evaluated (so imputed values move
    them), unless ``values["stored group means"]`` is true: then clusters seen in fitting
    (codes >= 0) use ``means`` from the fitting data, and new clusters (negative codes) the
    mean of their own rows.
    """

    argument: Expression
    factor: str
    means: tuple[float, ...] | None = None  # per level of the fitting data, in ``levels`` order
    levels: tuple[str, ...] | None = None

    def variables(self):
        return self.argument.variables()

    def evaluate(self, values, xp=np):
        value = self.argument.evaluate(values, xp)
        index = values[f"group index:{self.factor}"]
        if values.get("stored group means") and self.means is not None and xp is np:
            index = np.asarray(index)
            stored = np.asarray(self.means)[np.maximum(index, 0)]
            new = index < 0
            if new.any():
                labels, inverse = np.unique(index[new], return_inverse=True)
                sums = np.bincount(inverse, weights=value[new], minlength=len(labels))
                stored[new] = (sums / np.bincount(inverse, minlength=len(labels)))[inverse]
            return value - stored
        # inside the compiled model the count must be a static number: the fitting data's, kept in ``means``
        count = len(self.means) if self.means is not None and xp is not np else values[f"group count:{self.factor}"]
        if xp is np and np.ndim(value) > 1:  # draws x rows (completed data of several posterior draws)
            value = np.asarray(value, dtype=float)
            flat = value.reshape(-1, value.shape[-1])
            sums = np.zeros((flat.shape[0], count))
            np.add.at(sums, (slice(None), index), flat)
            sizes = np.bincount(index, minlength=count)
            return value - (sums / np.maximum(sizes, 1))[:, index].reshape(value.shape)
        if xp is np:
            sums = np.bincount(index, weights=value, minlength=count)
            sizes = np.bincount(index, minlength=count)
        else:
            import jax

            sums = jax.ops.segment_sum(value, index, num_segments=count)
            sizes = jax.ops.segment_sum(xp.ones_like(value), index, num_segments=count)
        return value - (sums / xp.maximum(sizes, 1))[index]


@dataclass(frozen=True)
class LevelIndicator(Expression):
    """1.0 where the categorical variable (integer codes) equals ``code``, else 0.0."""

    name: str
    code: int

    def variables(self):
        return frozenset({self.name})

    def evaluate(self, values, xp=np):
        return xp.asarray(values[self.name] == self.code, dtype=float)


@dataclass(frozen=True)
class Product(Expression):
    """A design column: the product of its factors (1 for the empty product)."""

    factors: tuple[Expression, ...]

    def variables(self) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for factor in self.factors:
            out |= factor.variables()
        return out

    def evaluate(self, values, xp=np):
        result = None
        for factor in self.factors:
            value = factor.evaluate(values, xp)
            result = value if result is None else result * value
        return 1.0 if result is None else result


def degree(expression: Expression, names) -> float:
    """The polynomial degree of ``expression`` in the variables ``names`` (row by row): 0 when it does not
    involve them, 1 when it is affine in them, ``inf`` when it is not a polynomial of them (a function of
    them, a ratio by them, a cluster mean, an indicator of one)."""
    names = frozenset(names)
    if not expression.variables() & names:
        return 0.0
    if isinstance(expression, Variable):
        return 1.0
    if isinstance(expression, (Negate, Standardize, GrandMeanCentered)):
        inner = expression.operand if isinstance(expression, Negate) else expression.argument
        return degree(inner, names)
    if isinstance(expression, Product):
        return sum(degree(factor, names) for factor in expression.factors)
    if isinstance(expression, Arithmetic):
        left, right = degree(expression.left, names), degree(expression.right, names)
        if expression.operator in ("+", "-"):
            return max(left, right)
        if expression.operator == "*":
            return left + right
        if expression.operator == "/" and right == 0:
            return left
        if (expression.operator == "^" and right == 0 and isinstance(expression.right, Constant)
                and float(expression.right.value).is_integer() and expression.right.value >= 0):
            return left * expression.right.value
    return math.inf


ZERO = Constant(0.0)
ONE = Constant(1.0)


def derivative(expression: Expression, name: str) -> Expression:
    """d expression / d name, for an expression affine in ``name`` (:func:`degree` at most 1): then the
    derivative does not involve ``name`` and is exact. ``ZERO`` where the expression does not involve it.
    Raises ValueError for a form that is not affine in ``name``."""
    if name not in expression.variables():
        return ZERO
    if isinstance(expression, Variable):
        return ONE
    if isinstance(expression, Negate):
        return _scaled(derivative(expression.operand, name), -1.0)
    if isinstance(expression, Standardize):
        return _scaled(derivative(expression.argument, name), 1.0 / expression.sd)
    if isinstance(expression, GrandMeanCentered):
        return derivative(expression.argument, name)
    if isinstance(expression, Product):
        return _sum([_product([factor if i != k else derivative(factor, name) for i, factor in
                               enumerate(expression.factors)]) for k in range(len(expression.factors))])
    if isinstance(expression, Arithmetic):
        left, right = expression.left, expression.right
        if expression.operator in ("+", "-"):
            d_right = derivative(right, name)
            return _sum([derivative(left, name),
                         d_right if expression.operator == "+" else _scaled(d_right, -1.0)])
        if expression.operator == "*":
            return _sum([_product([derivative(left, name), right]), _product([left, derivative(right, name)])])
        if expression.operator == "/" and name not in right.variables():
            d_left = derivative(left, name)
            return ZERO if d_left == ZERO else Arithmetic("/", d_left, right)
        if expression.operator == "^" and right in (ZERO, ONE):  # affine: at most the first power
            return ZERO if right == ZERO else derivative(left, name)
    raise ValueError(f"{expression} is not affine in {name}")


def _scaled(expression: Expression, factor: float) -> Expression:
    return _product([Constant(factor), expression])


def _product(factors: list[Expression]) -> Expression:
    if any(factor == ZERO for factor in factors):
        return ZERO
    kept = [factor for factor in factors if factor != ONE]
    constant = math.prod(factor.value for factor in kept if isinstance(factor, Constant))
    kept = [factor for factor in kept if not isinstance(factor, Constant)]
    if constant == 0.0:
        return ZERO
    if not kept:
        return Constant(float(constant))
    if constant != 1.0:
        kept = [Constant(constant)] + kept
    return kept[0] if len(kept) == 1 else Product(tuple(kept))


def _sum(terms: list[Expression]) -> Expression:
    kept = [term for term in terms if term != ZERO]
    if not kept:
        return ZERO
    total = kept[0]
    for term in kept[1:]:
        total = Arithmetic("+", total, term)
    return total
