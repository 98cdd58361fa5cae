"""Rubin's rules: pool an analysis repeated on each completed data set (multiple imputation).

Given per-imputation estimates and their squared standard errors, the pooled estimate is their
mean; the total variance adds the between-imputation variance (times 1 + 1/m) to the average
within-imputation variance; degrees of freedom follow Barnard & Rubin (1999) when the
complete-data degrees of freedom are given, else Rubin (1987).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SpecificationError


def pool(estimates, variances, complete_df: float | None = None, level: float = 0.95) -> pd.DataFrame:
    """``estimates`` and ``variances``: (imputations x parameters) arrays or DataFrames (columns name the
    parameters). Returns estimate, se, within and between variance, fraction of missing information,
    df and the ``level`` interval per parameter."""
    if isinstance(estimates, pd.Series):
        estimates = estimates.to_frame()
    if isinstance(variances, pd.Series):
        variances = variances.to_frame(name=estimates.columns[0] if isinstance(estimates, pd.DataFrame) else None)
    names = list(estimates.columns) if isinstance(estimates, pd.DataFrame) else None
    if names is not None and isinstance(variances, pd.DataFrame):
        if set(variances.columns) != set(names):
            raise SpecificationError(f"estimates and variances name different parameters: {sorted(map(str, names))} "
                                     f"and {sorted(map(str, variances.columns))}")
        variances = variances[names]  # paired by name, not by position
    q, u = np.asarray(estimates, dtype=float), np.asarray(variances, dtype=float)
    q = q.reshape(-1, 1) if q.ndim == 1 else q  # one parameter: a value per imputation
    u = u.reshape(-1, 1) if u.ndim == 1 else u
    if q.shape != u.shape:
        raise SpecificationError(f"estimates {q.shape} and variances {u.shape} must have the same shape")
    m = q.shape[0]
    if m < 2:
        raise SpecificationError("pooling needs at least two imputations")
    if (u < 0).any():
        raise SpecificationError("variances must not be negative (pass squared standard errors)")
    estimate = q.mean(axis=0)
    within = u.mean(axis=0)
    between = q.var(axis=0, ddof=1)
    total = within + (1 + 1 / m) * between
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (1 + 1 / m) * between / within
        lam = (1 + 1 / m) * between / total
        df_rubin = (m - 1) * (1 + 1 / r) ** 2
        if complete_df is not None:
            observed = (complete_df + 1) / (complete_df + 3) * complete_df * (1 - lam)
            df = 1 / (1 / df_rubin + 1 / observed)
        else:
            df = df_rubin
    df = np.where(np.isfinite(df), df, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        fmi = np.where(np.isfinite(df), (r + 2 / (df + 3)) / (r + 1), lam)  # Rubin's fraction of missing information
    fmi = np.where(between > 0, fmi, 0.0)
    half = stats.t.ppf(0.5 + level / 2, df) * np.sqrt(total)
    frame = pd.DataFrame({"estimate": estimate, "se": np.sqrt(total), "within": within, "between": between,
                          "lambda": lam, "fmi": fmi, "df": df, f"q{100 * (1 - level) / 2:g}": estimate - half,
                          f"q{100 * (0.5 + level / 2):g}": estimate + half},
                         index=names if names is not None else [f"parameter {k + 1}" for k in range(q.shape[1])])
    return frame
