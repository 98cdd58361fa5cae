"""Reading data files, with a check that a missing-value code does not look like a real value.

Blimp data files mark missing values with a numeric code (``MISSING: -99;``). A code that lies
inside the range of a column's other values (``MISSING: 0;`` on a 0–10 scale) would silently
turn real observations into missing ones; :func:`check_missing_code` refuses it, naming the
column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def check_missing_code(raw: pd.DataFrame, code: str, where: str = "") -> None:
    """``raw``: the file read without the code treated as missing. Raises :class:`DataError` when the code
    appears in a column whose other values surround it (so it may be a real value there)."""
    number = _as_number(code)
    for name in raw.columns:
        column = raw[name]
        if number is not None:
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            hits = values == number
            others = values[~hits & ~np.isnan(values)]
        else:
            hits = (column.astype(str).str.strip() == code).to_numpy()
            others = np.array([])
        if not hits.any() or others.size < 2:
            continue
        low, high = float(others.min()), float(others.max())
        if low <= number <= high:
            raise DataError(f"{where}the missing-value code {code} appears {int(hits.sum())} time(s) in column "
                            f"'{name}', whose other values run from {low:g} to {high:g}: there it may be a real "
                            f"value, and it would be read as missing. Recode the missing values with a code outside "
                            f"every column's range (such as -99 or 999)")


def read_table(path, missing_code: str | None = None, *, separator: str | None = None, header="infer",
               names=None, where: str = "") -> pd.DataFrame:
    """Read a CSV / whitespace / tab-separated file with an optional missing-value code (checked)."""
    path = Path(path)
    if separator is None:
        suffix = path.suffix.lower()
        separator = "\t" if suffix in (".tsv", ".tab") else r"\s+" if suffix in (".dat", ".txt") else ","
    options = {"sep": separator, "header": header, "names": names}
    if missing_code is not None:
        check_missing_code(pd.read_csv(path, **options, dtype=str), str(missing_code).strip(), where)
    return pd.read_csv(path, **options, na_values=[str(missing_code).strip()] if missing_code is not None else None)


def read_data_file(path, missing_code: str | None = None, *, where: str = "") -> pd.DataFrame:
    """A data file named by the user (CLI ``--data``): CSV, TSV, whitespace ``.dat``/``.txt`` or Parquet."""
    file = Path(path)
    if not file.exists():
        raise DataError(f"data file '{path}' does not exist")
    suffix = file.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(file)
    if suffix not in (".csv", ".gz", ".tsv", ".tab", ".dat", ".txt"):
        raise DataError(f"cannot read '{path}': use .csv, .tsv, .dat/.txt (whitespace) or .parquet")
    return read_table(file, missing_code, where=where)
