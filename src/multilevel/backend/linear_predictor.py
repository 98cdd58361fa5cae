"""The linear predictor of the focal model, written once for NumPy and for JAX arrays.

    eta = offset + X b + intercept + sum over blocks and their columns of Z[:, k] * u[group(row), k]

The same function serves the compiled model (internal units, one parameter vector, ``xp=jax.numpy``)
and every analysis after sampling (the data's units, a leading dimension of draws, ``xp=numpy``):
prediction, replicated data, the pointwise log-likelihood behind LOO/WAIC, the marginal likelihood of
imputed predictors. :func:`with_columns` recomputes the design columns that involve imputed variables,
for the sampler and for each draw's completed data (and the variance decomposition) alike.

The caller passes the namespace; nothing here imports JAX, so NumPy callers never load it. Shapes:
``design`` (..., rows, p), ``coefficients`` (..., p), ``intercept`` and ``offset`` broadcastable to
(..., rows), and per block a :class:`RandomPart` with ``design`` (..., rows, q) and the rows' group
effects (..., rows, q).
"""

from __future__ import annotations

from typing import Any, NamedTuple
from collections.abc import Sequence

import numpy as np


class RandomPart(NamedTuple):
    """One random-effect block's share of the linear predictor."""

    design: Any  # (..., rows, q): the block's columns (Z), a NumPy or JAX array
    effects: Any  # (..., rows, q): each row's group effects
    direct: tuple[bool, ...] = ()  # per column: True where the column is the constant 1 (a random intercept),
    #                                whose effects enter as they are; empty for none


def row_effects(effects, group_index):
    """Group effects (..., groups, q) → each row's (..., rows, q)."""
    return effects[group_index] if effects.ndim == 2 else effects[..., group_index, :]


def fixed_part(design, coefficients, xp, free=None):
    """X b: ``free`` (column positions) restricts it to the columns that enter row by row."""
    if free is not None:
        design, coefficients = design[..., free], coefficients[..., free]
    if coefficients.ndim == 1:
        return design @ coefficients
    if design.ndim == 2:  # one design for every draw
        return coefficients @ design.T
    return xp.einsum("...np,...p->...n", design, coefficients)


def random_part(eta, part: RandomPart):
    """``eta`` plus one block's effects, column by column."""
    direct = part.direct or (False,) * part.effects.shape[-1]
    for k, is_intercept in enumerate(direct):
        eta = eta + (part.effects[..., k] if is_intercept else part.design[..., k] * part.effects[..., k])
    return eta


def linear_predictor(xp, *, design=None, coefficients=None, intercept=None, offset=None,
                     random: Sequence[RandomPart] = (), free=None):
    """offset + X b + intercept + random effects; each part is left out when it is None (or, for ``free``,
    empty). With neither offset, fixed part nor random effects the result is a scalar or the intercept's
    shape: callers that need (..., rows) broadcast it."""
    eta = 0.0 if offset is None else offset
    if coefficients is not None and (free is None or len(free)):
        eta = eta + fixed_part(design, coefficients, xp, free)
    if intercept is not None:
        eta = eta + intercept
    for part in random:
        eta = random_part(eta, part)
    return eta


def with_columns(xp, design, columns: Sequence[tuple], values: dict, location=None, scale=None):
    """``design`` (..., rows, columns) with the listed columns ((position in the design, expression), ...)
    recomputed at ``values``; the i-th listed column then minus ``location[i]`` and divided by ``scale[i]``
    (internal units) when they are given. NumPy designs are copied, JAX ones updated functionally."""
    if not columns:
        return design
    if xp is np:
        design = np.array(design, dtype=float)
    for position, (k, expression) in enumerate(columns):
        if xp is np:
            with np.errstate(all="ignore"):
                column = np.asarray(expression.evaluate(values, np), dtype=float)
        else:
            column = expression.evaluate(values, xp)
        column = xp.broadcast_to(column, design.shape[:-1])
        if location is not None:
            column = column - location[position]
        if scale is not None:
            column = column / scale[position]
        if xp is np:
            design[..., k] = column
        else:
            design = design.at[:, k].set(column) if design.ndim == 2 else design.at[..., k].set(column)
    return design
