"""The Blimp command-language front end: scripts → BlimpScript, errors with line and caret."""

from pathlib import Path

import pytest

from multilevel.errors import BlimpScriptError, SpecificationError, TextError
from multilevel.syntax import ast, parse_script


def name(text):
    return ast.Name(text, start=0, end=0)


def number(value):
    return ast.Number(float(value), str(value), start=0, end=0)


def product(left, right):
    return ast.Binary("*", name(left), name(right), start=0, end=0)


def power(base, exponent):
    return ast.Binary("^", name(base), number(exponent), start=0, end=0)


def variable_range(first, last):
    return ast.Binary(":", name(first), name(last), start=0, end=0)


def spans(line, nodes):
    return [line.text[node.start:node.end] for node in nodes]


def parse_error(text):
    with pytest.raises(BlimpScriptError) as caught:
        parse_script(text)
    return caught.value


def caret_column(error):
    """The column of the first caret in the rendered message, counted in the shown line."""
    caret_line = str(error).splitlines()[2]
    return caret_line.index("^") - 4


# The script of the tutorial in seed 001 (7.2 Blimp Input), with its line breaks.
SEED_SCRIPT = (Path(__file__).resolve().parents[1] / "data" / "04_multilevel.imp").read_text()


def test_seed_script_commands():
    script = parse_script(SEED_SCRIPT)
    assert [(command.name, command.value, command.line) for command in script.commands] == [
        ("DATA", "04_multilevel.csv", 1), ("CLUSTERID", "j", 2), ("FIXED", "x3i", 3),
        ("SEED", "123", 10), ("BURN", "20000", 11), ("ITERATIONS", "20000", 12)]
    assert script.command("clusterid").items == ("j",)
    assert script.command("iter").value == "20000"  # Blimp's short name finds ITERATIONS
    assert script.command("MODEL") is None  # the model has its own structure
    assert script.command("THIN") is None
    assert script.text == SEED_SCRIPT


def test_seed_script_model_blocks_and_terms():
    focal, predictor_model, selection = parse_script(SEED_SCRIPT).model
    assert (focal.block, focal.kind, focal.line) == ("focal", "regression", 6)
    assert focal.text == "y ~ x1i x2i x3i x2i*x3i | x1i"
    assert focal.outcomes == (name("y"),)
    assert focal.predictors == (name("x1i"), name("x2i"), name("x3i"), product("x2i", "x3i"))
    assert focal.random == (name("x1i"),)
    assert spans(focal, focal.predictors) == ["x1i", "x2i", "x3i", "x2i*x3i"]
    assert spans(focal, focal.random) == ["x1i"]

    assert (predictor_model.block, predictor_model.line) == ("auxiliary", 8)
    assert predictor_model.outcomes == (name("x1i"), name("x2i"))  # kept in order for the lead to expand
    assert predictor_model.predictors == (name("x3i"),)

    assert (selection.block, selection.line) == ("auxiliary", 9)  # the block label carries over
    assert selection.outcomes == (name("y.missing"),)
    assert selection.predictors[-1] == product("x2i", "x3i")
    assert selection.random == () and selection.labels == ()


def test_book_style_empty_and_growth_models():
    script = parse_script(
        "DATA: mathprobsolve.csv;\n"
        "CLUSTERID: school;\n"
        "ORDINAL: hispanic;\n"
        "MODEL: intercept -> probsolve stanmath hispanic;\n"
        "SEED: 90291;\nBURN: 10000;\nITER: 10000;\nCHAINS: 4;\nNIMPS: 20;\nTHIN: 10;\n")
    (empty,) = script.model
    assert empty.kind == "arrow" and empty.block is None
    assert empty.predictors == (name("intercept"),)
    assert empty.outcomes == (name("probsolve"), name("stanmath"), name("hispanic"))
    assert [command.name for command in script.commands][-3:] == ["CHAINS", "NIMPS", "THIN"]

    growth = parse_script("CLUSTERID: person;\nFIXED: visit;\n"
                          "MODEL: severity ~ Intercept visit visit^2 | intercept visit visit^2;\n").model[0]
    assert growth.predictors == (name("intercept"), name("visit"), power("visit", 2))
    assert growth.random == (name("intercept"), name("visit"), power("visit", 2))
    assert spans(growth, growth.predictors) == ["Intercept", "visit", "visit^2"]


