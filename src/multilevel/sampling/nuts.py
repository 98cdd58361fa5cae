"""NUTS through NumPyro's functional HMC kernel, driven in compiled chunks.

One compiled function advances every chain by ``CHUNK`` iterations (``pmap`` over CPU
devices, ``vmap`` for several chains per device). Python loops over chunks, which gives a
progress bar with time remaining, separate warmup and sampling timings, and bounded
memory. The compiled functions are kept in :class:`CompiledSampler` and cached per model
structure, data shapes and the settings that shape the program (chains, tree depth, dense mass),
so repeated fits do not compile again: warmup, draws, thinning, the target acceptance rate and the
seed are inputs of the compiled program (the warmup's schedule through :mod:`.adaptation`). JAX's
persistent cache serves a new process running the same model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from .. import _numpyro  # noqa: F401  (first: a lazy numpyro left by ArviZ is loaded for real)
from numpyro.infer.hmc import hmc
from numpyro.infer.util import ParamInfo, get_potential_fn

from .._environment import enable_compilation_cache
from ..backend.log_density import sample_sites
from ..backend.site_names import is_population_site
from .adaptation import Adaptation, adaptation, adapted
from .config import SamplerConfig

CHUNK = 50
INIT_RADIUS = 2.0
INIT_ATTEMPTS = 100


@dataclass
class RawDraws:
    """Posterior draws (constrained, every site; unconstrained, the small sites) and sampler statistics,
    each with leading dims (chain, draw)."""

    unconstrained: dict  # of the small sites (at most WARMUP_SITE_LIMIT scalars), as the warmup draws
    constrained: dict
    stats: dict  # diverging, tree_depth, n_steps, energy, acceptance_rate, step_size, lp
    timings: dict  # compile, warmup, sampling seconds
    environment: list[str] = field(default_factory=list)  # fallbacks and notes
    warmup: dict = field(default_factory=dict)  # unconstrained warmup draws of the small sites (chain, draw, ...)


def _device_layout(chains: int) -> tuple[int, int, list[str]]:
    devices = jax.local_device_count()
    used = max(d for d in range(1, min(devices, chains) + 1) if chains % d == 0)
    notes = []
    if used < chains:
        cause = ("JAX was started before multilevel could ask for one CPU device per chain; import multilevel "
                 "before JAX, or set XLA_FLAGS=--xla_force_host_platform_device_count="
                 f"{chains}" if devices < chains else f"{chains} chains do not divide evenly over {devices} devices")
        notes.append(f"chains ran {chains // used} per device on {used} device(s) (vectorized, slower): {cause}")
    return used, chains // used, notes


class CompiledSampler:
    """Compiled NUTS for one model structure and data shapes; ``config`` gives the settings that shape the
    program (chains, tree depth, dense mass), the others come with each :meth:`run`."""

    def __init__(self, model, arrays, config: SamplerConfig):
        enable_compilation_cache()
        self.config = config
        self.devices, self.per_device, self.notes = _device_layout(config.chains)
        self.transforms, self.shapes = sample_sites(model, arrays)
        self.mass = mass_structure(config.dense_mass, self.shapes)
        self.potential_fn_gen, _ = get_potential_fn(model, self.transforms, dynamic_args=True)
        self._init_kernel, self._sample_kernel = hmc(potential_fn_gen=self.potential_fn_gen, algo="NUTS")
        self._compiled_init: Callable | None = None  # set by _ensure_compiled
        self._compiled_chunk: Callable | None = None
        self.compile_seconds = 0.0

    # -- the functions that get compiled -----------------------------------------------
    def _init_one(self, key, arrays):
        potential = self.potential_fn_gen(arrays)
        names = sorted(self.shapes)

        def propose(key):
            keys = jax.random.split(key, len(names))
            return {name: jax.random.uniform(k, self.shapes[name], minval=-INIT_RADIUS, maxval=INIT_RADIUS)
                    for name, k in zip(names, keys)}

        def attempt(key):
            z = propose(key)
            energy, gradient = jax.value_and_grad(potential)(z)
            finite = jnp.isfinite(energy)
            for leaf in jax.tree.leaves(gradient):
                finite = finite & jnp.all(jnp.isfinite(leaf))
            return z, energy, gradient, finite

        def body(carry):
            # the first attempt draws with the chain's key itself, later ones with keys split from it;
            # the potential and its gradient appear once in the program and are handed to the kernel
            count, key = carry[0], carry[1]
            next_key, subkey = jax.random.split(key)
            first = count == 0
            return (count + 1, jnp.where(first, key, next_key)) + attempt(jnp.where(first, key, subkey))

        init_key, kernel_key = jax.random.split(key)
        blank = {name: jnp.zeros(shape) for name, shape in self.shapes.items()}
        _, _, z, energy, gradient, ok = jax.lax.while_loop(
            lambda c: (c[0] < INIT_ATTEMPTS) & ~c[5], body,
            (0, init_key, blank, jnp.zeros(()), blank, jnp.asarray(False)))
        config = self.config
        # num_warmup=0: the kernel never adapts by itself; _transition applies the warmup (.adaptation)
        state = self._init_kernel(ParamInfo(z, energy, gradient), 0, adapt_step_size=True,
                                  adapt_mass_matrix=True, dense_mass=self.mass,
                                  max_tree_depth=config.max_tree_depth, model_args=(arrays,), rng_key=kernel_key)
        return state, ok

    def _transition(self, state, arrays, settings: Adaptation):
        """One NUTS transition, then (during warmup) the step size and mass matrix adapted, as NumPyro's
        own kernel would with ``num_warmup`` iterations of warmup."""
        new = self._sample_kernel(state, model_args=(arrays,))
        adapt = jax.lax.cond(state.i < settings.warmup,
                             lambda current: adapted(state.i, new.accept_prob, new.z, current, settings,
                                                     self.mass),
                             lambda current: current, new.adapt_state)
        return new._replace(adapt_state=adapt)

    def _chunk_one(self, state, arrays, valid_steps, settings: Adaptation):
        def step(state, index):
            new = jax.lax.cond(index < valid_steps,
                               lambda s: self._transition(s, arrays, settings), lambda s: s, state)
            record = {
                # constrained values of every site, computed here rather than eagerly afterwards (each eager
                # transform would be one more small compilation in a fresh process); unconstrained values
                # of the small sites, for the burn-in table
                "values": {name: self.transforms[name](value) for name, value in new.z.items()},
                "z": {name: value for name, value in new.z.items() if _small(value.shape)},
                "potential": new.potential_energy, "energy": new.energy,
                "diverging": new.diverging, "n_steps": new.num_steps, "accept": new.accept_prob,
                "step_size": new.adapt_state.step_size,
            }
            return new, record

        return jax.lax.scan(step, state, jnp.arange(CHUNK))

    def _batched(self, function, in_axes):
        inner = jax.vmap(function, in_axes=in_axes) if self.per_device > 1 else function
        return jax.pmap(inner, in_axes=in_axes)

    # -- running ----------------------------------------------------------------------
    def _ensure_compiled(self, arrays, keys, settings: Adaptation):
        if self._compiled_init is not None:
            return
        started = time.perf_counter()
        with jax.enable_x64(True):
            init = self._batched(self._init_one, (0, None))
            keys_shaped = self._shape_chains(keys)
            lowered = init.lower(keys_shaped, arrays)
            # XLA compiles the first program in a thread (it releases the GIL) while Python traces the
            # second against the first's output shapes: on a cold start that hides most of one compile
            with ThreadPoolExecutor(1) as pool:
                compiling = pool.submit(lowered.compile)
                try:
                    states = lowered.out_info[0]
                except (KeyError, AttributeError):  # the pmap of JAX < 0.8 does not record its output shapes
                    states = jax.eval_shape(init, keys_shaped, arrays)[0]
                chunk = self._batched(self._chunk_one, (0, None, None, None))
                self._compiled_chunk = chunk.lower(states, arrays, jnp.asarray(CHUNK), settings).compile()
                self._compiled_init = compiling.result()
        self.compile_seconds = time.perf_counter() - started

    def _shape_chains(self, array):
        """(chains, ...) → (devices, per_device, ...) or (devices, ...)."""
        if self.per_device == 1:
            return array.reshape((self.devices,) + array.shape[1:])
        return array.reshape((self.devices, self.per_device) + array.shape[1:])

    def _unshape(self, tree):
        """Outputs (devices, [per_device,] ...) → (chains, ...)."""
        if self.per_device == 1:
            return jax.tree.map(np.asarray, tree)
        return jax.tree.map(lambda leaf: np.asarray(leaf).reshape((self.devices * self.per_device,)
                                                                  + np.shape(leaf)[2:]), tree)

    def _sample_on(self, states, arrays, config: SamplerConfig, settings, kept: list, done: int, timings: dict,
                   started: float, progress):
        """draws="auto": more draws (whole chunks, the same compiled program) while the smallest ESS of the
        small sites is below ``config.target_ess`` and fewer than ``config.max_draws`` are kept, sized by
        the ESS per draw so far; at most four rounds. Deterministic given the seed (no clock in the rule)."""
        assert config.target_ess is not None and config.max_draws is not None and self._compiled_chunk is not None
        limit = config.warmup + config.max_draws * config.thin
        for _ in range(4):
            ess = _smallest_ess(kept)
            if ess >= config.target_ess or done >= limit:
                break
            have = done - config.warmup
            wanted = math.ceil(have * min(config.target_ess / max(ess, 1.0), 8.0) * 1.05)
            steps = min(limit, config.warmup + math.ceil(wanted / CHUNK) * CHUNK) - done
            for _ in range(math.ceil(steps / CHUNK)):
                count = min(CHUNK, limit - done)
                states, record = self._compiled_chunk(states, arrays, jnp.asarray(count), settings)
                record = self._unshape(record)
                kept.append(jax.tree.map(lambda leaf: leaf[:, :count], record))  # noqa: B023 - called here
                done += count
                timings["sampling"] = time.perf_counter() - started - timings["warmup"]
                if progress is not None:
                    progress(done, max(done, config.warmup + config.draws * config.thin), config.warmup)
        return states

    def run(self, arrays, seed: int, config: SamplerConfig, progress=None) -> RawDraws:
        """Draws with ``config``'s warmup, draws, thinning and target; its program settings must be this
        sampler's (:meth:`SamplerConfig.program`)."""
        if config.program != self.config.program:
            raise ValueError(f"this sampler was compiled for {self.config.program}, not {config.program}")
        settings = adaptation(config.warmup, config.target_accept)
        with jax.enable_x64(True):
            keys = jax.random.split(jax.random.key(int(seed)), config.chains)
            keys = jax.random.key_data(keys)
        # keys as raw uint32 data so they lower as plain arrays
        reused = self._compiled_init is not None
        self._ensure_compiled(arrays, keys, settings)
        assert self._compiled_init is not None and self._compiled_chunk is not None
        total = config.warmup + config.draws * config.thin
        chunks = math.ceil(total / CHUNK)
        kept: list = []
        warming: list = []
        timings = {"compile": 0.0 if reused else self.compile_seconds, "warmup": 0.0, "sampling": 0.0}
        with jax.enable_x64(True):
            started = time.perf_counter()
            states, ok = self._compiled_init(self._shape_chains(keys), arrays)
            done = 0
            for _ in range(chunks):
                steps = min(CHUNK, total - done)
                states, record = self._compiled_chunk(states, arrays, jnp.asarray(steps), settings)
                record = self._unshape(record)
                first, last = done, done + steps
                if first < config.warmup:
                    end = min(steps, config.warmup - first)
                    warming.append({name: leaf[:, :end] for name, leaf in record["z"].items()})
                if last > config.warmup:
                    start = max(0, config.warmup - first)
                    kept.append(jax.tree.map(lambda leaf: leaf[:, start:steps], record))  # noqa: B023 - called here
                done = last
                now = time.perf_counter()
                if done <= config.warmup:
                    timings["warmup"] = now - started
                else:
                    timings["sampling"] = now - started - timings["warmup"]
                if progress is not None:
                    progress(done, total, config.warmup)
            if config.target_ess is not None:  # draws="auto": on while the smallest ESS is short of the target
                states = self._sample_on(states, arrays, config, settings, kept, done, timings, started, progress)
        if not bool(np.all(np.asarray(ok))):
            from ..errors import SamplingError

            raise SamplingError("could not find a starting point with a finite log density in "
                                f"{INIT_ATTEMPTS} attempts; check the priors and the data")
        record = jax.tree.map(lambda *leaves: np.concatenate(leaves, axis=1), *kept)
        record = jax.tree.map(lambda leaf: leaf[:, ::config.thin], record)
        stats = {
            "diverging": record["diverging"].astype(bool),
            "n_steps": record["n_steps"].astype(np.int64),
            "tree_depth": np.floor(np.log2(np.maximum(record["n_steps"], 1))).astype(np.int64) + 1,
            "energy": record["energy"],
            "acceptance_rate": record["accept"],
            "step_size": record["step_size"],
            "lp": -record["potential"],
        }
        constrained = record["values"]
        warmup = jax.tree.map(lambda *leaves: np.concatenate(leaves, axis=1), *warming) if warming else {}
        return RawDraws(unconstrained=record["z"], constrained=constrained, stats=stats, timings=timings,
                        environment=list(self.notes), warmup=warmup)


