"""A continuous incomplete variable: a normal regression; its missing values are sampled as parameters."""

from __future__ import annotations

import math

import numpy as np

from .base import ExtraParameter, SubmodelKind


class Gaussian(SubmodelKind):
    name = "gaussian"
    sampled = True
    gaussian_units = True
    conditionally_normal = True

    def extra_parameters(self, categories: int) -> tuple[ExtraParameter, ...]:
        return (ExtraParameter("sigma", "sigma", "residual sd", sd_scaled=True),)

    def row_log_density(self, observed, mean, parameters: dict, xp, special):
        sigma = parameters["sigma"]  # log N(observed | mean, sigma)
        scaled = (observed - mean) / sigma
        return -0.5 * scaled ** 2 - xp.log(xp.sqrt(2 * math.pi) * sigma)

    def residual_sd(self, parameters: dict):
        return parameters["sigma"]

    def own_user_units(self, j: int, submodel, constrained: dict) -> dict:
        return {f"submodel {j} sigma": np.asarray(constrained[f"{submodel.outcome} ~ sigma"]) * submodel.scale}


KIND = Gaussian()
