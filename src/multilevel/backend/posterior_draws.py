"""Values drawn after sampling from the posterior draws: the group effects (and missing outcomes) of a
marginalized model, missing discrete values that the sampler summed out, latent cluster means, and any
deterministic site of the model recomputed at every draw."""

from __future__ import annotations

import jax
import numpy as np
from .. import _numpyro  # noqa: F401  (first: a lazy numpyro left by ArviZ is loaded for real)
from numpyro import handlers

from ..model.model_spec import ModelSpec
from .blueprint import Blueprint
from .discrete import discrete_configurations
from .integration import draw_block
from .marginal_likelihood import backward_substitution, forward_substitution, group_algebra
from .model_arrays import ModelArrays
from .model_function import LogPriors, declare_parameters, focal_eta


def draw_marginalized(spec: ModelSpec, arrays: ModelArrays, constrained: dict, seed: int,
                      chunk: int = 256) -> dict:
    """Add the group effects (``r_0``) — and the missing outcomes — of a marginalized model, drawn from
    their exact conditional distribution given each posterior draw of the other parameters.

    Per group, with v = L^-1 u: v | rest ~ N(B^-1 w, sigma^2 B^-1) (see :func:`marginal_log_likelihood`).
    Internal units, as the sampler's draws; the leading (chain, draw) dims are kept.
    """
    block = spec.random[0]
    sufficient = arrays.sufficient
    assert sufficient is not None  # the arrays of a marginalized model carry its cross products
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
    ZZ = [[sufficient["ZZ"][None, :, k, n] for n in range(q)] for k in range(q)]
    for start in range(0, samples, chunk):
        part = slice(start, min(start + chunk, samples))
        L, variance = scale_tril[part], sigma[part, None] ** 2
        Zres = sufficient["Zr"][None] - np.einsum("gqa,sa->sgq", sufficient["ZA"], coefficients[part])
        tril = [[L[:, k, m, None] for m in range(q)] for k in range(q)]
        w, cholesky = group_algebra(ZZ, [Zres[..., k] for k in range(q)], tril, variance)
        # v = C'^-1 (C^-1 w + sigma z) has mean B^-1 w and covariance sigma^2 B^-1
        z = rng.standard_normal((q,) + Zres.shape[:2])
        forward = forward_substitution(cholesky, w)
        v = backward_substitution(cholesky, [value + np.sqrt(variance) * z[k] for k, value in enumerate(forward)])
        effects[part] = np.stack([sum(tril[k][m] * v[m] for m in range(q)) for k in range(q)], axis=-1)
    result = dict(constrained)
    result["r_0"] = effects.reshape(lead + effects.shape[1:])
    if spec.outcome_latent:
        assert arrays.missing is not None  # with the positions of the missing outcomes
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
    missing level-2 categories (``cluster log weights``) and the log weight of each entry, a row with
    missing level-1 categories at one combination of them (``discrete entry log weights``, per level-2
    combination when there are level-2 ones). A level-2 combination is drawn per cluster, then an entry
    per row given its cluster's (Gumbel-max). Adds ``missing_<name>`` (category values; codes for nominal
    variables).
    """
    row_discrete = discrete_configurations(plan, level=1)[0]
    cluster_discrete, cluster_configurations = discrete_configurations(plan, level=2)
    if not row_discrete and not cluster_discrete:
        return constrained
    lead = np.shape(constrained[next(iter(constrained))])[:2]
    names = (["cluster log weights"] if cluster_discrete else []) + (["discrete entry log weights"]
                                                                     if row_discrete else [])
    traced = traced_sites(model, arrays, constrained, names)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2207]))
    result = dict(constrained)
    missing_positions = arrays.missing or {}  # present: some discrete values are missing

    def store(codes_of, discrete):
        for position, (j, sub) in enumerate(discrete):
            categories = np.asarray(arrays.constants[f"submodel {j}"]["categories"])
            count = int(missing_positions[f"{sub.name} count"])
            codes = codes_of(position, np.asarray(missing_positions[sub.name])[:count])  # (samples, count)
            result[f"missing_{sub.name}"] = categories[codes].reshape(lead + (codes.shape[-1],))

    cluster_choice = None
    if cluster_discrete:
        weights = traced["cluster log weights"]  # (samples, level-2 combinations, clusters)
        cluster_choice = np.argmax(weights + rng.gumbel(size=weights.shape), axis=1)  # (samples, clusters)
        table = np.asarray(cluster_configurations)
        store(lambda p, missing: table[cluster_choice[:, missing], p], cluster_discrete)
    if row_discrete:
        chosen = _chosen_entries(traced["discrete entry log weights"], missing_positions, cluster_choice,
                                 np.asarray(arrays.group_index[0]), rng)  # (samples, slots)
        codes = np.asarray(missing_positions["discrete entry codes"])
        rows = np.asarray(missing_positions["discrete rows"])[:int(missing_positions["discrete rows count"])]
        store(lambda p, missing: codes[chosen[:, np.searchsorted(rows, missing)], p], row_discrete)
    return result


def _chosen_entries(weights: np.ndarray, missing: dict, cluster_choice, group_index: np.ndarray, rng) -> np.ndarray:
    """Per draw and row with missing discrete values (its slot): the entry drawn (Gumbel-max over the slot's
    entries, which are consecutive), given its cluster's drawn level-2 combination when there is one."""
    slots = int(missing["discrete rows count"])
    entry_slots = np.asarray(missing["discrete entry slots"])
    entries = int(np.sum(entry_slots < np.asarray(missing["discrete rows"]).shape[0]))
    if cluster_choice is not None:  # (samples, level-2 combinations, entries): each entry's row's combination
        row_cluster = cluster_choice[:, group_index[np.asarray(missing["discrete entry rows"])[:entries]]]
        weights = np.take_along_axis(weights[..., :entries], row_cluster[:, None, :], axis=1)[:, 0]
    weights = weights[..., :entries]
    starts = np.searchsorted(entry_slots[:entries], np.arange(slots))
    lengths = np.diff(np.append(starts, entries))
    offsets = np.arange(int(lengths.max()))
    index = np.minimum(starts[:, None] + offsets, entries - 1)  # (slots, most entries of a slot)
    valid = offsets < lengths[:, None]
    scores = np.where(valid, weights[:, index] + rng.gumbel(size=(weights.shape[0],) + index.shape), -np.inf)
    return starts + np.argmax(scores, axis=-1)


