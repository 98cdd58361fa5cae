"""Posterior summaries with ArviZ's diagnostics (rank-normalized split R-hat, bulk/tail ESS, MCSE)."""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["mean", "median", "sd", "q2.5", "q97.5", "rhat", "ess_bulk", "ess_tail", "mcse_mean"]


def summarize(names: list[str], draws: np.ndarray) -> pd.DataFrame:
    """``draws`` has shape (K, chain, draw); one row per name."""
    from arviz_stats.base import array_stats  # imported when first needed (it takes a second or two)

    draws = np.asarray(draws, dtype=float)
    flat = draws.reshape(draws.shape[0], -1)
    quantiles = np.quantile(flat, [0.025, 0.5, 0.975], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame({
            "mean": flat.mean(axis=1),
            "median": quantiles[1],
            "sd": flat.std(axis=1, ddof=1) if flat.shape[1] > 1 else np.full(len(names), np.nan),
            "q2.5": quantiles[0],
            "q97.5": quantiles[2],
            "rhat": _safe(array_stats.rhat, draws, method="rank"),
            "ess_bulk": _safe(array_stats.ess, draws, method="bulk"),
            "ess_tail": _safe(array_stats.ess, draws, method="tail", prob=(0.05, 0.95)),
            "mcse_mean": _safe(array_stats.mcse, draws, method="mean"),
        }, index=pd.Index(names, name="parameter"))
    return frame


def _safe(function, draws, **kwargs) -> np.ndarray:
    """Diagnostics of constant draws (e.g. a correlation fixed at 1) are NaN, not errors."""
    out = np.asarray(function(draws, chain_axis=-2, draw_axis=-1, **kwargs), dtype=float)
    constant = np.ptp(draws.reshape(draws.shape[0], -1), axis=1) == 0
    out[constant] = np.nan
    return out


def summarize_draws(values: dict[str, np.ndarray], chains: int, draws: int) -> pd.DataFrame:
    """One row per named array of ``chains * draws`` values (any shape that reshapes to (chain, draw))."""
    if not values:
        return pd.DataFrame(columns=COLUMNS)
    return summarize(list(values), np.stack([v.reshape(chains, draws) for v in values.values()]))[COLUMNS]
