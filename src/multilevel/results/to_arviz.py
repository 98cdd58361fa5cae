"""Draws → ArviZ DataTree, built directly (``from_numpyro`` costs seconds even on small models).

Every variable is named as the user reads it (see :mod:`multilevel.results.naming`) and holds values
in the data's units: ``arviz_stats.summary(fit.tree)`` gives the rows of ``fit.summary()`` and
``fit.random_effects()`` under the same names. Groups: posterior, sample_stats, log_likelihood,
observed_data, constant_data (the arrays the model was fitted with), imputed_data (the draws of each
imputed column, by row label) and, when drawn, posterior_predictive.

Within a group every variable lists its dims in the group's order, so that ArviZ, which stacks a
dataset in the dataset's dim order but labels each variable in its own order, cannot mislabel a cell.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..model.model_spec import ModelData, ModelSpec
from .naming import (CHAIN, DRAW, ROW, block_labels, block_names, imputed_row_dim, imputed_variable,
                     latent_mean_variable, tree_name)
from .parameters import parameter_table

SAMPLE_DIMS = (CHAIN, DRAW)


def row_coordinate(labels) -> np.ndarray:
    """The caller's row labels as a coordinate a NetCDF file can hold: numbers stay numbers, else text."""
    labels = np.asarray(labels)
    return labels if labels.dtype.kind in "iuf" else labels.astype(str)


def _sample_coords(shape) -> dict[str, np.ndarray | list[str]]:
    return {CHAIN: np.arange(shape[0]), DRAW: np.arange(shape[1])}


def _dataset(variables: dict, coords: dict, attrs: dict | None = None) -> xr.Dataset:
    """``variables``: name → (dims, values). The dataset's dims follow ``coords`` (sample dims first);
    a variable whose dims are out of that order is a bug that would let ArviZ mislabel its cells."""
    dataset = xr.Dataset({name: xr.DataArray(values, dims=dims) for name, (dims, values) in variables.items()},
                         coords={name: coords[name] for name in coords}, attrs=attrs or {})
    order = list(dataset.dims)
    for name, variable in dataset.data_vars.items():
        positions = [order.index(dim) for dim in variable.dims]
        if positions != sorted(positions):
            raise AssertionError(f"tree variable {name!r} has dims {variable.dims} out of the group's order {order}")
    return dataset


def posterior_dataset(spec: ModelSpec, draws: dict, attrs: dict) -> xr.Dataset:
    """Every reported parameter (one scalar variable per row of ``summary()``, named as there), each
    block's per-group effects and the latent cluster means, in the data's units."""
    shape = next(iter(draws.values())).shape[:2]
    coords = _sample_coords(shape)
    variables: dict[str, tuple[tuple[str, ...], np.ndarray]] = {
        tree_name(parameter.name): (SAMPLE_DIMS, np.asarray(parameter.draws))
        for parameter in parameter_table(spec, draws)}
    for names in block_names(spec):
        coords.setdefault(names.level_dim, np.asarray(names.levels))
        coords[names.term_dim] = list(names.terms)
        variables[names.variable] = (SAMPLE_DIMS + (names.level_dim, names.term_dim), np.asarray(draws[names.site]))
    levels = {names.factor: names.level_dim for names in block_names(spec)}
    for key, value in draws.items():
        if key.startswith("latent mean ") and spec.random:
            dim = levels[spec.random[0].factor.name]
            variables[latent_mean_variable(key[len("latent mean "):])] = (SAMPLE_DIMS + (dim,), np.asarray(value))
    for j, submodel in enumerate(spec.submodels):
        effects = draws.get(f"submodel {j} effects")
        if effects is not None and submodel.factor is not None and np.ndim(effects) == 3:
            dim = levels.get(submodel.factor.name, tree_name(submodel.factor.name))
            coords.setdefault(dim, np.asarray(submodel.factor.levels))
            name = tree_name(f"{submodel.outcome} ~ {submodel.factor.name} effects")
            variables[name] = (SAMPLE_DIMS + (dim,), np.asarray(effects))
    return _dataset(variables, coords, attrs)


