"""Gaussian random effects integrated out: per-group sufficient statistics and the exact marginal likelihood.

The small per-group matrix algebra (:func:`group_algebra` and the triangular solves) is written element by
element over lists of arrays, so it serves JAX (the likelihood) and NumPy (the draws of the group effects
after sampling, :func:`multilevel.backend.posterior_draws.draw_marginalized`) alike.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..model.model_spec import ModelData, ModelSpec
from .model_arrays import LOG_2PI, ModelArrays


def marginalized(spec: ModelSpec) -> bool:
    return len(spec.random) == 1 and spec.random[0].parameterization == "marginalized"


def sufficient_statistics(spec: ModelSpec, data: ModelData, arrays: ModelArrays) -> dict:
    """Cross products, per group, of the observed rows (internal units) for the marginal likelihood.

    With ``A = [1, X]`` (the intercept first when there is one), ``r = y - offset``:
    per group ``Z'Z``, ``Z'A``, ``Z'r`` and row counts; overall ``A'A``, ``A'r``, ``r'r``.
    """
    observed = np.ones(data.n, bool) if data.outcome_observed is None else data.outcome_observed
    X = np.asarray(arrays.X)[observed]
    A = np.concatenate([np.ones((X.shape[0], 1)), X], axis=1) if spec.intercept else X
    r = np.asarray(arrays.y)[observed] - (0.0 if arrays.offset is None else np.asarray(arrays.offset)[observed])
    Z = np.asarray(arrays.Z[0])[observed]
    index = np.asarray(arrays.group_index[0])[observed]
    groups = len(spec.random[0].factor.levels)
    q = Z.shape[1]
    ZZ = np.zeros((groups, q, q))
    np.add.at(ZZ, index, Z[:, :, None] * Z[:, None, :])
    ZA = np.zeros((groups, q, A.shape[1]))
    np.add.at(ZA, index, Z[:, :, None] * A[:, None, :])
    Zr = np.zeros((groups, q))
    np.add.at(Zr, index, Z * r[:, None])
    counts = np.bincount(index, minlength=groups).astype(float)
    return {"ZZ": ZZ, "ZA": ZA, "Zr": Zr, "counts": counts, "AA": A.T @ A, "Ar": A.T @ r, "rr": np.asarray(r @ r),
            "rows": np.asarray(float(r.shape[0]))}


def group_algebra(ZZ, Zres, scale_tril, variance):
    """Per group: w = L' Z'res and the Cholesky factor C of B = sigma^2 I + L' Z'Z L, written out element by
    element (lists of arrays over the groups and any leading draw dims): batched tiny matrix routines are
    slow on a CPU. ``ZZ[k][l]``, ``Zres[k]`` and ``scale_tril[k][m]`` are arrays or numbers."""
    q = len(scale_tril)
    w = [sum(Zres[k] * scale_tril[k][m] for k in range(q)) for m in range(q)]
    ZZL = [[sum(ZZ[k][n] * scale_tril[n][m] for n in range(q)) for m in range(q)] for k in range(q)]
    B = [[sum(scale_tril[k][a] * ZZL[k][m] for k in range(q)) + (variance if a == m else 0.0) for m in range(q)]
         for a in range(q)]
    return w, cholesky_factor(B)


def cholesky_factor(matrix):
    """The lower Cholesky factor of a small symmetric positive definite matrix given as lists of arrays
    (Cholesky–Banachiewicz, element by element); the entries above the diagonal are None."""
    q = len(matrix)
    cholesky = [[None] * q for _ in range(q)]
    for i in range(q):
        for j in range(i + 1):
            total = matrix[i][j] - sum(cholesky[i][k] * cholesky[j][k] for k in range(j))
            cholesky[i][j] = total ** 0.5 if i == j else total / cholesky[j][j]
    return cholesky


def forward_substitution(cholesky, vector):
    """Solve C x = vector (C lower triangular, as lists)."""
    solved = []
    for i in range(len(cholesky)):
        solved.append((vector[i] - sum(cholesky[i][k] * solved[k] for k in range(i))) / cholesky[i][i])
    return solved


def backward_substitution(cholesky, vector):
    """Solve C' x = vector."""
    q = len(cholesky)
    solved = [None] * q
    for i in reversed(range(q)):
        solved[i] = (vector[i] - sum(cholesky[k][i] * solved[k] for k in range(i + 1, q))) / cholesky[i][i]
    return solved


def marginal_log_likelihood(sufficient: dict, coefficients, scale_tril, sigma):
    """log N(r | A beta, Z T Z' + sigma^2 I) summed over groups, with T = L L' (Woodbury identities).

    Per group, with w = L' Z'(r - A beta) and B = sigma^2 I + L' Z'Z L = C C':
    r'V^-1 r = (|r - A beta|^2 - |C^-1 w|^2) / sigma^2 and log|V| = (n - q) log sigma^2 + log|B|.
    Stable as the random-effect SDs go to zero (no inverse of T).
    """
    q = scale_tril.shape[0]
    variance = sigma ** 2
    residual_ss = (sufficient["rr"] - 2.0 * jnp.dot(coefficients, sufficient["Ar"])
                   + coefficients @ sufficient["AA"] @ coefficients)
    Zres = sufficient["Zr"] - jnp.sum(sufficient["ZA"] * coefficients, axis=-1)  # (groups, q)
    ZZ = [[sufficient["ZZ"][:, k, n] for n in range(q)] for k in range(q)]
    tril = [[scale_tril[k, m] for m in range(q)] for k in range(q)]
    w, cholesky = group_algebra(ZZ, [Zres[:, k] for k in range(q)], tril, variance)
    quadratic = sum(jnp.sum(value ** 2) for value in forward_substitution(cholesky, w))
    log_det_B = 2.0 * sum(jnp.sum(jnp.log(cholesky[i][i])) for i in range(q))
    log_det = jnp.sum((sufficient["counts"] - q) * jnp.log(variance)) + log_det_B
    return -0.5 * (sufficient["rows"] * LOG_2PI + log_det + (residual_ss - quadratic) / variance)
