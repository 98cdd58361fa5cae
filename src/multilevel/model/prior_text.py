"""Priors written as text (CLI ``--prior "x1=Normal(0, 2.5)"``), parsed without ``eval``."""

from __future__ import annotations

from ..errors import FormulaSpecificationError, SpecificationError
from ..syntax import ast
from ..syntax.formula import parse_expression
from . import priors as P

PRIOR_TYPES = {name: getattr(P, name) for name in (
    "Normal", "StudentT", "Cauchy", "Flat", "FlatCovariance", "HalfNormal", "HalfStudentT", "HalfCauchy",
    "Exponential", "Gamma", "InverseGamma", "LogNormal", "Uniform", "LKJ")}


def _number(node: ast.Node, text: str) -> float:
    if isinstance(node, ast.Number):
        return node.value
    if isinstance(node, ast.Unary) and node.operator == "-" and isinstance(node.operand, ast.Number):
        return -node.operand.value
    raise FormulaSpecificationError("a prior's arguments are numbers", text, node.start, node.end)


def parse_prior(text: str) -> P.Prior:
    """``"Normal(0, 2.5)"``, ``"HalfStudentT(3, 10)"``, ``"InverseGamma(0.001, 0.001, on='variance')"``."""
    node = parse_expression(text)
    if not isinstance(node, ast.Call) or node.function not in PRIOR_TYPES:
        raise FormulaSpecificationError(f"not a prior; use one of {', '.join(PRIOR_TYPES)}", text,
                                        node.start, node.end)
    arguments = [_number(argument, text) for argument in node.arguments]
    keywords: dict[str, float | str] = {}
    for key, value in node.keywords:
        if key == "on":
            if not isinstance(value, (ast.String, ast.Name)):
                raise FormulaSpecificationError("on= takes 'sd', 'variance' or 'precision'", text,
                                                value.start, value.end)
            keywords["on"] = value.value if isinstance(value, ast.String) else value.name
        else:
            keywords[key] = _number(value, text)
    try:
        return PRIOR_TYPES[node.function](*arguments, **keywords)
    except TypeError as error:
        raise SpecificationError(f"{text}: {error}") from None


def parse_prior_assignment(text: str) -> tuple[str, P.Prior]:
    """``"x1=Normal(0, 1)"`` or ``"sd(Days | Subject) = HalfNormal(10)"`` → (key, prior)."""
    depth = 0
    for position, character in enumerate(text):
        depth += character == "("
        depth -= character == ")"
        if character == "=" and depth == 0:
            key, value = text[:position].strip(), text[position + 1:].strip()
            if not key:
                break
            return key, parse_prior(value)
    raise SpecificationError(f"--prior '{text}': write KEY=PRIOR, e.g. 'x1=Normal(0, 1)' or 'sd=HalfNormal(10)'")
