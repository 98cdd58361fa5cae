"""The whole pipeline on small models: reproducibility, reuse of the compiled sampler, results."""

import json
import os

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel.sampling import nuts

from .conftest import quick, simulate_random_slopes


@pytest.fixture(scope="module")
def sleep_fit():
    return ml.fit("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"), **quick())


def test_same_seed_gives_bit_identical_draws(sleep_fit):
    again = ml.fit("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"), **quick())
    for name, value in sleep_fit.draws.items():
        np.testing.assert_array_equal(value, again.draws[name])
    other = ml.fit("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"), **quick(seed=12))
    assert not np.array_equal(other.draws["b"], sleep_fit.draws["b"])


def test_compiled_sampler_is_reused(sleep_fit, monkeypatch):
    model = ml.Model("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"))
    compiled = []
    original = nuts.CompiledSampler._ensure_compiled

    def spy(self, arrays, keys, settings):
        compiled.append(self._compiled_chunk is None)
        return original(self, arrays, keys, settings)

    monkeypatch.setattr(nuts.CompiledSampler, "_ensure_compiled", spy)
    model.fit(**quick(seed=3))
    model.fit(**quick(seed=4))
    # warmup, draws, thinning and the target acceptance rate are inputs of the compiled program
    other = model.fit(**{**quick(seed=5), "warmup": 60, "draws": 40, "thin": 2, "target_accept": 0.9})
    assert compiled == [False, False, False]  # the fixture's fit compiled it; every run reuses it
    assert other.timings["compile"] == 0.0 and other.draws["b"].shape[1] == 40


def test_summary_names_columns_and_classes(sleep_fit):
    summary = sleep_fit.summary()
    assert list(summary.columns) == ["mean", "median", "sd", "q2.5", "q97.5", "rhat", "ess_bulk", "ess_tail",
                                     "mcse_mean"]
    expected = ["Intercept", "Days", "sd(Intercept | Subject)", "sd(Days | Subject)",
                "cor(Days, Intercept | Subject)", "var(Intercept | Subject)", "var(Days | Subject)",
                "cov(Days, Intercept | Subject)", "residual sd", "residual var", "ICC(Subject)"]
    assert list(summary.index) == expected
    row = summary.loc["var(Days | Subject)"]
    draws = sleep_fit.draws["sd_0"][..., 1] ** 2
    assert row["mean"] == pytest.approx(draws.mean())
    assert row["q97.5"] == pytest.approx(np.quantile(draws, 0.975))


def test_datatree_has_named_dims_and_groups(sleep_fit):
    tree = sleep_fit.tree
    assert set(tree.children) == {"posterior", "sample_stats", "log_likelihood", "observed_data", "constant_data"}
    posterior = tree["posterior"]
    assert list(posterior["Subject effects"].dims) == ["chain", "draw", "Subject", "Subject term"]
    assert list(posterior["Subject effects"].coords["Subject term"].values) == ["Intercept", "Days"]
    assert "308" in posterior["Subject effects"].coords["Subject"].values
    assert list(posterior.data_vars)[:2] == ["Intercept", "Days"]  # named as in summary()
    assert tree["sample_stats"]["diverging"].dtype == bool
    assert tree["log_likelihood"]["Reaction"].shape == (2, 100, 180)
    assert tree["posterior"].attrs["seed"] == 11


def test_log_likelihood_is_the_gaussian_density(sleep_fit):
    from scipy import stats

    values = sleep_fit.pointwise_log_likelihood()
    d = sleep_fit.draws
    index = sleep_fit.data.group_index[0]
    eta = (d["Intercept"][0, 0] + d["b"][0, 0, 0] * sleep_fit.data.X[:, 0] + d["r_0"][0, 0][index, 0]
           + d["r_0"][0, 0][index, 1] * sleep_fit.data.Z[0][:, 1])
    expected = stats.norm(eta, d["sigma"][0, 0]).logpdf(sleep_fit.data.y)
    np.testing.assert_allclose(values[0, 0], expected, rtol=1e-10)


