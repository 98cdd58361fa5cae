"""The Blimp commands: what each command's value must look like, with an example of it.

A table, read by the statement splitter (is a word a command?), the script builder (which
statements does a command own, how is each checked) and the error hints (did you mean ...?).
"""

from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass


class ValueForm(enum.Enum):
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
class Rule:
    form: ValueForm
    example: str
    owns_following_statements: bool = False
    most_items: int | None = None


RULES: dict[str, Rule] = {
    "DATA": Rule(ValueForm.TEXT, "DATA: mydata.csv;"),
    "VARIABLES": Rule(ValueForm.NAMES, "VARIABLES: id y x1 x2;"),
    "CLUSTERID": Rule(ValueForm.NAMES, "CLUSTERID: school;", most_items=2),
    "ORDINAL": Rule(ValueForm.NAMES, "ORDINAL: x1 x2;"),
    "NOMINAL": Rule(ValueForm.NAMES, "NOMINAL: group;"),
    "COUNT": Rule(ValueForm.NAMES, "COUNT: visits;"),
    "FIXED": Rule(ValueForm.NAMES, "FIXED: x3;"),
    "MISSING": Rule(ValueForm.TEXT, "MISSING: 999;"),
    "CENTER": Rule(ValueForm.CENTERING, "CENTER: groupmean = x1; grandmean = x2;", True),
    "LATENT": Rule(ValueForm.TEXT, "LATENT: school = u0 u1;", True),
    "MODEL": Rule(ValueForm.MODEL, "MODEL: y ~ x1 x2 | x1;", True),
    "PARAMETERS": Rule(ValueForm.DEFINITIONS, "PARAMETERS: indirect = a*b;", True),
    "SIMPLE": Rule(ValueForm.SIMPLE_EFFECTS, "SIMPLE: x1 | x2;", True),
    "SEED": Rule(ValueForm.WHOLE_NUMBER, "SEED: 90291;"),
    "BURN": Rule(ValueForm.WHOLE_NUMBER, "BURN: 10000;"),
    "ITERATIONS": Rule(ValueForm.WHOLE_NUMBER, "ITERATIONS: 10000;"),
    "CHAINS": Rule(ValueForm.WHOLE_NUMBER, "CHAINS: 4;"),
    "NIMPS": Rule(ValueForm.WHOLE_NUMBER, "NIMPS: 20;"),
    "THIN": Rule(ValueForm.WHOLE_NUMBER, "THIN: 10;"),
    "SAVE": Rule(ValueForm.ASSIGNMENTS, "SAVE: stacked = imps.csv;", True),
    "OPTIONS": Rule(ValueForm.WORDS, "OPTIONS: labels psr;"),
    "TRANSFORM": Rule(ValueForm.TEXT, "TRANSFORM: x2 = x^2;", True),
}

# Blimp's own scripts (and rblimp) write ITER for ITERATIONS.
ALIASES = {"ITER": "ITERATIONS"}

# Blimp commands this package does not read; naming them gives a clearer error than
# "not a Blimp command".
UNSUPPORTED_COMMANDS = ("WALDTEST", "WEIGHT", "RANDOMEFFECT", "RANDOMEFFECTS", "OUTPUT", "FCS")

CENTERING_KINDS = {"groupmean": "groupmean", "cwc": "groupmean", "grandmean": "grandmean", "cgm": "grandmean"}


def canonical_name(word: str) -> str:
    upper = word.upper()
    return ALIASES.get(upper, upper)


def is_command_word(word: str) -> bool:
    return canonical_name(word) in RULES or word.upper() in UNSUPPORTED_COMMANDS


def close_command_names(word: str, cutoff: float = 0.6) -> list[str]:
    """Command names close to ``word`` (a close alias suggests the command it stands for)."""
    close = difflib.get_close_matches(word.upper(), list(RULES) + list(ALIASES), n=3, cutoff=cutoff)
    return list(dict.fromkeys(canonical_name(name) for name in close))


def unknown_command_hint(word: str) -> str:
    close = close_command_names(word)
    if close:
        return f"Did you mean {' or '.join(close)}?"
    return "Blimp commands: " + ", ".join(RULES) + "."
