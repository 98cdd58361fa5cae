"""Sampler settings."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SpecificationError


@dataclass(frozen=True)
class SamplerConfig:
    chains: int = 4
    warmup: int = 1000
    draws: int = 1000
    thin: int = 1
    target_accept: float = 0.8
    max_tree_depth: int = 10
    dense_mass: bool = False

    def __post_init__(self):
        for name in ("chains", "draws", "thin", "max_tree_depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise SpecificationError(f"{name} must be a positive whole number, got {value!r}")
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise SpecificationError(f"warmup must be a whole number >= 0, got {self.warmup!r}")
        if not 0 < self.target_accept < 1:
            raise SpecificationError(f"target_accept must be between 0 and 1, got {self.target_accept}")
