"""Per-group summaries: the random effects of each grouping factor and the latent cluster means."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SpecificationError
from ..model.model_spec import ModelSpec
from .naming import block_labels
from .summaries import summarize


def random_effects(spec: ModelSpec, draws, factor: str | None = None) -> pd.DataFrame:
    """Per-group effects (deviations from the fixed effects): factor, level, term and their summary."""
    frames = []
    for i, (block, label) in enumerate(zip(spec.random, block_labels(spec))):
        if factor is not None and factor not in (block.factor.name, label):
            continue
        effects = draws[f"r_{i}"]  # (chain, draw, groups, q)
        groups, size = effects.shape[2], effects.shape[3]
        stacked = np.moveaxis(effects, (0, 1), (-2, -1)).reshape(groups * size, *effects.shape[:2])
        names = [f"{level}|{term}" for level in block.factor.levels for term in block.column_names]
        summary = summarize(names, stacked).reset_index(drop=True)
        summary.insert(0, "term", [term for _ in block.factor.levels for term in block.column_names])
        summary.insert(0, "level", [level for level in block.factor.levels for _ in block.column_names])
        summary.insert(0, "factor", block.factor.name)
        frames.append(summary)
    if not frames:
        known = ", ".join(block.factor.name for block in spec.random) or "none"
        raise SpecificationError(f"no random effects for factor '{factor}' (factors: {known})")
    return pd.concat(frames, ignore_index=True)


def latent_means(spec: ModelSpec, draws, variable: str | None = None) -> pd.DataFrame:
    """Posterior summaries of the latent cluster means (``latent_mean(x)``): variable, cluster and summary."""
    names = [key[len("latent mean "):] for key in draws if key.startswith("latent mean ")]
    if variable is not None and variable not in names:
        raise SpecificationError(f"no latent group means of '{variable}' in this model "
                                 f"(latent means: {', '.join(names) or 'none'})")
    levels = spec.random[0].factor.levels if spec.random else ()
    frames = []
    for name in [variable] if variable is not None else names:
        values = draws[f"latent mean {name}"]  # (chain, draw, clusters)
        summary = summarize(list(levels), np.moveaxis(values, -1, 0)).reset_index(drop=True)
        summary.insert(0, "cluster", list(levels))
        summary.insert(0, "variable", name)
        frames.append(summary)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
