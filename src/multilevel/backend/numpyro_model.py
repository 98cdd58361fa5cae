"""ModelSpec → a NumPyro model over internal (standardized) units, and back to the data's units.

Internally the outcome of a Gaussian model is (y − location)/scale, fixed design columns
are centred (with an intercept) and divided by their SD, and random-effect columns are
divided by their SD. That is an exact reparameterization: every prior is mapped to the
internal units (``Prior.scaled`` / ``shifted``) and every draw is mapped back in
:func:`to_user_units`, so users only ever see the data's units.

The data reach the model as a :class:`ModelArrays` argument (never closed over), so the
compiled sampler can be reused for new data of the same shapes and the persistent
compilation cache sees the same program.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.special as jax_special
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro import handlers
from numpyro.distributions import constraints

from ..model import priors as P
from ..model.model_spec import ModelData, ModelSpec
from ..model.prior_assignment import block_cor_key, sd_name
from .likelihood import log_likelihood
from .prior_densities import log_prior_function, prior_structure

LOG_2PI = float(np.log(2.0 * np.pi))


def bucket(count: int) -> int:
    """The compiled size of a vector of ``count`` missing values: rounded up (by at most about 1/8), so data
    sets with similar missing counts (the replications of a simulation study) share one compiled sampler.
    The extra entries are independent standard normal parameters that touch nothing else."""
    if count <= 0:
        return 0
    step = 8 if count <= 64 else 32 if count <= 512 else 128 if count <= 4096 else 1024
    return int(-(-count // step) * step)


def _padded(index: np.ndarray, size: int, sentinel: int) -> np.ndarray:
    return np.concatenate([index, np.full(size - index.size, sentinel, dtype=np.int32)]).astype(np.int32)


class ModelArrays(NamedTuple):
    y: jnp.ndarray
    trials: jnp.ndarray | None
    X: jnp.ndarray
    offset: jnp.ndarray | None
    Z: tuple
    group_index: tuple
    constants: dict  # prior parameters and scaling constants: data-dependent numbers kept out of the program
    values: dict | None = None  # raw variables (0 where missing) for columns evaluated at sampling time
    missing: dict | None = None  # variable -> row positions of its missing values
    outcome_observed: jnp.ndarray | None = None  # 1.0 where the outcome is observed
    sufficient: dict | None = None  # per-group cross products for a marginalized random-effect block


class FamilyParameterPlan(NamedTuple):
    """One of the family's own parameters as the program samples it: site, support and prior structure."""

    name: str
    support: tuple
    prior: tuple


@dataclass(frozen=True)
class Blueprint:
    """Everything about a model that shapes the compiled program (hashable; the sampler cache key).

    Numbers that depend on the data (prior scales, column means) travel in
    ``ModelArrays.constants`` instead, so new data of the same shape reuse the compilation.
    """

    family: object
    intercept: bool
    fixed_count: int
    intercept_prior: tuple | None
    fixed_prior: tuple | None
    residual_prior: tuple | None
    residual_support: tuple | None
    blocks: tuple  # per block: (groups, size, correlated, parameterization, intercept flags, sources, supports,
    #                sd prior, lkj eta, group-level fixed columns in the intercept's mean)
    free: tuple[int, ...]
    intercept_absorbed: bool
    dynamic_fixed: tuple = ()  # (column index, expression) evaluated from imputed values
    dynamic_random: tuple = ()  # per block: ((column index, expression), ...)
    submodels: tuple = ()  # per submodel: (name, missing count, expressions, groups or 0, prior structures, family)
    outcome_latent: int = 0  # number of missing outcome values sampled as parameters
    family_parameters: tuple[FamilyParameterPlan, ...] = ()


@dataclass(frozen=True)
class InternalPriors:
    intercept: P.Prior | None
    fixed: tuple[P.Prior, ...]
    sds: tuple[tuple[P.Prior, ...], ...]
    cor_eta: tuple[float | None, ...]
    residual: P.Prior | None
    family: tuple[P.Prior, ...] = ()  # the family's own parameters (no rescaling: nu has no units)


@dataclass(frozen=True)
class Absorption:
    """Which fixed effects become the means of a centered block's group coefficients.

    In a centered block, the group coefficients are sampled as beta_j ~ N(mean, Sigma), with the
    intercept and the fixed slopes of the same columns as the mean (hierarchical centering).
    That removes the ridge between a fixed effect and the average of its group deviations.
    One block at most absorbs the intercept: the centered one with the fewest groups (its mean is
    the least determined). ``sources[i][k]`` is "intercept", a fixed column index, or None.

    Group-level predictors (complete fixed columns constant within a factor's groups) join the mean
    of that factor's random intercept when its block is centered: ``group_level[i]`` lists them.
    Their coefficients are then informed through the group coefficients alone, and the linear
    predictor no longer carries them row by row (each to the centered block with the fewest groups).
    """

    sources: tuple[tuple, ...]
    absorbed_fixed: frozenset[int]  # fixed slopes that are a centered block's slope means
    intercept_absorbed: bool
    group_level: tuple[tuple[int, ...], ...] = ()

    @property
    def off_rows(self) -> frozenset[int]:
        """Fixed columns that enter through a block's mean, not the rows' linear predictor."""
        return self.absorbed_fixed | frozenset(k for columns in self.group_level for k in columns)


def absorption(spec: ModelSpec) -> Absorption:
    fixed_index = {name: k for k, name in enumerate(spec.fixed_names)}
    centered = [i for i, block in enumerate(spec.random) if block.parameterization == "centered"]
    with_intercept = [i for i in centered if any(c.is_intercept for c in spec.random[i].columns)]
    intercept_block = (min(with_intercept, key=lambda i: len(spec.random[i].factor.levels))
                       if spec.intercept and with_intercept else None)
    sources, used = [], set()
    for i, block in enumerate(spec.random):
        row = []
        for column in block.columns:
            source = None
            if i in centered:
                if column.is_intercept and i == intercept_block:
                    source = "intercept"
                elif not column.is_intercept and column.name in fixed_index and fixed_index[column.name] not in used:
                    source = fixed_index[column.name]
                    used.add(source)
            row.append(source)
        sources.append(tuple(row))
    group_level: list[tuple[int, ...]] = [() for _ in spec.random]
    taken = set(used)
    for i in sorted(with_intercept, key=lambda i: len(spec.random[i].factor.levels)):
        if spec.group_level:
            group_level[i] = tuple(k for k in spec.group_level[i] if k not in taken)
            taken.update(group_level[i])
    return Absorption(tuple(sources), frozenset(used), intercept_block is not None, tuple(group_level))


def group_designs(spec: ModelSpec, X: np.ndarray, group_index) -> dict[int, np.ndarray]:
    """Per block with absorbed group-level predictors: their internal values, one row per group."""
    designs = {}
    for i, columns in enumerate(absorption(spec).group_level):
        if columns:
            design = np.zeros((len(spec.random[i].factor.levels), len(columns)))
            design[np.asarray(group_index[i])] = np.asarray(X)[:, list(columns)]
            designs[i] = design
    return designs


def internal_priors(spec: ModelSpec) -> InternalPriors:
    scaling = spec.scaling
    scale = scaling.outcome_scale if spec.family.kind.standardized else 1.0
    location = scaling.outcome_location if spec.family.kind.standardized else 0.0
    intercept = None
    if spec.intercept:
        intercept = spec.prior_for("Intercept").prior.shifted(-location).scaled(1.0 / scale)
    fixed = tuple(spec.prior_for(name).prior.scaled(sd / scale)
                  for name, sd in zip(spec.fixed_names, scaling.column_sds))
    sds = []
    cor_eta = []
    for block, column_sds in zip(spec.random, scaling.random_column_sds):
        sds.append(tuple(spec.prior_for(sd_name(name, block.factor.name)).prior.for_sd_scaled(sd / scale)
                         for name, sd in zip(block.column_names, column_sds)))
        cor_eta.append(spec.prior_for(block_cor_key(block)).prior.eta if block.has_correlations else None)
    residual = (spec.prior_for(spec.family.kind.scale_name).prior.for_sd_scaled(1.0 / scale)
                if spec.family.has_residual_sd else None)
    family = tuple(spec.prior_for(parameter.name).prior for parameter in spec.family.kind.parameters)
    return InternalPriors(intercept, fixed, tuple(sds), tuple(cor_eta), residual, family)