def test_random_effects_table(sleep_fit):
    table = sleep_fit.random_effects()
    assert len(table) == 36 and set(table["term"]) == {"Intercept", "Days"}
    first = table.iloc[0]
    assert (first["factor"], first["level"], first["term"]) == ("Subject", "308", "Intercept")
    assert first["mean"] == pytest.approx(sleep_fit.draws["r_0"][..., 0, 0].mean())


def test_predict_seen_and_new_groups(sleep_fit):
    new = pd.DataFrame({"Days": [0.0, 9.0, 9.0], "Subject": ["308", "308", "someone new"]})
    prediction = sleep_fit.predict(new)
    d = sleep_fit.draws
    seen = (d["Intercept"] + 9 * d["b"][..., 0] + d["r_0"][..., 0, 0] + 9 * d["r_0"][..., 0, 1]).mean()
    assert prediction.loc[1, "mean"] == pytest.approx(seen)
    population = sleep_fit.predict(new, include_random=False)
    # a new subject's prediction centres on the population line but is much more uncertain
    assert abs(prediction.loc[2, "mean"] - population.loc[2, "mean"]) < 3 * prediction.loc[2, "sd"] / np.sqrt(200)
    assert prediction.loc[2, "sd"] > 3 * population.loc[2, "sd"]
    draws = sleep_fit.predict(new, kind="response", summary=False)
    assert draws.shape == (200, 3)


def test_save_and_load_round_trip(sleep_fit, tmp_path):
    path = tmp_path / "fit.zip"
    sleep_fit.save(path)
    loaded = ml.load(path)
    pd.testing.assert_frame_equal(loaded.summary(), sleep_fit.summary())
    assert loaded.spec == sleep_fit.spec
    new = pd.DataFrame({"Days": [3.0], "Subject": ["309"]})
    pd.testing.assert_frame_equal(loaded.predict(new), sleep_fit.predict(new))


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_recovers_simulated_random_slopes():
    data = simulate_random_slopes(seed=5, groups=60, per_group=15)
    fit = ml.fit("y ~ x + (1 + x | g)", data, chains=4, warmup=500, draws=500, seed=2, progress=False, warn=False)
    summary = fit.summary()
    assert summary["ess_bulk"].min() > 200 and summary["rhat"].max() < 1.02
    truth = {"Intercept": 2.0, "x": 0.5, "sd(Intercept | g)": 1.2, "sd(x | g)": 0.4, "residual sd": 0.8}
    for name, value in truth.items():
        row = summary.loc[name]
        assert abs(row["mean"] - value) < 3 * row["sd"], name  # coverage is checked in the statistical tier


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_recovers_simulated_logistic_and_poisson():
    rng = np.random.default_rng(8)
    groups = np.repeat(np.arange(50), 30)
    x = rng.normal(size=groups.size)
    u = rng.normal(scale=0.8, size=50)
    eta = -0.3 + 0.7 * x + u[groups]
    frame = pd.DataFrame({"x": x, "g": groups.astype(str), "yb": rng.random(groups.size) < 1 / (1 + np.exp(-eta)),
                          "yc": rng.poisson(np.exp(0.2 + 0.3 * x + 0.5 * u[groups]))})
    frame["yb"] = frame["yb"].astype(int)
    logistic = ml.fit("yb ~ x + (1 | g)", frame, family="bernoulli", **quick(chains=4, warmup=400, draws=300))
    poisson = ml.fit("yc ~ x + (1 | g)", frame, family="poisson", **quick(chains=4, warmup=400, draws=300))
    for fit, truth in ((logistic, {"Intercept": -0.3, "x": 0.7, "sd(Intercept | g)": 0.8}),
                       (poisson, {"Intercept": 0.2, "x": 0.3, "sd(Intercept | g)": 0.4})):
        summary = fit.summary()
        for name, value in truth.items():
            assert abs(summary.loc[name, "mean"] - value) < 3 * summary.loc[name, "sd"], name


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_probit_and_binomial_run_and_agree_in_sign():
    data = ml.datasets.load("cbpp")
    fit = ml.fit("incidence | trials(size) ~ period + (1 | herd)", data, **quick(chains=2, warmup=300, draws=200))
    summary = fit.summary()
    assert summary.loc["period4", "mean"] < 0 and summary.loc["Intercept", "mean"] < 0
    verb = ml.datasets.load("verbagg").iloc[:1200]
    probit = ml.fit("r2 ~ Anger + btype + (1 | id)", verb, family="bernoulli(probit)", **quick())
    assert probit.spec.family.link == "probit" and probit.summary().loc["btypeshout", "mean"] < 0


