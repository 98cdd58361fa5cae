"""Saved fits: truncated, damaged, edited or incomplete files, and fits saved without their data."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .cases import Case, api_error, cli_error, ml

MODEL = "Reaction ~ Days + (1 | Subject)"


@functools.lru_cache(maxsize=1)
def saved_fit():
    """One small fit serves every case (a few seconds, once)."""
    return ml.fit(MODEL, ml.datasets.load("sleepstudy"), chains=2, warmup=100, draws=50, seed=1, progress=False,
                  warn=False)


def saved(tmp: Path, name: str = "fit.zip", **options) -> Path:
    path = tmp / name
    saved_fit().save(path, **options)
    return path


def rewritten(tmp: Path, change, name: str = "edited.zip") -> Path:
    """A saved fit with its members changed by ``change(members)`` (a dict of bytes), zipped again."""
    with zipfile.ZipFile(saved(tmp)) as archive:
        members = {member: archive.read(member) for member in archive.namelist()}
    change(members)
    path = tmp / name
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return path


def truncated(tmp: Path) -> Path:
    path = saved(tmp)
    content = path.read_bytes()
    path.write_bytes(content[:len(content) // 2])
    return path


def _damaged_copy(tmp: Path, name: str) -> Path:
    path = saved(tmp, name)
    path.write_bytes(path.read_bytes()[:1000])
    return path


def text_as_zip(tmp: Path) -> Path:
    path = tmp / "fit.zip"
    path.write_text("Reaction ~ Days + (1 | Subject)\nchains = 4\n")
    return path


def _edit_seed(members: dict) -> None:
    meta = json.loads(members["meta.json"])
    meta["seed"] = 2
    members["meta.json"] = json.dumps(meta).encode()


def _short_draws(members: dict) -> None:
    """sigma loses its last draw; meta.json and the checksums are made to agree (as a careless tool would)."""
    stored = np.load(io.BytesIO(members["draws.npz"]))
    arrays = {name: stored[name] for name in stored.files}
    arrays["constrained/sigma"] = arrays["constrained/sigma"][:, :-1]
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    members["draws.npz"] = buffer.getvalue()
    meta = json.loads(members["meta.json"])
    meta["arrays"]["constrained/sigma"]["shape"] = list(arrays["constrained/sigma"].shape)
    members["meta.json"] = json.dumps(meta).encode()
    members["checksums.json"] = json.dumps({name: hashlib.sha256(content).hexdigest()
                                            for name, content in members.items() if name != "checksums.json"}).encode()


def truncated_netcdf(tmp: Path) -> Path:
    path = saved(tmp, "fit.nc")
    content = path.read_bytes()
    path.write_bytes(content[:len(content) // 2])
    return path


def netcdf_not_a_fit(tmp: Path) -> Path:
    import xarray as xr

    path = tmp / "weather.nc"
    xr.Dataset({"temperature": ("day", np.arange(3.0))}).to_netcdf(path, engine="h5netcdf")
    return path


def _other_data():
    frame = ml.datasets.load("sleepstudy")
    frame.loc[3, "Reaction"] += 10.0
    return frame


CASES = [
    Case("saved-truncated", "saved fit", "ml.load('fit.zip')  # the file was cut short (half its bytes)",
         lambda tmp: api_error(lambda: ml.load(truncated(tmp))),
         ("is not a complete saved fit (it may be truncated or edited)", "save the fit again")),
    Case("saved-not-a-zip", "saved fit", "ml.load('fit.zip')  # a text file renamed fit.zip",
         lambda tmp: api_error(lambda: ml.load(text_as_zip(tmp))), ("is not a saved fit: it is not a zip archive",)),
    Case("saved-nc-truncated", "saved fit", "ml.load('fit.nc')  # a NetCDF4 saved fit cut short (half its bytes)",
         lambda tmp: api_error(lambda: ml.load(truncated_netcdf(tmp))),
         ("fit.nc' is not a complete saved fit", "the NetCDF4 file is damaged or cut short")),
    Case("saved-nc-not-a-fit", "saved fit", "ml.load('weather.nc')  # a NetCDF4 file that xarray wrote, not a fit",
         lambda tmp: api_error(lambda: ml.load(netcdf_not_a_fit(tmp))),
         ("weather.nc' is a NetCDF4 file but not a saved multilevel fit",)),
    Case("saved-edited-meta", "saved fit", "ml.load('edited.zip')  # meta.json edited by hand (seed changed)",
         lambda tmp: api_error(lambda: ml.load(rewritten(tmp, _edit_seed))),
         ("meta.json was changed after the fit was saved",)),
    Case("saved-short-draws", "saved fit",
         "ml.load('edited.zip')  # sigma's draws one short (meta.json and checksums made to agree)",
         lambda tmp: api_error(lambda: ml.load(rewritten(tmp, _short_draws))),
         ("'constrained/sigma' has shape (2, 49)", "must start with (2, 50)")),
    Case("saved-missing-member", "saved fit", "ml.load('edited.zip')  # draws.npz removed from the archive",
         lambda tmp: api_error(lambda: ml.load(rewritten(tmp, lambda members: members.pop("draws.npz")))),
         ("it has no draws.npz",)),
    Case("saved-no-such-file", "saved fit", "ml.load('nothing.zip')",
         lambda tmp: api_error(lambda: ml.load(tmp / "nothing.zip")), ("does not exist",)),
    Case("saved-folder", "saved fit", "ml.load('results/')  # a folder",
         lambda tmp: api_error(lambda: ml.load(tmp)), ("is a folder",)),
    Case("saved-without-data", "saved fit",
         "fit.save('private.zip', include_data=False)\nml.load('private.zip')",
         lambda tmp: api_error(lambda: ml.load(saved(tmp, "private.zip", include_data=False))),
         ("was saved without its data", "data=frame")),
    Case("saved-wrong-data", "saved fit",
         "fit.save('private.zip', include_data=False)\nml.load('private.zip', data=frame)  # one value changed",
         lambda tmp: api_error(lambda: ml.load(saved(tmp, "private.zip", include_data=False), data=_other_data())),
         ("these are not the data the fit was made with",)),
    Case("saved-folder-missing", "saved fit", "fit.save('no/such/folder/fit.zip')",
         lambda tmp: api_error(lambda: saved_fit().save(tmp / "no" / "fit.zip")), ("does not exist; create it first",)),
    Case("cli-compare-damaged", "saved fit", "multilevel compare a.zip b.zip  # b.zip cut short",
         lambda tmp: cli_error(["compare", str(saved(tmp, "a.zip")), str(_damaged_copy(tmp, "b.zip"))]),
         ("b.zip' is not a complete saved fit",)),
    Case("cli-compare-without-data", "saved fit",
         "multilevel fit ... --save a.zip --save-without-data\nmultilevel compare a.zip b.zip",
         lambda tmp: cli_error(["compare", str(saved(tmp, "a.zip", include_data=False)), str(saved(tmp, "b.zip"))]),
         ("was saved without its data", "--data FILE")),
]
