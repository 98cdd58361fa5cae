"""Small public data sets bundled for examples and tests.

``sleepstudy`` (lme4), ``anorexia`` (MASS, long form), ``verbagg`` (lme4::VerbAgg),
``mathach`` (nlme MathAchieve with school variables), ``cbpp``, ``grouseticks``,
``penicillin`` (lme4).

>>> ml.datasets.names()                 # the bundled data sets
>>> ml.datasets.describe("sleepstudy")  # rows, columns, source, description
>>> ml.datasets.load("sleepstudy")      # a fresh DataFrame

On the command line: ``multilevel datasets`` lists them and ``multilevel datasets NAME --out FILE.csv``
writes one. Listing and describing read the files with the ``csv`` module: pandas is imported by
:func:`load` only.
"""

from __future__ import annotations

import csv
import difflib
import io
import textwrap
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class DataSet:
    """A bundled data set: its file, where it comes from, and the columns that hold labels although
    they are written as numbers (identifiers, read as text)."""

    name: str
    file: str
    source: str
    description: str
    text_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Description:
    """What ``multilevel datasets`` shows of a data set: its size and columns, read from the file."""

    name: str
    rows: int
    columns: tuple[str, ...]
    source: str
    description: str


CATALOGUE = (
    DataSet("anorexia", "anorexia_long.csv", "MASS::anorexia, long form",
            "weight of 72 girls before and after treatment"),
    DataSet("cbpp", "cbpp.csv", "lme4::cbpp", "new cases of pleuropneumonia by herd and period",
            ("herd", "period")),
    DataSet("grouseticks", "grouseticks.csv", "lme4::grouseticks", "ticks on 403 grouse chicks in 118 broods",
            ("INDEX", "BROOD", "YEAR", "LOCATION")),
    DataSet("mathach", "mathach.csv", "nlme::MathAchieve with school variables",
            "math achievement of 7,185 students in 160 schools", ("School",)),
    DataSet("penicillin", "penicillin.csv", "lme4::Penicillin", "6 penicillin samples assayed on 24 plates"),
    DataSet("sleepstudy", "sleepstudy.csv", "lme4::sleepstudy",
            "reaction times of 18 subjects, 10 days of sleep loss", ("Subject",)),
    DataSet("verbagg", "verbagg.csv", "lme4::VerbAgg", "verbal aggression: 316 people answer 24 items", ("id",)),
)
_BY_NAME = {entry.name: entry for entry in CATALOGUE}
FILES = {entry.name: entry.file for entry in CATALOGUE}


class UnknownDataSet(KeyError):
    """A name that is not a bundled data set; the message says what was meant and lists the choices.
    (A ``KeyError`` as before; the command line turns it into its ``error:`` line.)"""

    def __init__(self, name: str):
        close = difflib.get_close_matches(name, names(), n=2, cutoff=0.6)
        guess = f"did you mean {' or '.join(repr(choice) for choice in close)}? " if close else ""
        self.message = f"no bundled data set '{name}'; {guess}available: {', '.join(names())}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def names() -> list[str]:
    return sorted(_BY_NAME)


def entry(name: str) -> DataSet:
    if name not in _BY_NAME:
        raise UnknownDataSet(name)
    return _BY_NAME[name]


def path(name: str):
    """The bundled file (an ``importlib.resources`` traversable; a path on disk for an installed package)."""
    return resources.files(__name__).joinpath(entry(name).file)


def read_bytes(name: str) -> bytes:
    """The bundled CSV file as it is stored (what ``multilevel datasets NAME --out FILE.csv`` writes)."""
    return path(name).read_bytes()


def describe(name: str) -> Description:
    """Rows, column names, source and description of a bundled data set (no pandas needed)."""
    found = entry(name)
    rows = list(csv.reader(io.StringIO(read_bytes(name).decode("utf-8"))))
    return Description(name=found.name, rows=len(rows) - 1, columns=tuple(rows[0]), source=found.source,
                       description=found.description)


def load(name: str):
    """A fresh copy of a bundled data set as a pandas DataFrame (identifier columns as text)."""
    import pandas as pd

    found = entry(name)
    with path(name).open("rb") as handle:
        return pd.read_csv(handle, dtype={column: str for column in found.text_columns})


def listing() -> str:
    """The table ``multilevel datasets`` prints (80 columns)."""
    lines = [f"{'name':<12} {'rows':>5} {'columns':>7}  description"]
    for name in names():
        shown = describe(name)
        lines.append(f"{name:<12} {shown.rows:>5} {len(shown.columns):>7}  {shown.description}")
    lines += ["", "its columns:      multilevel datasets NAME",
              "as a CSV file:    multilevel datasets NAME --out FILE.csv",
              "in Python:        multilevel.datasets.load(NAME)"]
    return "\n".join(lines)


def details(shown: Description) -> str:
    """What ``multilevel datasets NAME`` prints (80 columns)."""
    lines = [f"{shown.name}: {shown.description} ({shown.source})",
             f"{shown.rows} rows; columns: {', '.join(shown.columns)}",
             f"as a CSV file: multilevel datasets {shown.name} --out {shown.name}.csv"]
    return "\n".join(textwrap.fill(line, 80, subsequent_indent="    ") for line in lines)
