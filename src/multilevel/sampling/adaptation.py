"""Stan's windowed warmup (dual-averaging step size, Welford mass matrix) with its settings as data.

NumPyro's ``warmup_adapter`` bakes the number of warmup iterations (its window schedule) and the target
acceptance rate into the compiled program, so a fit with another ``warmup`` or ``target_accept`` compiled
NUTS again. Here the same update is written over NumPyro's own pieces (``dual_averaging``,
``welford_covariance``, ``build_adaptation_schedule``) with the schedule, its length, the number of warmup
iterations and the target as arrays (:class:`Adaptation`), which the compiled program takes as inputs.
The kernel itself is initialised with ``num_warmup=0`` (it then never adapts on its own) and this update
is applied after each warmup transition, as NumPyro applies its own: the arithmetic is the same, so the
draws are the same as with NumPyro's adapter (tests/unit/test_adaptation.py).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from .. import _numpyro  # noqa: F401  (first: a lazy numpyro left by ArviZ is loaded for real)
from jax import lax
from numpyro.infer.hmc_util import build_adaptation_schedule, dual_averaging, welford_covariance

MAX_WINDOWS = 24  # windows double in length: 24 cover any warmup a run could have


class Adaptation(NamedTuple):
    """The warmup's settings as arrays: inputs of the compiled program, never part of its key."""

    schedule: np.ndarray  # (MAX_WINDOWS, 2) start and end iteration of each window; unused rows (-1, -1)
    windows: np.ndarray  # how many rows of schedule are used
    warmup: np.ndarray  # warmup iterations
    target_accept: np.ndarray


def adaptation(warmup: int, target_accept: float) -> Adaptation:
    windows = build_adaptation_schedule(warmup)
    if len(windows) > MAX_WINDOWS:  # pragma: no cover - would need a warmup of about 25 * 2^24 iterations
        raise ValueError(f"warmup {warmup} needs {len(windows)} adaptation windows; at most {MAX_WINDOWS}")
    schedule = np.full((MAX_WINDOWS, 2), -1, dtype=np.int64)
    schedule[:len(windows)] = [(window.start, window.end) for window in windows]
    # NumPy arrays of fixed dtypes: the compiled program's inputs keep one signature whatever the values
    return Adaptation(schedule, np.asarray(len(windows), dtype=np.int64), np.asarray(warmup, dtype=np.int64),
                      np.asarray(target_accept, dtype=np.float64))


def adapted(t, accept_prob, z, state, settings: Adaptation, dense_mass: bool):
    """The adapt state after warmup iteration ``t`` (its transition's acceptance probability and new
    position ``z``): NumPyro's ``warmup_adapter`` update with step-size and mass-matrix adaptation, the
    mass matrix regularized, and no step-size search at window ends."""
    ss_init, ss_update = dual_averaging()
    mm_init, mm_update, mm_final = welford_covariance(diagonal=not dense_mass)
    step_size, inverse_mass_matrix, mass_matrix_sqrt, mass_matrix_sqrt_inv, ss_state, mm_state, window, key = state

    ss_state = ss_update(settings.target_accept - accept_prob, ss_state)
    log_step_size, log_step_size_avg, *_ = ss_state
    step_size = jnp.where(t == settings.warmup - 1, jnp.exp(log_step_size_avg), jnp.exp(log_step_size))
    finfo = jnp.finfo(jnp.result_type(step_size))
    step_size = jnp.clip(step_size, finfo.tiny, finfo.max)

    middle = (0 < window) & (window < settings.windows - 1)
    mm_state = lax.cond(middle, lambda args: mm_update(*args), lambda args: args[1], (z, mm_state))
    at_end = t == settings.schedule[window, 1]
    window = jnp.where(at_end, window + 1, window)
    state = type(state)(step_size, inverse_mass_matrix, mass_matrix_sqrt, mass_matrix_sqrt_inv, ss_state, mm_state,
                        window, key)

    def window_end(state):
        inverse, sqrt, sqrt_inv = mm_final(state.mm_state, regularize=True)
        size = ({name: value.shape for name, value in inverse.items()} if isinstance(inverse, dict)
                else inverse.shape[-1])
        return state._replace(inverse_mass_matrix=inverse, mass_matrix_sqrt=sqrt, mass_matrix_sqrt_inv=sqrt_inv,
                              mm_state=mm_init(size), ss_state=ss_init(jnp.log(10) + jnp.log(state.step_size)))

    return lax.cond(at_end & middle, window_end, lambda state: state, state)