def internal_column_means(spec: ModelSpec) -> np.ndarray:
    """Fixed columns are centred internally, except those absorbed into a centered block."""
    means = np.array(spec.scaling.column_means, dtype=float)
    for k in absorption(spec).absorbed_fixed:
        means[k] = 0.0
    return means


def internal_design(spec: ModelSpec, data: ModelData) -> np.ndarray:
    """The fixed-effect columns in internal units (centred where they are not absorbed, scaled)."""
    if not data.X.shape[1]:
        return data.X
    return (data.X - internal_column_means(spec)) / np.asarray(spec.scaling.column_sds)


def internal_arrays(spec: ModelSpec, data: ModelData) -> ModelArrays:
    """The data in internal units, as NumPy arrays (float64, int32 codes)."""
    scaling = spec.scaling
    gaussian = spec.family.kind.standardized
    location = scaling.outcome_location if gaussian else 0.0
    scale = scaling.outcome_scale if gaussian else 1.0
    y = (data.y - location) / scale
    X = internal_design(spec, data)
    Z = tuple(Z / np.asarray(sds) for Z, sds in zip(data.Z, scaling.random_column_sds))
    offset = None if data.offset is None else data.offset / scale
    constants = model_constants(spec)
    constants.update({f"group design {i}": design for i, design in group_designs(spec, X, data.group_index).items()})
    arrays = ModelArrays(y=np.asarray(y, float), trials=None if data.trials is None else np.asarray(data.trials, float),
                         X=np.asarray(X, float), offset=offset, Z=Z,
                         group_index=tuple(np.asarray(index, np.int32) for index in data.group_index),
                         constants=constants, **_missing_arrays(spec, data))
    if marginalized(spec):
        arrays = arrays._replace(sufficient=sufficient_statistics(spec, data, arrays))
    return arrays


def marginalized(spec: ModelSpec) -> bool:
    return len(spec.random) == 1 and spec.random[0].parameterization == "marginalized"


def sufficient_statistics(spec: ModelSpec, data: ModelData, arrays: ModelArrays) -> dict:
    """Cross products, per group, of the observed rows (internal units) for the marginal likelihood.

    With ``A = [1, X]`` (the intercept first when there is one), ``r = y - offset``:
    per group ``Z'Z``, ``Z'A``, ``Z'r`` and row counts; overall ``A'A``, ``A'r``, ``r'r``.
    """
    observed = np.ones(data.n, bool) if data.outcome_observed is None else data.outcome_observed
    X = np.asarray(arrays.X)[observed]
    A = np.concatenate([np.ones((X.shape[0], 1)), X], axis=1) if spec.intercept else X
    r = np.asarray(arrays.y)[observed] - (0.0 if arrays.offset is None else np.asarray(arrays.offset)[observed])
    Z = np.asarray(arrays.Z[0])[observed]
    index = np.asarray(arrays.group_index[0])[observed]
    groups = len(spec.random[0].factor.levels)
    q = Z.shape[1]
    ZZ = np.zeros((groups, q, q))
    np.add.at(ZZ, index, Z[:, :, None] * Z[:, None, :])
    ZA = np.zeros((groups, q, A.shape[1]))
    np.add.at(ZA, index, Z[:, :, None] * A[:, None, :])
    Zr = np.zeros((groups, q))
    np.add.at(Zr, index, Z * r[:, None])
    counts = np.bincount(index, minlength=groups).astype(float)
    return {"ZZ": ZZ, "ZA": ZA, "Zr": Zr, "counts": counts, "AA": A.T @ A, "Ar": A.T @ r, "rr": np.asarray(r @ r),
            "rows": np.asarray(float(r.shape[0]))}


def _group_algebra(ZZ, Zres, scale_tril, variance):
    """Per group: w = L' Z'res and the Cholesky factor C of B = sigma^2 I + L' Z'Z L, written out element by
    element (lists of arrays over the groups and any leading draw dims): batched tiny matrix routines are
    slow on a CPU. ``ZZ[k][l]``, ``Zres[k]`` and ``scale_tril[k][m]`` are arrays or numbers."""
    q = len(scale_tril)
    w = [sum(Zres[k] * scale_tril[k][m] for k in range(q)) for m in range(q)]
    ZZL = [[sum(ZZ[k][j] * scale_tril[j][m] for j in range(q)) for m in range(q)] for k in range(q)]
    B = [[sum(scale_tril[k][a] * ZZL[k][m] for k in range(q)) + (variance if a == m else 0.0) for m in range(q)]
         for a in range(q)]
    cholesky = [[None] * q for _ in range(q)]
    for i in range(q):  # Cholesky–Banachiewicz
        for j in range(i + 1):
            total = B[i][j] - sum(cholesky[i][k] * cholesky[j][k] for k in range(j))
            cholesky[i][j] = total ** 0.5 if i == j else total / cholesky[j][j]
    return w, cholesky


def _forward(cholesky, vector):
    """Solve C x = vector (C lower triangular, as lists)."""
    solved = []
    for i in range(len(cholesky)):
        solved.append((vector[i] - sum(cholesky[i][k] * solved[k] for k in range(i))) / cholesky[i][i])
    return solved


def _backward(cholesky, vector):
    """Solve C' x = vector."""
    q = len(cholesky)
    solved = [None] * q
    for i in reversed(range(q)):
        solved[i] = (vector[i] - sum(cholesky[k][i] * solved[k] for k in range(i + 1, q))) / cholesky[i][i]
    return solved


def marginal_log_likelihood(sufficient: dict, coefficients, scale_tril, sigma):
    """log N(r | A beta, Z T Z' + sigma^2 I) summed over groups, with T = L L' (Woodbury identities).

    Per group, with w = L' Z'(r - A beta) and B = sigma^2 I + L' Z'Z L = C C':
    r'V^-1 r = (|r - A beta|^2 - |C^-1 w|^2) / sigma^2 and log|V| = (n - q) log sigma^2 + log|B|.
    Stable as the random-effect SDs go to zero (no inverse of T).
    """
    q = scale_tril.shape[0]
    variance = sigma ** 2
    residual_ss = (sufficient["rr"] - 2.0 * jnp.dot(coefficients, sufficient["Ar"])
                   + coefficients @ sufficient["AA"] @ coefficients)
    Zres = sufficient["Zr"] - jnp.sum(sufficient["ZA"] * coefficients, axis=-1)  # (groups, q)
    ZZ = [[sufficient["ZZ"][:, k, j] for j in range(q)] for k in range(q)]
    tril = [[scale_tril[k, m] for m in range(q)] for k in range(q)]
    w, cholesky = _group_algebra(ZZ, [Zres[:, k] for k in range(q)], tril, variance)
    quadratic = sum(jnp.sum(value ** 2) for value in _forward(cholesky, w))
    log_det_B = 2.0 * sum(jnp.sum(jnp.log(cholesky[i][i])) for i in range(q))
    log_det = jnp.sum((sufficient["counts"] - q) * jnp.log(variance)) + log_det_B
    return -0.5 * (sufficient["rows"] * LOG_2PI + log_det + (residual_ss - quadratic) / variance)


