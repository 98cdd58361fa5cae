"""Blimp command-language front end: script text → :class:`BlimpScript`.

A Blimp script (an ``.imp`` file) is a list of statements, each ending in ``;``. A
statement that starts with ``NAME:`` (the name in any case) opens a command. Most
commands hold one statement (``SEED: 123;``); MODEL, CENTER, PARAMETERS, SIMPLE,
SAVE, LATENT and TRANSFORM also own the statements that follow them, up to the next
``NAME:``. ``#`` starts a comment that runs to the end of the line, and a statement
may span lines.

The stages follow the formula front end (scanner → parser): comments are blanked and
the text is cut into statements with their character offsets kept; each statement is
scanned into tokens with spans and read by a small recursive-descent parser into nodes
of the shared AST (:mod:`multilevel.syntax.ast`). Expressions inside parentheses and
PARAMETERS definitions go through the formula front end's own expression parser, so
both front ends build the same nodes. Every error is a :class:`BlimpScriptError` that
names the script line and puts a caret under the offending text.

Blimp model lines (``y ~ x1 x2 x1*x2 | x1;``) differ from lme4 formulas: predictors are
separated by white space, ``*`` is a product term (not main effects plus interaction),
``a:b`` is a range of variables in data-column order (not an interaction), ``@label``
names a coefficient (``@1`` or ``@0`` fixes it to that value), and ``x[cluster]`` after
``|`` is a random effect across one particular cluster level. Resolving these meanings
is left to the stage that turns a :class:`BlimpScript` into a model specification.
"""

from __future__ import annotations

import bisect
import difflib
import enum
import re
import unicodedata
from dataclasses import dataclass, field, fields, replace

from ..errors import BlimpScriptError, FormulaSyntaxError
from . import ast
from .formula import parse_expression
from .tokens import describe_character, is_odd_character

# -- the parsed script ------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One ``NAME: value;`` command (MODEL, PARAMETERS, SIMPLE and CENTER have their own structures).

    ``value`` is the text after the colon with comments removed, lines joined by a space
    and the final ``;`` dropped; a command that owns several statements (SAVE, LATENT,
    TRANSFORM) joins them with ``"; "`` and also lists them one by one in ``statements``.
    ``items`` is the value split on white space, commas and semicolons. Variable ranges
    such as ``attent1:attent9`` stay one item.
    """

    name: str
    value: str
    items: tuple[str, ...]
    line: int
    statements: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelLine:
    """One statement of the MODEL command.

    ``kind`` is ``"regression"`` (``y ~ x1 x2 | x1``), ``"arrow"`` (``x -> y1 y2``: each
    variable on the right is regressed on everything on the left; ``intercept -> y``
    gives an empty model) or ``"covariance"`` (``a ~~ b``, which Blimp echoes as
    ``a <-> b``: residual covariance; ``outcomes`` holds the left side and
    ``predictors`` the right side). ``labels`` pairs an index into ``predictors`` with
    the text after ``@``; ``outcome_labels`` does the same for the outcomes of an arrow
    line (``f -> item1@loading1``). Node spans are offsets into ``text``.
    """

    block: str | None
    kind: str
    outcomes: tuple[ast.Node, ...]
    predictors: tuple[ast.Node, ...]
    random: tuple[ast.Node, ...]
    labels: tuple[tuple[int, str], ...]
    line: int
    text: str
    outcome_labels: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Centering:
    """One CENTER statement: ``groupmean = x1 x2`` (also written ``cwc``) centres within
    clusters; ``grandmean = x3`` (also ``cgm``), or a bare list of names, at the grand mean."""

    kind: str
    variables: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Definition:
    """One PARAMETERS statement, ``name = expression``: a quantity derived from labelled
    parameters at every iteration. Spans of ``expression`` are offsets into ``text``."""

    name: str
    expression: ast.Node
    line: int
    text: str


@dataclass(frozen=True)
class SimpleEffect:
    """One SIMPLE statement, ``focal | moderator [= values]``: the conditional effect of
    ``focal`` at values of ``moderator`` (``values`` is empty when none are given)."""

    focal: str
    moderator: str
    values: tuple[float, ...]
    line: int


@dataclass(frozen=True)
class BlimpScript:
    text: str
    commands: tuple[Command, ...]
    model: tuple[ModelLine, ...]
    centering: tuple[Centering, ...]
    parameters: tuple[Definition, ...]
    simple: tuple[SimpleEffect, ...]

    def command(self, name: str) -> Command | None:
        """The command called ``name`` (any case; ``ITER`` finds ITERATIONS), or None."""
        canonical = _canonical_name(name)
        return next((command for command in self.commands if command.name == canonical), None)


def parse_script(text: str) -> BlimpScript:
    """Parse a Blimp script. Raises :class:`BlimpScriptError` pointing at the bad text."""
    if not isinstance(text, str):
        raise TypeError(f"a Blimp script must be a string, not {type(text).__name__}")
    if text.startswith("\ufeff"):
        text = text[1:]  # a UTF-8 byte-order mark (Windows Notepad) read as text
    source = _Source(text)
    _check_invisible_characters(source)
    builder = _ScriptBuilder(source)
    for statement in _split_statements(source):
        builder.add(statement)
    return builder.finish()


# -- the commands -----------------------------------------------------------------------


class _ValueForm(enum.Enum):
    """What a command's value must look like."""

    TEXT = "text"                   # kept as written: DATA, MISSING, LATENT, TRANSFORM
    NAMES = "names"                 # variable names or ranges: VARIABLES, ORDINAL, ...
    WHOLE_NUMBER = "whole number"   # SEED, BURN, ITERATIONS, ...
    WORDS = "words"                 # OPTIONS
    ASSIGNMENTS = "assignments"     # SAVE: what = file;
    MODEL = "model"
    CENTERING = "centering"
    DEFINITIONS = "definitions"
    SIMPLE_EFFECTS = "simple effects"