def draw_integrated(plan: Blueprint, arrays: ModelArrays, constrained: dict, seed: int, outcome_name: str = "y",
                    chunk: int = 250) -> dict:
    """Add the missing values the log density integrated out (``missing_<name>`` standardized, as the sampler
    would have drawn them, and ``missing_outcome`` in internal units), drawn at every posterior draw from
    their exact conditional distribution (:func:`multilevel.backend.integration.draw_block`)."""
    block = plan.integrated
    if block is None:
        return constrained
    lead = np.shape(constrained[next(iter(constrained))])[:2]
    samples = int(np.prod(lead))
    sites = {name: np.asarray(value).reshape((samples,) + np.shape(value)[2:]) for name, value in constrained.items()}
    compute = _block_draws(plan, outcome_name)
    keys = jax.random.split(jax.random.PRNGKey(np.random.SeedSequence([seed, 5113]).generate_state(1)[0]), samples)
    chunk = min(chunk, samples)
    parts = []
    with jax.enable_x64(True):
        for start in range(0, samples, chunk):  # every call the same size (the last padded): one compilation
            picked = np.minimum(np.arange(start, start + chunk), samples - 1)
            parts.append(np.asarray(compute({name: value[picked] for name, value in sites.items()}, keys[picked],
                                            arrays))[:samples - start])
    drawn = np.concatenate(parts)  # (samples, rows, K)
    missing = arrays.missing or {}  # present: the block has missing values
    result = dict(constrained)
    rows = drawn.shape[1]
    columns = [f"missing_{plan.submodels[j].name}" for j in block.members]
    columns += ["missing_outcome"] if block.focal else []
    for k, site in enumerate(columns):
        key = "outcome" if site == "missing_outcome" else site[len("missing_"):]
        if key not in missing:  # a complete member
            continue
        positions = np.minimum(np.asarray(missing[key]), rows - 1)  # padded positions repeat the last row
        result[site] = drawn[:, positions, k].reshape(lead + (positions.size,))
    return result


_BLOCK_DRAWS: dict = {}


def _block_draws(plan: Blueprint, outcome_name: str):
    """The compiled draw of the integrated values, one per blueprint (reused by later fits of its shape)."""
    key = (plan, outcome_name)
    if key not in _BLOCK_DRAWS:
        block = plan.integrated
        assert block is not None  # called for a model with an integrated block
        priors = LogPriors.of(plan)

        def one(draw, rng, arrays):
            with handlers.block(), handlers.seed(rng_seed=0), handlers.substitute(data=draw):
                focal, values = declare_parameters(plan, priors, arrays, outcome_name)
                return draw_block(focal, values, block, lambda current: focal_eta(focal, current), rng)

        if len(_BLOCK_DRAWS) >= 8:
            _BLOCK_DRAWS.pop(next(iter(_BLOCK_DRAWS)))
        _BLOCK_DRAWS[key] = jax.jit(jax.vmap(one, in_axes=(0, 0, None)))
    return _BLOCK_DRAWS[key]