def _missing_arrays(spec: ModelSpec, data: ModelData) -> dict:
    result = {}
    if data.outcome_observed is not None and not data.outcome_observed.all() and not spec.outcome_latent:
        result["outcome_observed"] = data.outcome_observed.astype(float)
    if spec.outcome_latent:
        rows = np.flatnonzero(~data.outcome_observed).astype(np.int32)
        if marginalized(spec):  # drawn after sampling, not sampled: no padding
            result["missing"] = {"outcome": rows}
        else:
            size = bucket(rows.size)
            result["missing"] = {"outcome": _padded(rows, size, data.n),
                                 "outcome padding": (np.arange(size) >= rows.size).astype(float)}
    if spec.submodels:
        values = {}
        for name, value in data.values.items():
            value = np.asarray(value)
            values[name] = np.nan_to_num(value.astype(float), nan=0.0) if value.dtype.kind == "f" else value
        result["values"] = values
        missing = result.setdefault("missing", {})
        any_discrete = np.zeros(data.n, bool)
        for submodel in spec.submodels:
            if submodel.family == "ordinal":
                raw = np.asarray(data.values[submodel.outcome], dtype=float)
                codes = np.full(raw.shape, -1, dtype=np.int32)
                seen = ~np.isnan(raw)
                codes[seen] = np.searchsorted(np.asarray(submodel.categories), raw[seen])
                values[f"{submodel.outcome} code"] = codes
            elif submodel.family == "nominal":
                codes = np.asarray(data.values[submodel.outcome]).astype(np.int32)
                values[f"{submodel.outcome} code"] = codes
            else:
                codes = None
            if submodel.level == 1 and submodel.family in ("gaussian", "ordinal", "nominal"):
                unknown = codes < 0 if codes is not None else np.isnan(np.asarray(data.values[submodel.outcome],
                                                                                 dtype=float))
                _store_missing(missing, submodel, np.flatnonzero(unknown).astype(np.int32), data.n)
                if codes is not None:
                    any_discrete |= unknown
        if any(submodel.level == 2 for submodel in spec.submodels):
            cluster_rows = np.unique(np.asarray(data.group_index[0]), return_index=True)[1].astype(np.int32)
            missing["cluster rows"] = cluster_rows
            for submodel in spec.submodels:
                if submodel.level == 2:
                    at_clusters = np.asarray(data.values[submodel.outcome])[cluster_rows]
                    unknown = at_clusters < 0 if submodel.family == "nominal" else np.isnan(at_clusters.astype(float))
                    _store_missing(missing, submodel, np.flatnonzero(unknown).astype(np.int32), cluster_rows.size)
        if any_discrete.any():
            rows = np.flatnonzero(any_discrete).astype(np.int32)
            missing["discrete rows"] = _padded(rows, bucket(rows.size), rows[-1])  # sorted; the last repeated
            missing["discrete rows count"] = np.asarray(rows.size)
    return result


def _store_missing(missing: dict, submodel, positions: np.ndarray, size: int) -> None:
    """Positions (rows, or clusters at level 2) of a variable's missing values, padded to the compiled size:
    with an out-of-range position for sampled values (writes there are dropped) and a padding mask; with
    the last position repeated for summed-out discrete ones, whose true count travels as data."""
    padded = bucket(positions.size)
    if submodel.family == "gaussian":
        missing[submodel.outcome] = _padded(positions, padded, size)
        missing[f"{submodel.outcome} padding"] = (np.arange(padded) >= positions.size).astype(float)
    else:
        missing[submodel.outcome] = _padded(positions, padded, positions[-1] if positions.size else 0)
        missing[f"{submodel.outcome} count"] = np.asarray(positions.size)


def model_constants(spec: ModelSpec) -> dict:
    priors = internal_priors(spec)
    plan = absorption(spec)
    scaling = spec.scaling
    p = len(spec.fixed)
    constants: dict = {}
    if priors.intercept is not None:
        constants["intercept prior"] = prior_structure([priors.intercept])[1]
        shift = np.zeros(p)
        for k in plan.absorbed_fixed:
            shift[k] = scaling.column_means[k] / scaling.column_sds[k]
        constants["shift"] = shift
    if priors.fixed:
        constants["fixed prior"] = prior_structure(list(priors.fixed))[1]
    if priors.residual is not None:
        constants["residual prior"] = prior_structure([priors.residual])[1]
    for parameter, prior in zip(spec.family.kind.parameters, priors.family):
        constants[f"{parameter.name} prior"] = prior_structure([prior])[1]
    for j, submodel in enumerate(spec.submodels):
        constants[f"submodel {j}"] = _submodel_constants(submodel)
    if spec.submodels or spec.outcome_latent:
        gaussian = spec.family.kind.standardized
        constants["outcome location"] = np.asarray(scaling.outcome_location if gaussian else 0.0)
        constants["outcome scale"] = np.asarray(scaling.outcome_scale if gaussian else 1.0)
    if spec.submodels:
        internal_means = internal_column_means(spec)
        constants["dynamic means"] = np.asarray([internal_means[k] for k in spec.dynamic_fixed], dtype=float)
        constants["dynamic sds"] = np.asarray([scaling.column_sds[k] for k in spec.dynamic_fixed], dtype=float)
        for i, column_sds in enumerate(scaling.random_column_sds):
            constants[f"random sds {i}"] = np.asarray(column_sds, dtype=float)
    for i, (sources, column_sds) in enumerate(zip(plan.sources, scaling.random_column_sds)):
        constants[f"sd prior {i}"] = prior_structure(list(priors.sds[i]))[1]
        constants[f"mean factor {i}"] = np.array([column_sd / scaling.column_sds[source] if isinstance(source, int)
                                                  else 0.0 for source, column_sd in zip(sources, column_sds)])
    return constants


def _submodel_internal_priors(submodel) -> dict:
    """A submodel's priors in its internal units (outcome and predictors standardized)."""
    scale = submodel.scale
    result = {"Intercept": submodel.prior_for("Intercept").shifted(-submodel.location).scaled(1.0 / scale),
              "fixed": [submodel.prior_for(name).scaled(sd / scale)
                        for name, sd in zip(submodel.predictor_names, submodel.column_sds)]}
    if submodel.family == "gaussian":
        result["residual sd"] = submodel.prior_for("residual sd").for_sd_scaled(1.0 / scale)
    if submodel.factor is not None:
        result["sd"] = submodel.prior_for(f"sd(Intercept | {submodel.factor.name})").for_sd_scaled(1.0 / scale)
    if submodel.family == "ordinal" and len(submodel.categories) > 2:
        result["steps"] = submodel.prior_for("threshold steps")  # latent scale: no rescaling
    return result


def _submodel_constants(submodel) -> dict:
    priors = _submodel_internal_priors(submodel)
    constants = {"location": np.asarray(submodel.location), "scale": np.asarray(submodel.scale),
                 "means": np.asarray(submodel.column_means, dtype=float).reshape(-1),
                 "sds": np.asarray(submodel.column_sds, dtype=float).reshape(-1),
                 "intercept prior": prior_structure([priors["Intercept"]])[1]}
    if "residual sd" in priors:
        constants["residual prior"] = prior_structure([priors["residual sd"]])[1]
    if priors["fixed"]:
        constants["fixed prior"] = prior_structure(priors["fixed"])[1]
    if "sd" in priors:
        constants["sd prior"] = prior_structure([priors["sd"]])[1]
    if "steps" in priors:
        constants["steps prior"] = prior_structure([priors["steps"]] * (len(submodel.categories) - 2))[1]
    if submodel.family == "ordinal":
        constants["categories"] = np.asarray(submodel.categories, dtype=float)
    elif submodel.family == "nominal":  # imputed values are codes
        constants["categories"] = np.arange(len(submodel.categories), dtype=float)
    return constants


def _submodel_blueprint(submodel) -> SubmodelPlan:
    priors = _submodel_internal_priors(submodel)
    return SubmodelPlan(submodel.outcome, bucket(submodel.missing_count),
                        tuple(column.expression for column in submodel.columns),
                        len(submodel.factor.levels) if submodel.factor is not None else 0,
                        prior_structure([priors["Intercept"]])[0],
                        prior_structure([priors["residual sd"]])[0] if "residual sd" in priors else None,
                        prior_structure(priors["fixed"])[0] if priors["fixed"] else None,
                        prior_structure([priors["sd"]])[0] if "sd" in priors else None, submodel.family,
                        len(submodel.categories), submodel.level, submodel.latent_mean,
                        prior_structure([priors["steps"]] * (len(submodel.categories) - 2))[0]
                        if "steps" in priors else None)