@dataclass(frozen=True)
class _Rule:
    form: _ValueForm
    example: str
    owns_following_statements: bool = False
    most_items: int | None = None


_RULES: dict[str, _Rule] = {
    "DATA": _Rule(_ValueForm.TEXT, "DATA: mydata.csv;"),
    "VARIABLES": _Rule(_ValueForm.NAMES, "VARIABLES: id y x1 x2;"),
    "CLUSTERID": _Rule(_ValueForm.NAMES, "CLUSTERID: school;", most_items=2),
    "ORDINAL": _Rule(_ValueForm.NAMES, "ORDINAL: x1 x2;"),
    "NOMINAL": _Rule(_ValueForm.NAMES, "NOMINAL: group;"),
    "COUNT": _Rule(_ValueForm.NAMES, "COUNT: visits;"),
    "FIXED": _Rule(_ValueForm.NAMES, "FIXED: x3;"),
    "MISSING": _Rule(_ValueForm.TEXT, "MISSING: 999;"),
    "CENTER": _Rule(_ValueForm.CENTERING, "CENTER: groupmean = x1; grandmean = x2;", True),
    "LATENT": _Rule(_ValueForm.TEXT, "LATENT: school = u0 u1;", True),
    "MODEL": _Rule(_ValueForm.MODEL, "MODEL: y ~ x1 x2 | x1;", True),
    "PARAMETERS": _Rule(_ValueForm.DEFINITIONS, "PARAMETERS: indirect = a*b;", True),
    "SIMPLE": _Rule(_ValueForm.SIMPLE_EFFECTS, "SIMPLE: x1 | x2;", True),
    "SEED": _Rule(_ValueForm.WHOLE_NUMBER, "SEED: 90291;"),
    "BURN": _Rule(_ValueForm.WHOLE_NUMBER, "BURN: 10000;"),
    "ITERATIONS": _Rule(_ValueForm.WHOLE_NUMBER, "ITERATIONS: 10000;"),
    "CHAINS": _Rule(_ValueForm.WHOLE_NUMBER, "CHAINS: 4;"),
    "NIMPS": _Rule(_ValueForm.WHOLE_NUMBER, "NIMPS: 20;"),
    "THIN": _Rule(_ValueForm.WHOLE_NUMBER, "THIN: 10;"),
    "SAVE": _Rule(_ValueForm.ASSIGNMENTS, "SAVE: stacked = imps.csv;", True),
    "OPTIONS": _Rule(_ValueForm.WORDS, "OPTIONS: labels psr;"),
    "TRANSFORM": _Rule(_ValueForm.TEXT, "TRANSFORM: x2 = x^2;", True),
}

# Blimp's own scripts (and rblimp) write ITER for ITERATIONS.
_ALIASES = {"ITER": "ITERATIONS"}

# Blimp commands this package does not read; naming them gives a clearer error than
# "not a Blimp command".
_UNSUPPORTED_COMMANDS = ("WALDTEST", "WEIGHT", "RANDOMEFFECT", "RANDOMEFFECTS", "OUTPUT", "FCS")

_CENTERING_KINDS = {"groupmean": "groupmean", "cwc": "groupmean", "grandmean": "grandmean", "cgm": "grandmean"}


def _canonical_name(word: str) -> str:
    upper = word.upper()
    return _ALIASES.get(upper, upper)


def _is_command_word(word: str) -> bool:
    return _canonical_name(word) in _RULES or word.upper() in _UNSUPPORTED_COMMANDS


def _close_command_names(word: str, cutoff: float = 0.6) -> list[str]:
    """Command names close to ``word`` (a close alias suggests the command it stands for)."""
    close = difflib.get_close_matches(word.upper(), list(_RULES) + list(_ALIASES), n=3, cutoff=cutoff)
    return list(dict.fromkeys(_canonical_name(name) for name in close))


def _unknown_command_hint(word: str) -> str:
    close = _close_command_names(word)
    if close:
        return f"Did you mean {' or '.join(close)}?"
    return "Blimp commands: " + ", ".join(_RULES) + "."


# -- source text, positions and errors --------------------------------------------------

_COMMENT = re.compile(r"#[^\n]*")
_FLATTEN_LINES = str.maketrans("\n\r\t", "   ")