def test_latent_growth_blocks_fixed_coefficients_and_covariance():
    script = parse_script("""CLUSTERID: person;
LATENT: person = b0j b1j;
MODEL:
  level2:
  b0j ~ intercept;
  b1j ~ intercept;
  b0j ~~ b1j;
  level1:
  severity ~ b0j@1 visit*b1j@1;
""")
    assert script.command("LATENT").statements == ("person = b0j b1j",)
    blocks = [(line.block, line.kind) for line in script.model]
    assert blocks == [("level2", "regression"), ("level2", "regression"), ("level2", "covariance"),
                      ("level1", "regression")]
    covariance = script.model[2]
    assert covariance.outcomes == (name("b0j"),) and covariance.predictors == (name("b1j"),)
    severity = script.model[3]
    assert severity.predictors == (name("b0j"), product("visit", "b1j"))
    assert severity.labels == ((0, "1"), (1, "1"))  # a numeric label fixes the coefficient
    assert parse_script("MODEL: a <-> b;").model[0].kind == "covariance"


def test_labels_on_predictors_and_on_arrow_outcomes():
    line = parse_script("MODEL: y ~ x1@b1 x2 @b2 x1*x2@b3 1@0;").model[0]
    assert line.predictors == (name("x1"), name("x2"), product("x1", "x2"), number(1))
    assert line.labels == ((0, "b1"), (1, "b2"), (2, "b3"), (3, "0"))
    assert spans(line, line.predictors) == ["x1", "x2", "x1*x2", "1"]

    measurement = parse_script("MODEL: f -> item1@loading1 item2:item5;").model[0]
    assert measurement.outcomes == (name("item1"), variable_range("item2", "item5"))
    assert measurement.outcome_labels == ((0, "loading1"),)
    assert measurement.labels == ()


def test_calls_parentheses_and_cluster_specific_random_effects():
    line = parse_script("CLUSTERID: l2 l3;\nMODEL: yjt(y - 9) ~ (x - 5) log(z) | 1[l2] 1[l3] x[l2];").model[0]
    (outcome,) = line.outcomes
    assert isinstance(outcome, ast.Call) and outcome.function == "yjt"
    assert spans(line, line.outcomes) == ["yjt(y - 9)"]
    centred, logged = line.predictors
    assert isinstance(centred, ast.Parenthesized) and centred.inner == ast.Binary(
        "-", name("x"), number(5), start=0, end=0)
    assert isinstance(logged, ast.Call) and logged.arguments == (name("z"),)
    assert spans(line, [centred.inner.left]) == ["x"]  # spans inside parentheses point into the line
    assert line.random == (ast.RandomTerm(number(1), name("l2"), True, start=0, end=0),
                           ast.RandomTerm(number(1), name("l3"), True, start=0, end=0),
                           ast.RandomTerm(name("x"), name("l2"), True, start=0, end=0))
    assert spans(line, line.random) == ["1[l2]", "1[l3]", "x[l2]"]


def test_log_variance_outcome_and_multi_line_statement():
    script = parse_script("MODEL:\n  var(f) ~ 1@0 age;\n  study*f study ->\n    item2 item3;\n")
    variance, moderation = script.model
    assert isinstance(variance.outcomes[0], ast.Call) and variance.outcomes[0].function == "var"
    assert moderation.line == 3
    assert moderation.predictors == (product("study", "f"), name("study"))
    assert moderation.outcomes == (name("item2"), name("item3"))
    assert spans(moderation, moderation.outcomes) == ["item2", "item3"]


def test_block_labels_with_dots_and_on_the_model_line():
    script = parse_script("MODEL: focal: y ~ x;\npredictor.model: x ~ z;\nmissingness.model:\n"
                          "y.missing ~ x;\n")
    assert [line.block for line in script.model] == ["focal", "predictor.model", "missingness.model"]
    assert script.model[1].text == "x ~ z"


def test_center_forms():
    script = parse_script("CENTER: groupmean = x1 x2;\n  grandmean = x3, x4;\n  cwc = x5;\n  cgm = x6:x9;\n")
    assert [(item.kind, item.variables, item.line) for item in script.centering] == [
        ("groupmean", ("x1", "x2"), 1), ("grandmean", ("x3", "x4"), 2), ("groupmean", ("x5",), 3),
        ("grandmean", ("x6:x9",), 4)]
    (bare,) = parse_script("CENTER: x1 x2;").centering
    assert (bare.kind, bare.variables) == ("grandmean", ("x1", "x2"))


def test_parameters_use_the_expression_parser():
    script = parse_script("MODEL: m ~ x@a; y ~ m@b x@c;\n"
                          "PARAMETERS:\n  indirect = a*b;\n  diff = b - c;\n"
                          "  moderated = ( a + b ) * ( c + 1 );\n")
    indirect, difference, moderated = script.parameters
    assert (indirect.name, indirect.line, indirect.text) == ("indirect", 3, "indirect = a*b")
    assert indirect.expression == product("a", "b")
    assert difference.expression == ast.Binary("-", name("b"), name("c"), start=0, end=0)
    assert moderated.text[moderated.expression.start:moderated.expression.end] == "( a + b ) * ( c + 1 )"
    assert isinstance(moderated.expression.left, ast.Parenthesized)


