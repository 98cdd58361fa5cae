"""Missing discrete values summed out of the likelihood: per row, every combination of the categories of
that row's own missing discrete values (its entries, laid out by :mod:`multilevel.backend.submodel_plans`)."""

from __future__ import annotations

import itertools

import jax.numpy as jnp

from .blueprint import Blueprint


MAX_CONFIGURATIONS = 64  # of the level-2 variables' categories (summed per cluster over all of them)


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


def with_entry_codes(values: dict, constants: dict, chosen: list, codes):
    """Values (of the entries' rows) with the discrete variables' codes set to each entry's (entries x
    variables): the observed codes and one combination of the row's missing categories."""
    current = dict(values)
    for position, (j, sub) in enumerate(chosen):
        current[f"{sub.name} code"] = codes[:, position]
        current[sub.name] = sub.kind.value_of_code(codes[:, position], constants[f"submodel {j}"]["categories"], jnp)
    return current