class _Source:
    """The script, a copy with comments blanked (same length), and line positions."""

    def __init__(self, text: str):
        self.text = text
        self.cleaned = _COMMENT.sub(lambda match: " " * len(match.group()), text)
        self.line_starts = [0] + [index + 1 for index, character in enumerate(text) if character == "\n"]

    def line_number(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def error(self, message: str, start: int, end: int, hint: str | None = None) -> BlimpScriptError:
        """An error showing the physical line that holds ``start``, with a caret under [start, end)."""
        line_number = self.line_number(start)
        line_start = self.line_starts[line_number - 1]
        line_end = self.text.find("\n", line_start)
        if line_end < 0:
            line_end = len(self.text)
        # tabs become single spaces so that the caret lines up with the text
        line_text = self.text[line_start:line_end].rstrip("\r").replace("\t", " ")
        column = start - line_start
        end_column = max(column + 1, min(end, line_end) - line_start)
        return BlimpScriptError(message, line_text, column, end_column, line_number=line_number, hint=hint)


@dataclass(frozen=True)
class _Fragment:
    """A stretch [start, end) of the script; its ``text`` is one line (line breaks and
    tabs become spaces, comments are blank), so offsets into it are offsets into the script."""

    source: _Source
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.source.cleaned[self.start:self.end].translate(_FLATTEN_LINES)

    @property
    def line(self) -> int:
        return self.source.line_number(self.start)

    def joined(self) -> str:
        """The text with each line stripped and the lines joined by one space."""
        lines = self.source.cleaned[self.start:self.end].split("\n")
        return " ".join(line.strip() for line in lines if line.strip())

    def trimmed(self) -> _Fragment:
        cleaned = self.source.cleaned
        start, end = self.start, self.end
        while start < end and cleaned[start].isspace():
            start += 1
        while end > start and cleaned[end - 1].isspace():
            end -= 1
        return _Fragment(self.source, start, end)

    def part(self, start: int, end: int | None = None) -> _Fragment:
        """The fragment from relative offset ``start`` to ``end`` (default: the end)."""
        return _Fragment(self.source, self.start + start, self.start + (len(self.text) if end is None else end))

    def error(self, message: str, start: int, end: int | None = None, hint: str | None = None) -> BlimpScriptError:
        end = start + 1 if end is None else end
        return self.source.error(message, self.start + start, self.start + end, hint)

    def first_word_error(self, message: str, hint: str | None = None) -> BlimpScriptError:
        word = re.search(r"\S+", self.text)
        start, end = (word.start(), word.end()) if word else (0, 1)
        return self.error(message, start, end, hint)


# -- invisible and odd characters -------------------------------------------------------

def _check_invisible_characters(source: _Source) -> None:
    """An invisible or odd character outside comments (copied from a web page or a word processor) is
    an error naming it, rather than a puzzling message about the text around it."""
    for offset, character in enumerate(source.cleaned):
        if is_odd_character(character):
            shown = "a non-breaking space" if character == "\u00a0" else (
                "a space character other than the plain space" if unicodedata.category(character) == "Zs" else
                "an invisible character")
            raise source.error(f"the script holds {shown}, {describe_character(character)}, here", offset,
                               offset + 1, hint="Delete it and, where a space belongs, type a plain space; such "
                                                "characters come from copying text from a web page or a word "
                                                "processor.")


# -- statements -------------------------------------------------------------------------

_LINE_START_COMMAND = re.compile(r"[ \t\r]*([A-Za-z_][A-Za-z0-9_.]*)[ \t]*:")


def _split_statements(source: _Source) -> list[_Fragment]:
    """Cut the script at each ';' (outside comments). Text after the last ';' is an error."""
    statements = []
    start = 0
    for match in re.finditer(";", source.cleaned):
        statement = _Fragment(source, start, match.start())
        _check_no_command_inside(statement)
        statements.append(statement)
        start = match.end()
    rest = _Fragment(source, start, len(source.cleaned))
    _check_no_command_inside(rest)
    rest = rest.trimmed()
    if rest.text:
        raise source.error("the last statement does not end with ';'", rest.end, rest.end + 1,
                           hint="Every Blimp statement ends with a semicolon, e.g. ITERATIONS: 10000;")
    return statements


def _check_no_command_inside(statement: _Fragment) -> None:
    """A line inside a statement that starts with a command word means a ';' is missing before it."""
    cleaned = statement.source.cleaned
    content = statement.trimmed()
    line_break = cleaned.find("\n", content.start, content.end)
    while line_break >= 0:
        match = _LINE_START_COMMAND.match(cleaned, line_break + 1, content.end)
        if match and _is_command_word(match.group(1)):
            before = _Fragment(statement.source, content.start, line_break).trimmed()
            raise statement.source.error(
                f"this statement does not end with ';' before {match.group(1).upper()} on the next line",
                before.end, before.end + 1,
                hint=f"End the statement with ';'. (If '{match.group(1)}' is meant as a model block label, "
                     "choose a name that is not a Blimp command.)")
        line_break = cleaned.find("\n", line_break + 1, content.end)


@dataclass(frozen=True)
class _Head:
    """``NAME:`` at the start of a statement; offsets are relative to the statement."""

    word: str
    start: int
    end: int
    content_start: int


_HEAD = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*:")


def _read_head(statement: _Fragment) -> _Head | None:
    """The statement's ``NAME:``, if it has one.

    A known command word always counts. Another word counts only when white space or
    the end of the statement follows the colon, so that a variable range such as
    ``x1:x5`` at the start of a statement is not taken for a command.
    """
    text = statement.text
    match = _HEAD.match(text)
    if match is None:
        return None
    word = match.group(1)
    followed_by_space = match.end() == len(text) or text[match.end()].isspace()
    if not (_is_command_word(word) or followed_by_space):
        return None
    return _Head(word, match.start(1), match.end(1), match.end())


# -- tokens -----------------------------------------------------------------------------


class _Kind(enum.Enum):
    NAME = "name"
    NUMBER = "number"
    GROUP = "parenthesized text"
    OPERATOR = "operator"
    END = "end of statement"


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    text: str
    start: int
    end: int


# Longest first, so that "<->" wins over "<" and "->" over "-".
_OPERATORS = ("<->", "->", "~~", "~", "|", "@", "*", "^", ":", "[", "]", "=", ",", "+", "-", "/")
_MODEL_OPERATORS = ("~", "->", "~~", "<->")
_TYPOGRAPHIC_DASHES = "\u2013\u2014\u2212"  # en dash, em dash, minus sign


def _scan(fragment: _Fragment) -> list[_Token]:
    """Blimp statement text → tokens. A parenthesized stretch is one GROUP token, read
    later by the formula front end's expression parser."""
    text = fragment.text
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        character = text[position]
        if character.isspace():
            position += 1
            continue
        if _NUMBER.match(text, position):
            token = _scan_number(fragment, text, position)
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
    tokens.append(_Token(_Kind.END, "", len(text), len(text)))
    return tokens


def _is_name_part(character: str) -> bool:
    return character.isalnum() or character in "._"


def _scan_name(text: str, start: int) -> _Token:
    position = start + 1
    while position < len(text) and _is_name_part(text[position]):
        position += 1
    return _Token(_Kind.NAME, text[start:position], start, position)


_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _scan_number(fragment: _Fragment, text: str, start: int) -> _Token:
    end = _NUMBER.match(text, start).end()
    if end < len(text) and _is_name_part(text[end]):
        bad_end = end
        while bad_end < len(text) and _is_name_part(text[bad_end]):
            bad_end += 1
        raise fragment.error(f"'{text[start:bad_end]}' is neither a number nor a name", start, bad_end,
                             hint="A variable name cannot start with a digit.")
    return _Token(_Kind.NUMBER, text[start:end], start, end)


def _scan_group(fragment: _Fragment, text: str, start: int) -> _Token:
    depth = 0
    for position in range(start, len(text)):
        if text[position] == "(":
            depth += 1
        elif text[position] == ")":
            depth -= 1
            if depth == 0:
                return _Token(_Kind.GROUP, text[start:position + 1], start, position + 1)
    raise fragment.error("'(' is never closed", start)


def _scan_operator(fragment: _Fragment, text: str, start: int) -> _Token:
    for operator in _OPERATORS:
        if text.startswith(operator, start):
            return _Token(_Kind.OPERATOR, operator, start, start + len(operator))
    character = text[start]
    if character in _TYPOGRAPHIC_DASHES:
        raise fragment.error(f"'{character}' is a typographic dash, not '-'", start,
                             hint="Type arrows and minus signs with the plain hyphen key: x -> y")
    raise fragment.error(f"unexpected character '{character}'", start)


# -- spans of nodes from the expression parser ------------------------------------------


def _shift(node: ast.Node, offset: int) -> ast.Node:
    """The same node with every span moved by ``offset`` (nodes are frozen)."""
    changes = {item.name: _shift_value(getattr(node, item.name), offset)
               for item in fields(node) if item.name not in ("start", "end")}
    return replace(node, start=node.start + offset, end=node.end + offset, **changes)


def _shift_value(value, offset: int):
    if isinstance(value, ast.Node):
        return _shift(value, offset)
    if isinstance(value, tuple):
        return tuple(_shift_value(item, offset) for item in value)
    return value


def _parse_embedded_expression(fragment: _Fragment, start: int, end: int) -> ast.Node:
    """Parse fragment.text[start:end] with the formula front end's expression parser;
    spans and errors are moved to point into the fragment."""
    try:
        node = parse_expression(fragment.text[start:end])
    except FormulaSyntaxError as error:
        message = error.message.replace("the formula", "the expression")
        raise fragment.error(message, start + error.start, start + error.end, error.hint) from None
    return _shift(node, start)


# -- the statement parser ---------------------------------------------------------------

_TERM_HINTS = {
    "+": "Blimp separates predictors with spaces, not '+': y ~ x1 x2;",
    ",": "Blimp separates predictors with spaces, not commas: y ~ x1 x2;",
    "|": "A model line has one '|', before the random effects: y ~ x1 x2 | x1;",
    "@": "'@label' follows the term it labels: y ~ x1@b1;",
}


def _term_hint(token: _Token) -> str | None:
    return _TERM_HINTS.get(token.text) if token.kind is _Kind.OPERATOR else None


@dataclass(frozen=True)
class _ModelParts:
    """What one model-line form reads; :meth:`_StatementParser.model_line` adds block, line and text."""

    kind: str
    outcomes: tuple[ast.Node, ...]
    predictors: tuple[ast.Node, ...]
    random: tuple[ast.Node, ...] = ()
    labels: tuple[tuple[int, str], ...] = ()
    outcome_labels: tuple[tuple[int, str], ...] = ()


class _StatementParser:
    """Recursive descent over the tokens of one statement (a model line, a SIMPLE or a
    CENTER statement). Node spans are offsets into the fragment's text."""

    def __init__(self, fragment: _Fragment):
        self.fragment = fragment
        self.text = fragment.text
        self.tokens = _scan(fragment)
        self.position = 0

    # -- helpers -------------------------------------------------------------------------
    @property
    def current(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.current
        if token.kind is not _Kind.END:
            self.position += 1
        return token

    def at(self, *operators: str) -> bool:
        return self.current.kind is _Kind.OPERATOR and self.current.text in operators

    def at_end(self) -> bool:
        return self.current.kind is _Kind.END

    def error(self, message: str, token: _Token | None = None, hint: str | None = None) -> BlimpScriptError:
        token = token or self.current
        return self.fragment.error(message, token.start, max(token.end, token.start + 1), hint)

    def describe(self, token: _Token) -> str:
        return "the end of the statement" if token.kind is _Kind.END else f"'{token.text}'"

    def expect_end(self, hint: str | None = None) -> None:
        if not self.at_end():
            raise self.error(f"unexpected {self.describe(self.current)}", hint=hint or _term_hint(self.current))

    def expect_name(self, what: str, hint: str | None = None) -> _Token:
        if self.current.kind is not _Kind.NAME:
            raise self.error(f"expected {what} but found {self.describe(self.current)}", hint=hint)
        return self.advance()

    # -- model lines -----------------------------------------------------------------------
    def model_line(self, block: str | None) -> ModelLine:
        """``outcomes ~ predictors [| random]``, ``predictors -> outcomes`` or ``a ~~ b``."""
        operators = [token for token in self.tokens
                     if token.kind is _Kind.OPERATOR and token.text in _MODEL_OPERATORS]
        if not operators:
            raise self.fragment.error("a model line needs '~' (regression) or '->' (arrow)", 0, len(self.text),
                                      hint="Write a regression as 'y ~ x1 x2;' and an empty model as "
                                           "'intercept -> y1 y2;'.")
        if len(operators) > 1:
            raise self.error(f"a second '{operators[1].text}' in one model line", operators[1],
                             hint="End each model line with ';'.")
        read = {"~": self.regression, "->": self.arrow, "~~": self.covariance, "<->": self.covariance}
        parts = read[operators[0].text]()
        return ModelLine(block, parts.kind, parts.outcomes, parts.predictors, parts.random, parts.labels,
                         self.fragment.line, self.text, parts.outcome_labels)

    def regression(self) -> _ModelParts:
        """Blimp ``y ~ x1 x2 x1*x2 | x1``: outcomes, white-space-separated predictors with
        optional ``@label``, and the random slopes after ``|``."""
        outcomes, _ = self.term_list(stop=("~",), outcome=True)
        tilde = self.current
        if not outcomes:
            raise self.error("no outcome before '~'", tilde, hint="Write it as: y ~ x1 x2;")
        self.advance()
        predictors, labels = self.term_list(stop=("|",), labels_allowed=True)
        if not predictors:
            raise self.error("no predictors after '~'", tilde if self.at_end() else self.current,
                             hint="For a model with only an intercept write 'y ~ intercept;' "
                                  "(or 'intercept -> y;').")
        random: tuple[ast.Node, ...] = ()
        if self.at("|"):
            bar = self.advance()
            random, _ = self.term_list(stop=(), clusters_allowed=True)
            if not random:
                raise self.error("no random effects after '|'", bar,
                                 hint="List the predictors whose slopes vary across clusters: y ~ x | x;")
        return _ModelParts("regression", outcomes, predictors, random, labels)

    def arrow(self) -> _ModelParts:
        """Blimp ``x1 x2 -> y1 y2``: every variable on the right is regressed on the left side;
        ``intercept -> y1 y2`` gives each an empty (intercept-only) model."""
        predictors, labels = self.term_list(stop=("->",), labels_allowed=True)
        arrow = self.current
        if not predictors:
            raise self.error("nothing before '->'", arrow, hint="Write it as: x -> y1 y2; or intercept -> y1 y2;")
        self.advance()
        outcomes, outcome_labels = self.term_list(stop=(), labels_allowed=True, outcome=True)
        if not outcomes:
            raise self.error("no outcomes after '->'", arrow, hint="Write it as: x -> y1 y2;")
        return _ModelParts("arrow", outcomes, predictors, labels=labels, outcome_labels=outcome_labels)

    def covariance(self) -> _ModelParts:
        """Blimp ``a ~~ b`` (Blimp's output lists it as ``a <-> b``): the residuals of a and b covary."""
        left, _ = self.term_list(stop=("~~", "<->"), outcome=True)
        operator = self.current
        if not left:
            raise self.error(f"no variable before '{operator.text}'", operator, hint="Write it as: y1 ~~ y2;")
        self.advance()
        right, _ = self.term_list(stop=(), outcome=True)
        if not right:
            raise self.error(f"no variable after '{operator.text}'", operator, hint="Write it as: y1 ~~ y2;")
        return _ModelParts("covariance", left, right)

    def term_list(self, stop: tuple[str, ...], *, labels_allowed: bool = False, clusters_allowed: bool = False,
                  outcome: bool = False) -> tuple[tuple[ast.Node, ...], tuple[tuple[int, str], ...]]:
        """White-space-separated terms up to an operator in ``stop`` or the end."""
        terms: list[ast.Node] = []
        labels: list[tuple[int, str]] = []
        while not (self.at_end() or self.at(*stop)):
            term = self.term(clusters_allowed)
            if outcome:
                self.check_outcome(term)
            if self.at("@"):
                labels.append((len(terms), self.label(labels_allowed)))
            terms.append(term)
        return tuple(terms), tuple(labels)

    def term(self, clusters_allowed: bool) -> ast.Node:
        """A product ``a*b*c`` of powers; after '|' it may end in ``[cluster]``."""
        node = self.power()
        while self.at("*"):
            self.advance()
            right = self.power()
            node = ast.Binary("*", node, right, start=node.start, end=right.end)
        if self.at("["):
            if not clusters_allowed:
                raise self.error("'[cluster]' belongs to a random effect, after '|'",
                                 hint="Write it as: y ~ x | x[school];")
            node = self.cluster(node)
        return node

    def power(self) -> ast.Node:
        """``visit^2``: a primary raised to a number, a name or a parenthesized expression."""
        base = self.primary()
        if not self.at("^"):
            return base
        caret = self.advance()
        if self.at("-"):
            minus = self.advance()
            number = self.number_token("an exponent")
            exponent: ast.Node = ast.Unary("-", self.number_node(number), start=minus.start, end=number.end)
        elif self.current.kind in (_Kind.NUMBER, _Kind.NAME, _Kind.GROUP):
            exponent = self.primary()
        else:
            raise self.error(f"expected an exponent after '{caret.text}' but found {self.describe(self.current)}")
        return ast.Binary("^", base, exponent, start=base.start, end=exponent.end)

    def primary(self) -> ast.Node:
        """A name (``x.mean``; ``intercept`` in any case), a call ``log(x)``, a range
        ``x1:x5``, a number, or a parenthesized expression."""
        token = self.current
        if token.kind is _Kind.NAME:
            self.advance()
            if self.current.kind is _Kind.GROUP and self.current.start == token.end:
                group = self.advance()
                return _parse_embedded_expression(self.fragment, token.start, group.end)
            node = self.name_node(token)
            if self.at(":"):
                return self.variable_range(node)
            return node
        if token.kind is _Kind.NUMBER:
            return self.number_node(self.advance())
        if token.kind is _Kind.GROUP:
            self.advance()
            return _parse_embedded_expression(self.fragment, token.start, token.end)
        raise self.error(f"unexpected {self.describe(token)}: a term is missing here", hint=_term_hint(token))

    def variable_range(self, first: ast.Name) -> ast.Node:
        """``attent1:attent9``: the variables from attent1 to attent9 in data-column order."""
        colon = self.advance()
        last = self.current
        if colon.start != first.end or last.kind is not _Kind.NAME or last.start != colon.end:
            raise self.error("unexpected ':'", colon,
                             hint="Ranges are written without spaces (x1:x5); a model block label such as "
                                  "'focal:' starts a statement.")
        self.advance()
        return ast.Binary(":", first, self.name_node(last), start=first.start, end=last.end)

    def cluster(self, term: ast.Node) -> ast.RandomTerm:
        """``x[school]``: the random effect of x across the clusters of ``school``."""
        opening = self.advance()
        group = self.expect_name(f"a cluster variable after '{opening.text}'")
        if not self.at("]"):
            raise self.error(f"expected ']' but found {self.describe(self.current)}")
        closing = self.advance()
        return ast.RandomTerm(term, self.name_node(group), True, start=term.start, end=closing.end)

    def label(self, allowed: bool) -> str:
        """``@b1`` names a coefficient; ``@1`` (a number) fixes it to that value."""
        at = self.advance()
        if not allowed:
            raise self.error("a label '@...' is not allowed here", at,
                             hint="Labels name coefficients: y ~ x1@b1 x2@b2;")
        sign = "-" if self.at("-") else ""
        if sign:
            self.advance()
        token = self.current
        if token.kind not in (_Kind.NAME, _Kind.NUMBER) or (sign and token.kind is not _Kind.NUMBER):
            raise self.error(f"expected a label after '@' but found {self.describe(token)}")
        self.advance()
        return sign + token.text

    def check_outcome(self, term: ast.Node) -> None:
        """Outcomes are variables: names, ranges, or transformations such as ``var(y)``."""
        is_variable = isinstance(term, (ast.Name, ast.Call)) or (
            isinstance(term, ast.Binary) and term.operator == ":")
        if isinstance(term, ast.Name) and term.name == "intercept":
            raise self.fragment.error("'intercept' cannot be an outcome", term.start, term.end)
        if not is_variable:
            raise self.fragment.error("an outcome must be a variable name", term.start, term.end)

    def name_node(self, token: _Token) -> ast.Name:
        name = "intercept" if token.text.lower() == "intercept" else token.text
        return ast.Name(name, start=token.start, end=token.end)

    def number_token(self, what: str) -> _Token:
        if self.current.kind is not _Kind.NUMBER:
            raise self.error(f"expected {what} but found {self.describe(self.current)}")
        return self.advance()

    def number_node(self, token: _Token) -> ast.Number:
        return ast.Number(float(token.text), token.text, start=token.start, end=token.end)

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
        return SimpleEffect(focal.text, moderator.text, tuple(values), self.fragment.line)

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
        if first.kind is _Kind.NAME and (second.text == "=" or first.text.lower() in _CENTERING_KINDS):
            kind = self.centering_kind(first)
        variables = self.variable_names("variables to center")
        return Centering(kind, variables, self.fragment.line)

    def centering_kind(self, word: _Token) -> str:
        kind = _CENTERING_KINDS.get(word.text.lower())
        if kind is None:
            close = difflib.get_close_matches(word.text.lower(), list(_CENTERING_KINDS), n=2, cutoff=0.6)
            suggestion = f"Did you mean {' or '.join(close)}? " if close else ""
            raise self.error(f"'{word.text}' is not a kind of centering", word,
                             hint=suggestion + "Use groupmean (or cwc) and grandmean (or cgm).")
        self.advance()
        if not self.at("="):
            raise self.error(f"expected '=' after '{word.text}' but found {self.describe(self.current)}",
                             hint=f"Write it as: CENTER: {word.text} = x1 x2;")
        self.advance()
        return kind

    def variable_names(self, what: str) -> tuple[str, ...]:
        """Names or ranges (``x1:x5``), separated by spaces or commas."""
        names: list[str] = []
        while not self.at_end():
            if self.at(","):
                self.advance()
                continue
            token = self.expect_name("a variable name", hint="Separate centering groups with ';': "
                                                             "CENTER: groupmean = x1; grandmean = x2;")
            node = self.name_node(token)
            if self.at(":"):
                node = self.variable_range(node)
            names.append(self.text[node.start:node.end])
        if not names:
            raise self.error(f"expected {what} but found {self.describe(self.current)}")
        return tuple(names)


# -- PARAMETERS and SAVE statements -----------------------------------------------------

_DEFINITION_HEAD = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*=(?!=)")
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(\S.*)")
_NAME_OR_RANGE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(:[A-Za-z_][A-Za-z0-9_.]*)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_WHOLE_NUMBER = re.compile(r"\d+")
_ITEM = re.compile(r"[^\s,;]+")


def _definition(fragment: _Fragment) -> Definition:
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
    expression = _parse_embedded_expression(fragment, start, start + len(expression_part.text))
    return Definition(head.group(1), expression, fragment.line, text)


def _check_assignment(fragment: _Fragment, command: str, rule: _Rule) -> None:
    """Blimp ``SAVE: what = file;``: each statement names one output."""
    if _ASSIGNMENT.fullmatch(fragment.text) is None:
        raise fragment.first_word_error(f"a {command} line has the form 'what = file'",
                                        hint=f"Write it as: {rule.example}")


def _items_with_spans(fragment: _Fragment) -> list[re.Match]:
    return list(_ITEM.finditer(fragment.text))


def _check_names(fragment: _Fragment, command: str, rule: _Rule) -> None:
    items = _items_with_spans(fragment)
    for item in items:
        if _NAME_OR_RANGE.fullmatch(item.group()) is None:
            raise fragment.error(f"'{item.group()}' is not a variable name", item.start(), item.end(),
                                 hint=f"{command} takes variable names separated by spaces: {rule.example}")
    if rule.most_items is not None and len(items) > rule.most_items:
        extra = items[rule.most_items]
        raise fragment.error(f"{command} takes at most {rule.most_items} names", extra.start(), extra.end(),
                             hint="CLUSTERID names one cluster variable (two levels) or two (three levels).")


def _check_whole_number(fragment: _Fragment, command: str, rule: _Rule) -> None:
    items = _items_with_spans(fragment)
    if not items:
        raise fragment.first_word_error(f"{command} needs a whole number", hint=f"Write it as: {rule.example}")
    if _WHOLE_NUMBER.fullmatch(items[0].group()) is None:
        raise fragment.error(f"{command} must be a whole number, not '{items[0].group()}'",
                             items[0].start(), items[0].end(), hint=f"Write it as: {rule.example}")
    if len(items) > 1:
        raise fragment.error(f"{command} takes a single whole number", items[1].start(), items[1].end(),
                             hint=f"Write it as: {rule.example}")


def _check_words(fragment: _Fragment, command: str, rule: _Rule) -> None:
    for item in _items_with_spans(fragment):
        if _WORD.fullmatch(item.group()) is None:
            raise fragment.error(f"'{item.group()}' is not an option word", item.start(), item.end(),
                                 hint=f"Write it as: {rule.example}")


# -- assembling the script --------------------------------------------------------------


@dataclass
class _OpenCommand:
    """A plain command whose statements are still being collected."""

    name: str
    rule: _Rule
    line: int
    statements: list[str] = field(default_factory=list)

    def close(self) -> Command:
        value = "; ".join(self.statements)
        items = tuple(_ITEM.findall(value))
        return Command(self.name, value, items, self.line, tuple(self.statements))


def _check_nothing(fragment: _Fragment, command: str, rule: _Rule) -> None:
    """TEXT values (DATA paths, MISSING codes, LATENT and TRANSFORM lines) are kept as written."""


# How each plain command's statements are checked before they are kept.
_PLAIN_CHECKS = {
    _ValueForm.TEXT: _check_nothing,
    _ValueForm.NAMES: _check_names,
    _ValueForm.WHOLE_NUMBER: _check_whole_number,
    _ValueForm.WORDS: _check_words,
    _ValueForm.ASSIGNMENTS: _check_assignment,
}

_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*:(?=\s|$)")
_MODEL_OPERATOR_TEXT = re.compile(r"~|->|<->")


class _ScriptBuilder:
    """Walks the statements in order and routes each to the command that owns it."""

    def __init__(self, source: _Source):
        self.source = source
        self.commands: list[Command] = []
        self.model: list[ModelLine] = []
        self.centering: list[Centering] = []
        self.parameters: list[Definition] = []
        self.simple: list[SimpleEffect] = []
        self.first_lines: dict[str, int] = {}
        self.open: _OpenCommand | None = None
        self.block: str | None = None

    def add(self, statement: _Fragment) -> None:
        statement = statement.trimmed()
        if not statement.text:
            return  # an empty statement (';;') holds nothing
        head = _read_head(statement)
        if head is not None:
            canonical = _canonical_name(head.word)
            if canonical in _RULES:
                self.open_command(canonical, head, statement)
                return
            if head.word.upper() in _UNSUPPORTED_COMMANDS:
                raise statement.error(f"{head.word.upper()} is a Blimp command that multilevel does not support",
                                      head.start, head.end, hint="Remove it from the script.")
            if not self.in_model():
                raise statement.error(f"'{head.word}' is not a Blimp command", head.start, head.end,
                                      hint=_unknown_command_hint(head.word))
        if self.open is None or not self.open.rule.owns_following_statements:
            raise self.statement_without_command(statement)
        self.add_statement(statement)

    def in_model(self) -> bool:
        return self.open is not None and self.open.rule.form is _ValueForm.MODEL

    def statement_without_command(self, statement: _Fragment) -> BlimpScriptError:
        if self.open is None:
            hint = "A Blimp script is a list of commands such as 'DATA: file.csv;' and 'MODEL: y ~ x;'."
        else:
            hint = (f"{self.open.name} (line {self.open.line}) takes a single statement; "
                    "start this one with a command such as 'MODEL:'.")
        return statement.first_word_error("this statement does not start with a command ('NAME:')", hint=hint)

    def open_command(self, name: str, head: _Head, statement: _Fragment) -> None:
        self.close_open_command()
        line = statement.source.line_number(statement.start + head.start)
        if name in self.first_lines:
            raise statement.error(f"{name} is given twice (first on line {self.first_lines[name]})",
                                  head.start, head.end, hint=f"Give each command once; merge the two {name} commands.")
        self.first_lines[name] = line
        rule = _RULES[name]
        self.open = _OpenCommand(name, rule, line)
        self.block = None
        content = statement.part(head.content_start).trimmed()
        if not content.text:
            raise statement.error(f"{name} needs a value", head.start, head.end, hint=f"Write it as: {rule.example}")
        self.add_statement(content)

    def add_statement(self, fragment: _Fragment) -> None:
        """One statement of the open command, dispatched on the command's value form."""
        form = self.open.rule.form
        if form is _ValueForm.MODEL:
            self.model.append(self.model_line(fragment))
        elif form is _ValueForm.CENTERING:
            self.centering.append(_StatementParser(fragment).centering())
        elif form is _ValueForm.DEFINITIONS:
            self.parameters.append(_definition(fragment))
        elif form is _ValueForm.SIMPLE_EFFECTS:
            self.simple.append(_StatementParser(fragment).simple_effect())
        else:
            _PLAIN_CHECKS[form](fragment, self.open.name, self.open.rule)
            self.open.statements.append(fragment.joined())

    def model_line(self, fragment: _Fragment) -> ModelLine:
        """A MODEL statement, optionally opened by a block label (``focal:``, ``predictor.model:``)
        that applies to it and to the model lines after it."""
        label = _LABEL.match(fragment.text)
        if label is not None:
            rest = fragment.part(label.end()).trimmed()
            word = label.group(1)
            if not rest.text:
                raise fragment.error(f"the model block '{word}:' has no model line after it",
                                     label.start(1), label.end(1), hint=f"Write it as: {word}: y ~ x;")
            if _MODEL_OPERATOR_TEXT.search(rest.text) is None and (
                    word.isupper() or _close_command_names(word, cutoff=0.75)):
                raise fragment.error(f"'{word}' is not a Blimp command", label.start(1), label.end(1),
                                     hint=_unknown_command_hint(word))
            self.block = word
            fragment = rest
        return _StatementParser(fragment).model_line(self.block)

    def close_open_command(self) -> None:
        if self.open is not None and self.open.rule.form in _PLAIN_CHECKS:
            self.commands.append(self.open.close())
        self.open = None

    def finish(self) -> BlimpScript:
        self.close_open_command()
        return BlimpScript(self.source.text, tuple(self.commands), tuple(self.model), tuple(self.centering),
                           tuple(self.parameters), tuple(self.simple))
