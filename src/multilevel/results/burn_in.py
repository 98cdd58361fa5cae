"""Blimp's burn-in potential scale reduction table: the highest rank-normalized R-hat over the
parameters in expanding windows of the warmup (the second half of its first t iterations, for
t = W/20, 2W/20, ..., W), so one sees when the chains came to agree.

Computed on the sampler's unconstrained values of the coefficients, SDs, correlations and the
other small parameter sites (R-hat of ranks does not change under the monotone transforms to
the reported scale, per scalar).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.model_spec import ModelSpec
from ..model.prior_assignment import sd_name
from .parameters import block_labels


def site_labels(spec: ModelSpec, site: str, size: int) -> list[str]:
    """Readable names of the scalars of one unconstrained sampler site."""
    if site == "b":
        return list(spec.fixed_names)
    if site == "sigma":
        return ["residual sd"]
    labels = block_labels(spec)
    if site.startswith("sd_") and site.count("_") == 2:
        _, block, column = site.split("_")
        block_spec = spec.random[int(block)]
        return [sd_name(block_spec.column_names[int(column)], block_spec.factor.name)]
    if site.startswith("L_") and site[2:].isdigit():
        return [f"cor({labels[int(site[2:])]}) [{k + 1}]" for k in range(size)]
    if site.startswith("r_") and site[2:].isdigit():  # group coefficients of a centered block
        block = spec.random[int(site[2:])]
        names = [f"{block.factor.name} {level}: {term}" for level in block.factor.levels for term in block.column_names]
        if len(names) == size:
            return names
    if " ~ " in site:
        outcome, part = site.split(" ~ ", 1)
        submodel = next((sub for sub in spec.submodels if sub.outcome == outcome), None)
        if submodel is not None:
            return _submodel_site_labels(submodel, part, size)
    if size == 1:
        return [site]
    return [f"{site} [{k + 1}]" for k in range(size)]


def _submodel_site_labels(submodel, part: str, size: int) -> list[str]:
    prefix = f"{submodel.outcome} ~"
    if submodel.family == "nominal":
        categories = submodel.categories[1:]
        if part == "b":
            return [f"{submodel.outcome}[{level}] ~ {name}" for name in submodel.predictor_names for level in categories]
        if part in ("Intercept", "sd"):
            word = "Intercept" if part == "Intercept" else f"sd(Intercept | {submodel.factor.name})"
            return [f"{submodel.outcome}[{level}] ~ {word}" for level in categories]
    if part == "b" and len(submodel.predictor_names) == size:
        return [f"{prefix} {name}" for name in submodel.predictor_names]
    if part == "sigma":
        return [f"{prefix} residual sd"]
    if part == "sd" and submodel.factor is not None:
        return [f"{prefix} sd(Intercept | {submodel.factor.name})"]
    if size == 1:
        return [f"{prefix} {part}"]
    return [f"{prefix} {part} [{k + 1}]" for k in range(size)]


def burn_in_psr(spec: ModelSpec, warmup: dict, rows: int = 20) -> pd.DataFrame:
    """One row per window: iterations (from, to), the highest R-hat and the parameter that has it."""
    from arviz_stats.base import array_stats

    if not warmup:
        return pd.DataFrame(columns=["from", "to", "highest R-hat", "parameter"])
    names, series = [], []
    for site, value in warmup.items():
        if site.startswith("missing_"):  # imputed values (and their padding) are not parameters of the table
            continue
        value = np.asarray(value)
        chains, draws = value.shape[:2]
        flat = value.reshape(chains, draws, -1)
        labels = site_labels(spec, site, flat.shape[-1])
        for k in range(flat.shape[-1]):
            names.append(labels[k] if k < len(labels) else f"{site} [{k + 1}]")
            series.append(flat[:, :, k])
    stacked = np.stack(series)  # (parameters, chains, draws)
    chains, total = stacked.shape[1], stacked.shape[2]
    if chains < 2 or total < 2 * rows:
        return pd.DataFrame(columns=["from", "to", "highest R-hat", "parameter"])
    table = []
    for k in range(1, rows + 1):
        end = int(round(k * total / rows))
        start = end // 2
        if end - start < 4:
            continue
        with np.errstate(all="ignore"):
            rhat = np.asarray(array_stats.rhat(stacked[:, :, start:end], chain_axis=-2, draw_axis=-1), dtype=float)
        if not np.isfinite(rhat).any():
            continue
        worst = int(np.nanargmax(rhat))
        table.append({"from": start + 1, "to": end, "highest R-hat": float(rhat[worst]), "parameter": names[worst]})
    return pd.DataFrame(table, columns=["from", "to", "highest R-hat", "parameter"])