def _support_key(prior: P.Prior) -> tuple:
    constraint = _support(prior)
    if constraint is constraints.positive:
        return ("positive",)
    if isinstance(constraint, constraints.greater_than):
        return ("greater than", float(constraint.lower_bound))
    return ("interval", float(constraint.lower_bound), float(constraint.upper_bound))


def _constraint(key: tuple):
    if key[0] == "positive":
        return constraints.positive
    if key[0] == "greater than":
        return constraints.greater_than(key[1])
    return constraints.interval(key[1], key[2])


def blueprint(spec: ModelSpec, data_outcome_observed: np.ndarray | None = None) -> Blueprint:
    priors = internal_priors(spec)
    plan = absorption(spec)
    blocks = []
    for i, block in enumerate(spec.random):
        blocks.append((len(block.factor.levels), block.size, block.has_correlations, block.parameterization,
                       tuple(column.is_intercept for column in block.columns), plan.sources[i],
                       tuple(_support_key(prior) for prior in priors.sds[i]), prior_structure(list(priors.sds[i]))[0],
                       priors.cor_eta[i], plan.group_level[i]))
    return Blueprint(
        family=spec.family, intercept=spec.intercept, fixed_count=len(spec.fixed),
        intercept_prior=prior_structure([priors.intercept])[0] if priors.intercept is not None else None,
        fixed_prior=prior_structure(list(priors.fixed))[0] if priors.fixed else None,
        residual_prior=prior_structure([priors.residual])[0] if priors.residual is not None else None,
        residual_support=_support_key(priors.residual) if priors.residual is not None else None,
        blocks=tuple(blocks), free=tuple(k for k in range(len(spec.fixed)) if k not in plan.off_rows),
        intercept_absorbed=plan.intercept_absorbed,
        dynamic_fixed=tuple((k, spec.fixed[k].expression) for k in spec.dynamic_fixed),
        dynamic_random=tuple(tuple((k, block.columns[k].expression) for k in ks)
                             for block, ks in zip(spec.random, spec.dynamic_random)) if spec.dynamic_random else (),
        submodels=tuple(_submodel_blueprint(submodel) for submodel in spec.submodels),
        family_parameters=tuple(FamilyParameterPlan(parameter.name, _family_support(prior, parameter.lower),
                                                    prior_structure([prior])[0])
                                for parameter, prior in zip(spec.family.kind.parameters, priors.family)),
        outcome_latent=bucket(int((~data_outcome_observed).sum())) if spec.outcome_latent and not marginalized(spec)
        else 0)


def _family_support(prior: P.Prior, lower: float) -> tuple:
    """A family parameter lives on (lower, inf), or on the part of a Uniform prior's interval above lower."""
    if prior.support == "interval":
        low, high = prior.bounds()
        return ("interval", max(float(low), lower), float(high))
    return ("greater than", lower) if lower != 0 else ("positive",)


def _support(prior: P.Prior):
    if prior.support == "interval":
        lower, upper = prior.bounds()
        power = P.ON_POWER[prior.on]
        if power == 1:
            return constraints.interval(lower, upper)
        # Uniform on a variance/precision: convert the bounds to the SD scale
        bounds = sorted(abs(b) ** (1.0 / power) if b > 0 else (0.0 if power > 0 else np.inf) for b in (lower, upper))
        return constraints.interval(bounds[0], bounds[1]) if np.isfinite(bounds[1]) else constraints.greater_than(bounds[0])
    return constraints.positive


def _free(name: str, support, shape=()):
    return numpyro.sample(name, dist.ImproperUniform(support, (), shape))


class SubmodelPlan(NamedTuple):
    """The compiled shape of one submodel (part of the :class:`Blueprint`)."""

    name: str
    missing: int  # missing values of its outcome
    expressions: tuple
    groups: int  # random-intercept groups, 0 for none
    intercept_prior: tuple
    residual_prior: tuple | None
    fixed_prior: tuple | None
    sd_prior: tuple | None
    family: str  # gaussian | probit (missingness indicator) | ordinal
    categories: int = 0  # ordinal: number of categories
    level: int = 1  # 2: one value per cluster of the first grouping factor
    latent_mean: bool = False  # the model's random intercept defines the variable's latent cluster means
    steps_prior: tuple | None = None  # ordinal with 3+ categories: prior of the gaps between thresholds


MAX_CONFIGURATIONS = 64
MASKED = -1e10  # log weight of a combination of categories that contradicts an observed value


def discrete_configurations(plan: Blueprint, level: int | None = None) -> tuple[list, list]:
    """The incomplete discrete variables ((submodel index, plan) pairs; of one level if given) and every
    combination of their categories: missing discrete values are summed out of the likelihood, row by row
    (level 1) or cluster by cluster (level 2)."""
    discrete = [(j, sub) for j, sub in enumerate(plan.submodels) if sub.family in ("ordinal", "nominal")
                and sub.missing and (level is None or sub.level == level)]
    return discrete, list(itertools.product(*[range(sub.categories) for _, sub in discrete]))


def _with_categories(values: dict, constants: dict, chosen: list, configuration, mask):
    """Values with the missing codes of the ``chosen`` discrete variables set to ``configuration``; ``mask``
    plus MASKED per row where a configuration contradicts an observed value."""
    current = dict(values)
    for (j, sub), category in zip(chosen, configuration):
        observed = values[f"{sub.name} code"]
        unknown = observed < 0
        code = jnp.where(unknown, category, observed)
        current[f"{sub.name} code"] = code
        # ordinal: the category's value; nominal: its code (the dummy codes compare codes)
        current[sub.name] = (code if sub.family == "nominal" else
                             jnp.asarray(constants[f"submodel {j}"]["categories"])[code])
        mask = mask + jnp.where(unknown | (observed == category), 0.0, MASKED)
    return current, mask


