"""MODEL terms → the formula tree the formula front end would read (:class:`multilevel.syntax.ast.Formula`).

A Blimp term becomes the lme4 node that means the same: a product ``a*b`` the interaction ``a:b``,
a power ``x^2`` ``I(x^2)``, a latent group mean ``x.mean`` ``latent_mean(x)``, the intercept
nothing. Each node keeps the ``origin`` of the script text it came from, so that an error found
while the model is built points into the script. The tree is then laid out as text
(:class:`FormulaWriter`): every node's span is its stretch of that text, which is the formula
shown to the user and which :func:`multilevel.syntax.parse_formula` reads back into the same tree.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence

from .blimp_places import node_error
from .syntax import ast
from .syntax.blimp_script import BlimpScript


def _node(kind, *values, origin: ast.Origin | None = None, **named):
    """A node not yet laid out (its span is set by :class:`FormulaWriter`)."""
    return kind(*values, **named, start=0, end=0, origin=origin)


def lme4_term(script: BlimpScript, node: ast.Node) -> ast.Node | None:
    """The lme4 node of one Blimp predictor term (None for the intercept); it keeps the term's origin."""
    origin = node.origin
    if isinstance(node, ast.Name):
        if node.name.lower() == "intercept":
            return None
        if node.name.endswith(".mean"):  # Blimp's latent group mean of a level-1 variable
            variable = _node(ast.Name, node.name[:-len(".mean")], origin=origin)
            return _node(ast.Call, "latent_mean", (variable,), origin=origin)
        return _node(ast.Name, node.name, origin=origin)
    if isinstance(node, ast.Number) and node.value == 1:
        return None
    if isinstance(node, ast.Binary) and node.operator == "*":
        left, right = lme4_term(script, node.left), lme4_term(script, node.right)
        if left is None or right is None:
            raise node_error(script, node, "a product term needs two variables")
        return _node(ast.Binary, ":", left, right, origin=origin)
    if isinstance(node, ast.Binary) and node.operator == "^" and isinstance(node.right, ast.Number):
        base = lme4_term(script, node.left)
        if base is None:
            raise node_error(script, node, "a power needs a variable (intercept^2 is just the intercept)")
        if not math.isfinite(node.right.value):
            raise node_error(script, node.right, f"the exponent {node.right.text} is too large")
        exponent = _node(ast.Number, node.right.value, node.right.text, origin=node.right.origin)
        return _node(ast.Call, "I", (_node(ast.Binary, "^", base, exponent, origin=origin),), origin=origin)
    raise node_error(script, node, "this kind of term is not available yet in multilevel's Blimp translation",
                     hint="Supported: variables, products a*b, powers x^2, and intercept.")


def lme4_terms(script: BlimpScript, nodes: Sequence[ast.Node]) -> list[ast.Node]:
    """The lme4 nodes of a list of Blimp terms, without the intercept and without repeats."""
    terms: dict[str, ast.Node] = {}
    for node in nodes:
        term = lme4_term(script, node)
        if term is not None:
            terms.setdefault(formula_text(term), term)
    return list(terms.values())


def name(text: str, origin: ast.Origin | None) -> ast.Name:
    return _node(ast.Name, text, origin=origin)


def interaction(left: ast.Node, right: ast.Node) -> ast.Binary:
    return _node(ast.Binary, ":", left, right)


def one() -> ast.Number:
    """``1``: the intercept."""
    return _node(ast.Number, 1.0, "1")


def random_intercept_and_slopes(slopes: Sequence[ast.Node], group: ast.Node) -> ast.RandomTerm:
    """``(1 + slopes | group)``; its origin is the group's (the CLUSTERID item)."""
    return _node(ast.RandomTerm, terms_sum([one(), *slopes]), group, True, origin=group.origin)


def terms_sum(nodes: Sequence[ast.Node]) -> ast.Node:
    """``a + b + ...`` of the nodes (``1`` when there are none), added left to right as R reads it."""
    if not nodes:
        return one()
    total = nodes[0]
    for node in nodes[1:]:
        total = _node(ast.Binary, "+", total, node)
    return total


def regression(outcome: ast.Node, right: ast.Node, origin: ast.Origin | None) -> ast.Formula:
    """``outcome ~ right`` laid out as text, with every node's span in it."""
    writer = FormulaWriter()
    placed_outcome = writer.node(outcome)
    writer.write(" ~ ")
    placed_right = writer.node(right)
    return ast.Formula(placed_outcome, None, placed_right, writer.text, start=0, end=len(writer.text), origin=origin)


class FormulaWriter:
    """Writes nodes as lme4 text and gives each node the span of its text."""

    def __init__(self):
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def node(self, node: ast.Node) -> ast.Node:
        start = len(self.text)
        changes: dict = {}
        if isinstance(node, ast.Name):
            self.write(node.name)
        elif isinstance(node, ast.Number):
            self.write(node.text)
        elif isinstance(node, ast.Call):
            self.write(f"{node.function}(")
            arguments = []
            for position, argument in enumerate(node.arguments):
                self.write(", " if position else "")
                arguments.append(self.node(argument))
            self.write(")")
            changes = {"arguments": tuple(arguments)}
        elif isinstance(node, ast.Binary):
            left = self.node(node.left)
            self.write(" + " if node.operator == "+" else node.operator)
            changes = {"left": left, "right": self.node(node.right)}
        elif isinstance(node, ast.RandomTerm):
            self.write("(")
            terms = self.node(node.terms)
            self.write(" | " if node.correlated else " || ")
            changes = {"terms": terms, "group": self.node(node.group)}
            self.write(")")
        else:
            raise TypeError(f"a {type(node).__name__} node is not written by the Blimp translation")
        return dataclasses.replace(node, **changes, start=start, end=len(self.text))


def formula_text(node: ast.Node) -> str:
    """The lme4 text of a node."""
    writer = FormulaWriter()
    writer.node(node)
    return writer.text


def nodes_of(node: ast.Node) -> Iterator[ast.Node]:
    """The node and every node inside it."""
    yield node
    for item in dataclasses.fields(node):
        value = getattr(node, item.name)
        for child in (value if isinstance(value, tuple) else (value,)):
            if isinstance(child, ast.Node):
                yield from nodes_of(child)


def origin_of_span(formula: ast.Formula, start: int, end: int) -> ast.Origin | None:
    """Where in the script the formula's text [start, end) came from: the node with that very span (the
    innermost, if several) or else the smallest node around it that came from the script."""
    placed = [node for node in nodes_of(formula) if node.origin is not None]
    exact = [node for node in placed if (node.start, node.end) == (start, end)]
    if exact:
        return exact[-1].origin
    around = [node for node in placed if node.start <= start and end <= node.end]
    return min(around, key=lambda node: node.end - node.start).origin if around else None
