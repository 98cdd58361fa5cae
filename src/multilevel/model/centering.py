"""Centering: the user's choices checked against the data, and the cluster means group-mean-centred
columns record from the fitting data (so the model can be applied to new data).

A choice is "grand" (the grand mean), "latent" (the latent group mean over the first grouping factor)
or "group:<factor>" (the observed cluster mean).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import SpecificationError
from . import expressions as E
from .checks import suggest
from .model_spec import Column
from .resolve import factor_columns


def normalize_center(center, frame: pd.DataFrame, random_factor_names: Sequence[str]) -> dict[str, str]:
    """The user's ``center`` (variable -> how) read into variable -> "grand" | "latent" | "group:<factor>";
    "group" alone needs exactly one grouping factor, "latent" at least one."""
    if not center:
        return {}
    if not isinstance(center, dict):
        raise SpecificationError("center must be a dict such as {'x': 'group', 'z': 'grand'}")
    result = {}
    for name, how in center.items():
        if name not in frame.columns:
            raise SpecificationError(f"center: there is no column '{name}'.{suggest(name, frame.columns)}")
        how = str(how).strip()
        if how in ("grand", "grandmean", "grand mean"):
            result[name] = "grand"
            continue
        if how in ("latent", "latent group mean", "latentmean"):
            if not random_factor_names:
                raise SpecificationError(f"center: '{name}' at its latent group mean needs a grouping factor")
            result[name] = "latent"
            continue
        if how in ("group", "groupmean", "group mean", "within", "cwc"):
            if len(random_factor_names) != 1:
                raise SpecificationError(
                    f"center: say which grouping factor to centre '{name}' within, e.g. "
                    f"'group:{random_factor_names[0] if random_factor_names else 'school'}'"
                    + (f" (the model has {', '.join(random_factor_names)})" if random_factor_names else ""))
            result[name] = f"group:{random_factor_names[0]}"
            continue
        if how.startswith("group:"):
            factor = how.split(":", 1)[1].strip()
            for part in factor_columns(factor):
                if part not in frame.columns:
                    raise SpecificationError(f"center: no grouping column '{part}' to centre '{name}' within"
                                             f"{suggest(part, frame.columns)}")
            result[name] = f"group:{factor}"
            continue
        raise SpecificationError(f"center: '{how}' for '{name}' is not a centering; use 'grand', 'group', "
                                 f"'group:<factor>' or 'latent'")
    return result


def with_stored_group_means(column: Column, values: Mapping, group_levels: Mapping) -> Column:
    """Record the fitting data's cluster means in every group-mean-centred node of a column."""
    def store(expression: E.Expression) -> E.Expression:
        if not isinstance(expression, E.GroupMeanCentered):
            return expression
        raw = np.asarray(expression.argument.evaluate(values, np), dtype=float)
        index = values[f"group index:{expression.factor}"]
        count = values[f"group count:{expression.factor}"]
        seen = ~np.isnan(raw)  # the observed values' mean (missing ones are imputed)
        means = (np.bincount(index[seen], weights=raw[seen], minlength=count)
                 / np.maximum(np.bincount(index[seen], minlength=count), 1))
        return E.GroupMeanCentered(expression.argument, expression.factor, tuple(float(m) for m in means),
                                   tuple(group_levels[expression.factor]))

    stored = E.rewrite(column.expression, store)
    assert isinstance(stored, E.Product)  # store replaces group-mean-centred nodes only, never the product
    return Column(column.name, column.term, stored)

