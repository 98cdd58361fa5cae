"""What a random-effect structure is: one protocol every structure module implements.

A structure owns how a block's parameters are declared and sampled (its SDs, correlations and group
effects, in whichever parameterization), how its effects enter the linear predictor, how its draws map
back to the data's units and how it draws the effects of a group the data have not seen. The model
function, :func:`~multilevel.backend.user_units.to_user_units` and prediction ask the block's structure,
never its name. A new structure (multiple membership, CAR, AR(1), ...) is one module here and one line in
the registry (``random_effects/__init__.py``).
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np

from ..linear_predictor import RandomPart, row_effects


class FixedEffects(NamedTuple):
    """The focal model's intercept (a scalar, or None) and coefficients ((p,), or None) at one draw."""

    intercept: Any | None  # a JAX array in the model function
    coefficients: Any | None


class BlockEffects(NamedTuple):
    """One block at one draw: its rows' effects (None when marginalized) and its scaled Cholesky factor."""

    block: int  # its position among the model's blocks
    direct: tuple[bool, ...]  # the intercept columns: their effects enter the linear predictor as they are
    rows: Any | None  # (rows, q), a JAX array in the model function
    scale_tril: Any  # (q, q)


class RandomEffectStructure:
    """One kind of random-effect block (override what differs). Instances are stateless singletons."""

    name: ClassVar[str]

    def sample(self, i: int, block, arrays, fixed: FixedEffects) -> BlockEffects:
        """Declare block i's sites (with their priors) inside the model function; its effects at this draw.
        ``block`` is its :class:`~multilevel.backend.blueprint.BlockPlan`."""
        raise NotImplementedError

    def random_part(self, design, rows, direct: tuple[bool, ...] = ()) -> RandomPart:
        """The block's share of the linear predictor: its design columns (Z) and its rows' effects
        (:class:`BlockEffects` ``rows`` and ``direct`` in the model; :meth:`row_effects` after sampling)."""
        return RandomPart(design, rows, direct)

    def user_units(self, spec, i: int, constrained: dict, absorption, design) -> dict:
        """Block i's draws in the data's units: ``sd_i``, ``cor_i`` and the group deviations ``r_i``
        (..., groups, q); ``design``: the absorbed group-level predictors (one row per group) or None."""
        raise NotImplementedError

    def new_group_effects(self, draws: dict, i: int, size: int, count: int, rng: np.random.Generator) -> np.ndarray:
        """(samples, count, q): effects of ``count`` groups the data have not seen, drawn from the population
        at every posterior draw (``draws`` in the data's units, chains flattened)."""
        raise NotImplementedError

    def row_effects(self, draws: dict, i: int, index: np.ndarray, size: int, rng: np.random.Generator):
        """(samples, rows, q): each row's group effects in the data's units; a row of a group the model has not
        seen (code -1) gets a new group's."""
        effects = draws[f"r_{i}"]
        new = index < 0
        if not new.any():
            return row_effects(effects, index)
        rows = np.empty((effects.shape[0], index.size, size))
        rows[:, ~new, :] = effects[:, index[~new], :]
        new_codes, inverse = np.unique(index[new], return_inverse=True)
        rows[:, new, :] = self.new_group_effects(draws, i, size, len(new_codes), rng)[:, inverse, :]
        return rows

    def __repr__(self) -> str:
        return f"<random-effect structure {self.name}>"
