"""What the data used look like: rows, exclusions, clusters and their sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backend.integration_plan import integration_choice
from ..model.model_spec import ModelData, ModelSpec


def data_summary(spec: ModelSpec, data: ModelData) -> dict:
    factors = {}
    for block, index in zip(spec.random, data.group_index):
        if block.factor.name in factors:
            continue
        sizes = np.bincount(index, minlength=len(block.factor.levels))
        factors[block.factor.name] = {"clusters": int(len(block.factor.levels)), "size_min": int(sizes.min()),
                                      "size_median": float(np.median(sizes)), "size_max": int(sizes.max())}
    y = data.y if data.outcome_observed is None else data.y[data.outcome_observed]
    return {
        "outcome_missing": 0 if data.outcome_observed is None else int((~data.outcome_observed).sum()),
        "imputed": {submodel.outcome: submodel.missing_count for submodel in spec.submodels
                    if submodel.missing_count},
        "rows_used": data.n,
        "rows_excluded": data.excluded_rows,
        "missing_by_column": dict(data.exclusion_reasons),
        "outcome": {"name": spec.response.label or spec.response.name, "mean": float(np.mean(y)),
                    "sd": float(np.std(y, ddof=1)) if len(y) > 1 else float("nan"),
                    "min": float(np.min(y)), "max": float(np.max(y))},
        "factors": factors,
        "missing_values_handling": integration_choice(spec).note(),
    }


def factor_table(summary: dict) -> pd.DataFrame:
    return pd.DataFrame.from_dict(summary["factors"], orient="index")


def missing_patterns(frame: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """Blimp's missing-data pattern table for the rows used: one row per pattern (most frequent
    first), ``True`` where the variable is missing, with the pattern's row count and percentage."""
    missing = frame[variables].isna()
    counts = missing.value_counts(sort=False).rename("rows").reset_index()
    counts["missing variables"] = counts[variables].sum(axis=1)
    counts = counts.sort_values(["missing variables", "rows"], ascending=[True, False]).drop(
        columns="missing variables").reset_index(drop=True)
    counts["percent"] = 100.0 * counts["rows"] / len(frame)
    counts.index = pd.RangeIndex(1, len(counts) + 1, name="pattern")
    return counts


def missing_rates(frame: pd.DataFrame, variables: list[str]) -> pd.Series:
    """Percent missing per variable, highest first."""
    return (100.0 * frame[variables].isna().mean()).sort_values(ascending=False)


def modelled_variables(spec: ModelSpec, frame: pd.DataFrame) -> list[str]:
    """The model's columns other than its grouping factors."""
    grouping = {name for block in spec.random for name in block.factor.variables}
    return [name for name in frame.columns if name not in grouping]


def fit_missing_patterns(spec: ModelSpec, data: ModelData, frame: pd.DataFrame) -> pd.DataFrame:
    """Blimp's pattern table over the model's variables in the rows used."""
    return missing_patterns(frame.loc[data.row_labels], modelled_variables(spec, frame))
