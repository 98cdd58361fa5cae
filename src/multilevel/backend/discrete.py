"""Missing discrete values summed out of the likelihood: every combination of the missing categories."""

from __future__ import annotations

import itertools

import jax.numpy as jnp

from .blueprint import Blueprint


MAX_CONFIGURATIONS = 64


MASKED = -1e10  # log weight of a combination of categories that contradicts an observed value


def discrete_configurations(plan: Blueprint, level: int | None = None) -> tuple[list, list]:
    """The incomplete discrete variables ((submodel index, plan) pairs; of one level if given) and every
    combination of their categories: missing discrete values are summed out of the likelihood, row by row
    (level 1) or cluster by cluster (level 2)."""
    discrete = [(j, sub) for j, sub in enumerate(plan.submodels) if sub.kind.discrete
                and sub.missing and (level is None or sub.level == level)]
    return discrete, list(itertools.product(*[range(sub.categories) for _, sub in discrete]))


def with_categories(values: dict, constants: dict, chosen: list, configuration, mask):
    """Values with the missing codes of the ``chosen`` discrete variables set to ``configuration``; ``mask``
    plus MASKED per row where a configuration contradicts an observed value."""
    current = dict(values)
    for (j, sub), category in zip(chosen, configuration):
        observed = values[f"{sub.name} code"]
        unknown = observed < 0
        code = jnp.where(unknown, category, observed)
        current[f"{sub.name} code"] = code
        current[sub.name] = sub.kind.value_of_code(code, constants[f"submodel {j}"]["categories"], jnp)
        mask = mask + jnp.where(unknown | (observed == category), 0.0, MASKED)
    return current, mask
