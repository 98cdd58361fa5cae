"""Group-level predictors absorbed into a centered block's mean: the same model, reparameterized.

With absorption the sampled group coefficients are r_j = Intercept + w_j'b + u_j (hierarchical
centering); without it they are Intercept + u_j and w_j'b enters every row. The shift has unit
Jacobian, so both log densities must agree at matched parameters, and both must report the same
deviations u_j in the data's units.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel.backend.log_density import log_density
from multilevel.backend.numpyro_model import (absorption, group_designs, internal_design, model_constants,
                                              to_user_units)


@pytest.fixture(scope="module")
def crossed():
    rng = np.random.default_rng(7)
    persons, items = 30, 12
    person = np.repeat(np.arange(persons), items)
    item = np.tile(np.arange(items), persons)
    trait = rng.normal(size=persons)  # person level
    kind = np.array(["a", "b", "c"])[np.arange(items) % 3]  # item level
    dose = rng.normal(size=persons * items)  # row level
    eta = (-0.3 + 0.8 * trait[person] + np.where(kind[item] == "b", 0.5, 0.0) + 0.4 * dose
           + rng.normal(scale=0.7, size=persons)[person] + rng.normal(scale=0.5, size=items)[item])
    return pd.DataFrame({"y": rng.binomial(1, 1 / (1 + np.exp(-eta))), "trait": trait[person],
                         "kind": kind[item], "dose": dose, "person": person, "item": item})


def test_group_level_columns_are_found_per_factor(crossed):
    model = ml.Model("y ~ trait + kind + dose + (1 | person) + (1 | item)", crossed, family="bernoulli",
                     parameterization="centered")
    names = model.spec.fixed_names
    assert [[names[k] for k in columns] for columns in model.spec.group_level] == [["trait"], ["kindb", "kindc"]]
    plan = absorption(model.spec)
    assert plan.group_level == model.spec.group_level
    assert names.index("dose") not in plan.off_rows
    noncentered = ml.Model("y ~ trait + kind + dose + (1 | person) + (1 | item)", crossed, family="bernoulli",
                           parameterization="noncentered")
    assert absorption(noncentered.spec).off_rows == frozenset()


CASES = {
    "crossed logistic": ("y ~ trait + kind + dose + (1 | person) + (1 | item)", {"family": "bernoulli"}),
    # correlated random slope: the slope's mean is its fixed effect, the intercept's also holds trait
    "gaussian random slope": ("dose ~ trait + y + (1 + y | person)", {}),
}


@pytest.mark.parametrize("case", CASES)
def test_absorbed_and_plain_parameterizations_are_the_same_model(crossed, case):
    formula, options = CASES[case]
    model = ml.Model(formula, crossed, parameterization="centered", **options)
    spec, data = model.spec, model.data
    assert any(absorption(spec).group_level)
    plain = dataclasses.replace(spec, group_level=())
    assert not any(absorption(plain).group_level)
    designs = group_designs(spec, internal_design(spec, data), data.group_index)
    rng = np.random.default_rng(3)
    intercept, b = rng.normal(), rng.normal(size=len(spec.fixed))
    deviations = [rng.normal(scale=0.6, size=(len(block.factor.levels), block.size)) for block in spec.random]
    sds = {f"sd_{i}_{k}": np.array(0.5 + i + k / 2) for i, block in enumerate(spec.random) for k in range(block.size)}
    extra = {f"L_{i}": np.array([[1.0, 0.0], [0.3, np.sqrt(1 - 0.09)]]) for i, block in enumerate(spec.random)
             if block.has_correlations}
    if spec.family.has_residual_sd:
        extra["sigma"] = np.array(0.8)

    def constrained(absorbed: bool) -> dict:
        values = {"Intercept": np.array(intercept), "b": b, **sds, **extra}
        for i, u in enumerate(deviations):
            r = u.copy()
            factors = model_constants(spec)[f"mean factor {i}"]
            for k, source in enumerate(absorption(spec).sources[i]):
                if source == "intercept":
                    r[:, k] += intercept
                elif isinstance(source, int):
                    r[:, k] += b[source] * factors[k]
            if absorbed and i in designs:
                r[:, 0] += designs[i] @ b[list(absorption(spec).group_level[i])]
            values[f"r_{i}"] = r
        return {name: np.asarray(value)[None, None] for name, value in values.items()}

    densities = []
    for which, absorbed in ((spec, True), (plain, False)):
        density = log_density(which, data)
        draws = constrained(absorbed)
        densities.append(float(density.evaluate(density.flatten(draws))[0]))
        user = to_user_units(which, draws, data=data)
        scale = spec.scaling.outcome_scale if spec.family.has_residual_sd else 1.0
        for i, u in enumerate(deviations):  # the same deviations, in the data's units
            unit = scale / np.asarray(spec.scaling.random_column_sds[i])
            np.testing.assert_allclose(user[f"r_{i}"][0, 0], u * unit, atol=1e-12)
    assert np.isfinite(densities[0])
    assert densities[0] == pytest.approx(densities[1], abs=1e-8)


def test_which_columns_count_as_group_level(crossed):
    data = crossed.copy()
    data["obs"] = np.arange(len(data))  # one row per group: an observation-level effect absorbs nothing
    model = ml.Model("y ~ trait + dose + (1 | person) + (1 | obs)", data, family="bernoulli",
                     parameterization="centered")
    assert model.spec.group_level[1] == ()
    data.loc[data["person"] < 3, "trait"] = np.nan  # three persons' trait is imputed: it varies with the draws
    model = ml.Model("y ~ trait + kind + (1 | person) + (1 | item)", data, family="bernoulli",
                     parameterization="centered")
    assert model.spec.fixed_names.index("trait") not in absorption(model.spec).off_rows
    # nested factors: a school-level column goes to the schools, a class-level one to the classes
    rng = np.random.default_rng(11)
    school = np.repeat(np.arange(12), 40)
    cls = school * 4 + np.tile(np.repeat(np.arange(4), 10), 12)
    nested = pd.DataFrame({"school": school, "cls": cls, "w": rng.normal(size=12)[school],
                           "v": rng.normal(size=48)[cls], "x": rng.normal(size=480)})
    nested["y"] = nested["w"] + nested["v"] + nested["x"] + rng.normal(size=48)[cls] + rng.normal(size=480)
    model = ml.Model("y ~ w + v + x + (1 | school) + (1 | school:cls)", nested, parameterization="centered")
    names = model.spec.fixed_names
    assert [[names[k] for k in columns] for columns in absorption(model.spec).group_level] == [["w"], ["v"]]


def test_saved_fit_keeps_its_absorbed_columns(crossed, tmp_path):
    fit = ml.fit("y ~ trait + kind + dose + (1 | person) + (1 | item)", crossed, family="bernoulli",
                 parameterization="centered", chains=2, warmup=60, draws=40, seed=3, progress=False, warn=False)
    # the command line fits the same reparameterized model: the same seed gives the same numbers
    from multilevel.cli import main

    crossed.to_csv(tmp_path / "crossed.csv", index=False)
    assert main(["fit", "--data", str(tmp_path / "crossed.csv"), "--model",
                 "y ~ trait + kind + dose + (1 | person) + (1 | item)", "--family", "bernoulli",
                 "--parameterization", "centered", "--chains", "2", "--warmup", "60", "--draws", "40",
                 "--seed", "3", "--no-progress", "--json", str(tmp_path / "summary.json")]) == 0
    import json

    rows = json.loads((tmp_path / "summary.json").read_text())["summary"]
    from_cli = {next(iter(row.values())): row["mean"] for row in rows}
    summary = fit._summary
    assert set(summary.index) == set(from_cli) and any("item" in name for name in from_cli)
    for name in summary.index:
        assert from_cli[name] == pytest.approx(summary.loc[name, "mean"], rel=1e-9, abs=1e-12), name
    path = tmp_path / "fit.zip"
    fit.save(path)
    loaded = ml.load(path)
    for i in range(2):
        np.testing.assert_allclose(loaded.draws[f"r_{i}"], fit.draws[f"r_{i}"], rtol=1e-12)
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read("meta.json"))
        rest = {name: archive.read(name) for name in archive.namelist() if name != "meta.json"}
    assert meta["group level"] == [["trait"], ["kindb", "kindc"]]
    meta["group level"] = [[], []]  # as if saved by a version that absorbed nothing (format 2: no checksums)
    meta["format"] = 2
    del meta["arrays"], meta["data"], rest["checksums.json"]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("meta.json", json.dumps(meta))
        for name, content in rest.items():
            archive.writestr(name, content)
    with pytest.raises(ml.MultilevelError, match="refit the model"):
        ml.load(path)
