"""The warmup with its settings as data (sampling/adaptation.py) takes the very steps NumPyro's own
warmup adapter takes: from the same start, the same positions and step sizes, iteration by iteration."""

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


def _ours(sampler, arrays, state, steps):
    @jax.jit
    def run(state, settings):
        def step(state, _):
            new = sampler._transition(state, arrays, settings)
            return new, (new.z, new.adapt_state.step_size)

        return jax.lax.scan(step, state, None, length=steps)[1]

    return run


def _numpyros(sampler, arrays, state, key, warmup, target, steps):
    init_kernel, sample_kernel = hmc(potential_fn_gen=sampler.potential_fn_gen, algo="NUTS")
    start = init_kernel(ParamInfo(state.z, state.potential_energy, state.z_grad), warmup, adapt_step_size=True,
                        adapt_mass_matrix=True, dense_mass=False, target_accept_prob=target, max_tree_depth=10,
                        model_args=(arrays,), rng_key=key)

    @jax.jit
    def run(state):
        def step(state, _):
            new = sample_kernel(state, model_args=(arrays,))
            return new, (new.z, new.adapt_state.step_size)

        return jax.lax.scan(step, state, None, length=steps)[1]

    return run(start)


@pytest.mark.parametrize(("warmup", "target"), [(160, 0.8), (15, 0.9)])
def test_the_warmup_as_data_takes_numpyros_steps(sampler_and_arrays, warmup, target):
    sampler, arrays = sampler_and_arrays
    steps = warmup + 20
    with jax.enable_x64(True):
        key = jax.random.key_data(jax.random.key(3))
        state, ok = jax.jit(sampler._init_one)(key, arrays)
        assert bool(ok)
        kernel_key = jax.random.split(key)[1]  # as _init_one splits it
        ours = _ours(sampler, arrays, state, steps)(state, adaptation(warmup, target))
        theirs = _numpyros(sampler, arrays, state, kernel_key, warmup, target, steps)
    (z_ours, step_ours), (z_theirs, step_theirs) = ours, theirs
    np.testing.assert_allclose(np.asarray(step_ours), np.asarray(step_theirs), rtol=1e-12)
    for name in z_theirs:
        np.testing.assert_allclose(np.asarray(z_ours[name]), np.asarray(z_theirs[name]), rtol=1e-10, atol=1e-12)
    # the step size is adapted during warmup only, and is then the dual-averaging mean
    assert len(set(np.asarray(step_ours)[warmup:].tolist())) == 1


def test_the_schedule_is_numpyros_padded_to_a_fixed_shape():
    settings = adaptation(1000, 0.8)
    windows = [tuple(row) for row in settings.schedule[:int(settings.windows)]]
    assert windows[0] == (0, 74) and windows[-1] == (950, 999) and settings.schedule.shape == (MAX_WINDOWS, 2)
    assert (settings.schedule[int(settings.windows):] == -1).all()
    assert [a.shape for a in adaptation(10, 0.95)] == [a.shape for a in settings]
    assert [a.dtype for a in settings] == [np.int64, np.int64, np.int64, np.float64]
