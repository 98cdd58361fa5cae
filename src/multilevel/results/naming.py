"""One map from the sampler's sites to the user's names and coordinates.

A parameter has one name for the user: the label of ``fit.summary()`` (``Intercept``, ``Days``,
``sd(Intercept | Subject)``, ``cor(Days, Intercept | Subject)``, ``residual sd``, ``x ~ z``, ...), which is
also the name of its variable in ``fit.tree`` and of its row in the burn-in table. Per-group effects are
one variable per random block, ``<factor> effects``, with the factor's levels and the block's terms as
coordinates. Everything that turns an internal site (``b``, ``sd_0``, ``L_0``, ``r_0``, ``sigma``,
``submodel 0 b``, ``x ~ sd``, ...) into a user label asks this module; nothing else spells one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backend.site_names import is_group_effect_site
from ..model.model_spec import ModelSpec
from ..model.prior_assignment import cor_name, sd_name

RESIDUAL_SD, RESIDUAL_VAR = "residual sd", "residual var"
CHAIN, DRAW, ROW = "chain", "draw", "obs_id"  # ArviZ's sample dims; the rows of the data used

__all__ = ["CHAIN", "DRAW", "ROW", "RESIDUAL_SD", "RESIDUAL_VAR", "BlockNames", "block_labels", "block_names",
           "cor_name", "cov_name", "icc_name", "imputed_variable", "is_group_effect_site", "latent_mean_variable",
           "sd_name", "site_labels", "submodel_label", "tree_name", "var_name"]


def tree_name(label: str) -> str:
    """A label as a DataTree variable or dim name: xarray refuses '/' there (it separates groups), so a
    '/' in a user's name is shown as the division slash U+2215 (looks the same)."""
    return str(label).replace("/", "\u2215")


def var_name(column: str, factor: str) -> str:
    return f"var({column} | {factor})"


def cov_name(first: str, second: str, factor: str) -> str:
    return f"cov({first}, {second} | {factor})"


def icc_name(factor: str) -> str:
    return f"ICC({factor})"


def submodel_label(outcome: str, part: str, category=None) -> str:
    """``x ~ Intercept``, ``x ~ z``, ``x ~ residual sd``; ``x[level] ~ ...`` for a nominal category."""
    return f"{outcome}[{category}] ~ {part}" if category is not None else f"{outcome} ~ {part}"


def latent_mean_variable(variable: str) -> str:
    return tree_name(f"latent_mean({variable})")


def imputed_variable(variable: str) -> str:
    """The tree variable of a column's imputed values (in the ``imputed_data`` group)."""
    return tree_name(variable)


def imputed_row_dim(variable: str) -> str:
    return tree_name(f"{variable} missing row")


def block_labels(spec: ModelSpec) -> list[str]:
    """A unique label per random block: the factor name, with a suffix if a factor has several blocks."""
    labels: list[str] = []
    seen: dict[str, int] = {}
    for block in spec.random:
        count = seen.get(block.factor.name, 0) + 1
        seen[block.factor.name] = count
        labels.append(block.factor.name if count == 1 else f"{block.factor.name}__{count}")
    return labels


@dataclass(frozen=True)
class BlockNames:
    """How one random block's per-group effects are named in the tree: ``variable`` with dims
    (chain, draw, ``level_dim``, ``term_dim``), coordinates ``levels`` and ``terms``."""

    site: str  # the key of the draws in the data's units, e.g. "r_0"
    factor: str
    variable: str
    level_dim: str
    term_dim: str
    levels: tuple
    terms: tuple[str, ...]


def block_names(spec: ModelSpec) -> list[BlockNames]:
    """One :class:`BlockNames` per random block, in the spec's order. The level dim is the factor's name
    (shared by the blocks of one factor), unless a reported parameter has that name."""
    taken = set(spec.fixed_names) | {"Intercept"}
    names = []
    for i, (block, label) in enumerate(zip(spec.random, block_labels(spec))):
        factor = block.factor.name
        level_dim = tree_name(factor if factor not in taken else f"{factor} level")
        names.append(BlockNames(f"r_{i}", factor, tree_name(f"{label} effects"), level_dim, tree_name(f"{label} term"),
                                tuple(block.factor.levels), tuple(block.column_names)))
    return names


# -- the sampler's unconstrained sites (the burn-in table) ----------------------------------------
def site_labels(spec: ModelSpec, site: str, size: int) -> list[str]:
    """The names in ``summary()`` of the scalars of one unconstrained sampler site (in the site's order)."""
    if site == "b":
        return list(spec.fixed_names)
    if site == "sigma":
        return [spec.family.kind.scale_name]
    if site.startswith("sd_") and site.count("_") == 2:
        _, block, column = site.split("_")
        block_spec = spec.random[int(block)]
        return [sd_name(block_spec.column_names[int(column)], block_spec.factor.name)]
    if site.startswith("L_") and site[2:].isdigit():
        # the unconstrained values of a Cholesky factor of a correlation matrix fill its lower triangle
        # row by row (numpyro's CorrCholeskyTransform): value k belongs to the correlation of that cell
        correlated = spec.random[int(site[2:])]
        rows, columns = np.tril_indices(correlated.size, -1)
        names = correlated.column_names
        return [cor_name(names[row], names[column], correlated.factor.name) for row, column in zip(rows, columns)]
    if " ~ " in site:
        outcome, part = site.split(" ~ ", 1)
        submodel = next((sub for sub in spec.submodels if sub.outcome == outcome), None)
        if submodel is not None:
            return _submodel_site_labels(submodel, part, size)
    if size == 1:
        return [site]
    return [f"{site} [{k + 1}]" for k in range(size)]


def _submodel_site_labels(submodel, part: str, size: int) -> list[str]:
    outcome = submodel.outcome
    if submodel.kind.per_category:  # one linear predictor per category after the first
        categories = submodel.categories[1:]
        if part == "b":
            return [submodel_label(outcome, name, level) for name in submodel.predictor_names for level in categories]
        if part in ("Intercept", "sd"):
            word = "Intercept" if part == "Intercept" else sd_name("Intercept", submodel.factor.name)
            return [submodel_label(outcome, word, level) for level in categories]
    if part == "b" and len(submodel.predictor_names) == size:
        return [submodel_label(outcome, name) for name in submodel.predictor_names]
    if part == "sigma":
        return [submodel_label(outcome, RESIDUAL_SD)]
    if part == "sd" and submodel.factor is not None:
        return [submodel_label(outcome, sd_name("Intercept", submodel.factor.name))]
    if part == "threshold steps":  # threshold 1 is fixed at 0, step k moves threshold k + 2
        return [submodel_label(outcome, f"threshold {k + 2}") for k in range(size)]
    if size == 1:
        return [submodel_label(outcome, part)]
    return [f"{submodel_label(outcome, part)} [{k + 1}]" for k in range(size)]
