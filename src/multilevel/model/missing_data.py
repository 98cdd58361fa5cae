"""Models for incomplete predictors: Blimp-style factored (sequential) regressions.

Each incomplete predictor gets a regression on the complete predictors and on the
incomplete predictors that come after it, ordered by missing rate (highest first), with
a random intercept over the first grouping factor when the data are clustered. The focal
model's outcome is never a predictor here: the joint density factors as
p(y | x) p(x1 | x2, ..., complete) p(x2 | ..., complete) ...
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import SpecificationError
from . import expressions as E
from . import priors as P
from .model_spec import Column, GroupingFactor
from .submodel_kinds import GAUSSIAN, MISSINGNESS, NOMINAL, ORDINAL, SubmodelKind


@dataclass(frozen=True)
class Submodel:
    """A regression in the joint model besides the focal one.

    Its ``kind`` (:mod:`multilevel.model.submodel_kinds`) says how: a normal regression of an
    incomplete continuous variable (missing values sampled), an ordinal probit or multinomial logit
    model of a discrete one (missing values summed out and drawn afterwards), or a missingness model,
    the probit regression of the indicator ``<indicator_of>.missing``.
    """

    outcome: str
    columns: tuple[Column, ...]  # predictors (their expressions may involve later incomplete variables)
    factor: GroupingFactor | None  # random intercept over this factor
    missing_count: int
    location: float  # internal standardization of the outcome (observed mean and SD)
    scale: float
    column_means: tuple[float, ...]
    column_sds: tuple[float, ...]
    priors: tuple[tuple[str, P.Prior], ...]  # (parameter name without the prefix, prior)
    kind: SubmodelKind = GAUSSIAN
    indicator_of: str | None = None
    categories: tuple[float, ...] = ()  # ordinal: the observed values, in order
    level: int = 1  # 2: a variable constant within clusters, modelled (and imputed) once per cluster
    latent_mean: bool = False  # its random intercept gives the variable's latent cluster means

    @property
    def family(self) -> str:
        """The kind's name (for display and tests; code asks the kind itself)."""
        return self.kind.name

    @property
    def predictor_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def prior_for(self, name: str) -> P.Prior:
        for key, prior in self.priors:
            if key == name:
                return prior
        raise KeyError(name)


def order_incomplete(missing_counts: dict[str, int]) -> list[str]:
    """Highest missing rate first (ties by name), as Blimp orders factored regressions."""
    return sorted(missing_counts, key=lambda name: (-missing_counts[name], name))


def _column_scales(columns, values) -> tuple[list[float], list[float]]:
    means, sds = [], []
    for column in columns:
        value = np.asarray(column.expression.evaluate(values, np), dtype=float)
        value = value[~np.isnan(value)]
        means.append(float(np.mean(value)) if value.size else 0.0)
        sds.append(float(np.std(value, ddof=1)) if value.size > 1 and np.std(value) > 0 else 1.0)
    return means, sds


def build_submodels(incomplete: list[str], complete_numeric: list[str], complete_categorical: list,
                    values: dict, missing_counts: dict[str, int], factor: GroupingFactor | None,
                    stated: dict | None = None, style: str = "default",
                    ordinal: frozenset = frozenset(), level_two: frozenset = frozenset(),
                    clusters: np.ndarray | None = None, latent: frozenset = frozenset(),
                    nominal: dict | None = None) -> tuple[Submodel, ...]:
    """Predictor models for the incomplete variables; ``stated`` maps a variable to its stated columns.
    Variables in ``ordinal`` get an ordinal probit model (binary when they have two values).

    Level-2 variables (``level_two``, constant within the ``clusters`` codes) come last in the
    factorization, so level-1 models condition on them: each is a cluster-level regression (one
    row per cluster, no random intercept) on the level-2 variables after it and the complete
    level-2 variables.

    Variables in ``latent`` have latent group means in the focal model: their model's random
    intercept defines them (the cluster mean is intercept + the cluster's average of the model's
    predictors times their coefficients + the random intercept). A complete one gets an empty
    random-intercept model.

    ``nominal`` (name → categorical variable info) are incomplete nominal variables: each gets a
    multinomial logit model, and enters the models after it as dummy codes.

    Default priors scale with the data (as for the focal model). ``style="blimp"``: Blimp's —
    flat coefficients, an inverse-Wishart "unit sum of squares, df = 2" on the residual variance
    (InverseGamma(1, 0.5)) and a flat prior on the random-intercept variance.
    """
    stated = stated or {}
    nominal = nominal or {}
    ordered = _factored_order(incomplete, stated, missing_counts, level_two)
    complete_level_two = [name for name in complete_numeric
                          if clusters is not None and _constant_within(values[name], clusters)]
    categorical_level_two = [info for info in complete_categorical
                             if clusters is not None and _constant_within(values[info.name], clusters)]
    submodels = []
    for position, outcome in enumerate(ordered):
        later = ordered[position + 1:]
        if outcome in level_two:
            columns = (list(stated[outcome]) if outcome in stated else
                       _automatic_columns(later + complete_level_two, categorical_level_two, nominal))
            submodels.append(_level_two_submodel(outcome, columns, missing_counts[outcome], values, clusters,
                                                 style, ordinal=outcome in ordinal, nominal=nominal.get(outcome)))
        else:
            if outcome in stated:
                columns = list(stated[outcome])
            elif outcome in latent and not missing_counts.get(outcome):
                columns = []
            else:
                columns = _automatic_columns(later + complete_numeric, complete_categorical, nominal,
                                             skip=f"{outcome}.missing")
            submodels.append(_level_one_submodel(outcome, columns, values, missing_counts[outcome], factor, style,
                                                 ordinal=outcome in ordinal, nominal=nominal.get(outcome),
                                                 latent=outcome in latent))
    return tuple(submodels)


