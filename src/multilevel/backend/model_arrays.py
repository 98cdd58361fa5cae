"""The data as the compiled model sees them: :class:`ModelArrays`, and the padded sizes that let data sets of
similar shapes share one compiled sampler."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


LOG_2PI = float(np.log(2.0 * np.pi))


def bucket(count: int) -> int:
    """The compiled size of a vector of ``count`` missing values: rounded up (by at most about 1/8), so data
    sets with similar missing counts (the replications of a simulation study) share one compiled sampler.
    The extra entries are independent standard normal parameters that touch nothing else."""
    if count <= 0:
        return 0
    step = 8 if count <= 64 else 32 if count <= 512 else 128 if count <= 4096 else 1024
    return int(-(-count // step) * step)


def padded(index: np.ndarray, size: int, sentinel: int) -> np.ndarray:
    return np.concatenate([index, np.full(size - index.size, sentinel, dtype=np.int32)]).astype(np.int32)


class ModelArrays(NamedTuple):
    y: np.ndarray
    trials: np.ndarray | None
    X: np.ndarray
    offset: np.ndarray | None
    Z: tuple
    group_index: tuple
    constants: dict  # prior parameters and scaling constants: data-dependent numbers kept out of the program
    values: dict | None = None  # raw variables (0 where missing) for columns evaluated at sampling time
    missing: dict | None = None  # variable -> row positions of its missing values
    outcome_observed: np.ndarray | None = None  # 1.0 where the outcome is observed
    sufficient: dict | None = None  # per-group cross products for a marginalized random-effect block
