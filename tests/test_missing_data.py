"""Missing values as unknowns of the model (continuous level-1 predictors and outcomes)."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import multilevel as ml
from multilevel.errors import SpecificationError

from .conftest import MAR_SETTINGS, quick, simulate_mar_on_outcome


@pytest.fixture(scope="module")
def mar_data():
    return simulate_mar_on_outcome(4)


def test_missing_predictor_values_are_imputed_and_remove_the_bias(mar_fit):
    frame, _, full = mar_fit
    pd.testing.assert_frame_equal(frame, simulate_mar_on_outcome(4)[0])  # the data are never modified
    listwise = ml.fit("y ~ x + z + (1 | g)", frame, missing="listwise", **MAR_SETTINGS)
    assert full.data.n == len(frame) and listwise.data.n == int(frame["x"].notna().sum())
    assert [submodel.outcome for submodel in full.spec.submodels] == ["x"]
    truth = {"Intercept": 1.0, "x": 0.8, "z": 0.5}
    summary, deleted = full.summary(), listwise.summary()
    assert summary.loc[list(truth), "ess_bulk"].min() > 400 and summary.loc[list(truth), "rhat"].max() < 1.01
    for name, value in truth.items():
        assert abs(summary.loc[name, "mean"] - value) < 3 * summary.loc[name, "sd"], name
    # listwise deletion (selection on y) drags the intercept down; the full model does not
    assert deleted.loc["Intercept", "mean"] < 1.0 - 2 * deleted.loc["Intercept", "sd"]
    assert abs(summary.loc["Intercept", "mean"] - 1.0) < abs(deleted.loc["Intercept", "mean"] - 1.0) / 2
    for name in ("x ~ Intercept", "x ~ z", "x ~ sd(Intercept | g)", "x ~ residual sd"):
        assert name in summary.index


def test_imputed_values_track_the_truth(mar_fit):
    frame, x_true, fit = mar_fit
    imputed = fit.draws["imputed x"].reshape(-1, fit.draws["imputed x"].shape[-1]).mean(axis=0)
    missing = frame["x"].isna().to_numpy()
    correlation = np.corrcoef(imputed, x_true[missing])[0, 1]
    z_only = abs(np.corrcoef(frame["z"].to_numpy()[missing], x_true[missing])[0, 1])
    assert correlation > z_only + 0.15  # the imputations use y (through the focal model), not only z


def test_missing_outcome_rows_stay_and_leave_the_likelihood():
    data = ml.datasets.load("sleepstudy")
    data.loc[[2, 40, 77], "Reaction"] = np.nan
    fit = ml.fit("Reaction ~ Days + (Days | Subject)", data, **quick())
    assert fit.data.n == 180 and int((~fit.data.outcome_observed).sum()) == 3
    assert fit.tree["observed_data"]["Reaction"].shape == (177,)
    assert 2 not in fit.tree["log_likelihood"]["Reaction"].coords["obs_id"].values
    assert np.isfinite(fit.summary()["mean"]).all()
    imputed = fit.draws["imputed Reaction"]  # missing Gaussian outcomes are parameters: draws of their values
    assert imputed.shape[-1] == 3 and np.all(np.isfinite(imputed))


def test_factored_order_follows_missing_rates():
    frame, _ = simulate_mar_on_outcome(5)
    frame.loc[frame.index[:30], "z"] = np.nan  # z: 30 missing; x: many more
    model = ml.Model("y ~ x + z + (1 | g)", frame)
    first, second = model.spec.submodels
    assert (first.outcome, second.outcome) == ("x", "z")
    assert first.predictor_names == ("z",) and second.predictor_names == ()


def test_unsupported_missing_types_say_what_to_do():
    frame, _ = simulate_mar_on_outcome(6)
    frame["level"] = np.where(frame["z"] > 0, 2.0, 1.0)
    frame.loc[frame.index[:5], "level"] = np.nan
    with pytest.raises(SpecificationError, match=r"C\(...\) in the formula; declare it nominal=\['level'\]"):
        ml.Model("y ~ x + C(level) + (1 | g)", frame)
    frame = frame.drop(columns="level")
    frame["w"] = frame.groupby("g")["z"].transform("mean").round(1)
    frame["x2"] = frame["x"]
    frame.loc[frame.index[:15], "w"] = np.nan
    with pytest.raises(SpecificationError, match="level-2 variable 'w' uses 'x2', which varies within clusters"):
        ml.Model("y ~ x + w + (1 | g)", frame, predictor_models=["w ~ x2"])


def test_cli_imputes_by_default_and_reports_it(tmp_path, capsys, mar_data):
    from multilevel.cli import main

    frame, _ = mar_data
    csv = tmp_path / "mar.csv"
    frame.to_csv(csv, index=False)
    assert main(["fit", "--data", str(csv), "--model", "y ~ x + z + (1 | g)", "--chains", "4", "--warmup", "300",
                 "--draws", "250", "--seed", "2", "--no-progress", "--json", str(tmp_path / "s.json")]) == 0
    printed = capsys.readouterr().out
    missing = int(frame["x"].isna().sum())
    assert f"missing values imputed within the model: x: {missing}" in printed
    assert "predictor model: x ~ 1 + z + (1 | g)" in printed and "x ~ residual sd" in printed
    for section in ("Information criteria (conditional on the imputations", "WAIC (marginal)", "LOO (conditional)",
                    "Correlations among level-1 residuals", "imputed data summaries"):
        assert section in printed, section
    import json

    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["data"]["imputed"] == {"x": missing}
    assert [row["criterion"] for row in summary["information_criteria"]] == [
        "DIC (conditional)", "DIC2 (conditional)", "WAIC (conditional)", "LOO (conditional)", "DIC2 (marginal)",
        "WAIC (marginal)", "LOO (marginal)"]
    assert summary["residual_correlations"][0]["parameter"] == "y, x"


def test_multiple_imputations_from_well_separated_draws(mar_fit, tmp_path):
    from multilevel.results.imputations import well_separated_draws

    frame, _, fit = mar_fit
    stacked = fit.imputations(5)
    assert list(stacked["imputation"].unique()) == [1, 2, 3, 4, 5] and len(stacked) == 5 * len(frame)
    missing = frame["x"].isna().to_numpy()
    first = stacked[stacked["imputation"] == 1]
    assert first["x"].notna().all()
    np.testing.assert_array_equal(first["x"].to_numpy()[~missing], frame["x"].to_numpy()[~missing])
    second = stacked[stacked["imputation"] == 2]
    assert not np.allclose(first["x"].to_numpy()[missing], second["x"].to_numpy()[missing])
    average = fit.average_imputation()
    draws = fit.draws["imputed x"].reshape(-1, int(missing.sum()))
    np.testing.assert_allclose(average["x"].to_numpy()[missing], draws.mean(axis=0))
    assert sorted(well_separated_draws(4, 100, 4) // 100) == [0, 1, 2, 3]  # one draw from each chain
    fit.save_imputations(tmp_path / "imps.csv", 3, tmp_path / "average.csv")
    assert pd.read_csv(tmp_path / "imps.csv")["imputation"].max() == 3


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_save_and_load_a_fit_with_imputations(mar_data, tmp_path):
    frame, _ = mar_data
    frame = frame.assign(aux=frame["z"] * 0.5 + 1)  # a variable used only by a stated predictor model
    fit = ml.fit("y ~ x + z + (1 | g)", frame, predictor_models=["x ~ z + aux"], **quick())
    fit.save(tmp_path / "imputed.zip")
    loaded = ml.load(tmp_path / "imputed.zip")
    pd.testing.assert_frame_equal(loaded.summary(), fit.summary())
    pd.testing.assert_frame_equal(loaded.imputations(3), fit.imputations(3))


def simulate_incomplete_ordinal(seed: int, clusters: int = 40, per_cluster: int = 15):
    """A 3-category ordinal predictor w (values 1, 2, 3) from a probit model on x, missing more often
    when x is high (MAR); y = 1 + 0.8 x + 0.6 w + u + e."""
    rng = np.random.default_rng(seed)
    n = clusters * per_cluster
    g = np.repeat(np.arange(clusters), per_cluster)
    x = rng.normal(size=n)
    latent = 0.7 * x + rng.normal(size=n)
    w = 1.0 + (latent > 0.0) + (latent > 1.0)  # thresholds 0 and 1: the second is 1 above the first
    y = 1 + 0.8 * x + 0.6 * w + rng.normal(scale=0.6, size=clusters)[g] + rng.normal(size=n)
    missing = rng.random(n) < norm.cdf(-0.5 + 0.8 * x)
    return pd.DataFrame({"y": y, "x": x, "w": np.where(missing, np.nan, w), "g": g}), w


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_incomplete_ordinal_predictor_is_summed_out_and_imputed():
    frame, w_true = simulate_incomplete_ordinal(5)
    fit = ml.fit("y ~ x + w + (1 | g)", frame, ordinal=["w"], **quick(chains=4, warmup=400, draws=300))
    summary = fit.summary()
    assert summary["ess_bulk"].min() > 150 and summary["rhat"].max() < 1.02
    for name, truth in {"x": 0.8, "w": 0.6, "w ~ x": 0.7, "w ~ threshold 2": 1.0}.items():
        assert abs(summary.loc[name, "median"] - truth) < 3 * summary.loc[name, "sd"], name
    missing = frame["w"].isna().to_numpy()
    stacked = fit.imputations(4)
    assert set(np.unique(stacked["w"])) == {1.0, 2.0, 3.0}  # imputed values are categories
    assert (fit.average_imputation()["w"].to_numpy()[missing].round() == w_true[missing]).mean() > 0.5
    assert "w ~ threshold 2" in summary.index and fit.spec.submodels[0].family == "ordinal"


def test_ordinal_log_probabilities_sum_to_one():
    import jax
    import jax.numpy as jnp

    from multilevel.backend.likelihood import special_functions
    from multilevel.model.submodel_kinds.ordinal import log_probability

    for xp in (np, jnp):  # the kind's log density is array-generic: the model's JAX and NumPy agree
        for mean in (-30.0, -1.0, 0.3, 4.0, 30.0):
            with jax.enable_x64(True):
                thresholds = xp.array([0.0, 0.7, 2.5])
                logs = [log_probability(xp.array([code]), xp.array([mean]), thresholds, xp, special_functions(xp))[0]
                        for code in range(4)]
            np.testing.assert_allclose(np.exp(np.array(logs, dtype=float)).sum(), 1.0, rtol=1e-10)
            expected = np.diff(norm.cdf(np.concatenate([[-np.inf], np.asarray(thresholds), [np.inf]]) - mean))
            np.testing.assert_allclose(np.exp(np.array(logs, dtype=float)), expected, atol=1e-12)


def test_ordinal_declarations_are_checked():
    frame, _ = simulate_incomplete_ordinal(6)
    with pytest.raises(SpecificationError, match="ordinal variable 'v' is not a column"):
        ml.Model("y ~ x + w + (1 | g)", frame, ordinal=["v"])
    frame["label"] = "a"
    with pytest.raises(SpecificationError, match="must be numeric"):
        ml.Model("y ~ x + w + (1 | g)", frame, ordinal=["label"])


def test_cli_fits_an_incomplete_ordinal_predictor_and_saves_imputations(tmp_path, capsys):
    from multilevel.cli import main

    frame, _ = simulate_incomplete_ordinal(7, clusters=20, per_cluster=10)
    frame.to_csv(tmp_path / "ordinal.csv", index=False)
    assert main(["fit", "--data", str(tmp_path / "ordinal.csv"), "--model", "y ~ x + w + (1 | g)", "--ordinal", "w",
                 "--chains", "2", "--warmup", "150", "--draws", "100", "--seed", "3", "--no-progress",
                 "--imputations", str(tmp_path / "imps.csv"), "--nimps", "3"]) == 0
    printed = capsys.readouterr().out
    assert "predictor model (ordinal probit, 3 categories): w ~ 1 + x + (1 | g)" in printed
    saved = pd.read_csv(tmp_path / "imps.csv")
    assert saved["imputation"].max() == 3 and set(saved["w"].unique()) <= {1.0, 2.0, 3.0}


def simulate_incomplete_level_two(seed: int, clusters: int = 60, per_cluster: int = 10):
    """A school-level w missing for whole clusters, more often when the complete level-2 z2 is high."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(clusters), per_cluster)
    z2 = rng.normal(size=clusters)
    w = 0.6 * z2 + rng.normal(scale=0.8, size=clusters)
    x = rng.normal(size=g.size)
    y = 1 + 0.5 * x + 0.8 * w[g] + 0.4 * z2[g] + rng.normal(0, 0.5, clusters)[g] + rng.normal(size=g.size)
    missing = rng.random(clusters) < norm.cdf(-0.7 + z2)
    frame = pd.DataFrame({"y": y, "x": x, "w": np.where(missing[g], np.nan, w[g]), "z2": z2[g], "g": g})
    return frame, w, missing


