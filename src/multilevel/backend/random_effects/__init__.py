"""Random-effect structures: one module per structure, found through one registry.

A new structure is a module defining a :class:`~.base.RandomEffectStructure` subclass and ``STRUCTURE``,
plus its line in ``_MODULES`` below. Every block of today's models is ``normal`` (correlated, or
uncorrelated with ``||``); a block names its structure in the ``structure`` field of its
:class:`~multilevel.model.model_spec.RandomBlock` (default ``normal``), which the model build sets when
the formula asks for another (issue 17: multiple membership, CAR, AR).
"""

from __future__ import annotations

from ...errors import SpecificationError
from . import normal
from .base import BlockEffects, FixedEffects, RandomEffectStructure

_MODULES = (normal,)
REGISTRY: dict[str, RandomEffectStructure] = {module.STRUCTURE.name: module.STRUCTURE for module in _MODULES}
DEFAULT = normal.STRUCTURE.name


def structure_name(block) -> str:
    """The name of a :class:`~multilevel.model.model_spec.RandomBlock`'s structure."""
    return block.structure


def structure_named(name: str) -> RandomEffectStructure:
    try:
        return REGISTRY[name]
    except KeyError:
        raise SpecificationError(f"unknown random-effect structure '{name}'; known: {', '.join(REGISTRY)}") from None


def structure_of(block) -> RandomEffectStructure:
    """The structure of a RandomBlock, or of a BlockPlan (which carries its name)."""
    return structure_named(structure_name(block))


__all__ = ["BlockEffects", "FixedEffects", "REGISTRY", "RandomEffectStructure", "structure_name", "structure_named",
           "structure_of"]
