"""Readers of the statements of CENTER, SIMPLE, PARAMETERS and the plain commands.

:class:`StatementParser` is the recursive-descent base over one statement's tokens (the
model-line reader, :mod:`.blimp_model_lines`, extends it); the plain commands (names,
whole numbers, option words, ``what = file``) are checked with patterns.
"""

from __future__ import annotations

import difflib
import re

from ..errors import BlimpScriptError
from . import ast
from .blimp_commands import CENTERING_KINDS, Rule, ValueForm
from .blimp_nodes import Centering, Definition, SimpleEffect
from .blimp_scan import Kind, Token, located, parse_embedded_expression, scan
from .blimp_source import Fragment

_TERM_HINTS = {
    "+": "Blimp separates predictors with spaces, not '+': y ~ x1 x2;",
    ",": "Blimp separates predictors with spaces, not commas: y ~ x1 x2;",
    "|": "A model line has one '|', before the random effects: y ~ x1 x2 | x1;",
    "@": "'@label' follows the term it labels: y ~ x1@b1;",
}


def term_hint(token: Token) -> str | None:
    return _TERM_HINTS.get(token.text) if token.kind is Kind.OPERATOR else None


class StatementParser:
    """Recursive descent over the tokens of one statement. Node spans are offsets into the
    fragment's text."""

    def __init__(self, fragment: Fragment):
        self.fragment = fragment
        self.text = fragment.text
        self.tokens = scan(fragment)
        self.position = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.current
        if token.kind is not Kind.END:
            self.position += 1
        return token

    def at(self, *operators: str) -> bool:
        return self.current.kind is Kind.OPERATOR and self.current.text in operators

    def at_end(self) -> bool:
        return self.current.kind is Kind.END

    def error(self, message: str, token: Token | None = None, hint: str | None = None) -> BlimpScriptError:
        token = token or self.current
        return self.fragment.error(message, token.start, max(token.end, token.start + 1), hint)

    def describe(self, token: Token) -> str:
        return "the end of the statement" if token.kind is Kind.END else f"'{token.text}'"

    def expect_end(self, hint: str | None = None) -> None:
        if not self.at_end():
            raise self.error(f"unexpected {self.describe(self.current)}", hint=hint or term_hint(self.current))

    def expect_name(self, what: str, hint: str | None = None) -> Token:
        if self.current.kind is not Kind.NAME:
            raise self.error(f"expected {what} but found {self.describe(self.current)}", hint=hint)
        return self.advance()

    def name_node(self, token: Token) -> ast.Name:
        name = "intercept" if token.text.lower() == "intercept" else token.text
        return ast.Name(name, start=token.start, end=token.end)

    def number_token(self, what: str) -> Token:
        if self.current.kind is not Kind.NUMBER:
            raise self.error(f"expected {what} but found {self.describe(self.current)}")
        return self.advance()

    def number_node(self, token: Token) -> ast.Number:
        return ast.Number(float(token.text), token.text, start=token.start, end=token.end)

    def variable_range(self, first: ast.Name) -> ast.Node:
        """``attent1:attent9``: the variables from attent1 to attent9 in data-column order."""
        colon = self.advance()
        last = self.current
        if colon.start != first.end or last.kind is not Kind.NAME or last.start != colon.end:
            raise self.error("unexpected ':'", colon,
                             hint="Ranges are written without spaces (x1:x5); a model block label such as "
                                  "'focal:' starts a statement.")
        self.advance()
        return ast.Binary(":", first, self.name_node(last), start=first.start, end=last.end)

    # -- SIMPLE and CENTER -----------------------------------------------------------------
    def simple_effect(self) -> SimpleEffect:
        """Blimp ``SIMPLE: focal | moderator;``, optionally ``= value value ...``."""
        focal = self.expect_name("the focal predictor", hint="Write it as: SIMPLE: x1 | x2;")
        if not self.at("|"):
            raise self.error(f"expected '|' after the focal predictor but found {self.describe(self.current)}",
                             hint="Write it as: SIMPLE: x1 | x2;")
        self.advance()
        moderator = self.expect_name("the moderator", hint="Write it as: SIMPLE: x1 | x2;")
        values: list[float] = []
        if self.at("="):
            equals = self.advance()
            values = self.numbers()
            if not values:
                raise self.error("no moderator values after '='", equals, hint="Write it as: SIMPLE: x1 | x2 = 0 1;")
        self.expect_end(hint="Put each simple effect in its own statement ending in ';'.")
        return SimpleEffect(focal.text, moderator.text, tuple(values), self.fragment.line,
                            self.fragment.origin(focal.start, focal.end),
                            self.fragment.origin(moderator.start, moderator.end))

    def numbers(self) -> list[float]:
        values: list[float] = []
        while not self.at_end():
            if self.at(","):
                self.advance()
                continue
            sign = -1.0 if self.at("-") else 1.0
            if sign < 0:
                self.advance()
            values.append(sign * float(self.number_token("a number").text))
        return values

    def centering(self) -> Centering:
        """Blimp ``groupmean = x1 x2`` / ``cwc = ...`` (within clusters), ``grandmean = x3`` /
        ``cgm = ...``, or a bare list of names (grand mean)."""
        kind = "grandmean"
        first, second = self.current, self.tokens[self.position + 1]
        if first.kind is Kind.NAME and (second.text == "=" or first.text.lower() in CENTERING_KINDS):
            kind = self.centering_kind(first)
        nodes = self.variable_names("variables to center")
        return Centering(kind, tuple(self.text[node.start:node.end] for node in nodes), self.fragment.line,
                         tuple(self.fragment.origin(node.start, node.end) for node in nodes))

    def centering_kind(self, word: Token) -> str:
        kind = CENTERING_KINDS.get(word.text.lower())
        if kind is None:
            close = difflib.get_close_matches(word.text.lower(), list(CENTERING_KINDS), n=2, cutoff=0.6)
            suggestion = f"Did you mean {' or '.join(close)}? " if close else ""
            raise self.error(f"'{word.text}' is not a kind of centering", word,
                             hint=suggestion + "Use groupmean (or cwc) and grandmean (or cgm).")
        self.advance()
        if not self.at("="):
            raise self.error(f"expected '=' after '{word.text}' but found {self.describe(self.current)}",
                             hint=f"Write it as: CENTER: {word.text} = x1 x2;")
        self.advance()
        return kind

    def variable_names(self, what: str) -> list[ast.Node]:
        """Names or ranges (``x1:x5``), separated by spaces or commas."""
        nodes: list[ast.Node] = []
        while not self.at_end():
            if self.at(","):
                self.advance()
                continue
            token = self.expect_name("a variable name", hint="Separate centering groups with ';': "
                                                             "CENTER: groupmean = x1; grandmean = x2;")
            name = self.name_node(token)
            nodes.append(self.variable_range(name) if self.at(":") else name)
        if not nodes:
            raise self.error(f"expected {what} but found {self.describe(self.current)}")
        return nodes


