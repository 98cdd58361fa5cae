"""Reading data files: only real tables get through, and a missing-value code must not look like a real value.

Every problem with a file is a :class:`DataFileError` (a :class:`DataError`) naming the file and, where
there is one, the line: a missing file or a directory, bytes that are not UTF-8 text, an empty file, a
header without rows, a row with more or fewer fields than the header (or than the names given for a
headerless file). A file that does not parse as a table is refused before any column list is shown, so an
error never echoes the first line of a text file that is not data.

Blimp data files mark missing values with a numeric code (``MISSING: -99;``). A code that lies inside or
at the edge of a column's values (``MISSING: 0;`` on a 0–10 scale) would silently turn real observations
into missing ones; :func:`check_missing_code` refuses it, naming the column.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_WHITESPACE_FIELD = re.compile(r'"(?:[^"]|"")*"(?=\s|$)|\S+')
SUFFIXES = (".csv", ".gz", ".tsv", ".tab", ".dat", ".txt")
WHITESPACE = r"\s+"


class DataFileError(DataError):
    """A data file that cannot be read as a table. ``kind`` says what is wrong: ``"file"`` (the file
    itself), ``"names"`` (the names given for a headerless file do not fit its lines) or ``"missing"``
    (the missing-value code); ``line`` is the file's line number when there is one."""

    def __init__(self, message: str, *, kind: str = "file", line: int | None = None):
        self.kind = kind
        self.line = line
        super().__init__(message)


def _as_number(text: str) -> float | None:
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _grid_step(values: np.ndarray) -> float | None:
    """For integer-valued ``values``: the smallest gap between distinct values (1 when there is one
    distinct value); None for values that are not all whole numbers."""
    if values.size == 0 or not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
        return None
    distinct = np.unique(values)
    return float(np.diff(distinct).min()) if distinct.size > 1 else 1.0


def check_missing_code(raw: pd.DataFrame, code: str, where: str = "") -> None:
    """``raw``: the file read without the code treated as missing. Raises :class:`DataFileError` when the
    code may be a real value of a column where it appears: it lies within the range of the column's
    other values, or, for a column of whole numbers, within one step of it (0 on a 1–5 or 0–5 scale:
    the code and the values form one grid)."""
    number = _as_number(code)
    for name in raw.columns:
        column = raw[name]
        if number is None:
            continue  # a text code ('NA', '.') cannot be a numeric value
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        hits = values == number
        others = values[~hits & ~np.isnan(values)]
        if not hits.any() or others.size == 0:
            continue
        low, high = float(others.min()), float(others.max())
        step = _grid_step(others)
        inside = low <= number <= high
        at_edge = (step is not None and number == round(number)
                   and low - step <= number <= high + step)
        if inside or at_edge:
            how = ("there it may be a real value" if inside else
                   "it sits at the edge of that scale of whole numbers, so there it may be a real value")
            raise DataFileError(
                f"{where}the missing-value code {code} appears {int(hits.sum())} time(s) in column '{name}', "
                f"whose other values run from {low:g} to {high:g}: {how}, and it would be read as missing. "
                f"Recode the missing values with a code outside every column's range (such as -99 or 999)",
                kind="missing")


def _display(path: Path) -> str:
    return str(path)


def _character_name(character: str) -> str:
    from .syntax.tokens import describe_character

    return describe_character(character)


def file_bytes(path: Path, what: str = "data file") -> bytes:
    """The bytes of a file the user named (``what``: "data file", "script"), or a :class:`DataFileError`
    saying why there are none."""
    if not path.exists():
        raise DataFileError(f"{what} '{path}' does not exist")
    if path.is_dir():
        raise DataFileError(f"'{path}' is a directory, not a {what}")
    try:
        return path.read_bytes()
    except OSError as error:
        raise DataFileError(f"cannot read {what} '{path}': {error.strerror or error}") from None


