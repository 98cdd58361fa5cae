"""Missing discrete values summed out of the likelihood (backend/model_function._row_totals).

Every row is evaluated once, and each row with missing discrete values once more per combination of the
categories of the variables it misses (its entries, on those rows alone). The result must equal
the plain sum: every row evaluated under every combination of the missing categories, the combinations
that contradict a row's observed values masked, and the log-sum-exp over combinations taken per row (per
cluster over the level-2 combinations).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from jax.scipy.special import logsumexp
from numpyro import handlers
from numpyro.infer.initialization import init_to_uniform

from multilevel.api import Model
from multilevel.backend.discrete import discrete_configurations, with_categories
from multilevel.backend.model_function import LogPriors, declare_parameters, row_log_density
from multilevel.backend.numpyro_model import blueprint, internal_arrays, make_model
from multilevel.backend.submodels import submodel_rows


def _data(seed: int = 5, level_two: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, groups = 60, 6
    g = np.repeat(np.arange(groups), n // groups)
    x = rng.normal(size=n)
    o = 1.0 + (x + rng.normal(size=n) > -0.3) + (x + rng.normal(size=n) > 0.8)  # ordinal 1/2/3
    b = (rng.random(n) < 0.4).astype(float)  # binary
    kind = np.array(["red", "green", "blue"], dtype=object)[rng.integers(0, 3, n)]  # nominal
    y = 1.0 + 0.5 * x + 0.4 * o - 0.6 * b + (kind == "red") + rng.normal(size=groups)[g] + rng.normal(size=n)
    o[rng.random(n) < 0.25] = np.nan
    b[rng.random(n) < 0.2] = np.nan
    kind[rng.random(n) < 0.2] = None
    y[rng.random(n) < 0.15] = np.nan
    frame = pd.DataFrame({"y": y, "x": x, "o": o, "b": b, "kind": kind, "g": g})
    if level_two:  # a cluster-level ordinal with two clusters missing
        size = np.array([1.0, 2.0, 2.0, 3.0, 1.0, 3.0])
        size[[1, 4]] = np.nan
        frame["size"] = size[g]
    return frame


def _dense_log_likelihood(plan, arrays, outcome: str, point: dict):
    """The plain sum, with every row evaluated under every combination."""
    with handlers.block(), handlers.seed(rng_seed=0), handlers.substitute(data=point):
        focal, values = declare_parameters(plan, LogPriors.of(plan), arrays, outcome)
    chosen, rows_table = discrete_configurations(plan, level=1)
    cluster_chosen, cluster_table = discrete_configurations(plan, level=2)

    def per_row(current, mask):
        return logsumexp(jnp.stack([row_log_density(focal, with_categories(current, arrays.constants, chosen,
                                                                            configuration, mask)[0])
                                    + with_categories(current, arrays.constants, chosen, configuration, mask)[1]
                                    for configuration in rows_table]), axis=0)

    if not cluster_chosen:
        return jnp.sum(per_row(values, 0.0))
    clusters = arrays.missing["cluster rows"].shape[0]
    terms = []
    for configuration in cluster_table:
        current, mask = with_categories(values, arrays.constants, cluster_chosen, configuration, 0.0)
        totals = jax.ops.segment_sum(per_row(current, mask), arrays.group_index[0], num_segments=clusters)
        terms.append(totals + submodel_rows(plan, arrays, current, focal.submodel_parameters, 2))
    return jnp.sum(logsumexp(jnp.stack(terms), axis=0))


@pytest.mark.parametrize("level_two", [False, True])
def test_summed_out_likelihood_equals_the_plain_sum_over_every_combination(level_two):
    formula = "y ~ x + o + b + kind + (1 | g)" + (" + size" if level_two else "")
    ordinal = ["o", "b"] + (["size"] if level_two else [])
    model = Model(formula, _data(level_two=level_two), ordinal=ordinal, nominal=["kind"], _quiet=True)
    plan = blueprint(model.spec, model.data.outcome_observed)
    arrays = internal_arrays(model.spec, model.data)
    assert len(discrete_configurations(plan, level=1)[0]) == 3  # o, b and kind are summed out row by row
    assert bool(discrete_configurations(plan, level=2)[0]) == level_two
    missing = arrays.missing
    rows = int(missing["discrete rows count"])
    assert 0 < rows < model.data.n  # some rows have missing categories, others none
    assert missing["discrete rows"].shape[0] > rows  # and padded rows, which must not count
    slots = np.asarray(missing["discrete entry slots"])
    real = slots < missing["discrete rows"].shape[0]
    assert (~real).any()  # padded entries, which must not count either
    per_row = np.bincount(slots[real], minlength=rows)
    unknown = np.stack([np.asarray(arrays.values[f"{name} code"]) < 0 for name in ("o", "b", "kind")], axis=1)
    combinations = np.where(unknown, [[3, 2, 3]], 1).prod(axis=1)[np.asarray(missing["discrete rows"])[:rows]]
    np.testing.assert_array_equal(per_row, combinations)  # a row's own combinations only
    assert set(combinations) >= {2, 3, 6}  # rows missing one variable, and rows missing two
    function = make_model(plan, model.spec.response.name)
    with jax.enable_x64(True):
        for seed in range(2):
            seeded = handlers.substitute(handlers.seed(function, rng_seed=seed), substitute_fn=init_to_uniform)
            trace = handlers.trace(seeded).get_trace(arrays)
            point = {name: site["value"] for name, site in trace.items()
                     if site["type"] == "sample" and not site["is_observed"]}
            summed = float(trace["log likelihood"]["fn"].log_factor)
            dense = float(_dense_log_likelihood(plan, arrays, model.spec.response.name, point))
            assert np.isfinite(summed)
            np.testing.assert_allclose(summed, dense, rtol=1e-10)
            weights = np.asarray(trace["discrete entry log weights"]["value"])  # (..., padded entries)
            assert weights.shape[-1] == slots.size and np.isfinite(weights[..., real]).all()