def _smallest_ess(kept: list) -> float:
    """The smallest bulk effective sample size of the small sites' kept draws: NumPyro's ESS over chains of
    the rank-normalized draws (Vehtari et al. 2021), robust to the heavy tails an unconstrained bounded
    parameter can have."""
    from numpyro.diagnostics import effective_sample_size
    from scipy.special import ndtri

    smallest = float("inf")
    for name in kept[0]["z"]:
        value = np.concatenate([part["z"][name] for part in kept], axis=1)
        chains, draws = value.shape[:2]
        flat = value.reshape(chains * draws, -1)
        ranks = np.argsort(np.argsort(flat, axis=0), axis=0) + 1.0
        normal = ndtri((ranks - 0.375) / (chains * draws + 0.25)).reshape(chains, draws, -1)
        smallest = min(smallest, float(np.min(effective_sample_size(normal))))
    return smallest


WARMUP_SITE_LIMIT = 64  # warmup draws are kept for sites this small (coefficients, SDs, ...), for the PSR table


def _small(shape) -> bool:
    return int(np.prod(shape)) <= WARMUP_SITE_LIMIT


_CACHE: dict = {}
# Every loaded XLA executable holds memory maps (about 1,300 for a sampler); a process may have at most
# vm.max_map_count (65,530 by default) and aborts beyond it. Keep few samplers, and when one is dropped let JAX
# drop its own references too (jax.clear_caches), so that a process fitting hundreds of models (a simulation
# study) stays bounded.
_CACHE_LIMIT = 6


