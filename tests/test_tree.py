"""fit.tree is ArviZ-native: the user's names and units, dims ArviZ cannot mislabel, every group that applies.

ArviZ's own summary of the tree must give the rows of fit.summary() and fit.random_effects() (mean, sd and
the 2.5% / 97.5% quantiles), and ArviZ's PSIS-LOO the elpd of fit.loo().
"""

import warnings

import arviz_stats as azs
import numpy as np
import pytest

import multilevel as ml
from multilevel.results.naming import block_names, tree_name

from .conftest import quick

COMPARED = ["mean", "sd", "q2.5", "q97.5"]
CLASSES = ["Intercept", "fixed", "sd", "cor", "residual sd", "predictor model"]


@pytest.fixture(scope="module")
def slopes():
    return ml.fit("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"), **quick())


@pytest.fixture(scope="module")
def bernoulli():
    frame = ml.datasets.load("sleepstudy")
    frame["slow"] = (frame["Reaction"] > frame["Reaction"].median()).astype(int)
    return ml.fit("slow ~ Days + (1 | Subject)", frame, family="bernoulli", **quick())


@pytest.fixture(scope="module")
def missing_predictor():
    frame = ml.datasets.load("sleepstudy")
    frame["Days2"] = frame["Days"].astype(float) + np.random.default_rng(3).normal(size=len(frame))
    frame.loc[[4, 50, 99, 150], "Days2"] = np.nan
    frame.index = [f"r{k}" for k in range(len(frame))]  # text row labels
    return ml.fit("Reaction ~ Days2 + (1 | Subject)", frame, **quick())


def arviz_summary(tree):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # R-hat of constant draws
        table = azs.summary(tree, ci_prob=0.95, ci_kind="eti", round_to="none")
    return table.rename(columns={"eti95_lb": "q2.5", "eti95_ub": "q97.5"})


def assert_tree_matches_summaries(fit):
    table = arviz_summary(fit.tree)
    ours = fit.summary(CLASSES)
    assert len(ours) > 2
    for name, row in ours.iterrows():
        np.testing.assert_allclose(table.loc[tree_name(name), COMPARED].astype(float), row[COMPARED].astype(float),
                                   rtol=1e-10, err_msg=name)
    effects = fit.random_effects()
    variables = {names.factor: names.variable for names in block_names(fit.spec)}
    for _, row in effects.iterrows():
        label = f"{variables[row['factor']]}[{row['level']}, {row['term']}]"
        np.testing.assert_allclose(table.loc[label, COMPARED].astype(float), row[COMPARED].astype(float),
                                   rtol=1e-10, err_msg=label)
    return table


def test_arviz_summary_of_the_tree_is_fit_summary(slopes):
    table = assert_tree_matches_summaries(slopes)
    assert "Subject effects[308, Days]" in table.index
    # the row that ArviZ used to mislabel (dims of r_Subject out of the dataset's order): 308's Days slope
    assert table.loc["Subject effects[308, Days]", "mean"] == pytest.approx(
        slopes.draws["r_0"][..., 0, 1].mean(), rel=1e-12)
    assert set(slopes.summary().index) <= set(table.index)  # every reported parameter, under its own name


def test_bernoulli_and_missing_predictor_trees_match_their_summaries(bernoulli, missing_predictor):
    assert_tree_matches_summaries(bernoulli)
    assert "residual sd" not in bernoulli.tree["posterior"]
    table = assert_tree_matches_summaries(missing_predictor)
    assert "Days2 ~ Intercept" in table.index


def test_every_variable_lists_its_dims_in_the_groups_order(slopes, missing_predictor):
    for fit in (slopes, missing_predictor):
        for node in fit.tree.subtree:
            order = list(node.dataset.dims)
            for name, variable in node.dataset.data_vars.items():
                positions = [order.index(dim) for dim in variable.dims]
                assert positions == sorted(positions), (node.path, name)


def test_the_groups_arviz_knows(slopes):
    tree = slopes.tree
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data", "constant_data"} <= set(tree.children)
    stats = tree["sample_stats"]
    assert set(stats.data_vars) == {"diverging", "n_steps", "tree_depth", "energy", "acceptance_rate",
                                    "step_size", "lp"}
    assert stats["diverging"].dtype == bool
    constant = tree["constant_data"]
    np.testing.assert_array_equal(constant["fixed design"].sel(term="Days").values, slopes.data.X[:, 0])
    np.testing.assert_array_equal(constant["Subject index"].values, slopes.data.group_index[0])
    assert list(constant["Subject design"].coords["Subject term"].values) == ["Intercept", "Days"]
    levels = tree["posterior"]["Subject"].values
    assert levels[constant["Subject index"].values[0]] == "308"  # an index into the posterior's levels
    np.testing.assert_array_equal(tree["observed_data"]["Reaction"].values, slopes.data.y)


def test_arviz_loo_of_the_tree_is_fit_loo(slopes, bernoulli):
    for fit in (slopes, bernoulli):
        assert azs.loo(fit.tree).elpd == pytest.approx(fit.loo().elpd, rel=1e-12)


def test_imputed_values_are_labelled_by_row(missing_predictor):
    group = missing_predictor.tree["imputed_data"]
    values = group["Days2"]
    assert list(values.dims) == ["chain", "draw", "Days2 missing row"]
    assert list(values.coords["Days2 missing row"].values) == ["r4", "r50", "r99", "r150"]
    cells = missing_predictor.draws["imputed Days2"]
    np.testing.assert_allclose(values.values, cells)
    assert missing_predictor.tree["constant_data"]["obs_id"].values[4] == "r4"


def test_posterior_predictive_is_added_to_a_new_value(slopes):
    before = slopes.tree
    drawn = slopes.with_posterior_predictive(seed=5)
    assert "posterior_predictive" not in slopes.tree.children and slopes.tree is before  # unchanged
    replicated = drawn.tree["posterior_predictive"]["Reaction"]
    assert replicated.shape == (2, 100, 180)
    again = slopes.with_posterior_predictive(seed=5).tree["posterior_predictive"]["Reaction"]
    np.testing.assert_array_equal(replicated.values, again.values)
    # each replicate belongs to its own draw: it moves with that draw's fitted values
    eta = np.asarray(slopes.predict(kind="mean", summary=False)).reshape(2, 100, 180)  # draws chain-major
    correlation = np.mean([np.corrcoef(eta[..., i].ravel(), replicated.values[..., i].ravel())[0, 1]
                           for i in range(180)])
    assert correlation > 0.15
    assert drawn.summary().equals(slopes.summary())


def _texts(figure) -> set[str]:
    found = {text.get_text() for text in figure.findobj(lambda artist: hasattr(artist, "get_text"))}
    return {text for text in found if text}


def test_generic_figures_come_from_arviz_plots_with_the_users_names(slopes):
    import matplotlib.pyplot as pyplot

    for kind, expected in (("trace", "sd(Intercept | Subject)"), ("rank", "cor(Days, Intercept | Subject)"),
                           ("posterior", "residual sd"), ("forest", "Days"), ("ppc", "sd of Subject means")):
        figure = slopes.plot(kind)
        texts = _texts(figure)
        assert expected in texts, (kind, sorted(texts))
        assert not any(name in text for text in texts for name in ("sd_0", "r_0", "sigma", "b[")), kind
    assert pyplot.get_fignums() == []  # arviz-plots' figures are handed over, not left open in pyplot