def test_offset_enters_the_linear_predictor():
    rng = np.random.default_rng(1)
    exposure = rng.uniform(1, 10, size=400)
    g = np.repeat(np.arange(20), 20)
    y = rng.poisson(exposure * np.exp(-1.0 + rng.normal(scale=0.3, size=20)[g]))
    frame = pd.DataFrame({"y": y, "t": exposure, "g": g.astype(str)})
    fit = ml.fit("y ~ 1 + offset(log(t)) + (1 | g)", frame, family="poisson", **quick(warmup=300, draws=200))
    row = fit.summary().loc["Intercept"]
    assert abs(row["mean"] + 1.0) < 3 * row["sd"] + 0.1


def test_convergence_warnings_come_with_advice():
    with pytest.warns(ml.ConvergenceWarning, match="Run more draws"):
        ml.fit("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"), chains=2, warmup=100,
               draws=50, seed=1, progress=False)


def test_cli_fit_writes_report_and_json(tmp_path, capsys):
    from multilevel.cli import main

    data = ml.datasets.load("sleepstudy")
    data.loc[3, "Days"] = np.nan
    csv = tmp_path / "sleep.csv"
    data.to_csv(csv, index=False)
    out = tmp_path / "summary.json"
    code = main(["fit", "--data", str(csv), "--model", "Reaction ~ Days + (Days | Subject)", "--chains", "2",
                 "--warmup", "150", "--draws", "100", "--seed", "11", "--json", str(out), "--no-progress",
                 "--prior", "Days=Normal(0, 20)", "--missing", "listwise"])
    assert code == 0
    printed = capsys.readouterr().out
    for text in ("rows used: 179", "rows excluded: 1", "Subject", "Fixed effects", "sd(Days | Subject)",
                 "Intraclass correlation", "Diagnostics", "Normal(0, 20)", "size median"):
        assert text in printed, text
    summary = json.loads(out.read_text())
    rows = {row["parameter"]: row for row in summary["summary"]}
    assert rows["Days"]["mean"] > 5 and summary["data"]["rows_excluded"] == 1
    assert summary["sampler"]["seed"] == 11


def test_cli_reports_errors_without_a_traceback(tmp_path, capsys):
    from multilevel.cli import main

    csv = tmp_path / "d.csv"
    ml.datasets.load("sleepstudy").to_csv(csv, index=False)
    code = main(["fit", "--data", str(csv), "--model", "Reaction ~ Dayz + (1 | Subject)"])
    assert code == 2
    error = capsys.readouterr().err
    assert "there is no column 'Dayz'" in error and "^^^^" in error


