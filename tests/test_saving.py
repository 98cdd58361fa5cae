"""Saved fits as NetCDF4 DataTrees: readable with xarray alone, loaded back as the same fit; zip files still load;
the format is told by the content; damaged and foreign files get a clear error naming the file."""

import json
import shutil
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import multilevel as ml

from .conftest import load_error, quick


@pytest.fixture(scope="module")
def sleep_data():
    return ml.datasets.load("sleepstudy")


@pytest.fixture(scope="module")
def fit(sleep_data):
    return ml.fit("Reaction ~ Days + (Days | Subject)", sleep_data, **quick())


@pytest.fixture(scope="module")
def saved(fit, tmp_path_factory):
    path = tmp_path_factory.mktemp("nc") / "fit.nc"
    fit.save(path)
    return path


def test_a_nc_file_loads_as_the_same_fit(fit, saved):
    assert saved.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"  # NetCDF4 (HDF5), not zip
    loaded = ml.load(saved)
    pd.testing.assert_frame_equal(loaded.summary(), fit.summary())
    pd.testing.assert_frame_equal(loaded.random_effects(), fit.random_effects())
    for name, value in fit.raw.constrained.items():
        np.testing.assert_array_equal(loaded.raw.constrained[name], value)
        assert loaded.raw.constrained[name].dtype == np.asarray(value).dtype
    for name, value in fit.raw.stats.items():
        np.testing.assert_array_equal(loaded.raw.stats[name], value)
        assert loaded.raw.stats[name].dtype == np.asarray(value).dtype
    assert loaded.seed == fit.seed and loaded.config == fit.config
    xr.testing.assert_identical(loaded.tree["posterior"].to_dataset(), fit.tree["posterior"].to_dataset())


