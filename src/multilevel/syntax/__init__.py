"""Text → tokens with source spans → abstract syntax tree."""

from .blimp_script import parse_script
from .formula import parse_formula

__all__ = ["parse_formula", "parse_script"]