def make_model(plan: Blueprint, outcome_name: str = "y"):
    """The NumPyro model function ``model(arrays: ModelArrays)`` for a blueprint."""
    family = plan.family
    p = plan.fixed_count
    intercept_log_prior = log_prior_function(plan.intercept_prior) if plan.intercept_prior is not None else None
    fixed_log_prior = log_prior_function(plan.fixed_prior) if plan.fixed_prior is not None else None
    residual_log_prior = log_prior_function(plan.residual_prior) if plan.residual_prior is not None else None
    free = np.asarray(plan.free, dtype=np.int32)
    all_free = len(free) == p
    discrete, configurations = discrete_configurations(plan)
    row_discrete, row_configurations = discrete_configurations(plan, level=1)
    cluster_discrete, cluster_configurations = discrete_configurations(plan, level=2)

    def model(arrays: ModelArrays):
        constants = arrays.constants
        values, y = arrays.values, arrays.y
        if plan.submodels or plan.outcome_latent:
            values, y = _latent_values(plan, arrays, outcome_name)
        submodel_parameters = _submodel_parameters(plan, arrays)
        if any(sub.latent_mean for sub in plan.submodels):
            values = _with_latent_means(plan, arrays, values, submodel_parameters)
        intercept = None
        coefficients = None
        if p:
            coefficients = _free("b", constraints.real, (p,))
            numpyro.factor("b prior", fixed_log_prior(coefficients, constants["fixed prior"]))
        if intercept_log_prior is not None:
            intercept = _free("Intercept", constraints.real)
            # the prior is stated for the intercept with every predictor centred at its mean
            centred = intercept + (jnp.dot(constants["shift"], coefficients) if p else 0.0)
            numpyro.factor("Intercept prior", intercept_log_prior(centred[None], constants["intercept prior"]))
        block_effects = []
        for i, (count, size, correlated, parameterization, intercept_flags, sources, supports, sd_prior,
                eta_lkj, group_level) in enumerate(plan.blocks):
            sd = jnp.stack([_free(f"sd_{i}_{k}", _constraint(support)) for k, support in enumerate(supports)])
            numpyro.factor(f"sd_{i} prior", log_prior_function(sd_prior)(sd, constants[f"sd prior {i}"]))
            if correlated:
                cholesky = numpyro.sample(f"L_{i}", dist.LKJCholesky(size, eta_lkj))
                scale_tril = sd[:, None] * cholesky
            if parameterization == "marginalized":
                marginal_scale_tril = scale_tril if correlated else jnp.diag(sd)
                continue
            if parameterization == "noncentered":
                z = numpyro.sample(f"z_{i}", dist.Normal(0.0, 1.0).expand((count, size)).to_event(2))
                effects = z @ scale_tril.T if correlated else z * sd
            else:
                factors = constants[f"mean factor {i}"]
                mean = jnp.stack([
                    intercept if source == "intercept" else
                    (coefficients[source] * factors[k] if isinstance(source, int) else jnp.zeros(()))
                    for k, source in enumerate(sources)])
                if group_level:  # the group-level predictors' part of each group's intercept
                    level = constants[f"group design {i}"] @ coefficients[np.asarray(group_level)]
                    mean = jnp.broadcast_to(mean, (count, size)).at[:, intercept_flags.index(True)].add(level)
                if correlated:
                    effects = numpyro.sample(f"r_{i}", dist.MultivariateNormal(mean, scale_tril=scale_tril)
                                             .expand((count,)).to_event(1))
                else:
                    effects = numpyro.sample(f"r_{i}", dist.Normal(mean, sd).expand((count, size)).to_event(2))
            block_effects.append((i, intercept_flags, effects[arrays.group_index[i]]))
        sigma = None
        if residual_log_prior is not None:
            sigma = _free("sigma", _constraint(plan.residual_support))
            numpyro.factor("sigma prior", residual_log_prior(sigma[None], constants["residual prior"]))
        own = {}  # the family's own parameters (Student-t's nu)
        for parameter in plan.family_parameters:
            own[parameter.name] = _free(parameter.name, _constraint(parameter.support))
            numpyro.factor(f"{parameter.name} prior", log_prior_function(parameter.prior)(
                own[parameter.name][None], constants[f"{parameter.name} prior"]))
        if arrays.sufficient is not None:
            if intercept is None:
                full = coefficients if p else jnp.zeros((0,))
            else:
                full = jnp.concatenate([intercept[None], coefficients]) if p else intercept[None]
            numpyro.factor("log likelihood", marginal_log_likelihood(arrays.sufficient, full, marginal_scale_tril,
                                                                     sigma))
            return

        def row_log_density(current: dict | None):
            """Per row: the focal model's log-likelihood plus every submodel's, at these values."""
            X, Z = arrays.X, arrays.Z
            if plan.submodels:
                X, Z = _dynamic_columns(plan, arrays, current)
            eta = 0.0 if arrays.offset is None else arrays.offset
            if p and all_free:
                eta = eta + X @ coefficients
            elif len(free):
                eta = eta + X[:, free] @ coefficients[free]
            if intercept is not None and not plan.intercept_absorbed:
                eta = eta + intercept
            for i, intercept_flags, rows in block_effects:
                for k, is_intercept in enumerate(intercept_flags):
                    eta = eta + (rows[:, k] if is_intercept else Z[i][:, k] * rows[:, k])
            pointwise = log_likelihood(family, y, eta, sigma=sigma, trials=arrays.trials, xp=jnp, **own)
            if arrays.outcome_observed is not None:  # missing outcomes carry no likelihood (they are predicted)
                pointwise = pointwise * arrays.outcome_observed
            if plan.submodels:
                pointwise = pointwise + _submodel_rows(plan, arrays, current, submodel_parameters)
            return pointwise

        level_two = any(sub.level == 2 for sub in plan.submodels)
        if level_two and not cluster_discrete:  # cluster-level models (of level-2 variables only)
            numpyro.factor("level-2 models", jnp.sum(_submodel_rows(plan, arrays, values, submodel_parameters, 2)))
        if not discrete:
            numpyro.factor("log likelihood", jnp.sum(row_log_density(values)))
            return

        def row_terms(start: dict, start_mask):
            """(level-1 configurations, rows): every combination of the missing level-1 categories."""
            terms = []
            for configuration in row_configurations:
                current, mask = _with_categories(start, constants, row_discrete, configuration, start_mask)
                terms.append(row_log_density(current) + mask)
            return jnp.stack(terms)

        if not cluster_discrete:
            stacked = row_terms(values, 0.0)
            numpyro.factor("log likelihood", jnp.sum(jax_special.logsumexp(stacked, axis=0)))
            numpyro.deterministic("discrete log weights", stacked[:, arrays.missing["discrete rows"]])
            return
        # missing level-2 categories: per cluster, sum over them the cluster's rows (each summed over the
        # missing level-1 categories) times the level-2 models
        index, clusters = arrays.group_index[0], arrays.missing["cluster rows"].shape[0]
        cluster_terms, row_weights = [], []
        for configuration in cluster_configurations:
            current, mask = _with_categories(values, constants, cluster_discrete, configuration, 0.0)
            stacked = row_terms(current, mask)
            if row_discrete:
                row_weights.append(stacked[:, arrays.missing["discrete rows"]])
            per_cluster = jax.ops.segment_sum(jax_special.logsumexp(stacked, axis=0), index, num_segments=clusters)
            cluster_terms.append(per_cluster + _submodel_rows(plan, arrays, current, submodel_parameters, 2))
        cluster_stacked = jnp.stack(cluster_terms)
        numpyro.factor("log likelihood", jnp.sum(jax_special.logsumexp(cluster_stacked, axis=0)))
        numpyro.deterministic("cluster log weights", cluster_stacked)
        if row_discrete:
            numpyro.deterministic("discrete log weights", jnp.stack(row_weights))

    return model


def _latent_values(plan: Blueprint, arrays: ModelArrays, outcome_name: str):
    """Missing continuous values become parameters (sampled in standardized units).

    Returns the variables with their missing entries filled, and the focal outcome in internal
    units (with its missing entries filled when they are parameters).
    """
    values = dict(arrays.values or {})
    y = arrays.y
    if plan.outcome_latent:
        latent = _free("missing_outcome", constraints.real, (plan.outcome_latent,))
        _padding_density("missing_outcome", latent, arrays.missing["outcome padding"])
        y = jnp.asarray(y).at[arrays.missing["outcome"]].set(latent, mode="drop")
        values[outcome_name] = arrays.constants["outcome location"] + arrays.constants["outcome scale"] * y
    for j, sub in enumerate(plan.submodels):
        if sub.missing and sub.family == "gaussian":
            constants = arrays.constants[f"submodel {j}"]
            standardized = _free(f"missing_{sub.name}", constraints.real, (sub.missing,))
            _padding_density(f"missing_{sub.name}", standardized, arrays.missing[f"{sub.name} padding"])
            latent = constants["location"] + constants["scale"] * standardized
            if sub.level == 2:  # one value per cluster, shared by the cluster's rows
                clusters = jnp.asarray(values[sub.name])[arrays.missing["cluster rows"]]
                values[sub.name] = clusters.at[arrays.missing[sub.name]].set(latent, mode="drop")[
                    arrays.group_index[0]]
            else:
                values[sub.name] = jnp.asarray(values[sub.name]).at[arrays.missing[sub.name]].set(latent, mode="drop")
    return values, y


def _padding_density(name: str, vector, padding) -> None:
    """The entries beyond the true number of missing values (see :func:`bucket`) are standard normal."""
    numpyro.factor(f"{name} padding", -0.5 * jnp.sum(padding * vector ** 2) - 0.5 * LOG_2PI * jnp.sum(padding))


