"""Bayes factors: from log marginal likelihoods (bridge sampling) of two fits, and the Savage–Dickey
density ratio for a point hypothesis on one coefficient of one fit.

Marginal likelihoods exist only under proper priors; a fit with a flat prior anywhere is refused.
With missing data the marginal likelihood is that of everything observed (focal outcomes and the
observed values of the modelled predictors), so two fits compare like for like when their predictor
models are the same.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import SpecificationError, spell
from ..model import priors as P

_IMPROPER = (P.Flat, P.FlatCovariance)
_HYPOTHESIS = re.compile(r"^\s*(?P<name>[^=<>]+?)\s*=\s*(?P<value>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*$")


def improper_priors(spec) -> list[str]:
    names = [assignment.parameter for assignment in spec.priors if isinstance(assignment.prior, _IMPROPER)]
    for submodel in spec.submodels:
        names += [f"{submodel.outcome} ~ {name}" for name, prior in submodel.priors if isinstance(prior, _IMPROPER)]
    return names


def log_marginal_likelihood(fit, seed: int | None = None) -> dict:
    from ..backend.log_density import log_density, units_log_jacobian
    from .bridge import bridge_sampling

    improper = improper_priors(fit.spec)
    if improper:
        raise SpecificationError(f"the marginal likelihood needs proper priors, but {', '.join(improper[:5])} "
                                 f"{'has' if len(improper) == 1 else 'have'} a flat (improper) prior; give "
                                 f"{'it' if len(improper) == 1 else 'them'} a proper prior with "
                                 f"{spell('priors={...}', '--prior NAME=PRIOR')}")
    density = log_density(fit.spec, fit.data)
    points = density.flatten(fit.raw.constrained)
    result = bridge_sampling(density.evaluate, points, fit.config.chains, fit.seed if seed is None else seed)
    result["estimate"] += units_log_jacobian(fit.spec, fit.data)
    return result


def bayes_factor(fit_a, fit_b, seed: int | None = None) -> pd.Series:
    """BF of model a against model b from their bridge-sampling marginal likelihoods."""
    from .comparison import same_observations

    if not same_observations(fit_a, fit_b):
        raise SpecificationError("the two fits used different rows or outcomes; a Bayes factor compares models of "
                                 "the same data")
    a, b = log_marginal_likelihood(fit_a, seed), log_marginal_likelihood(fit_b, seed)
    log_bf = a["estimate"] - b["estimate"]
    return pd.Series({"log BF": log_bf, "BF": float(np.exp(log_bf)),
                      "error (log scale)": float(np.hypot(a["error"], b["error"])),
                      "log ML a": a["estimate"], "log ML b": b["estimate"]})


def savage_dickey(fit, hypothesis: str) -> pd.Series:
    """``hypothesis`` such as ``"x1 = 0"``: BF01 = posterior density / prior density of the coefficient at
    the value (the priors of the other parameters do not depend on it, so this is the Bayes factor of the
    model with the coefficient fixed at the value against the model with it free)."""
    from scipy.stats import gaussian_kde

    from ..backend.prior_densities import vector_log_prior

    match = _HYPOTHESIS.match(hypothesis)
    if match is None:
        raise SpecificationError(f"hypothesis '{hypothesis}': write it as coefficient = number, e.g. 'x1 = 0'")
    name, value = match.group("name").strip(), float(match.group("value"))
    if name == "Intercept":
        raise SpecificationError("a Savage–Dickey ratio for the Intercept is not available: its prior is stated "
                                 "at the predictors' means; compare two fits with ml.bayes_factor instead")
    if name not in fit.spec.fixed_names:
        raise SpecificationError(f"hypothesis '{hypothesis}': '{name}' is not a coefficient of the model "
                                 f"(coefficients: {', '.join(fit.spec.fixed_names) or 'none'})")
    prior = fit.spec.prior_for(name).prior
    if isinstance(prior, _IMPROPER):
        raise SpecificationError(f"'{name}' has a flat prior; a Bayes factor needs a proper prior on it")
    draws = fit.draws["b"][..., list(fit.spec.fixed_names).index(name)].reshape(-1)
    prior_density = float(np.exp(np.asarray(vector_log_prior([prior])(np.asarray([value])))))
    kde = gaussian_kde(draws)
    posterior_density = float(kde(value)[0])
    inside = float(np.mean(draws < value))
    bf_01 = posterior_density / prior_density
    result = pd.Series({"BF01": bf_01, "BF10": 1.0 / bf_01 if bf_01 > 0 else np.inf,
                        "log BF10": -np.log(bf_01) if bf_01 > 0 else np.inf,
                        "posterior density": posterior_density, "prior density": prior_density,
                        "posterior mass below": inside})
    if min(inside, 1 - inside) < 0.005:
        result.attrs["note"] = (f"{value:g} lies in the far tail of the posterior of {name} (tail mass "
                                f"{min(inside, 1 - inside):.4f}): the density estimate there is rough, and the "
                                f"evidence against the hypothesis is at least this strong")
    return result
