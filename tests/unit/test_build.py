import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel.errors import DataError, FormulaSpecificationError, SpecificationError
from multilevel.model.build import build_model


def test_categorical_treatment_coding_and_reference(sleepstudy):
    data = ml.datasets.load("mathach")
    spec, model_data = build_model("MathAch ~ SES*Sector + MEANSES + (1 + SES | School)", data,
                                   reference={"Sector": "Public"})
    assert spec.fixed_names == ("SES", "SectorCatholic", "MEANSES", "SES:SectorCatholic")
    catholic = (data["Sector"] == "Catholic").to_numpy(float)
    np.testing.assert_array_equal(model_data.X[:, 1], catholic)
    np.testing.assert_allclose(model_data.X[:, 3], data["SES"].to_numpy() * catholic)
    assert len(spec.random[0].factor.levels) == 160


def test_c_with_reference_and_full_coding_without_intercept():
    data = ml.datasets.load("anorexia")
    spec, _ = build_model("weight ~ time + C(Rx, ref=2) + (1 | girl)", data)
    assert spec.fixed_names == ("time", "C(Rx)1", "C(Rx)3")
    spec, X = build_model("weight ~ 0 + C(Rx) + (1 | girl)", data)
    assert spec.fixed_names == ("C(Rx)1", "C(Rx)2", "C(Rx)3") and not spec.intercept


def test_pandas_categorical_order_is_kept():
    data = ml.datasets.load("anorexia").assign(group=lambda d: pd.Categorical(
        d["Rx"].map({1: "cbt", 2: "control", 3: "family"}), categories=["control", "cbt", "family"]))
    spec, _ = build_model("weight ~ group + (1 | girl)", data)
    assert spec.fixed_names == ("groupcbt", "groupfamily")


def test_i_expressions_and_functions_are_evaluated_without_eval():
    data = pd.DataFrame({"y": [1.0, 2, 3, 5, 4, 6], "x": [1.0, 2, 3, 4, 5, 6], "g": list("aabbcc")})
    spec, model_data = build_model("y ~ I(x^2) + log(x) + scale(x) + (1 | g)", data)
    np.testing.assert_allclose(model_data.X[:, 0], data.x ** 2)
    np.testing.assert_allclose(model_data.X[:, 1], np.log(data.x))
    np.testing.assert_allclose(model_data.X[:, 2], (data.x - data.x.mean()) / data.x.std())


def test_nested_and_interaction_grouping_factors():
    data = pd.DataFrame({"y": np.arange(12.0), "a": list("aaaaaabbbbbb"), "b": list("xyxyxyxyxyxy")})
    spec, model_data = build_model("y ~ 1 + (1 | a/b)", data)
    assert [block.factor.name for block in spec.random] == ["a", "a:b"]
    assert spec.random[1].factor.levels == ("a:x", "a:y", "b:x", "b:y")


def test_centering_is_a_model_option_and_data_untouched():
    data = pd.DataFrame({"y": [1.0, 2, 3, 5, 4, 6], "x": [1.0, 2, 3, 4, 5, 9], "g": list("aabbcc")})
    before = data.copy()
    _, grand = build_model("y ~ x + (1 | g)", data, center={"x": "grand"})
    _, group = build_model("y ~ x + (1 | g)", data, center={"x": "group"})
    np.testing.assert_allclose(grand.X[:, 0], data.x - data.x.mean())
    np.testing.assert_allclose(group.X[:, 0], data.x - data.groupby("g").x.transform("mean"))
    pd.testing.assert_frame_equal(data, before)


def test_unknown_column_suggests_close_names():
    with pytest.raises(FormulaSpecificationError) as info:
        build_model("Reaction ~ Dayz + (1 | Subject)", ml.datasets.load("sleepstudy"))
    assert "Did you mean 'Days'" in str(info.value)
    assert str(info.value).splitlines()[2].strip() == "^^^^"


def test_unknown_function_is_named():
    with pytest.raises(FormulaSpecificationError, match="unknown function 'poly'"):
        build_model("Reaction ~ poly(Days) + (1 | Subject)", ml.datasets.load("sleepstudy"))


