"""Formula right-hand side → fixed terms and random-effect terms (R's expansion rules).

A term is a tuple of factor keys (the empty tuple is the intercept). ``a*b`` is
``a + b + a:b``; ``a/b`` is ``a + a:b``; ``(a + b)^2`` is every interaction up to order
two; ``-`` removes terms; ``0`` or ``-1`` removes the intercept.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..errors import FormulaSpecificationError
from ..syntax import ast

NO_INTERCEPT = "no intercept"
REMOVE_INTERCEPT = "remove intercept"


@dataclass(frozen=True)
class Factor:
    key: str  # the normalized text, e.g. "x", "I(x^2)", "C(Rx)"
    node: ast.Node


@dataclass(frozen=True)
class RandomPart:
    terms: tuple[tuple[str, ...], ...]  # with () for the intercept
    group_nodes: tuple[ast.Node, ...]  # one per factor: a/b gives a and a:b
    correlated: bool
    node: ast.RandomTerm


@dataclass(frozen=True)
class ExpandedFormula:
    intercept: bool
    terms: tuple[tuple[str, ...], ...]  # fixed terms without the intercept, R order
    factors: dict  # key -> Factor
    offsets: tuple[ast.Node, ...]
    random: tuple[RandomPart, ...]


class _Expander:
    def __init__(self, text: str):
        self.text = text
        self.factors: dict[str, Factor] = {}
        self.order: dict[str, int] = {}
        self.offsets: list[ast.Node] = []

    def error(self, message: str, node: ast.Node, hint: str | None = None):
        return FormulaSpecificationError(message, self.text, node.start, node.end, hint=hint)

    def factor(self, node: ast.Node) -> str:
        key = ast.source(node, self.text).replace(" ", "") if not isinstance(node, ast.Name) else node.name
        if key not in self.factors:
            self.factors[key] = Factor(key, node)
            self.order[key] = len(self.order)
        return key

    def merge(self, left: tuple[str, ...], right: tuple[str, ...]) -> tuple[str, ...]:
        keys = set(left) | set(right)
        return tuple(sorted(keys, key=self.order.__getitem__))

    def expand(self, node: ast.Node, *, allow_random: bool = False) -> list:
        """Returns a list of terms (tuples) and intercept markers, in order of appearance."""
        if isinstance(node, ast.Parenthesized):
            return self.expand(node.inner)
        if isinstance(node, ast.Number):
            if node.value == 1:
                return [()]
            if node.value == 0:
                return [NO_INTERCEPT]
            raise self.error(f"the number {node.text} cannot be a term", node,
                             hint="Use 1 for an intercept, 0 to remove it, or I(...) for arithmetic.")
        if isinstance(node, ast.String):
            raise self.error("a string cannot be a term", node)
        if isinstance(node, ast.RandomTerm):
            raise self.error("a random-effect term must be added to the model at the top level", node,
                             hint="Write y ~ x + (1 + x | g).")
        if isinstance(node, (ast.Name, ast.Call)):
            if isinstance(node, ast.Call) and node.function == "offset":
                self.offsets.append(node)
                return []
            return [(self.factor(node),)]
        if isinstance(node, ast.Unary):
            if node.operator == "+":
                return self.expand(node.operand)
            operand = self.expand(node.operand)
            if operand == [()]:
                return [REMOVE_INTERCEPT]
            raise self.error("a leading '-' can only remove the intercept (-1)", node)
        if isinstance(node, ast.Binary):
            return self.binary(node)
        raise self.error("this cannot be a term", node)

    def binary(self, node: ast.Binary) -> list:
        operator = node.operator
        if operator == "+":
            return _union(self.expand(node.left), self.expand(node.right))
        if operator == "-":
            return self.difference(self.expand(node.left), self.expand(node.right))
        if operator in (":", "%in%"):
            return self.interact(self.expand(node.left), self.expand(node.right), node)
        if operator == "*":
            left = self.expand(node.left)
            right = self.expand(node.right)
            return _union(_union(left, right), self.interact(left, right, node))
        if operator == "/":
            left = [term for term in self.expand(node.left) if isinstance(term, tuple)]
            right = self.expand(node.right)
            all_left = tuple(sorted({key for term in left for key in term}, key=self.order.__getitem__))
            return _union(left, self.interact([all_left], right, node))
        if operator == "^":
            return self.power(node)
        raise self.error(f"'{operator}' is not a formula operator; wrap arithmetic in I(...)", node,
                         hint=f"For example I(a {operator} b).")

    @staticmethod
    def difference(left: list, right: list) -> list:
        """``left - right`` inside a term: ``- 1`` removes the intercept, ``- 0`` adds it back."""
        result = list(left)
        for term in right:
            if term == ():
                result.append(REMOVE_INTERCEPT)
            elif term == NO_INTERCEPT:
                result.append(())
            else:
                result = [item for item in result if item != term]
        return result

    def power(self, node: ast.Binary) -> list:
        """``(a + b + c)^k``: all interactions up to order k."""
        power = node.right
        if not isinstance(power, ast.Number) or power.value < 1 or power.value != int(power.value):
            raise self.error("in a formula '^' takes a whole number: (a + b + c)^2", node.right,
                             hint="For a power of a variable write I(x^2).")
        base = [term for term in self.expand(node.left) if isinstance(term, tuple) and term]
        result = list(base)
        current = list(base)
        for _ in range(int(power.value) - 1):
            current = self.interact(current, base, node)
            result = _union(result, current)
        return result

    def interact(self, left: list, right: list, node: ast.Node) -> list:
        left_terms = [term for term in left if isinstance(term, tuple)]
        right_terms = [term for term in right if isinstance(term, tuple)]
        result = []
        for a, b in itertools.product(left_terms, right_terms):
            merged = self.merge(a, b)
            if merged not in result:
                result.append(merged)
        return result


def _union(left: list, right: list) -> list:
    result = list(left)
    for item in right:
        if item not in result or not isinstance(item, tuple):
            result.append(item)
    return result


def _summands(node: ast.Node) -> list[ast.Node]:
    """Top-level summands of the right-hand side, keeping '-' as unary minus nodes."""
    if isinstance(node, ast.Binary) and node.operator == "+":
        return _summands(node.left) + _summands(node.right)
    if isinstance(node, ast.Binary) and node.operator == "-":
        return _summands(node.left) + [ast.Unary("-", node.right, start=node.right.start, end=node.right.end)]
    return [node]


def _group_nodes(expander: _Expander, node: ast.Node) -> tuple[ast.Node, ...]:
    """``g`` → (g,); ``a/b`` → (a, a:b); ``a:b`` → (a:b,)."""
    if isinstance(node, ast.Parenthesized):
        return _group_nodes(expander, node.inner)
    if isinstance(node, ast.Binary) and node.operator == "/":
        outer = _group_nodes(expander, node.left)
        inner = _group_nodes(expander, node.right)
        last = outer[-1]
        nested = tuple(ast.Binary(":", last, item, start=last.start, end=item.end) for item in inner)
        return outer + nested
    if isinstance(node, ast.Binary) and node.operator == ":":
        return (node,)
    if isinstance(node, ast.Name):
        return (node,)
    raise expander.error("a grouping factor must be a column name, a:b or a/b", node)


def expand_formula(formula: ast.Formula) -> ExpandedFormula:
    expander = _Expander(formula.text)
    fixed_items: list = []
    random_parts: list[RandomPart] = []
    for summand in _summands(formula.right):
        if isinstance(summand, ast.RandomTerm):
            inner = expander.expand(summand.terms)
            intercept = NO_INTERCEPT not in inner and REMOVE_INTERCEPT not in inner
            terms = [term for term in inner if isinstance(term, tuple) and term != ()]
            terms = sorted(terms, key=len)
            if intercept:
                terms = [()] + terms
            if not terms:
                raise expander.error("this random-effect term has no terms left", summand)
            random_parts.append(RandomPart(tuple(terms), _group_nodes(expander, summand.group),
                                           summand.correlated, summand))
        elif isinstance(summand, ast.Unary) and summand.operator == "-" and isinstance(summand.operand, ast.RandomTerm):
            raise expander.error("a random-effect term cannot be subtracted", summand)
        else:
            fixed_items = _union(fixed_items, expander.expand(summand)) if not (
                isinstance(summand, ast.Unary) and summand.operator == "-") else _subtract(
                expander, fixed_items, summand)
    intercept = NO_INTERCEPT not in fixed_items and REMOVE_INTERCEPT not in fixed_items
    if () in fixed_items and NO_INTERCEPT in fixed_items and fixed_items.index(()) > fixed_items.index(NO_INTERCEPT):
        intercept = True
    terms = [term for term in fixed_items if isinstance(term, tuple) and term != ()]
    terms = sorted(terms, key=len)  # R orders terms by their order (stable)
    return ExpandedFormula(intercept, tuple(terms), expander.factors, tuple(expander.offsets), tuple(random_parts))


def _subtract(expander: _Expander, items: list, summand: ast.Unary) -> list:
    """A top-level ``- term``: as inside a term, but removing a term the model does not have is an error."""
    removed = expander.expand(summand.operand)
    for term in removed:
        if term not in ((), NO_INTERCEPT) and term not in items:
            raise expander.error(f"cannot remove '{':'.join(term)}': it is not in the model", summand.operand)
    return expander.difference(items, removed)
