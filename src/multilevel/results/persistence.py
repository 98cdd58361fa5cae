"""Save and load fits: a NetCDF4 DataTree (``.nc`` and any suffix but ``.zip``) or a zip archive (``.zip``).

:func:`save_fit` picks the format by the suffix, :func:`load_fit` by the file's content (the HDF5
signature of a NetCDF4 file, or a zip archive's), so a renamed file still loads. What both hold, and
the checks and rebuilding they share, are in :mod:`multilevel.results.saved_fit`; the NetCDF4 file in
:mod:`multilevel.results.netcdf_file`.

The zip archive (format 3) holds ``meta.json`` (formula, options, sampler settings, the shape and dtype of
every saved array, a fingerprint of the data used), ``data.json`` (the rows used; left out when saved
with ``include_data=False``), ``draws.npz`` and ``checksums.json`` (SHA-256 of each other member).
Everything is checked before the model is rebuilt: a truncated, damaged or edited file is one
:class:`MultilevelError` naming the file and what is wrong, never a traceback from zipfile, json or
numpy. Format 2 files (no checksums, data always included) are still read, with the shape checks.
No pickle is involved.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .._files import atomic_write, check_output_file
from ..errors import MultilevelError
from . import netcdf_file
from .saved_data import data_fingerprint, frame_to_json, plain
from .saved_fit import (FORMAT_VERSION, READABLE_FORMATS, STATS, Parts, broken, check_meta_fields, check_version,
                        expected_draw_shapes, fit_arrays, fit_meta, prior_from_json, prior_to_json, rebuild_fit)

__all__ = ["FORMAT_VERSION", "READABLE_FORMATS", "STATS", "data_fingerprint", "expected_draw_shapes", "load_fit",
           "prior_from_json", "prior_to_json", "save_fit", "saved_format"]

META, DATA, DRAWS, CHECKSUMS = "meta.json", "data.json", "draws.npz", "checksums.json"
ZIP_PARTS = Parts(meta=META, draws=DRAWS, data=DATA)
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_broken = broken


def saved_format(path) -> str:
    """``"zip"`` for a path ending in ``.zip``, else ``"netcdf"``."""
    return "zip" if Path(path).suffix.lower() == ".zip" else "netcdf"


# -- saving ------------------------------------------------------------------------------------
def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def save_fit(fit, path, include_data: bool = True) -> None:
    """A NetCDF4 DataTree, or a zip archive when ``path`` ends in ``.zip``."""
    arrays = fit_arrays(fit)
    meta = fit_meta(fit, arrays, include_data)
    check_output_file(path, "saved fit")
    if saved_format(path) == "netcdf":
        netcdf_file.write(fit, path, meta, arrays, frame_to_json(fit.frame) if include_data else None)
        return
    buffer = io.BytesIO()
    np.savez_compressed(buffer, allow_pickle=False, **arrays)  # numbers only: loading refuses pickled objects
    members = {META: json.dumps(meta, indent=1, default=plain).encode("utf-8")}
    if include_data:
        members[DATA] = json.dumps(frame_to_json(fit.frame)).encode("utf-8")
    members[DRAWS] = buffer.getvalue()
    members[CHECKSUMS] = json.dumps({name: _sha256(content) for name, content in members.items()},
                                    indent=1).encode("utf-8")
    with atomic_write(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, content in members.items():
                archive.writestr(name, content)


# -- loading -----------------------------------------------------------------------------------
def _head(path) -> bytes:
    """The file's first bytes, once it is known to be a readable file."""
    target = Path(path)
    if not target.exists():
        raise MultilevelError(f"saved fit '{path}' does not exist: give the path of a file written by fit.save "
                              f"(or multilevel fit --save)")
    if target.is_dir():
        raise MultilevelError(f"saved fit '{path}' is a folder: give the path of the .nc or .zip file written by "
                              f"fit.save")
    try:
        with open(target, "rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise MultilevelError(f"saved fit '{path}' cannot be read: {error.strerror or error}") from None
    if not head:
        raise _broken(path, "the file is empty")
    return head


def _read_members(path, head: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            return {name: archive.read(name) for name in (META, DATA, DRAWS, CHECKSUMS) if name in names}
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError,
            OSError):
        if head.startswith(b"PK"):
            raise _broken(path, "the zip archive is damaged or cut short") from None
        raise MultilevelError(f"'{path}' is not a saved fit: it is not a zip archive nor a NetCDF4 file, and "
                              f"fit.save writes one of these; give the file fit.save wrote") from None


def _json_member(path, members: dict, name: str):
    try:
        return json.loads(members[name].decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise _broken(path, f"{name} is not valid JSON ({error})") from None


def _checked_meta(path, members: dict) -> dict:
    if META not in members:
        raise _broken(path, f"it has no {META}")
    meta = _json_member(path, members, META)
    version = check_version(path, meta, ZIP_PARTS)
    if version >= 3:
        if CHECKSUMS not in members:
            raise _broken(path, f"it has no {CHECKSUMS}")
        sums = _json_member(path, members, CHECKSUMS)
        if not isinstance(sums, dict):
            raise _broken(path, f"{CHECKSUMS} does not hold checksums")
        for name in sorted(set(members) - {CHECKSUMS}):
            if name not in sums:
                raise _broken(path, f"{name} has no checksum in {CHECKSUMS}")
            if sums[name] != _sha256(members[name]):
                raise _broken(path, f"{name} was changed after the fit was saved (its SHA-256 checksum differs)")
        for name in sorted(set(sums) - set(members)):
            raise _broken(path, f"it has no {name}")
    check_meta_fields(path, meta, ZIP_PARTS)
    if DRAWS not in members:
        raise _broken(path, f"it has no {DRAWS}")
    return meta


def _read_arrays(path, members: dict) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(members[DRAWS]), allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except Exception as error:  # a damaged member can fail in zipfile, zlib, numpy's header parser, ...
        raise _broken(path, f"{DRAWS} cannot be read ({type(error).__name__}: {error})") from None


def load_fit(path, data=None, *, model_class, fit_class):
    """Load a fit saved by :func:`save_fit` (either format, told apart by the file's content); ``data``: the
    data the fit was made with, required when it was saved with ``include_data=False`` (only the columns the
    model uses are read; the frame is not modified). ``model_class`` rebuilds the model from its formula,
    data and options (``multilevel.Model``); ``fit_class`` holds the result (``multilevel.Fit``)."""
    head = _head(path)
    if head.startswith(HDF5_SIGNATURE):
        return netcdf_file.load(path, data, model_class=model_class, fit_class=fit_class)
    if head.startswith(b"CDF"):
        raise MultilevelError(f"'{path}' is a NetCDF classic file, not a saved fit: fit.save writes NetCDF4 "
                              f"(or zip) files; give the file fit.save wrote")
    members = _read_members(path, head)
    meta = _checked_meta(path, members)
    arrays = _read_arrays(path, members)
    table = _json_member(path, members, DATA) if DATA in members and data is None else None
    if data is not None and "data" not in meta and DATA in members:  # format 2: compared with the saved rows
        table = _json_member(path, members, DATA)
    return rebuild_fit(path, meta, arrays, table, data, ZIP_PARTS, model_class=model_class, fit_class=fit_class)
