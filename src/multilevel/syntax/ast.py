"""The abstract syntax tree shared by every front end.

Nodes are frozen and carry the character span they came from, so that any later stage
can point back into the user's text. A node built by another front end (a Blimp script) has
its span in the formula text that front end writes, and its ``origin`` in the script.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Origin:
    """Where a node came from in a front end's own text (a Blimp script): the offsets [start, end) into
    that text, and the line and column (both counted from 1) of ``start``."""

    start: int
    end: int
    line: int
    column: int


@dataclass(frozen=True)
class Node:
    start: int = field(compare=False, kw_only=True)
    end: int = field(compare=False, kw_only=True)
    origin: Origin | None = field(default=None, compare=False, kw_only=True, repr=False)


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Number(Node):
    value: float
    text: str = field(compare=False)


@dataclass(frozen=True)
class String(Node):
    value: str


@dataclass(frozen=True)
class Call(Node):
    function: str
    arguments: tuple[Node, ...]
    keywords: tuple[tuple[str, Node], ...] = ()


@dataclass(frozen=True)
class Binary(Node):
    operator: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Unary(Node):
    operator: str
    operand: Node


@dataclass(frozen=True)
class Parenthesized(Node):
    inner: Node


@dataclass(frozen=True)
class RandomTerm(Node):
    """``(terms | group)``; ``correlated`` is False for ``||``."""

    terms: Node
    group: Node
    correlated: bool


@dataclass(frozen=True)
class Formula(Node):
    """``outcome | addition ~ right``; ``outcome`` may be None for one-sided formulas."""

    outcome: Node | None
    addition: Node | None
    right: Node
    text: str = field(compare=False)

    def __str__(self) -> str:
        return self.text


def source(node: Node, text: str) -> str:
    """The user's text of a node, with runs of white space folded."""
    return " ".join(text[node.start:node.end].split())
