"""A Blimp script's text: comments blanked, lines numbered, cut into statements at each ``;``.

Every position is an offset into the script, so that an error anywhere can show the
physical line that holds it with a caret under the offending text, and name its line and
column; a stretch of the script (a :class:`Fragment`) keeps those offsets.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

from ..errors import BlimpScriptError
from . import ast
from .blimp_commands import is_command_word
from .tokens import describe_character, is_odd_character

_COMMENT = re.compile(r"#[^\n]*")
_FLATTEN_LINES = str.maketrans("\n\r\t", "   ")


class ScriptSource:
    """The script, a copy with comments blanked (same length), and line positions."""

    def __init__(self, text: str):
        self.text = text
        self.cleaned = _COMMENT.sub(lambda match: " " * len(match.group()), text)
        self.line_starts = [0] + [index + 1 for index, character in enumerate(text) if character == "\n"]

    def line_number(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def origin(self, start: int, end: int) -> ast.Origin:
        """The script position of [start, end): offsets, and the line and column (from 1) of ``start``."""
        line = self.line_number(start)
        return ast.Origin(start, end, line, start - self.line_starts[line - 1] + 1)

    def error(self, message: str, start: int, end: int, hint: str | None = None,
              kind: type[BlimpScriptError] = BlimpScriptError) -> BlimpScriptError:
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
        return kind(message, line_text, column, end_column, line_number=line_number, hint=hint)

    def error_at(self, origin: ast.Origin, message: str, hint: str | None = None,
                 kind: type[BlimpScriptError] = BlimpScriptError) -> BlimpScriptError:
        return self.error(message, origin.start, origin.end, hint, kind)


@dataclass(frozen=True)
class Fragment:
    """A stretch [start, end) of the script; its ``text`` is one line (line breaks and
    tabs become spaces, comments are blank), so offsets into it are offsets into the script."""

    source: ScriptSource
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.source.cleaned[self.start:self.end].translate(_FLATTEN_LINES)

    @property
    def line(self) -> int:
        return self.source.line_number(self.start)

    def origin(self, start: int = 0, end: int | None = None) -> ast.Origin:
        """The script position of the fragment's text [start, end) (default: all of it)."""
        return self.source.origin(self.start + start, self.start + (len(self.text) if end is None else end))

    def joined(self) -> str:
        """The text with each line stripped and the lines joined by one space."""
        lines = self.source.cleaned[self.start:self.end].split("\n")
        return " ".join(line.strip() for line in lines if line.strip())

    def trimmed(self) -> Fragment:
        cleaned = self.source.cleaned
        start, end = self.start, self.end
        while start < end and cleaned[start].isspace():
            start += 1
        while end > start and cleaned[end - 1].isspace():
            end -= 1
        return Fragment(self.source, start, end)

    def part(self, start: int, end: int | None = None) -> Fragment:
        """The fragment from relative offset ``start`` to ``end`` (default: the end)."""
        return Fragment(self.source, self.start + start, self.start + (len(self.text) if end is None else end))

    def error(self, message: str, start: int, end: int | None = None, hint: str | None = None) -> BlimpScriptError:
        end = start + 1 if end is None else end
        return self.source.error(message, self.start + start, self.start + end, hint)

    def first_word_error(self, message: str, hint: str | None = None) -> BlimpScriptError:
        word = re.search(r"\S+", self.text)
        start, end = (word.start(), word.end()) if word else (0, 1)
        return self.error(message, start, end, hint)


# -- invisible and odd characters -------------------------------------------------------

def check_invisible_characters(source: ScriptSource) -> None:
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


def split_statements(source: ScriptSource) -> list[Fragment]:
    """Cut the script at each ';' (outside comments). Text after the last ';' is an error."""
    statements = []
    start = 0
    for match in re.finditer(";", source.cleaned):
        statement = Fragment(source, start, match.start())
        _check_no_command_inside(statement)
        statements.append(statement)
        start = match.end()
    rest = Fragment(source, start, len(source.cleaned))
    _check_no_command_inside(rest)
    rest = rest.trimmed()
    if rest.text:
        raise source.error("the last statement does not end with ';'", rest.end, rest.end + 1,
                           hint="Every Blimp statement ends with a semicolon, e.g. ITERATIONS: 10000;")
    return statements


def _check_no_command_inside(statement: Fragment) -> None:
    """A line inside a statement that starts with a command word means a ';' is missing before it."""
    cleaned = statement.source.cleaned
    content = statement.trimmed()
    line_break = cleaned.find("\n", content.start, content.end)
    while line_break >= 0:
        match = _LINE_START_COMMAND.match(cleaned, line_break + 1, content.end)
        if match and is_command_word(match.group(1)):
            before = Fragment(statement.source, content.start, line_break).trimmed()
            raise statement.source.error(
                f"this statement does not end with ';' before {match.group(1).upper()} on the next line",
                before.end, before.end + 1,
                hint=f"End the statement with ';'. (If '{match.group(1)}' is meant as a model block label, "
                     "choose a name that is not a Blimp command.)")
        line_break = cleaned.find("\n", line_break + 1, content.end)


@dataclass(frozen=True)
class Head:
    """``NAME:`` at the start of a statement; offsets are relative to the statement."""

    word: str
    start: int
    end: int
    content_start: int


_HEAD = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*:")


def read_head(statement: Fragment) -> Head | None:
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
    if not (is_command_word(word) or followed_by_space):
        return None
    return Head(word, match.start(1), match.end(1), match.end())
