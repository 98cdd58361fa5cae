"""A nominal incomplete variable: a multinomial logit with one linear predictor (intercept, coefficients,
random intercept) per category after the first, the reference. It enters other models as dummy codes; its
missing values are summed out of the likelihood and drawn afterwards (as codes)."""

from __future__ import annotations

import numpy as np

from .base import SubmodelKind


class Nominal(SubmodelKind):
    name = "nominal"
    method = "multinomial logit"
    discrete = True
    per_category = True

    def linear_predictors(self, categories: int) -> int:
        return categories - 1

    def details(self, submodel) -> str:
        return f"{len(submodel.categories)} categories, reference {submodel.categories[0]}"

    def codes(self, raw: np.ndarray, categories: tuple) -> np.ndarray:
        return np.asarray(raw).astype(np.int32)

    def unknown(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(raw) < 0

    def category_values(self, categories: tuple) -> np.ndarray:
        return np.arange(len(categories), dtype=float)

    def value_of_code(self, code, category_values, xp):
        return code  # the dummy codes of the models it enters compare codes

    def row_log_density(self, observed, mean, parameters: dict, xp, special):
        others = parameters["Intercept"].shape[-1]
        linear = xp.broadcast_to(mean, (observed.shape[0], others))
        logits = xp.concatenate([xp.zeros(linear.shape[:-1] + (1,)), linear], axis=-1)
        code = xp.clip(observed, 0, others)
        return xp.take_along_axis(special.log_softmax(logits), code[:, None], axis=1)[:, 0]

    def user_units(self, j: int, submodel, constrained: dict) -> dict:
        """Per category after the first: intercept (..., K-1), coefficients (..., p, K-1), SDs; imputed codes."""
        name = submodel.outcome
        out = {}
        intercept = np.asarray(constrained[f"{name} ~ Intercept"])
        if submodel.columns:
            coefficients = np.asarray(constrained[f"{name} ~ b"]) / np.asarray(submodel.column_sds)[:, None]
            out[f"submodel {j} b"] = coefficients
            intercept = intercept - np.einsum("p,...pk->...k", np.asarray(submodel.column_means), coefficients)
        out[f"submodel {j} Intercept"] = intercept
        if submodel.factor is not None:
            out[f"submodel {j} sd"] = np.asarray(constrained[f"{name} ~ sd"])
        if submodel.missing_count:
            out[f"imputed {name}"] = np.asarray(constrained[f"missing_{name}"])
        return out


KIND = Nominal()
