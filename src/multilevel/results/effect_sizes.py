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

from ..backend.linear_predictor import with_columns
from ..errors import SpecificationError
from .completed import completed_values
from .imputations import imputed_cells
from .parameters import block_labels


@dataclass(frozen=True)
class DesignMoments:
    fixed_covariance: np.ndarray  # (samples, p, p)
    random_means: tuple[np.ndarray, ...]  # per block (samples, q)
    random_covariances: tuple[np.ndarray, ...]  # per block (samples, q, q)
    within_covariance: np.ndarray | None = None  # (samples, p, p): of the deviations from the cluster means
    between_covariance: np.ndarray | None = None  # (samples, p, p): of the cluster means (one per row)


CHUNK_VALUES = 5_000_000  # draws x rows x columns of completed designs at once (a few copies are held)


def _covariance(values: np.ndarray) -> np.ndarray:
    """(draws, rows, p) -> (draws, p, p): the covariance over the rows of each draw (as np.cov, N - 1)."""
    centred = values - values.mean(axis=1, keepdims=True)
    return np.einsum("snp,snq->spq", centred, centred) / max(values.shape[1] - 1, 1)


def _cluster_means(X: np.ndarray, index: np.ndarray) -> np.ndarray:
    """(draws, rows, p): each row's cluster mean of X (draws, rows, p)."""
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]])
    sums = np.add.reduceat(X[:, order], starts, axis=1)
    counts = np.diff(np.r_[starts, sorted_index.size])
    means = np.zeros((X.shape[0], int(index.max()) + 1, X.shape[2]))
    means[:, sorted_index[starts]] = sums / counts[None, :, None]
    return means[:, index]


def _moments(X: np.ndarray, Z: tuple, index: np.ndarray | None = None) -> tuple:
    """Per draw (X: draws, rows, p; each of Z: draws, rows, q), covariances over the rows used; with
    ``index`` (the first grouping factor) also the exact split of the fixed columns' covariance into
    within-cluster and between-cluster parts (they sum to it)."""
    draws, p = X.shape[0], X.shape[2]
    phi = _covariance(X) if p else np.zeros((draws, 0, 0))
    within = between = None
    if index is not None and p:
        means = _cluster_means(X, index)
        within, between = _covariance(X - means), _covariance(means)
    elif index is not None:  # no fixed effects: their parts are zero
        within = between = np.zeros((draws, 0, 0))
    return phi, tuple(block.mean(axis=1) for block in Z), tuple(_covariance(block) for block in Z), within, between


