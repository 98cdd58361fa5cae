"""Saved fits: checked on load (truncated, damaged, edited, wrong shapes), written atomically, and
optionally saved without their data (a fingerprint instead)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel.results import persistence

from .conftest import load_error


@pytest.fixture(scope="module")
def sleep_data():
    return ml.datasets.load("sleepstudy")


@pytest.fixture(scope="module")
def tiny_fit(sleep_data):
    return ml.fit("Reaction ~ Days + (1 | Subject)", sleep_data, chains=2, warmup=100, draws=50, seed=1,
                  progress=False, warn=False)


@pytest.fixture(scope="module")
def saved(tiny_fit, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "fit.zip"
    tiny_fit.save(path)
    return path


def members_of(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_members(path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def with_arrays(members: dict, change, *, format_two: bool = False) -> dict:
    """The archive with its draws changed by ``change(arrays)``, meta.json and checksums made consistent
    (as a careless tool would), or rewritten as a format-2 file (no checksums, no shapes)."""
    members = dict(members)
    stored = np.load(io.BytesIO(members["draws.npz"]))
    arrays = {name: stored[name] for name in stored.files}
    change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    members["draws.npz"] = buffer.getvalue()
    meta = json.loads(members["meta.json"])
    if format_two:
        meta["format"] = 2
        del meta["arrays"], meta["data"]
        members.pop("checksums.json")
    else:
        meta["arrays"] = {name: {"shape": list(value.shape), "dtype": value.dtype.str}
                          for name, value in arrays.items()}
    members["meta.json"] = json.dumps(meta).encode()
    if not format_two:
        members["checksums.json"] = json.dumps({name: hashlib.sha256(content).hexdigest() for name, content
                                                in members.items() if name != "checksums.json"}).encode()
    return members


def test_saved_fit_has_format_3_with_checksums_and_shapes(saved, tiny_fit):
    members = members_of(saved)
    assert set(members) == {"meta.json", "data.json", "draws.npz", "checksums.json"}
    meta = json.loads(members["meta.json"])
    assert meta["format"] == 3
    assert meta["arrays"]["constrained/sigma"] == {"shape": [2, 50], "dtype": "<f8"}
    assert meta["data"]["included"] is True and meta["data"]["rows"] == 180
    sums = json.loads(members["checksums.json"])
    assert sums == {name: hashlib.sha256(members[name]).hexdigest() for name in ("meta.json", "data.json", "draws.npz")}
    loaded = ml.load(saved)
    pd.testing.assert_frame_equal(loaded.summary(), tiny_fit.summary())


def test_truncated_file_is_one_clear_error(saved, tmp_path):
    content = saved.read_bytes()
    for length in (len(content) // 2, len(content) - 30, 10):
        broken = tmp_path / f"cut{length}.zip"
        broken.write_bytes(content[:length])
        message = load_error(broken)
        assert f"'{broken}' is not a complete saved fit (it may be truncated or edited)" in message
        assert "save the fit again" in message


def test_not_a_zip_and_empty_file(tmp_path):
    text = tmp_path / "notes.zip"
    text.write_text("Reaction ~ Days\n")
    assert "is not a saved fit: it is not a zip archive" in load_error(text)
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    assert "the file is empty" in load_error(empty)


def test_missing_path_and_folder(tmp_path):
    assert "does not exist" in load_error(tmp_path / "nothing.zip")
    assert "is a folder" in load_error(tmp_path)


@pytest.mark.parametrize("member", ["meta.json", "data.json", "draws.npz"])
def test_an_edited_member_fails_its_checksum(saved, tmp_path, member):
    members = members_of(saved)
    if member == "meta.json":
        meta = json.loads(members[member])
        meta["seed"] = 2
        members[member] = json.dumps(meta).encode()
    elif member == "data.json":
        data = json.loads(members[member])
        data["columns"]["Reaction"]["values"][0] += 1.0
        members[member] = json.dumps(data).encode()
    else:
        content = bytearray(members[member])
        content[len(content) // 2] ^= 0xFF  # one byte of the compressed draws flipped
        members[member] = bytes(content)
    write_members(tmp_path / "edited.zip", members)
    assert f"{member} was changed after the fit was saved" in load_error(tmp_path / "edited.zip")


@pytest.mark.parametrize("member", ["meta.json", "data.json", "draws.npz", "checksums.json"])
def test_a_missing_member_is_named(saved, tmp_path, member):
    members = members_of(saved)
    del members[member]
    write_members(tmp_path / "partial.zip", members)
    message = load_error(tmp_path / "partial.zip")
    assert "is not a complete saved fit" in message and member in message


def test_bad_json_and_missing_keys(saved, tmp_path):
    members = members_of(saved)
    members["meta.json"] = b'{"format": 3, "formula": '
    write_members(tmp_path / "json.zip", members)
    assert "meta.json is not valid JSON" in load_error(tmp_path / "json.zip")
    members = with_arrays(members_of(saved), lambda arrays: None, format_two=True)
    meta = json.loads(members["meta.json"])
    del meta["config"]
    members["meta.json"] = json.dumps(meta).encode()
    write_members(tmp_path / "keys.zip", members)
    assert "meta.json has no 'config'" in load_error(tmp_path / "keys.zip")


def test_a_newer_format_asks_for_an_upgrade(saved, tmp_path):
    members = with_arrays(members_of(saved), lambda arrays: None, format_two=True)
    meta = json.loads(members["meta.json"])
    meta["format"] = 9
    members["meta.json"] = json.dumps(meta).encode()
    write_members(tmp_path / "future.zip", members)
    assert "newer version of multilevel" in load_error(tmp_path / "future.zip")


def test_draws_of_the_wrong_length_are_detected(saved, tmp_path):
    def shorten(arrays):
        arrays["constrained/sigma"] = arrays["constrained/sigma"][:, :49]

    for format_two in (False, True):
        write_members(tmp_path / "short.zip", with_arrays(members_of(saved), shorten, format_two=format_two))
        message = load_error(tmp_path / "short.zip")
        assert "'constrained/sigma' has shape (2, 49)" in message and "must start with (2, 50)" in message


def test_draws_that_do_not_fit_the_model_are_detected(saved, tmp_path):
    cases = {
        "wider": (lambda a: a.update({"constrained/b": np.concatenate([a["constrained/b"]] * 2, axis=2)}),
                  "the draws of 'b' are of shape (2,) each, the model's 'b' has shape (1,)"),
        "fewer groups": (lambda a: a.update({"constrained/r_0": a["constrained/r_0"][:, :, :5]}),
                         "the draws of 'r_0' are of shape (5, 1) each, the model's 'r_0' has shape (18, 1)"),
        "missing site": (lambda a: a.pop("constrained/sd_0_0"), "has no draws of 'sd_0_0'"),
        "extra site": (lambda a: a.update({"constrained/tau": a["constrained/sigma"]}),
                       "holds draws of 'tau', which the model does not have"),
        "wrong dtype": (lambda a: a.update({"stats/diverging": a["stats/diverging"].astype(float)}),
                        "'diverging' holds float64 values"),
        "text": (lambda a: a.update({"constrained/sigma": a["constrained/sigma"].astype("U8")}),
                 "holds <U8 values, not numbers"),
    }
    for name, (change, expected) in cases.items():
        for format_two in (False, True):  # consistent checksums do not make a wrong file right
            write_members(tmp_path / "wrong.zip", with_arrays(members_of(saved), change, format_two=format_two))
            message = load_error(tmp_path / "wrong.zip")
            assert expected in message, (name, message)
            assert "is not a complete saved fit" in message


def test_format_two_files_are_still_read(saved, tiny_fit, tmp_path):
    write_members(tmp_path / "old.zip", with_arrays(members_of(saved), lambda arrays: None, format_two=True))
    pd.testing.assert_frame_equal(ml.load(tmp_path / "old.zip").summary(), tiny_fit.summary())


def test_expected_shapes_are_those_of_the_fit(tiny_fit):
    constrained, unconstrained = persistence.expected_draw_shapes(tiny_fit.spec, tiny_fit.data)
    assert constrained == {name: value.shape[2:] for name, value in tiny_fit.raw.constrained.items()}
    assert {name: value.shape[2:] for name, value in tiny_fit.raw.warmup.items()} == {
        name: unconstrained[name] for name in tiny_fit.raw.warmup}


def test_save_without_data_round_trip_and_errors(tiny_fit, sleep_data, tmp_path):
    path = tmp_path / "private.zip"
    tiny_fit.save(path, include_data=False)
    members = members_of(path)
    assert "data.json" not in members and b"Reaction" not in members["draws.npz"]
    meta = json.loads(members["meta.json"])
    assert meta["data"]["included"] is False and meta["data"]["columns"] == ["Reaction", "Days", "Subject"]
    assert str(round(float(sleep_data["Reaction"].iloc[0]), 4)) not in members["meta.json"].decode()
    message = load_error(path)
    assert "was saved without its data" in message and f"ml.load('{path}', data=frame)" in message
    given = sleep_data.assign(extra=1.0)
    before = given.copy()
    loaded = ml.load(path, data=given)
    pd.testing.assert_frame_equal(given, before)  # the caller's frame is not modified
    pd.testing.assert_frame_equal(loaded.summary(), tiny_fit.summary())
    assert list(loaded.frame.columns) == ["Reaction", "Days", "Subject"]
    wrong = sleep_data.assign(Reaction=sleep_data["Reaction"] + 1)
    for data, expected in ((wrong, "the values of Reaction, Days, Subject differ"),
                           (sleep_data.iloc[:170], "the fit was made with 180 rows, the data given have 170"),
                           (sleep_data.drop(columns="Days"), "the data given have no Days")):
        message = load_error(path, data=data)
        assert f"'{path}': these are not the data the fit was made with" in message and expected in message
    # a fit saved with its data also checks data given
    tiny_fit.save(tmp_path / "public.zip")
    assert "these are not the data" in load_error(tmp_path / "public.zip", data=wrong)
    ml.load(tmp_path / "public.zip", data=sleep_data)


def test_fingerprint_survives_a_csv_round_trip(sleep_data, tmp_path):
    sleep_data.to_csv(tmp_path / "sleep.csv", index=False)
    again = pd.read_csv(tmp_path / "sleep.csv")
    assert persistence.data_fingerprint(again) == persistence.data_fingerprint(sleep_data)


def test_save_checks_its_path_and_writes_atomically(tiny_fit, tmp_path, monkeypatch):
    with pytest.raises(ml.MultilevelError, match="does not exist; create it first"):
        tiny_fit.save(tmp_path / "no" / "fit.zip")
    with pytest.raises(ml.MultilevelError, match="is a folder"):
        tiny_fit.save(tmp_path)
    with pytest.raises(ml.MultilevelError, match="include_data must be True or False"):
        tiny_fit.save(tmp_path / "fit.zip", include_data="no")
    target = tmp_path / "fit.zip"
    target.write_bytes(b"the previous file")
    original = zipfile.ZipFile.writestr

    def interrupted(self, name, content, *args, **kwargs):
        if name == "draws.npz":
            raise KeyboardInterrupt
        return original(self, name, content, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tiny_fit.save(target)
    assert target.read_bytes() == b"the previous file"  # untouched, and no half file left beside it
    assert sorted(os.listdir(tmp_path)) == ["fit.zip"]


def test_cli_compare_with_a_damaged_file(saved, tmp_path, capsys):
    from multilevel.cli import main

    broken = tmp_path / "broken.zip"
    broken.write_bytes(saved.read_bytes()[:1000])
    assert main(["compare", str(saved), str(broken)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "Traceback" not in error
    assert f"'{broken}' is not a complete saved fit" in error