def utf8_text(data: bytes, path: Path, what: str = "data file") -> str:
    """``data`` decoded as UTF-8 (a leading byte-order mark, as Excel and Notepad write, dropped)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise DataFileError(f"{what} '{path}' is not UTF-8 text: line {line} holds the byte "
                            f"0x{data[error.start]:02X}, which UTF-8 does not allow (the file may be Latin-1 / "
                            f"Windows-1252, or binary). Save it as UTF-8"
                            f"{' (in Excel: CSV UTF-8)' if what == 'data file' else ''} and try again",
                            line=line) from None


_CONTROL_BYTES = bytes([*range(0, 9), *range(14, 32), 127])
_NOT_CONTROL = bytes(sorted(set(range(256)) - set(_CONTROL_BYTES)))


def _table_bytes(path: Path) -> bytes:
    """The file's bytes, checked to be UTF-8 text without NUL or control characters (a byte-order mark
    dropped), or a :class:`DataFileError` saying why they are not."""
    shown = _display(path)
    data = file_bytes(path)
    if path.suffix.lower() == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, ValueError) as error:
            raise DataFileError(f"'{shown}' is not a readable gzip file ({error})") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise DataFileError(f"'{shown}' is not a text table: line {line} holds binary (NUL) bytes. "
                            "Give a CSV, TSV or whitespace-separated text file (or Parquet)", line=line)
    if data.translate(None, _NOT_CONTROL):  # C speed: what is left are the control bytes, if any
        text = data.decode("utf-8", errors="replace")
        control = _CONTROL.search(text)
        assert control is not None  # the bytes left by translate are control characters
        position = control.start()
        line = text.count("\n", 0, position) + 1
        raise DataFileError(f"'{shown}' is not a text table: line {line} holds the control character "
                            f"{_character_name(text[position])}", line=line)
    utf8_text(data, path)  # raises, naming the line, where the bytes are not UTF-8
    return data


def _read_text(path: Path) -> str:
    """The file's text, or a :class:`DataFileError` saying why there is none."""
    return _table_bytes(path).decode("utf-8")


