"""A missingness model: the probit regression of a variable's missingness indicator ``<x>.missing``
(a selection model when the variable itself is in the focal model)."""

from __future__ import annotations

from .base import SubmodelKind


class Missingness(SubmodelKind):
    name = "probit"
    role = "missingness model"
    method = "probit"
    imputes = False
    integrable_selection = True

    def row_log_density(self, observed, mean, parameters: dict, xp, special):
        return observed * special.log_ndtr(mean) + (1 - observed) * special.log_ndtr(-mean)

    def integrated_row_log_density(self, observed, mean, variance, xp, special):
        # P(R = 1 | m + u) = Phi(m + u), u ~ N(0, v): E = P(m + u + e > 0), e ~ N(0, 1), = Phi(m / sqrt(1 + v))
        return self.row_log_density(observed, mean / xp.sqrt(1.0 + variance), {}, xp, special)

    def selection_latent(self, observed, mean, variance, uniform, xp, special):
        """A draw of s = R* - mean given the indicator, where R* = mean + u + e (u ~ N(0, variance), e ~ N(0, 1))
        and R = 1 exactly when R* > 0: s ~ N(0, 1 + variance) truncated to R*'s side of 0 (``uniform`` in
        (0, 1) per row; by the inverse of the tail probability, accurate far in the tails)."""
        spread = xp.sqrt(1.0 + variance)
        standardized = mean / spread
        above = -special.ndtri(uniform * xp.exp(special.log_ndtr(standardized)))  # R = 1: s > -mean
        below = special.ndtri(uniform * xp.exp(special.log_ndtr(-standardized)))  # R = 0: s < -mean
        return spread * xp.where(observed > 0.5, above, below)


KIND = Missingness()
