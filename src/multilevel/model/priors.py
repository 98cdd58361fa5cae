"""Prior distributions as plain values (no JAX here).

A prior is a small frozen object that knows its support, how it changes when its
parameter is multiplied by a positive constant (``scaled``) or shifted (``shifted``),
and how to describe itself. The backend turns it into a log density.

Priors on standard deviations may be stated on the SD (default), on the variance, or
on the precision (as in BUGS/JAGS, ``dgamma`` on a precision): ``on="variance"`` or
``on="precision"``. :class:`InverseGamma` is on the variance unless told otherwise.
"""

from __future__ import annotations

import math
from dataclasses import Field, dataclass, replace
from typing import Any, ClassVar

from ..errors import SpecificationError

ON_CHOICES = ("sd", "variance", "precision")
# the power k of the SD s that the prior is stated on: s, s^2, s^-2
ON_POWER = {"sd": 1, "variance": 2, "precision": -2}


def _positive(name: str, value: float, owner: str) -> float:
    value = float(value)
    if not (value > 0 and math.isfinite(value)):
        raise SpecificationError(f"{owner}: {name} must be a positive number, got {value}")
    return value


def _finite(name: str, value: float, owner: str) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise SpecificationError(f"{owner}: {name} must be finite, got {value}")
    return value


class Prior:
    """Base class of priors. ``support`` is 'real', 'positive' or 'interval'."""

    # every concrete prior is a frozen dataclass (the base class has no fields of its own)
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]
    support = "real"
    on = "sd"

    def scaled(self, factor: float) -> Prior:
        """The prior of ``factor * theta`` when this is the prior of ``theta`` (factor > 0)."""
        raise NotImplementedError

    def shifted(self, delta: float) -> Prior:
        """The prior of ``theta + delta``."""
        raise SpecificationError(f"{self} cannot be shifted")

    def for_sd_scaled(self, factor: float) -> Prior:
        """Scale a prior used for a standard deviation: the stated quantity is s, s² or 1/s²."""
        return self.scaled(factor ** ON_POWER[self.on])

    def bounds(self) -> tuple[float, float]:
        return (-math.inf, math.inf) if self.support == "real" else (0.0, math.inf)

    def __str__(self) -> str:
        fields = ", ".join(_format(getattr(self, name)) for name in self._shown())
        suffix = f" on the {self.on}" if self.on != "sd" and self.support != "real" else ""
        return f"{type(self).__name__}({fields}){suffix}"

    def _shown(self) -> tuple[str, ...]:
        return tuple(name for name in self.__dataclass_fields__ if name != "on")


def _format(value: float) -> str:
    return f"{value:.4g}"


@dataclass(frozen=True)
class Normal(Prior):
    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self):
        _finite("mu", self.mu, "Normal"), _positive("sigma", self.sigma, "Normal")

    def scaled(self, factor):
        return Normal(self.mu * factor, self.sigma * factor)

    def shifted(self, delta):
        return Normal(self.mu + delta, self.sigma)


@dataclass(frozen=True)
class StudentT(Prior):
    df: float = 3.0
    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self):
        _positive("df", self.df, "StudentT"), _finite("mu", self.mu, "StudentT")
        _positive("sigma", self.sigma, "StudentT")

    def scaled(self, factor):
        return StudentT(self.df, self.mu * factor, self.sigma * factor)

    def shifted(self, delta):
        return StudentT(self.df, self.mu + delta, self.sigma)


@dataclass(frozen=True)
class Cauchy(Prior):
    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self):
        _finite("mu", self.mu, "Cauchy"), _positive("sigma", self.sigma, "Cauchy")

    def scaled(self, factor):
        return Cauchy(self.mu * factor, self.sigma * factor)

    def shifted(self, delta):
        return Cauchy(self.mu + delta, self.sigma)


@dataclass(frozen=True)
class Flat(Prior):
    """Improper uniform prior on the real line (brms's default for coefficients)."""

    def scaled(self, factor):
        return self

    def shifted(self, delta):
        return self

    def __str__(self):
        return "Flat()"


@dataclass(frozen=True)
class FlatCovariance(Prior):
    """Improper prior uniform over covariance matrices: Blimp's default inverse-Wishart with a
    zero scale matrix and df = -(p + 1).

    Stated on each SD of a p-column block whose correlations have LKJ(1), the density is
    proportional to sd^p (the Jacobian from the covariance matrix to SDs and correlations);
    with ``dimension=1`` it is a flat prior on a variance.
    """

    dimension: int = 1
    support = "positive"

    def __post_init__(self):
        if int(self.dimension) != self.dimension or self.dimension < 1:
            raise SpecificationError(f"FlatCovariance: dimension must be a positive whole number, got {self.dimension}")

    def scaled(self, factor):
        return self

    def __str__(self):
        return ("flat on the variance (inverse-Wishart, zero matrix, df = -2)" if self.dimension == 1 else
                f"flat on the {self.dimension}x{self.dimension} covariance matrix "
                f"(inverse-Wishart, zero matrix, df = -{self.dimension + 1})")


@dataclass(frozen=True)
class HalfNormal(Prior):
    sigma: float = 1.0
    on: str = "sd"
    support = "positive"

    def __post_init__(self):
        _positive("sigma", self.sigma, "HalfNormal"), _check_on(self.on)

    def scaled(self, factor):
        return replace(self, sigma=self.sigma * factor)


