"""Reader of MODEL statements: ``y ~ x1 x2 x1*x2 | x1``, ``x -> y1 y2``, ``a ~~ b``.

Blimp model lines differ from lme4 formulas: predictors are separated by white space,
``*`` is a product term (not main effects plus interaction), ``a:b`` is a range of
variables in data-column order (not an interaction), ``@label`` names a coefficient
(``@1`` or ``@0`` fixes it to that value), and ``x[cluster]`` after ``|`` is a random
effect across one particular cluster level. Resolving these meanings is left to the
translation (:mod:`multilevel.blimp_translate`).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ast
from .blimp_nodes import ModelLine
from .blimp_scan import Kind, located, parse_embedded_expression
from .blimp_statements import StatementParser, term_hint

_MODEL_OPERATORS = ("~", "->", "~~", "<->")


@dataclass(frozen=True)
class _ModelParts:
    """What one model-line form reads; :meth:`ModelLineParser.model_line` adds block, line and text."""

    kind: str
    outcomes: tuple[ast.Node, ...]
    predictors: tuple[ast.Node, ...]
    random: tuple[ast.Node, ...] = ()
    labels: tuple[tuple[int, str], ...] = ()
    outcome_labels: tuple[tuple[int, str], ...] = ()


class ModelLineParser(StatementParser):
    """One MODEL statement; every node it returns has its ``origin`` in the script."""

    def model_line(self, block: str | None) -> ModelLine:
        """``outcomes ~ predictors [| random]``, ``predictors -> outcomes`` or ``a ~~ b``."""
        operators = [token for token in self.tokens
                     if token.kind is Kind.OPERATOR and token.text in _MODEL_OPERATORS]
        if not operators:
            raise self.fragment.error("a model line needs '~' (regression) or '->' (arrow)", 0, len(self.text),
                                      hint="Write a regression as 'y ~ x1 x2;' and an empty model as "
                                           "'intercept -> y1 y2;'.")
        if len(operators) > 1:
            raise self.error(f"a second '{operators[1].text}' in one model line", operators[1],
                             hint="End each model line with ';'.")
        read = {"~": self.regression, "->": self.arrow, "~~": self.covariance, "<->": self.covariance}
        parts = read[operators[0].text]()

        def placed(nodes: tuple[ast.Node, ...]) -> tuple[ast.Node, ...]:
            return tuple(located(node, self.fragment) for node in nodes)
        return ModelLine(block, parts.kind, placed(parts.outcomes), placed(parts.predictors), placed(parts.random),
                         parts.labels, self.fragment.line, self.text, parts.outcome_labels, self.fragment.origin())

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
        elif self.current.kind in (Kind.NUMBER, Kind.NAME, Kind.GROUP):
            exponent = self.primary()
        else:
            raise self.error(f"expected an exponent after '{caret.text}' but found {self.describe(self.current)}")
        return ast.Binary("^", base, exponent, start=base.start, end=exponent.end)

    def primary(self) -> ast.Node:
        """A name (``x.mean``; ``intercept`` in any case), a call ``log(x)``, a range
        ``x1:x5``, a number, or a parenthesized expression."""
        token = self.current
        if token.kind is Kind.NAME:
            self.advance()
            if self.current.kind is Kind.GROUP and self.current.start == token.end:
                group = self.advance()
                return parse_embedded_expression(self.fragment, token.start, group.end)
            node = self.name_node(token)
            if self.at(":"):
                return self.variable_range(node)
            return node
        if token.kind is Kind.NUMBER:
            return self.number_node(self.advance())
        if token.kind is Kind.GROUP:
            self.advance()
            return parse_embedded_expression(self.fragment, token.start, token.end)
        raise self.error(f"unexpected {self.describe(token)}: a term is missing here", hint=term_hint(token))

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
        if token.kind not in (Kind.NAME, Kind.NUMBER) or (sign and token.kind is not Kind.NUMBER):
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
