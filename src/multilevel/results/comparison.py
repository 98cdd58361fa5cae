"""``ml.compare(fit_a, fit_b, ...)``: PSIS-LOO model comparison through ArviZ (``arviz_stats.compare``).

Each fit's pointwise log-likelihood is that of the observed outcomes of its focal model (conditional
on the imputations when predictors were imputed). The fits must have used the same rows with the
same observed outcomes, or the elpd values do not compare.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import SpecificationError


def compare(*fits, names: list[str] | None = None, method: str = "stacking") -> pd.DataFrame:
    """A table ranked by elpd (PSIS-LOO): elpd, its SE, p_loo, the difference from the best model and
    the SE of that difference, stacking weights, and the number of Pareto k values above threshold."""
    from arviz_stats import compare as arviz_compare

    from .criteria import loo_data
    from .log_likelihood import log_likelihood_tree

    if len(fits) < 2:
        raise SpecificationError("compare needs at least two fits")
    names = list(names) if names is not None else [fit.spec.formula for fit in fits]
    if len(names) != len(fits) or len(set(names)) != len(names):
        raise SpecificationError("give one distinct name per fit")
    first = fits[0]
    for name, fit in zip(names[1:], fits[1:]):
        if not same_observations(first, fit):
            raise SpecificationError(f"'{name}' was fitted to other rows or another outcome than '{names[0]}'; "
                                     f"LOO compares models of the same observations")
    results, bad = {}, {}
    for name, fit in zip(names, fits):
        results[name] = loo_data(log_likelihood_tree(fit))
        bad[name] = int(np.sum(np.asarray(results[name].pareto_k) > results[name].good_k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = arviz_compare(results, method=method, round_to="none")
    table = pd.DataFrame(table)
    table["pareto k > threshold"] = [bad[name] for name in table.index]
    return table


def same_observations(first, other) -> bool:
    """The same rows, the same outcome and the same observed outcome values."""
    if np.asarray(first.data.row_labels).shape != np.asarray(other.data.row_labels).shape:
        return False
    same_rows = np.array_equal(np.asarray(first.data.row_labels), np.asarray(other.data.row_labels))
    same_outcomes = np.array_equal(_observed(first), _observed(other), equal_nan=True)
    return same_rows and same_outcomes and first.spec.response.name == other.spec.response.name


def _observed(fit) -> np.ndarray:
    observed = np.ones(fit.data.n, bool) if fit.data.outcome_observed is None else fit.data.outcome_observed
    return np.where(observed, fit.data.y, np.nan)
