"""Text and file inputs: a bad file, script or formula is a clear error naming it, never a shifted table,
silently lost values, a traceback or an echo of a file that is not data."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel.blimp import ScriptDataError
from multilevel.cli import main
from multilevel.data_files import check_missing_code, read_data_file, read_table
from multilevel.errors import BlimpScriptError, DataError, FormulaSyntaxError
from multilevel.syntax import parse_formula, parse_script

DATA = Path(__file__).parent / "data"
SCRIPT = (DATA / "04_multilevel.imp").read_text()


def cli(argv: list[str]) -> tuple[int, str]:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, stderr.getvalue()


@pytest.fixture
def folder(tmp_path):
    shutil.copy(DATA / "04_multilevel.csv", tmp_path / "04_multilevel.csv")
    return tmp_path


def write_script(folder: Path, text: str, name: str = "analysis.imp") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- 1. headerless files: VARIABLES must name every field ------------------------------------

FIVE = "".join(f"{k} {10 + k} {20 + k} {30 + k} {40 + k}\n" for k in range(12))


@pytest.mark.parametrize("names", ["a b c d", "a b c d e f"])
def test_variables_that_do_not_match_the_fields_are_an_error(folder, names):
    (folder / "five.dat").write_text(FIVE)
    path = write_script(folder, f"DATA: five.dat;\nVARIABLES: {names};\nMODEL: b ~ c;\n")
    with pytest.raises(ScriptDataError) as caught:
        ml.load_script(path)
    message = str(caught.value)
    count = len(names.split())
    assert message.startswith("line 2: ")  # the VARIABLES line
    assert f"names {count} variable(s) but line 1 of '" in message and "five.dat' has 5 field(s)" in message
    assert isinstance(caught.value, DataError) and isinstance(caught.value, BlimpScriptError)


def test_a_line_with_a_different_field_count_is_named(folder):
    (folder / "five.dat").write_text(FIVE + "1 2 3 4\n")
    path = write_script(folder, "DATA: five.dat;\nVARIABLES: a b c d e;\nMODEL: b ~ c;\n")
    with pytest.raises(ScriptDataError, match="line 13 of '.*five.dat' has 4 field"):
        ml.load_script(path)


def test_variables_that_match_read_every_column_unshifted(folder):
    (folder / "five.dat").write_text(FIVE)
    translated = ml.load_script(write_script(folder, "DATA: five.dat;\nVARIABLES: a b c d e;\nMODEL: b ~ c;\n"))
    assert list(translated.data.columns) == list("abcde")
    assert translated.data["a"].tolist() == list(range(12)) and translated.data["e"].iloc[0] == 40


def test_a_headerless_file_without_variables_is_refused(folder):
    (folder / "five.dat").write_text(FIVE)
    with pytest.raises(ScriptDataError, match="line 1: the first line of 'five.dat' holds numbers.*no VARIABLES"):
        ml.load_script(write_script(folder, "DATA: five.dat;\nMODEL: b ~ c;\n"))


def test_read_table_with_names_checks_the_field_count(tmp_path):
    path = tmp_path / "five.dat"
    path.write_text(FIVE)
    with pytest.raises(DataError, match="names 4 variable"):
        read_table(path, header=None, names=list("abcd"))


# -- 2. missing-value codes that may be real values -----------------------------------------

LIKERT = "y,item\n" + "".join(f"{0.37 * k:.2f},{k % 6}\n" for k in range(30))


def test_missing_code_zero_on_a_zero_to_five_item_is_refused(tmp_path):
    path = tmp_path / "likert.csv"
    path.write_text(LIKERT)
    with pytest.raises(DataError, match=r"code 0 appears 5 time\(s\) in column 'item', whose other values run "
                                        r"from 1 to 5.*-99 or 999"):
        read_data_file(path, "0")
    code, printed = cli(["fit", "--data", str(path), "--model", "y ~ item", "--missing-code", "0"])
    assert code == 2 and "--missing-code: the missing-value code 0" in printed and "Traceback" not in printed
    (tmp_path / "likert.imp").write_text("DATA: likert.csv;\nMISSING: 0;\nMODEL: y ~ item;\n")
    with pytest.raises(DataError, match="line 2: the missing-value code 0 .* column 'item'"):
        ml.load_script(tmp_path / "likert.imp")


@pytest.mark.parametrize("values, code", [
    (list(range(0, 11)), "0"),       # the docstring's example: 0 on a 0-10 scale
    (list(range(1, 6)), "6"),        # one step past the top of a 1-5 scale
    ([0, 1, 1, 0, 1], "0"),          # a 0/1 indicator
    ([1, 1, 1, 1], "0"),             # a constant column of 1s: 0 may be its other value
    ([0, 10, 20, 30], "-10"),        # one step (10) below the bottom of a grid of tens
])
def test_codes_at_the_edge_of_a_grid_of_whole_numbers_are_refused(values, code):
    number = float(code)
    raw = pd.DataFrame({"v": [str(value) for value in values] + [code]})
    if number in values:
        raw = pd.DataFrame({"v": [str(value) for value in values]})
    with pytest.raises(DataError, match="column 'v'"):
        check_missing_code(raw, code)


@pytest.mark.parametrize("code", ["999", "-99", "0"])
def test_codes_far_from_the_values_keep_working(tmp_path, code):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"y": rng.normal(5, 1, 40).round(3) + 10, "x": rng.uniform(2, 3, 40).round(3),
                          "item": rng.integers(1, 6, 40)})
    frame.loc[[3, 9], "x"] = float(code)
    path = tmp_path / "far.csv"
    frame.to_csv(path, index=False)
    if code == "0":  # 0 is one step below the item's 1-5 scale, but it does not occur there
        assert (frame["item"] != 0).all()
    read = read_data_file(path, code)
    assert read["x"].isna().sum() == 2 and read["item"].notna().all()


def test_the_bundled_scripts_missing_codes_still_read():
    for script in sorted((DATA / "blimp_book").glob("*.imp")) + [DATA / "04_multilevel.imp"]:
        assert ml.load_script(script).data.shape[0] > 0


# -- 3. files that are not tables, not text, or not there ------------------------------------

@pytest.mark.parametrize("name, content, fragments", [
    ("ragged.csv", b"y,x\n1,2\n3,4,5\n", ["ragged.csv", "line 3 has 3 field(s)", "header (line 1) has 2"]),
    ("short.dat", b"y x\n1 2\n3\n", ["short.dat", "line 3 has 1 field(s)"]),
    ("binary.csv", b"y,x\n1,2\n\x00\x01\x02\xff", ["binary.csv", "line 3", "binary"]),
    ("empty.csv", b"", ["empty.csv", "is empty"]),
    ("blank.csv", b"\n \n\n", ["blank.csv", "is empty"]),
    ("header.csv", b"y,x\n", ["header.csv", "no data rows"]),
    ("latin.csv", "y,name\n1,caf\u00e9\n".encode("latin-1"), ["latin.csv", "line 2", "0xE9", "UTF-8"]),
    ("control.csv", b"y,x\n1,2\n3,\x07\n", ["control.csv", "line 3", "U+0007"]),
    ("quotes.csv", b'y,x\n1,"2\n3,4\n', ["quotes.csv"]),
    ("data.gz", b"not gzip", ["data.gz", "gzip"]),
])
def test_a_file_that_is_not_a_table_names_the_file(tmp_path, name, content, fragments):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        read_data_file(path)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_missing_files_and_directories(tmp_path):
    with pytest.raises(DataError, match="nosuch.csv' does not exist"):
        read_data_file(tmp_path / "nosuch.csv")
    with pytest.raises(DataError, match="is a directory"):
        read_data_file(tmp_path)
    code, printed = cli(["fit", "--data", "/etc", "--model", "y ~ x"])
    assert code == 2 and printed == "error: '/etc' is a directory, not a data file\n"
    code, printed = cli(["fit", "/etc"])
    assert code == 2 and "is a directory, not a Blimp script" in printed


def test_a_script_whose_data_is_a_directory_or_not_a_table_cites_the_data_line(folder):
    with pytest.raises(ScriptDataError, match="line 1: DATA names a directory"):
        ml.load_script(write_script(folder, "DATA: /etc;\nMODEL: y ~ x;\n"))
    (folder / "ragged.csv").write_text("y,x\n1,2\n3,4,5\n")
    with pytest.raises(ScriptDataError, match="line 2: .*ragged.csv' is not a table: line 3"):
        ml.load_script(write_script(folder, "SEED: 1;\nDATA: ragged.csv;\nMODEL: y ~ x;\n"))
    (folder / "latin.csv").write_bytes("y,x\n1,\u00e9\n".encode("latin-1"))
    with pytest.raises(ScriptDataError, match="line 1: .*latin.csv' is not UTF-8"):
        ml.load_script(write_script(folder, "DATA: latin.csv;\nMODEL: y ~ x;\n"))


def test_a_byte_order_mark_in_a_csv_is_not_part_of_the_first_name(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfy,x\n1,2\n3,4\n")
    assert list(read_data_file(path).columns) == ["y", "x"]


# -- 4. a text file that is not a table is never echoed --------------------------------------

SECRET = "The password for the server is hunter2, keep it safe.\nNobody else should read this note.\n"


@pytest.mark.parametrize("content", [SECRET, SECRET.splitlines()[0] + "\n", "one two three\n"])
def test_a_prose_file_gets_a_reader_error_that_does_not_echo_it(tmp_path, content):
    path = tmp_path / "secret.txt"
    path.write_text(content)
    with pytest.raises(DataError) as caught:
        read_data_file(path)
    first = content.splitlines()[0]
    assert first not in str(caught.value) and "hunter2" not in str(caught.value)
    code, printed = cli(["fit", "--data", str(path), "--model", "y ~ nosuch"])
    assert code == 2 and "Columns" not in printed and first not in printed and "secret.txt" in printed


def test_a_single_column_of_prose_in_a_csv_is_not_a_table(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("Dear Bob the meeting is at noon\nBring the report\n")
    with pytest.raises(DataError, match="does not look like a table") as caught:
        read_data_file(path)
    assert "Dear Bob" not in str(caught.value)


# -- 5. invisible characters in scripts -------------------------------------------------------

def test_a_script_with_a_byte_order_mark_reads(folder):
    path = folder / "notepad.imp"
    path.write_bytes(b"\xef\xbb\xbf" + SCRIPT.encode("utf-8"))
    assert ml.load_script(path).formula_text == "y ~ x1i + x2i + x3i + x2i:x3i + (1 + x1i | j)"
    assert parse_script("\ufeff" + SCRIPT).command("DATA").value == "04_multilevel.csv"


@pytest.mark.parametrize("character, name", [("\u200b", "U+200B (ZERO WIDTH SPACE)"),
                                             ("\u00a0", "U+00A0 (NO-BREAK SPACE)"),
                                             ("\ufeff", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
                                             ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)")])
def test_an_invisible_character_in_a_script_is_named_with_its_line(character, name):
    with pytest.raises(BlimpScriptError) as caught:
        parse_script(SCRIPT.replace("x1i x2i ~ x3i", f"x1i x2i ~{character} x3i"))
    message = str(caught.value)
    assert message.startswith("line 8: ") and name in message


def test_an_invisible_character_in_a_comment_is_fine():
    assert parse_script("# caf\u00e9\u00a0notes\u200b\n" + SCRIPT).command("SEED").value == "123"


def test_a_script_that_is_not_utf8_is_named(folder):
    path = folder / "latin.imp"
    path.write_bytes(("# \u00e9t\u00e9\n" + SCRIPT).encode("latin-1"))
    with pytest.raises(DataError, match="latin.imp' is not UTF-8 text: line 1"):
        ml.load_script(path)


# -- 6. Blimp names: did you mean, both sides, latent group means ------------------------------

@pytest.mark.parametrize("old, new, line, wrong, meant", [
    ("y ~ x1i x2i x3i", "y ~ x1i x2i x3", 6, "x3", "x3i"),
    ("CLUSTERID: j;", "CLUSTERID: jj;", 2, "jj", "j"),
    ("FIXED: x3i;", "FIXED: X3i;", 3, "X3i", "x3i"),
])
def test_a_misspelled_variable_gets_did_you_mean_and_the_variables(folder, old, new, line, wrong, meant):
    with pytest.raises(BlimpScriptError) as caught:
        ml.load_script(write_script(folder, SCRIPT.replace(old, new)))
    message = str(caught.value)
    assert message.startswith(f"line {line}: '{wrong}' is not a variable of the data")
    assert f"Did you mean '{meant}'?" in message and "The data's variables: j, y, x1i, x2i, x3i." in message


def test_ordinal_and_center_typos_cite_their_line(folder):
    with pytest.raises(BlimpScriptError, match="line 13: 'x2' is not a variable.*\n.*\n.*\nDid you mean 'x2i'"):
        ml.load_script(write_script(folder, SCRIPT + "ORDINAL: x2;\n"))
    with pytest.raises(BlimpScriptError) as caught:
        ml.load_script(write_script(folder, SCRIPT + "CENTER: groupmean = x1i;\ngrandmean = x22;\n"))
    message = str(caught.value)
    assert message.startswith("line 14: 'x22' is not a variable") and "Did you mean 'x2i'" in message


def test_the_outcome_on_both_sides_is_named_on_its_line(folder):
    with pytest.raises(BlimpScriptError) as caught:
        ml.load_script(write_script(folder, SCRIPT.replace("y ~ x1i x2i", "y ~ y x1i x2i")))
    error = caught.value
    assert error.line_number == 6 and error.message == "'y' is on both sides of this model line"
    assert error.text[error.start:error.end] == "y" and error.start == 4


def test_centering_a_latent_group_mean_is_refused_on_its_line(folder):
    with pytest.raises(BlimpScriptError) as caught:
        ml.load_script(write_script(folder, SCRIPT + "CENTER: grandmean = x1i.mean;\n"))
    message = str(caught.value)
    assert message.startswith("line 13: centering a latent group mean (x1i.mean) is not available yet")
    assert "Remove x1i.mean from CENTER" in message and "no column" not in message


def test_a_latent_group_mean_needs_clusterid(folder):
    with pytest.raises(BlimpScriptError, match="line 3: 'x1i.mean' is a latent group mean.*no CLUSTERID"):
        ml.load_script(write_script(folder, "DATA: 04_multilevel.csv;\nFIXED: x3i;\nMODEL: y ~ x1i x1i.mean;\n"))


@pytest.mark.parametrize("command, value", [("CHAINS", "0"), ("ITERATIONS", "0"), ("THIN", "0"), ("NIMPS", "0"),
                                            ("SEED", str(2 ** 63))])
def test_whole_numbers_out_of_range_cite_their_line(folder, command, value):
    extra = "SAVE: stacked = imps.csv;\n" if command == "NIMPS" else ""
    text = SCRIPT.replace("SEED: 123;\n", "").replace("ITERATIONS: 20000;\n", "")
    with pytest.raises(BlimpScriptError, match=f"{command} must be from"):
        ml.load_script(write_script(folder, text + f"{command}: {value};\n" + extra))


def test_only_missingness_models_is_an_error(folder):
    with pytest.raises(BlimpScriptError, match="line 4: every model line is a missingness"):
        ml.load_script(write_script(folder, "DATA: 04_multilevel.csv;\nCLUSTERID: j;\nFIXED: x3i;\n"
                                            "MODEL: y.missing ~ x1i;\n"))


# -- 7. powers in formulas ---------------------------------------------------------------------

@pytest.mark.parametrize("formula, operator, hint", [
    ("Reaction ~ Days**2 + (Days | Subject)", "**", "I(Days**2)"),
    ("Reaction ~ Days^2 + (Days | Subject)", "^", "I(Days^2)"),
    ("Reaction ~ Days + (Days^2 | Subject)", "^", "I(Days^2)"),
    ("Reaction ~ log(Days + 1)^2", "^", "I(log(Days + 1)^2)"),
    ("Reaction ~ (Days)^2", "^", "I(Days^2)"),
    ("y ~ (a + b)**2", "**", "(a + b)^2"),
])
def test_a_power_outside_i_is_an_error_with_a_caret_under_it(formula, operator, hint):
    with pytest.raises(FormulaSyntaxError) as caught:
        parse_formula(formula)
    error = caught.value
    assert formula[error.start:error.end] == operator
    assert hint in str(error)


def test_powers_that_mean_something_keep_working(sleepstudy):
    assert parse_formula("y ~ (a + b + c)^2 - a:b") is not None
    assert parse_formula("y ~ I(x^2) + I(x**3) + log(x^2) + exp(-x**2)") is not None
    for square in ("I(Days^2)", "I(Days**2)"):
        model = ml.Model(f"Reaction ~ Days + {square} + (1 | Subject)", sleepstudy)
        assert model.spec.fixed_names == ("Intercept", "Days", square) or square in model.spec.fixed_names
    with pytest.raises(FormulaSyntaxError, match="not a power"):
        ml.Model("Reaction ~ Days**2 + (Days | Subject)", sleepstudy)


def test_an_invisible_character_in_a_formula_is_named():
    with pytest.raises(FormulaSyntaxError, match=r"U\+200B \(ZERO WIDTH SPACE\)"):
        parse_formula("y ~ x\u200b + z")


# -- PARAMETERS and SIMPLE are checked before sampling, not after ------------------------------

LABELLED = SCRIPT.replace("y ~ x1i x2i x3i x2i*x3i | x1i;", "y ~ x1i@b1 x2i@b2 x3i x2i*x3i@b23 | x1i;")


@pytest.mark.parametrize("extra, fragments", [
    ("PARAMETERS: d = b1 * nosuch;\n", ["line 13: 'nosuch' in PARAMETERS is not a label", "Known: Intercept, b1"]),
    ("PARAMETERS:\n  d = b1 - b2;\n  e = d + f;\n", ["line 15: 'f' in PARAMETERS"]),
    ("SIMPLE: x1i | x2i;\n", ["line 13: SIMPLE: 'x2i' does not interact with 'x1i'", "x2i:x3i"]),
    ("SIMPLE: x2 | x3i;\n", ["line 13: SIMPLE: 'x2' is not a predictor of the focal model"]),
])
def test_derived_quantities_are_checked_when_the_script_is_read(folder, extra, fragments):
    with pytest.raises(BlimpScriptError) as caught:
        ml.load_script(write_script(folder, LABELLED + extra))
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_valid_derived_quantities_still_read(folder):
    extra = "PARAMETERS:\n  diff = b1 - b2;\n  scaled = 2 * sqrt(abs(diff));\nSIMPLE: x2i | x3i;\n  x3i | x2i = 0 1;\n"
    translated = ml.load_script(write_script(folder, LABELLED + extra))
    assert translated.quantities.definitions == (("diff", "b1 - b2"), ("scaled", "2 * sqrt(abs(diff))"))


def test_a_latent_group_mean_outside_the_focal_model_cites_its_line(folder):
    with pytest.raises(BlimpScriptError, match=r"line 8: 'x3i.mean' \(a latent group mean\) is available in the "
                                               "focal model only"):
        ml.load_script(write_script(folder, SCRIPT.replace("x1i x2i ~ x3i;", "x1i x2i ~ x3i.mean;")))


def test_centering_a_variable_the_model_does_not_use_cites_the_center_line(folder):
    (folder / "extra.csv").write_text("j,y,x1i,w\n" + "".join(f"{k % 5},{k * 0.3:.2f},{k % 7},{k % 3}\n"
                                                              for k in range(30)))
    with pytest.raises(BlimpScriptError, match="line 4: CENTER: 'w' is not used in the model"):
        ml.load_script(write_script(folder, "DATA: extra.csv;\nCLUSTERID: j;\nMODEL: y ~ x1i;\n"
                                            "CENTER: groupmean = w;\n"))