def test_new_data_of_the_same_shape_reuse_the_compilation(monkeypatch):
    created = []
    original = nuts.CompiledSampler.__init__

    def spy(self, *args, **kwargs):
        created.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(nuts.CompiledSampler, "__init__", spy)
    first = simulate_random_slopes(seed=21, groups=12, per_group=6)
    second = simulate_random_slopes(seed=22, groups=12, per_group=6)
    second["y"] = second["y"] * 10 + 3  # different scale: different default priors, same program
    # the automatic parameterization is part of the program; fix it so both data sets share it
    a = ml.fit("y ~ x + (1 + x | g)", first, parameterization="centered", **quick(seed=1))
    b = ml.fit("y ~ x + (1 + x | g)", second, parameterization="centered", **quick(seed=1))
    assert len(created) <= 1
    assert abs(b.summary().loc["Intercept", "mean"] - a.summary().loc["Intercept", "mean"]) > 1


def test_environment_fallback_is_recorded(monkeypatch):
    monkeypatch.setattr(nuts.jax, "local_device_count", lambda: 1)
    devices, per_device, notes = nuts._device_layout(4)
    assert (devices, per_device) == (1, 4)
    assert "vectorized" in notes[0] and "xla_force_host_platform_device_count" in notes[0]


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_cli_demo_runs(capsys):
    from multilevel.cli import main

    assert main(["demo", "--chains", "2", "--warmup", "100", "--draws", "100", "--seed", "3", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "sleepstudy" in printed and "Reaction ~ Days + (Days | Subject)" in printed and "ICC(Subject)" in printed


def test_cell_means_model_without_intercept():
    data = ml.datasets.load("anorexia")
    fit = ml.fit("weight ~ 0 + C(Rx) + (1 | girl)", data, **quick(chains=2, warmup=300, draws=300))
    summary = fit.summary()
    for level, mean in data.groupby("Rx")["weight"].mean().items():
        assert abs(summary.loc[f"C(Rx){level}", "mean"] - mean) < 3 * summary.loc[f"C(Rx){level}", "sd"]


def test_model_without_fixed_effects_predicts_and_converts():
    data = ml.datasets.load("sleepstudy")
    fit = ml.fit("Reaction ~ 0 + (1 | Subject)", data, **quick())
    assert fit.predict(data.head(2)).shape == (2, 4)
    assert "log_likelihood" in fit.tree.children


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_save_load_keeps_per_block_parameterization(tmp_path):
    data = ml.datasets.load("sleepstudy")
    fit = ml.fit("Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)", data,
                 parameterization=["centered", "noncentered"], **quick())
    assert [block.parameterization for block in fit.spec.random] == ["centered", "noncentered"]
    fit.save(tmp_path / "two_blocks.zip")
    loaded = ml.load(tmp_path / "two_blocks.zip")
    pd.testing.assert_frame_equal(loaded.summary(), fit.summary())


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux /proc")
def test_a_process_fitting_many_models_keeps_its_memory_maps_bounded():
    """Each loaded XLA executable holds memory maps; past vm.max_map_count (65,530) the process aborts. A
    simulation study fits a new model structure per data set: the sampler cache must let old ones go."""
    from multilevel.sampling import nuts

    def maps():
        with open("/proc/self/maps") as handle:
            return sum(1 for _ in handle)

    import jax

    nuts._CACHE.clear()  # start from an empty sampler cache, whatever ran before in this process
    jax.clear_caches()
    rng = np.random.default_rng(0)
    counts = []
    for k in range(nuts._CACHE_LIMIT + 4):
        g = np.repeat(np.arange(8), 6 + k)  # a new shape each time: a new compiled sampler
        frame = pd.DataFrame({"y": rng.normal(size=g.size), "x": rng.normal(size=g.size), "g": g})
        ml.fit("y ~ x + (1 | g)", frame, **quick(warmup=20, draws=20))
        counts.append(maps())
    assert len(nuts._CACHE) <= nuts._CACHE_LIMIT
    growth_after_full = counts[-1] - counts[nuts._CACHE_LIMIT]
    per_model = (counts[nuts._CACHE_LIMIT - 1] - counts[0]) / (nuts._CACHE_LIMIT - 1)
    assert per_model > 100 and growth_after_full < 1.5 * per_model, counts  # stopped growing once full
