"""Default priors scaled to the data, and the user's overrides by class or by name.

Defaults (``s`` is the outcome's SD for Gaussian models, 1 otherwise; ``sd(x)`` the
column's SD in the data used):

* ``Intercept`` (with predictors centred at their means, as brms does):
  StudentT(3, location, 2.5·s), location = mean(y) (Gaussian), log(mean(y)) (Poisson), 0 otherwise.
* each coefficient: Normal(0, 2.5·s / sd(x)) — rstanarm's autoscaled weakly-informative prior:
  a one-SD change in x is unlikely to move the outcome by more than a few outcome SDs.
* each random-effect SD: HalfStudentT(3, 2.5·s / sd(z)) (sd(z) = 1 for intercepts).
* correlations within a block: LKJ(1), uniform over correlation matrices.
* residual SD (Gaussian): HalfStudentT(3, s).

``priors="blimp"`` (or a dict with ``"defaults": "blimp"`` plus overrides) uses Blimp's
defaults instead, so results compare like for like with Blimp: flat priors on the
intercept and coefficients of continuous outcomes, Normal with variance 5 on those of
categorical ones, and priors uniform over every covariance matrix (inverse-Wishart with a
zero matrix and df = -(p + 1)): random-effect covariance matrices and residual variances.

Override keys: a class (``"Intercept"``, ``"fixed"``, ``"sd"``, ``"cor"``,
``"residual sd"``; brms's ``"b"`` and ``"sigma"`` are accepted), a coefficient name
(``"x1"``, ``"x2:x3"``), an SD or correlation name as in the summary
(``"sd(x1 | g)"``, ``"cor(g)"`` for every correlation of factor ``g``) or ``"sd(g)"``
for every SD of factor ``g``. A named key wins over a class key.
"""

from __future__ import annotations

import math

from ..errors import SpecificationError
from . import priors as P
from .checks import suggest
from .families import Family
from .model_spec import ParameterPrior, RandomBlock

CLASS_KEYS = {"intercept": "Intercept", "Intercept": "Intercept", "fixed": "fixed", "b": "fixed",
              "sd": "sd", "cor": "cor", "residual sd": "residual sd", "sigma": "residual sd"}


def sd_name(column: str, factor: str) -> str:
    return f"sd({column} | {factor})"


def cor_name(first: str, second: str, factor: str) -> str:
    return f"cor({first}, {second} | {factor})"


def block_cor_key(block: RandomBlock) -> str:
    return f"cor({block.factor.name})"


PRIOR_STYLES = ("default", "blimp")
# Blimp's default for coefficients of categorical models, "normal(0.0, 5.0)": mean 0, variance 5
BLIMP_CATEGORICAL = P.Normal(0.0, math.sqrt(5.0))


def prior_style(priors) -> tuple[str, dict | None]:
    """Split the ``priors`` argument into the style of the defaults and the user's overrides."""
    if isinstance(priors, str):
        if priors not in PRIOR_STYLES:
            raise SpecificationError(f"priors='{priors}' is not a set of defaults; use 'blimp', or a dict of priors")
        return priors, None
    if isinstance(priors, dict) and "defaults" in priors:
        rest = {key: value for key, value in priors.items() if key != "defaults"}
        return prior_style(priors["defaults"])[0], rest or None
    return "default", priors


def default_priors(family: Family, intercept: bool, fixed_names, column_sds, random, random_column_sds,
                   outcome_mean: float, outcome_sd: float, style: str = "default"):
    if style == "blimp":
        return blimp_priors(family, intercept, fixed_names, random)
    s = outcome_sd if family.kind.standardized else 1.0
    result: list[ParameterPrior] = []
    if intercept:
        location = family.kind.intercept_location(outcome_mean)
        result.append(ParameterPrior("Intercept", "Intercept", P.StudentT(3, location, 2.5 * s), "default"))
    for name, sd in zip(fixed_names, column_sds):
        result.append(ParameterPrior(name, "fixed", P.Normal(0.0, 2.5 * s / sd), "default"))
    for block, sds in zip(random, random_column_sds):
        for name, sd in zip(block.column_names, sds):
            result.append(ParameterPrior(sd_name(name, block.factor.name), "sd",
                                         P.HalfStudentT(3, 2.5 * s / sd), "default"))
        if block.has_correlations:
            result.append(ParameterPrior(block_cor_key(block), "cor", P.LKJ(1.0), "default"))
    if family.has_residual_sd:
        result.append(ParameterPrior(family.kind.scale_name, "residual sd", P.HalfStudentT(3, s), "default"))
    return result + family_parameter_priors(family, "default")


def family_parameter_priors(family: Family, source: str) -> list[ParameterPrior]:
    """The default priors of the family's own parameters (Student-t's nu), the same in every style."""
    return [ParameterPrior(parameter.name, "family", parameter.default_prior, source)
            for parameter in family.kind.parameters]


def blimp_priors(family: Family, intercept: bool, fixed_names, random) -> list[ParameterPrior]:
    coefficient = P.Flat() if family.kind.standardized else BLIMP_CATEGORICAL
    result: list[ParameterPrior] = []
    if intercept:
        result.append(ParameterPrior("Intercept", "Intercept", coefficient, "Blimp default"))
    result += [ParameterPrior(name, "fixed", coefficient, "Blimp default") for name in fixed_names]
    for block in random:
        dimension = block.size if block.has_correlations else 1
        result += [ParameterPrior(sd_name(name, block.factor.name), "sd", P.FlatCovariance(dimension), "Blimp default")
                   for name in block.column_names]
        if block.has_correlations:
            result.append(ParameterPrior(block_cor_key(block), "cor", P.LKJ(1.0), "Blimp default"))
    if family.has_residual_sd:
        result.append(ParameterPrior(family.kind.scale_name, "residual sd", P.FlatCovariance(1), "Blimp default"))
    return result + family_parameter_priors(family, "default")


def apply_user_priors(defaults: list[ParameterPrior], user: dict | None, random: tuple[RandomBlock, ...]):
    if not user:
        return tuple(defaults)
    if not isinstance(user, dict):
        raise SpecificationError("priors must be a dict such as {'x1': ml.Normal(0, 1), 'sd': ml.HalfNormal(5)}")
    by_name = {assignment.parameter: assignment for assignment in defaults}
    factor_sds: dict[str, list[str]] = {}
    for block in random:
        factor_sds.setdefault(f"sd({block.factor.name})", []).extend(
            sd_name(name, block.factor.name) for name in block.column_names)
    class_choice: dict[str, P.Prior] = {}
    named: dict[str, P.Prior] = {}
    for key, prior in user.items():
        key_text = " ".join(str(key).split())
        if key_text in CLASS_KEYS:
            class_choice[CLASS_KEYS[key_text]] = prior
        elif key_text in by_name:
            named[key_text] = prior
        elif key_text in factor_sds:
            for name in factor_sds[key_text]:
                named.setdefault(name, prior)
        else:
            known = sorted(set(by_name) | set(factor_sds) | {"Intercept", "fixed", "sd", "cor", "residual sd"})
            raise SpecificationError(f"prior key '{key}' names no parameter of this model.{suggest(key_text, known)} "
                                     f"Known keys: {', '.join(known)}")
    result = []
    for assignment in defaults:
        prior = named.get(assignment.parameter, class_choice.get(assignment.parameter_class))
        if prior is None:
            result.append(assignment)
            continue
        P.check_for_class(prior, assignment.parameter_class, assignment.parameter)
        result.append(ParameterPrior(assignment.parameter, assignment.parameter_class, prior, "user"))
    return tuple(result)
