"""Fuzzing the text and file inputs: the formula parser, the Blimp script parser and its translation, and
the data readers. For any input the only allowed outcomes are a result, or a :class:`MultilevelError`
with a message: never another exception (a traceback), never an empty message.

Inputs are random text from each parser's alphabet and mutations (insert, delete, replace characters,
duplicate or drop tokens) of valid inputs taken from the tests. The default tier runs 100 examples per
parser with a fixed seed; the statistical tier (``pytest -m statistical``) runs 1,500.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multilevel.blimp import load_script, translate
from multilevel.data_files import read_data_file, read_table
from multilevel.errors import MultilevelError
from multilevel.model.build import build_model
from multilevel.syntax import parse_formula, parse_script

DATA = Path(__file__).parent / "data"

DEFAULT = settings(max_examples=100, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.filter_too_much])
SLOW = settings(DEFAULT, max_examples=1500)


@pytest.fixture(scope="module")
def only_when_statistical_asked(request):
    """1,500 examples run only when the statistical tier is asked for by name (``-m statistical``), not when
    a run without ``-m`` (``-o addopts=""``) happens to collect them."""
    expression = request.config.getoption("-m") or ""
    if "statistical" not in expression or "not statistical" in expression:
        pytest.skip("statistical fuzz tier: run with pytest -m statistical")


def allowed(call):
    """Run ``call``: a result, or a MultilevelError with a message. Anything else fails the test."""
    try:
        return call()
    except MultilevelError as error:
        assert str(error).strip(), f"a {type(error).__name__} without a message"
        return None


# -- strategies ---------------------------------------------------------------------------

EXTRA_WORDS = {"intercept", ".mean", ".missing", "@b1", "^2", "**", "|", "||", "~", "*", ":", "(", ")", "1",
               "0", "-", "->", "~~", "[g]", "focal:", "NA", "x.mean", "y.missing", "CENTER:", "ORDINAL:", "NOMINAL:",
               "FIXED:", "CLUSTERID:", "MODEL:", "groupmean", "grandmean", "=", ";", "I(", "1e400", "%in%"}
ODD = "\u00a0\u200b\ufeff\u00b2\u00e9\u2013\u2212\u0663\x00\x07"


@st.composite
def mutated(draw, seeds: list[str], alphabet: str):
    """A valid input with a few characters inserted, deleted or replaced and tokens duplicated or dropped."""
    text = draw(st.sampled_from(seeds))
    vocabulary = sorted({token for seed in seeds for token in re.findall(r"[\w.]+|[^\w\s]+", seed)} | EXTRA_WORDS)
    for _ in range(draw(st.integers(1, 3))):
        operation = draw(st.sampled_from(["insert", "delete", "replace", "duplicate", "drop", "swap", "word",
                                          "word"]))
        position = draw(st.integers(0, len(text)))
        if operation == "word":  # a token that means something to the parser, at any place
            word = draw(st.sampled_from(vocabulary))
            text = text[:position] + draw(st.sampled_from(["", " "])) + word + draw(st.sampled_from(["", " "])) \
                + text[position:]
        elif operation == "insert":
            text = text[:position] + draw(st.text(alphabet, min_size=1, max_size=3)) + text[position:]
        elif operation == "delete" and text:
            length = draw(st.integers(1, 3))
            text = text[:position] + text[position + length:]
        elif operation == "replace" and text:
            position = min(position, len(text) - 1)
            text = text[:position] + draw(st.sampled_from(alphabet)) + text[position + 1:]
        else:
            tokens = list(re.finditer(r"\S+", text))
            if not tokens:
                continue
            token = tokens[draw(st.integers(0, len(tokens) - 1))]
            if operation == "duplicate":
                text = text[:token.end()] + " " + token.group() + text[token.end():]
            elif operation == "drop":
                text = text[:token.start()] + text[token.end():]
            else:  # swap with a neighbour
                other = tokens[min(len(tokens) - 1, tokens.index(token) + 1)]
                if other is not token:
                    text = (text[:token.start()] + other.group() + text[token.end():other.start()] + token.group()
                            + text[other.end():])
    return text


def inputs(seeds: list[str], alphabet: str, max_size: int = 60):
    """A quarter random text, three quarters mutated valid inputs (which get further into the code)."""
    return st.one_of(st.text(alphabet, max_size=max_size), mutated(seeds, alphabet), mutated(seeds, alphabet),
                     mutated(seeds, alphabet))


# -- the formula parser -------------------------------------------------------------------

FORMULAS = [
    "Reaction ~ Days + (Days | Subject)",
    "y ~ x1 * x2 + (1 + x1 || g)",
    "y ~ (a + b + c)^2 - a:b",
    "y ~ I(x^2) + log(z) + C(f, ref = 'b') + offset(log(t))",
    "y ~ x + (1 | g1/g2) + (1 | g1:g2)",
    "cbind(s, f) ~ x + (1 | g)",
    "y | trials(n) ~ x %in% g",
    "y ~ 0 + x + I(x > 0) + scale(x)",
    "y ~ latent_mean(x) + `odd name` + x.missing",
]
FORMULA_ALPHABET = "abgxyz12 0.5e~+-*/:|()^,%in'\"`=<>!_ID" + ODD


def formula_outcome(text: str) -> None:
    parsed = allowed(lambda: parse_formula(text))
    if parsed is not None:
        assert parsed.text == text


@DEFAULT
@given(inputs(FORMULAS, FORMULA_ALPHABET))
def test_formula_parser_never_crashes(text):
    formula_outcome(text)


@pytest.mark.statistical
@SLOW
@given(inputs(FORMULAS, FORMULA_ALPHABET, max_size=120))
def test_formula_parser_never_crashes_slow(only_when_statistical_asked, text):
    formula_outcome(text)


def test_formula_fuzz_inputs_reach_the_builder():
    """Valid formulas from the fuzzer's seeds build a model spec or give a MultilevelError (no traceback)."""
    frame = _small_frame()
    for text in FORMULAS:
        allowed(lambda: build_model(text, frame))  # noqa: B023 - called at once