def _factored_order(incomplete, stated, missing_counts, level_two) -> list[str]:
    """The order of the factorization: complete variables with a stated model (auxiliary variables) first,
    like the focal outcome (the automatic models of the incomplete variables do not condition on them: that
    would close a cycle), then the level-1 incomplete variables, then the level-2 ones, each by missing rate."""
    auxiliary = sorted(name for name in incomplete if name in stated and not missing_counts.get(name)
                       and name not in level_two)
    return (auxiliary
            + order_incomplete({name: missing_counts[name] for name in incomplete
                                if name not in level_two and name not in auxiliary})
            + order_incomplete({name: missing_counts[name] for name in incomplete if name in level_two}))


def _automatic_columns(numeric, categorical, nominal, skip: str | None = None) -> list[Column]:
    """An automatic model's predictors: each of ``numeric`` but ``skip`` (as dummy codes if it is an
    incomplete nominal variable) and the dummy codes of each complete ``categorical`` variable. A level-1
    model skips its variable's own missingness indicator (the shift it would add is not identified)."""
    columns = []
    for name in numeric:
        if name == skip:
            continue
        columns += (_indicator_columns(nominal[name]) if name in nominal else
                    [Column(name, name, E.Product((E.Variable(name),)))])
    for info in categorical:
        columns += _indicator_columns(info)
    return columns


def _level_one_submodel(outcome, columns, values, missing_count, factor, style, ordinal: bool, nominal,
                        latent: bool) -> Submodel:
    """The model of a level-1 variable: multinomial logit, ordinal probit or a normal regression."""
    means, sds = _column_scales(columns, values)
    if nominal is not None:
        return _nominal_submodel(outcome, nominal, columns, factor, missing_count, values, means, sds, style)
    observed = values[outcome][~np.isnan(values[outcome])]
    if ordinal:
        return _ordinal_submodel(outcome, columns, factor, missing_count, observed, means, sds, style)
    if observed.size < 3 or np.std(observed) == 0:
        raise SpecificationError(f"'{outcome}' has too few distinct observed values to model its missing ones")
    location, scale = float(np.mean(observed)), float(np.std(observed, ddof=1))
    priors = _gaussian_priors(columns, sds, location, scale, factor, style)
    if latent and factor is None:
        raise SpecificationError(f"latent_mean({outcome}) needs clustered data")
    return Submodel(outcome, tuple(columns), factor, missing_count, location, scale, tuple(means), tuple(sds),
                    tuple(priors), latent_mean=latent)


MAX_CATEGORIES = 12


def _indicator_columns(info) -> list[Column]:
    """Dummy codes of a categorical variable (its first level is the reference)."""
    return [Column(f"{info.name}{info.levels[code]}", info.name, E.Product((E.LevelIndicator(info.name, code),)))
            for code in range(1, len(info.levels))]


def _nominal_submodel(outcome, info, columns, factor, missing_count, values, means, sds, style) -> Submodel:
    """Multinomial logit of an incomplete nominal variable: one linear predictor per category after the
    first (the reference), each with its own intercept, coefficients and random intercept."""
    codes = np.asarray(values[outcome])
    present = set(np.unique(codes[codes >= 0]).tolist())
    if len(info.levels) < 2 or len(present) < len(info.levels):
        raise SpecificationError(f"nominal variable '{outcome}' needs at least two categories, each observed")
    if len(info.levels) > MAX_CATEGORIES:
        raise SpecificationError(f"nominal variable '{outcome}' has {len(info.levels)} categories; at most "
                                 f"{MAX_CATEGORIES}")
    priors = _probit_priors(columns, sds, factor, style)
    return Submodel(outcome, tuple(columns), factor, missing_count, 0.0, 1.0, tuple(means), tuple(sds),
                    tuple(priors), kind=NOMINAL, categories=tuple(info.levels))


def _gaussian_priors(columns, sds, location, scale, factor, style) -> list:
    """Defaults scaled to the variable (as for the focal model), or Blimp's: flat coefficients, an
    inverse-Wishart "unit sum of squares, df = 2" on the residual variance, flat random-intercept variance."""
    if style == "blimp":
        priors = [("Intercept", P.Flat()), ("residual sd", P.InverseGamma(1.0, 0.5))]
        priors += [(column.name, P.Flat()) for column in columns]
    else:
        priors = [("Intercept", P.StudentT(3, location, 2.5 * scale)), ("residual sd", P.HalfStudentT(3, scale))]
        priors += [(column.name, P.Normal(0.0, 2.5 * scale / sd)) for column, sd in zip(columns, sds)]
    if factor is not None:
        priors.append((f"sd(Intercept | {factor.name})",
                       P.FlatCovariance(1) if style == "blimp" else P.HalfStudentT(3, 2.5 * scale)))
    return priors


