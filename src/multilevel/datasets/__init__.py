"""Small public data sets bundled for examples and tests.

``sleepstudy`` (lme4), ``anorexia`` (MASS, long form), ``verbagg`` (lme4::VerbAgg),
``mathach`` (nlme MathAchieve with school variables), ``cbpp``, ``grouseticks``,
``penicillin`` (lme4).
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

FILES = {
    "sleepstudy": "sleepstudy.csv", "anorexia": "anorexia_long.csv", "verbagg": "verbagg.csv",
    "mathach": "mathach.csv", "cbpp": "cbpp.csv", "grouseticks": "grouseticks.csv",
    "penicillin": "penicillin.csv",
}

# identifiers that are numbers in the files but labels in the data's meaning
_AS_TEXT = {"verbagg": ["id"], "mathach": ["School"], "cbpp": ["herd", "period"],
            "grouseticks": ["INDEX", "BROOD", "YEAR", "LOCATION"], "sleepstudy": ["Subject"]}


def names() -> list[str]:
    return sorted(FILES)


def path(name: str):
    if name not in FILES:
        raise KeyError(f"no bundled data set '{name}'; available: {', '.join(names())}")
    return resources.files(__name__).joinpath(FILES[name])


def load(name: str) -> pd.DataFrame:
    """A fresh copy of a bundled data set as a DataFrame."""
    with path(name).open("rb") as handle:
        frame = pd.read_csv(handle, dtype={column: str for column in _AS_TEXT.get(name, [])})
    return frame
