"""What an outcome family is: one protocol every family module implements.

A family says how its outcome is checked, scaled, modelled and drawn; everything outside the
family modules asks the family, never its name. Functions that compute on draws take the array
namespace ``xp`` (NumPy or JAX) and ``special`` (log-normal-CDF, softplus, ... for that namespace)
from the caller, so a family module imports neither JAX nor the backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..priors import Prior

Statistic = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FamilyParameter:
    """A parameter of the outcome distribution besides its mean and residual scale (Student-t's ``nu``).

    ``name`` is the sample site, the key of the draws, the summary's row and the name a prior is set
    by; the parameter lives on (``lower``, ∞), is not rescaled with the outcome, and has
    ``default_prior`` unless the user gives one.
    """

    name: str
    default_prior: Prior
    lower: float = 0.0
    description: str = ""


class OutcomeFamily:
    """One outcome family (override what differs). Instances are stateless singletons."""

    name: ClassVar[str]
    links: ClassVar[tuple[str, ...]]
    aliases: ClassVar[tuple[str, ...]] = ()
    residual_sd: ClassVar[bool] = False
    """The family has a residual SD parameter ('residual sd', site ``sigma``)."""
    standardized: ClassVar[bool] = False
    """The outcome is centred and scaled internally; default priors are on the outcome's scale."""
    conjugate_normal: ClassVar[bool] = False
    """Normal random effects can be integrated out exactly (and group information is Gaussian)."""
    imputes_missing_outcome: ClassVar[bool] = False
    """Missing outcomes are sampled with the parameters (as in Blimp) under ``missing='model'``."""
    takes_trials: ClassVar[bool] = False
    """The outcome is a count out of a number of trials: ``y | trials(n)`` or ``cbind(s, f)``."""
    scale_name: ClassVar[str] = "residual sd"
    """The summary's name of the scale parameter (site ``sigma``), when the family has one."""
    parameters: ClassVar[tuple[FamilyParameter, ...]] = ()
    """Further parameters of the outcome distribution, passed to ``log_likelihood`` and ``draw`` by name."""

    def check_outcome(self, name: str, y: np.ndarray, trials: np.ndarray | None) -> None:
        """Raise a DataError naming the outcome when its observed values do not fit the family."""

    def scaling(self, y_seen: np.ndarray, intercept: bool, exposure: np.ndarray) -> tuple[float, float]:
        """Location and scale of the observed outcome (the scale divides it internally when standardized)."""
        return float(np.mean(y_seen)), 1.0

    def intercept_location(self, outcome_mean: float) -> float:
        """Where the default prior of the intercept is centred."""
        return 0.0

    def log_likelihood(self, y, eta, *, link: str, sigma=None, trials=None, xp=np, special=None, **parameters):
        """log p(y | eta) per observation; ``parameters`` holds the family's own (``nu=...``)."""
        raise NotImplementedError

    def draw(self, rng: np.random.Generator, mean: np.ndarray, *, sigma=None, trials=None,
             **parameters) -> np.ndarray:
        """Replicated outcomes (draws x rows) given the expected outcome (parameters per draw)."""
        raise NotImplementedError

    def residual_variance(self, sigma, xp=np, **parameters):
        """Level-1 variance of the outcome given the scale (per draw), for ICCs and R²."""
        return sigma ** 2

    def ppc_statistics(self) -> dict[str, Statistic]:
        """Test statistics for posterior predictive checks: name → (replicates x rows) → (replicates,)."""
        return {"mean": lambda v: v.mean(axis=-1), "sd": lambda v: v.std(axis=-1, ddof=1),
                "min": lambda v: v.min(axis=-1), "max": lambda v: v.max(axis=-1)}

    def group_information(self, y: np.ndarray, trials: np.ndarray | None, index: np.ndarray, count: int,
                          link: str) -> float:
        """Information per observation about a group's intercept, relative to its prior variance (used to
        choose a centred or non-centred parameterization)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<family {self.name}>"


def latent_residual_variance(link: str) -> float | None:
    """Level-1 variance on the latent scale of a link, used for ICCs and R² of discrete outcomes."""
    return {"logit": math.pi ** 2 / 3, "probit": 1.0}.get(link)


def inverse_link(link: str, eta, xp=np):
    """The expected outcome (per trial for binomial) from the linear predictor."""
    if link == "identity":
        return eta
    if link == "logit":
        return 1 / (1 + xp.exp(-eta))
    if link == "probit":
        if xp is np:
            from scipy.special import ndtr
        else:
            from jax.scipy.special import ndtr
        return ndtr(eta)
    if link == "log":
        return xp.exp(eta)
    raise ValueError(f"unknown link {link!r}")


def logit_information(y: np.ndarray, trials: np.ndarray | None, index: np.ndarray, count: int,
                      link: str) -> float:
    """Group information for a success count out of trials (bernoulli and binomial)."""
    sizes = np.bincount(index, minlength=count).astype(float)
    keep = sizes > 0
    n_trials = trials if trials is not None else np.ones_like(y)
    successes = np.bincount(index, weights=y, minlength=count)[keep]
    totals = np.bincount(index, weights=n_trials, minlength=count)[keep]
    proportions = (successes + 0.5) / (totals + 1.0)
    logits = np.log(proportions / (1 - proportions))
    sampling = float(np.mean(1.0 / ((totals + 1.0) * proportions * (1 - proportions))))
    tau2 = max(float(np.var(logits, ddof=1)) - sampling, 0.05)
    overall = float(np.sum(y) / np.sum(n_trials))
    per_trial = overall * (1 - overall) * (1.0 if link == "logit" else 2.5)
    return per_trial * float(np.mean(n_trials)) * tau2
