"""Posterior predictions for new or fitted data; new groups are drawn from the population."""

from __future__ import annotations

import numpy as np

from ..backend.likelihood import mean_of
from ..model.design import Design
from ..model.families import FamilyName
from ..model.model_spec import ModelSpec


def linear_predictor(spec: ModelSpec, draws: dict, design: Design, rng: np.random.Generator,
                     include_random: bool = True) -> np.ndarray:
    """Draws of the linear predictor, shape (samples, rows), chains flattened."""
    def flat(array):
        return array.reshape((-1,) + array.shape[2:])

    samples = int(np.prod(next(iter(draws.values())).shape[:2]))
    n = design.X.shape[0]
    eta = np.zeros((samples, n))
    if spec.intercept:
        eta += flat(draws["Intercept"])[:, None]
    if spec.fixed:
        eta += flat(draws["b"]) @ design.X.T
    if design.offset is not None:
        eta += design.offset[None, :]
    if not include_random:
        return eta
    for i, block in enumerate(spec.random):
        effects = flat(draws[f"r_{i}"])  # (samples, groups, q)
        index = design.group_index[i]
        new = index < 0
        rows = np.empty((samples, n, block.size))
        rows[:, ~new, :] = effects[:, index[~new], :]
        if new.any():
            new_codes, inverse = np.unique(index[new], return_inverse=True)
            sd = flat(draws[f"sd_{i}"])
            cor = flat(draws[f"cor_{i}"])
            covariance = cor * sd[:, :, None] * sd[:, None, :]
            cholesky = np.linalg.cholesky(covariance + 1e-12 * np.eye(block.size))
            z = rng.standard_normal((samples, len(new_codes), block.size))
            drawn = np.einsum("sgk,sjk->sgj", z, cholesky)
            rows[:, new, :] = drawn[:, inverse, :]
        eta += np.einsum("snk,nk->sn", rows, design.Z[i])
    return eta


def predictions(spec: ModelSpec, draws: dict, design: Design, kind: str, rng: np.random.Generator,
                include_random: bool = True, eta: np.ndarray | None = None) -> np.ndarray:
    """Draws (samples, rows) of the linear predictor, the mean or simulated outcomes; ``eta`` when the
    linear predictor is already known (the fitted rows of a model with imputed predictors)."""
    if eta is None:
        eta = linear_predictor(spec, draws, design, rng, include_random)
    if kind == "linear":
        return eta
    mean = mean_of(spec.family, eta)
    if kind == "mean":
        return mean
    family = spec.family.name
    if family is FamilyName.GAUSSIAN:
        sigma = draws["sigma"].reshape(-1)
        return mean + sigma[:, None] * rng.standard_normal(mean.shape)
    if family is FamilyName.BERNOULLI:
        return (rng.random(mean.shape) < mean).astype(float)
    if family is FamilyName.BINOMIAL:
        return rng.binomial(design.trials.astype(np.int64)[None, :], mean).astype(float)
    if family is FamilyName.POISSON:
        return rng.poisson(mean).astype(float)
    raise ValueError(kind)