def _observed_rows(data: ModelData) -> np.ndarray:
    return np.arange(data.n) if data.outcome_observed is None else np.flatnonzero(data.outcome_observed)


def constant_dataset(spec: ModelSpec, data: ModelData) -> xr.Dataset:
    """The arrays the model was fitted with, one value per row used (coordinate: the caller's row labels):
    the fixed-effect design (NaN where a predictor was imputed), each block's design and group index (a
    position in the posterior's coordinate of the factor's levels), trials and offset."""
    coords: dict[str, np.ndarray | list[str]] = {ROW: row_coordinate(data.row_labels)}
    variables: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
    if spec.fixed:
        coords["term"] = list(spec.fixed_names)  # coordinates (values) may hold '/', names may not
        variables["fixed design"] = ((ROW, "term"), np.asarray(data.X, dtype=float))
    for label, names, index, design in zip(block_labels(spec), block_names(spec), data.group_index, data.Z):
        coords[names.term_dim] = list(names.terms)
        variables[tree_name(f"{label} index")] = ((ROW,), np.asarray(index, dtype=np.int64))
        variables[tree_name(f"{label} design")] = ((ROW, names.term_dim), np.asarray(design, dtype=float))
    if data.trials is not None:
        variables["trials"] = ((ROW,), np.asarray(data.trials))
    if data.offset is not None:
        variables["offset"] = ((ROW,), np.asarray(data.offset, dtype=float))
    return _dataset(variables, coords)


def imputed_dataset(data: ModelData, cells: dict, shape) -> xr.Dataset:
    """Each imputed column's draws, (chain, draw, missing rows), its rows labelled as in the caller's data."""
    coords = _sample_coords(shape)
    variables = {}
    for name, (rows, values) in cells.items():
        dim = imputed_row_dim(name)
        coords[dim] = row_coordinate(np.asarray(data.row_labels)[rows])
        variables[imputed_variable(name)] = (SAMPLE_DIMS + (dim,), np.asarray(values).reshape(*shape, -1))
    return _dataset(variables, coords)


def predictive_dataset(spec: ModelSpec, data: ModelData, values: np.ndarray) -> xr.Dataset:
    """Replicated outcomes (chain, draw, rows with an observed outcome), named as the outcome."""
    rows = _observed_rows(data)
    coords = {**_sample_coords(values.shape), ROW: row_coordinate(np.asarray(data.row_labels)[rows])}
    return _dataset({tree_name(spec.response.name): (SAMPLE_DIMS + (ROW,), values)}, coords)


def build_tree(spec: ModelSpec, data: ModelData, draws: dict, stats: dict, log_likelihood: np.ndarray | None,
               attrs: dict, *, imputed: dict | None = None, extra: dict | None = None) -> xr.DataTree:
    """The fit's DataTree; ``imputed``: column → (row positions, draws) of the imputed cells; ``extra``:
    more groups by name (e.g. posterior_predictive)."""
    groups = {"posterior": posterior_dataset(spec, draws, attrs)}
    shape = stats["diverging"].shape
    groups["sample_stats"] = _dataset({name: (SAMPLE_DIMS, np.asarray(value)) for name, value in stats.items()},
                                      _sample_coords(shape))
    rows = _observed_rows(data)
    observation = {ROW: row_coordinate(np.asarray(data.row_labels)[rows])}  # where the outcome is observed
    outcome = tree_name(spec.response.name)
    if log_likelihood is not None:
        groups["log_likelihood"] = _dataset({outcome: (SAMPLE_DIMS + (ROW,), log_likelihood)},
                                            {**_sample_coords(shape), **observation})
    groups["observed_data"] = _dataset({outcome: ((ROW,), data.y[rows])}, observation)
    groups["constant_data"] = constant_dataset(spec, data)
    if imputed:
        groups["imputed_data"] = imputed_dataset(data, imputed, shape)
    groups.update(extra or {})
    return xr.DataTree.from_dict(groups)