# -- PARAMETERS and the plain commands ----------------------------------------------------

_DEFINITION_HEAD = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*=(?!=)")
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(\S.*)")
_NAME_OR_RANGE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(:[A-Za-z_][A-Za-z0-9_.]*)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_WHOLE_NUMBER = re.compile(r"\d+")
ITEM = re.compile(r"[^\s,;]+")


def definition(fragment: Fragment) -> Definition:
    """Blimp ``PARAMETERS: name = expression;`` (e.g. ``indirect = a*b``)."""
    text = fragment.text
    head = _DEFINITION_HEAD.match(text)
    if head is None:
        raise fragment.first_word_error("a PARAMETERS line has the form 'name = expression'",
                                        hint="Write it as: PARAMETERS: indirect = a*b;")
    expression_part = fragment.part(head.end()).trimmed()
    if not expression_part.text:
        raise fragment.error("nothing after '='", head.end() - 1, head.end(), hint="Write it as: indirect = a*b;")
    start = expression_part.start - fragment.start
    expression = parse_embedded_expression(fragment, start, start + len(expression_part.text))
    return Definition(head.group(1), located(expression, fragment), fragment.line, text, fragment.origin())


def _check_assignment(fragment: Fragment, command: str, rule: Rule) -> None:
    """Blimp ``SAVE: what = file;``: each statement names one output."""
    if _ASSIGNMENT.fullmatch(fragment.text) is None:
        raise fragment.first_word_error(f"a {command} line has the form 'what = file'",
                                        hint=f"Write it as: {rule.example}")


def items_with_spans(fragment: Fragment) -> list[re.Match]:
    return list(ITEM.finditer(fragment.text))


def _check_names(fragment: Fragment, command: str, rule: Rule) -> None:
    items = items_with_spans(fragment)
    for item in items:
        if _NAME_OR_RANGE.fullmatch(item.group()) is None:
            raise fragment.error(f"'{item.group()}' is not a variable name", item.start(), item.end(),
                                 hint=f"{command} takes variable names separated by spaces: {rule.example}")
    if rule.most_items is not None and len(items) > rule.most_items:
        extra = items[rule.most_items]
        raise fragment.error(f"{command} takes at most {rule.most_items} names", extra.start(), extra.end(),
                             hint="CLUSTERID names one cluster variable (two levels) or two (three levels).")


def _check_whole_number(fragment: Fragment, command: str, rule: Rule) -> None:
    items = items_with_spans(fragment)
    if not items:
        raise fragment.first_word_error(f"{command} needs a whole number", hint=f"Write it as: {rule.example}")
    if _WHOLE_NUMBER.fullmatch(items[0].group()) is None:
        raise fragment.error(f"{command} must be a whole number, not '{items[0].group()}'",
                             items[0].start(), items[0].end(), hint=f"Write it as: {rule.example}")
    if len(items) > 1:
        raise fragment.error(f"{command} takes a single whole number", items[1].start(), items[1].end(),
                             hint=f"Write it as: {rule.example}")


def _check_words(fragment: Fragment, command: str, rule: Rule) -> None:
    for item in items_with_spans(fragment):
        if _WORD.fullmatch(item.group()) is None:
            raise fragment.error(f"'{item.group()}' is not an option word", item.start(), item.end(),
                                 hint=f"Write it as: {rule.example}")


def _check_nothing(fragment: Fragment, command: str, rule: Rule) -> None:
    """TEXT values (DATA paths, MISSING codes, LATENT and TRANSFORM lines) are kept as written."""


# How each plain command's statements are checked before they are kept.
PLAIN_CHECKS = {
    ValueForm.TEXT: _check_nothing,
    ValueForm.NAMES: _check_names,
    ValueForm.WHOLE_NUMBER: _check_whole_number,
    ValueForm.WORDS: _check_words,
    ValueForm.ASSIGNMENTS: _check_assignment,
}
