"""Posterior predictions for new or fitted data; new groups are drawn from the population."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backend.likelihood import mean_of, parameter_draws
from ..errors import SpecificationError
from ..model.design import Design, evaluate_design
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
    return spec.family.kind.draw(rng, mean, trials=design.trials, **parameter_draws(spec.family, draws))


def fitted_design(data) -> Design:
    """The design of the rows the model was fitted to."""
    return Design(data.X, data.Z, tuple(np.asarray(i, np.int64) for i in data.group_index), data.offset, data.trials)


def fitted_linear_predictor(fit) -> np.ndarray:
    """(samples, rows) for the fitted rows; with imputed predictors each draw uses its own imputations."""
    if fit.spec.submodels:
        from .completed import fitted_linear_predictor as completed_linear_predictor
        from .imputations import imputed_cells

        return completed_linear_predictor(fit.spec, fit.data, fit.draws, imputed_cells(fit))
    return linear_predictor(fit.spec, fit.draws, fitted_design(fit.data), np.random.default_rng(0))


def predict(fit, newdata: pd.DataFrame | None = None, *, kind: str = "mean", include_random: bool = True,
            summary: bool = True, seed: int | None = None):
    """Posterior predictions of ``newdata`` (default: the fitted rows); see :meth:`Fit.predict`."""
    if kind not in ("linear", "mean", "response"):
        raise SpecificationError(f"kind must be 'linear', 'mean' or 'response', got {kind!r}")
    design = fitted_design(fit.data) if newdata is None else evaluate_design(fit.spec, newdata,
                                                                             need_trials=kind == "response")
    rng = np.random.default_rng(fit.seed if seed is None else seed)
    eta = None
    if newdata is None and fit.spec.submodels:
        if not include_random:
            raise SpecificationError("include_random=False for the fitted rows of a model with imputed "
                                     "predictors is not available; pass newdata")
        eta = fitted_linear_predictor(fit)
    values = predictions(fit.spec, fit.draws, design, kind, rng, include_random, eta=eta)
    if not summary:
        return values
    quantiles = np.quantile(values, [0.025, 0.975], axis=0)
    index = newdata.index if newdata is not None else pd.Index(fit.data.row_labels)
    return pd.DataFrame({"mean": values.mean(axis=0), "sd": values.std(axis=0, ddof=1),
                         "q2.5": quantiles[0], "q97.5": quantiles[1]}, index=index)
