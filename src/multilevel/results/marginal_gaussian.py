"""The marginal pointwise likelihood in closed form, where it has one.

With a Gaussian focal model and every imputed variable a normal regression in which the imputed
variables enter linearly (products with complete variables and random slopes included: they are
linear given the draw), the imputed variables of a row and its outcome are jointly normal given a
posterior draw. The predictor models' factorization v = a + B v + e, e ~ N(0, D), gives the joint of
the row's imputed variables with precision Q = (I - B)' D^-1 (I - B) and mean (I - B)^-1 a; conditioning
on the row's observed ones gives the missing ones' mean and covariance, and then

    y_i | observed predictors ~ N(a_y + c' E[v | v_obs], sigma^2 + c' Cov[v | v_obs] c),

where y_i = a_y + c' v + e_y is the focal model's linear predictor as a function of those variables.
The coefficients a, B, a_y and c come from evaluating the models at v = 0 and at each unit vector
(exact because the designs are affine in v, which :func:`linear_in_imputed` checks first).
"""

from __future__ import annotations

import numpy as np

from ..backend.likelihood import log_likelihood, parameter_draws
from ..model.expressions import degree
from .completed import _flat, linear_predictor_at
from .residuals import _submodel_mean

CHUNK_VALUES = 4_000_000  # draws x rows x K x K at once


def linear_in_imputed(spec, models: list) -> bool:
    """The closed form applies: a Gaussian focal model (a residual SD) whose design and whose imputed
    variables' models are affine in the imputed variables."""
    family = spec.family.kind
    if not (family.conjugate_normal and family.residual_sd):
        return False
    names = {sub.outcome for _, sub in models}
    expressions = [column.expression for _, sub in models for column in sub.columns]
    expressions += [column.expression for column in spec.fixed]
    expressions += [column.expression for block in spec.random for column in block.columns]
    return all(degree(expression, names) <= 1 for expression in expressions)


def gaussian_marginal_pointwise(fit, models: list) -> np.ndarray:
    """(samples, rows with an observed outcome): log p(y_i | observed predictors, parameters), exactly.
    ``models``: (position, submodel) of the imputed variables, each after the ones its model uses."""
    spec, data, draws = fit.spec, fit.data, fit.draws
    samples = int(np.prod(fit.raw.stats["diverging"].shape))
    names = [sub.outcome for _, sub in models]
    K = len(names)
    base = {name: np.asarray(value) for name, value in (data.values or {}).items()}
    raw = np.stack([base[name].astype(float) for name in names], axis=-1)  # (rows, K)
    seen = ~np.isnan(raw)
    filled = np.where(seen, raw, 0.0)
    missing = (~seen).astype(float)
    index = np.asarray(data.group_index[0]) if data.group_index else np.zeros(data.n, dtype=int)
    observed = np.ones(data.n, bool) if data.outcome_observed is None else np.asarray(data.outcome_observed)

    def at(point) -> dict:  # the variables' values with the K imputed ones set to ``point`` in every row
        values = dict(base)
        for k, name in enumerate(names):
            values[name] = np.full(data.n, float(point[k]))
        return values

    points = [at(np.zeros(K))] + [at(np.eye(K)[k]) for k in range(K)]
    step = max(1, CHUNK_VALUES // (data.n * K * K))
    result = np.empty((samples, int(observed.sum())))
    for start in range(0, samples, step):
        chosen = np.arange(start, min(start + step, samples))
        shape = (chosen.size, data.n)
        means = [[np.broadcast_to(_submodel_mean(sub, j, draws, values, index, chosen), shape) for j, sub in models]
                 for values in points]  # [point][model] -> (draws, rows)
        a = np.stack(means[0], axis=-1)  # (draws, rows, K)
        B = np.stack([np.stack(means[1 + m], axis=-1) - a for m in range(K)], axis=-1)  # [..., k, m]: v_m in v_k
        focal = [linear_predictor_at(spec, data, draws, chosen, values) for values in points]
        a_y = focal[0]
        c = np.stack([focal[1 + m] - a_y for m in range(K)], axis=-1)
        precision_d = 1.0 / np.stack([_flat(draws[f"submodel {j} sigma"])[chosen] for j, _ in models], axis=-1) ** 2
        mean_y, var_y = _conditional(a, B, precision_d[:, None, :], c, filled, missing)
        parameters = parameter_draws(spec.family, draws, chosen)
        parameters["sigma"] = np.sqrt(parameters["sigma"] ** 2 + var_y)
        pointwise = log_likelihood(spec.family, data.y[None, :], a_y + mean_y,
                                   trials=None if data.trials is None else data.trials[None, :], **parameters)
        result[chosen] = pointwise[:, observed]
    return result


def _conditional(a, B, precision_d, c, filled, missing):
    """c' E[v | v_obs] and c' Cov[v | v_obs] c per draw and row, for v = a + B v + e, e ~ N(0, 1/precision_d),
    B strictly lower triangular (each variable regressed on earlier ones). K is small: the triangular
    solves and the Cholesky factor are written out over K, each step vectorized over draws and rows."""
    K = a.shape[-1]
    eye = np.eye(K)
    if np.triu(B).any():  # pragma: no cover - the models come in their sampling order
        raise AssertionError("a predictor model uses a variable that comes after it")
    mu = np.zeros(a.shape)
    for k in range(K):  # (I - B) mu = a, forward
        mu[..., k] = a[..., k] + np.einsum("...m,...m->...", B[..., k, :k], mu[..., :k])
    free = eye - B
    Q = np.einsum("...lk,...l,...lm->...km", free, precision_d, free)
    both = missing[:, :, None] * missing[:, None, :]  # (rows, K, K): both entries missing
    Qm = Q * both + eye * (1.0 - missing)[:, :, None]  # the missing block of Q; identity on observed entries
    delta = (filled - mu) * (1.0 - missing)  # observed deviations, zero where missing
    right = -np.einsum("...kl,...l->...k", Q, delta) * missing
    L = _cholesky(Qm)
    shift = _backward(L, _forward(L, right))  # Qm^-1 right
    expected = np.where(missing > 0, mu + shift, filled)
    whitened = _forward(L, c * missing)  # c' M Qm^-1 M c = |L^-1 M c|^2
    return np.einsum("...k,...k->...", c, expected), np.einsum("...k,...k->...", whitened, whitened)


def _cholesky(matrix):
    K = matrix.shape[-1]
    L = np.zeros(matrix.shape)
    for j in range(K):
        diagonal = matrix[..., j, j] - np.einsum("...m,...m->...", L[..., j, :j], L[..., j, :j])
        L[..., j, j] = np.sqrt(diagonal)
        for i in range(j + 1, K):
            inner = np.einsum("...m,...m->...", L[..., i, :j], L[..., j, :j])
            L[..., i, j] = (matrix[..., i, j] - inner) / L[..., j, j]
    return L


def _forward(L, b):
    x = np.zeros(np.broadcast_shapes(L.shape[:-1], b.shape))
    for k in range(L.shape[-1]):
        x[..., k] = (b[..., k] - np.einsum("...m,...m->...", L[..., k, :k], x[..., :k])) / L[..., k, k]
    return x


def _backward(L, b):
    K = L.shape[-1]
    x = np.zeros(b.shape)
    for k in reversed(range(K)):
        x[..., k] = (b[..., k] - np.einsum("...m,...m->...", L[..., k + 1:, k], x[..., k + 1:])) / L[..., k, k]
    return x