def test_simple_effects():
    script = parse_script("SIMPLE: x1 | x2;\n  x1 | m = -1 0 1.5;\n")
    assert [(item.focal, item.moderator, item.values, item.line) for item in script.simple] == [
        ("x1", "x2", (), 1), ("x1", "m", (-1.0, 0.0, 1.5), 2)]


def test_plain_commands_keep_their_values():
    script = parse_script("""DATA: ../data/my file.csv;
VARIABLES: id y x1
  x2 x3;
ORDINAL: d1, d2;
NOMINAL: group;
COUNT: visits;
MISSING: -99;
OPTIONS: labels psr;
TRANSFORM: x2 = x^2;
  lx = log(x);
SAVE: stacked = imps.csv;
  estimates = est.csv;
""")
    assert script.command("DATA").value == "../data/my file.csv"
    assert script.command("VARIABLES").items == ("id", "y", "x1", "x2", "x3")
    assert script.command("VARIABLES").value == "id y x1 x2 x3"
    assert script.command("ORDINAL").items == ("d1", "d2")
    assert script.command("MISSING").value == "-99"
    assert script.command("OPTIONS").items == ("labels", "psr")
    assert script.command("TRANSFORM").statements == ("x2 = x^2", "lx = log(x)")
    save = script.command("SAVE")
    assert save.statements == ("stacked = imps.csv", "estimates = est.csv")
    assert save.value == "stacked = imps.csv; estimates = est.csv" and save.line == 11
    assert parse_script("MISSING: NA;").command("missing").items == ("NA",)
    assert parse_script("CLUSTERID: school classroom;").command("CLUSTERID").items == ("school", "classroom")


def test_comments_case_and_blank_lines():
    script = parse_script("""#!nightly
## a Blimp script
data: inflammation.csv;   \t# data with names in first row
# VARIABLES: id female els age;   (commented out: never read)
Model: dpdd ~ inflam   # a comment inside a statement
   els;  # the end of the model line

seed: 90291;;
""")
    assert [(command.name, command.line) for command in script.commands] == [("DATA", 3), ("SEED", 8)]
    assert script.command("VARIABLES") is None
    (line,) = script.model
    assert line.predictors == (name("inflam"), name("els"))
    assert line.line == 5 and spans(line, line.predictors) == ["inflam", "els"]


def test_error_is_a_text_and_specification_error():
    error = parse_error("SEEED: 1;")
    assert isinstance(error, TextError) and isinstance(error, SpecificationError)


