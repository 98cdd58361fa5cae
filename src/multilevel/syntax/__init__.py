"""Text → tokens with source spans → abstract syntax tree."""

from .formula import parse_formula

__all__ = ["parse_formula"]
