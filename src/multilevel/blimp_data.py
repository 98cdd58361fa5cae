"""A Blimp script's file and its data: DATA (relative to the script; CSV, TSV, or whitespace ``.dat``),
VARIABLES (names for a headerless file, or new names for a header's columns) and MISSING (the code of
a missing value). Every problem cites the script line that asks for the file or the names."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .blimp_places import ScriptDataError, command_error
from .data_files import WHITESPACE, DataFileError, _read_text, file_bytes, read_table, utf8_text
from .syntax.blimp_script import BlimpScript, Command


def read_script_text(path) -> str:
    """A script file's text (UTF-8; a byte-order mark, as Windows Notepad writes, is dropped)."""
    path = Path(path)
    return utf8_text(file_bytes(path, "Blimp script"), path, "Blimp script")


def read_data(script: BlimpScript, folder: Path) -> pd.DataFrame:
    """The data the script's DATA names (relative to ``folder``), named by VARIABLES when it is given."""
    command = script.command("DATA")
    if command is None:
        raise script.error_at(None, "the script has no DATA command", hint="Add a line such as: DATA: mydata.csv;")
    path = _data_path(script, command, folder)
    missing = script.command("MISSING")
    code = missing.value.strip() if missing is not None else None
    variables = script.command("VARIABLES")
    names = list(variables.items) if variables is not None else None
    suffix = path.suffix.lower()
    separator = "," if suffix == ".csv" else "\t" if suffix in (".tsv", ".tab") else WHITESPACE
    try:
        has_header = first_line_is_header(_read_text(path), separator, [code] if code is not None else [])
        if names and has_header:  # a header row in the file: VARIABLES renames its columns
            frame = read_table(path, code, separator=separator)
            if frame.shape[1] != len(names):
                raise command_error(script, variables, f"VARIABLES names {len(names)} variables but the header of "
                                    f"'{path.name}' has {frame.shape[1]} columns", kind=ScriptDataError)
            frame.columns = names
            return frame
        if not names and not has_header:
            raise command_error(script, command, f"the first line of '{path.name}' holds numbers, not column names, "
                                "and the script has no VARIABLES command to name the columns", kind=ScriptDataError,
                                hint="Add VARIABLES: with one name per column (e.g. VARIABLES: id y x1 x2;), or "
                                     "a header line to the file.")
        return read_table(path, code, separator=separator, header=None if names else "infer", names=names,
                          names_from="VARIABLES")
    except DataFileError as error:
        target = {"names": variables, "missing": missing}.get(error.kind) or command
        raise command_error(script, target, str(error), kind=ScriptDataError) from None


def _data_path(script: BlimpScript, command: Command, folder: Path) -> Path:
    value = command.value.strip().strip("'\"").strip()
    if not value:
        raise command_error(script, command, "DATA names no file", hint="Write it as: DATA: mydata.csv;")
    path = (folder / value).resolve()
    if not path.exists():
        raise command_error(script, command, f"DATA file '{value}' not found (looked for {path})",
                            kind=ScriptDataError)
    if path.is_dir():
        raise command_error(script, command, f"DATA names a directory ({path}), not a data file",
                            kind=ScriptDataError, hint="Name the data file itself: DATA: mydata.csv;")
    return path


def first_line_is_header(text: str, separator: str, missing_codes: list[str]) -> bool:
    """True when no field of the first non-blank line is a number or a missing-value code."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    fields = [field.strip().strip('"\'') for field in re.split(separator, first) if field.strip()]

    def numeric(text):
        try:
            float(text)
            return True
        except ValueError:
            return text in missing_codes or text in ("NA", "NaN", "")
    return bool(fields) and not any(numeric(field) for field in fields)

