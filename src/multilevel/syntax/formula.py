"""Parser: tokens → :class:`~multilevel.syntax.ast.Formula` (lme4/brms syntax).

Precedence follows R, lowest first: ``~``; ``|`` (only inside parentheses and after
the outcome); ``+ -``; ``* /``; ``%in%``; ``:``; unary minus; ``^``. Comparison
operators (``== != < > <= >=``) are read below ``+`` so that ``I(x > 0)`` works; the
resolver rejects them outside ``I(...)``.
"""

from __future__ import annotations

from ..errors import FormulaSyntaxError
from . import ast
from .tokens import Kind, Token, tokenize

_COMPARISONS = ("==", "!=", "<", ">", "<=", ">=")


class _Parser:
    def __init__(self, text: str, formula: bool = False):
        self.text = text
        self.tokens = tokenize(text)
        self.position = 0
        self.formula_mode = formula  # powers outside calls follow R's formula algebra
        self.call_depth = 0

    # -- helpers ---------------------------------------------------------------------
    @property
    def current(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.tokens[self.position]
        if token.kind is not Kind.END:
            self.position += 1
        return token

    def at_operator(self, *operators: str) -> bool:
        return self.current.kind is Kind.OPERATOR and self.current.text in operators

    def error(self, message: str, token: Token | None = None, hint: str | None = None):
        token = token or self.current
        return FormulaSyntaxError(message, self.text, token.start, max(token.end, token.start + 1), hint=hint)

    def expect(self, kind: Kind, what: str) -> Token:
        if self.current.kind is not kind:
            found = "the end of the formula" if self.current.kind is Kind.END else f"'{self.current.text}'"
            raise self.error(f"expected {what} but found {found}")
        return self.advance()

    # -- grammar ---------------------------------------------------------------------
    def formula(self) -> ast.Formula:
        if self.current.kind is Kind.END:
            raise self.error("the formula is empty", hint="Write it as: outcome ~ predictors, e.g. y ~ x + (1 | g)")
        outcome = addition = None
        if not self.at_operator("~"):
            outcome = self.sum()
            if self.at_operator("|"):
                self.advance()
                addition = self.sum()
            if not self.at_operator("~"):
                raise self.error("expected '~' after the outcome",
                                 hint="Write it as: outcome ~ predictors, e.g. y ~ x + (1 | g)")
        self.advance()  # '~'
        if self.current.kind is Kind.END:
            raise self.error("nothing after '~'", hint="Use 1 for an intercept-only model: y ~ 1 + (1 | g)")
        right = self.sum()
        if self.current.kind is not Kind.END:
            token = self.current
            if token.kind is Kind.RIGHT_PAREN:
                raise self.error("unmatched ')'")
            if token.text == "~":
                raise self.error("a formula has only one '~'")
            if token.text in ("|", "||"):
                raise self.error(f"'{token.text}' must be inside parentheses for a random effect",
                                 hint="Write random effects as (1 + x | group).")
            raise self.error(f"unexpected '{token.text}'")
        return ast.Formula(outcome, addition, right, self.text, start=0, end=len(self.text))

    def sum(self) -> ast.Node:
        if self.at_operator("-", "+"):
            operator = self.advance()
            operand = self.product()
            left: ast.Node = ast.Unary(operator.text, operand, start=operator.start, end=operand.end)
        else:
            left = self.comparison()
        while self.at_operator("+", "-"):
            operator = self.advance()
            right = self.comparison()
            left = ast.Binary(operator.text, left, right, start=left.start, end=right.end)
        return left

    def comparison(self) -> ast.Node:
        left = self.product()
        if self.at_operator(*_COMPARISONS):
            operator = self.advance()
            right = self.product()
            left = ast.Binary(operator.text, left, right, start=left.start, end=right.end)
        return left

    def product(self) -> ast.Node:
        left = self.nesting()
        while self.at_operator("*", "/"):
            operator = self.advance()
            right = self.nesting()
            left = ast.Binary(operator.text, left, right, start=left.start, end=right.end)
        return left

    def nesting(self) -> ast.Node:
        left = self.interaction()
        while self.at_operator("%in%"):
            operator = self.advance()
            right = self.interaction()
            left = ast.Binary(operator.text, left, right, start=left.start, end=right.end)
        return left

    def interaction(self) -> ast.Node:
        left = self.unary()
        while self.at_operator(":"):
            operator = self.advance()
            right = self.unary()
            left = ast.Binary(operator.text, left, right, start=left.start, end=right.end)
        return left

    def unary(self) -> ast.Node:
        if self.at_operator("-", "+"):
            operator = self.advance()
            operand = self.unary()
            return ast.Unary(operator.text, operand, start=operator.start, end=operand.end)
        return self.power()

    def power(self) -> ast.Node:
        base = self.atom()
        if self.at_operator("^", "**"):
            operator = self.advance()
            exponent = self.unary()  # right associative
            if self.formula_mode and self.call_depth == 0:
                self.check_formula_power(base, operator, exponent)
            return ast.Binary("^", base, exponent, start=base.start, end=exponent.end)
        return base

    def check_formula_power(self, base: ast.Node, operator: Token, exponent: ast.Node) -> None:
        """Outside I(...), R's formula algebra reads ``(a + b)^2`` as all interactions up to order 2, so
        ``x^2`` of a single term is just ``x``: a Python or R user writing it means a square, and
        gets an error rather than a linear term. ``**`` is never a formula operator."""
        shown = base.inner if isinstance(base, ast.Parenthesized) else base
        base_text = " ".join(self.text[shown.start:shown.end].split())
        exponent_text = " ".join(self.text[exponent.start:exponent.end].split())
        several = isinstance(base, ast.Parenthesized) and isinstance(base.inner, ast.Binary) and \
            base.inner.operator in ("+", "-", "*")
        if operator.text == "**":
            if several:
                raise self.error("'**' is not a formula operator", operator,
                                 hint=f"For all interactions up to order {exponent_text} write "
                                      f"({base_text})^{exponent_text}; for the power of a variable, "
                                      f"I(x**{exponent_text}).")
            raise self.error(f"'{base_text}**{exponent_text}' in a formula is not a power", operator,
                             hint=f"For the power of {base_text} write I({base_text}**{exponent_text}) "
                                  f"(or I({base_text}^{exponent_text})).")
        if not several:
            raise self.error(f"'{base_text}^{exponent_text}' in a formula is not a power: R's formula algebra "
                             f"reads '^' as interactions, and {base_text} with itself is just {base_text}",
                             operator, hint=f"For the power write I({base_text}^{exponent_text}); for all "
                                            f"interactions up to order {exponent_text} of several terms, "
                                            f"(a + b)^{exponent_text}.")

    def atom(self) -> ast.Node:
        token = self.current
        if token.kind is Kind.NUMBER:
            self.advance()
            return ast.Number(float(token.text), token.text, start=token.start, end=token.end)
        if token.kind is Kind.STRING:
            self.advance()
            return ast.String(token.text, start=token.start, end=token.end)
        if token.kind is Kind.NAME:
            self.advance()
            if self.current.kind is Kind.LEFT_PAREN:
                return self.call(token)
            return ast.Name(token.text, start=token.start, end=token.end)
        if token.kind is Kind.LEFT_PAREN:
            return self.parenthesized()
        if token.kind is Kind.END:
            raise self.error("the formula ends too early: a term is missing")
        if token.kind is Kind.RIGHT_PAREN:
            raise self.error("unexpected ')': a term is missing before it")
        raise self.error(f"unexpected '{token.text}': a term is missing here")

    def call(self, name: Token) -> ast.Call:
        self.call_depth += 1
        try:
            return self.call_arguments(name)
        finally:
            self.call_depth -= 1

    def call_arguments(self, name: Token) -> ast.Call:
        opening = self.advance()  # '('
        arguments: list[ast.Node] = []
        keywords: list[tuple[str, ast.Node]] = []
        if self.current.kind is Kind.RIGHT_PAREN:
            closing = self.advance()
            return ast.Call(name.text, (), (), start=name.start, end=closing.end)
        while True:
            if (self.current.kind is Kind.NAME and self.tokens[self.position + 1].kind is Kind.OPERATOR
                    and self.tokens[self.position + 1].text == "="):
                keyword = self.advance()
                self.advance()  # '='
                keywords.append((keyword.text, self.sum()))
            else:
                if keywords:
                    raise self.error("a positional argument cannot follow a keyword argument")
                arguments.append(self.sum())
            if self.current.kind is Kind.COMMA:
                self.advance()
                continue
            if self.current.kind is Kind.RIGHT_PAREN:
                closing = self.advance()
                return ast.Call(name.text, tuple(arguments), tuple(keywords), start=name.start, end=closing.end)
            if self.current.kind is Kind.END:
                raise self.error("'(' opened here is never closed", opening)
            raise self.error(f"unexpected '{self.current.text}' in the arguments of {name.text}(...)")

    def parenthesized(self) -> ast.Node:
        opening = self.advance()
        if self.current.kind is Kind.RIGHT_PAREN:
            raise self.error("empty parentheses")
        inner = self.sum()
        if self.at_operator("|", "||"):
            bar = self.advance()
            if self.current.kind in (Kind.RIGHT_PAREN, Kind.END):
                raise self.error(f"a grouping factor is missing after '{bar.text}'", self.current,
                                 hint="Write random effects as (1 + x | group).")
            group = self.sum()
            closing = self.current
            if closing.kind is not Kind.RIGHT_PAREN:
                if closing.kind is Kind.END:
                    raise self.error("'(' opened here is never closed", opening)
                raise self.error(f"unexpected '{closing.text}' in a random-effect term")
            self.advance()
            return ast.RandomTerm(inner, group, bar.text == "|", start=opening.start, end=closing.end)
        closing = self.current
        if closing.kind is not Kind.RIGHT_PAREN:
            if closing.kind is Kind.END:
                raise self.error("'(' opened here is never closed", opening)
            raise self.error(f"unexpected '{closing.text}'")
        self.advance()
        return ast.Parenthesized(inner, start=opening.start, end=closing.end)


def parse_formula(text: str) -> ast.Formula:
    """Parse an lme4/brms formula. Raises :class:`FormulaSyntaxError` pointing at the bad token."""
    if not isinstance(text, str):
        raise TypeError(f"a formula must be a string, not {type(text).__name__}")
    return _Parser(text, formula=True).formula()


def as_formula(formula: str | ast.Formula) -> ast.Formula:
    """A formula given as text, parsed; one given as a tree (built by another front end, such as a Blimp
    script's translation) is used as it is."""
    if isinstance(formula, ast.Formula):
        return formula
    return parse_formula(formula)


def parse_expression(text: str) -> ast.Node:
    """Parse a single expression (used for centering and derived-quantity text)."""
    parser = _Parser(text)
    node = parser.sum()
    if parser.current.kind is not Kind.END:
        raise parser.error(f"unexpected '{parser.current.text}'")
    return node
