"""The warmup with its settings as data (sampling/adaptation.py) takes the very steps NumPyro's own
warmup adapter takes: from each of NumPyro's states, the same next position, step size and mass."""

import jax
import numpy as np
import pytest
from numpyro.infer.hmc import hmc
from numpyro.infer.util import ParamInfo

import multilevel as ml
from multilevel.backend.numpyro_model import blueprint, internal_arrays, make_model
from multilevel.sampling.adaptation import MAX_WINDOWS, adaptation
from multilevel.sampling.config import SamplerConfig
from multilevel.sampling.nuts import CompiledSampler


@pytest.fixture(scope="module")
def sampler_and_arrays():
    model = ml.Model("Reaction ~ Days + (1 | Subject)", ml.datasets.load("sleepstudy"))
    plan = blueprint(model.spec, model.data.outcome_observed)
    arrays = internal_arrays(model.spec, model.data)
    config = SamplerConfig(chains=1)
    return CompiledSampler(make_model(plan, model.spec.response.name), arrays, config), arrays


def _numpyros_chain(sampler, arrays, state, key, warmup, target, steps):
    """NumPyro's own NUTS with its own warmup adapter: the states before each of ``steps`` transitions and
    the last one (a list of steps + 1 states)."""
    init_kernel, sample_kernel = hmc(potential_fn_gen=sampler.potential_fn_gen, algo="NUTS")
    current = init_kernel(ParamInfo(state.z, state.potential_energy, state.z_grad), warmup, adapt_step_size=True,
                          adapt_mass_matrix=True, dense_mass=False, target_accept_prob=target, max_tree_depth=10,
                          model_args=(arrays,), rng_key=key)
    step = jax.jit(lambda s: sample_kernel(s, model_args=(arrays,)))
    states = [current]
    for _ in range(steps):
        states.append(step(states[-1]))
    return states


@pytest.mark.parametrize(("warmup", "target"), [(160, 0.8), (15, 0.9)])
def test_the_warmup_as_data_takes_numpyros_steps(sampler_and_arrays, warmup, target):
    """Each transition from NumPyro's state: ours (its kernel without adaptation, then the adaptation with
    the schedule and target as data) gives NumPyro's next position and adapted step size and mass. Compared
    one transition at a time, as a tree-building decision flipped by a rounding difference between the two
    compiled programs would make whole chains part ways."""
    sampler, arrays = sampler_and_arrays
    steps = warmup + 20
    with jax.enable_x64(True):
        key = jax.random.key_data(jax.random.key(3))
        state, ok = jax.jit(sampler._init_one)(key, arrays)
        assert bool(ok)
        kernel_key = jax.random.split(key)[1]  # as _init_one splits it
        theirs = _numpyros_chain(sampler, arrays, state, kernel_key, warmup, target, steps)
        settings = adaptation(warmup, target)
        ours = jax.jit(lambda s, settings: sampler._transition(s, arrays, settings))
        sizes = []
        for before, after in zip(theirs[:-1], theirs[1:]):
            mine = ours(before, settings)
            np.testing.assert_allclose(float(mine.adapt_state.step_size), float(after.adapt_state.step_size),
                                       rtol=1e-9)
            for name in after.z:
                np.testing.assert_allclose(np.asarray(mine.z[name]), np.asarray(after.z[name]), rtol=1e-8,
                                           atol=1e-10)
            for mass_ours, mass_theirs in zip(jax.tree.leaves(mine.adapt_state.inverse_mass_matrix),
                                              jax.tree.leaves(after.adapt_state.inverse_mass_matrix)):
                np.testing.assert_allclose(np.asarray(mass_ours), np.asarray(mass_theirs), rtol=1e-9)
            sizes.append(float(mine.adapt_state.step_size))
    # the step size is adapted during warmup only, and is then the dual-averaging mean
    assert len(set(sizes[warmup:])) == 1 and len(set(sizes[:warmup])) > 1


def test_the_schedule_is_numpyros_padded_to_a_fixed_shape():
    settings = adaptation(1000, 0.8)
    windows = [tuple(row) for row in settings.schedule[:int(settings.windows)]]
    assert windows[0] == (0, 74) and windows[-1] == (950, 999) and settings.schedule.shape == (MAX_WINDOWS, 2)
    assert (settings.schedule[int(settings.windows):] == -1).all()
    assert [a.shape for a in adaptation(10, 0.95)] == [a.shape for a in settings]
    assert [a.dtype for a in settings] == [np.int64, np.int64, np.int64, np.float64]
