"""``multilevel datasets``: the bundled data sets listed, described and written as CSV files; a misspelled
name gets "did you mean"; an existing file is replaced only with --force; nothing is created on an error."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import multilevel as ml
from multilevel import datasets
from multilevel.cli import main


def test_every_bundled_file_is_catalogued_and_described_from_its_file():
    bundled = sorted(path.name for path in datasets.resources.files(datasets.__name__).iterdir()
                     if path.name.endswith(".csv"))
    assert sorted(entry.file for entry in datasets.CATALOGUE) == bundled
    for name in datasets.names():
        shown = datasets.describe(name)
        frame = ml.datasets.load(name)
        assert (shown.rows, shown.columns) == (len(frame), tuple(frame.columns)), name
        assert shown.description and len(shown.description) <= 52  # the listing fits 80 columns


def test_identifiers_written_as_numbers_are_read_as_text():
    assert ml.datasets.load("sleepstudy")["Subject"].map(type).eq(str).all()
    assert ml.datasets.load("mathach")["School"].iloc[0] == "1224"


def test_listing_names_every_data_set_with_its_size_in_80_columns(capsys):
    assert main(["datasets"]) == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.split()[:3] == ["sleepstudy", "180", "3"] for line in lines)
    assert any(line.split()[:3] == ["mathach", "7185", "11"] for line in lines)
    assert all(any(line.startswith(name + " ") for line in lines) for name in ml.datasets.names())
    assert "multilevel datasets NAME --out FILE.csv" in printed


def test_one_data_set_shows_its_columns(capsys):
    assert main(["datasets", "verbagg"]) == 0
    printed = capsys.readouterr().out
    assert "7584 rows" in printed and "r2, id, item, Anger" in printed and "--out verbagg.csv" in printed
    assert max(len(line) for line in printed.splitlines()) <= 80


def test_out_writes_the_bundled_file_and_refuses_to_overwrite_without_force(tmp_path, capsys):
    target = tmp_path / "school.csv"
    assert main(["datasets", "mathach", "--out", str(target)]) == 0
    assert target.read_bytes() == datasets.read_bytes("mathach")
    pd.testing.assert_frame_equal(pd.read_csv(target, dtype={"School": str}), ml.datasets.load("mathach"))
    assert "7185 rows, 11 columns written to" in capsys.readouterr().out
    target.write_text("mine\n")
    assert main(["datasets", "mathach", "--out", str(target)]) == 2
    assert "exists; add --force to replace it" in capsys.readouterr().err
    assert target.read_text() == "mine\n"
    assert main(["datasets", "sleepstudy", "--out", str(target), "--force"]) == 0
    assert target.read_bytes() == datasets.read_bytes("sleepstudy")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["school.csv"]  # no temporary file left


@pytest.mark.parametrize("arguments, message", [
    (["datasets", "sleepstudi", "--out", "{tmp}/a.csv"],
     "no bundled data set 'sleepstudi'; did you mean 'sleepstudy'? available: anorexia, cbpp, grouseticks, "
     "mathach, penicillin, sleepstudy, verbagg"),
    (["datasets", "nothing-like-it"], "no bundled data set 'nothing-like-it'; available: anorexia,"),
    (["datasets", "cbpp", "--out", "{tmp}/no/folder/a.csv"], "the folder '{tmp}/no/folder' does not exist"),
    (["datasets", "cbpp", "--out", "{tmp}/a.xlsx"], "the data sets are CSV files; use a .csv file name"),
    (["datasets", "--out", "{tmp}/a.csv"], "--out needs a data set: multilevel datasets NAME --out FILE.csv"),
    (["datasets", "cbpp", "--force"], "--force goes with --out FILE.csv"),
])
def test_mistakes_are_one_error_line_and_create_nothing(arguments, message, tmp_path, capsys):
    given = [argument.replace("{tmp}", str(tmp_path)) for argument in arguments]
    assert main(given) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message.replace("{tmp}", str(tmp_path)) in error
    assert list(tmp_path.iterdir()) == []


def test_python_names_and_unknown_names():
    assert ml.datasets.names() == ["anorexia", "cbpp", "grouseticks", "mathach", "penicillin", "sleepstudy",
                                   "verbagg"]
    with pytest.raises(KeyError, match="did you mean 'verbagg'"):
        ml.datasets.load("verbag")


def test_the_datasets_package_does_not_import_pandas_until_a_frame_is_asked_for():
    probe = ("import sys, multilevel.datasets as d; d.describe('cbpp'); d.listing(); "
             "print('pandas' in sys.modules); d.load('cbpp'); print('pandas' in sys.modules)")
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["False", "True"]
