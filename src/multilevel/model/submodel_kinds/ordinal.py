"""An ordinal incomplete variable: an ordinal probit model (binary with two categories). As in Blimp the
first threshold is 0 and the latent residual variance 1; the others follow by positive steps. Its missing
values are summed out of the likelihood and drawn afterwards."""

from __future__ import annotations

import numpy as np

from .base import ExtraParameter, SubmodelKind


class Ordinal(SubmodelKind):
    name = "ordinal"
    method = "ordinal probit"
    discrete = True

    def extra_parameters(self, categories: int) -> tuple[ExtraParameter, ...]:
        if categories <= 2:
            return ()
        return (ExtraParameter("steps", "threshold steps", "threshold steps", size=categories - 2),)

    def details(self, submodel) -> str:
        count = len(submodel.categories)
        return "binary" if count == 2 else f"{count} categories"

    def codes(self, raw: np.ndarray, categories: tuple) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        codes = np.full(raw.shape, -1, dtype=np.int32)
        seen = ~np.isnan(raw)
        codes[seen] = np.searchsorted(np.asarray(categories), raw[seen])
        return codes

    def category_values(self, categories: tuple) -> np.ndarray:
        return np.asarray(categories, dtype=float)

    def row_log_density(self, observed, mean, parameters: dict, xp, special):
        steps = parameters.get("steps")
        thresholds = xp.zeros((1,)) if steps is None else xp.concatenate([xp.zeros((1,)), xp.cumsum(steps)])
        return log_probability(observed, mean, thresholds, xp, special)

    def own_user_units(self, j: int, submodel, constrained: dict) -> dict:
        if len(submodel.categories) <= 2:
            return {}
        steps = np.asarray(constrained[f"{submodel.outcome} ~ threshold steps"])
        return {f"submodel {j} thresholds": np.cumsum(steps, axis=-1)}


def log_probability(code, mean, thresholds, xp, special):
    """log P(category = code) under the ordinal probit model: Phi(t_k - mean) - Phi(t_{k-1} - mean), with
    t_{-1} = -inf and t_{K-1} = +inf; computed on the side of the smaller tail for accuracy."""
    categories = thresholds.shape[0] + 1
    if categories == 2:  # binary: one tail, Phi(t - mean) for the first category, Phi(mean - t) for the second
        return special.log_ndtr(xp.where(code > 0, mean - thresholds[0], thresholds[0] - mean))
    upper = xp.concatenate([thresholds, xp.full((1,), 40.0)])[xp.clip(code, 0, categories - 1)] - mean
    lower = xp.concatenate([xp.full((1,), -40.0), thresholds])[xp.clip(code, 0, categories - 1)] - mean
    # log(Phi(u) - Phi(l)); for l > 0 use the mirror image Phi(-l) - Phi(-u)
    mirror = lower > 0
    high = xp.where(mirror, -lower, upper)
    low = xp.where(mirror, -upper, lower)
    log_high, log_low = special.log_ndtr(high), special.log_ndtr(low)
    return log_high + xp.log1p(-xp.exp(xp.minimum(log_low - log_high, -1e-12)))


KIND = Ordinal()