# -- the Blimp script parser and translation ----------------------------------------------

def _script_seeds() -> list[str]:
    scripts = [(DATA / "04_multilevel.imp").read_text()]
    scripts += [path.read_text() for path in sorted((DATA / "blimp_book").glob("*.imp"))]
    scripts += [
        "DATA: small.csv;\nCLUSTERID: g;\nORDINAL: o;\nMISSING: 999;\nCENTER: groupmean = x; grandmean = z;\n"
        "MODEL: focal: y ~ x z x*z o@b1 | x;\nx ~ z;\ny.missing ~ y x;\nPARAMETERS: d = b1*2;\n"
        "SIMPLE: x | z = 0 1;\nSEED: 5;\nBURN: 100;\nITERATIONS: 200;\nCHAINS: 2;\nOPTIONS: psr labels;\n",
        "DATA: small.dat;\nVARIABLES: g y x z o;\nCLUSTERID: g;\nFIXED: z;\nMODEL: y ~ x z x.mean x^2;\n",
    ]
    return scripts


SCRIPTS = _script_seeds()
SCRIPT_ALPHABET = "DATMOLEIScgxyzo:;#~|*@^=.,-> \n\t()[]0123456789" + ODD


NAMES = ["g", "y", "x", "z", "o", "x.mean", "z.mean", "y.missing", "intercept", "w", "1", "0"]
VALID = ["x", "z", "o", "x.mean", "z.mean", "intercept"]


