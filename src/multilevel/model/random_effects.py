"""Choosing centered or non-centered parameterization per grouping factor, from the data.

Non-centered (b = sd * z) samples well when the data say little about each group;
centered (b ~ N(0, sd)) when they say a lot. What matters is how much one group's data
inform its effect relative to the population spread: n_j * tau^2 / sigma^2 for a
Gaussian outcome. We estimate that ratio with a method-of-moments variance split of the
outcome by the grouping factor (on the logit/log scale for discrete outcomes) and
choose centered when the median cluster holds at least ``THRESHOLD`` "prior-equivalents"
of information. ``bench/parameterization.py`` measures both choices.
"""

from __future__ import annotations

import numpy as np

from .families import Family

THRESHOLD = 1.0


def information_ratio(family: Family, y: np.ndarray, trials: np.ndarray | None,
                      index: np.ndarray, count: int) -> float:
    """Estimated information per observation about a group effect, relative to the effect's prior variance."""
    return family.kind.group_information(y, trials, index, count, family.link)


def slope_information(y: np.ndarray, z: np.ndarray, index: np.ndarray, count: int) -> float:
    """Median over groups of tau^2 / se_j^2 for a Gaussian random slope on column z.

    Per-group least-squares slopes b_j with sampling variances se_j^2 give a moment estimate
    tau^2 = var(b_j) - mean(se_j^2) of the slope variance; the ratio tau^2 / se_j^2 says how
    much group j's data inform its own slope relative to the population spread.
    """
    sizes = np.bincount(index, minlength=count).astype(float)
    sum_z = np.bincount(index, weights=z, minlength=count)
    sum_y = np.bincount(index, weights=y, minlength=count)
    mean_z = sum_z / np.maximum(sizes, 1)
    mean_y = sum_y / np.maximum(sizes, 1)
    dz = z - mean_z[index]
    dy = y - mean_y[index]
    sxx = np.bincount(index, weights=dz * dz, minlength=count)
    sxy = np.bincount(index, weights=dz * dy, minlength=count)
    usable = (sizes >= 3) & (sxx > 1e-12 * max(float(np.max(sxx)), 1e-300))
    if usable.sum() < 3:
        return 0.0
    slopes = np.where(usable, sxy / np.where(usable, sxx, 1.0), 0.0)
    residual = dy - slopes[index] * dz
    rss = np.bincount(index, weights=residual ** 2, minlength=count)
    sigma2 = float(rss[usable].sum() / max((sizes[usable] - 2).sum(), 1.0))
    se2 = sigma2 / sxx[usable]
    tau2 = max(float(np.var(slopes[usable], ddof=1)) - float(np.mean(se2)), 1e-6 * float(np.var(slopes[usable])))
    return float(np.median(tau2 / se2))


def choose_parameterization(family: Family, y, trials, index, count, Z=None, intercept_flags=(True,)) -> str:
    """'centered' when the median group's data inform every effect of the block at least as much as
    the population distribution does (ratio >= THRESHOLD); 'noncentered' otherwise.

    Random slopes are judged per column for Gaussian outcomes (per-group least squares); for
    other families a block with random slopes is non-centered.
    """
    sizes = np.bincount(index, minlength=count)
    median_size = float(np.median(sizes[sizes > 0]))
    ratios = []
    for k, is_intercept in enumerate(intercept_flags):
        if is_intercept:
            ratios.append(median_size * information_ratio(family, y, trials, index, count))
        elif family.kind.conjugate_normal and Z is not None:
            ratios.append(slope_information(y, Z[:, k], index, count))
        else:
            ratios.append(0.0)
    return "centered" if min(ratios) >= THRESHOLD else "noncentered"
