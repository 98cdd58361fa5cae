"""Correlations among the level-1 residuals of the focal model and the predictor models (Blimp's
"correlations among residuals"): per posterior draw, the correlation over the rows of the completed
data between two models' residuals. A factored specification implies they are near zero; a clear
departure says the models miss an association."""

from __future__ import annotations

import itertools

import numpy as np

from .completed import completed_values


def _flat(array):
    return np.asarray(array).reshape((-1,) + np.shape(array)[2:])


def _submodel_mean(submodel, j: int, draws: dict, values: dict, index: np.ndarray, chosen: np.ndarray):
    mean = _flat(draws[f"submodel {j} Intercept"])[chosen][:, None]
    if submodel.columns:
        b = _flat(draws[f"submodel {j} b"])[chosen]
        for k, column in enumerate(submodel.columns):
            mean = mean + b[:, k, None] * np.asarray(column.expression.evaluate(values, np), dtype=float)
    if f"submodel {j} effects" in draws:
        mean = mean + _flat(draws[f"submodel {j} effects"])[chosen][:, index]
    return mean


def residual_correlation_draws(fit, eta: np.ndarray, chunk_values: int = 5_000_000) -> dict[str, np.ndarray]:
    """name ("y, x1") → correlation per draw (samples,). ``eta``: the focal linear predictor (samples, rows)."""
    from .imputations import imputed_cells

    spec, data = fit.spec, fit.data
    if not any(submodel.kind.gaussian_units and submodel.level == 1 for submodel in spec.submodels):
        return {}
    samples = eta.shape[0]
    cells = imputed_cells(fit)
    index = np.asarray(data.group_index[0]) if data.group_index else np.zeros(data.n, dtype=int)
    step = max(1, chunk_values // data.n)
    parts: dict[str, list] = {}
    for start in range(0, samples, step):
        chosen = np.arange(start, min(start + step, samples))
        values = completed_values(spec, data, fit.draws, cells, chosen)
        residuals = {}
        if spec.family.has_residual_sd:
            y = np.repeat(data.y[None, :].astype(float), chosen.size, axis=0)
            if spec.response.name in cells:
                rows, imputed = cells[spec.response.name]
                y[:, rows] = imputed[chosen]
            residuals[spec.response.name] = y - eta[chosen]
        for j, submodel in enumerate(spec.submodels):
            if submodel.kind.gaussian_units and submodel.level == 1:
                value = np.broadcast_to(np.asarray(values[submodel.outcome], dtype=float), (chosen.size, data.n))
                residuals[submodel.outcome] = value - _submodel_mean(submodel, j, fit.draws, values, index, chosen)
        for (a, first), (b, second) in itertools.combinations(residuals.items(), 2):
            first = first - first.mean(axis=1, keepdims=True)
            second = second - second.mean(axis=1, keepdims=True)
            parts.setdefault(f"{a}, {b}", []).append(
                (first * second).sum(axis=1) / np.sqrt((first ** 2).sum(axis=1) * (second ** 2).sum(axis=1)))
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}
