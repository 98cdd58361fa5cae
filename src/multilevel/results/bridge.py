"""Log marginal likelihood by bridge sampling (Meng & Wong 1996), as R's ``bridgesampling`` does it.

The posterior draws (unconstrained, all parameters) are split in two halves: the first fits a
multivariate normal proposal g, the second enters the bridge. With N2 draws from g, the
iterative scheme of Meng & Wong (the "optimal" bridge function) is run on the log scale to
convergence. The approximate relative mean-squared error follows Frühwirth-Schnatter (2004),
with the posterior half's variance term corrected by its effective sample size (Gronau et al.
2017, eq. 17); ``error`` is its square root, about the SD of the log estimate.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from ..errors import SpecificationError


def _log_mean_exp(values: np.ndarray) -> float:
    return float(logsumexp(values) - np.log(values.size))


def bridge_sampling(log_density, points: np.ndarray, chains: int, seed: int, tolerance: float = 1e-10,
                    max_iterations: int = 1000) -> dict:
    """``points``: unconstrained posterior draws (samples, dimension), chain-major with ``chains`` chains;
    ``log_density(points)``: the unnormalized log posterior. Returns estimate, error, iterations."""
    samples, dimension = points.shape
    per_chain = samples // chains
    by_chain = points[:chains * per_chain].reshape(chains, per_chain, dimension)
    half = per_chain // 2
    if half < 20 or half <= dimension:
        raise SpecificationError(f"bridge sampling needs more draws: {per_chain} per chain for {dimension} "
                                 f"parameters (more than twice the number of parameters per chain)")
    fitting = by_chain[:, :half].reshape(-1, dimension)
    bridge = by_chain[:, half:2 * half].reshape(-1, dimension)
    mean = fitting.mean(axis=0)
    covariance = np.cov(fitting, rowvar=False).reshape(dimension, dimension)
    cholesky = np.linalg.cholesky(covariance + 1e-10 * np.eye(dimension) * np.trace(covariance) / dimension)
    log_det = 2.0 * np.sum(np.log(np.diag(cholesky)))

    def log_proposal(x):
        solved = np.linalg.solve(cholesky, (x - mean).T).T
        return -0.5 * (np.sum(solved ** 2, axis=1) + dimension * np.log(2 * np.pi) + log_det)

    rng = np.random.default_rng(np.random.SeedSequence([seed, 8093]))
    n_1 = bridge.shape[0]
    n_2 = n_1
    proposed = mean + rng.standard_normal((n_2, dimension)) @ cholesky.T
    # log ratios q/g at the posterior draws (l_1) and at the proposal draws (l_2)
    l_1 = log_density(bridge) - log_proposal(bridge)
    l_2 = log_density(proposed) - log_proposal(proposed)
    l_2 = np.where(np.isfinite(l_2), l_2, -np.inf)
    s_1, s_2 = n_1 / (n_1 + n_2), n_2 / (n_1 + n_2)
    shift = np.median(l_1)  # keeps the exponentials in range
    log_r = 0.0  # log of (marginal likelihood / exp(shift))
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - the count is reported after the loop
        numerator = _log_mean_exp(l_2 - shift - np.logaddexp(np.log(s_1) + l_2 - shift, np.log(s_2) + log_r))
        denominator = _log_mean_exp(-np.logaddexp(np.log(s_1) + l_1 - shift, np.log(s_2) + log_r))
        updated = numerator - denominator
        if abs(updated - log_r) < tolerance:
            log_r = updated
            break
        log_r = updated
    estimate = log_r + shift
    # relative MSE (Frühwirth-Schnatter 2004): g-draw term + posterior-draw term (autocorrelation-corrected)
    log_likelihood_ratio_g = l_2 - estimate
    log_likelihood_ratio_p = l_1 - estimate
    f_1 = np.exp(log_likelihood_ratio_g - np.logaddexp(np.log(s_1) + log_likelihood_ratio_g, np.log(s_2)))
    f_2 = np.exp(-np.logaddexp(np.log(s_1) + log_likelihood_ratio_p, np.log(s_2)))
    effective = _effective_size(f_2.reshape(chains, half))
    relative = (np.var(f_1, ddof=1) / np.mean(f_1) ** 2 / n_2 + np.var(f_2, ddof=1) / np.mean(f_2) ** 2 / effective)
    return {"estimate": float(estimate), "error": float(np.sqrt(relative)), "iterations": iterations,
            "converged": iterations < max_iterations, "dimension": dimension}


def _effective_size(series: np.ndarray) -> float:
    from arviz_stats.base import array_stats

    ess = float(array_stats.ess(series, chain_axis=0, draw_axis=1, method="mean"))
    return max(2.0, min(ess, float(series.size)))
