"""Effect sizes read off the posterior: the variance decomposition of Rights & Sterba (2019)
and standardized coefficients, each a full posterior (one value per draw).

Model-implied variance of the outcome (on the latent scale for binary and binomial models):

    total = b' Phi b  +  sum_k [ tr(T_k S_k) + m_k' T_k m_k ]  +  residual

with ``Phi`` the covariance matrix of the fixed-effect columns, and per grouping factor k its
random-effect covariance matrix ``T_k``, the covariance ``S_k`` and means ``m_k`` of its design
columns (1 for the intercept). ``tr(T_k S_k)`` is the variance due to random slopes and
``m_k' T_k m_k`` that due to random intercepts (at the slope predictors' means), as Blimp
reports them ("Proportion Variance Explained"). The residual is sigma^2 (Gaussian), pi^2/3
(logit) or 1 (probit). Moments are taken over the rows used, with the imputed values of the
draw when the design involves incomplete predictors. A standardized coefficient is
b * sd(x) / sqrt(total).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpecificationError
from ..spec.families import FamilyName
from .imputations import imputed_cells
from .parameters import block_labels


@dataclass(frozen=True)
class DesignMoments:
    fixed_covariance: np.ndarray  # (samples, p, p)
    random_means: tuple[np.ndarray, ...]  # per block (samples, q)
    random_covariances: tuple[np.ndarray, ...]  # per block (samples, q, q)


def _moments(X: np.ndarray, Z: tuple) -> tuple:
    phi = np.atleast_2d(np.cov(X, rowvar=False)) if X.shape[1] else np.zeros((0, 0))
    return (phi, tuple(block.mean(axis=0) for block in Z),
            tuple(np.atleast_2d(np.cov(block, rowvar=False)) for block in Z))


def design_moments(fit) -> DesignMoments:
    spec, data = fit.spec, fit.data
    samples = int(np.prod(fit.raw.stats["diverging"].shape))
    dynamic = bool(spec.dynamic_fixed) or any(spec.dynamic_random)
    if not dynamic:
        phi, means, covariances = _moments(data.X, data.Z)
        return DesignMoments(np.broadcast_to(phi, (samples,) + phi.shape),
                             tuple(np.broadcast_to(m, (samples,) + m.shape) for m in means),
                             tuple(np.broadcast_to(c, (samples,) + c.shape) for c in covariances))
    cells = imputed_cells(fit)
    latent = {key[len("latent mean "):]: value.reshape(samples, -1)[:, np.asarray(data.group_index[0])]
              for key, value in fit.draws.items() if key.startswith("latent mean ")}
    base = {name: np.asarray(value, dtype=float).copy() if np.asarray(value).dtype.kind == "f" else value
            for name, value in data.values.items()}
    phis, means, covariances = [], [], []
    for draw in range(samples):
        values = dict(base)
        for name, (rows, draws) in cells.items():
            if name in values:
                column = values[name].copy()
                column[rows] = draws[draw]
                values[name] = column
        for name, per_row in latent.items():
            values[f"{name}.mean"] = per_row[draw]
        X = data.X.copy()
        for k in spec.dynamic_fixed:
            X[:, k] = np.broadcast_to(spec.fixed[k].expression.evaluate(values, np), (data.n,))
        Z = []
        for block, matrix, dynamic_columns in zip(spec.random, data.Z, spec.dynamic_random or [()] * len(data.Z)):
            matrix = matrix.copy()
            for k in dynamic_columns:
                matrix[:, k] = np.broadcast_to(block.columns[k].expression.evaluate(values, np), (data.n,))
            Z.append(matrix)
        phi, m, c = _moments(X, tuple(Z))
        phis.append(phi), means.append(m), covariances.append(c)
    return DesignMoments(np.stack(phis), tuple(np.stack([m[i] for m in means]) for i in range(len(data.Z))),
                         tuple(np.stack([c[i] for c in covariances]) for i in range(len(data.Z))))


def residual_variance(fit) -> np.ndarray | float:
    family = fit.spec.family
    if family.name is FamilyName.GAUSSIAN:
        return fit.draws["sigma"].reshape(-1) ** 2
    if family.latent_residual_variance is not None:
        return family.latent_residual_variance
    raise SpecificationError(f"the variance decomposition needs a residual variance on a latent scale; "
                             f"{family} models have none here (Gaussian, logit and probit models do)")


def variance_components_draws(fit, moments: DesignMoments) -> dict[str, np.ndarray]:
    """Variance (per draw) due to the coefficients, each factor's random intercepts and slopes, and the
    residual, in the order Blimp prints them."""
    spec, draws = fit.spec, fit.draws
    samples = moments.fixed_covariance.shape[0]
    parts: dict[str, np.ndarray] = {}
    if spec.fixed:
        b = draws["b"].reshape(samples, -1)
        parts["coefficients"] = np.einsum("sp,spq,sq->s", b, moments.fixed_covariance, b)
    else:
        parts["coefficients"] = np.zeros(samples)
    slopes = {}
    for i, (block, label) in enumerate(zip(spec.random, block_labels(spec))):
        sd = draws[f"sd_{i}"].reshape(samples, -1)
        cor = draws[f"cor_{i}"].reshape(samples, block.size, block.size)
        covariance = cor * sd[:, :, None] * sd[:, None, :]
        slope_part = np.einsum("sij,sji->s", covariance, moments.random_covariances[i])
        mean_part = np.einsum("si,sij,sj->s", moments.random_means[i], covariance, moments.random_means[i])
        if any(column.is_intercept for column in block.columns):
            parts[f"random intercepts | {label}"] = mean_part
            if block.size > 1:
                slopes[f"random slopes | {label}"] = slope_part
        else:
            slopes[f"random slopes | {label}"] = slope_part + mean_part
    parts.update(slopes)
    parts["residual"] = np.broadcast_to(residual_variance(fit), (samples,)).astype(float)
    return parts


def variance_explained_draws(fit, moments: DesignMoments) -> dict[str, np.ndarray]:
    """Each part's proportion of the model-implied total variance, per draw."""
    parts = variance_components_draws(fit, moments)
    total = sum(parts.values())
    return {name: value / total for name, value in parts.items()}


def standardized_draws(fit, moments: DesignMoments) -> dict[str, np.ndarray]:
    """b * sd(x) / sqrt(model-implied total variance), per draw, for every fixed coefficient."""
    spec = fit.spec
    if not spec.fixed:
        return {}
    total = sum(variance_components_draws(fit, moments).values())
    samples = total.shape[0]
    b = fit.draws["b"].reshape(samples, -1)
    sds = np.sqrt(np.diagonal(moments.fixed_covariance, axis1=1, axis2=2))
    values = b * sds / np.sqrt(total)[:, None]
    return {name: values[:, k] for k, name in enumerate(spec.fixed_names)}
