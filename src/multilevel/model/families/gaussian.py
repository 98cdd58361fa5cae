"""The Gaussian family: identity link, a residual SD, the outcome standardized internally."""

from __future__ import annotations

import math

import numpy as np

from ...errors import DataError
from .base import OutcomeFamily

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class Gaussian(OutcomeFamily):
    name = "gaussian"
    links = ("identity",)
    aliases = ("normal",)
    residual_sd = True
    standardized = True
    conjugate_normal = True
    imputes_missing_outcome = True

    def check_outcome(self, name, y, trials):
        if np.ptp(y) == 0:
            raise DataError(f"outcome '{name}' is constant ({y[0]:g}); there is nothing to model")

    def scaling(self, y_seen, intercept, exposure):
        # without an intercept nothing would absorb a shift of the outcome: only rescale it
        return (float(np.mean(y_seen)) if intercept else 0.0), float(np.std(y_seen, ddof=1))

    def intercept_location(self, outcome_mean):
        return outcome_mean

    def log_likelihood(self, y, eta, *, link, sigma=None, trials=None, xp=np, special=None, **parameters):
        residual = (y - eta) / sigma
        return -0.5 * residual ** 2 - xp.log(sigma) - LOG_SQRT_2PI

    def draw(self, rng, mean, *, sigma=None, trials=None, **parameters):
        return mean + np.reshape(sigma, (-1, 1)) * rng.standard_normal(mean.shape)

    def group_information(self, y, trials, index, count, link):
        sizes = np.bincount(index, minlength=count).astype(float)
        keep = sizes > 0
        means = np.bincount(index, weights=y, minlength=count)[keep] / sizes[keep]
        within = y - (np.bincount(index, weights=y, minlength=count) / np.maximum(sizes, 1))[index]
        within_variance = float((within ** 2).sum() / max(len(y) - keep.sum(), 1))
        between = float(np.var(means, ddof=1)) if keep.sum() > 1 else 0.0
        tau2 = max(between - within_variance * float(np.mean(1.0 / sizes[keep])), 0.01 * np.var(y))
        return tau2 / max(within_variance, 1e-12)


FAMILY = Gaussian()
