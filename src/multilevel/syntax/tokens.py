"""Scanner: formula text → tokens with character spans."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

from ..errors import FormulaSyntaxError


class Kind(enum.Enum):
    NAME = "name"
    NUMBER = "number"
    STRING = "string"
    OPERATOR = "operator"
    LEFT_PAREN = "("
    RIGHT_PAREN = ")"
    COMMA = ","
    END = "end of formula"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    start: int
    end: int


# Longest operators first so that "||" wins over "|" and "==" over "=".
OPERATORS = ("%in%", "||", "==", "!=", "<=", ">=", "**", "~", "+", "-", "*", "/", ":",
             "^", "|", "<", ">", "=")


def describe_character(character: str) -> str:
    """``U+200B (ZERO WIDTH SPACE)``."""
    kinds = {"Cc": "a control character", "Co": "a private-use character", "Cn": "an unassigned code point",
             "Cs": "a lone surrogate"}
    name = unicodedata.name(character, "") or kinds.get(unicodedata.category(character), "unnamed")
    return f"U+{ord(character):04X} ({name})"


# Unicode categories of characters that do not show, or show as a space, in an editor: format characters
# (zero-width space, byte-order mark, direction marks), controls, private-use and unassigned code points,
# and separators other than the plain space.
_ODD_CATEGORIES = ("Cf", "Cc", "Co", "Cn", "Cs", "Zl", "Zp", "Zs")
_ALLOWED_CHARACTERS = " \t\n\r"


def is_odd_character(character: str) -> bool:
    return character not in _ALLOWED_CHARACTERS and unicodedata.category(character) in _ODD_CATEGORIES


def _is_name_start(character: str) -> bool:
    return character.isalpha() or character in "._"


def _is_name_part(character: str) -> bool:
    return character.isalnum() or character in "._"


PUNCTUATION = {"(": Kind.LEFT_PAREN, ")": Kind.RIGHT_PAREN, ",": Kind.COMMA}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    length = len(text)
    while position < length:
        character = text[position]
        if character.isspace():
            position += 1
            continue
        if character.isdigit() or (character == "." and position + 1 < length and text[position + 1].isdigit()):
            token = _number(text, position)
        elif _is_name_start(character):
            end = position + 1
            while end < length and _is_name_part(text[end]):
                end += 1
            token = Token(Kind.NAME, text[position:end], position, end)
        elif character == "`":
            token = _quoted(text, position, Kind.NAME, "unclosed backquote")
        elif character in "'\"":
            token = _quoted(text, position, Kind.STRING, "unclosed string")
        elif character in PUNCTUATION:
            token = Token(PUNCTUATION[character], character, position, position + 1)
        else:
            token = _operator(text, position)
        tokens.append(token)
        position = token.end
    tokens.append(Token(Kind.END, "", length, length))
    return tokens


def _number(text: str, start: int) -> Token:
    """The number starting at ``start``: digits and points, then an optional exponent."""
    length = len(text)
    position = start + 1
    while position < length and (text[position].isdigit() or text[position] == "."):
        position += 1
    if position < length and text[position] in "eE":
        look = position + 1
        if look < length and text[look] in "+-":
            look += 1
        if look < length and text[look].isdigit():
            position = look
            while position < length and text[position].isdigit():
                position += 1
    number_text = text[start:position]
    try:
        float(number_text)
    except ValueError:
        raise FormulaSyntaxError(f"'{number_text}' is not a number", text, start, position) from None
    if position < length and _is_name_start(text[position]):
        raise FormulaSyntaxError("a name cannot start with a digit", text, start, position + 1,
                                 hint="Wrap unusual column names in backquotes: `2x`.")
    return Token(Kind.NUMBER, number_text, start, position)


def _quoted(text: str, start: int, kind: Kind, unclosed: str) -> Token:
    """A backquoted name or a quoted string: the text between the quote at ``start`` and the next one."""
    closing = text.find(text[start], start + 1)
    if closing < 0:
        raise FormulaSyntaxError(unclosed, text, start, len(text))
    return Token(kind, text[start + 1:closing], start, closing + 1)


def _operator(text: str, start: int) -> Token:
    for operator in OPERATORS:
        if text.startswith(operator, start):
            return Token(Kind.OPERATOR, operator, start, start + len(operator))
    character = text[start]
    if is_odd_character(character):
        name = describe_character(character)
        raise FormulaSyntaxError(f"the formula holds an invisible character, {name}, here", text, start,
                                 start + 1, hint="Delete it; such characters come from copying text from "
                                                 "a web page or a word processor.")
    raise FormulaSyntaxError(f"unexpected character '{character}'", text, start, start + 1)
