"""The focal model evaluated on the completed data of each posterior draw.

When predictors were imputed, every draw has its own completed data: the design columns that
involve an imputed variable (or a latent group mean) are recomputed from that draw's values,
exactly as the sampler did. This gives the linear predictor of the fitted rows per draw, and
from it predictions and the pointwise log-likelihood of the observed outcomes *conditional on
the imputations* (each draw's own imputed values; Blimp's "conditional likelihood").
"""

from __future__ import annotations

import numpy as np

from ..backend.linear_predictor import linear_predictor, row_effects, with_columns
from ..backend.random_effects import structure_of
from ..model.model_spec import ModelSpec

CHUNK_VALUES = 20_000_000  # draws x rows x columns evaluated at once


def _flat(array: np.ndarray) -> np.ndarray:
    return array.reshape((-1,) + array.shape[2:])


def completed_values(spec: ModelSpec, data, draws: dict, cells: dict, chosen: np.ndarray) -> dict:
    """Each variable the dynamic columns read, per chosen draw (draws x rows) where it was imputed."""
    values = dict(data.values or {})
    for name, (rows, imputed) in cells.items():
        column = np.asarray(values.get(name, np.full(data.n, np.nan)), dtype=float)
        filled = np.repeat(column[None, :], chosen.size, axis=0)
        filled[:, rows] = imputed[chosen]
        values[name] = filled
    index = np.asarray(data.group_index[0]) if data.group_index else None
    for key, value in draws.items():
        if key.startswith("latent mean "):
            values[f"{key[len('latent mean '):]}.mean"] = _flat(value)[chosen][:, index]
    return values


def linear_predictor_at(spec: ModelSpec, data, draws: dict, chosen: np.ndarray, values: dict) -> np.ndarray:
    """(len(chosen), rows): the focal linear predictor at the chosen flat draws, with ``values`` (each
    variable as rows, or chosen draws x rows) for the columns that involve imputed variables."""
    def design(base: np.ndarray, columns: list) -> np.ndarray:  # (rows, columns), or per draw when recomputed
        if not columns:
            return base
        return with_columns(np, np.broadcast_to(base, (chosen.size,) + base.shape), columns, values)

    random = []
    for i, block in enumerate(spec.random):
        dynamic = spec.dynamic_random[i] if spec.dynamic_random else ()
        Z = design(data.Z[i], [(k, block.columns[k].expression) for k in dynamic])
        random.append(structure_of(block).random_part(Z, row_effects(_flat(draws[f"r_{i}"])[chosen],
                                                                     data.group_index[i])))
    eta = linear_predictor(np, design=design(data.X, [(k, spec.fixed[k].expression) for k in spec.dynamic_fixed]),
                           coefficients=_flat(draws["b"])[chosen] if spec.fixed else None, offset=data.offset,
                           intercept=_flat(draws["Intercept"])[chosen][:, None] if spec.intercept else None,
                           random=random)
    return np.broadcast_to(eta, (chosen.size, data.n)).astype(float)


def fitted_linear_predictor(spec: ModelSpec, data, draws: dict, cells: dict) -> np.ndarray:
    """(samples, rows): the focal linear predictor of the fitted rows, each draw at its own imputations."""
    samples = int(np.prod(next(iter(draws.values())).shape[:2]))
    n = data.n
    width = max(1, data.X.shape[1] + sum(Z.shape[1] for Z in data.Z))
    step = max(1, CHUNK_VALUES // (n * width))
    eta = np.zeros((samples, n))
    for start in range(0, samples, step):
        chosen = np.arange(start, min(start + step, samples))
        eta[chosen] = linear_predictor_at(spec, data, draws, chosen, completed_values(spec, data, draws, cells,
                                                                                      chosen))
    return eta
