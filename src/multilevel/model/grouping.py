"""Grouping factors: each row's integer code and the level labels of every factor the model groups by."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .inputs import ParsedInput
from .resolve import factor_columns, formula_error, group_labels, group_node_names


class GroupCoding(NamedTuple):
    """One grouping factor: integer codes per kept row (0..group_count-1) and the level labels in code order."""

    name: str  # "school", or "school:class"
    variables: tuple[str, ...]
    codes: np.ndarray
    levels: tuple[str, ...]

    @property
    def group_count(self) -> int:
        return len(self.levels)


@dataclass(frozen=True)
class Groups:
    """Step 5's output: the random terms' grouping factors (in order of appearance), then factors used only
    for group-mean centring."""

    factors: tuple[GroupCoding, ...]

    def __getitem__(self, name: str) -> GroupCoding:
        for factor in self.factors:
            if factor.name == name:
                return factor
        raise KeyError(name)

    @property
    def codes(self) -> dict[str, tuple[np.ndarray, int]]:
        """factor -> (codes, number of groups), as expressions read them."""
        return {factor.name: (factor.codes, factor.group_count) for factor in self.factors}

    @property
    def levels(self) -> dict[str, tuple[str, ...]]:
        return {factor.name: factor.levels for factor in self.factors}


def grouping_factors(parsed: ParsedInput, group_nodes: Sequence, centering: Sequence, kept) -> Groups:
    """(ParsedInput, the random terms' group nodes, the centering choices, kept rows) → Groups.
    A grouping factor of a random term with one level in the rows used is refused."""
    factors: dict[str, GroupCoding] = {}
    for node in group_nodes:
        names = tuple(n.name for n in group_node_names(node))
        label = ":".join(names)
        if label in factors:
            continue
        codes, levels = group_labels(kept, names)
        if len(levels) < 2:
            raise formula_error(parsed.text, f"grouping factor '{label}' has only one level ({levels[0]!r}) in the "
                                f"data used; a random effect needs at least two groups", node)
        factors[label] = GroupCoding(label, names, codes, levels)
    for _, how in centering:
        if how.startswith("group:"):
            factor = how.split(":", 1)[1]
            if factor not in factors:
                codes, levels = group_labels(kept, factor_columns(factor))
                factors[factor] = GroupCoding(factor, factor_columns(factor), codes, levels)
    return Groups(tuple(factors.values()))
