"""The data a fit was made with, for saving: a table as JSON (types and categories kept) and a
fingerprint (row count, column names, SHA-256 of the values) that survives CSV and Parquet."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from ..syntax import ast


def frame_to_json(frame: pd.DataFrame) -> dict:
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.CategoricalDtype):
            columns[name] = {"kind": "categorical", "categories": [plain(c) for c in series.cat.categories],
                             "ordered": bool(series.cat.ordered),
                             "codes": series.cat.codes.astype(int).tolist()}
        elif pd.api.types.is_bool_dtype(series):
            columns[name] = {"kind": "bool", "values": [None if pd.isna(v) else bool(v) for v in series]}
        elif pd.api.types.is_numeric_dtype(series):
            columns[name] = {"kind": "number", "integer": pd.api.types.is_integer_dtype(series),
                             "values": [None if pd.isna(v) else float(v) for v in series]}
        else:
            columns[name] = {"kind": "object", "values": [None if pd.isna(v) else plain(v) for v in series]}
    return {"index": [plain(v) for v in frame.index], "columns": columns, "order": list(map(str, frame.columns))}


def plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, ast.Formula):  # a formula tree (a Blimp script's stated models) is saved as its text
        return str(value)
    return value


def frame_from_json(item: dict) -> pd.DataFrame:
    data = {}
    for name in item["order"]:
        column = item["columns"][name]
        if column["kind"] == "categorical":
            data[name] = pd.Categorical.from_codes(column["codes"], categories=column["categories"],
                                                   ordered=column["ordered"])
        elif column["kind"] == "number":
            values = pd.Series(column["values"], dtype=float)
            data[name] = values.astype("Int64") if column["integer"] and values.isna().any() else (
                values.astype(np.int64) if column["integer"] else values)
        elif column["kind"] == "bool":
            data[name] = pd.Series(column["values"])
        else:
            data[name] = pd.Series(column["values"])  # pandas infers its text dtype, as when the data were read
    # the columns are positional (their own index is 0..n-1): the saved row labels are set after, not aligned to
    return pd.DataFrame({name: getattr(column, "array", column) for name, column in data.items()},
                        index=item["index"])


def _canonical_values(series: pd.Series) -> dict:
    """A column in a form that survives a round trip through CSV or Parquet: numbers (and booleans) to 12
    significant digits, text as text, categories with their order; missing values as null."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return {"categories": [str(c) for c in series.cat.categories], "ordered": bool(series.cat.ordered),
                "values": [None if pd.isna(v) else str(v) for v in series]}
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return {"values": [None if pd.isna(v) else format(float(v), ".12g") for v in series]}
    return {"values": [None if pd.isna(v) else str(v) for v in series]}


def data_fingerprint(frame: pd.DataFrame) -> dict:
    """Row count, column names and SHA-256 of the columns in canonical form (row labels not included)."""
    digest = hashlib.sha256()
    for name in sorted(frame.columns, key=str):
        digest.update(json.dumps([str(name), _canonical_values(frame[name])]).encode("utf-8"))
    return {"rows": int(len(frame)), "columns": [str(name) for name in frame.columns], "sha256": digest.hexdigest()}
