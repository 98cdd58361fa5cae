"""The Bernoulli family: a 0/1 outcome, logit or probit link."""

from __future__ import annotations

import numpy as np

from ...errors import DataError, spell
from .base import OutcomeFamily, logit_information
from .binomial import bernoulli_kernel


class Bernoulli(OutcomeFamily):
    name = "bernoulli"
    links = ("logit", "probit")
    aliases = ("logistic", "binary")

    def check_outcome(self, name, y, trials):
        bad = ~np.isin(y, (0.0, 1.0))
        if bad.any():
            values = ", ".join(f"{v:g}" for v in np.unique(y[bad])[:5])
            raise DataError(f"outcome '{name}' must be 0 or 1 for the bernoulli family; found {values}. "
                            f"Recode it, or use {spell("family='binomial'", "--family binomial")} with "
                            f"trials(n) for counts out of n")

    def log_likelihood(self, y, eta, *, link, sigma=None, trials=None, xp=np, special=None, **parameters):
        return bernoulli_kernel(y, eta, 1, link, special)

    def draw(self, rng, mean, *, sigma=None, trials=None, **parameters):
        return (rng.random(mean.shape) < mean).astype(float)

    def ppc_statistics(self):
        return {"share of ones": lambda v: (v == 1).mean(axis=-1)}

    def group_information(self, y, trials, index, count, link):
        return logit_information(y, trials, index, count, link)


FAMILY = Bernoulli()
