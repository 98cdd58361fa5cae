"""Text → tokens with source spans → abstract syntax tree."""

from .blimp_script import parse_script
from .formula import as_formula, parse_formula

__all__ = ["as_formula", "parse_formula", "parse_script"]
