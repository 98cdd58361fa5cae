"""Information criteria from the pointwise log-likelihood of the observed outcomes.

- DIC (Spiegelhalter et al. 2002): D̄ + p_D with p_D = D̄ − D(θ̂), the plug-in θ̂ being the
  posterior mean of each observation's linear predictor (and of the residual SD);
- DIC2 (Gelman et al. 2004; Blimp's DIC2): D̄ + var(D)/2;
- WAIC (Watanabe 2010): −2 (lppd − p_WAIC), p_WAIC the summed posterior variances of the
  pointwise log-likelihood; its SE from the pointwise terms (ArviZ 1.x has no WAIC);
- PSIS-LOO through ArviZ (``arviz_stats.loo``), with Pareto k diagnostics.

All on the deviance scale (−2 × log scale; smaller is better) except the elpd columns. With
imputed predictors the likelihood is conditional on each draw's imputations (see
:mod:`multilevel.results.completed`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp

COLUMNS = ["criterion", "elpd", "se", "p", "deviance"]
MIN_DRAWS = 20  # PSIS fits a Pareto tail to the largest weights: fewer draws in all leave no tail to fit


def enough_draws(chains: int, draws: int) -> bool:
    return chains * draws >= MIN_DRAWS


def waic(pointwise: np.ndarray) -> dict:
    """``pointwise``: (chain, draw, rows) log-likelihood."""
    flat = pointwise.reshape(-1, pointwise.shape[-1])
    lppd_i = logsumexp(flat, axis=0) - np.log(flat.shape[0])
    p_i = flat.var(axis=0, ddof=1)
    elpd_i = lppd_i - p_i
    return {"elpd": float(elpd_i.sum()), "se": float(np.sqrt(elpd_i.size * elpd_i.var(ddof=1))),
            "p": float(p_i.sum()), "deviance": float(-2 * elpd_i.sum()), "pointwise": elpd_i,
            "large variance": int((p_i > 0.4).sum())}


def dic(pointwise: np.ndarray, plug_in: np.ndarray) -> dict:
    """``plug_in``: log-likelihood per row at the posterior mean of the linear predictor."""
    deviance = -2 * pointwise.reshape(-1, pointwise.shape[-1]).sum(axis=1)
    mean_deviance = float(deviance.mean())
    p = mean_deviance + 2 * float(np.sum(plug_in))
    return {"elpd": np.nan, "se": np.nan, "p": p, "deviance": mean_deviance + p}


def dic2(pointwise: np.ndarray) -> dict:
    deviance = -2 * pointwise.reshape(-1, pointwise.shape[-1]).sum(axis=1)
    p = float(deviance.var(ddof=1) / 2)
    return {"elpd": np.nan, "se": np.nan, "p": p, "deviance": float(deviance.mean()) + p}


def loo_data(tree):
    """``arviz_stats.loo`` (pointwise) with its warnings silenced: Pareto k problems are reported in our
    tables instead."""
    from arviz_stats import loo

    from ..errors import SamplingError

    total = int(np.prod([tree.posterior.sizes[dim] for dim in ("chain", "draw")]))
    if total < MIN_DRAWS:
        raise SamplingError(f"PSIS-LOO needs at least {MIN_DRAWS} draws in all; this fit has {total}: "
                            f"fit with more draws")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return loo(tree, pointwise=True)


def psis_loo(tree) -> tuple[dict, np.ndarray]:
    """PSIS-LOO through ArviZ; returns the summary and the Pareto k per observation."""
    result = loo_data(tree)
    k = np.asarray(result.pareto_k).reshape(-1)
    return ({"elpd": float(result.elpd), "se": float(result.se), "p": float(result.p),
             "deviance": float(-2 * result.elpd), "good k": float(result.good_k)}, k)


def criteria_table(pointwise: np.ndarray, plug_in: np.ndarray | None, tree) -> tuple[pd.DataFrame, dict]:
    """DIC, DIC2, WAIC and LOO in one table (DIC empty without a plug-in), and notes on their reliability."""
    nothing = {"elpd": np.nan, "se": np.nan, "p": np.nan, "deviance": np.nan}
    rows = {"DIC": dic(pointwise, plug_in) if plug_in is not None else nothing, "DIC2": dic2(pointwise),
            "WAIC": waic(pointwise)}
    notes: dict[str, Any] = {}
    loo_row, k = psis_loo(tree)
    rows["LOO"] = loo_row
    bad = int((k > loo_row["good k"]).sum())
    notes["pareto k"] = {"max": float(np.max(k)), "above threshold": bad, "threshold": loo_row["good k"],
                         "rows": int(k.size)}
    if rows["WAIC"]["large variance"]:
        notes["waic"] = rows["WAIC"]["large variance"]
    frame = pd.DataFrame([{"criterion": name, **{key: row[key] for key in ("elpd", "se", "p", "deviance")}}
                          for name, row in rows.items()]).set_index("criterion")
    return frame, notes
