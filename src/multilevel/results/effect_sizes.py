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
from .imputations import imputed_cells
from .parameters import block_labels


@dataclass(frozen=True)
class DesignMoments:
    fixed_covariance: np.ndarray  # (samples, p, p)
    random_means: tuple[np.ndarray, ...]  # per block (samples, q)
    random_covariances: tuple[np.ndarray, ...]  # per block (samples, q, q)
    within_covariance: np.ndarray | None = None  # (samples, p, p): of the deviations from the cluster means
    between_covariance: np.ndarray | None = None  # (samples, p, p): of the cluster means (one per row)


def _cluster_means(X: np.ndarray, index: np.ndarray) -> np.ndarray:
    counts = np.bincount(index)
    sums = np.stack([np.bincount(index, weights=X[:, k], minlength=counts.size) for k in range(X.shape[1])], axis=1)
    return (sums / np.maximum(counts, 1)[:, None])[index]


def _moments(X: np.ndarray, Z: tuple, index: np.ndarray | None = None) -> tuple:
    """Covariances over the rows used; with ``index`` (the first grouping factor) also the exact split of
    the fixed columns' covariance into within-cluster and between-cluster parts (they sum to it)."""
    phi = np.atleast_2d(np.cov(X, rowvar=False)) if X.shape[1] else np.zeros((0, 0))
    within = between = None
    if index is not None and X.shape[1]:
        means = _cluster_means(X, index)
        within = np.atleast_2d(np.cov(X - means, rowvar=False))
        between = np.atleast_2d(np.cov(means, rowvar=False))
    elif index is not None:  # no fixed effects: their parts are zero
        within = between = np.zeros((0, 0))
    return (phi, tuple(block.mean(axis=0) for block in Z),
            tuple(np.atleast_2d(np.cov(block, rowvar=False)) for block in Z), within, between)


def design_moments(fit) -> DesignMoments:
    spec, data = fit.spec, fit.data
    samples = int(np.prod(fit.raw.stats["diverging"].shape))
    dynamic = bool(spec.dynamic_fixed) or any(spec.dynamic_random)
    index = np.asarray(data.group_index[0]) if data.group_index else None

    def broadcast(matrix):
        return None if matrix is None else np.broadcast_to(matrix, (samples,) + matrix.shape)

    if not dynamic:
        phi, means, covariances, within, between = _moments(data.X, data.Z, index)
        return DesignMoments(broadcast(phi), tuple(broadcast(m) for m in means),
                             tuple(broadcast(c) for c in covariances), broadcast(within), broadcast(between))
    cells = imputed_cells(fit)
    latent = {key[len("latent mean "):]: value.reshape(samples, -1)[:, np.asarray(data.group_index[0])]
              for key, value in fit.draws.items() if key.startswith("latent mean ")}
    base = {name: np.asarray(value, dtype=float).copy() if np.asarray(value).dtype.kind == "f" else value
            for name, value in data.values.items()}
    phis, means, covariances, withins, betweens = [], [], [], [], []
    for draw in range(samples):
        values = dict(base)
        for name, (rows, draws) in cells.items():
            if name in values:
                column = values[name].copy()
                column[rows] = draws[draw]
                values[name] = column
        for name, per_row in latent.items():
            values[f"{name}.mean"] = per_row[draw]
        X = with_columns(np, data.X, [(k, spec.fixed[k].expression) for k in spec.dynamic_fixed], values)
        Z = tuple(with_columns(np, matrix, [(k, block.columns[k].expression) for k in dynamic_columns], values)
                  for block, matrix, dynamic_columns in zip(spec.random, data.Z,
                                                            spec.dynamic_random or [()] * len(data.Z)))
        phi, m, c, within, between = _moments(X, Z, index)
        phis.append(phi)
        means.append(m)
        covariances.append(c)
        withins.append(within)
        betweens.append(between)
    return DesignMoments(np.stack(phis), tuple(np.stack([m[i] for m in means]) for i in range(len(data.Z))),
                         tuple(np.stack([c[i] for c in covariances]) for i in range(len(data.Z))),
                         None if withins[0] is None else np.stack(withins),
                         None if betweens[0] is None else np.stack(betweens))


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
