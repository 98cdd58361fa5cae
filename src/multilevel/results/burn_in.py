"""Blimp's burn-in potential scale reduction table: the highest rank-normalized R-hat over the
parameters in expanding windows of the warmup (the second half of its first t iterations, for
t = W/20, 2W/20, ..., W), so one sees when the chains came to agree.

Computed on the sampler's unconstrained values of the coefficients, SDs, correlations and the
other parameter sites (R-hat of ranks does not change under the monotone transforms to the
reported scale, per scalar), each named as in ``summary()``; per-group effects and imputed values
are left out, as in Blimp's table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.model_spec import ModelSpec
from ..model.prior_assignment import cor_name, sd_name


GROUP_EFFECT_SITES = ("z_", "r_")  # per-group effects: not parameters of the summary, nor of Blimp's table


def is_group_effect_site(site: str) -> bool:
    if site.endswith(" ~ z"):
        return True
    return any(site.startswith(prefix) and site[len(prefix):].isdigit() for prefix in GROUP_EFFECT_SITES)


def site_labels(spec: ModelSpec, site: str, size: int) -> list[str]:
    """The names in ``summary()`` of the scalars of one unconstrained sampler site (in the site's order)."""
    if site == "b":
        return list(spec.fixed_names)
    if site == "sigma":
        return ["residual sd"]
    if site.startswith("sd_") and site.count("_") == 2:
        _, block, column = site.split("_")
        block_spec = spec.random[int(block)]
        return [sd_name(block_spec.column_names[int(column)], block_spec.factor.name)]
    if site.startswith("L_") and site[2:].isdigit():
        # the unconstrained values of a Cholesky factor of a correlation matrix fill its lower triangle
        # row by row (numpyro's CorrCholeskyTransform): value k belongs to the correlation of that cell
        block = spec.random[int(site[2:])]
        rows, columns = np.tril_indices(block.size, -1)
        names = block.column_names
        return [cor_name(names[row], names[column], block.factor.name) for row, column in zip(rows, columns)]
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
    if part == "threshold steps":  # threshold 1 is fixed at 0, step k moves threshold k + 2
        return [f"{prefix} threshold {k + 2}" for k in range(size)]
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
        if site.startswith("missing_") or is_group_effect_site(site):  # imputed values and group effects are
            continue  # not parameters of the table (their convergence is checked with the group-level R-hat)
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
