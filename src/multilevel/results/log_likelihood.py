"""The fitted rows' linear predictor and the pointwise log-likelihood of the observed outcomes.

With imputed predictors each draw's own imputed values enter the linear predictor, so the
log-likelihood is conditional on the imputations (Blimp's "conditional likelihood"); rows whose
outcome is missing have no term.
"""

from __future__ import annotations

import numpy as np

from ..backend.likelihood import log_likelihood, parameter_draws
from .predict import fitted_linear_predictor

LOG_LIKELIHOOD_LIMIT = 60_000_000  # values (chains x draws x rows) stored in the DataTree


def log_likelihood_too_large(chains: int, draws: int, rows: int) -> bool:
    return chains * draws * rows > LOG_LIKELIHOOD_LIMIT


def log_likelihood_at(fit, eta: np.ndarray, parameters: dict | None = None) -> np.ndarray:
    """Per row with an observed outcome, at linear predictors ``eta`` (samples, rows): (chain, draw, rows),
    or (rows,) for one plug-in row of ``eta``; ``parameters`` (sigma, the family's own) default to the draws."""
    data = fit.data
    if parameters is None:
        parameters = parameter_draws(fit.spec.family, fit.draws)
    values = log_likelihood(fit.spec.family, data.y[None, :], eta,
                            trials=None if data.trials is None else data.trials[None, :], **parameters)
    if eta.shape[0] > 1:
        values = values.reshape(*fit.raw.stats["diverging"].shape, -1)
    if data.outcome_observed is not None:  # the likelihood of the observed outcomes only
        values = values[..., data.outcome_observed]
    return values


def pointwise_log_likelihood(fit) -> np.ndarray:
    """log p(y_i | parameters) for every draw and row with an observed outcome: (chain, draw, rows)."""
    return log_likelihood_at(fit, fitted_linear_predictor(fit))


def tree_with(fit, log_lik: np.ndarray):
    """A DataTree of the fit with ``log_lik`` as its log_likelihood group."""
    from .to_arviz import build_tree

    return build_tree(fit.spec, fit.data, fit.draws, fit.raw.stats, log_lik, {})


def log_likelihood_tree(fit, pointwise: np.ndarray | None = None):
    """The DataTree with a log_likelihood group: ``fit.tree`` when it has one (no imputed predictors),
    otherwise one built around the pointwise log-likelihood of the fitted rows."""
    if "log_likelihood" in fit.tree.children:
        return fit.tree
    return tree_with(fit, pointwise_log_likelihood(fit) if pointwise is None else pointwise)
