"""Bad input for models with missing data: each a clear error naming the culprit, before compiling."""

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel.cli import read_data
from multilevel.errors import DataError, SpecificationError


@pytest.fixture
def frame():
    rng = np.random.default_rng(1)
    n = 200
    data = pd.DataFrame({"y": rng.normal(size=n), "x1": rng.normal(size=n), "x2": rng.normal(size=n),
                         "aux": rng.normal(size=n), "g": np.repeat(np.arange(20), 10)})
    data.loc[:10, "x1"] = np.nan
    data.loc[5:15, "x2"] = np.nan
    data.loc[100:130, "y"] = np.nan
    return data


def test_an_all_missing_column_is_named(frame):
    frame["x3"] = np.nan
    with pytest.raises(DataError, match="column 'x3' has no observed values"):
        ml.Model("y ~ x1 + x3 + (1 | g)", frame)


def test_a_missing_cluster_id_is_an_error_with_missing_model(frame):
    frame.loc[[3, 7], "g"] = np.nan
    with pytest.raises(DataError, match=r"cluster ID 'g' is missing in 2 row\(s\) \(row labels 3, 7\)"):
        ml.Model("y ~ x1 + (1 | g)", frame)
    with pytest.warns(ml.api.ExcludedRowsWarning):  # listwise: excluded, and said
        assert ml.Model("y ~ x1 + (1 | g)", frame, missing="listwise").data.excluded_rows > 2


def test_predictor_models_that_form_a_cycle_are_refused(frame):
    with pytest.raises(SpecificationError, match=r"cycle \(x1 -> x2 -> x1\): x1 ~ x2; x2 ~ x1"):
        ml.Model("y ~ x1 + x2 + (1 | g)", frame, predictor_models=["x1 ~ x2", "x2 ~ x1"])
    with pytest.raises(SpecificationError, match=r"cycle \(x1 -> y -> x1\)"):  # the focal outcome closes it
        ml.Model("y ~ x1 + x2 + (1 | g)", frame, predictor_models=["x1 ~ y + x2"])


def test_a_selection_model_for_a_complete_variable_is_refused(frame):
    with pytest.raises(SpecificationError, match="'aux' has no missing values"):
        ml.Model("y ~ x1 + (1 | g)", frame, missingness_models=["aux.missing ~ x1"])


def test_auxiliary_models_come_first_so_the_automatic_ones_do_not_close_a_cycle(frame):
    model = ml.Model("y ~ x1 + x2 + (1 | g)", frame, predictor_models=["aux ~ y + x1 + x2"])
    models = {submodel.outcome: submodel.predictor_names for submodel in model.spec.submodels}
    assert models == {"aux": ("y", "x1", "x2"), "x1": ("x2",), "x2": ()}


def test_missingness_indicators_as_predictors(frame):
    model = ml.Model("y ~ x1 + x2 + x1.missing + (1 | g)", frame)
    assert "x1.missing" in model.spec.fixed_names
    models = {submodel.outcome: submodel.predictor_names for submodel in model.spec.submodels}
    assert models["x1"] == ("x2",) and models["x2"] == ("x1.missing",)  # never its own indicator
    assert "x1.missing" not in frame.columns  # computed in a copy
    with pytest.raises(SpecificationError, match="own missingness cannot shift"):
        ml.Model("x1 ~ y + x1.missing + (1 | g)", frame)
    with pytest.raises(SpecificationError, match="cycle"):
        ml.Model("y ~ x1 + x1.missing + (1 | g)", frame, missingness_models=["x1.missing ~ y"])


def test_a_missing_code_that_looks_like_a_real_value(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("a,b\n1,0\n2,3\n0,-99\n5,1\n")
    with pytest.raises(DataError, match="code 0 appears 1 time.*column 'a'.*1 to 5"):
        read_data(str(path), "0")
    assert read_data(str(path), "-99")["b"].isna().sum() == 1
    (tmp_path / "codes.imp").write_text("DATA: codes.csv;\nMISSING: 1;\nMODEL: a ~ b;\n")
    with pytest.raises(DataError, match="line 2: the missing-value code 1 .* column 'a'"):
        ml.load_script(tmp_path / "codes.imp")
