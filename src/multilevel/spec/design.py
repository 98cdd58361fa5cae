"""Apply a fitted :class:`ModelSpec` to new data: design columns, group codes, offset.

The spec holds every constant learned from the fitting data (levels, means, SDs), so new
data are coded exactly as the fitting data were. Levels of grouping factors not seen in
fitting get negative codes, one per new group; unknown levels of categorical predictors are an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from .build import _evaluate_columns, _group_labels, _level_label
from .checks import as_data_frame, suggest
from .model_spec import ModelSpec


@dataclass(frozen=True)
class Design:
    X: np.ndarray
    Z: tuple[np.ndarray, ...]
    group_index: tuple[np.ndarray, ...]  # negative codes (-1, -2, ...) for levels not seen in fitting
    offset: np.ndarray | None
    trials: np.ndarray | None


def _needed_columns(spec: ModelSpec) -> set[str]:
    names = set()
    for column in spec.fixed + tuple(c for block in spec.random for c in block.columns):
        names |= column.expression.variables()
    if spec.offset is not None:
        names |= spec.offset.variables()
    resolved = set()
    for name in names:
        resolved.add(name[2:-1] if name.startswith("C(") and name.endswith(")") else name)
    for block in spec.random:
        resolved |= set(block.factor.variables)
    for _, how in spec.centering:
        if how.startswith("group:"):
            resolved.add(how.split(":", 1)[1])
    return resolved


def evaluate_design(spec: ModelSpec, data, *, need_trials: bool = False) -> Design:
    frame = as_data_frame(data)
    needed = sorted(_needed_columns(spec))
    if need_trials and spec.response.trials is not None:
        needed = sorted(set(needed) | spec.response.trials.variables())
    missing_columns = [name for name in needed if name not in frame.columns]
    if missing_columns:
        name = missing_columns[0]
        raise DataError(f"new data lack column '{name}' that the model uses.{suggest(name, frame.columns)}")
    incomplete = [name for name in needed if frame[name].isna().any()]
    if incomplete:
        raise DataError(f"new data have missing values in {', '.join(incomplete)}; predictions need complete rows")
    n = len(frame)
    values: dict = {}
    for name in needed:
        series = frame[name]
        if pd.api.types.is_numeric_dtype(series) and not isinstance(series.dtype, pd.CategoricalDtype):
            values[name] = series.to_numpy(dtype=float)
    for info in spec.variables:
        if info.kind != "categorical":
            continue
        source = info.name[2:-1] if info.name.startswith("C(") else info.name
        labels = frame[source].map(_level_label)
        position = {label: code for code, label in enumerate(info.levels)}
        unknown = sorted(set(labels) - set(position))
        if unknown:
            raise DataError(f"new data have level(s) {', '.join(map(repr, unknown[:5]))} of '{source}' not seen in "
                            f"fitting (known: {', '.join(info.levels[:10])})")
        values[info.name] = labels.map(position).to_numpy(dtype=np.int64)
    for _, how in spec.centering:
        if how.startswith("group:"):
            factor = how.split(":", 1)[1]
            codes, levels = _group_labels(frame, tuple(factor.split(":")))
            values[f"group index:{factor}"] = codes
            values[f"group count:{factor}"] = len(levels)
    X = _evaluate_columns(spec.fixed, values, n)
    Z, indices = [], []
    for block in spec.random:
        Z.append(_evaluate_columns(block.columns, values, n))
        parts = [frame[name].map(_level_label).to_numpy(dtype=object) for name in block.factor.variables]
        labels = parts[0] if len(parts) == 1 else np.array([":".join(row) for row in zip(*parts)], dtype=object)
        position = {level: code for code, level in enumerate(block.factor.levels)}
        unseen: dict = {}
        codes = [position[label] if label in position else unseen.setdefault(label, -1 - len(unseen))
                 for label in labels]
        indices.append(np.asarray(codes, dtype=np.int64))
    offset = None
    if spec.offset is not None:
        offset = np.broadcast_to(np.asarray(spec.offset.evaluate(values, np), float), (n,)).copy()
    trials = None
    if need_trials and spec.response.trials is not None:
        trials = np.broadcast_to(np.asarray(spec.response.trials.evaluate(values, np), float), (n,)).copy()
    return Design(X, tuple(Z), tuple(indices), offset, trials)