def _rows(data: bytes, separator: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Line numbers and numbers of fields of the non-blank lines, split as pandas will split them, and
    the fields of the first such line."""
    if separator == WHITESPACE or b'"' in data:
        text = data.decode("utf-8")
        if separator == WHITESPACE:
            split = _WHITESPACE_FIELD.findall if '"' in text else str.split
            rows = [(number, split(line)) for number, line in enumerate(text.split("\n"), start=1) if line.strip()]
        else:
            rows = _csv_rows(text, separator)
        numbers = np.array([number for number, _ in rows], dtype=np.int64)
        counts = np.array([len(fields) for _, fields in rows], dtype=np.int64)
        return numbers, counts, (rows[0][1] if rows else [])
    # the fast path: no quotes, so every separator separates; counted in C, line by line
    buffer = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(buffer == ord("\n"))
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [buffer.size]])
    separators = np.flatnonzero(buffer == ord(separator))
    counts = np.searchsorted(separators, ends) - np.searchsorted(separators, starts)
    keep = counts > 0
    for index in np.flatnonzero(~keep):  # lines without a separator: blank (skipped, as by pandas) or one field
        keep[index] = bool(data[starts[index]:ends[index]].strip())
    numbers = np.flatnonzero(keep) + 1
    if not numbers.size:
        return numbers, counts[keep] + 1, []
    line = numbers[0] - 1
    first = data[starts[line]:ends[line]].decode("utf-8").rstrip("\r").split(separator)
    return numbers, counts[keep] + 1, first


def _csv_rows(text: str, separator: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    rows = []
    start = 1
    try:
        for fields in reader:
            if fields and any(field.strip() for field in fields) or len(fields) > 1:
                rows.append((start, fields))
            start = reader.line_num + 1
    except csv.Error as error:
        raise DataFileError(f"line {reader.line_num}: {error}", line=reader.line_num) from None
    return rows


def _separator_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".gz":
        suffix = Path(path.stem).suffix.lower()
    return "\t" if suffix in (".tsv", ".tab") else WHITESPACE if suffix in (".dat", ".txt") else ","


def _check_shape(path: Path, numbers: np.ndarray, counts: np.ndarray, first: list[str], header: bool, names,
                 names_from: str) -> None:
    shown = _display(path)
    if not numbers.size:
        raise DataFileError(f"data file '{shown}' is empty")
    if names is not None:
        wrong = np.flatnonzero(counts != len(names))
        if wrong.size:
            number, count = int(numbers[wrong[0]]), int(counts[wrong[0]])
            raise DataFileError(
                f"{names_from} names {len(names)} variable(s) but line {number} of '{shown}' has "
                f"{count} field(s): every line of a file without a header needs one value per name "
                f"(a mismatch would shift every column)", kind="names", line=number)
        return
    first_line, width = int(numbers[0]), int(counts[0])
    if header and numbers.size == 1:
        raise DataFileError(f"data file '{shown}' has a header (line {first_line}) but no data rows")
    wrong = np.flatnonzero(counts[1:] != width)
    if wrong.size:
        number, count = int(numbers[wrong[0] + 1]), int(counts[wrong[0] + 1])
        against = f"the header (line {first_line})" if header else f"line {first_line}"
        raise DataFileError(f"'{shown}' is not a table: line {number} has {count} field(s) but {against} "
                            f"has {width}", line=number)
    if header and width == 1 and any(character.isspace() for character in first[0].strip()):
        raise DataFileError(f"'{shown}' does not look like a table: it has a single column whose header "
                            f"(line {first_line}) holds spaces. Give a CSV (comma-separated), TSV (.tsv) or "
                            "whitespace-separated (.dat, .txt) file with a header of column names", line=first_line)


def read_table(path, missing_code: str | None = None, *, separator: str | None = None, header="infer",
               names=None, where: str = "", names_from: str = "the names given") -> pd.DataFrame:
    """Read a CSV / whitespace / tab-separated file with an optional missing-value code (checked).

    ``header``: ``"infer"`` (the first line holds the column names unless ``names`` are given) or None
    (no header line; ``names`` name the fields, one per field on every line)."""
    path = Path(path)
    if separator is None:
        separator = _separator_for(path)
    data = _table_bytes(path)
    has_header = header is not None and names is None
    numbers, counts, first = _rows(data, separator)
    _check_shape(path, numbers, counts, first, has_header, names, names_from)
    options = {"sep": separator, "header": 0 if has_header else None, "names": names, "index_col": False}
    if separator != WHITESPACE:
        options["skipinitialspace"] = False
    code = str(missing_code).strip() if missing_code is not None else None
    try:
        with warnings.catch_warnings():
            # a line the parser splits into more fields than the header would lose data: an error
            warnings.simplefilter("error", pd.errors.ParserWarning)
            if code is not None:
                check_missing_code(pd.read_csv(io.BytesIO(data), **options, dtype=str), code, where)
            frame = pd.read_csv(io.BytesIO(data), **options, na_values=[code] if code is not None else None)
    except DataError:
        raise
    except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning, csv.Error, OverflowError) as error:
        detail = " ".join(str(error).split())
        raise DataFileError(f"cannot read '{_display(path)}' as a table: {detail}") from None
    expected = (numbers.size - (1 if has_header else 0), len(names) if names is not None else int(counts[0]))
    if frame.shape != expected:  # the lines split one way, the parser another: quotes that do not pair up
        raise DataFileError(f"cannot read '{_display(path)}' as a table: its {expected[0]} line(s) of "
                            f"{expected[1]} field(s) parse as {frame.shape[0]} row(s) of {frame.shape[1]} column(s); "
                            "a quote character (\") may be unbalanced, or a quoted value spans lines")
    return frame


def read_data_file(path, missing_code: str | None = None, *, where: str = "") -> pd.DataFrame:
    """A data file named by the user (CLI ``--data``): CSV, TSV, whitespace ``.dat``/``.txt`` or Parquet."""
    file = Path(path)
    if not file.exists():
        raise DataFileError(f"data file '{path}' does not exist")
    if file.is_dir():
        raise DataFileError(f"'{path}' is a directory, not a data file")
    suffix = file.suffix.lower()
    if suffix == ".parquet":
        if missing_code is not None:
            raise DataFileError(f"a missing-value code does not apply to the Parquet file '{path}': Parquet marks "
                                "missing values itself (leave out the missing-value code)")
        try:
            frame = pd.read_parquet(file)
        except ImportError:
            raise DataFileError(f"cannot read '{path}': reading Parquet needs pyarrow (pip install pyarrow)") from None
        except Exception as error:  # pyarrow raises its own error types for a damaged file
            raise DataFileError(f"cannot read '{path}' as Parquet: {' '.join(str(error).split())}") from None
        if frame.shape[0] == 0:
            raise DataFileError(f"data file '{path}' has no rows")
        return frame
    if suffix not in SUFFIXES:
        raise DataFileError(f"cannot read '{path}': use .csv, .tsv, .dat/.txt (whitespace) or .parquet")
    return read_table(file, missing_code, where=where)
