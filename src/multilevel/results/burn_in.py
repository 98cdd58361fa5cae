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
from .naming import is_group_effect_site, site_labels  # the names of the sampler's sites, as in summary()

__all__ = ["burn_in_psr", "is_group_effect_site", "site_labels"]


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