def _frame(**columns):
    base = {"y": [0.0, 1, 0, 1, 1, 0], "x": [1.0, 2, 3, 4, 5, 6], "g": list("aabbcc")}
    base.update(columns)
    return pd.DataFrame(base)


@pytest.mark.parametrize("formula, data, options, error, match", [
    ("y ~ x + (1 | g)", _frame(y=[0.0, 2, 0, 1, 1, 0]), {"family": "bernoulli"}, DataError, "must be 0 or 1"),
    ("y ~ x + (1 | g)", _frame(y=[0.0, -1, 0, 1, 1, 0]), {"family": "poisson"}, DataError, "non-negative whole"),
    ("y ~ x + (1 | g)", _frame(y=[0.0, 1.5, 0, 1, 1, 0]), {"family": "poisson"}, DataError, "non-negative whole"),
    ("y ~ x + (1 | g)", _frame(g=list("aaaaaa")), {}, FormulaSpecificationError, "only one level"),
    ("y ~ x + z + (1 | g)", _frame(z=[3.0] * 6), {}, DataError, "'z' are constant"),
    ("y ~ x + z + (1 | g)", _frame(z=[2.0, 4, 6, 8, 10, 12]), {}, DataError, "perfectly collinear"),
    ("y ~ x + (1 | g)", _frame(x=[1.0, 2, np.inf, 4, 5, 6]), {}, DataError, "infinite"),
    ("y ~ I(x^2) + (1 | g)", _frame(x=list("uvwxyz")), {}, FormulaSpecificationError, "cannot be used in arithmetic"),
    ("y ~ log(x) + (1 | g)", _frame(x=[0.0, 2, 3, 4, 5, 6]), {}, DataError, "not finite"),
    ("y ~ x + (1 | g)", _frame(), {"family": "gamma"}, SpecificationError, "unknown family"),
    ("y ~ x + (1 | g)", _frame(), {"priors": {"xx": ml.Normal(0, 1)}}, SpecificationError, "Did you mean 'x'"),
    ("y ~ x + (1 | g)", _frame(), {"priors": {"sd": ml.Normal(0, 1)}}, SpecificationError, "positive values"),
])
def test_bad_input_gets_a_clear_error(formula, data, options, error, match):
    with pytest.raises(error, match=match):
        build_model(formula, data, **options)


def test_numbers_stored_as_text_are_refused():
    data = pd.DataFrame({"y": np.arange(20.0), "x": [f"{v:.2f}" for v in np.linspace(0, 1, 20)],
                         "g": ["a", "b"] * 10})
    with pytest.raises(DataError, match="numbers stored as text"):
        build_model("y ~ x + (1 | g)", data)


def test_empty_data_and_all_missing():
    with pytest.raises(DataError, match="no rows"):
        build_model("y ~ x", pd.DataFrame({"y": [], "x": []}))
    with pytest.raises(DataError, match="every row has a missing value"):
        build_model("y ~ x", pd.DataFrame({"y": [1.0, np.nan], "x": [np.nan, 2.0]}), missing="listwise")
    with pytest.raises(DataError, match="missing in every row"):
        build_model("y ~ x", pd.DataFrame({"y": [np.nan, np.nan, np.nan], "x": [1.0, 2.0, 3.0]}))


def test_missing_rows_are_excluded_and_counted():
    data = ml.datasets.load("sleepstudy")
    data.loc[[0, 5, 7], "Days"] = np.nan
    with pytest.warns(ml.api.ExcludedRowsWarning, match="3 of 180 rows excluded"):
        model = ml.Model("Reaction ~ Days + (1 | Subject)", data, missing="listwise")
    assert model.data.n == 177 and model.data.excluded_rows == 3
    assert data["Days"].isna().sum() == 3  # the caller's frame is untouched


def test_gaussian_factor_with_a_level_per_row_is_refused():
    data = pd.DataFrame({"y": [1.0, 2, 3, 4], "id": list("abcd")})
    with pytest.raises(FormulaSpecificationError, match="a level for every row"):
        build_model("y ~ 1 + (1 | id)", data)


