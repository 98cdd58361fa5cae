"""The missing-data side of a model before sampling: each submodel's compiled shape (:class:`SubmodelPlan`),
its constants in internal units, and the arrays locating the missing values (padded, see
:func:`multilevel.backend.model_arrays.bucket`); nominal and ordinal variables travel as codes."""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import numpy as np

from ..model.model_spec import ModelData, ModelSpec
from ..model.submodel_kinds import ExtraParameter, SubmodelKind
from .integration_plan import integration_choice
from .marginal_likelihood import marginalized
from .model_arrays import bucket, padded
from .prior_densities import prior_structure


class SubmodelPlan(NamedTuple):
    """The compiled shape of one submodel (part of the :class:`Blueprint`)."""

    name: str
    kind: SubmodelKind
    missing: int  # missing values of its outcome
    expressions: tuple
    groups: int  # random-intercept groups, 0 for none
    intercept_prior: tuple
    fixed_prior: tuple | None
    sd_prior: tuple | None
    extra: tuple[tuple[ExtraParameter, tuple], ...] = ()  # the kind's own parameters with their prior structure
    categories: int = 0  # discrete kinds: number of categories
    level: int = 1  # 2: one value per cluster of the first grouping factor
    latent_mean: bool = False  # the model's random intercept defines the variable's latent cluster means


def _submodel_internal_priors(submodel) -> dict:
    """A submodel's priors in its internal units (outcome and predictors standardized); the kind's own
    parameters under their keys."""
    scale = submodel.scale
    result = {"Intercept": submodel.prior_for("Intercept").shifted(-submodel.location).scaled(1.0 / scale),
              "fixed": [submodel.prior_for(name).scaled(sd / scale)
                        for name, sd in zip(submodel.predictor_names, submodel.column_sds)]}
    if submodel.factor is not None:
        result["sd"] = submodel.prior_for(f"sd(Intercept | {submodel.factor.name})").for_sd_scaled(1.0 / scale)
    for extra in submodel.kind.extra_parameters(len(submodel.categories)):
        prior = submodel.prior_for(extra.prior)
        result[extra.key] = [prior.for_sd_scaled(1.0 / scale) if extra.sd_scaled else prior] * max(extra.size, 1)
    return result


def submodel_constants(submodel) -> dict:
    priors = _submodel_internal_priors(submodel)
    constants = {"location": np.asarray(submodel.location), "scale": np.asarray(submodel.scale),
                 "means": np.asarray(submodel.column_means, dtype=float).reshape(-1),
                 "sds": np.asarray(submodel.column_sds, dtype=float).reshape(-1),
                 "intercept prior": prior_structure([priors["Intercept"]])[1]}
    if priors["fixed"]:
        constants["fixed prior"] = prior_structure(priors["fixed"])[1]
    if "sd" in priors:
        constants["sd prior"] = prior_structure([priors["sd"]])[1]
    for extra in submodel.kind.extra_parameters(len(submodel.categories)):
        constants[f"{extra.key} prior"] = prior_structure(priors[extra.key])[1]
    values = submodel.kind.category_values(submodel.categories)
    if values is not None:  # what the variable's codes stand for in other models' predictors
        constants["categories"] = values
    return constants


def submodel_plan(submodel) -> SubmodelPlan:
    priors = _submodel_internal_priors(submodel)
    extra = tuple((parameter, prior_structure(priors[parameter.key])[0])
                  for parameter in submodel.kind.extra_parameters(len(submodel.categories)))
    return SubmodelPlan(submodel.outcome, submodel.kind, bucket(submodel.missing_count),
                        tuple(column.expression for column in submodel.columns),
                        len(submodel.factor.levels) if submodel.factor is not None else 0,
                        prior_structure([priors["Intercept"]])[0],
                        prior_structure(priors["fixed"])[0] if priors["fixed"] else None,
                        prior_structure([priors["sd"]])[0] if "sd" in priors else None, extra,
                        len(submodel.categories), submodel.level, submodel.latent_mean)


def missing_arrays(spec: ModelSpec, data: ModelData) -> dict:
    """The ``outcome_observed``, ``values`` and ``missing`` fields of the model's arrays."""
    result: dict[str, Any] = {}
    if data.outcome_observed is not None and not data.outcome_observed.all() and not spec.outcome_latent:
        result["outcome_observed"] = data.outcome_observed.astype(float)
    if spec.outcome_latent:
        assert data.outcome_observed is not None  # a latent outcome has missing values
        rows = np.flatnonzero(~data.outcome_observed).astype(np.int32)
        if marginalized(spec):  # drawn after sampling, not sampled: no padding
            result["missing"] = {"outcome": rows}
        else:
            size = bucket(rows.size)
            result["missing"] = {"outcome": padded(rows, size, data.n),
                                 "outcome padding": (np.arange(size) >= rows.size).astype(float)}
    if spec.submodels:
        assert data.values is not None  # submodels come with their variables' values
        values = {}
        for name, value in data.values.items():
            value = np.asarray(value)
            values[name] = np.nan_to_num(value.astype(float), nan=0.0) if value.dtype.kind == "f" else value
        result["values"] = values
        _submodel_missing(spec, data, values, result.setdefault("missing", {}))
    block = integration_choice(spec).block
    if block is not None:
        result.setdefault("missing", {})["integrated"] = _integrated_mask(spec, data, block)
    return result


