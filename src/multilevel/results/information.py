"""Information criteria of a fit: the table (DIC, DIC2, WAIC, PSIS-LOO) and ArviZ-style LOO and WAIC
results, conditional on the imputations or marginal over them (see :mod:`multilevel.results.marginal`)."""

from __future__ import annotations

import copy
from typing import ClassVar

import numpy as np
import pandas as pd
import xarray as xr
from arviz_stats import ELPDData

from ..backend.likelihood import parameter_draws
from ..errors import SpecificationError
from .criteria import criteria_table, loo_data, waic as waic_terms
from .log_likelihood import (fitted_linear_predictor, log_likelihood_at, log_likelihood_tree,
                             pointwise_log_likelihood, tree_with)

LIKELIHOODS = ("conditional", "marginal")


class ELPDDataWAIC(ELPDData):
    """WAIC in ArviZ's result container (arviz-stats 1.x computes LOO only): ``elpd``, ``se``, ``p``,
    ``elpd_i``; ``warning`` when a row's posterior variance of the log-likelihood exceeds 0.4."""

    _kind: ClassVar[str | None] = "waic"


def _checked(likelihood) -> str:
    if likelihood not in LIKELIHOODS:
        raise SpecificationError(f"likelihood must be 'conditional' or 'marginal', got {likelihood!r}")
    return likelihood


def _pointwise(fit, likelihood: str) -> np.ndarray:
    if likelihood == "marginal":
        from .marginal import marginal_pointwise

        return marginal_pointwise(fit)
    return pointwise_log_likelihood(fit)


def information_criteria(fit, likelihood: str = "conditional") -> pd.DataFrame:
    """The criteria table of ``fit`` (computed once per fit and likelihood; a copy is returned)."""
    if likelihood not in fit._memo:
        fit._memo[likelihood] = _criteria(fit, _checked(likelihood))
    table = fit._memo[likelihood]
    result = table.copy()
    result.attrs = copy.deepcopy(table.attrs)
    return result


def _criteria(fit, likelihood: str) -> pd.DataFrame:
    if likelihood == "marginal":
        pointwise = _pointwise(fit, likelihood)
        table, notes = criteria_table(pointwise, None, tree_with(fit, pointwise))
        table.attrs["notes"] = notes
        return table
    eta = fitted_linear_predictor(fit)
    pointwise = log_likelihood_at(fit, eta)
    means = {name: values.mean(axis=0, keepdims=True) for name, values in
             parameter_draws(fit.spec.family, fit.draws).items()}  # the plug-in point: posterior means
    plug_in = log_likelihood_at(fit, eta.mean(axis=0, keepdims=True), means).reshape(-1)
    del eta
    table, notes = criteria_table(pointwise, plug_in, log_likelihood_tree(fit, pointwise))
    table.attrs["notes"] = notes
    return table


def loo(fit, likelihood: str = "conditional"):
    """PSIS-LOO of the observed outcomes as ``arviz_stats.loo`` gives it (pointwise, with Pareto k)."""
    if _checked(likelihood) == "marginal":
        return loo_data(tree_with(fit, _pointwise(fit, likelihood)))
    return loo_data(log_likelihood_tree(fit))


def waic(fit, likelihood: str = "conditional") -> ELPDDataWAIC:
    """WAIC of the observed outcomes (the WAIC row of :func:`information_criteria`), as an ELPDData."""
    pointwise = _pointwise(fit, _checked(likelihood))
    terms = waic_terms(pointwise)
    chains, draws, rows = pointwise.shape
    return ELPDDataWAIC(elpd=terms["elpd"], se=terms["se"], p=terms["p"], n_samples=chains * draws,
                        n_data_points=rows, scale="log", warning=bool(terms["large variance"]),
                        good_k=float("nan"), elpd_i=xr.DataArray(terms["pointwise"], dims=["obs_id"]))