@dataclass(frozen=True)
class HalfStudentT(Prior):
    df: float = 3.0
    sigma: float = 1.0
    on: str = "sd"
    support = "positive"

    def __post_init__(self):
        _positive("df", self.df, "HalfStudentT"), _positive("sigma", self.sigma, "HalfStudentT")
        _check_on(self.on)

    def scaled(self, factor):
        return replace(self, sigma=self.sigma * factor)


@dataclass(frozen=True)
class HalfCauchy(Prior):
    sigma: float = 1.0
    on: str = "sd"
    support = "positive"

    def __post_init__(self):
        _positive("sigma", self.sigma, "HalfCauchy"), _check_on(self.on)

    def scaled(self, factor):
        return replace(self, sigma=self.sigma * factor)


@dataclass(frozen=True)
class Exponential(Prior):
    rate: float = 1.0
    on: str = "sd"
    support = "positive"

    def __post_init__(self):
        _positive("rate", self.rate, "Exponential"), _check_on(self.on)

    def scaled(self, factor):
        return replace(self, rate=self.rate / factor)


@dataclass(frozen=True)
class Gamma(Prior):
    """Gamma(shape, rate); JAGS's ``dgamma(a, b)`` on a precision is ``Gamma(a, b, on="precision")``."""

    shape: float = 1.0
    rate: float = 1.0
    on: str = "sd"
    support = "positive"

    def __post_init__(self):
        _positive("shape", self.shape, "Gamma"), _positive("rate", self.rate, "Gamma"), _check_on(self.on)

    def scaled(self, factor):
        return replace(self, rate=self.rate / factor)


@dataclass(frozen=True)
class InverseGamma(Prior):
    """InverseGamma(shape, scale), on the variance by default."""

    shape: float = 1.0
    scale: float = 1.0
    on: str = "variance"
    support = "positive"

    def __post_init__(self):
        _positive("shape", self.shape, "InverseGamma"), _positive("scale", self.scale, "InverseGamma")
        _check_on(self.on)

    def scaled(self, factor):
        return replace(self, scale=self.scale * factor)


@dataclass(frozen=True)
class LogNormal(Prior):
    mu: float = 0.0
    sigma: float = 1.0
    on: str = "sd"
    support = "positive"

    def __post_init__(self):
        _finite("mu", self.mu, "LogNormal"), _positive("sigma", self.sigma, "LogNormal"), _check_on(self.on)

    def scaled(self, factor):
        return replace(self, mu=self.mu + math.log(factor))


@dataclass(frozen=True)
class Uniform(Prior):
    """Uniform(lower, upper). For an SD (as JAGS's ``dunif(0.0001, 200)``) lower must be >= 0."""

    lower: float = 0.0
    upper: float = 1.0
    on: str = "sd"
    support = "interval"

    def __post_init__(self):
        _finite("lower", self.lower, "Uniform"), _finite("upper", self.upper, "Uniform"), _check_on(self.on)
        if not self.upper > self.lower:
            raise SpecificationError(f"Uniform: upper ({self.upper}) must exceed lower ({self.lower})")

    def scaled(self, factor):
        return replace(self, lower=self.lower * factor, upper=self.upper * factor)

    def shifted(self, delta):
        return replace(self, lower=self.lower + delta, upper=self.upper + delta)

    def bounds(self):
        return (self.lower, self.upper)


@dataclass(frozen=True)
class LKJ(Prior):
    """LKJ prior on a correlation matrix; eta = 1 is uniform over correlation matrices."""

    eta: float = 1.0
    support = "correlation"

    def __post_init__(self):
        _positive("eta", self.eta, "LKJ")

    def scaled(self, factor):
        return self


def _check_on(on: str) -> None:
    if on not in ON_CHOICES:
        raise SpecificationError(f"on= must be one of {', '.join(ON_CHOICES)}, got {on!r}")


def check_for_class(prior: Prior, parameter_class: str, name: str) -> None:
    """Raise a clear error when a prior cannot serve a parameter of this class."""
    if not isinstance(prior, Prior):
        raise SpecificationError(f"the prior for '{name}' must be a multilevel prior such as ml.Normal(0, 1), "
                                 f"got {prior!r}")
    if parameter_class in ("fixed", "Intercept"):
        if prior.support != "real":
            raise SpecificationError(f"the prior for '{name}' must be on the whole real line "
                                     f"(Normal, StudentT, Cauchy, Flat), got {prior}")
    elif parameter_class in ("sd", "residual sd"):
        if prior.support == "real" or isinstance(prior, LKJ):
            raise SpecificationError(f"'{name}' is a standard deviation: its prior must be for positive values "
                                     f"(HalfStudentT, HalfNormal, HalfCauchy, Exponential, Gamma, InverseGamma, "
                                     f"LogNormal, Uniform), got {prior}")
        if isinstance(prior, Uniform) and prior.lower < 0:
            raise SpecificationError(f"'{name}' is a standard deviation: Uniform lower bound must be >= 0, "
                                     f"got {prior.lower}")
    elif parameter_class == "family":
        if prior.support not in ("positive", "interval") or isinstance(prior, (LKJ, FlatCovariance)):
            raise SpecificationError(f"the prior for '{name}' must be for positive values (Gamma, Exponential, "
                                     f"HalfNormal, LogNormal, Uniform, ...), got {prior}")
    elif parameter_class == "cor":
        if not isinstance(prior, LKJ):
            raise SpecificationError(f"the prior for correlations '{name}' must be ml.LKJ(eta), got {prior}")
