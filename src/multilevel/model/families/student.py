"""The Student-t family (brms's ``student``): identity link, a scale ``sigma`` and degrees of freedom ``nu``.

A robust alternative to the Gaussian for outcomes with heavy tails. As in brms, ``nu`` has a
gamma(2, 0.1) prior on (1, ∞) and ``sigma`` the residual-SD prior; the outcome is standardized
internally as for the Gaussian. The outcome's variance, used for ICCs and R², is
sigma² · nu / (nu − 2), infinite for nu ≤ 2.
"""

from __future__ import annotations

import math

import numpy as np

from .. import priors as P
from .base import FamilyParameter, OutcomeFamily
from .gaussian import Gaussian

LOG_PI = math.log(math.pi)


class Student(OutcomeFamily):
    name = "student"
    links = ("identity",)
    aliases = ("student_t", "studentt", "t")
    residual_sd = True
    standardized = True
    scale_name = "sigma"
    parameters = (FamilyParameter("nu", P.Gamma(2.0, 0.1), lower=1.0, description="degrees of freedom"),)

    check_outcome = Gaussian.check_outcome
    scaling = Gaussian.scaling
    intercept_location = Gaussian.intercept_location
    group_information = Gaussian.group_information  # a Gaussian approximation suffices to choose a parameterization

    def log_likelihood(self, y, eta, *, link, sigma=None, trials=None, xp=np, special=None, nu=None, **parameters):
        z = (y - eta) / sigma
        half = 0.5 * (nu + 1.0)
        return (special.gammaln(half) - special.gammaln(0.5 * nu) - 0.5 * (xp.log(nu) + LOG_PI) - xp.log(sigma)
                - half * xp.log1p(z ** 2 / nu))

    def draw(self, rng, mean, *, sigma=None, trials=None, nu=None, **parameters):
        degrees = np.broadcast_to(np.reshape(nu, (-1, 1)), mean.shape)
        return mean + np.reshape(sigma, (-1, 1)) * rng.standard_t(degrees)

    def residual_variance(self, sigma, xp=np, nu=None, **parameters):
        return xp.where(nu > 2.0, sigma ** 2 * nu / xp.maximum(nu - 2.0, 1e-300), xp.inf)


FAMILY = Student()
