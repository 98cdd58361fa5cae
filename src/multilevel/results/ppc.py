"""Posterior predictive checks: replicated outcomes for the fitted rows and test statistics.

Replicated data sets are drawn from the focal model at posterior draws (each with its own group
effects and, when predictors were imputed, its own imputations). For each statistic T the
posterior predictive p-value is P(T(y_rep) >= T(y)); values near 0 or 1 flag a misfit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def statistics_for(fit) -> dict:
    """name → function of outcomes (replicates x rows) → (replicates,)."""
    chosen = dict(fit.spec.family.kind.ppc_statistics())
    for i, block in enumerate(fit.spec.random):
        if any(column.is_intercept for column in block.columns):
            index = np.asarray(fit.data.group_index[i])[_observed_rows(fit)]
            chosen[f"sd of {block.factor.name} means"] = _cluster_mean_spread(index)
    return chosen


def _cluster_mean_spread(index: np.ndarray):
    counts = np.bincount(index)
    present = counts > 0

    def spread(values):
        sums = np.stack([np.bincount(index, weights=row, minlength=counts.size) for row in np.atleast_2d(values)])
        means = sums[:, present] / counts[present]
        result = means.std(axis=-1, ddof=1)
        return result if np.ndim(values) > 1 else result[0]

    return spread


def _observed_rows(fit) -> np.ndarray:
    observed = fit.data.outcome_observed
    return np.arange(fit.data.n) if observed is None else np.flatnonzero(observed)


def replicated_outcomes(fit, draws: int = 500, seed: int | None = None) -> np.ndarray:
    """(replicates, observed rows): outcomes simulated at ``draws`` posterior draws spread over the chains."""
    from .imputations import well_separated_draws
    from .predict import fitted_design, fitted_linear_predictor, predictions

    chains, per_chain = fit.raw.stats["diverging"].shape
    chosen = well_separated_draws(chains, per_chain, min(draws, chains * per_chain))
    rng = np.random.default_rng(np.random.SeedSequence([fit.seed if seed is None else seed, 5501]))
    eta = fitted_linear_predictor(fit)[chosen]
    subset = {name: np.asarray(value).reshape((-1,) + np.shape(value)[2:])[chosen][None]
              for name, value in fit.draws.items() if np.ndim(value) >= 2}
    replicated = predictions(fit.spec, subset, fitted_design(fit.data), "response", rng, eta=eta)
    return replicated[:, _observed_rows(fit)]


def posterior_predictive_check(fit, draws: int = 500, seed: int | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    replicated = replicated_outcomes(fit, draws, seed)
    observed = fit.data.y[_observed_rows(fit)]
    rows = []
    for name, statistic in statistics_for(fit).items():
        value = float(statistic(observed[None])[0])
        simulated = np.asarray(statistic(replicated), dtype=float)
        lower, upper = np.quantile(simulated, [0.025, 0.975])
        rows.append({"statistic": name, "observed": value, "replicated mean": float(simulated.mean()),
                     "q2.5": float(lower), "q97.5": float(upper),
                     "p-value": float(np.mean(simulated >= value))})
    return pd.DataFrame(rows).set_index("statistic"), replicated
