import pytest

from multilevel.errors import FormulaSyntaxError
from multilevel.syntax import ast, parse_formula
from multilevel.model.terms import expand_formula


def terms(text):
    expanded = expand_formula(parse_formula(text))
    return expanded.intercept, expanded.terms, expanded.random


def test_interaction_and_star_expand_like_r():
    intercept, fixed, _ = terms("y ~ 1 + x1 + x2*x3 + x2:x3")
    assert intercept
    assert fixed == (("x1",), ("x2",), ("x3",), ("x2", "x3"))


def test_intercept_removal_forms():
    assert terms("y ~ 0 + x")[0] is False
    assert terms("y ~ x - 1")[0] is False
    assert terms("y ~ -1 + x")[0] is False
    assert terms("y ~ x")[0] is True


def test_power_and_subtraction():
    _, fixed, _ = terms("y ~ (a + b + c)^2 - a:b")
    assert fixed == (("a",), ("b",), ("c",), ("a", "c"), ("b", "c"))


def test_nesting_in_fixed_part():
    _, fixed, _ = terms("y ~ a/b")
    assert fixed == (("a",), ("a", "b"))


def test_random_terms_nested_crossed_and_uncorrelated():
    _, _, random = terms("y ~ x + (1 | s/c) + (x || g) + (0 + x | h)")
    nested = random[0]
    assert [type(node).__name__ for node in nested.group_nodes] == ["Name", "Binary"]
    assert random[1].correlated is False and random[1].terms == ((), ("x",))
    assert random[2].terms == (("x",),)


def test_calls_keep_their_text_as_factor_key():
    expanded = expand_formula(parse_formula("y ~ I(x^2) + log(z) + C(f, ref = 'b') + offset(log(t))"))
    assert [term[0] for term in expanded.terms] == ["I(x^2)", "log(z)", "C(f,ref='b')"]
    assert len(expanded.offsets) == 1


def test_outcome_additions_parse():
    formula = parse_formula("s | trials(n) ~ x")
    assert isinstance(formula.addition, ast.Call) and formula.addition.function == "trials"
    formula = parse_formula("cbind(s, f) ~ x")
    assert isinstance(formula.outcome, ast.Call)


@pytest.mark.parametrize("text, caret_at, message", [
    ("y ~ x +", 7, "ends too early"),
    ("y ~ (x | )", 9, "grouping factor is missing"),
    ("y ~ x | g", 6, "inside parentheses"),
    ("y x", 2, "expected '~'"),
    ("y ~ (1 + x | g", 4, "never closed"),
    ("y ~ x $ z", 6, "unexpected character"),
    ("y ~ x )", 6, "unmatched"),
    ("", 0, "empty"),
])
def test_syntax_errors_point_at_the_token(text, caret_at, message):
    with pytest.raises(FormulaSyntaxError) as info:
        parse_formula(text)
    error = info.value
    assert message in error.message
    assert error.start == caret_at
    rendered = str(error).splitlines()
    assert rendered[1] == "    " + text
    assert rendered[2].index("^") == 4 + caret_at
