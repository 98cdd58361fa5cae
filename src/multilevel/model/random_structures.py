"""Grouping factors and random-effect blocks: integer codes per factor, the blocks' design columns
(``Z``), the sampler's parameterization of each block, and when to integrate the effects out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..errors import DataError, SpecificationError
from .checks import suggest
from .design_columns import evaluate_columns
from .families import Family
from .grouping import Groups
from .inputs import ParsedInput
from .model_spec import Column, GroupingFactor, RandomBlock
from .random_effects import choose_parameterization
from .resolve import formula_error, group_node_names
from .response import OutcomeData


@dataclass(frozen=True)
class RandomDesign:
    """The random-effect blocks with, per block, its design columns ``Z`` (n, q) and group codes (n,)."""

    blocks: tuple[RandomBlock, ...]
    Z: tuple[np.ndarray, ...]
    index: tuple[np.ndarray, ...]


def random_structures(parsed: ParsedInput, family: Family, groups: Groups,
                      random_columns: Sequence[Sequence[Column]], values: Mapping, sampled: frozenset,
                      n: int) -> RandomDesign:
    """(ParsedInput, family, Groups, each random term's columns, variable values, the variables evaluated
    while sampling, number of rows) → RandomDesign, one block per grouping factor of each random term
    (``(x | a/b)`` gives two), "noncentered" until :func:`choose_parameterizations`.

    Refuses a column varying twice over one factor, a random intercept over a factor with a level per row
    (for families with a residual), non-finite columns, and constant random slopes."""
    blocks, Z_list, index_list = [], [], []
    seen_pairs = set()
    for part, columns in zip(parsed.expanded.random, random_columns):
        Z = evaluate_columns(columns, values, n)
        for k, column in enumerate(columns):
            if column.expression.variables() & sampled:  # placeholders: the observed mean where unknown
                finite = np.isfinite(Z[:, k])
                Z[~finite, k] = Z[finite, k].mean() if finite.any() else 0.0
        for node in part.group_nodes:
            group = groups[":".join(n.name for n in group_node_names(node))]
            for column in columns:
                if (group.name, column.name) in seen_pairs:
                    raise formula_error(parsed.text, f"'{column.name}' varies over '{group.name}' twice", part.node)
                seen_pairs.add((group.name, column.name))
            if family.kind.residual_sd and group.group_count >= n and () in part.terms:
                raise formula_error(parsed.text, f"grouping factor '{group.name}' has a level for every row "
                                    f"({group.group_count} levels, {n} rows); its random intercept cannot be told "
                                    f"apart from the residual", node)
            blocks.append(RandomBlock(GroupingFactor(group.name, group.variables, group.levels),
                                      tuple(columns), part.correlated, "noncentered"))
            Z_list.append(Z)
            index_list.append(group.codes)
    _check_random_columns(blocks, Z_list)
    return RandomDesign(tuple(blocks), tuple(Z_list), tuple(index_list))


def _check_random_columns(blocks, Z_list) -> None:
    for block, Z in zip(blocks, Z_list):
        for k, column in enumerate(block.columns):
            if not np.isfinite(Z[:, k]).all():
                raise DataError(f"random-effect column '{column.name}' is not finite in some rows")
            if not column.is_intercept and np.std(Z[:, k]) == 0:
                raise DataError(f"'{column.name}' is constant, so its random slope over '{block.factor.name}' "
                                f"duplicates the random intercept; remove it")


def choose_parameterizations(parameterization, family: Family, outcome: OutcomeData,
                             random: RandomDesign) -> RandomDesign:
    """RandomDesign → RandomDesign with each block's parameterization: the user's choice, else centred or
    non-centred by how much the data inform the block (:func:`~.random_effects.choose_parameterization`)."""
    choices = parameterization_choices(parameterization, random.blocks)
    seen = outcome.observed
    trials = None if outcome.trials is None else outcome.trials[seen]
    blocks = tuple(replace(block, parameterization=(
                       choices.get(position) or choices.get(block.factor.name) or choose_parameterization(
                           family, outcome.y[seen], trials, codes[seen], len(block.factor.levels), Z[seen],
                           tuple(column.is_intercept for column in block.columns))))
                   for position, (block, codes, Z) in enumerate(zip(random.blocks, random.index, random.Z)))
    return replace(random, blocks=blocks)


def parameterization_choices(parameterization, blocks: Sequence[RandomBlock]) -> dict:
    """Choices keyed by factor name, or by block position when given as a list (one per block)."""
    valid = ("centered", "noncentered", "marginalized")
    if parameterization in (None, "auto"):
        return {}
    if isinstance(parameterization, (list, tuple)):
        if len(parameterization) != len(blocks) or any(choice not in valid + ("auto",) for choice in parameterization):
            raise SpecificationError(f"parameterization as a list needs one of 'auto', 'centered', 'noncentered', "
                                     f"'marginalized' "
                                     f"per random-effect block ({len(blocks)})")
        return {position: choice for position, choice in enumerate(parameterization) if choice != "auto"}
    if isinstance(parameterization, str):
        if parameterization not in valid:
            raise SpecificationError(f"parameterization must be 'auto', 'centered', 'noncentered' or "
                                     f"'marginalized', got '{parameterization}'")
        return {block.factor.name: parameterization for block in blocks}
    if isinstance(parameterization, dict):
        names = {block.factor.name for block in blocks}
        for factor, choice in parameterization.items():
            if factor not in names:
                raise SpecificationError(f"parameterization: '{factor}' is not a grouping factor of this model"
                                         f"{suggest(factor, names)}")
            if choice not in valid + ("auto",):
                raise SpecificationError(f"parameterization for '{factor}' must be 'auto', 'centered', "
                                         f"'noncentered' or 'marginalized', got '{choice}'")
        return {factor: choice for factor, choice in parameterization.items() if choice != "auto"}
    raise SpecificationError("parameterization must be 'auto', 'centered', 'noncentered' or a dict per factor")


def marginalize_when_exact(blocks: Sequence[RandomBlock], choices: Mapping, family: Family, submodels,
                           selection: bool) -> Sequence[RandomBlock]:
    """Integrate the random effects out of the likelihood where that is exact and cheap.

    A Gaussian model with one random-effect block and no imputed predictors has a closed-form
    marginal likelihood (per group, y_j ~ N(X_j b, Z_j T Z_j' + sigma^2 I)); the sampler then
    explores only the fixed effects and variance parameters, and the group effects are drawn
    afterwards from their exact conditional distribution. Chosen automatically; a stated
    ``parameterization="marginalized"`` that cannot apply is an error.
    """
    exact = family.kind.conjugate_normal and len(blocks) == 1 and not submodels and not selection
    stated = [block for position, block in enumerate(blocks)
              if (choices.get(position) or choices.get(block.factor.name)) == "marginalized"]
    if stated and not exact:
        raise SpecificationError("parameterization='marginalized' needs a Gaussian model with one random-effect "
                                 "term and no imputed predictors; use 'centered' or 'noncentered' here")
    if not exact:
        return blocks
    block = blocks[0]
    if choices.get(0) or choices.get(block.factor.name):
        return blocks if not stated else [replace(block, parameterization="marginalized")]
    return [replace(block, parameterization="marginalized")]

