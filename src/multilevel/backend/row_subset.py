"""The focal model's parts and the values of the variables restricted to some rows, so a row log density
can be evaluated on those rows only (the rows with missing discrete values, once per combination of their
categories, while every other row is evaluated once)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp


def _take(value: Any, index) -> Any:
    return None if value is None else jnp.asarray(value)[index]


def _per_row(value: Any, index, rows: int) -> Any:
    """A variable's values gathered at ``index`` when it has one per row (scalars stay as they are)."""
    return _take(value, index) if jnp.ndim(value) and jnp.shape(value)[0] == rows else value


def rows_of(focal, values: dict, index) -> tuple[Any, dict]:
    """(focal, values) for the rows at ``index`` (a (n,) integer array): every per-row array gathered, every
    per-cluster one and every constant as it is. The level-1 row log density of the result is the
    original's at those rows."""
    arrays = focal.arrays
    rows = arrays.y.shape[0]
    missing = dict(arrays.missing or {})
    if "integrated" in missing:
        missing["integrated"] = _take(missing["integrated"], index)
    subset = arrays._replace(
        y=_take(arrays.y, index), trials=_take(arrays.trials, index), X=_take(arrays.X, index),
        offset=_take(arrays.offset, index), Z=tuple(_take(block, index) for block in arrays.Z),
        group_index=tuple(_take(group, index) for group in arrays.group_index),
        values=None if arrays.values is None else {name: _per_row(value, index, rows)
                                                  for name, value in arrays.values.items()},
        missing=missing, outcome_observed=_take(arrays.outcome_observed, index))
    submodel_parameters = []
    for parameters in focal.submodel_parameters:
        parameters = dict(parameters)
        if "group effects" in parameters:  # per row; "cluster effects" stay per cluster
            parameters["group effects"] = _take(parameters["group effects"], index)
        submodel_parameters.append(parameters)
    chosen = focal._replace(
        arrays=subset, y=_take(focal.y, index), submodel_parameters=submodel_parameters,
        blocks=tuple(block._replace(rows=_take(block.rows, index)) for block in focal.blocks))
    return chosen, {name: _per_row(value, index, rows) for name, value in values.items()}