def test_level_two_variables_are_imputed_once_per_cluster():
    frame, w, missing = simulate_incomplete_level_two(8)
    known_cluster_row = int(np.flatnonzero(~missing)[0]) * 10 + 1
    frame.loc[known_cluster_row, "w"] = np.nan  # known from the cluster's other rows: not imputed
    original = frame.copy()
    fit = ml.fit("y ~ x + w + z2 + (1 | g)", frame, **quick(chains=4, warmup=300, draws=250))
    pd.testing.assert_frame_equal(frame, original)  # the caller's data are untouched
    submodel = fit.spec.submodels[0]
    assert submodel.level == 2 and submodel.missing_count == missing.sum() and submodel.predictor_names == ("z2",)
    summary = fit.summary()
    for name, truth in {"w": 0.8, "x": 0.5, "w ~ z2": 0.6, "w ~ residual sd": 0.8}.items():
        assert abs(summary.loc[name, "median"] - truth) < 3 * summary.loc[name, "sd"], name
    completed = fit.imputations(3)
    assert (completed.groupby(["imputation", "g"])["w"].nunique() == 1).all()  # one value per cluster
    assert completed.loc[completed["imputation"] == 1, "w"].iloc[known_cluster_row] == w[known_cluster_row // 10]
    imputed = fit.average_imputation().groupby("g")["w"].first().to_numpy()[missing]
    assert np.corrcoef(imputed, w[missing])[0, 1] > 0.5


def simulate_contextual(seed: int, clusters: int = 50, per_cluster: int = 8):
    """x = mu_j + w_ij with latent cluster means mu_j; y = 2 + 0.5 (x - mu_j) + 1.5 mu_j + u_j + e;
    20% of x missing completely at random."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(clusters), per_cluster)
    mu = rng.normal(size=clusters)
    x = mu[g] + rng.normal(size=g.size)
    y = 2 + 0.5 * (x - mu[g]) + 1.5 * mu[g] + rng.normal(0, 0.3, clusters)[g] + rng.normal(size=g.size)
    frame = pd.DataFrame({"y": y, "x": np.where(rng.random(g.size) < 0.2, np.nan, x), "g": g})
    return frame, mu


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_latent_group_means_give_within_and_between_effects():
    frame, mu = simulate_contextual(11)
    fit = ml.fit("y ~ x + latent_mean(x) + (1 | g)", frame, center={"x": "latent"},
                 **quick(chains=4, warmup=400, draws=300))
    summary = fit.summary()
    for name, truth in {"x": 0.5, "latent_mean(x)": 1.5}.items():
        assert summary.loc[name, "ess_bulk"] > 300
        assert abs(summary.loc[name, "median"] - truth) < 3 * summary.loc[name, "sd"], name
    means = fit.latent_means("x")
    assert len(means) == 50 and np.corrcoef(means["mean"], mu)[0, 1] > 0.9
    completed = fit.imputations(2)
    assert (completed.groupby(["imputation", "g"])["x.mean"].nunique() == 1).all()
    with pytest.raises(SpecificationError, match=r"no value for\s+new data"):
        fit.predict(frame.head())
    with pytest.raises(SpecificationError, match="clustered data"):
        ml.Model("y ~ latent_mean(x)", frame)


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_blimp_script_latent_means_and_groupmean_centering(tmp_path):
    frame, _ = simulate_contextual(12, clusters=20, per_cluster=6)
    frame.to_csv(tmp_path / "contextual.csv", index=False)
    (tmp_path / "contextual.imp").write_text("DATA: contextual.csv;\nCLUSTERID: g;\nMODEL: y ~ x x.mean;\n"
                                             "CENTER: groupmean = x;\nSEED: 5;\nBURN: 200;\nITERATIONS: 400;\n")
    translated = ml.load_script(tmp_path / "contextual.imp")
    assert translated.formula_text == "y ~ x + latent_mean(x) + (1 | g)"
    assert translated.options["center"] == {"x": "latent"}
    fit = ml.fit_script(tmp_path / "contextual.imp", chains=2, progress=False, warn=False)
    assert "latent_mean(x)" in fit.summary().index and "x.mean" in fit.imputations(2).columns


@pytest.mark.statistical
def test_auxiliary_variable_in_the_predictor_model_removes_bias():
    """x is missing when an auxiliary variable a (correlated 0.8 with x, not in the focal model) is high:
    MAR given a only. Stating x's model with a recovers the slope that the model without a biases."""
    rng = np.random.default_rng(21)
    clusters, per_cluster = 40, 15
    g = np.repeat(np.arange(clusters), per_cluster)
    x = rng.normal(size=g.size)
    a = 0.8 * x + 0.6 * rng.normal(size=g.size)
    y = 1 + 0.6 * x + rng.normal(scale=0.4, size=clusters)[g] + rng.normal(scale=0.8, size=g.size)
    missing = rng.random(g.size) < norm.cdf(-0.4 + 1.5 * a)
    frame = pd.DataFrame({"y": y, "x": np.where(missing, np.nan, x), "a": a, "g": g})
    settings = quick(chains=4, warmup=300, draws=250)
    with_aux = ml.fit("y ~ x + (1 | g)", frame, predictor_models=["x ~ a"], **settings)
    assert "a" not in with_aux.spec.fixed_names and with_aux.spec.submodels[0].predictor_names == ("a",)
    estimate = with_aux.summary().loc["x"]
    assert abs(estimate["median"] - 0.6) < 2.5 * estimate["sd"]
    imputed = with_aux.average_imputation()["x"].to_numpy()[missing]
    without = ml.fit("y ~ x + (1 | g)", frame, **settings).average_imputation()["x"].to_numpy()[missing]
    # the auxiliary variable carries the information about the missing values
    assert np.mean((imputed - x[missing]) ** 2) < 0.7 * np.mean((without - x[missing]) ** 2)


def simulate_incomplete_nominal(seed: int, clusters: int = 40, per_cluster: int = 15):
    """A 3-category nominal predictor (text a/b/c) from a multinomial logit on x, missing more often when x
    is high; y = 1 + 0.5 x + (0, 1, -0.8)[category] + u + e."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(clusters), per_cluster)
    x = rng.normal(size=g.size)
    logits = np.stack([np.zeros(g.size), 0.3 + x, -0.5 - x], axis=1)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    category = (rng.random(g.size)[:, None] > np.cumsum(probabilities, axis=1)).sum(axis=1)
    y = 1 + 0.5 * x + np.array([0.0, 1.0, -0.8])[category] + rng.normal(0, 0.5, clusters)[g] + rng.normal(size=g.size)
    missing = rng.random(g.size) < norm.cdf(-0.6 + 0.6 * x)
    labels = np.array(["a", "b", "c"], dtype=object)[category]
    return pd.DataFrame({"y": y, "x": x, "grp": np.where(missing, None, labels), "g": g}), labels


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_incomplete_nominal_predictor_is_summed_out_and_imputed():
    frame, labels = simulate_incomplete_nominal(5)
    fit = ml.fit("y ~ x + grp + (1 | g)", frame, **quick(chains=4, warmup=300, draws=250))
    summary = fit.summary()
    assert fit.spec.submodels[0].family == "nominal" and summary.loc[["x", "grpb", "grpc"], "rhat"].max() < 1.02
    for name, truth in {"x": 0.5, "grpb": 1.0, "grpc": -0.8, "grp[b] ~ x": 1.0, "grp[c] ~ x": -1.0}.items():
        assert abs(summary.loc[name, "median"] - truth) < 3 * summary.loc[name, "sd"], name
    missing = frame["grp"].isna().to_numpy()
    completed = fit.imputations(3)
    assert completed["grp"].notna().all() and set(completed["grp"]) == {"a", "b", "c"}
    assert (fit.average_imputation()["grp"].to_numpy()[missing] == labels[missing]).mean() > 0.5


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_pattern_mixture_indicator_recovers_the_shift():
    """Rows missing x differ in their outcome by 0.7 (a pattern-mixture effect); x.missing as a predictor
    estimates that shift, and x's slope stays right."""
    rng = np.random.default_rng(8)
    clusters, per_cluster = 30, 15
    g = np.repeat(np.arange(clusters), per_cluster)
    x = rng.normal(size=g.size)
    missing = rng.random(g.size) < 0.3
    y = 1 + 0.8 * x + 0.7 * missing + rng.normal(scale=0.4, size=clusters)[g] + rng.normal(scale=0.7, size=g.size)
    frame = pd.DataFrame({"y": y, "x": np.where(missing, np.nan, x), "g": g})
    fit = ml.fit("y ~ x + x.missing + (1 | g)", frame, **quick(chains=4, warmup=300, draws=250))
    summary = fit.summary()
    assert summary.loc[["x", "x.missing"], "rhat"].max() < 1.02
    for name, truth in {"x": 0.8, "x.missing": 0.7, "Intercept": 1.0}.items():
        assert abs(summary.loc[name, "median"] - truth) < 3 * summary.loc[name, "sd"], name


@pytest.mark.statistical
def test_auxiliary_variable_model_with_the_outcome_removes_bias():
    """y is missing when an auxiliary variable a (correlated with y, not in the focal model) is high; Blimp's
    auxiliary model a ~ y + x brings a's information to the missing outcomes and removes the bias."""
    rng = np.random.default_rng(31)
    clusters, per_cluster = 40, 15
    g = np.repeat(np.arange(clusters), per_cluster)
    x = rng.normal(size=g.size)
    y = 1 + 0.5 * x + rng.normal(scale=0.4, size=clusters)[g] + rng.normal(scale=0.8, size=g.size)
    a = 0.9 * (y - y.mean()) / y.std() + 0.45 * rng.normal(size=g.size)
    missing = rng.random(g.size) < norm.cdf(-0.5 + 1.5 * a)
    frame = pd.DataFrame({"y": np.where(missing, np.nan, y), "x": x, "a": a, "g": g})
    settings = quick(chains=4, warmup=300, draws=250)
    with_aux = ml.fit("y ~ x + (1 | g)", frame, predictor_models=["a ~ y + x"], **settings)
    without = ml.fit("y ~ x + (1 | g)", frame, **settings)
    estimate, biased = with_aux.summary().loc["Intercept"], without.summary().loc["Intercept"]
    assert biased["median"] < 1.0 - 2.5 * biased["sd"]  # without a, the missing high outcomes pull it down
    assert abs(estimate["median"] - 1.0) < 2.5 * estimate["sd"]
    assert "a ~ y" in with_aux.summary().index and "a" not in with_aux.spec.fixed_names


def simulate_level_two_discrete(seed: int, clusters: int = 60, per_cluster: int = 8):
    """Cluster-level sector (text, two categories) and size (ordinal 1/2/3) with missing clusters;
    y = 1 + 0.5 x + 0.8 [catholic] + 0.4 size + u + e; sector is missing more often in large clusters."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(clusters), per_cluster)
    w = rng.normal(size=clusters)  # a complete level-2 covariate
    size = 1 + (rng.random(clusters)[:, None] > np.array([0.35, 0.7])).sum(axis=1) + 0 * w
    catholic = rng.random(clusters) < norm.cdf(-0.3 + 0.8 * w)
    x = rng.normal(size=g.size)
    y = (1 + 0.5 * x + 0.8 * catholic[g] + 0.4 * size[g] + 0.3 * w[g] + rng.normal(scale=0.3, size=clusters)[g]
         + rng.normal(scale=0.7, size=g.size))
    sector = np.where(catholic, "catholic", "public").astype(object)
    sector_missing = rng.random(clusters) < np.where(size == 3, 0.4, 0.15)
    size_missing = rng.random(clusters) < 0.2
    frame = pd.DataFrame({"y": y, "x": x, "w": w[g], "g": g,
                          "sector": np.where(sector_missing[g], None, sector[g]),
                          "size": np.where(size_missing[g], np.nan, size[g].astype(float))})
    return frame, sector[g], size[g]


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_incomplete_discrete_level_two_variables_are_summed_out_per_cluster():
    frame, sector, size = simulate_level_two_discrete(3)
    formula = "y ~ x + sector + size + w + (1 | g)"
    settings = quick(chains=4, warmup=300, draws=250)
    fit = ml.fit(formula, frame, ordinal=["size"], reference={"sector": "public"}, **settings)
    models = {submodel.outcome: submodel for submodel in fit.spec.submodels}
    assert models["sector"].level == 2 and models["sector"].family == "nominal"
    assert models["size"].level == 2 and models["size"].family == "ordinal"
    summary = fit.summary()
    assert summary.loc[["sectorcatholic", "size", "x"], "rhat"].max() < 1.02
    for name, truth in {"sectorcatholic": 0.8, "size": 0.4, "x": 0.5, "w": 0.3}.items():
        assert abs(summary.loc[name, "median"] - truth) < 2.5 * summary.loc[name, "sd"], name
    completed = fit.imputations(4)
    for _, data in completed.groupby("imputation"):  # one value per cluster
        assert data.groupby("g")["sector"].nunique().max() == 1 and data.groupby("g")["size"].nunique().max() == 1
        assert set(data["size"]) <= {1.0, 2.0, 3.0} and data["sector"].notna().all()
    average = fit.average_imputation()
    hidden = frame["sector"].isna().to_numpy()
    assert (average["sector"].to_numpy()[hidden] == sector[hidden]).mean() > 0.5


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_group_centred_incomplete_predictor_in_fitted_row_computations():
    """Centring an imputed predictor within clusters: the fitted rows' linear predictor is recomputed per draw
    (information criteria, predictions, residual correlations), and new data use the observed cluster means."""
    frame, _ = simulate_mar_on_outcome(4)
    fit = ml.fit("y ~ x + z + (1 | g)", frame, center={"x": "group"}, **quick())
    assert np.isfinite(fit.information_criteria().loc["LOO", "elpd"])
    assert np.isfinite(fit.predict()["mean"]).all() and len(fit.residual_correlations()) == 1
    new = frame.dropna().head(5)
    assert np.isfinite(fit.predict(new)["mean"]).all()


def test_scale_and_grand_mean_centring_of_an_incomplete_predictor_use_its_observed_values():
    """As R's scale(): the observed values' mean and SD (before, the missing values made them NaN and
    scale() was refused as 'of a constant'); the imputed values go through the same transformation."""
    rng = np.random.default_rng(1)
    n = 240
    g = np.repeat(np.arange(24), 10)
    z = rng.normal(5, 2, n)
    frame = pd.DataFrame({"y": 1 + 0.5 * z + rng.normal(size=n), "z": z, "g": g})
    frame.loc[rng.random(n) < 0.2, "z"] = np.nan
    seen = frame["z"].dropna()
    scaled = ml.Model("y ~ scale(z) + (1 | g)", frame)
    factor = scaled.spec.fixed[0].expression.factors[0]
    assert (factor.mean, factor.sd) == pytest.approx((seen.mean(), seen.std(ddof=1)))
    centred = ml.Model("y ~ z + (1 | g)", frame, center={"z": "grand"})
    assert centred.spec.fixed[0].expression.factors[0].mean == pytest.approx(seen.mean())
    fit = scaled.fit(**quick())
    assert fit.summary().loc["scale(z)", "mean"] == pytest.approx(0.5 * seen.std(ddof=1), abs=0.25)
    assert fit.draws["imputed z"].shape[-1] == frame["z"].isna().sum()
