"""Posterior predictions for new or fitted data; new groups are drawn from the population."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backend.likelihood import mean_of, parameter_draws
from ..backend.linear_predictor import RandomPart
from ..backend.linear_predictor import linear_predictor as backend_linear_predictor
from ..backend.random_effects import structure_of
from ..errors import SpecificationError
from ..model.design import Design, evaluate_design
from ..model.model_spec import ModelSpec


def _flat(array):
    return np.asarray(array).reshape((-1,) + np.shape(array)[2:])


def random_parts(spec: ModelSpec, draws: dict, design: Design, rng: np.random.Generator) -> list[RandomPart]:
    """Each block's share of the linear predictor: its design and its rows' group effects (samples, rows, q),
    asked of the block's structure (a row of a group the model has not seen gets a new group's effects)."""
    flat = {name: _flat(value) for name, value in draws.items() if np.ndim(value) >= 2}
    parts = []
    for i, block in enumerate(spec.random):
        structure = structure_of(block)
        rows = structure.row_effects(flat, i, design.group_index[i], block.size, rng)
        parts.append(structure.random_part(design.Z[i], rows))
    return parts


def linear_predictor(spec: ModelSpec, draws: dict, design: Design, rng: np.random.Generator,
                     include_random: bool = True) -> np.ndarray:
    """Draws of the linear predictor, shape (samples, rows), chains flattened."""
    samples = int(np.prod(next(iter(draws.values())).shape[:2]))
    eta = backend_linear_predictor(
        np, design=design.X, coefficients=_flat(draws["b"]) if spec.fixed else None, offset=design.offset,
        intercept=_flat(draws["Intercept"])[:, None] if spec.intercept else None,
        random=random_parts(spec, draws, design, rng) if include_random else ())
    return np.broadcast_to(eta, (samples, design.X.shape[0])).astype(float)


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
        from .imputed_values import imputed_cells

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