def _submodel_parameters(plan: Blueprint, arrays: ModelArrays) -> list[dict]:
    """Sample every submodel's parameters (with their priors); returns them per submodel."""
    result = []
    for j, sub in enumerate(plan.submodels):
        constants = arrays.constants[f"submodel {j}"]
        name = sub.name
        if sub.family == "nominal":
            result.append(_nominal_parameters(sub, constants, arrays))
            continue
        parameters = {"Intercept": _free(f"{name} ~ Intercept", constraints.real)}
        numpyro.factor(f"{name} ~ Intercept prior", log_prior_function(sub.intercept_prior)(
            parameters["Intercept"][None], constants["intercept prior"]))
        if sub.expressions:
            parameters["b"] = _free(f"{name} ~ b", constraints.real, (len(sub.expressions),))
            numpyro.factor(f"{name} ~ b prior", log_prior_function(sub.fixed_prior)(parameters["b"],
                                                                                   constants["fixed prior"]))
        if sub.groups:
            sd = _free(f"{name} ~ sd", constraints.positive)
            numpyro.factor(f"{name} ~ sd prior", log_prior_function(sub.sd_prior)(sd[None], constants["sd prior"]))
            z = numpyro.sample(f"{name} ~ z", dist.Normal(0.0, 1.0).expand((sub.groups,)).to_event(1))
            parameters["cluster effects"] = sd * z
            parameters["group effects"] = (sd * z)[arrays.group_index[0]]
        if sub.family == "gaussian":
            parameters["sigma"] = _free(f"{name} ~ sigma", constraints.positive)
            numpyro.factor(f"{name} ~ sigma prior", log_prior_function(sub.residual_prior)(
                parameters["sigma"][None], constants["residual prior"]))
        if sub.family == "ordinal" and sub.categories > 2:
            # thresholds: the first is 0 (the intercept is free), the others follow by positive steps
            parameters["steps"] = _free(f"{name} ~ threshold steps", constraints.positive, (sub.categories - 2,))
            if sub.steps_prior is not None:
                numpyro.factor(f"{name} ~ threshold steps prior", log_prior_function(sub.steps_prior)(
                    parameters["steps"], constants["steps prior"]))
        result.append(parameters)
    return result


def _submodel_rows(plan: Blueprint, arrays: ModelArrays, values: dict, parameters: list[dict], level: int = 1):
    """The summed log density of every submodel of this level at these values: per row (level 1) or
    per cluster (level 2)."""
    total = 0.0
    rows = arrays.y.shape[0]
    for j, sub in enumerate(plan.submodels):
        if sub.level != level:
            continue
        constants = arrays.constants[f"submodel {j}"]
        chosen = parameters[j]
        mean = chosen["Intercept"]
        if sub.expressions:
            design = _submodel_design(sub, constants, values, rows)
            if level == 2:
                design = design[arrays.missing["cluster rows"]]
            if sub.family != "nominal":
                mean = mean + design @ chosen["b"]
        if sub.groups:
            mean = mean + chosen["group effects"]
        def at_level(value):
            return value if level == 1 else jnp.asarray(value)[arrays.missing["cluster rows"]]

        if sub.family == "probit":
            indicator = values[sub.name]
            total = total + indicator * jax_special.log_ndtr(mean) + (1 - indicator) * jax_special.log_ndtr(-mean)
        elif sub.family == "nominal":
            linear = chosen["Intercept"] + (design @ chosen["b"] if sub.expressions else 0.0)
            if sub.groups:
                linear = linear + chosen["group effects"]
            linear = jnp.broadcast_to(linear, (design.shape[0] if sub.expressions else
                                               at_level(values[f"{sub.name} code"]).shape[0], sub.categories - 1))
            logits = jnp.concatenate([jnp.zeros(linear.shape[:-1] + (1,)), linear], axis=-1)
            code = jnp.clip(at_level(values[f"{sub.name} code"]), 0, sub.categories - 1)
            total = total + jnp.take_along_axis(jax.nn.log_softmax(logits, axis=-1), code[:, None], axis=1)[:, 0]
        elif sub.family == "ordinal":
            thresholds = jnp.zeros((1,)) if sub.categories == 2 else jnp.concatenate(
                [jnp.zeros((1,)), jnp.cumsum(chosen["steps"])])
            total = total + _ordinal_log_probability(at_level(values[f"{sub.name} code"]), mean, thresholds)
        else:
            value = values[sub.name] if level == 1 else jnp.asarray(values[sub.name])[arrays.missing["cluster rows"]]
            outcome = (value - constants["location"]) / constants["scale"]
            total = total + dist.Normal(mean, chosen["sigma"]).log_prob(outcome)
    return total


def _nominal_parameters(sub: SubmodelPlan, constants: dict, arrays: ModelArrays) -> dict:
    """Intercepts (K-1), coefficients (predictors x K-1) and random intercepts (one SD per category) of a
    multinomial logit; each category's parameters get the submodel's priors."""
    others = sub.categories - 1
    name = sub.name
    intercepts = _free(f"{name} ~ Intercept", constraints.real, (others,))
    intercept_prior = log_prior_function(sub.intercept_prior)
    numpyro.factor(f"{name} ~ Intercept prior", sum(intercept_prior(intercepts[k:k + 1], constants["intercept prior"])
                                                    for k in range(others)))
    parameters = {"Intercept": intercepts}
    if sub.expressions:
        b = _free(f"{name} ~ b", constraints.real, (len(sub.expressions), others))
        fixed_prior = log_prior_function(sub.fixed_prior)
        numpyro.factor(f"{name} ~ b prior", sum(fixed_prior(b[:, k], constants["fixed prior"]) for k in range(others)))
        parameters["b"] = b
    if sub.groups:
        sd = _free(f"{name} ~ sd", constraints.positive, (others,))
        sd_prior = log_prior_function(sub.sd_prior)
        numpyro.factor(f"{name} ~ sd prior", sum(sd_prior(sd[k:k + 1], constants["sd prior"]) for k in range(others)))
        z = numpyro.sample(f"{name} ~ z", dist.Normal(0.0, 1.0).expand((sub.groups, others)).to_event(2))
        parameters["group effects"] = (sd * z)[arrays.group_index[0]]
    return parameters


def _submodel_design(sub: SubmodelPlan, constants: dict, values: dict, rows: int):
    """A submodel's predictors at these values, standardized as its coefficients expect."""
    design = jnp.stack([jnp.broadcast_to(expression.evaluate(values, jnp), (rows,))
                        for expression in sub.expressions], axis=1)
    return (design - constants["means"]) / constants["sds"]


def _with_latent_means(plan: Blueprint, arrays: ModelArrays, values: dict, parameters: list[dict]) -> dict:
    """Fill ``<x>.mean`` (per row) with the latent cluster means of x read off x's model: intercept + the
    cluster's average of its standardized predictors times their coefficients + the random intercept."""
    values = dict(values)
    index = arrays.group_index[0]
    rows = arrays.y.shape[0]
    for j, sub in enumerate(plan.submodels):
        if not sub.latent_mean:
            continue
        constants = arrays.constants[f"submodel {j}"]
        chosen = parameters[j]
        mean = chosen["Intercept"] + chosen["cluster effects"]
        if sub.expressions:
            sizes = jax.ops.segment_sum(jnp.ones(rows), index, num_segments=sub.groups)
            sums = jax.ops.segment_sum(_submodel_design(sub, constants, values, rows), index, num_segments=sub.groups)
            mean = mean + (sums / jnp.maximum(sizes, 1.0)[:, None]) @ chosen["b"]
        cluster_means = numpyro.deterministic(f"latent mean {sub.name}",
                                              constants["location"] + constants["scale"] * mean)
        values[f"{sub.name}.mean"] = cluster_means[index]
    return values


