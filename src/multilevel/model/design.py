"""Apply a fitted :class:`ModelSpec` to new data: design columns, group codes, offset.

The spec holds every constant learned from the fitting data (levels, means, SDs), so new
data are coded exactly as the fitting data were. Levels of grouping factors not seen in
fitting get negative codes, one per new group; unknown levels of categorical predictors are an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, SpecificationError
from .design_columns import evaluate_columns as _evaluate_columns
from .resolve import factor_columns, group_label_array
from .resolve import level_label as _level_label
from .expressions import GroupMeanCentered, latent_means_in, rewrite
from .checks import as_data_frame, suggest
from .model_spec import ModelSpec


@dataclass(frozen=True)
class Design:
    X: np.ndarray
    Z: tuple[np.ndarray, ...]
    group_index: tuple[np.ndarray, ...]  # negative codes (-1, -2, ...) for levels not seen in fitting
    offset: np.ndarray | None
    trials: np.ndarray | None


def _needed_columns(spec: ModelSpec, include_submodels: bool = False) -> set[str]:
    names: set[str] = set()
    for column in spec.fixed + tuple(c for block in spec.random for c in block.columns):
        names |= column.expression.variables()
    if spec.offset is not None:
        names |= spec.offset.variables()
    resolved = set()
    for name in names:
        resolved.add(name[2:-1] if name.startswith("C(") and name.endswith(")") else name)
    for block in spec.random:
        resolved |= set(block.factor.variables)
    for submodel in spec.submodels if include_submodels else ():  # columns only predictor/missingness models use
        for column in submodel.columns:
            resolved |= {name[2:-1] if name.startswith("C(") and name.endswith(")") else name
                         for name in column.expression.variables()}
        resolved.add(submodel.indicator_of or submodel.outcome)
    for _, how in spec.centering:
        if how.startswith("group:"):
            resolved |= set(factor_columns(how.split(":", 1)[1]))
    return resolved


def _codes(labels: np.ndarray, levels: tuple[str, ...]) -> np.ndarray:
    """Codes of the fitting levels; each unseen level gets its own negative code (-1, -2, ...)."""
    position = {level: code for code, level in enumerate(levels)}
    unseen: dict = {}
    return np.asarray([position[label] if label in position else unseen.setdefault(label, -1 - len(unseen))
                       for label in labels], dtype=np.int64)


def _centring_levels(spec: ModelSpec) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}

    def visit(expression):
        if isinstance(expression, GroupMeanCentered) and expression.levels is not None:
            found[expression.factor] = expression.levels
        return expression

    for column in spec.fixed + tuple(c for block in spec.random for c in block.columns):
        rewrite(column.expression, visit)
    return found


def evaluate_design(spec: ModelSpec, data, *, need_trials: bool = False) -> Design:
    latent = sorted({name for column in spec.fixed + tuple(c for block in spec.random for c in block.columns)
                     for name in latent_means_in(column.expression)})
    if latent:
        raise SpecificationError(f"latent_mean({latent[0]}) is a parameter of the fitted model; it has no value for "
                                 f"new data, so predictions for new data are not available for this model yet")
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
        assert info.levels is not None  # a categorical variable records its levels
        source = info.name[2:-1] if info.name.startswith("C(") else info.name
        labels = frame[source].map(_level_label)
        position = {label: code for code, label in enumerate(info.levels)}
        unknown = sorted(set(labels) - set(position))
        if unknown:
            raise DataError(f"new data have level(s) {', '.join(map(repr, unknown[:5]))} of '{source}' not seen in "
                            f"fitting (known: {', '.join(info.levels[:10])})")
        values[info.name] = labels.map(position).to_numpy(dtype=np.int64)
    centred_levels = _centring_levels(spec)
    for factor, levels in centred_levels.items():
        values[f"group index:{factor}"] = _codes(group_label_array(frame, factor_columns(factor)), levels)
    values["stored group means"] = True
    X = _evaluate_columns(spec.fixed, values, n)
    Z, indices = [], []
    for block in spec.random:
        Z.append(_evaluate_columns(block.columns, values, n))
        indices.append(_codes(group_label_array(frame, block.factor.variables), block.factor.levels))
    offset = None
    if spec.offset is not None:
        offset = np.broadcast_to(np.asarray(spec.offset.evaluate(values, np), float), (n,)).copy()
    trials = None
    if need_trials and spec.response.trials is not None:
        trials = np.broadcast_to(np.asarray(spec.response.trials.evaluate(values, np), float), (n,)).copy()
    return Design(X, tuple(Z), tuple(indices), offset, trials)
