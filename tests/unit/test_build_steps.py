"""Each step of build_model called on its own, on a small frame, with its output checked."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from multilevel.errors import DataError, FormulaSpecificationError, SpecificationError
from multilevel.model import build as steps
from multilevel.model.build import build_model
from multilevel.model.centering import normalize_center
from multilevel.model.inputs import BuildOptions

FORMULA = "y ~ x + c + z + (1 + x | g)"


@pytest.fixture
def frame():
    return pd.DataFrame({"y": [1.0, 2.5, 2.0, 4.0, 3.5, 5.0, 4.5, 6.0],
                         "x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                         "z": [1.0, np.nan, 0.5, 1.5, np.nan, 2.0, 1.0, 0.0],  # incomplete predictor
                         "c": ["b", "a", "c", "a", "b", "c", "a", "b"],
                         "g": ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"]})


def run_steps(frame, formula=FORMULA, **options):
    """Every step in build_model's order; each output kept under the step's value name."""
    options = BuildOptions(**({"center": {"x": "group"}, "reference": {"c": "b"}} | options))
    s = SimpleNamespace()
    s.parsed = steps.read_inputs(formula, frame, options)
    s.response = steps.resolve_response(s.parsed)
    s.references = steps.referenced_columns(s.parsed, s.response)
    s.rows = steps.select_rows(s.parsed, s.response, s.references)
    s.groups = steps.grouping_factors(s.parsed, s.references.group_nodes, s.references.centering, s.rows.kept)
    s.resolved = steps.design_terms(s.parsed, s.response, s.references, s.rows.kept, s.groups)
    s.known = steps.known_values(s.resolved, s.rows, s.groups, s.references)
    s.terms = steps.store_group_means(s.resolved, s.known.values, s.groups)
    s.fixed = steps.fixed_design(s.terms.fixed, s.known.values, s.known.sampled, s.rows.n, True)
    s.random = steps.random_structures(s.parsed, s.response.family, s.groups, s.terms.random, s.known.values,
                                       s.known.sampled, s.rows.n)
    s.outcome = steps.outcome_values(s.parsed, s.response, s.rows.kept, s.terms.trials, s.terms.offset,
                                     s.known.values)
    s.scaling = steps.design_scaling(s.response.family, True, s.outcome, s.fixed, s.random)
    s.random = steps.choose_parameterizations("auto", s.response.family, s.outcome, s.random)
    s.priors = steps.assign_priors(None, s.response.family, True, s.fixed, s.random, s.scaling)
    s.missing = steps.missing_data_submodels(s.parsed, s.response, s.references, s.rows, s.terms, s.known,
                                             s.outcome, s.random, s.priors.style)
    return s


def test_response_references_and_rows(frame):
    s = run_steps(frame)
    assert (s.response.outcome, s.response.kind, str(s.response.family)) == ("y", "value", "gaussian(identity)")
    assert s.references.used == ("y", "x", "c", "z", "g")
    assert s.references.predictors == {"x", "c", "z"} and s.references.structural == {"g"}
    assert s.references.random_factor_names == ("g",)
    assert s.rows.n == 8 and s.rows.excluded == 0
    assert s.rows.imputable == {"y", "z"} and s.rows.incomplete == ("z",)


def test_listwise_rows_exclude_and_count(frame):
    s = run_steps(frame, missing="listwise")
    assert s.rows.n == 6 and s.rows.excluded == 2 and s.rows.exclusion_reasons == (("z", 2),)
    assert list(s.rows.kept.index) == [0, 2, 3, 5, 6, 7]


def test_resolved_variable_kinds_levels_and_codes(frame):
    s = run_steps(frame)
    kinds = {info.name: (info.kind, info.levels) for info in s.resolved.variables}
    assert kinds == {"x": ("numeric", None), "c": ("categorical", ("b", "a", "c")), "z": ("numeric", None)}
    np.testing.assert_array_equal(s.resolved.codes["c"], [0, 1, 2, 1, 0, 2, 1, 0])  # the reference "b" is code 0
    assert s.resolved.latent_means == frozenset()


def test_centering_choices_and_stored_group_means(frame):
    assert normalize_center({"x": "group", "z": "grand mean"}, frame, ("g",)) == {"x": "group:g", "z": "grand"}
    s = run_steps(frame)
    assert s.references.centering == (("x", "group:g"),)
    assert s.resolved.fixed[0].expression.factors[0].means is None  # not yet recorded
    centred = s.terms.fixed[0].expression.factors[0]
    assert centred.factor == "g" and centred.means == (0.5, 2.5, 4.5, 6.5)
    assert centred.levels == ("s1", "s2", "s3", "s4")


def test_design_columns_names_and_values(frame):
    s = run_steps(frame)
    assert s.fixed.names == ("x", "ca", "cc", "z") and s.fixed.dynamic == (3,)
    np.testing.assert_allclose(s.fixed.X[:, 0], [-0.5, 0.5] * 4)  # x centred within g
    np.testing.assert_array_equal(s.fixed.X[:, 1], (frame["c"] == "a").astype(float))
    np.testing.assert_array_equal(s.fixed.X[:, 2], (frame["c"] == "c").astype(float))
    np.testing.assert_array_equal(s.fixed.X_observed[:, 3], frame["z"])  # NaN where z is missing
    np.testing.assert_array_equal(s.fixed.X[[1, 4], 3], [1.0, 1.0])  # placeholder: z's observed mean


def test_groups_and_random_blocks(frame):
    s = run_steps(frame)
    group = s.groups["g"]
    assert group.levels == ("s1", "s2", "s3", "s4") and group.group_count == 4
    np.testing.assert_array_equal(group.codes, [0, 0, 1, 1, 2, 2, 3, 3])
    (block,) = s.random.blocks
    assert block.factor.name == "g" and block.factor.variables == ("g",)
    assert block.column_names == ("Intercept", "x") and block.correlated
    assert block.parameterization in ("centered", "noncentered")
    np.testing.assert_allclose(s.random.Z[0], np.column_stack([np.ones(8), [-0.5, 0.5] * 4]))


def test_scaling_and_default_priors(frame):
    s = run_steps(frame)
    y = frame["y"].to_numpy()
    assert s.scaling.outcome_location == pytest.approx(y.mean())
    assert s.scaling.outcome_scale == pytest.approx(y.std(ddof=1))
    x_sd = np.std([-0.5, 0.5] * 4, ddof=1)
    assert s.scaling.column_sds[0] == pytest.approx(x_sd)
    assert s.scaling.column_means[3] == pytest.approx(np.nanmean(frame["z"]))  # over the rows where z is known
    assert s.priors.style == "default"
    names = [assignment.parameter for assignment in s.priors.assignments]
    assert names == ["Intercept", "x", "ca", "cc", "z", "sd(Intercept | g)", "sd(x | g)", "cor(g)", "residual sd"]
    slope = s.priors.assignments[1].prior
    assert (slope.mu, slope.sigma) == (0.0, pytest.approx(2.5 * y.std(ddof=1) / x_sd))
    assert all(assignment.source == "default" for assignment in s.priors.assignments)


def test_submodel_for_the_incomplete_predictor(frame):
    s = run_steps(frame)
    assert s.known.incomplete == ("z",) and s.known.level_two == () and s.known.sampled == {"z"}
    (submodel,) = s.missing.submodels
    assert (submodel.outcome, submodel.family, submodel.missing_count) == ("z", "gaussian", 2)
    assert submodel.predictor_names == ("x", "ca", "cc") and submodel.factor.name == "g"
    assert submodel.location == pytest.approx(np.nanmean(frame["z"]))
    assert not s.missing.outcome_latent and not s.missing.selection


def test_the_steps_compose_to_build_model(frame):
    s = run_steps(frame)
    spec, data = build_model(FORMULA, frame, center={"x": "group"}, reference={"c": "b"})
    assert spec.fixed == s.fixed.columns and spec.priors == s.priors.assignments
    assert spec.submodels == s.missing.submodels and spec.scaling == s.scaling
    np.testing.assert_array_equal(data.X, s.fixed.X)


def test_level_two_values_known_in_their_cluster_are_filled(frame):
    frame = frame.assign(w=[1.0, np.nan, 2.0, 2.0, np.nan, np.nan, 0.5, 0.5])  # constant within g
    s = run_steps(frame, "y ~ x + w + (1 | g)")
    assert s.known.level_two == ("w",) and s.known.incomplete == ("w",)
    np.testing.assert_array_equal(s.known.values["w"][:2], [1.0, 1.0])  # filled from its cluster
    assert np.isnan(s.known.values["w"][4:6]).all()  # a cluster without an observed value stays missing
    assert frame["w"].isna().sum() == 3  # the caller's frame is untouched


def test_each_step_refuses_the_bad_input_it_owns(frame):
    with pytest.raises(FormulaSpecificationError, match="no column 'q'"):
        run_steps(frame, "y ~ x + q + (1 | g)")  # referenced_columns
    parsed = steps.read_inputs("y ~ x + (1 | g)", frame.assign(g=["s1"] * 8), BuildOptions())
    response = steps.resolve_response(parsed)
    references = steps.referenced_columns(parsed, response)
    rows = steps.select_rows(parsed, response, references)
    with pytest.raises(FormulaSpecificationError, match="only one level"):
        steps.grouping_factors(parsed, references.group_nodes, references.centering, rows.kept)
    parsed = steps.read_inputs("y ~ x + (1 | g)", frame.assign(g=["s1", None] * 4), BuildOptions())
    response = steps.resolve_response(parsed)
    references = steps.referenced_columns(parsed, response)
    with pytest.raises(DataError, match="cluster ID 'g' is missing in 4 row"):
        steps.select_rows(parsed, response, references)
    with pytest.raises(SpecificationError, match="center: 'latent' for 'x'|needs a grouping factor"):
        normalize_center({"x": "latent"}, frame, ())
    with pytest.raises(FormulaSpecificationError, match="binomial outcome needs its number of trials"):
        steps.resolve_response(steps.read_inputs("y ~ x", frame, BuildOptions(family="binomial")))
