"""The variables' values in the rows used: numeric columns, categorical codes and group codes; level-2
variables filled in where their cluster knows them; start values of latent group means."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..errors import SpecificationError
from . import expressions as E
from .design_columns import Terms
from .grouping import Groups
from .resolve import numeric_values
from .rows import References, Rows


@dataclass(frozen=True)
class KnownValues:
    """Step 7's output: every variable's values in the kept rows (NaN, or code -1, where missing), by name,
    as expressions read them (with "group index:<factor>" and "group count:<factor>").

    ``incomplete``: the predictors still missing somewhere (level-2 ones once per cluster);
    ``level_two``: incomplete variables constant within the first grouping factor's clusters;
    ``latent``: variables whose latent group means the model uses (their values hold start values)."""

    values: Mapping[str, np.ndarray]
    incomplete: tuple[str, ...]
    level_two: tuple[str, ...]
    latent: tuple[str, ...]

    @property
    def sampled(self) -> frozenset[str]:
        """The variables evaluated while sampling: incomplete ones and latent group means."""
        return frozenset(self.incomplete) | {E.latent_key(name) for name in self.latent}


def known_values(terms: Terms, rows: Rows, groups: Groups, references: References) -> KnownValues:
    """(Terms, Rows, Groups, References) → KnownValues. A level-2 variable's missing value in a cluster
    where it is observed is known (filled in, in our copy); a latent group mean of a level-2 variable is
    refused."""
    values = numeric_values(rows.kept, groups.codes)
    for name, codes in terms.codes.items():
        values.setdefault(name, codes)
    first = groups[references.random_factor_names[0]].codes if references.random_factor_names else None
    level_two = level_two_variables(list(rows.incomplete), values, first)
    incomplete = [name for name in rows.incomplete if missing_mask(values[name]).any()]  # some known in the cluster
    latent = latent_mean_placeholders(set(terms.latent_means), values, first, level_two)
    return KnownValues(MappingProxyType(values), tuple(incomplete), tuple(level_two), tuple(latent))


def first_rows(index: np.ndarray) -> np.ndarray:
    """The first row of each cluster (codes 0..J-1, each present)."""
    return np.unique(index, return_index=True)[1]


def level_two_variables(incomplete: list[str], values: dict, index) -> list[str]:
    """Incomplete variables constant within every cluster (of the first grouping factor): level 2.

    Their missing values are imputed once per cluster. A missing value in a cluster where the
    variable is observed in another row is known: it is filled with that value (in our copy).
    A variable that varies within some cluster is level 1.
    """
    if index is None:
        return []
    result = []
    for name in incomplete:
        value = values[name]
        seen = ~missing_mask(value)
        frame = pd.DataFrame({"value": value[seen], "cluster": index[seen]})
        spread = frame.groupby("cluster")["value"].agg(lambda v: v.max() - v.min())
        if not ((spread == 0).all() and (frame.groupby("cluster").size() > 1).any()):
            continue
        known = frame.groupby("cluster")["value"].first()
        filled = value.copy()
        fill = ~seen & np.isin(index, known.index.to_numpy())
        filled[fill] = known.reindex(index[fill]).to_numpy()
        values[name] = filled
        result.append(name)
    return result


def latent_mean_placeholders(names: set[str], values: dict, index, level_two: list[str]) -> list[str]:
    """Start values (observed cluster means) for the latent group means the formula uses; the model
    replaces them at every step. Only level-1 variables have latent group means."""
    for name in sorted(names):
        if name in level_two or (index is not None and not _varies_within(values[name], index)):
            raise SpecificationError(f"latent_mean({name}): '{name}' is constant within clusters (a level-2 "
                                     f"variable); it is its own cluster mean — use it directly")
        value = np.asarray(values[name], dtype=float)
        seen = ~np.isnan(value)
        sums = np.bincount(index[seen], weights=value[seen], minlength=index.max() + 1)
        counts = np.bincount(index[seen], minlength=index.max() + 1)
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nanmean(value))
        values[E.latent_key(name)] = means[index]
    return sorted(names)


def _varies_within(value: np.ndarray, index: np.ndarray) -> bool:
    value = np.asarray(value, dtype=float)
    seen = ~np.isnan(value)
    frame = pd.DataFrame({"value": value[seen], "cluster": index[seen]})
    return bool((frame.groupby("cluster")["value"].agg(lambda v: v.max() - v.min()) > 0).any())


def missing_mask(value: np.ndarray) -> np.ndarray:
    """Missing entries of a variable's values: NaN for numbers, code -1 for categorical codes."""
    value = np.asarray(value)
    return np.isnan(value) if value.dtype.kind == "f" else value < 0
