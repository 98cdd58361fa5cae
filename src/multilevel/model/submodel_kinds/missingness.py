"""A missingness model: the probit regression of a variable's missingness indicator ``<x>.missing``
(a selection model when the variable itself is in the focal model)."""

from __future__ import annotations

from .base import SubmodelKind


class Missingness(SubmodelKind):
    name = "probit"
    role = "missingness model"
    method = "probit"
    imputes = False

    def row_log_density(self, observed, mean, parameters: dict, xp, special):
        return observed * special.log_ndtr(mean) + (1 - observed) * special.log_ndtr(-mean)


KIND = Missingness()
