"""The Poisson family: counts, log link, an optional offset (log exposure)."""

from __future__ import annotations

import math

import numpy as np

from .base import OutcomeFamily
from .binomial import check_counts


class Poisson(OutcomeFamily):
    name = "poisson"
    links = ("log",)
    aliases = ("count",)

    def check_outcome(self, name, y, trials):
        check_counts(self.name, name, y)

    def scaling(self, y_seen, intercept, exposure):
        return float(np.sum(y_seen) / np.sum(exposure)), 1.0  # the mean rate per unit of exposure

    def intercept_location(self, outcome_mean):
        return math.log(max(outcome_mean, 1e-3))

    def log_likelihood(self, y, eta, *, link, sigma=None, trials=None, xp=np, special=None, **parameters):
        return y * eta - xp.exp(eta) - special.gammaln(y + 1)

    def draw(self, rng, mean, *, sigma=None, trials=None, **parameters):
        return rng.poisson(mean).astype(float)

    def ppc_statistics(self):
        return {**super().ppc_statistics(), "share of zeros": lambda v: (v == 0).mean(axis=-1)}

    def group_information(self, y, trials, index, count, link):
        sizes = np.bincount(index, minlength=count).astype(float)
        keep = sizes > 0
        successes = np.bincount(index, weights=y, minlength=count)[keep]
        rates = (successes + 0.5) / sizes[keep]
        sampling = float(np.mean(1.0 / (sizes[keep] * rates)))
        tau2 = max(float(np.var(np.log(rates), ddof=1)) - sampling, 0.05)
        return float(np.mean(y)) * tau2


FAMILY = Poisson()