def _probit_priors(columns, sds, factor, style) -> list:
    """Priors of a probit model (latent residual variance 1); Blimp's default for categorical models is
    normal(0, 5), variance 5."""
    if style == "blimp":
        priors = [("Intercept", P.Normal(0.0, 5.0 ** 0.5))] + [(column.name, P.Normal(0.0, 5.0 ** 0.5))
                                                               for column in columns]
    else:
        priors = [("Intercept", P.StudentT(3, 0.0, 2.5))]
        priors += [(column.name, P.Normal(0.0, 2.5 / sd)) for column, sd in zip(columns, sds)]
    if factor is not None:
        priors.append((f"sd(Intercept | {factor.name})",
                       P.FlatCovariance(1) if style == "blimp" else P.HalfStudentT(3, 1.0)))
    return priors


def _constant_within(value: np.ndarray, clusters: np.ndarray) -> bool:
    value = np.asarray(value)
    seen = value >= 0 if value.dtype.kind in "iu" else ~np.isnan(value.astype(float))  # codes: -1 is missing
    value = value.astype(float)
    frame = pd.DataFrame({"value": value[seen], "cluster": clusters[seen]})
    return bool((frame.groupby("cluster")["value"].agg(lambda v: v.max() - v.min()) == 0).all())


def _level_two_submodel(outcome, columns, missing_count, values, clusters, style, ordinal: bool = False,
                        nominal=None) -> Submodel:
    """A cluster-level model (one row per cluster, no random intercept) of a level-2 variable: a regression,
    an ordinal probit (``ordinal``) or a multinomial logit (``nominal``: the variable's info)."""
    cluster_rows = np.unique(clusters, return_index=True)[1]
    cluster_values = {name: np.asarray(value)[cluster_rows] for name, value in values.items()
                      if np.ndim(value) == 1 and len(value) == len(clusters)}
    for column in columns:
        for name in column.expression.variables():
            if name in values and not _constant_within(values[name], clusters):
                raise SpecificationError(f"the model of level-2 variable '{outcome}' uses '{name}', which varies "
                                         f"within clusters; a level-2 variable can only be predicted by level-2 "
                                         f"variables")
    means, sds = _column_scales(columns, cluster_values)
    if nominal is not None:
        return replace(_nominal_submodel(outcome, nominal, columns, None, missing_count, cluster_values, means, sds,
                                         style), level=2)
    observed = cluster_values[outcome][~np.isnan(cluster_values[outcome])]
    if ordinal:
        return replace(_ordinal_submodel(outcome, columns, None, missing_count, observed, means, sds, style),
                       level=2)
    if observed.size < 3 or np.std(observed) == 0:
        raise SpecificationError(f"level-2 variable '{outcome}' has too few distinct observed values to model "
                                 f"its missing ones")
    location, scale = float(np.mean(observed)), float(np.std(observed, ddof=1))
    priors = _gaussian_priors(columns, sds, location, scale, None, style)
    return Submodel(outcome, tuple(columns), None, missing_count, location, scale, tuple(means), tuple(sds),
                    tuple(priors), level=2)


def _ordinal_submodel(outcome, columns, factor, missing_count, observed, means, sds, style) -> Submodel:
    categories = tuple(float(value) for value in np.unique(observed))
    if len(categories) < 2:
        raise SpecificationError(f"ordinal variable '{outcome}' has fewer than two observed values")
    if len(categories) > MAX_CATEGORIES:
        raise SpecificationError(f"ordinal variable '{outcome}' has {len(categories)} distinct values; ordinal "
                                 f"models take at most {MAX_CATEGORIES}. Treat it as continuous instead")
    priors = _probit_priors(columns, sds, factor, style)
    if len(categories) > 2:  # the gaps between successive thresholds, on the latent probit scale
        priors.append(("threshold steps", P.Flat() if style == "blimp" else P.HalfNormal(2.5)))
    return Submodel(outcome, tuple(columns), factor, missing_count, 0.0, 1.0, tuple(means), tuple(sds),
                    tuple(priors), kind=ORDINAL, categories=categories)


def missingness_submodel(variable: str, columns: tuple[Column, ...], values: dict,
                         factor: GroupingFactor | None, style: str = "default") -> Submodel:
    """Probit regression of the missingness indicator of ``variable`` (1 = missing)."""
    means, sds = _column_scales(columns, values)
    priors = _probit_priors(columns, sds, factor, style)
    return Submodel(f"{variable}.missing", columns, factor, 0, 0.0, 1.0, tuple(means), tuple(sds), tuple(priors),
                    kind=MISSINGNESS, indicator_of=variable)