def _ordinal_log_probability(code, mean, thresholds):
    """log P(category = code) under the ordinal probit model: Phi(t_k - mean) - Phi(t_{k-1} - mean), with
    t_{-1} = -inf and t_{K-1} = +inf; computed on the side of the smaller tail for accuracy."""
    categories = thresholds.shape[0] + 1
    upper = jnp.concatenate([thresholds, jnp.full((1,), 40.0)])[jnp.clip(code, 0, categories - 1)] - mean
    lower = jnp.concatenate([jnp.full((1,), -40.0), thresholds])[jnp.clip(code, 0, categories - 1)] - mean
    # log(Phi(u) - Phi(l)); for l > 0 use the mirror image Phi(-l) - Phi(-u)
    mirror = lower > 0
    high = jnp.where(mirror, -lower, upper)
    low = jnp.where(mirror, -upper, lower)
    log_high, log_low = jax_special.log_ndtr(high), jax_special.log_ndtr(low)
    return log_high + jnp.log1p(-jnp.exp(jnp.minimum(log_low - log_high, -1e-12)))


def _dynamic_columns(plan: Blueprint, arrays: ModelArrays, values: dict):
    """Recompute every design column that involves an imputed variable, in internal units."""
    X = jnp.asarray(arrays.X)
    means, sds = arrays.constants["dynamic means"], arrays.constants["dynamic sds"]
    for position, (k, expression) in enumerate(plan.dynamic_fixed):
        column = jnp.broadcast_to(expression.evaluate(values, jnp), X.shape[:1])
        X = X.at[:, k].set((column - means[position]) / sds[position])
    Z = [jnp.asarray(block) for block in arrays.Z]
    for i, columns in enumerate(plan.dynamic_random):
        for k, expression in columns:
            column = jnp.broadcast_to(expression.evaluate(values, jnp), Z[i].shape[:1])
            Z[i] = Z[i].at[:, k].set(column / arrays.constants[f"random sds {i}"][k])
    return X, tuple(Z)


def draw_marginalized(spec: ModelSpec, arrays: ModelArrays, constrained: dict, seed: int,
                      chunk: int = 256) -> dict:
    """Add the group effects (``r_0``) — and the missing outcomes — of a marginalized model, drawn from
    their exact conditional distribution given each posterior draw of the other parameters.

    Per group, with v = L^-1 u: v | rest ~ N(B^-1 w, sigma^2 B^-1) (see :func:`marginal_log_likelihood`).
    Internal units, as the sampler's draws; the leading (chain, draw) dims are kept.
    """
    block = spec.random[0]
    sufficient = arrays.sufficient
    lead = np.shape(constrained["sigma"])
    samples = int(np.prod(lead))

    def flat(name):
        return np.asarray(constrained[name]).reshape((samples,) + np.shape(constrained[name])[len(lead):])

    q = block.size
    parts = []
    if spec.intercept:
        parts.append(flat("Intercept")[:, None])
    if spec.fixed:
        parts.append(flat("b"))
    coefficients = np.concatenate(parts, axis=1) if parts else np.zeros((samples, 0))
    sd = np.stack([flat(f"sd_0_{k}") for k in range(q)], axis=-1)
    scale_tril = sd[:, :, None] * flat("L_0") if block.has_correlations else sd[:, :, None] * np.eye(q)
    sigma = flat("sigma")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7411]))
    effects = np.empty((samples,) + sufficient["Zr"].shape)
    ZZ = [[sufficient["ZZ"][None, :, k, j] for j in range(q)] for k in range(q)]
    for start in range(0, samples, chunk):
        part = slice(start, min(start + chunk, samples))
        L, variance = scale_tril[part], sigma[part, None] ** 2
        Zres = sufficient["Zr"][None] - np.einsum("gqa,sa->sgq", sufficient["ZA"], coefficients[part])
        tril = [[L[:, k, m, None] for m in range(q)] for k in range(q)]
        w, cholesky = _group_algebra(ZZ, [Zres[..., k] for k in range(q)], tril, variance)
        # v = C'^-1 (C^-1 w + sigma z) has mean B^-1 w and covariance sigma^2 B^-1
        z = rng.standard_normal((q,) + Zres.shape[:2])
        v = _backward(cholesky, [value + np.sqrt(variance) * z[k] for k, value in enumerate(_forward(cholesky, w))])
        effects[part] = np.stack([sum(tril[k][m] * v[m] for m in range(q)) for k in range(q)], axis=-1)
    result = dict(constrained)
    result["r_0"] = effects.reshape(lead + effects.shape[1:])
    if spec.outcome_latent:
        rows = np.asarray(arrays.missing["outcome"])
        X = np.asarray(arrays.X)[rows]
        A = np.concatenate([np.ones((rows.size, 1)), X], axis=1) if spec.intercept else X
        mean = coefficients @ A.T + (0.0 if arrays.offset is None else np.asarray(arrays.offset)[rows])
        groups = np.asarray(arrays.group_index[0])[rows]
        mean = mean + np.einsum("srq,rq->sr", effects[:, groups, :], np.asarray(arrays.Z[0])[rows])
        latent = mean + sigma[:, None] * rng.standard_normal(mean.shape)
        result["missing_outcome"] = latent.reshape(lead + latent.shape[1:])
    return result


def traced_sites(model, arrays: ModelArrays, constrained: dict, names: list[str], chunk: int = 250) -> dict:
    """Deterministic sites of the model recomputed at every posterior draw: name → (samples, ...)."""
    lead = np.shape(constrained[next(iter(constrained))])[:2]
    samples = int(np.prod(lead))
    sites = {name: np.asarray(value).reshape((samples,) + np.shape(value)[2:]) for name, value in constrained.items()}

    def values_at(draw):
        traced = handlers.trace(handlers.substitute(handlers.seed(model, 0), data=draw)).get_trace(arrays)
        return {name: traced[name]["value"] for name in names}

    with jax.enable_x64(True):
        compute = jax.jit(jax.vmap(values_at))
        parts = [compute({name: value[start:start + chunk] for name, value in sites.items()})
                 for start in range(0, samples, chunk)]
    return {name: np.concatenate([np.asarray(part[name]) for part in parts]) for name in names}


def draw_latent_means(plan: Blueprint, model, arrays: ModelArrays, constrained: dict) -> dict:
    """Add ``latent mean <x>`` (chain, draw, clusters), in the data's units, to the draws."""
    names = [f"latent mean {sub.name}" for sub in plan.submodels if sub.latent_mean]
    if not names:
        return constrained
    lead = np.shape(constrained[next(iter(constrained))])[:2]
    result = dict(constrained)
    for name, value in traced_sites(model, arrays, constrained, names).items():
        result[name] = value.reshape(lead + value.shape[1:])
    return result