@pytest.mark.parametrize("text, line, column, message", [
    # unknown commands, with a suggestion of close names
    ("DATA: a.csv;\nSEEED: 123;\n", 2, 0, "'SEEED' is not a Blimp command"),
    ("MODEL: y ~ x;\n  ITERATONS: 100;\n", 2, 2, "'ITERATONS' is not a Blimp command"),
    ("MODEL: y ~ x;\nWALDTEST: b1 = 0;\n", 2, 0, "WALDTEST is a Blimp command that multilevel does not support"),
    # statements that do not start with NAME:
    ("y ~ x;\n", 1, 0, "does not start with a command"),
    ("SEED: 1;\n  2;\n", 2, 2, "does not start with a command"),
    # missing semicolons
    ("DATA: a.csv;\nSEED: 123\n", 2, 9, "the last statement does not end with ';'"),
    ("DATA: a.csv\nSEED: 123;\n", 1, 11, "does not end with ';' before SEED"),
    # model lines
    ("MODEL:\n  y x1 x2;\n", 2, 2, "a model line needs '~'"),
    ("MODEL: y ~ ;\n", 1, 9, "no predictors after '~'"),
    ("MODEL: ~ x;\n", 1, 7, "no outcome before '~'"),
    ("MODEL: y ~ x |;\n", 1, 13, "no random effects after '|'"),
    ("MODEL: intercept -> ;\n", 1, 17, "no outcomes after '->'"),
    ("MODEL: -> y;\n", 1, 7, "nothing before '->'"),
    ("MODEL: y ~ x1 + x2;\n", 1, 14, "unexpected '+'"),
    ("MODEL: y ~ x1 $ x2;\n", 1, 14, "unexpected character '$'"),
    ("MODEL: y ~ x ~ z;\n", 1, 13, "a second '~'"),
    ("MODEL: y ~ 2x;\n", 1, 11, "'2x' is neither a number nor a name"),
    ("MODEL: y@a ~ x;\n", 1, 8, "label '@...' is not allowed here"),
    ("MODEL: y ~ x@;\n", 1, 13, "expected a label after '@'"),
    ("MODEL: y ~ x[g];\n", 1, 12, "belongs to a random effect"),
    ("MODEL: x*z ~ y;\n", 1, 7, "an outcome must be a variable name"),
    ("MODEL: f \u2013> y;\n", 1, 9, "typographic dash"),
    ("MODEL: y ~ (x + 1;\n", 1, 11, "'(' is never closed"),
    ("MODEL: y ~ (x + );\n", 1, 16, "a term is missing"),
    ("MODEL: y ~ a : b;\n", 1, 13, "unexpected ':'"),
    ("MODEL:\n  focal: ;\n", 2, 2, "the model block 'focal:' has no model line"),
    # duplicates
    ("SEED: 1;\nSEED: 2;\n", 2, 0, "SEED is given twice (first on line 1)"),
    ("ITERATIONS: 1;\nITER: 2;\n", 2, 0, "ITERATIONS is given twice"),
    # numbers and names
    ("BURN: many;\n", 1, 6, "BURN must be a whole number"),
    ("THIN: 2.5;\n", 1, 6, "THIN must be a whole number"),
    ("ITERATIONS: 100 200;\n", 1, 16, "ITERATIONS takes a single whole number"),
    ("CLUSTERID: a b c;\n", 1, 15, "CLUSTERID takes at most 2 names"),
    ("ORDINAL: x1 2x;\n", 1, 12, "'2x' is not a variable name"),
    ("DATA: ;\n", 1, 0, "DATA needs a value"),
    # CENTER, PARAMETERS, SIMPLE, SAVE
    ("CENTER: groupmen = x1;\n", 1, 8, "'groupmen' is not a kind of centering"),
    ("CENTER: groupmean = x1 grandmean = x2;\n", 1, 33, "expected a variable name but found '='"),
    ("CENTER: groupmean x1;\n", 1, 18, "expected '=' after 'groupmean'"),
    ("PARAMETERS: a*b;\n", 1, 12, "a PARAMETERS line has the form 'name = expression'"),
    ("PARAMETERS:\n  ind = a * ;\n", 2, 11, "the expression ends too early"),
    ("SIMPLE: x1 x2;\n", 1, 11, "expected '|' after the focal predictor"),
    ("SIMPLE: x1 | x2 = low;\n", 1, 18, "expected a number"),
    ("SAVE: stacked imps.csv;\n", 1, 6, "a SAVE line has the form 'what = file'"),
])
def test_errors_name_the_line_and_point_at_the_token(text, line, column, message):
    error = parse_error(text)
    first_line = str(error).splitlines()[0]
    assert first_line.startswith(f"line {line}: ")
    assert message in first_line
    assert error.line_number == line
    assert caret_column(error) == column
    assert str(error).splitlines()[1] == "    " + text.splitlines()[line - 1].replace("\t", " ")


def test_unknown_command_suggests_close_names():
    assert "Did you mean SEED?" in str(parse_error("SEEED: 1;"))
    assert "Did you mean ITERATIONS?" in str(parse_error("ITERATONS: 1;"))
    assert "Blimp commands: DATA," in str(parse_error("FOO: 1;"))


def test_caret_lines_up_after_tabs_and_on_later_lines():
    error = parse_error("DATA:\ta.csv;\t# data\nMODEL:\n\ty ~ x1 + x2;\n")
    rendered = str(error).splitlines()
    assert error.line_number == 3
    assert rendered[1] == "     y ~ x1 + x2;"
    assert rendered[2] == "            ^ column 9"  # a tab counts as one column


def test_error_inside_a_multi_line_statement_points_at_its_own_line():
    error = parse_error("MODEL: y ~ x1\n   x2 + x3;\n")
    assert error.line_number == 2 and caret_column(error) == 6


def test_windows_line_endings():
    script = parse_script("DATA: a.csv;\r\nMODEL:\r\n focal:\r\n y ~ x | x;\r\nSEED: 1;\r\n")
    (line,) = script.model
    assert (line.block, line.line, line.text) == ("focal", 4, "y ~ x | x")
    assert script.command("SEED").line == 5
    error = parse_error("SEED: 1;\r\nBURN: x;\r\n")
    assert error.line_number == 2 and caret_column(error) == 6


def test_missing_semicolon_inside_the_model_points_at_the_end_of_the_line():
    error = parse_error("MODEL:\n  y ~ x\n  SEED: 1;\n")
    assert "before SEED" in str(error)
    assert error.line_number == 2 and caret_column(error) == 7


def test_not_a_string():
    with pytest.raises(TypeError):
        parse_script(None)
