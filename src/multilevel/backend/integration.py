"""Missing normal values integrated out of the log density, row by row, and drawn afterwards.

The block's members are the level-1 normal regressions (the variables w_1..w_K-1, standardized) and the
Gaussian focal outcome (internal units), each w_k = f_k(w) + e_k with e_k ~ N(0, 1/d_k), where f_k is
affine in w given the parameters and random effects and uses only earlier members (the models factor
the joint density). So w ~ N(mu, Q^-1) with Q = G' diag(d) G, G = I - df/dw, and det G = 1.

Per row, with the missing entries m and the observed o, and w* the row's values with w_m at its
conditional mean given w_o (one Newton step from any fill, the density being quadratic):

    log p(w_o) = log p(w*) + |m|/2 log(2 pi) - 1/2 log det Q_mm

where log p(w*) is the members' own normal log densities at w*. The coefficients df/dw are the models'
coefficients times the derivatives of their design columns (:func:`multilevel.model.expressions.derivative`,
exact: the columns are affine in the members, so their derivatives are functions of the other values).
A probit selection model R = 1[g(w) + e > 0], g affine, averages to Phi(+-g(w*) / sqrt(1 + c' Q_mm^-1 c)),
c = dg/dw_m.

Afterwards, per posterior draw, w_m is drawn from N(w*_m, Q_mm^-1) and, with a selection model,
conditioned on R through its latent R* (a truncated normal; Matheron's update). The small K x K algebra
is written out over lists of (rows,) arrays (as in :mod:`multilevel.backend.marginal_likelihood`), with
structural zeros (Python 0.0) where a model does not read a member, so no operation is written for them.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from collections.abc import Callable

import jax
import jax.numpy as jnp

from ..model import expressions as E
from .integration_plan import IntegratedBlock
from .likelihood import special_functions
from .model_arrays import LOG_2PI
from .random_effects import structure_named
from .submodels import submodel_mean, submodel_observed, submodel_rows

_SPECIAL = special_functions(jnp)


class BlockAlgebra(NamedTuple):
    """One row-wise conditioning of the block (lists over members of (rows,) arrays)."""

    mode: list  # w*: observed entries as observed, missing ones at their conditional mean
    missing: list  # 1.0 where the entry is missing
    cholesky: list  # of Q_mm (identity on observed entries)
    joint: Any  # log p(w*) per row
    selection_mean: Any  # g(w*) per row (None without a selection model)
    selection_slope: list | None  # c = dg/dw, zero on observed entries


def _start(focal, values: dict, block: IntegratedBlock):
    """The members' values (standardized; the focal outcome in internal units) with 0 where missing, and
    the missing mask, each (rows, K)."""
    plan, arrays = focal.plan, focal.arrays
    mask = jnp.asarray(arrays.missing["integrated"])
    columns = []
    for j in block.members:
        constants = arrays.constants[f"submodel {j}"]
        columns.append((jnp.asarray(values[plan.submodels[j].name]) - constants["location"]) / constants["scale"])
    if block.focal:
        columns.append(jnp.asarray(focal.y))
    return jnp.where(mask > 0, 0.0, jnp.stack(columns, axis=-1)), mask


def _means(focal, values: dict, block: IntegratedBlock, eta_of: Callable, w):
    """The members' means (a list of (rows,) arrays) and the selection model's linear predictor (None
    without one) at w."""
    plan, arrays = focal.plan, focal.arrays
    rows = arrays.y.shape[0]
    current = dict(values)
    for k, (name, location, scale) in enumerate(_member_units(focal, block)):
        current[name] = location + scale * w[:, k]
    means = [jnp.broadcast_to(submodel_mean(plan, arrays, j, current, focal.submodel_parameters), (rows,))
             for j in block.members]
    if block.focal:
        means.append(jnp.broadcast_to(eta_of(current), (rows,)))
    selection = (jnp.broadcast_to(submodel_mean(plan, arrays, block.selection, current, focal.submodel_parameters),
                                  (rows,)) if block.selection is not None else None)
    return means, selection


def _member_units(focal, block: IntegratedBlock) -> list[tuple]:
    """Per member: its name among the values, and the location and scale of its units there."""
    plan, constants = focal.plan, focal.arrays.constants
    units = [(plan.submodels[j].name, constants[f"submodel {j}"]["location"], constants[f"submodel {j}"]["scale"])
             for j in block.members]
    if block.focal:
        units.append((focal.outcome_name, constants["outcome location"], constants["outcome scale"]))
    return units


def _column_slopes(columns, units: list, values: dict, rows: int) -> list[list]:
    """d column / d (the member's variable, in the data's units) per (member, column): (rows,) arrays, or
    None where the column does not involve it (``_weighted`` then multiplies by the member's scale). Exact:
    the columns are affine in the members, so the derivatives are functions of other values."""
    result = []
    for name, _, _ in units:
        row = []
        for expression in columns:
            slope = E.derivative(E.rewrite(expression, _latent_as_parameter), name)
            row.append(None if slope == E.ZERO else jnp.broadcast_to(slope.evaluate(values, jnp), (rows,)))
        result.append(row)
    return result


def _latent_as_parameter(node):
    return E.Variable(E.latent_key(node.name)) if isinstance(node, E.LatentGroupMean) else node


def _weighted(slopes: list, weights, scale) -> Any:
    """sum over columns of slope * weight, times the member's scale (0.0 when no column involves it)."""
    terms = [slope * weight for slope, weight in zip(slopes, weights) if slope is not None]
    return scale * sum(terms) if terms else 0.0


def _submodel_slopes(focal, values: dict, j: int, units: list) -> list:
    """d (submodel j's linear predictor) / d w_m per member m."""
    plan, arrays = focal.plan, focal.arrays
    sub = plan.submodels[j]
    if not sub.expressions:
        return [0.0] * len(units)
    constants = arrays.constants[f"submodel {j}"]
    weights = [focal.submodel_parameters[j]["b"][c] / constants["sds"][c] for c in range(len(sub.expressions))]
    slopes = _column_slopes(sub.expressions, units, values, arrays.y.shape[0])
    return [_weighted(row, weights, scale) for row, (_, _, scale) in zip(slopes, units)]


def _focal_slopes(focal, values: dict, units: list) -> list:
    """d (the focal linear predictor, internal units) / d w_m per member m: through its fixed columns that
    involve imputed values and through its random slopes on them."""
    plan, arrays = focal.plan, focal.arrays
    rows = arrays.y.shape[0]
    constants = arrays.constants
    total = [0.0] * len(units)
    # a fixed column whose coefficient is a centred block's mean enters through that block's effects
    free = [(position, k, expression) for position, (k, expression) in enumerate(plan.dynamic_fixed)
            if k in plan.free]
    if free:
        weights = [focal.fixed.coefficients[k] / constants["dynamic sds"][position] for position, k, _ in free]
        slopes = _column_slopes([expression for _, _, expression in free], units, values, rows)
        total = [t + _weighted(row, weights, scale) for t, row, (_, _, scale) in zip(total, slopes, units)]
    for block in focal.blocks:
        columns = plan.dynamic_random[block.block] if plan.dynamic_random else ()
        if not columns:
            continue
        part = structure_named(plan.blocks[block.block].structure).random_part(arrays.Z[block.block], block.rows,
                                                                               block.direct)
        sds = constants[f"random sds {block.block}"]
        weights = [part.effects[:, k] / sds[k] for k, _ in columns]
        slopes = _column_slopes([expression for _, expression in columns], units, values, rows)
        total = [t + _weighted(row, weights, scale) for t, row, (_, _, scale) in zip(total, slopes, units)]
    return total


def _zero(value) -> bool:
    """A structural zero: a Python number 0 (no array operation is written for it)."""
    return isinstance(value, (int, float)) and value == 0


def _times(*factors):
    if any(_zero(factor) for factor in factors):
        return 0.0
    product = factors[0]
    for factor in factors[1:]:
        product = product * factor
    return product


def _plus(*terms):
    kept = [term for term in terms if not _zero(term)]
    if not kept:
        return 0.0
    total = kept[0]
    for term in kept[1:]:
        total = total + term
    return total


def _cholesky(matrix):
    """The lower Cholesky factor of a small matrix of (rows,) arrays and structural zeros (Banachiewicz)."""
    q = len(matrix)
    factor = [[0.0] * q for _ in range(q)]
    for i in range(q):
        for j in range(i + 1):
            total = _plus(matrix[i][j], *[_negated(_times(factor[i][k], factor[j][k])) for k in range(j)])
            factor[i][j] = total ** 0.5 if i == j else (0.0 if _zero(total) else total / factor[j][j])
    return factor


def _forward(factor: list, vector: list) -> list:
    """Solve C x = vector (C lower triangular)."""
    solved: list = []
    for i in range(len(factor)):
        total = _plus(vector[i], *[_negated(_times(factor[i][k], solved[k])) for k in range(i)])
        solved.append(0.0 if _zero(total) else total / factor[i][i])
    return solved


def _backward(factor: list, vector: list) -> list:
    """Solve C' x = vector."""
    q = len(factor)
    solved: list = [0.0] * q
    for i in reversed(range(q)):
        total = _plus(vector[i], *[_negated(_times(factor[k][i], solved[k])) for k in range(i + 1, q)])
        solved[i] = 0.0 if _zero(total) else total / factor[i][i]
    return solved


def _negated(value):
    return 0.0 if _zero(value) else -value


def block_algebra(focal, values: dict, block: IntegratedBlock, eta_of: Callable) -> BlockAlgebra:
    plan = focal.plan
    start, mask = _start(focal, values, block)
    K = start.shape[-1]
    rows = start.shape[0]
    means, selection = _means(focal, values, block, eta_of, start)
    units = _member_units(focal, block)
    # slopes[k][m] = d mean_k / d w_m (structural zeros where a model does not read a member)
    slopes = [_submodel_slopes(focal, values, j, units) for j in block.members]
    if block.focal:
        slopes.append(_focal_slopes(focal, values, units))
    sds = [plan.submodels[j].kind.residual_sd(focal.submodel_parameters[j]) for j in block.members]
    if block.focal:
        sds.append(focal.sigma)
    precision = [1.0 / sd ** 2 for sd in sds]
    # a member without missing values anywhere is a structural zero of the mask
    missing = [mask[:, k] if name in block.names else 0.0 for k, (name, _, _) in enumerate(units)]
    G = [[_plus(1.0 if k == m else 0.0, _negated(slopes[k][m])) for m in range(K)] for k in range(K)]
    residual = [start[:, k] - means[k] for k in range(K)]

    def Q(k, m):
        return _plus(*[_times(G[n][k], precision[n], G[n][m]) for n in range(K)])

    Qm = [[_plus(_times(Q(k, m), missing[k], missing[m]), _plus(1.0, _negated(missing[k])) if k == m else 0.0)
           for m in range(K)] for k in range(K)]
    gradient = [_negated(_times(_plus(*[_times(G[n][k], precision[n], residual[n]) for n in range(K)]), missing[k]))
                for k in range(K)]
    cholesky = _cholesky(Qm)
    shift = _backward(cholesky, _forward(cholesky, gradient))
    at_mode = [_plus(residual[n], *[_times(G[n][m], shift[m]) for m in range(K)]) for n in range(K)]
    joint = sum(-0.5 * precision[n] * at_mode[n] ** 2 + 0.5 * jnp.log(precision[n]) - 0.5 * LOG_2PI
                for n in range(K))
    mode = [_plus(start[:, k], shift[k]) for k in range(K)]
    cholesky = [[jnp.broadcast_to(entry, (rows,)) for entry in row] for row in cholesky]
    selection_mean = slope = None
    if block.selection is not None:
        assert selection is not None  # computed with the selection model
        slope = [_times(value, missing[m])
                 for m, value in enumerate(_submodel_slopes(focal, values, block.selection, units))]
        selection_mean = _plus(selection, *[_times(slope[m], shift[m]) for m in range(K)])
        slope = [jnp.broadcast_to(value, (rows,)) for value in slope]
    return BlockAlgebra(mode, [jnp.broadcast_to(value, (rows,)) for value in missing], cholesky, joint,
                        selection_mean, slope)


def integrated_rows(focal, values: dict, block: IntegratedBlock, eta_of: Callable):
    """Per row: the log density of the row's observed block values with its missing ones integrated out,
    plus every other level-1 submodel's (``eta_of(values)``: the focal linear predictor). Without the
    focal model's own when it is not a member (the caller adds it: it does not read the block)."""
    plan, arrays = focal.plan, focal.arrays
    algebra = block_algebra(focal, values, block, eta_of)
    K = len(algebra.mode)
    total = (algebra.joint + 0.5 * LOG_2PI * sum(algebra.missing)
             - sum(jnp.log(algebra.cholesky[k][k]) for k in range(K)))
    skip = frozenset(block.members) | ({block.selection} if block.selection is not None else frozenset())
    total = total + submodel_rows(plan, arrays, values, focal.submodel_parameters, 1, skip)
    if block.selection is not None:
        assert algebra.selection_slope is not None  # set with the selection model
        whitened = _forward(algebra.cholesky, algebra.selection_slope)
        variance = sum(value ** 2 for value in whitened)
        sub = plan.submodels[block.selection]
        total = total + sub.kind.integrated_row_log_density(
            submodel_observed(plan, arrays, block.selection, values), algebra.selection_mean, variance, jnp, _SPECIAL)
    return total


def draw_block(focal, values: dict, block: IntegratedBlock, eta_of: Callable, key):
    """One draw of the block's values (rows, K) given the parameters: observed entries as observed, missing
    ones from their conditional distribution given the row's observed values (and its missingness
    indicator, when a selection model reads them)."""
    plan, arrays = focal.plan, focal.arrays
    algebra = block_algebra(focal, values, block, eta_of)
    K = len(algebra.mode)
    normal, residual, uniform = jax.random.split(key, 3)
    rows = algebra.mode[0].shape[0]
    z = jax.random.normal(normal, (K, rows))
    # u ~ N(0, Q_mm^-1): Q_mm = C C', u = C'^-1 z
    u = [value * miss for value, miss in zip(_backward(algebra.cholesky, list(z)), algebra.missing)]
    if block.selection is not None:
        assert algebra.selection_slope is not None  # set with the selection model
        slope = algebra.selection_slope
        whitened = _forward(algebra.cholesky, slope)
        variance = sum(value ** 2 for value in whitened)
        covariance = _backward(algebra.cholesky, whitened)  # Q_mm^-1 c = Cov(u, c'u)
        latent = sum(slope[m] * u[m] for m in range(K)) + jax.random.normal(residual, (rows,))
        sub = plan.submodels[block.selection]
        target = sub.kind.selection_latent(submodel_observed(plan, arrays, block.selection, values),
                                           algebra.selection_mean, variance,
                                           jax.random.uniform(uniform, (rows,), minval=jnp.finfo(z.dtype).tiny),
                                           jnp, _SPECIAL)
        u = [u[m] + covariance[m] * algebra.missing[m] * (target - latent) / (1.0 + variance) for m in range(K)]
    return jnp.stack([algebra.mode[k] + u[k] for k in range(K)], axis=-1)