def draw_discrete(plan: Blueprint, model, arrays: ModelArrays, constrained: dict, seed: int) -> dict:
    """Draw the missing values of discrete variables, which the sampler summed out.

    For each posterior draw, the model gives each cluster's log weight of every combination of the
    missing level-2 categories (``cluster log weights``) and every row's log weight of each combination of
    the missing level-1 categories (``discrete log weights``, per level-2 combination when there are
    level-2 ones). A level-2 combination is drawn per cluster, then a level-1 combination per row given
    its cluster's (Gumbel-max). Adds ``missing_<name>`` (category values; codes for nominal variables).
    """
    row_discrete, row_configurations = discrete_configurations(plan, level=1)
    cluster_discrete, cluster_configurations = discrete_configurations(plan, level=2)
    if not row_discrete and not cluster_discrete:
        return constrained
    lead = np.shape(constrained[next(iter(constrained))])[:2]
    names = (["cluster log weights"] if cluster_discrete else []) + (["discrete log weights"] if row_discrete else [])
    traced = traced_sites(model, arrays, constrained, names)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2207]))
    result = dict(constrained)

    def store(chosen_codes, discrete):
        for position, (j, sub) in enumerate(discrete):
            categories = np.asarray(arrays.constants[f"submodel {j}"]["categories"])
            count = int(arrays.missing[f"{sub.name} count"])
            codes = chosen_codes[position](np.asarray(arrays.missing[sub.name])[:count])
            result[f"missing_{sub.name}"] = categories[codes].reshape(lead + (codes.shape[-1],))

    cluster_choice = None
    if cluster_discrete:
        weights = traced["cluster log weights"]  # (samples, level-2 combinations, clusters)
        cluster_choice = np.argmax(weights + rng.gumbel(size=weights.shape), axis=1)  # (samples, clusters)
        table = np.asarray(cluster_configurations)
        store([lambda missing, p=p: table[cluster_choice[:, missing], p] for p in range(len(cluster_discrete))],
              cluster_discrete)
    if row_discrete:
        weights = traced["discrete log weights"]
        rows = np.asarray(arrays.missing["discrete rows"])[:int(arrays.missing["discrete rows count"])]
        weights = weights[..., :rows.size]
        if cluster_discrete:  # (samples, level-2 combinations, level-1 combinations, rows): take each row's
            chosen_cluster = cluster_choice[:, np.asarray(arrays.group_index[0])[rows]]  # (samples, rows)
            weights = np.take_along_axis(weights, chosen_cluster[:, None, None, :], axis=1)[:, 0]
        chosen = np.argmax(weights + rng.gumbel(size=weights.shape), axis=1)  # (samples, rows)
        table = np.asarray(row_configurations)
        store([lambda missing, p=p: table[chosen[:, np.searchsorted(rows, missing)], p]
               for p in range(len(row_discrete))], row_discrete)
    return result


def _nominal_user_units(j: int, submodel, constrained: dict) -> dict:
    """Per category after the first: intercept (..., K-1), coefficients (..., p, K-1), SDs; imputed codes."""
    name = submodel.outcome
    out = {}
    intercept = np.asarray(constrained[f"{name} ~ Intercept"])
    if submodel.columns:
        coefficients = np.asarray(constrained[f"{name} ~ b"]) / np.asarray(submodel.column_sds)[:, None]
        out[f"submodel {j} b"] = coefficients
        intercept = intercept - np.einsum("p,...pk->...k", np.asarray(submodel.column_means), coefficients)
    out[f"submodel {j} Intercept"] = intercept
    if submodel.factor is not None:
        out[f"submodel {j} sd"] = np.asarray(constrained[f"{name} ~ sd"])
    if submodel.missing_count:
        out[f"imputed {name}"] = np.asarray(constrained[f"missing_{name}"])
    return out


def to_user_units(spec: ModelSpec, constrained: dict[str, np.ndarray],
                  outcome_missing: int | None = None, data: ModelData | None = None) -> dict[str, np.ndarray]:
    """Internal constrained draws (leading sample dims) → parameters in the data's units.

    ``data`` (the fitted rows) is needed when group-level predictors were absorbed into a block.

    Returns ``Intercept`` (...), ``b`` (..., p), ``sigma`` (...), and per block i: ``sd_i``
    (..., q), ``cor_i`` (..., q, q), ``r_i`` (..., groups, q).
    """
    scaling = spec.scaling
    gaussian = spec.family.kind.standardized
    location = scaling.outcome_location if gaussian else 0.0
    scale = scaling.outcome_scale if gaussian else 1.0
    out: dict[str, np.ndarray] = {}
    sds = np.asarray(scaling.column_sds)
    if spec.fixed:
        out["b"] = np.asarray(constrained["b"]) * scale / sds
    plan = absorption(spec)
    designs = {}
    if any(plan.group_level):
        if data is None:
            raise ValueError("to_user_units needs the fitted rows (data=) when group-level predictors "
                             "are part of a block's mean")
        designs = group_designs(spec, internal_design(spec, data), data.group_index)
    internal_means = internal_column_means(spec)
    if spec.intercept:
        intercept = location + scale * np.asarray(constrained["Intercept"])
        out["Intercept"] = intercept - (out["b"] @ internal_means if spec.fixed else 0.0)
    for i, (block, column_sds) in enumerate(zip(spec.random, scaling.random_column_sds)):
        unit = scale / np.asarray(column_sds)
        sd_internal = np.stack([np.asarray(constrained[f"sd_{i}_{k}"]) for k in range(block.size)], axis=-1)
        out[f"sd_{i}"] = sd_internal * unit
        if block.has_correlations:
            cholesky = np.asarray(constrained[f"L_{i}"])
            out[f"cor_{i}"] = cholesky @ np.swapaxes(cholesky, -1, -2)
        else:
            out[f"cor_{i}"] = np.broadcast_to(np.eye(block.size), sd_internal.shape + (block.size,)).copy()
        if block.parameterization == "noncentered":
            z = np.asarray(constrained[f"z_{i}"])
            if block.has_correlations:
                scale_tril = sd_internal[..., :, None] * np.asarray(constrained[f"L_{i}"])
                effects = np.einsum("...gk,...jk->...gj", z, scale_tril)
            else:
                effects = z * sd_internal[..., None, :]
        else:
            effects = np.array(constrained[f"r_{i}"])
            for k, source in enumerate(plan.sources[i]):  # group coefficients → deviations
                if source == "intercept":
                    effects[..., k] -= np.asarray(constrained["Intercept"])[..., None]
                elif isinstance(source, int):
                    factor = column_sds[k] / sds[source]
                    effects[..., k] -= np.asarray(constrained["b"])[..., source, None] * factor
            if i in designs:
                coefficients = np.asarray(constrained["b"])[..., list(plan.group_level[i])]
                effects[..., [c.is_intercept for c in block.columns].index(True)] -= coefficients @ designs[i].T
        out[f"r_{i}"] = effects * unit
    if spec.family.has_residual_sd:
        out["sigma"] = np.asarray(constrained["sigma"]) * scale
    for parameter in spec.family.kind.parameters:  # no units
        out[parameter.name] = np.asarray(constrained[parameter.name])
    for j, submodel in enumerate(spec.submodels):
        name, location, unit = submodel.outcome, submodel.location, submodel.scale
        if submodel.family == "nominal":
            out.update(_nominal_user_units(j, submodel, constrained))
            continue
        intercept = location + unit * np.asarray(constrained[f"{name} ~ Intercept"])
        if submodel.columns:
            coefficients = np.asarray(constrained[f"{name} ~ b"]) * unit / np.asarray(submodel.column_sds)
            out[f"submodel {j} b"] = coefficients
            intercept = intercept - coefficients @ np.asarray(submodel.column_means)
        out[f"submodel {j} Intercept"] = intercept
        if submodel.family == "gaussian":
            out[f"submodel {j} sigma"] = np.asarray(constrained[f"{name} ~ sigma"]) * unit
        if submodel.family == "ordinal" and len(submodel.categories) > 2:
            out[f"submodel {j} thresholds"] = np.cumsum(np.asarray(constrained[f"{name} ~ threshold steps"]),
                                                        axis=-1)
        if submodel.factor is not None:
            out[f"submodel {j} sd"] = np.asarray(constrained[f"{name} ~ sd"]) * unit
            if submodel.level == 1 and f"{name} ~ z" in constrained:  # the clusters' random intercepts
                out[f"submodel {j} effects"] = (np.asarray(constrained[f"{name} ~ z"])
                                                * out[f"submodel {j} sd"][..., None])
        if submodel.missing_count:
            out[f"imputed {name}"] = location + unit * np.asarray(constrained[f"missing_{name}"])[
                ..., :submodel.missing_count]
    if spec.outcome_latent:
        imputed = np.asarray(constrained["missing_outcome"])
        out[f"imputed {spec.response.name}"] = location + scale * (imputed if outcome_missing is None else
                                                                   imputed[..., :outcome_missing])
    for name, value in constrained.items():  # already in the data's units
        if name.startswith("latent mean "):
            out[name] = np.asarray(value)
    return out
