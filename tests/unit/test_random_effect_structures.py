"""Random-effect structures as kinds: the model, the map to the data's units and prediction ask a block's
structure (found through one registry), never its name."""

import dataclasses

import jax
import numpy as np
import pandas as pd
import pytest
from numpyro import handlers
from numpyro.infer.initialization import init_to_uniform

import multilevel as ml
from multilevel.backend import random_effects
from multilevel.backend.model_function import linear_predictor_at_draw
from multilevel.backend.numpyro_model import blueprint, internal_arrays, make_model
from multilevel.backend.random_effects.normal import NormalStructure
from multilevel.errors import SpecificationError


@pytest.fixture(scope="module")
def sleep_model():
    return ml.Model("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"),
                    parameterization="noncentered")


def test_every_block_of_todays_models_is_normal(sleep_model):
    crossed = pd.DataFrame({"y": np.arange(40.0) % 7, "x": np.arange(40.0) % 5, "a": np.repeat(list("abcd"), 10),
                            "b": np.tile(list("vwxyz"), 8)})
    for model in (sleep_model, ml.Model("y ~ x + (1 + x || a) + (1 | b)", crossed)):
        plan = blueprint(model.spec, model.data.outcome_observed)
        assert [block.structure for block in plan.blocks] == ["normal"] * len(model.spec.random)
        assert all(random_effects.structure_of(block) is random_effects.REGISTRY["normal"]
                   for block in model.spec.random)


def test_an_unknown_structure_is_named_in_the_error():
    with pytest.raises(SpecificationError, match="unknown random-effect structure 'car'; known: normal"):
        random_effects.structure_named("car")


class Doubled(NormalStructure):
    """A toy kind: the normal block's effects enter the linear predictor twice over."""

    name = "doubled"

    def random_part(self, design, rows, direct=()):
        return super().random_part(design, None if rows is None else 2.0 * rows, direct)


def test_the_model_asks_the_blocks_structure(sleep_model, monkeypatch):
    spec, data = sleep_model.spec, sleep_model.data
    plan = blueprint(spec, data.outcome_observed)
    arrays = internal_arrays(spec, data)
    seeded = handlers.substitute(handlers.seed(make_model(plan, spec.response.name), rng_seed=1),
                                 substitute_fn=init_to_uniform)
    with jax.enable_x64(True):
        trace = handlers.trace(seeded).get_trace(arrays)
    draw = {name: np.asarray(site["value"]) for name, site in trace.items()
            if site["type"] == "sample" and not site["is_observed"]}
    monkeypatch.setitem(random_effects.REGISTRY, "doubled", Doubled())
    doubled_plan = dataclasses.replace(plan, blocks=(plan.blocks[0]._replace(structure="doubled"),))
    with jax.enable_x64(True):
        normal = np.asarray(linear_predictor_at_draw(plan, arrays, draw, spec.response.name))
        doubled = np.asarray(linear_predictor_at_draw(doubled_plan, arrays, draw, spec.response.name))
        fixed = np.asarray(linear_predictor_at_draw(dataclasses.replace(plan, blocks=()), arrays, draw,
                                                    spec.response.name))
    effects = normal - fixed  # the block's share of the predictor
    assert np.abs(effects).max() > 0.1
    np.testing.assert_allclose(doubled, fixed + 2.0 * effects, rtol=1e-12, atol=1e-12)


def test_new_groups_are_drawn_with_the_blocks_covariance():
    sd = np.array([[1.0, 2.0]] * 4)
    cor = np.array([[[1.0, 0.5], [0.5, 1.0]]] * 4)
    draws = {"sd_0": sd, "cor_0": cor, "r_0": np.zeros((4, 3, 2))}
    structure = random_effects.structure_named("normal")
    index = np.array([0, 1, -1, 2, -1])  # two rows of one new group
    rows = structure.row_effects(draws, 0, index, 2, np.random.default_rng(0))
    assert rows.shape == (4, 5, 2) and np.array_equal(rows[:, 2], rows[:, 4]) and not rows[:, [0, 1, 3]].any()
    drawn = structure.new_group_effects({"sd_0": sd[:1], "cor_0": cor[:1]}, 0, 2, 40_000,
                                        np.random.default_rng(1))[0]
    np.testing.assert_allclose(np.cov(drawn, rowvar=False), [[1.0, 1.0], [1.0, 4.0]], atol=0.06)


def test_a_blocks_structure_is_its_field_and_reaches_the_plan(sleep_model, monkeypatch):
    spec = sleep_model.spec
    assert [block.structure for block in spec.random] == ["normal"]
    monkeypatch.setitem(random_effects.REGISTRY, "doubled", Doubled())
    renamed = dataclasses.replace(spec, random=(dataclasses.replace(spec.random[0], structure="doubled"),))
    plan = blueprint(renamed, sleep_model.data.outcome_observed)
    assert [block.structure for block in plan.blocks] == ["doubled"]
    assert isinstance(random_effects.structure_of(renamed.random[0]), Doubled)