def design_moments(fit) -> DesignMoments:
    spec, data = fit.spec, fit.data
    samples = int(np.prod(fit.raw.stats["diverging"].shape))
    dynamic = bool(spec.dynamic_fixed) or any(spec.dynamic_random)
    index = np.asarray(data.group_index[0]) if data.group_index else None

    def broadcast(matrix):
        return None if matrix is None else np.broadcast_to(matrix[0], (samples,) + matrix.shape[1:])

    if not dynamic:
        phi, means, covariances, within, between = _moments(data.X[None], tuple(Z[None] for Z in data.Z), index)
        return DesignMoments(broadcast(phi), tuple(broadcast(m) for m in means),
                             tuple(broadcast(c) for c in covariances), broadcast(within), broadcast(between))
    cells = imputed_cells(fit)
    width = max(1, data.X.shape[1] + sum(Z.shape[1] for Z in data.Z))
    step = max(1, CHUNK_VALUES // (data.n * width))
    parts = []
    for start in range(0, samples, step):
        chosen = np.arange(start, min(start + step, samples))
        values = completed_values(spec, data, fit.draws, cells, chosen)
        X = with_columns(np, np.broadcast_to(data.X, (chosen.size,) + data.X.shape),
                         [(k, spec.fixed[k].expression) for k in spec.dynamic_fixed], values)
        Z = tuple(with_columns(np, np.broadcast_to(matrix, (chosen.size,) + matrix.shape),
                               [(k, block.columns[k].expression) for k in dynamic_columns], values)
                  for block, matrix, dynamic_columns in zip(spec.random, data.Z,
                                                            spec.dynamic_random or [()] * len(data.Z)))
        parts.append(_moments(np.asarray(X, dtype=float), tuple(np.asarray(z, dtype=float) for z in Z), index))
    phi, means, covariances, within, between = (list(part) for part in zip(*parts))
    return DesignMoments(np.concatenate(phi), tuple(np.concatenate(block) for block in zip(*means)),
                         tuple(np.concatenate(block) for block in zip(*covariances)),
                         None if within[0] is None else np.concatenate(within),
                         None if between[0] is None else np.concatenate(between))


def residual_variance(fit) -> np.ndarray | float:
    family = fit.spec.family
    residual = family.residual_variance(fit.draws)
    if residual is not None:
        return np.reshape(residual, -1) if family.has_residual_sd else residual
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
    return {name: _share(value, total) for name, value in parts.items()}


def _share(part, total):
    """part / total, where an infinite total (a residual of infinite variance, Student-t with nu <= 2) gives
    its infinite part the whole share and the others none (the limit)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isinf(total), np.isinf(part).astype(float), np.asarray(part) / total)


def standardized_draws(fit, moments: DesignMoments) -> dict[str, np.ndarray]:
    """b * sd(x) / sqrt(model-implied total variance), per draw, for every fixed coefficient."""
    spec = fit.spec
    if not spec.fixed:
        return {}
    total = np.asarray(sum(variance_components_draws(fit, moments).values()))
    samples = total.shape[0]
    b = fit.draws["b"].reshape(samples, -1)
    sds = np.sqrt(np.diagonal(moments.fixed_covariance, axis1=1, axis2=2))
    values = b * sds / np.sqrt(total)[:, None]
    return {name: values[:, k] for k, name in enumerate(spec.fixed_names)}


def by_level_draws(fit, moments: DesignMoments) -> dict[str, np.ndarray]:
    """Rights & Sterba's within- and between-cluster decomposition over the first grouping factor, per draw.

    The fixed part's variance splits exactly into f1 (its within-cluster deviations) and f2 (its cluster
    means). Within: f1, random slopes v and residual over f1 + v + residual; between: f2 and the random
    intercepts m over f2 + m. The model-implied ICC of the outcome is (f2 + m) / total, next to the
    conditional ICC (intercept variance over intercept plus residual). The split is the one Rights &
    Sterba define when level-1 predictors are centred within clusters (``center={"x": "group"}``); with
    uncentred level-1 predictors a random slope's variance also carries between-cluster variation.
    """
    spec = fit.spec
    within_covariance, between_covariance = moments.within_covariance, moments.between_covariance
    if not spec.random or within_covariance is None:
        return {}
    assert between_covariance is not None  # the two come together
    parts = variance_components_draws(fit, moments)
    label = block_labels(spec)[0]
    samples = moments.fixed_covariance.shape[0]
    b: np.ndarray = fit.draws["b"].reshape(samples, -1) if spec.fixed else np.zeros((samples, 0))
    f1 = np.einsum("sp,spq,sq->s", b, within_covariance, b)
    f2 = np.einsum("sp,spq,sq->s", b, between_covariance, b)
    v = parts.get(f"random slopes | {label}", np.zeros(samples))
    m = parts.get(f"random intercepts | {label}", np.zeros(samples))
    others = sum(value for name, value in parts.items() if name not in ("coefficients", "residual")
                 and not name.endswith(f"| {label}"))
    residual = parts["residual"]
    within = f1 + v + residual
    between = f2 + m
    total = within + between + (others if np.ndim(others) else 0.0)
    return {"within: coefficients": _share(f1, within), "within: random slopes": _share(v, within),
            "within: residual": _share(residual, within), "between: coefficients": f2 / between,
            "between: random intercepts": m / between, f"ICC (model-implied, {label})": _share(between, total),
            f"ICC (conditional, {label})": _share(m, m + residual)}


def standardized_by_level_draws(fit, moments: DesignMoments) -> dict[str, np.ndarray]:
    """Within-standardized b * sd_within(x) / sd(within part of y) for columns that vary within clusters, and
    between-standardized b * sd_between(x) / sd(between part of y) for columns whose cluster means vary."""
    within_covariance, between_covariance = moments.within_covariance, moments.between_covariance
    if not fit.spec.fixed or within_covariance is None:
        return {}
    assert between_covariance is not None  # the two come together
    shares = by_level_draws(fit, moments)
    if not shares:
        return {}
    parts = variance_components_draws(fit, moments)
    samples = moments.fixed_covariance.shape[0]
    b = fit.draws["b"].reshape(samples, -1)
    f1 = np.einsum("sp,spq,sq->s", b, within_covariance, b)
    f2 = np.einsum("sp,spq,sq->s", b, between_covariance, b)
    label = block_labels(fit.spec)[0]
    within = f1 + parts.get(f"random slopes | {label}", 0.0) + parts["residual"]
    between = f2 + parts.get(f"random intercepts | {label}", 0.0)
    result = {}
    sd_within = np.sqrt(np.diagonal(within_covariance, axis1=1, axis2=2))
    sd_between = np.sqrt(np.diagonal(between_covariance, axis1=1, axis2=2))
    for k, name in enumerate(fit.spec.fixed_names):
        if np.mean(sd_within[:, k]) > 1e-8:
            result[f"{name} (within)"] = b[:, k] * sd_within[:, k] / np.sqrt(within)
        if np.mean(sd_between[:, k]) > 1e-8:
            result[f"{name} (between)"] = b[:, k] * sd_between[:, k] / np.sqrt(between)
    return result


def _cached_moments(fit) -> DesignMoments:
    if "design moments" not in fit._memo:
        fit._memo["design moments"] = design_moments(fit)
    return fit._memo["design moments"]


def variance_explained(fit, by_level: bool = False):
    """Summaries of :func:`variance_explained_draws` (or :func:`by_level_draws` with ``by_level``)."""
    from .summaries import summarize_draws

    draws = (by_level_draws if by_level else variance_explained_draws)(fit, _cached_moments(fit))
    return summarize_draws(draws, *fit.shape)


def standardized_coefficients(fit, by_level: bool = False):
    """Summaries of :func:`standardized_draws` (or :func:`standardized_by_level_draws` with ``by_level``)."""
    from .summaries import summarize_draws

    draws = (standardized_by_level_draws if by_level else standardized_draws)(fit, _cached_moments(fit))
    return summarize_draws(draws, *fit.shape)
