"""Draws → ArviZ DataTree, built directly (``from_numpyro`` costs seconds even on small models)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..model.model_spec import ModelData, ModelSpec
from .parameters import block_labels


def _dataset(variables: dict, coords: dict, attrs: dict | None = None) -> xr.Dataset:
    return xr.Dataset({name: xr.DataArray(values, dims=dims) for name, (dims, values) in variables.items()},
                      coords=coords, attrs=attrs or {})


def posterior_dataset(spec: ModelSpec, draws: dict, attrs: dict) -> xr.Dataset:
    chains, samples = next(iter(draws.values())).shape[:2]
    coords = {"chain": np.arange(chains), "draw": np.arange(samples)}
    variables = {}
    if spec.intercept:
        variables["Intercept"] = (("chain", "draw"), draws["Intercept"])
    if spec.fixed:
        coords["term"] = list(spec.fixed_names)
        variables["b"] = (("chain", "draw", "term"), draws["b"])
    for i, (block, label) in enumerate(zip(spec.random, block_labels(spec))):
        term_dim, level_dim = f"{label}__term", label
        coords[term_dim] = list(block.column_names)
        coords[f"{label}__term_b"] = list(block.column_names)
        coords[level_dim] = list(block.factor.levels)
        variables[f"sd_{label}"] = (("chain", "draw", term_dim), draws[f"sd_{i}"])
        if block.has_correlations:
            variables[f"cor_{label}"] = (("chain", "draw", term_dim, f"{label}__term_b"), draws[f"cor_{i}"])
        variables[f"r_{label}"] = (("chain", "draw", level_dim, term_dim), draws[f"r_{i}"])
    for name in spec.family.parameter_names:  # sigma, and the family's own (nu)
        variables[name] = (("chain", "draw"), draws[name])
    used = {dim for dims, _ in variables.values() for dim in dims}
    coords = {name: value for name, value in coords.items() if name in used}
    return _dataset(variables, coords, attrs)


def build_tree(spec: ModelSpec, data: ModelData, draws: dict, stats: dict, log_likelihood: np.ndarray | None,
               attrs: dict) -> xr.DataTree:
    posterior = posterior_dataset(spec, draws, attrs)
    chains, samples = stats["diverging"].shape
    base = {"chain": np.arange(chains), "draw": np.arange(samples)}
    sample_stats = _dataset({name: (("chain", "draw"), np.asarray(value)) for name, value in stats.items()}, base)
    groups = {"posterior": posterior, "sample_stats": sample_stats}
    observed_rows = np.arange(data.n) if data.outcome_observed is None else np.flatnonzero(data.outcome_observed)
    observation = {"obs_id": observed_rows}  # rows of the data used, where the outcome is observed
    outcome = spec.response.name
    if log_likelihood is not None:
        groups["log_likelihood"] = _dataset({outcome: (("chain", "draw", "obs_id"), log_likelihood)},
                                            {**base, **observation})
    groups["observed_data"] = _dataset({outcome: (("obs_id",), data.y[observed_rows])}, observation)
    return xr.DataTree.from_dict(groups)