@st.composite
def generated_scripts(draw):
    """Scripts built from commands and model lines over the small data's variables (and near misses),
    so that most of them parse and reach the translation."""
    def term():
        first = draw(st.sampled_from(VALID * 3 + NAMES))
        form = draw(st.sampled_from(["name", "name", "product", "power", "label"]))
        if form == "product":
            return f"{first}*{draw(st.sampled_from(VALID * 3 + NAMES))}"
        if form == "power":
            return f"{first}^{draw(st.sampled_from(['2', '3', '0.5', '-1', 'x', '1e400']))}"
        if form == "label":
            return f"{first}@{draw(st.sampled_from(['b1', 'b2', '1', '0']))}"
        return first

    def names(most=3):
        return " ".join(draw(st.lists(st.sampled_from(NAMES[:6] + ["w", "x:z"]), min_size=1, max_size=most)))

    headerless = draw(st.booleans())
    variables = ["g y x z o"] * 4 + ["g y x z", "g y x z o w"]  # mostly right, sometimes one too few or many
    lines = ["DATA: small.dat;\nVARIABLES: " + draw(st.sampled_from(variables)) + ";"
             if headerless else "DATA: small.csv;"]
    optional = {
        "CLUSTERID": lambda: f"CLUSTERID: {names(2)};",
        "ORDINAL": lambda: f"ORDINAL: {names()};",
        "NOMINAL": lambda: f"NOMINAL: {names()};",
        "FIXED": lambda: f"FIXED: {names()};",
        "MISSING": lambda: f"MISSING: {draw(st.sampled_from(['999', '-99', '0', 'NA', '1']))};",
        "CENTER": lambda: f"CENTER: {draw(st.sampled_from(['groupmean', 'grandmean', 'cwc', 'cgm']))} = "
                          f"{draw(st.sampled_from(NAMES[:7]))};",
        "SEED": lambda: f"SEED: {draw(st.sampled_from(['0', '5', '99999999999999999999']))};",
        "CHAINS": lambda: f"CHAINS: {draw(st.sampled_from(['0', '1', '3']))};",
        "ITERATIONS": lambda: f"ITERATIONS: {draw(st.sampled_from(['0', '1', '200']))};",
        "BURN": lambda: f"BURN: {draw(st.sampled_from(['0', '100']))};",
        "THIN": lambda: f"THIN: {draw(st.sampled_from(['0', '2']))};",
        "NIMPS": lambda: f"NIMPS: {draw(st.sampled_from(['0', '5']))};",
        "SAVE": lambda: f"SAVE: {draw(st.sampled_from(['stacked', 'average', 'separate', 'other']))} = imps.csv;",
        "OPTIONS": lambda: f"OPTIONS: {draw(st.sampled_from(['psr', 'labels hev', 'latent']))};",
        "PARAMETERS": lambda: f"PARAMETERS: d = {draw(st.sampled_from(['b1*2', 'b1/b2', 'nosuch + 1', 'b1^2']))};",
        "SIMPLE": lambda: f"SIMPLE: {draw(st.sampled_from(NAMES[:5]))} | {draw(st.sampled_from(NAMES[:5]))};",
    }
    if draw(st.integers(0, 9)) < 7:
        lines.append("CLUSTERID: g;")
        optional.pop("CLUSTERID")
    for command in draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=5)):
        lines.append(optional[command]())
    model = []
    for position in range(draw(st.sampled_from([1, 1, 1, 2, 2, 3]))):
        outcome = draw(st.sampled_from((["y"] * 6 if position == 0 else ["x", "z", "o"] * 2)
                                       + ["y", "x", "z", "o", "y.missing", "x.missing", "y x", "g"]))
        right = " ".join(term() for _ in range(draw(st.integers(1, 4))))
        random = draw(st.sampled_from(["", "", " | x", " | z x", " | intercept", " | x[g]"]))
        block = draw(st.sampled_from(["", "", "", "focal: ", "auxiliary: "])) if position else ""
        model.append(f"{block}{outcome} ~ {right}{random};")
    lines.insert(draw(st.integers(1, len(lines))), "MODEL: " + "\n".join(model))
    return "\n".join(lines) + "\n"


def _small_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 24
    return pd.DataFrame({"g": np.repeat(np.arange(6), 4), "y": rng.normal(size=n).round(3),
                         "x": rng.normal(size=n).round(3), "z": rng.normal(size=n).round(3),
                         "o": rng.integers(1, 4, size=n)})


@pytest.fixture(scope="module")
def script_folder():
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        frame = _small_frame()
        frame.loc[[2, 5], "y"] = 999
        frame.loc[[7], "x"] = 999
        frame.to_csv(path / "small.csv", index=False)
        frame.to_csv(path / "small.dat", sep=" ", index=False, header=False)
        (path / "04_multilevel.csv").write_text((DATA / "04_multilevel.csv").read_text())
        (path / "mathprobsolve.csv").write_text((DATA / "blimp_book" / "mathprobsolve.csv").read_text())
        (path / "medtriallong.csv").write_text((DATA / "blimp_book" / "medtriallong.csv").read_text())
        yield path


def script_outcome(folder: Path, text: str) -> None:
    """Parse; translate against the data; and build the translated model (no sampling)."""
    parsed = allowed(lambda: parse_script(text))
    if parsed is None:
        return
    script = folder / "fuzz.imp"
    script.write_text(text, encoding="utf-8")
    translated = allowed(lambda: load_script(script))
    if translated is None:
        return
    for formula in translated.formulas():
        # the translation builds the tree the formula front end reads from its text
        assert parse_formula(str(formula)) == formula, str(formula)
        assert "None" not in str(formula), str(formula)
    allowed(lambda: build_model(translated.formula, translated.data, **translated.options))


@DEFAULT
@given(st.one_of(inputs(SCRIPTS, SCRIPT_ALPHABET, max_size=120), generated_scripts(), generated_scripts()))
def test_blimp_script_parser_and_translation_never_crash(script_folder, text):
    script_outcome(script_folder, text)


@pytest.mark.statistical
@SLOW
@given(st.one_of(inputs(SCRIPTS, SCRIPT_ALPHABET, max_size=200), generated_scripts(), generated_scripts()))
def test_blimp_script_parser_and_translation_never_crash_slow(only_when_statistical_asked, script_folder, text):
    script_outcome(script_folder, text)


def test_translation_of_every_seed_script_builds(script_folder):
    frame = _small_frame()
    for text in SCRIPTS:
        script = allowed(lambda: parse_script(text))  # noqa: B023 - called at once
        assert script is not None
        allowed(lambda: translate(script, frame))  # noqa: B023 - called at once