def test_binomial_forms_agree():
    data = ml.datasets.load("cbpp").assign(healthy=lambda d: d["size"] - d["incidence"])
    spec_a, a = build_model("incidence | trials(size) ~ period + (1 | herd)", data)
    spec_b, b = build_model("cbind(incidence, healthy) ~ period + (1 | herd)", data)
    assert spec_a.family.kind.name == "binomial" == spec_b.family.kind.name
    np.testing.assert_array_equal(a.trials, b.trials)
    np.testing.assert_array_equal(a.X, b.X)


def test_parameterization_choice_follows_information():
    spec, _ = build_model("r2 ~ Anger + (1 | id)", ml.datasets.load("verbagg"), family="bernoulli")
    assert spec.random[0].parameterization == "centered"  # 24 binary answers per person
    mathach = ml.datasets.load("mathach").assign(high=lambda d: (d["MathAch"] > 12).astype(int))
    spec, _ = build_model("high ~ SES + (1 + SES | School)", mathach, family="bernoulli")
    assert spec.random[0].parameterization == "noncentered"  # the SES slope is weakly informed
    spec, _ = build_model("weight ~ time + (1 | girl)", ml.datasets.load("anorexia"), parameterization="centered")
    assert spec.random[0].parameterization == "centered"


def test_gaussian_models_with_one_random_term_integrate_the_effects_out():
    spec, _ = build_model("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"))
    assert spec.random[0].parameterization == "marginalized"
    spec, _ = build_model("MathAch ~ SES + (1 + SES | School) + (1 | Sector)", ml.datasets.load("mathach"))
    assert {block.parameterization for block in spec.random} <= {"centered", "noncentered"}  # two terms
    with pytest.raises(ml.SpecificationError, match="marginalized"):
        build_model("r2 ~ Anger + (1 | id)", ml.datasets.load("verbagg"), family="bernoulli",
                    parameterization="marginalized")


def _two_factor_frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"y": rng.normal(100, 5, 60), "x": rng.normal(size=60), "A": list("pq") * 30,
                         "B": list("stu") * 20, "g": np.repeat(list("abcdef"), 10), "h": np.repeat(list("XY"), 30)})


def test_no_intercept_contrasts_follow_r():
    spec, _ = build_model("y ~ 0 + A + B + (1 | g)", _two_factor_frame())
    assert spec.fixed_names == ("Ap", "Aq", "Bt", "Bu")  # as model.matrix(~ 0 + A + B) in R


def test_no_intercept_gaussian_is_not_shifted():
    spec, _ = build_model("y ~ 0 + A + (1 | g)", _two_factor_frame())
    assert spec.scaling.outcome_location == 0.0


def test_categorical_only_in_a_random_term():
    spec, data = build_model("y ~ x + (1 + A | g)", _two_factor_frame())
    assert spec.random[0].column_names == ("Intercept", "Aq")
    np.testing.assert_array_equal(data.Z[0][:, 1], (_two_factor_frame()["A"] == "q").to_numpy(float))


def test_group_centering_within_an_interaction_factor():
    frame = _two_factor_frame()
    _, data = build_model("y ~ x + (1 | g)", frame, center={"x": "group:g:h"})
    expected = frame["x"] - frame.groupby(["g", "h"])["x"].transform("mean")
    np.testing.assert_allclose(data.X[:, 0], expected)


def test_group_centred_predictions_use_the_fitting_cluster_means():
    from multilevel.model.design import evaluate_design

    frame = _two_factor_frame()
    spec, data = build_model("y ~ x + (1 | g)", frame, center={"x": "group"})
    one_row = frame.iloc[[3]]
    design = evaluate_design(spec, one_row)
    assert design.X[0, 0] == pytest.approx(data.X[3, 0])
    new_cluster = pd.DataFrame({"x": [1.0, 3.0], "g": ["new", "new"]})
    np.testing.assert_allclose(evaluate_design(spec, new_cluster).X[:, 0], [-1.0, 1.0])


def test_poisson_intercept_prior_is_centred_on_the_rate_per_exposure():
    frame = pd.DataFrame({"y": [10, 20, 30, 40], "t": [100.0, 100, 100, 100], "g": list("aabb")})
    spec, _ = build_model("y ~ 1 + offset(log(t)) + (1 | g)", frame, family="poisson")
    assert spec.prior_for("Intercept").prior.mu == pytest.approx(np.log(0.25))