def _integrated_mask(spec: ModelSpec, data: ModelData, block) -> np.ndarray:
    """(rows, members): 1.0 where a member of the integrated block is missing (the focal outcome last)."""
    values = data.values or {}  # the members' values (absent when the outcome is the only member)
    columns = [np.isnan(np.asarray(values[spec.submodels[j].outcome], dtype=float)) for j in block.members]
    if block.focal:
        columns.append(np.zeros(data.n, bool) if data.outcome_observed is None else ~data.outcome_observed)
    return np.stack(columns, axis=-1).astype(float)


def _submodel_missing(spec: ModelSpec, data: ModelData, values: dict, missing: dict) -> None:
    """Add the submodels' category codes to ``values`` and the positions of their missing values to ``missing``."""
    assert data.values is not None  # the submodels' variables have values
    row_codes = []  # per incomplete level-1 discrete variable: its rows' codes (-1 where missing) and categories
    for submodel in spec.submodels:
        codes = submodel.kind.codes(data.values.get(submodel.outcome), submodel.categories)
        if codes is not None:
            values[f"{submodel.outcome} code"] = codes
        if submodel.level == 1 and submodel.kind.imputes:
            unknown = codes < 0 if codes is not None else np.isnan(np.asarray(data.values[submodel.outcome],
                                                                             dtype=float))
            _store_missing(missing, submodel, np.flatnonzero(unknown).astype(np.int32), data.n)
            if codes is not None and unknown.any():
                row_codes.append((codes, len(submodel.categories)))
    if any(submodel.level == 2 for submodel in spec.submodels):
        cluster_rows = np.unique(np.asarray(data.group_index[0]), return_index=True)[1].astype(np.int32)
        missing["cluster rows"] = cluster_rows
        for submodel in spec.submodels:
            if submodel.level == 2:
                at_clusters = np.asarray(data.values[submodel.outcome])[cluster_rows]
                unknown = submodel.kind.unknown(at_clusters)
                _store_missing(missing, submodel, np.flatnonzero(unknown).astype(np.int32), cluster_rows.size)
    if row_codes:
        _discrete_entries(np.stack([codes for codes, _ in row_codes], axis=1), [count for _, count in row_codes],
                          missing)


def _discrete_entries(codes: np.ndarray, categories: list[int], missing: dict) -> None:
    """The entries the likelihood sums over: per row with missing discrete values (its slot), one entry per
    combination of the categories of that row's own missing ones (``codes``: rows x variables, -1 where
    missing). Stores each entry's row, slot and codes (the observed codes and the combination), entries
    ordered by slot, and the rows of the slots; each padded to its compiled size (padded entries have the
    slot one past the last, so sums over slots drop them; padded slots repeat the last row)."""
    unknown = codes < 0
    rows = np.flatnonzero(unknown.any(axis=1)).astype(np.int32)
    slot_of = np.full(codes.shape[0], -1)
    slot_of[rows] = np.arange(rows.size)
    parts = []  # (slots, codes) of each pattern's entries
    for pattern in np.unique(unknown[rows], axis=0):
        members = np.flatnonzero(pattern)
        chosen = rows[(unknown[rows] == pattern).all(axis=1)]
        table = np.array(list(itertools.product(*[range(categories[k]) for k in members])), dtype=np.int32)
        entry_codes = np.repeat(codes[chosen], len(table), axis=0)
        entry_codes[:, members] = np.tile(table, (chosen.size, 1))
        parts.append((np.repeat(slot_of[chosen], len(table)), entry_codes))
    slots = np.concatenate([part[0] for part in parts])
    order = np.argsort(slots, kind="stable")  # by slot; a slot's combinations in table order
    slots, entry_codes = slots[order].astype(np.int32), np.concatenate([part[1] for part in parts])[order]
    size, compiled = slots.size, bucket(slots.size)
    slot_rows = bucket(rows.size)
    missing["discrete rows"] = padded(rows, slot_rows, rows[-1])  # sorted; the last repeated
    missing["discrete rows count"] = np.asarray(rows.size)
    missing["discrete entry rows"] = padded(rows[slots], compiled, rows[-1])
    missing["discrete entry slots"] = padded(slots, compiled, slot_rows)
    missing["discrete entry codes"] = np.concatenate(
        [entry_codes, np.repeat(entry_codes[-1:], compiled - size, axis=0)]).astype(np.int32)


def _store_missing(missing: dict, submodel, positions: np.ndarray, size: int) -> None:
    """Positions (rows, or clusters at level 2) of a variable's missing values, padded to the compiled size:
    with an out-of-range position for sampled values (writes there are dropped) and a padding mask; with
    the last position repeated for summed-out discrete ones, whose true count travels as data."""
    compiled = bucket(positions.size)
    if submodel.kind.sampled:
        missing[submodel.outcome] = padded(positions, compiled, size)
        missing[f"{submodel.outcome} padding"] = (np.arange(compiled) >= positions.size).astype(float)
    else:
        missing[submodel.outcome] = padded(positions, compiled, positions[-1] if positions.size else 0)
        missing[f"{submodel.outcome} count"] = np.asarray(positions.size)
