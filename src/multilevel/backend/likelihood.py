"""Pointwise log-likelihood of each family, written once for NumPy and JAX."""

from __future__ import annotations

import math

import numpy as np

from ..model.families import Family, FamilyName

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class _NumpySpecial:
    @staticmethod
    def gammaln(x):
        from scipy.special import gammaln
        return gammaln(x)

    @staticmethod
    def log_ndtr(x):
        from scipy.special import log_ndtr
        return log_ndtr(x)

    @staticmethod
    def log_sigmoid(x):
        from scipy.special import log_expit
        return log_expit(x)

    @staticmethod
    def softplus(x):
        return np.logaddexp(x, 0.0)


class _JaxSpecial:
    @staticmethod
    def gammaln(x):
        from jax.scipy.special import gammaln
        return gammaln(x)

    @staticmethod
    def log_ndtr(x):
        from jax.scipy.special import log_ndtr
        return log_ndtr(x)

    @staticmethod
    def log_sigmoid(x):
        import jax
        return jax.nn.log_sigmoid(x)

    @staticmethod
    def softplus(x):
        import jax
        return jax.nn.softplus(x)


def special_functions(xp):
    return _NumpySpecial if xp is np else _JaxSpecial


def log_likelihood(family: Family, y, eta, *, sigma=None, trials=None, xp=np):
    """log p(y | eta) per observation. ``eta`` is the linear predictor, ``sigma`` the residual SD."""
    sp = special_functions(xp)
    name = family.name
    if name is FamilyName.GAUSSIAN:
        residual = (y - eta) / sigma
        return -0.5 * residual ** 2 - xp.log(sigma) - LOG_SQRT_2PI
    if name in (FamilyName.BERNOULLI, FamilyName.BINOMIAL):
        n = 1 if name is FamilyName.BERNOULLI else trials
        if family.link == "logit":
            # y log(p) + (n - y) log(1 - p) = y eta - n log(1 + e^eta): one transcendental per row, not two
            kernel = y * eta - n * sp.softplus(eta)
        else:
            kernel = y * sp.log_ndtr(eta) + (n - y) * sp.log_ndtr(-eta)
        if name is FamilyName.BERNOULLI:
            return kernel
        return sp.gammaln(trials + 1) - sp.gammaln(y + 1) - sp.gammaln(trials - y + 1) + kernel
    if name is FamilyName.POISSON:
        return y * eta - xp.exp(eta) - sp.gammaln(y + 1)
    raise ValueError(f"no likelihood for {family}")


def mean_of(family: Family, eta, xp=np):
    """The expected outcome (per trial for binomial) from the linear predictor."""
    if family.link == "identity":
        return eta
    if family.link == "logit":
        return 1 / (1 + xp.exp(-eta))
    if family.link == "probit":
        from scipy.special import ndtr
        return ndtr(eta) if xp is np else __import__("jax").scipy.special.ndtr(eta)
    if family.link == "log":
        return xp.exp(eta)
    raise ValueError(family.link)
