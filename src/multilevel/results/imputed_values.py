"""The posterior draws of every value the model imputed as a parameter or summed out and drew afterwards
(predictors, latent outcomes), cell by cell: what completed designs and completed data sets read."""

from __future__ import annotations

import numpy as np


def imputed_cells(fit) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """variable → (row positions among the rows used, draws of shape (samples, cells))."""
    cells = {}
    for submodel in fit.spec.submodels:
        if submodel.kind.imputes and submodel.missing_count:
            rows = np.flatnonzero(submodel.kind.unknown(fit.data.values[submodel.outcome]))
            draws = fit.draws[f"imputed {submodel.outcome}"]
            draws = draws.reshape(-1, draws.shape[-1])
            if submodel.level == 2:  # one draw per cluster, given to each of its rows
                clusters = np.asarray(fit.data.group_index[0])
                missing_clusters = np.unique(clusters[rows])  # in code order, as the model's latent values
                draws = draws[:, np.searchsorted(missing_clusters, clusters[rows])]
            cells[submodel.outcome] = (rows, draws)
    if fit.spec.outcome_latent:
        name = fit.spec.response.name
        draws = fit.draws[f"imputed {name}"]
        cells[name] = (np.flatnonzero(~fit.data.outcome_observed), draws.reshape(-1, draws.shape[-1]))
    return cells
