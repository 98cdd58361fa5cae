"""Hierarchical centering: which fixed effects become the means of a centered block's group coefficients."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.model_spec import ModelSpec


@dataclass(frozen=True)
class Absorption:
    """Which fixed effects become the means of a centered block's group coefficients.

    In a centered block, the group coefficients are sampled as beta_j ~ N(mean, Sigma), with the
    intercept and the fixed slopes of the same columns as the mean (hierarchical centering).
    That removes the ridge between a fixed effect and the average of its group deviations.
    One block at most absorbs the intercept: the centered one with the fewest groups (its mean is
    the least determined). ``sources[i][k]`` is "intercept", a fixed column index, or None.

    Group-level predictors (complete fixed columns constant within a factor's groups) join the mean
    of that factor's random intercept when its block is centered: ``group_level[i]`` lists them.
    Their coefficients are then informed through the group coefficients alone, and the linear
    predictor no longer carries them row by row (each to the centered block with the fewest groups).
    """

    sources: tuple[tuple, ...]
    absorbed_fixed: frozenset[int]  # fixed slopes that are a centered block's slope means
    intercept_absorbed: bool
    group_level: tuple[tuple[int, ...], ...] = ()

    @property
    def off_rows(self) -> frozenset[int]:
        """Fixed columns that enter through a block's mean, not the rows' linear predictor."""
        return self.absorbed_fixed | frozenset(k for columns in self.group_level for k in columns)


def absorption(spec: ModelSpec) -> Absorption:
    fixed_index = {name: k for k, name in enumerate(spec.fixed_names)}
    centered = [i for i, block in enumerate(spec.random) if block.parameterization == "centered"]
    with_intercept = [i for i in centered if any(c.is_intercept for c in spec.random[i].columns)]
    intercept_block = (min(with_intercept, key=lambda i: len(spec.random[i].factor.levels))
                       if spec.intercept and with_intercept else None)
    sources: list[tuple[str | int | None, ...]] = []
    used: set[int] = set()
    for i, block in enumerate(spec.random):
        row = []
        for column in block.columns:
            source: str | int | None = None
            if i in centered:
                if column.is_intercept and i == intercept_block:
                    source = "intercept"
                elif not column.is_intercept and column.name in fixed_index and fixed_index[column.name] not in used:
                    source = fixed_index[column.name]
                    used.add(source)
            row.append(source)
        sources.append(tuple(row))
    group_level: list[tuple[int, ...]] = [() for _ in spec.random]
    taken = set(used)
    for i in sorted(with_intercept, key=lambda i: len(spec.random[i].factor.levels)):
        if spec.group_level:
            group_level[i] = tuple(k for k in spec.group_level[i] if k not in taken)
            taken.update(group_level[i])
    return Absorption(tuple(sources), frozenset(used), intercept_block is not None, tuple(group_level))


def group_designs(spec: ModelSpec, X: np.ndarray, group_index) -> dict[int, np.ndarray]:
    """Per block with absorbed group-level predictors: their internal values, one row per group."""
    designs = {}
    for i, columns in enumerate(absorption(spec).group_level):
        if columns:
            design = np.zeros((len(spec.random[i].factor.levels), len(columns)))
            design[np.asarray(group_index[i])] = np.asarray(X)[:, list(columns)]
            designs[i] = design
    return designs
