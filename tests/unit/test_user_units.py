"""Internal draws mapped to the data's units."""

import numpy as np
import pandas as pd
from numpyro import handlers
from numpyro.infer.initialization import init_to_uniform

import multilevel as ml
from multilevel.backend.numpyro_model import blueprint, internal_arrays, make_model, to_user_units


def test_an_imputed_outcome_is_in_its_own_units_next_to_predictor_models():
    """The imputed focal outcome is mapped back with the outcome's location and scale, not those of the last
    predictor model (it once was: imputed y came out near x's mean)."""
    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(10), 12)
    x = rng.normal(size=g.size)
    y = 50.0 + 2.0 * x + rng.normal(size=10)[g] + rng.normal(size=g.size)
    x[rng.random(g.size) < 0.2] = np.nan
    y[:9] = np.nan
    model = ml.Model("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}), integrate=False)  # sampled sites
    spec, data = model.spec, model.data
    assert spec.outcome_latent and [sub.outcome for sub in spec.submodels] == ["x"]
    arrays = internal_arrays(spec, data)
    seeded = handlers.substitute(handlers.seed(make_model(blueprint(spec, data.outcome_observed), "y"), rng_seed=0),
                                 substitute_fn=init_to_uniform)
    trace = handlers.trace(seeded).get_trace(arrays)
    draw = {name: np.asarray(site["value"])[None, None] for name, site in trace.items()
            if site["type"] == "sample" and not site["is_observed"]}
    imputed = to_user_units(spec, draw, outcome_missing=9, data=data)["imputed y"][0, 0]
    internal = draw["missing_outcome"][0, 0, :9]
    np.testing.assert_allclose(imputed, spec.scaling.outcome_location + spec.scaling.outcome_scale * internal)
    assert spec.scaling.outcome_location > 45 and np.all(np.abs(imputed - 50.0) < 3 * spec.scaling.outcome_scale)
