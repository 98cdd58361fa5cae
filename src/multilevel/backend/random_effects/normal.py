"""Normal random effects: a block's group effects are N(0, T), with T = diag(sd) R diag(sd).

The correlated form ``(1 + x | g)`` has an LKJ prior on the Cholesky factor of R; the uncorrelated form
``(1 + x || g)`` (or a one-column block) has R = I. Three parameterizations of the same model:
centered (the group coefficients are sampled around the fixed effects they absorb, see
:mod:`multilevel.backend.absorption`), noncentered (standard normal z scaled by the Cholesky factor) and
marginalized (integrated out of a Gaussian likelihood; no effects are sampled, they are drawn afterwards).
"""

from __future__ import annotations

import numpy as np

from ..linear_predictor import row_effects
from .base import BlockEffects, FixedEffects, RandomEffectStructure


def _centered_mean(i: int, block, fixed: FixedEffects, constants: dict):
    """The mean of a centered block's group coefficients: the absorbed intercept and fixed slopes, plus the
    group-level predictors' part of each group's intercept."""
    import jax.numpy as jnp

    factors = constants[f"mean factor {i}"]
    intercept, coefficients = fixed
    columns = []
    for k, source in enumerate(block.sources):  # a source is a fixed effect the model has
        if source == "intercept":
            assert intercept is not None
            columns.append(intercept)
        elif isinstance(source, int):
            assert coefficients is not None
            columns.append(coefficients[source] * factors[k])
        else:
            columns.append(jnp.zeros(()))
    mean = jnp.stack(columns)
    if block.group_level:
        assert coefficients is not None  # group-level predictors are fixed columns
        level = constants[f"group design {i}"] @ coefficients[np.asarray(block.group_level)]
        mean = jnp.broadcast_to(mean, (block.groups, block.size)).at[:, block.intercept_flags.index(True)].add(level)
    return mean


def _deviations(effects: np.ndarray, i: int, spec, constrained: dict, absorption, design) -> np.ndarray:
    """A centered block's group coefficients (internal units) → deviations from the fixed effects they absorb."""
    block, column_sds = spec.random[i], spec.scaling.random_column_sds[i]
    sds = np.asarray(spec.scaling.column_sds)
    for k, source in enumerate(absorption.sources[i]):
        if source == "intercept":
            effects[..., k] -= np.asarray(constrained["Intercept"])[..., None]
        elif isinstance(source, int):
            factor = column_sds[k] / sds[source]
            effects[..., k] -= np.asarray(constrained["b"])[..., source, None] * factor
    if design is not None:
        coefficients = np.asarray(constrained["b"])[..., list(absorption.group_level[i])]
        effects[..., [c.is_intercept for c in block.columns].index(True)] -= coefficients @ design.T
    return effects


class NormalStructure(RandomEffectStructure):
    name = "normal"

    def sample(self, i: int, block, arrays, fixed: FixedEffects) -> BlockEffects:
        import jax.numpy as jnp  # here, not above: prediction and the map to the data's units need no JAX
        import numpyro
        import numpyro.distributions as dist

        from ..prior_densities import log_prior_function
        from ..sites import constraint_of, free_parameter

        constants = arrays.constants
        sd = jnp.stack([free_parameter(f"sd_{i}_{k}", constraint_of(support))
                        for k, support in enumerate(block.supports)])
        numpyro.factor(f"sd_{i} prior", log_prior_function(block.sd_prior)(sd, constants[f"sd prior {i}"]))
        scale_tril = None
        if block.correlated:
            cholesky = numpyro.sample(f"L_{i}", dist.LKJCholesky(block.size, block.lkj_eta))
            scale_tril = sd[:, None] * cholesky
        if block.parameterization == "marginalized":
            return BlockEffects(i, block.intercept_flags, None, scale_tril if block.correlated else jnp.diag(sd))
        shape = (block.groups, block.size)
        if block.parameterization == "noncentered":
            z = numpyro.sample(f"z_{i}", dist.Normal(0.0, 1.0).expand(shape).to_event(2))
            effects = z @ scale_tril.T if scale_tril is not None else z * sd  # None unless correlated
        else:
            mean = _centered_mean(i, block, fixed, constants)
            if block.correlated:
                effects = numpyro.sample(f"r_{i}", dist.MultivariateNormal(mean, scale_tril=scale_tril)
                                         .expand((block.groups,)).to_event(1))
            else:
                effects = numpyro.sample(f"r_{i}", dist.Normal(mean, sd).expand(shape).to_event(2))
        return BlockEffects(i, block.intercept_flags, row_effects(effects, arrays.group_index[i]), scale_tril)

    def user_units(self, spec, i: int, constrained: dict, absorption, design) -> dict:
        block, column_sds = spec.random[i], spec.scaling.random_column_sds[i]
        outcome_scale = spec.scaling.outcome_scale if spec.family.kind.standardized else 1.0
        unit = outcome_scale / np.asarray(column_sds)
        out = {}
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
            effects = _deviations(np.array(constrained[f"r_{i}"]), i, spec, constrained, absorption, design)
        out[f"r_{i}"] = effects * unit
        return out

    def new_group_effects(self, draws: dict, i: int, size: int, count: int, rng: np.random.Generator) -> np.ndarray:
        sd, cor = draws[f"sd_{i}"], draws[f"cor_{i}"]
        covariance = cor * sd[:, :, None] * sd[:, None, :]
        cholesky = np.linalg.cholesky(covariance + 1e-12 * np.eye(size))
        z = rng.standard_normal((sd.shape[0], count, size))
        return np.einsum("sgk,sjk->sgj", z, cholesky)


STRUCTURE = NormalStructure()
