"""One linear predictor for the compiled model (JAX, internal units) and the analyses after sampling
(NumPy, the data's units): the same function gives the same values in both namespaces, and the model's
own predictor at a draw equals the one prediction and the log-likelihood compute from that draw in the
data's units (random slopes, an offset and an imputed predictor)."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from numpyro import handlers
from numpyro.infer.initialization import init_to_uniform

import multilevel as ml
from multilevel.backend.linear_predictor import RandomPart, linear_predictor, row_effects, with_columns
from multilevel.backend.model_function import linear_predictor_at_draw
from multilevel.backend.numpyro_model import blueprint, internal_arrays, make_model, to_user_units
from multilevel.results.completed import completed_values, linear_predictor_at


def _frame(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    groups, per_group = 12, 15
    g = np.repeat(np.arange(groups), per_group)
    n = g.size
    z = rng.normal(size=n)
    x = 0.5 * z + rng.normal(size=n)
    exposure = rng.uniform(1.0, 6.0, size=n)
    eta = -0.5 + 0.4 * x - 0.3 * z + rng.normal(scale=0.4, size=groups)[g] + rng.normal(scale=0.2, size=groups)[g] * x
    y = rng.poisson(exposure * np.exp(eta))
    x[rng.random(n) < 0.2] = np.nan  # imputed under its predictor model
    return pd.DataFrame({"y": y, "x": x, "z": z, "t": exposure, "g": g.astype(str)})


def _draw(model, arrays, seed: int) -> dict:
    """Values of every sampled site (internal units), as the sampler's initialization proposes them."""
    seeded = handlers.substitute(handlers.seed(model, rng_seed=seed), substitute_fn=init_to_uniform)
    with jax.enable_x64(True):
        trace = handlers.trace(seeded).get_trace(arrays)
    return {name: np.asarray(site["value"]) for name, site in trace.items()
            if site["type"] == "sample" and not site["is_observed"]}


@pytest.fixture(scope="module", params=["noncentered", "centered"])
def incomplete(request):
    model = ml.Model("y ~ x + z + offset(log(t)) + (1 + x | g)", _frame(), family="poisson",
                     parameterization=request.param)
    spec, data = model.spec, model.data
    plan = blueprint(spec, data.outcome_observed)
    return spec, data, plan, internal_arrays(spec, data), make_model(plan, spec.response.name)


def test_the_model_has_what_the_check_needs(incomplete):
    spec, data, plan, _, _ = incomplete
    assert [sub.outcome for sub in spec.submodels] == ["x"] and spec.submodels[0].missing_count > 10
    assert data.offset is not None and spec.random[0].size == 2
    assert spec.dynamic_fixed and spec.dynamic_random and spec.dynamic_random[0]  # x in X and in Z
    if spec.random[0].parameterization == "centered":
        assert plan.intercept_absorbed and len(plan.free) < plan.fixed_count  # x's slope is the block's mean


@pytest.mark.parametrize("seed", [0, 1])
def test_the_models_predictor_equals_the_one_computed_in_the_datas_units(incomplete, seed):
    spec, data, plan, arrays, model = incomplete
    draw = _draw(model, arrays, seed)
    with jax.enable_x64(True):
        internal = np.asarray(linear_predictor_at_draw(plan, arrays, draw, spec.response.name))
    user = to_user_units(spec, {name: value[None, None] for name, value in draw.items()}, data=data)
    rows = np.flatnonzero(np.isnan(np.asarray(data.values["x"], dtype=float)))
    cells = {"x": (rows, user["imputed x"].reshape(1, -1))}
    chosen = np.array([0])
    values = completed_values(spec, data, user, cells, chosen)
    in_data_units = linear_predictor_at(spec, data, user, chosen, values)[0]
    assert internal.shape == (data.n,) and np.ptp(internal) > 1.0  # rows differ: the check is not vacuous
    np.testing.assert_allclose(in_data_units, internal, rtol=1e-10, atol=1e-10)  # a Poisson model: same scale
    # the imputed rows really use the draw's values: with x at 0 there the predictor differs
    values["x"] = np.where(np.isnan(np.asarray(data.values["x"], dtype=float)), 0.0, values["x"])
    assert np.abs(linear_predictor_at(spec, data, user, chosen, values)[0][rows] - internal[rows]).max() > 1e-3


def _parts(rng, draws: int | None):
    rows, p, q, groups = 40, 3, 2, 6
    lead = () if draws is None else (draws,)
    X = rng.normal(size=(rows, p))
    Z = np.column_stack([np.ones(rows), rng.normal(size=rows)])
    index = rng.integers(0, groups, size=rows)
    effects = rng.normal(size=lead + (groups, q))
    return dict(design=X, coefficients=rng.normal(size=lead + (p,)), offset=rng.normal(size=rows),
                intercept=rng.normal(size=lead + (1,)) if draws else rng.normal(),
                random=(Z, effects, index))


@pytest.mark.parametrize("draws", [None, 5])
@pytest.mark.parametrize("free", [None, (0, 2)])
def test_numpy_and_jax_give_the_same_values(draws, free):
    parts = _parts(np.random.default_rng(4), draws)
    Z, effects, index = parts.pop("random")

    def evaluate(xp):
        converted = {name: xp.asarray(value) for name, value in parts.items()}
        random = [RandomPart(xp.asarray(Z), row_effects(xp.asarray(effects), index), (True, False))]
        return linear_predictor(xp, random=random, free=None if free is None else np.asarray(free), **converted)

    with jax.enable_x64(True):
        jax_values = np.asarray(evaluate(jnp))
    numpy_values = evaluate(np)
    np.testing.assert_allclose(jax_values, numpy_values, rtol=1e-13, atol=1e-13)
    # and both are the sum written out
    coefficients = parts["coefficients"]
    used = list(range(3)) if free is None else list(free)
    rows_effects = effects[..., index, :]
    expected = (parts["offset"] + np.einsum("np,...p->...n", parts["design"][:, used], coefficients[..., used])
                + parts["intercept"] + rows_effects[..., 0] + Z[:, 1] * rows_effects[..., 1])
    np.testing.assert_allclose(numpy_values, expected, rtol=1e-12)


def test_with_columns_recomputes_the_listed_columns_in_both_namespaces():
    class Square:  # an expression: the parsed formula term x^2
        def evaluate(self, values, xp):
            return values["x"] ** 2

    rng = np.random.default_rng(5)
    design = rng.normal(size=(8, 3))
    values = {"x": rng.normal(size=8)}
    numpy_result = with_columns(np, design, [(1, Square())], values, location=[0.5], scale=[2.0])
    assert np.array_equal(numpy_result[:, [0, 2]], design[:, [0, 2]])
    np.testing.assert_allclose(numpy_result[:, 1], (values["x"] ** 2 - 0.5) / 2.0)
    assert not np.shares_memory(numpy_result, design)  # the caller's design is left alone
    with jax.enable_x64(True):
        jax_result = with_columns(jnp, jnp.asarray(design), [(1, Square())], {"x": jnp.asarray(values["x"])},
                                  location=[0.5], scale=[2.0])
    np.testing.assert_allclose(np.asarray(jax_result), numpy_result, rtol=1e-14)
    per_draw = with_columns(np, np.broadcast_to(design, (4,) + design.shape), [(1, Square())],
                            {"x": rng.normal(size=(4, 8))})
    assert per_draw.shape == (4, 8, 3) and np.ptp(per_draw[:, 0, 1]) > 0  # each draw its own column


def test_the_linear_predictor_module_loads_no_jax():
    code = ("import sys; import multilevel.backend.linear_predictor, multilevel.results.completed; "
            "print('jax' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
