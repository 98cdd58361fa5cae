"""The pointwise likelihood of the observed outcomes with the imputed predictors integrated out.

The conditional likelihood (:mod:`multilevel.results.completed`) scores y_i given each draw's own
imputed predictors. The marginal one scores y_i given only what was observed of its predictors:

    p(y_i | x_obs,i, theta) = E[ p(y_i | x_obs,i, x_mis,i, theta) ],  x_mis,i ~ p(x_mis | x_obs,i, theta),

the expectation over the missing predictors' distribution given the observed ones under the predictor
models (the factored regressions). A Gaussian focal model whose designs are linear in the imputed
variables has it in closed form (:mod:`.marginal_gaussian`). Otherwise it is estimated with
``replicates`` draws per posterior draw: each missing value drawn from its model given the values of the
variables it is regressed on (ancestrally), weighted by the density of the row's observed values whose
models involve a drawn one (self-normalized importance sampling; without the weights an observed
variable regressed on a missing one would not inform it). The models of complete variables regressed
on an imputed one count in the same way. Models that involve the outcome (auxiliary variables) and
selection models are not part of it: it is the focal model's predictive density for y_i. Defined when
every imputed variable is a continuous level-1 variable with a regression model and no latent group
means enter the focal model.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from ..backend.likelihood import log_likelihood, parameter_draws
from ..errors import SpecificationError
from .completed import _flat, linear_predictor_at
from .marginal_gaussian import gaussian_marginal_pointwise, linear_in_imputed
from .residuals import _submodel_mean

CHUNK_VALUES = 8_000_000


def marginal_available(fit) -> str | None:
    """None when the marginal likelihood is defined for this fit, else the reason it is not."""
    spec = fit.spec
    if not any(sub.missing_count for sub in spec.submodels if sub.kind.imputes):
        return "no predictor was imputed (marginal and conditional likelihoods are the same)"
    for sub in spec.submodels:
        if sub.missing_count and (not sub.kind.sampled or sub.level != 1):
            return (f"'{sub.outcome}' is {'a level-2' if sub.level == 2 else 'a discrete'} imputed variable; the "
                    f"marginal likelihood is computed for continuous level-1 predictors")
    if any(key.startswith("latent mean ") for key in fit.draws):
        return "latent group means enter the model"
    imputed = _imputed(spec)
    for sub in spec.submodels:
        if (sub.kind.imputes and not sub.missing_count and _uses(sub) & imputed
                and (not sub.kind.sampled or sub.level != 1)):
            return (f"the model of the complete variable '{sub.outcome}' is regressed on an imputed one and is "
                    f"{'a level-2' if sub.level == 2 else 'a discrete'} model; the marginal likelihood weighs in "
                    "continuous level-1 models only")
    return None


def _uses(sub) -> set[str]:
    return {name for column in sub.columns for name in column.expression.variables()}


def _imputed(spec) -> set[str]:
    return {sub.outcome for sub in spec.submodels if sub.kind.sampled and sub.missing_count}


def _integrated_models(spec) -> list:
    """The imputed variables' models, and the models of complete variables regressed on an imputed one
    (their observed values inform the missing ones: p(x1 | x2) with x2 ~ x1 observed), but not the models
    that involve the focal outcome (auxiliary variables) or a missingness indicator; each model after the
    models of the imputed variables it uses."""
    imputed = _imputed(spec)
    chosen = [(j, sub) for j, sub in enumerate(spec.submodels) if sub.kind.sampled and sub.level == 1
              and (sub.missing_count or (_uses(sub) & imputed and spec.response.name not in _uses(sub)))]
    return _sampling_order(chosen)


def _sampling_order(models: list) -> list:
    """Submodels in an order where each comes after the models of the imputed variables it uses."""
    names = {sub.outcome for _, sub in models}
    order: list = []
    done: set[str] = set()
    while len(order) < len(models):
        progressed = False
        for j, sub in models:
            if sub.outcome in done:
                continue
            uses = {v for column in sub.columns for v in column.expression.variables()} & names
            if uses <= done:
                order.append((j, sub))
                done.add(sub.outcome)
                progressed = True
        if not progressed:  # pragma: no cover - the specification refuses cycles
            raise SpecificationError("the predictor models form a cycle")
    return order


def marginal_pointwise(fit, replicates: int = 20, seed: int | None = None) -> np.ndarray:
    """(chain, draw, rows with an observed outcome): log p(y_i | observed predictors, parameters)."""
    reason = marginal_available(fit)
    if reason is not None:
        raise SpecificationError(f"no marginal likelihood here: {reason}")
    spec = fit.spec
    chains, per_chain = fit.raw.stats["diverging"].shape
    models = _integrated_models(spec)
    if linear_in_imputed(spec, models):
        return gaussian_marginal_pointwise(fit, models).reshape(chains, per_chain, -1)
    return _monte_carlo(fit, models, replicates, seed).reshape(chains, per_chain, -1)


def _monte_carlo(fit, models: list, replicates: int, seed: int | None) -> np.ndarray:
    """(samples, observed rows): the self-normalized importance-sampling estimate (module docstring)."""
    spec, data, draws = fit.spec, fit.data, fit.draws
    samples = int(np.prod(fit.raw.stats["diverging"].shape))
    base = {name: np.asarray(value) for name, value in (data.values or {}).items()}
    missing = {sub.outcome: np.flatnonzero(np.isnan(base[sub.outcome].astype(float))) for _, sub in models}
    index = np.asarray(data.group_index[0]) if data.group_index else np.zeros(data.n, dtype=int)
    observed = np.ones(data.n, bool) if data.outcome_observed is None else np.asarray(data.outcome_observed)
    rng = np.random.default_rng(np.random.SeedSequence([fit.seed if seed is None else seed, 7717]))
    step = max(1, CHUNK_VALUES // (data.n * replicates))
    result = np.empty((samples, int(observed.sum())))
    for start in range(0, samples, step):
        chosen = np.arange(start, min(start + step, samples))
        repeated = np.repeat(chosen, replicates)
        values = dict(base)
        weight = np.zeros((repeated.size, data.n))  # log density of the observed values given drawn ones
        drawn: set[str] = set()
        for j, sub in models:  # ancestral draws of the missing values from the predictor models
            mean = np.broadcast_to(_submodel_mean(sub, j, draws, values, index, repeated), (repeated.size, data.n))
            column = np.repeat(np.nan_to_num(base[sub.outcome].astype(float))[None, :], repeated.size, axis=0)
            rows = missing[sub.outcome]
            spread = _flat(draws[f"submodel {j} sigma"])[repeated][:, None]
            if drawn & {name for column_ in sub.columns for name in column_.expression.variables()}:
                seen = np.ones(data.n, bool)
                seen[rows] = False
                weight[:, seen] += (-0.5 * ((column[:, seen] - mean[:, seen]) / spread) ** 2 - np.log(spread))
            column[:, rows] = mean[:, rows] + spread * rng.standard_normal((repeated.size, rows.size))
            values[sub.outcome] = column
            if rows.size:
                drawn.add(sub.outcome)
        eta = linear_predictor_at(spec, data, draws, repeated, values)
        pointwise = log_likelihood(spec.family, data.y[None, :], eta,
                                   trials=None if data.trials is None else data.trials[None, :],
                                   **parameter_draws(spec.family, draws, repeated))[:, observed]
        weight = weight[:, observed].reshape(chosen.size, replicates, -1)
        pointwise = pointwise.reshape(chosen.size, replicates, -1)
        result[chosen] = logsumexp(pointwise + weight, axis=1) - logsumexp(weight, axis=1)
    return result