def compiled_sampler(key, model_factory, arrays, config: SamplerConfig) -> CompiledSampler:
    """A cached :class:`CompiledSampler` for this model structure, data shapes and program settings (the
    least recently used out of the cache when it is full); warmup, draws, thinning, target and seed do not
    make another."""
    shapes = jax.tree.map(lambda leaf: (np.shape(leaf), np.asarray(leaf).dtype.str), arrays)
    cache_key = (key, str(shapes), config.program)
    sampler = _CACHE.pop(cache_key, None)
    if sampler is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))  # the least recently used
            jax.clear_caches()
        sampler = CompiledSampler(model_factory(), arrays, config)
    _CACHE[cache_key] = sampler  # most recently used last
    return sampler


MAX_DENSE_POPULATION = 80  # population-level parameters beyond this keep a diagonal mass matrix


def mass_structure(dense_mass, shapes: dict):
    """NumPyro's mass-matrix structure for ``dense_mass``: True (dense), False (diagonal), or "population":
    one dense block over the population-level parameters (intercepts, coefficients, SDs, correlations,
    selection models), whose posterior correlations can be strong (a selection model's intercept and its
    coefficient of the outcome), and a diagonal one for the group effects (many, nearly independent)."""
    if dense_mass != "population":
        return dense_mass
    names = tuple(sorted(name for name in shapes if is_population_site(name)))
    size = sum(int(np.prod(shapes[name])) for name in names)
    if size < 2 or size > MAX_DENSE_POPULATION:
        return False
    return [names] if len(names) < len(shapes) else True
