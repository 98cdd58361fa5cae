"""Missing normal values integrated out of the log density (backend/integration.py).

The integrated model's log density at a parameter point must equal the sampled-values model's log density
integrated over the missing values, which is checked here by quadrature, row by row (given the parameters
and random effects the rows are independent). Then the conditional draws of the imputations must follow the
conditional distribution the quadrature gives (mean and SD per row).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from numpyro import handlers
from numpyro.infer.initialization import init_to_uniform
from numpyro.infer.util import log_density

from multilevel.api import Model
from multilevel.backend.integration_plan import integration_choice
from multilevel.backend.numpyro_model import blueprint, internal_arrays, make_model
from multilevel.backend.posterior_draws import draw_integrated
from multilevel.backend.model_arrays import LOG_2PI


def _data(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, groups = 24, 4
    g = np.repeat(np.arange(groups), n // groups)
    z = rng.normal(size=n)
    x = 0.5 * z + rng.normal(size=n) + rng.normal(size=groups)[g] * 0.5
    y = 1.0 + 0.8 * x - 0.4 * z + 0.6 * x * z + rng.normal(size=groups)[g] * 0.7 + rng.normal(size=n)
    x[[1, 4, 9, 13, 17, 22]] = np.nan
    y[[4, 6, 10, 13, 20]] = np.nan
    return pd.DataFrame({"y": y, "x": x, "z": z, "g": g})


FORMULA = "y ~ x + z + x:z + (1 + x | g)"
OPTIONS = {"predictor_models": ["x ~ z"], "missingness_models": ["y.missing ~ y + x + z"]}


def _models(data, parameterization="centered"):
    """The integrated and the sampled-values model (centred: the fixed slope of x is its block's mean)."""
    return [Model(FORMULA, data, integrate=integrate, parameterization=parameterization, _quiet=True, **OPTIONS)
            for integrate in (True, False)]


def _point(model, seed: int):
    """A point for every site of the sampled-values model (uniform on (-2, 2) unconstrained, as NumPyro
    initializes), missing values set to 0."""
    plan = blueprint(model.spec, model.data.outcome_observed)
    arrays = internal_arrays(model.spec, model.data)
    function = make_model(plan, model.spec.response.name)
    seeded = handlers.substitute(handlers.seed(function, rng_seed=seed), substitute_fn=init_to_uniform)
    trace = handlers.trace(seeded).get_trace(arrays)
    point = {name: site["value"] for name, site in trace.items()
             if site["type"] == "sample" and not site["is_observed"]}
    for name in point:
        if name.startswith("missing_"):
            point[name] = jnp.zeros_like(point[name])
    return plan, arrays, function, point


def test_the_seed_style_model_is_integrated():
    integrated, sampled = _models(_data())
    choice = integration_choice(integrated.spec)
    assert choice.block is not None and choice.block.focal and choice.block.selection is not None
    assert set(choice.block.names) == {"x", "y"} and choice.sampled == ()
    assert "'x', 'y' integrated out" in choice.note()
    assert integration_choice(sampled.spec).block is None
    assert "integrate=False" in integration_choice(sampled.spec).note()


def _window(batched, base: list, entries: list, points: int):
    """Quadrature of exp(log density) over the ``entries`` ((site index, position) pairs) of a row, the other
    values at ``base``: a coarse grid finds where the mass is, a fine one around it integrates. Returns
    (the log integral, the grid (points^d, d), the normalized weights)."""
    def evaluate(axes):
        mesh = np.stack([axis.ravel() for axis in np.meshgrid(*axes, indexing="ij")], axis=1)
        arrays = [np.repeat(value[None], len(mesh), axis=0) for value in base]
        for column, (site, position) in enumerate(entries):
            arrays[site][:, position] = mesh[:, column]
        values = np.asarray(batched(*arrays))
        return mesh, values

    coarse = [np.linspace(-30.0, 30.0, 241)] * len(entries)
    mesh, values = evaluate(coarse)
    weights = np.exp(values - values.max())
    weights /= weights.sum()
    mean = weights @ mesh
    sd = np.sqrt(weights @ (mesh - mean) ** 2) + 1e-3
    axes = [np.linspace(m - 12 * d, m + 12 * d, points) for m, d in zip(mean, sd)]
    mesh, values = evaluate(axes)
    volume = np.prod([axis[1] - axis[0] for axis in axes])
    top = values.max()
    weights = np.exp(values - top)
    return top + np.log(weights.sum() * volume), mesh, weights / weights.sum()


def _missing_rows(model, arrays):
    x = np.asarray(arrays.missing["x"])[:model.spec.submodels[0].missing_count]
    y = np.asarray(arrays.missing["outcome"])[:int((~model.data.outcome_observed).sum())]
    return x, y


def _entries(row, x_rows, y_rows) -> list:
    return ([(0, int(np.flatnonzero(x_rows == row)[0]))] if row in x_rows else []) + \
           ([(1, int(np.flatnonzero(y_rows == row)[0]))] if row in y_rows else [])


class Setting(NamedTuple):
    """Both models at one point: the integrated model's parts, the sampled-values model's log density as a
    batched function of its missing values, and where those are."""

    plan: Any
    arrays: Any
    model: Any
    common: dict  # the point's parameters and random effects
    batched: Any  # (missing x values, missing outcome values) -> the sampled model's log density
    base: list  # the missing values at 0
    x_rows: np.ndarray
    y_rows: np.ndarray


def _setting(seed: int, parameterization: str = "centered") -> Setting:
    integrated, sampled = _models(_data(), parameterization)
    _, arrays_s, model_s, point = _point(sampled, seed)
    plan = blueprint(integrated.spec, integrated.data.outcome_observed)

    def joint(x_values, y_values):
        values = dict(point, missing_x=jnp.asarray(x_values), missing_outcome=jnp.asarray(y_values))
        return log_density(model_s, (arrays_s,), {}, values)[0]

    return Setting(plan, internal_arrays(integrated.spec, integrated.data),
                   make_model(plan, integrated.spec.response.name),
                   {name: value for name, value in point.items() if not name.startswith("missing_")},
                   jax.jit(jax.vmap(joint)),
                   [np.zeros(point["missing_x"].shape), np.zeros(point["missing_outcome"].shape)],
                   *_missing_rows(integrated, arrays_s))


@pytest.mark.parametrize("seed, parameterization", [(0, "centered"), (1, "centered"), (2, "noncentered"),
                                                      (3, "noncentered")])
def test_log_density_equals_the_sampled_model_integrated_by_quadrature(seed, parameterization):
    with jax.enable_x64(True):
        setting = _setting(seed, parameterization)
        target = float(log_density(setting.model, (setting.arrays,), {}, setting.common)[0])
        base, x_rows, y_rows = setting.base, setting.x_rows, setting.y_rows
        padded = (base[0].size - x_rows.size) + (base[1].size - y_rows.size)
        at_zero = float(setting.batched(*[value[None] for value in base])[0])
        total = at_zero + 0.5 * LOG_2PI * padded  # the padding entries integrate to 1
        for row in sorted(set(x_rows) | set(y_rows)):
            entries = _entries(row, x_rows, y_rows)
            total += _window(setting.batched, base, entries, 301 if len(entries) == 2 else 2001)[0] - at_zero
        assert target == pytest.approx(total, abs=1e-5), (target, total)  # the quadrature is good to ~1e-6


def test_conditional_draws_follow_the_quadrature_conditionals():
    """Each missing value's mean and SD given the row's observed values and its missingness indicator, by
    quadrature of the sampled-values model at one point, against 20,000 draws of draw_integrated there."""
    with jax.enable_x64(True):
        setting = _setting(0)
        draws = 20_000
        constrained = {name: np.broadcast_to(np.asarray(value), (1, draws) + np.shape(value))
                       for name, value in setting.common.items()}
        drawn = draw_integrated(setting.plan, setting.arrays, constrained, seed=11, outcome_name="y")
        sites = ["missing_x", "missing_outcome"]
        for row in sorted(set(setting.x_rows) | set(setting.y_rows)):
            entries = _entries(row, setting.x_rows, setting.y_rows)
            _, mesh, weights = _window(setting.batched, setting.base, entries, 301 if len(entries) == 2 else 2001)
            mean = weights @ mesh
            sd = np.sqrt(weights @ (mesh - mean) ** 2)
            for column, (site, position) in enumerate(entries):
                sample = np.asarray(drawn[sites[site]])[0, :, position]
                assert abs(sample.mean() - mean[column]) < 4 * sd[column] / np.sqrt(draws), (row, site)
                assert sample.std() == pytest.approx(sd[column], rel=0.03), (row, site)
            if len(entries) == 2:  # and the two are correlated as the quadrature says
                pair = np.stack([np.asarray(drawn[sites[s]])[0, :, p] for s, p in entries], axis=1)
                expected = (weights @ ((mesh[:, 0] - mean[0]) * (mesh[:, 1] - mean[1]))) / (sd[0] * sd[1])
                assert np.corrcoef(pair.T)[0, 1] == pytest.approx(expected, abs=0.03), row


def test_derivatives_of_affine_columns_match_finite_differences():
    from multilevel.model import expressions as E

    x, z = E.Variable("x"), E.Variable("z")
    columns = [E.Product((x, z)), E.Arithmetic("*", E.Arithmetic("+", x, E.Constant(2.0)), z),
               E.Standardize(x, 1.0, 2.0), E.GrandMeanCentered(E.Product((z, x)), 0.3), E.Arithmetic("/", x, z),
               E.Negate(E.Arithmetic("-", z, x)), E.Arithmetic("^", z, E.Constant(2.0)), E.Product(())]
    values = {"x": np.array([0.3, 1.2, -2.0]), "z": np.array([2.0, -1.0, 0.5])}
    for column in columns:
        slope = np.broadcast_to(E.derivative(column, "x").evaluate(values), (3,))
        step = {**values, "x": values["x"] + 1e-6}
        difference = (np.broadcast_to(column.evaluate(step), (3,)) - np.broadcast_to(column.evaluate(values), (3,)))
        np.testing.assert_allclose(slope, difference / 1e-6, atol=1e-5, err_msg=str(column))
    assert E.derivative(E.Arithmetic("^", z, E.Constant(2.0)), "x") == E.ZERO
    with pytest.raises(ValueError, match="not affine"):
        E.derivative(E.Function("exp", x), "x")


def test_the_linear_predictor_at_a_draw_reads_the_values_drawn_afterwards():
    from multilevel.backend.model_function import linear_predictor_at_draw

    with jax.enable_x64(True):
        integrated, sampled = _models(_data())
        plan_s, arrays_s, _, point = _point(sampled, 1)
        setting = _setting(1)
        constrained = {name: np.asarray(value)[None, None] for name, value in setting.common.items()}
        drawn = draw_integrated(setting.plan, setting.arrays, constrained, seed=3, outcome_name="y")
        draw = {name: np.asarray(value)[0, 0] for name, value in drawn.items()}
        assert "missing_x" in draw and np.ptp(draw["missing_x"]) > 0.1
        eta = np.asarray(linear_predictor_at_draw(setting.plan, setting.arrays, draw, "y"))
        np.testing.assert_allclose(eta, np.asarray(linear_predictor_at_draw(plan_s, arrays_s, draw, "y")), rtol=1e-12)
