"""The posterior_predictive group of a fit's DataTree: one replicated data set per kept draw."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import MultilevelError
from .imputations import well_separated_draws
from .log_likelihood import log_likelihood_too_large
from .ppc import replicated_outcomes
from .to_arviz import predictive_dataset


def posterior_predictive_group(fit, seed: int | None = None) -> xr.Dataset:
    """One replicated data set per kept draw (ArviZ's posterior_predictive: the posterior's chain and draw
    coordinates, the rows with an observed outcome); the same seed gives the same replicates."""
    chains, per_chain = fit.shape
    observed = fit.data.outcome_observed
    rows = fit.data.n if observed is None else int(np.sum(observed))
    if log_likelihood_too_large(chains, per_chain, rows):
        raise MultilevelError(f"a posterior predictive group of {chains} chains x {per_chain} draws x {rows} rows "
                              f"is too large to hold; use fit.posterior_predictive(draws=...) for fewer draws")
    total = chains * per_chain
    replicated = replicated_outcomes(fit, total, seed)  # in the order of well_separated_draws(..., total)
    ordered = np.empty_like(replicated)
    ordered[well_separated_draws(chains, per_chain, total)] = replicated
    return predictive_dataset(fit.spec, fit.data, ordered.reshape(chains, per_chain, rows))
