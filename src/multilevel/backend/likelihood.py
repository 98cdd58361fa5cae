"""Pointwise log-likelihood of a family, for NumPy and JAX: the array namespace and its special functions."""

from __future__ import annotations

import numpy as np

from ..model.families import Family


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
    def ndtri(x):
        from scipy.special import ndtri
        return ndtri(x)

    @staticmethod
    def log_sigmoid(x):
        from scipy.special import log_expit
        return log_expit(x)

    @staticmethod
    def softplus(x):
        return np.logaddexp(x, 0.0)

    @staticmethod
    def log_softmax(x):
        from scipy.special import log_softmax
        return log_softmax(x, axis=-1)


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
    def ndtri(x):
        from jax.scipy.special import ndtri
        return ndtri(x)

    @staticmethod
    def log_sigmoid(x):
        import jax
        return jax.nn.log_sigmoid(x)

    @staticmethod
    def softplus(x):
        import jax
        return jax.nn.softplus(x)

    @staticmethod
    def log_softmax(x):
        import jax
        return jax.nn.log_softmax(x, axis=-1)


def special_functions(xp):
    return _NumpySpecial if xp is np else _JaxSpecial


def log_likelihood(family: Family, y, eta, *, sigma=None, trials=None, xp=np, **parameters):
    """log p(y | eta) per observation. ``eta`` is the linear predictor, ``sigma`` the residual SD,
    ``parameters`` the family's own (Student-t's ``nu``)."""
    return family.kind.log_likelihood(y, eta, link=family.link, sigma=sigma, trials=trials, xp=xp,
                                      special=special_functions(xp), **parameters)


def parameter_draws(family: Family, draws: dict, rows: np.ndarray | slice = slice(None)) -> dict:
    """The outcome distribution's parameters (``sigma``, the family's own) as (samples, 1) columns, to
    broadcast against (samples, rows) linear predictors; ``rows`` picks samples of the flattened draws."""
    return {name: np.asarray(draws[name]).reshape(-1)[rows][:, None] for name in family.parameter_names}


def mean_of(family: Family, eta, xp=np):
    """The expected outcome (per trial for binomial) from the linear predictor."""
    return family.mean(eta, xp)