def test_xarray_alone_reads_the_file(saved):
    script = textwrap.dedent(f"""
        import json, sys
        import xarray as xr
        tree = xr.open_datatree({str(saved)!r})
        assert 'multilevel' not in sys.modules
        assert {{'posterior', 'sample_stats', 'observed_data', 'log_likelihood', 'constant_data'}} <= set(tree.children)
        assert tree.attrs['formula'] == 'Reaction ~ Days + (Days | Subject)'
        assert tree.attrs['family'] == 'gaussian(identity)' and tree.attrs['seed'] == 11
        assert json.loads(tree.attrs['sampler'])['chains'] == 2
        assert any(item['parameter'] == 'sd(Days | Subject)' for item in json.loads(tree.attrs['priors']))
        assert json.loads(tree.attrs['data'])['rows'] == 180
        assert 'multilevel' in json.loads(tree.attrs['versions'])
        print(float(tree['posterior']['Days'].mean()), float(tree['posterior']['Subject effects'].sel(
            Subject='308', **{{'Subject term': 'Days'}}).mean()))
        assert 'multilevel' not in sys.modules
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=saved.parent,
                          env={"PATH": "/usr/bin:/bin"}, timeout=120)
    assert done.returncode == 0, done.stderr
    days, slope_308 = map(float, done.stdout.split())
    fit = ml.load(saved)
    assert days == pytest.approx(fit.summary().loc["Days", "mean"], rel=1e-12)
    effects = fit.random_effects()
    row = effects[(effects["level"] == "308") & (effects["term"] == "Days")]
    assert slope_308 == pytest.approx(float(row["mean"].iloc[0]), rel=1e-12)


def test_format_follows_the_suffix_and_loading_the_content(fit, saved, tmp_path):
    zipped = tmp_path / "fit.zip"
    fit.save(zipped)
    assert zipped.read_bytes()[:2] == b"PK"
    renamed_zip, renamed_nc = tmp_path / "zip-really.nc", tmp_path / "fit.saved"
    shutil.copy(zipped, renamed_zip)
    shutil.copy(saved, renamed_nc)
    fit.save(tmp_path / "other.fit")  # any suffix but .zip: NetCDF4
    assert (tmp_path / "other.fit").read_bytes()[:4] == b"\x89HDF"
    for path in (renamed_zip, renamed_nc, tmp_path / "other.fit"):
        pd.testing.assert_frame_equal(ml.load(path).summary(), fit.summary())


def test_saved_without_data(fit, sleep_data, tmp_path):
    path = tmp_path / "private.nc"
    fit.save(path, include_data=False)
    with xr.open_datatree(path) as tree:  # nothing in the file holds the outcome's values
        assert not {"observed_data", "constant_data", "log_likelihood", "imputed_data"} & set(tree.children)
        assert {"posterior", "sample_stats"} <= set(tree.children)
    assert "was saved without its data" in load_error(path)
    pd.testing.assert_frame_equal(ml.load(path, data=sleep_data).summary(), fit.summary())
    other = sleep_data.copy()
    other.loc[3, "Reaction"] += 1.0
    assert "these are not the data the fit was made with" in load_error(path, data=other)


def test_truncated_and_foreign_files_are_named(saved, tmp_path):
    content = saved.read_bytes()
    for length in (8, 2000, len(content) // 2, len(content) - 10):
        cut = tmp_path / f"cut{length}.nc"
        cut.write_bytes(content[:length])
        message = load_error(cut)
        assert str(cut) in message and "is not a complete saved fit" in message, message
    foreign = tmp_path / "weather.nc"
    xr.Dataset({"temperature": ("time", np.arange(3.0))}).to_netcdf(foreign, engine="h5netcdf")
    message = load_error(foreign)
    assert str(foreign) in message and "not a saved multilevel fit" in message
    classic = tmp_path / "classic.nc"
    classic.write_bytes(b"CDF\x01" + bytes(100))
    assert "NetCDF classic file, not a saved fit" in load_error(classic)


def _rewritten(saved, tmp_path, change) -> str:
    tree = xr.open_datatree(saved).load()
    change(tree)
    path = tmp_path / "edited.nc"
    tree.to_netcdf(path, engine="h5netcdf")
    return load_error(path)


def test_edited_files_fail_their_checks(saved, tmp_path):
    def draws(tree):
        node = tree["multilevel/constrained"]
        name = next(key for key, item in node.data_vars.items() if item.attrs["site"] == "constrained/sigma")
        node[name] = node[name] * 1.01

    assert "'constrained/sigma' was changed after the fit was saved" in _rewritten(saved, tmp_path, draws)

    def seed(tree):
        meta = json.loads(tree.attrs["multilevel_meta"])
        meta["seed"] = 2
        tree.attrs["multilevel_meta"] = json.dumps(meta)

    assert "multilevel_meta was changed after the fit was saved" in _rewritten(saved, tmp_path, seed)

    def stats(tree):
        tree["sample_stats"] = tree["sample_stats"].to_dataset().drop_vars("lp")

    message = _rewritten(saved, tmp_path, stats)
    assert "has no array 'stats/lp'" in message

    def table(tree):
        tree["multilevel"]["data"] = xr.DataArray("{}")

    assert "/multilevel/data was changed" in _rewritten(saved, tmp_path, table)


def test_groups_drawn_for_a_fit_are_saved(fit, tmp_path):
    drawn = fit.with_posterior_predictive(seed=3)
    drawn.save(tmp_path / "ppc.nc")
    loaded = ml.load(tmp_path / "ppc.nc")
    xr.testing.assert_identical(loaded.tree["posterior_predictive"].to_dataset(),
                                drawn.tree["posterior_predictive"].to_dataset())


def test_imputed_fit_and_names_netcdf_cannot_hold(tmp_path):
    frame = ml.datasets.load("sleepstudy")
    frame["Days/2"] = frame["Days"] / 2 + np.random.default_rng(1).normal(size=len(frame))
    frame.loc[[3, 30, 60], "Days/2"] = np.nan
    frame.index = [f"row {k}" for k in range(len(frame))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ml.fit("Reaction ~ `Days/2` + (1 | Subject)", frame, **quick())
    fit.save(tmp_path / "imputed.nc")
    tree = xr.open_datatree(tmp_path / "imputed.nc")
    assert "Days\u22152" in tree["posterior"]  # '/' separates groups: shown as the division slash
    imputed = tree["imputed_data"]["Days\u22152"]
    assert list(imputed.coords["Days\u22152 missing row"].values) == ["row 3", "row 30", "row 60"]
    loaded = ml.load(tmp_path / "imputed.nc")
    pd.testing.assert_frame_equal(loaded.summary(), fit.summary())
    assert "Days/2" in loaded.summary().index
    fit.save(tmp_path / "imputed.zip")  # text row labels survive the zip archive too (they were lost before)
    pd.testing.assert_frame_equal(ml.load(tmp_path / "imputed.zip").summary(), fit.summary())
