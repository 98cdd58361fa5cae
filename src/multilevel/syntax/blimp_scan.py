"""Scanner for one Blimp statement: text → tokens with spans (offsets into the statement).

A parenthesized stretch is one GROUP token, read later by the formula front end's own
expression parser (:func:`parse_embedded_expression`), so that both front ends build the
same nodes. :func:`located` gives every node of a statement its position in the script.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, fields, replace

from ..errors import FormulaSyntaxError
from . import ast
from .blimp_source import Fragment
from .formula import parse_expression


class Kind(enum.Enum):
    NAME = "name"
    NUMBER = "number"
    GROUP = "parenthesized text"
    OPERATOR = "operator"
    END = "end of statement"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    start: int
    end: int


# Longest first, so that "<->" wins over "<" and "->" over "-".
_OPERATORS = ("<->", "->", "~~", "~", "|", "@", "*", "^", ":", "[", "]", "=", ",", "+", "-", "/")
_TYPOGRAPHIC_DASHES = "\u2013\u2014\u2212"  # en dash, em dash, minus sign
_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def scan(fragment: Fragment) -> list[Token]:
    """Blimp statement text → tokens, ending with an END token."""
    text = fragment.text
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        character = text[position]
        if character.isspace():
            position += 1
            continue
        if (number := _NUMBER.match(text, position)) is not None:
            token = _scan_number(fragment, text, position, number.end())
        elif character.isalpha() or character == "_":
            token = _scan_name(text, position)
        elif character == "(":
            token = _scan_group(fragment, text, position)
        elif character == ")":
            raise fragment.error("unmatched ')'", position)
        else:
            token = _scan_operator(fragment, text, position)
        tokens.append(token)
        position = token.end
    tokens.append(Token(Kind.END, "", len(text), len(text)))
    return tokens


def _is_name_part(character: str) -> bool:
    return character.isalnum() or character in "._"


def _scan_name(text: str, start: int) -> Token:
    position = start + 1
    while position < len(text) and _is_name_part(text[position]):
        position += 1
    return Token(Kind.NAME, text[start:position], start, position)


def _scan_number(fragment: Fragment, text: str, start: int, end: int) -> Token:
    if end < len(text) and _is_name_part(text[end]):
        bad_end = end
        while bad_end < len(text) and _is_name_part(text[bad_end]):
            bad_end += 1
        raise fragment.error(f"'{text[start:bad_end]}' is neither a number nor a name", start, bad_end,
                             hint="A variable name cannot start with a digit.")
    return Token(Kind.NUMBER, text[start:end], start, end)


def _scan_group(fragment: Fragment, text: str, start: int) -> Token:
    depth = 0
    for position in range(start, len(text)):
        if text[position] == "(":
            depth += 1
        elif text[position] == ")":
            depth -= 1
            if depth == 0:
                return Token(Kind.GROUP, text[start:position + 1], start, position + 1)
    raise fragment.error("'(' is never closed", start)


def _scan_operator(fragment: Fragment, text: str, start: int) -> Token:
    for operator in _OPERATORS:
        if text.startswith(operator, start):
            return Token(Kind.OPERATOR, operator, start, start + len(operator))
    character = text[start]
    if character in _TYPOGRAPHIC_DASHES:
        raise fragment.error(f"'{character}' is a typographic dash, not '-'", start,
                             hint="Type arrows and minus signs with the plain hyphen key: x -> y")
    raise fragment.error(f"unexpected character '{character}'", start)


# -- spans and origins of nodes ---------------------------------------------------------


def _rebuilt(node: ast.Node, change) -> ast.Node:
    """The same tree with ``change(node)`` (a dict of new start, end, origin) applied to every node."""
    children = {item.name: _rebuilt_value(getattr(node, item.name), change)
                for item in fields(node) if item.name not in ("start", "end", "origin")}
    return replace(node, **children, **change(node))


def _rebuilt_value(value, change):
    if isinstance(value, ast.Node):
        return _rebuilt(value, change)
    if isinstance(value, tuple):
        return tuple(_rebuilt_value(item, change) for item in value)
    return value


def shifted(node: ast.Node, offset: int) -> ast.Node:
    """The same node with every span moved by ``offset`` (nodes are frozen)."""
    return _rebuilt(node, lambda item: {"start": item.start + offset, "end": item.end + offset})


def located(node: ast.Node, fragment: Fragment) -> ast.Node:
    """The same node with every node's ``origin`` set: where its span (offsets into the fragment's text)
    is in the script, with line and column."""
    return _rebuilt(node, lambda item: {"origin": fragment.origin(item.start, item.end)})


def parse_embedded_expression(fragment: Fragment, start: int, end: int) -> ast.Node:
    """Parse fragment.text[start:end] with the formula front end's expression parser;
    spans and errors are moved to point into the fragment."""
    try:
        node = parse_expression(fragment.text[start:end])
    except FormulaSyntaxError as error:
        message = error.message.replace("the formula", "the expression")
        raise fragment.error(message, start + error.start, start + error.end, error.hint) from None
    return shifted(node, start)