# -- the data readers ---------------------------------------------------------------------

TABLES = [
    "g,y,x,z\n1,0.5,2,3\n1,1.5,999,4\n2,-0.25,5,-99\n2,3,1,0\n",
    "g y x\n1 0.5 2\n1 1.5 999\n2 -0.25 5\n",
    "1 0.5 2\n1 1.5 999\n2 -0.25 5\n",
    "g\ty\tx\n1\t0.5\t\n2\t1\t3\n",
    '"g","y"\n"a",1\n"b, c",2\n',
]
TABLE_ALPHABET = "gyx019.-, \t\n\r\"'e" + ODD
SUFFIXES = [".csv", ".dat", ".txt", ".tsv", ".gz"]
CODES = [None, "999", "-99", "0", "NA", ".", "1e400", "nan"]


@st.composite
def data_files(draw, max_size: int):
    kind = draw(st.sampled_from(["bytes", "text", "mutated"]))
    if kind == "bytes":
        content = draw(st.binary(max_size=max_size))
    elif kind == "text":
        content = draw(st.text(TABLE_ALPHABET, max_size=max_size)).encode("utf-8")
    else:
        content = draw(mutated(TABLES, TABLE_ALPHABET)).encode(draw(st.sampled_from(["utf-8", "utf-8", "latin-1"])),
                                                                 errors="replace")
    return content, draw(st.sampled_from(SUFFIXES)), draw(st.sampled_from(CODES))


def reader_outcome(folder: Path, content: bytes, suffix: str, code) -> None:
    path = folder / f"fuzz{suffix}"
    path.write_bytes(content)
    frame = allowed(lambda: read_data_file(path, code))
    if frame is not None:
        assert isinstance(frame, pd.DataFrame) and frame.shape[0] > 0
    names = ["a", "b", "c"]
    frame = allowed(lambda: read_table(path, code, header=None, names=names))
    if frame is not None:
        assert list(frame.columns) == names


@DEFAULT
@given(data_files(max_size=80))
def test_data_readers_never_crash(script_folder, data):
    reader_outcome(script_folder, *data)


@pytest.mark.statistical
@SLOW
@given(data_files(max_size=200))
def test_data_readers_never_crash_slow(only_when_statistical_asked, script_folder, data):
    reader_outcome(script_folder, *data)


# -- what the fuzzers found (each crashed or lost data before the fix) -------------------------

@pytest.mark.parametrize("text", [
    "DATA: small.csv;\nMODEL: y.missing ~ g;\n",                      # StopIteration: no focal model
    "DATA: small.csv;\nCHAINS: 0;\nITERATIONS: 0;\nMODEL: y ~ g;\n",  # ZeroDivisionError
    "DATA: small.csv;\nMODEL: y ~ \u00b2;\n",                         # AttributeError: '²' is a digit to isdigit()
    "DATA: small.csv;\nMODEL: var(y) ~ x;\n",                         # AttributeError: an outcome that is a call
])
def test_scripts_the_fuzzer_found(script_folder, text):
    script_outcome(script_folder, text)
    path = script_folder / "found.imp"
    path.write_text(text)
    with pytest.raises(MultilevelError):
        load_script(path)


@pytest.mark.parametrize("content, suffix", [
    (b"\x80", ".csv"),               # UnicodeDecodeError
    (b"", ".csv"),                   # pandas EmptyDataError
    (b"\x00", ".csv"),               # an empty frame from a NUL byte
    (b"\x00", ".gz"),                # gzip.BadGzipFile
    (b'\n"b,\n"a",1 \n', ".dat"),    # a quote that does not pair up: an empty table with odd columns
    (b'a b\n"x y" 1\n2 3\n', ".txt"),
])
def test_data_files_the_fuzzer_found(script_folder, content, suffix):
    path = script_folder / f"found{suffix}"
    path.write_bytes(content)
    if content == b'a b\n"x y" 1\n2 3\n':  # a quoted value with a space is one field
        assert read_data_file(path)["a"].tolist() == ["x y", "2"]
        return
    with pytest.raises(MultilevelError):
        read_data_file(path)


def test_a_power_of_the_intercept_is_not_translated_to_a_column_called_none(script_folder):
    """The fuzzer found 'y ~ intercept^2' translated to 'y ~ I(None^2)' (then: no column 'None')."""
    path = script_folder / "power.imp"
    path.write_text("DATA: small.csv;\nCLUSTERID: g;\nMODEL: y ~ x intercept^2;\n")
    with pytest.raises(MultilevelError, match="line 3: a power needs a variable"):
        load_script(path)
