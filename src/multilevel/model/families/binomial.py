"""The binomial family: successes out of a number of trials, logit or probit link."""

from __future__ import annotations

import numpy as np

from ...errors import DataError
from .base import OutcomeFamily, logit_information


def bernoulli_kernel(y, eta, n, link, special):
    """y log p + (n - y) log(1 - p) for p = inverse link of eta."""
    if link == "logit":  # = y eta - n log(1 + e^eta): one transcendental per row, not two
        return y * eta - n * special.softplus(eta)
    return y * special.log_ndtr(eta) + (n - y) * special.log_ndtr(-eta)


def check_counts(family: str, name: str, y: np.ndarray) -> None:
    bad = (y < 0) | (y != np.round(y))
    if bad.any():
        values = ", ".join(f"{v:g}" for v in np.unique(y[bad])[:5])
        raise DataError(f"outcome '{name}' must hold non-negative whole counts for the {family} family; found {values}")


class Binomial(OutcomeFamily):
    name = "binomial"
    links = ("logit", "probit")
    takes_trials = True

    def check_outcome(self, name, y, trials):
        check_counts(self.name, name, y)
        assert trials is not None
        bad = (trials < 0) | (trials != np.round(trials))
        if bad.any():
            raise DataError(f"the number of trials for '{name}' must be a non-negative whole number; found "
                            f"{', '.join(f'{v:g}' for v in np.unique(trials[bad])[:5])}")
        over = y > trials
        if over.any():
            raise DataError(f"outcome '{name}' exceeds its number of trials in {int(over.sum())} row(s) "
                            f"(first at row position {int(np.flatnonzero(over)[0])})")

    def log_likelihood(self, y, eta, *, link, sigma=None, trials=None, xp=np, special=None, **parameters):
        kernel = bernoulli_kernel(y, eta, trials, link, special)
        return special.gammaln(trials + 1) - special.gammaln(y + 1) - special.gammaln(trials - y + 1) + kernel

    def draw(self, rng, mean, *, sigma=None, trials=None, **parameters):
        return rng.binomial(np.asarray(trials).astype(np.int64)[None, :], mean).astype(float)

    def ppc_statistics(self):
        return {**super().ppc_statistics(), "share of zeros": lambda v: (v == 0).mean(axis=-1)}

    def group_information(self, y, trials, index, count, link):
        return logit_information(y, trials, index, count, link)


FAMILY = Binomial()
