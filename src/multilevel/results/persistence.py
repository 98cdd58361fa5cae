"""Save and load fits: one zip file with the model options, the data used and the draws.

Loading rebuilds the spec from the formula, the options and the saved data (the resolver
is deterministic), then attaches the saved draws; no pickle is involved.

The archive (format 3) holds ``meta.json`` (formula, options, sampler settings, the shape and dtype of
every saved array, a fingerprint of the data used), ``data.json`` (the rows used; left out when saved
with ``include_data=False``), ``draws.npz`` and ``checksums.json`` (SHA-256 of each other member).
Everything is checked before the model is rebuilt: a truncated, damaged or edited file is one
:class:`MultilevelError` naming the file and what is wrong, never a traceback from zipfile, json or
numpy. Format 2 files (no checksums, data always included) are still read, with the shape checks.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import atomic_write, check_output_file
from ..errors import MultilevelError, spell
from ..model import priors as P
from ..sampling.config import SamplerConfig
from ..sampling.nuts import RawDraws
from .derived import ConditionalEffect, Quantities
from .saved_data import data_fingerprint, frame_from_json, frame_to_json, plain

FORMAT_VERSION = 3  # 3: checksums, array shapes, optional data; 2: group-level predictors absorbed into means
READABLE_FORMATS = (2, 3)
META, DATA, DRAWS, CHECKSUMS = "meta.json", "data.json", "draws.npz", "checksums.json"
STATS = ("diverging", "n_steps", "tree_depth", "energy", "acceptance_rate", "step_size", "lp")


def prior_to_json(prior: P.Prior) -> dict:
    return {"type": type(prior).__name__, "fields": {f.name: getattr(prior, f.name) for f in fields(prior)}}


def prior_from_json(item: dict) -> P.Prior:
    kind = getattr(P, item["type"], None)
    if not (isinstance(kind, type) and issubclass(kind, P.Prior)):
        raise MultilevelError(f"unknown prior type {item['type']!r} in saved fit")
    if not isinstance(item.get("fields"), dict):
        raise MultilevelError(f"prior {item['type']!r} in saved fit has no fields")
    return kind(**item["fields"])


def _group_level_names(spec) -> list[list[str]]:
    from ..backend.numpyro_model import absorption

    return [[spec.fixed_names[k] for k in columns] for columns in absorption(spec).group_level]


# -- saving ------------------------------------------------------------------------------------
def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def save_fit(fit, path, include_data: bool = True) -> None:
    if not isinstance(include_data, bool):
        raise MultilevelError(f"include_data must be True or False, got {include_data!r}")
    check_output_file(path, "saved fit")
    options = dict(fit.options)
    if isinstance(options.get("priors"), dict):  # a style of defaults ("defaults": "blimp") stays as text
        options["priors"] = {key: prior if isinstance(prior, str) else prior_to_json(prior)
                             for key, prior in options["priors"].items()}
    options["parameterization"] = [block.parameterization for block in fit.spec.random]  # per block, in order
    arrays = {f"constrained/{name}": np.asarray(value) for name, value in fit.raw.constrained.items()}
    arrays.update({f"stats/{name}": np.asarray(value) for name, value in fit.raw.stats.items()})
    arrays.update({f"warmup/{name}": np.asarray(value) for name, value in fit.raw.warmup.items()})
    meta = {
        "format": FORMAT_VERSION, "formula": fit.spec.formula, "options": options,
        "config": asdict(fit.config), "seed": int(fit.seed), "timings": dict(fit.timings),
        "environment": list(fit.environment), "diagnostics": fit.diagnostics,
        "labels": fit.quantities.label_map, "definitions": [list(pair) for pair in fit.quantities.definitions],
        "conditional": [[focal, moderator, None if at is None else list(at)]
                        for focal, moderator, at in fit.quantities.conditional],
        "group level": _group_level_names(fit.spec),  # whose raw group coefficients include these predictors
        "arrays": {name: {"shape": list(value.shape), "dtype": value.dtype.str} for name, value in arrays.items()},
        "data": {"included": include_data, **data_fingerprint(fit.frame)},
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
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


# -- loading: every check before the model is rebuilt -------------------------------------------
def _broken(path, what: str) -> MultilevelError:
    return MultilevelError(f"'{path}' is not a complete saved fit (it may be truncated or edited): {what}; "
                           f"save the fit again")


def _read_members(path) -> dict[str, bytes]:
    target = Path(path)
    if not target.exists():
        raise MultilevelError(f"saved fit '{path}' does not exist: give the path of a file written by fit.save "
                              f"(or multilevel fit --save)")
    if target.is_dir():
        raise MultilevelError(f"saved fit '{path}' is a folder: give the path of the .zip file written by fit.save")
    try:
        with open(target, "rb") as handle:
            head = handle.read(4)
    except OSError as error:
        raise MultilevelError(f"saved fit '{path}' cannot be read: {error.strerror or error}") from None
    if not head:
        raise _broken(path, "the file is empty")
    try:
        with zipfile.ZipFile(target) as archive:
            names = set(archive.namelist())
            return {name: archive.read(name) for name in (META, DATA, DRAWS, CHECKSUMS) if name in names}
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError,
            OSError):
        if head.startswith(b"PK"):
            raise _broken(path, "the zip archive is damaged or cut short") from None
        raise MultilevelError(f"'{path}' is not a saved fit: it is not a zip archive, and fit.save writes one; "
                              f"give the file fit.save wrote") from None


def _json_member(path, members: dict, name: str):
    try:
        return json.loads(members[name].decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise _broken(path, f"{name} is not valid JSON ({error})") from None


def _checked_meta(path, members: dict) -> dict:
    if META not in members:
        raise _broken(path, f"it has no {META}")
    meta = _json_member(path, members, META)
    if not isinstance(meta, dict):
        raise _broken(path, f"{META} does not hold the fit's description")
    version = meta.get("format")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _broken(path, f"{META} has no format number")
    if version not in READABLE_FORMATS:
        if version > FORMAT_VERSION:
            raise MultilevelError(f"'{path}' was saved with format {version} by a newer version of multilevel; "
                                  f"this version reads formats {READABLE_FORMATS[0]} to {FORMAT_VERSION}: "
                                  f"upgrade multilevel to load it")
        raise MultilevelError(f"'{path}': saved with format {version}, this version reads {FORMAT_VERSION}; "
                              f"refit the model with this version")
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
    kinds = {"formula": str, "options": dict, "config": dict, "seed": int, "timings": dict, "environment": list,
             "diagnostics": list, "labels": dict, "definitions": list, "conditional": list, "group level": list}
    if version >= 3:
        kinds.update({"arrays": dict, "data": dict})
    for key, kind in kinds.items():
        if key not in meta and key in ("labels", "definitions", "conditional", "group level"):
            continue  # absent in some format-2 files
        if key not in meta:
            raise _broken(path, f"{META} has no '{key}'")
        if not isinstance(meta[key], kind) or (kind is int and isinstance(meta[key], bool)):
            raise _broken(path, f"'{key}' in {META} is not a {kind.__name__}")
    if not all(isinstance(item, str) for item in meta["environment"] + meta["diagnostics"]):
        raise _broken(path, f"'environment' and 'diagnostics' in {META} must hold text")
    for key, width in (("definitions", 2), ("conditional", 3)):
        if not all(isinstance(item, list) and len(item) == width for item in meta.get(key, [])):
            raise _broken(path, f"'{key}' in {META} must hold lists of {width} items")
    if DRAWS not in members:
        raise _broken(path, f"it has no {DRAWS}")
    return meta


def _checked_config(path, meta: dict) -> SamplerConfig:
    try:
        return SamplerConfig(**meta["config"])
    except (TypeError, MultilevelError) as error:
        raise _broken(path, f"the sampler settings in {META} are not valid ({error})") from None


def _read_arrays(path, members: dict, meta: dict) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(members[DRAWS]), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except Exception as error:  # a damaged member can fail in zipfile, zlib, numpy's header parser, ...
        raise _broken(path, f"{DRAWS} cannot be read ({type(error).__name__}: {error})") from None
    for name, value in arrays.items():
        group = name.split("/", 1)[0]
        if group not in ("constrained", "stats", "warmup") or "/" not in name:
            raise _broken(path, f"{DRAWS} holds an array '{name}' that no fit saves")
        if value.dtype.kind not in "biuf":
            raise _broken(path, f"the array '{name}' in {DRAWS} holds {value.dtype} values, not numbers")
    if "arrays" in meta:  # format 3: the arrays described in meta.json, exactly
        described = meta["arrays"]
        for name in sorted(set(described) | set(arrays)):
            if name not in arrays:
                raise _broken(path, f"{DRAWS} has no array '{name}'")
            if name not in described:
                raise _broken(path, f"{DRAWS} holds an array '{name}' that {META} does not describe")
            item = described[name]
            if not isinstance(item, dict) or list(arrays[name].shape) != item.get("shape") or (
                    arrays[name].dtype.str != item.get("dtype")):
                raise _broken(path, f"the array '{name}' has shape {arrays[name].shape} and dtype "
                                    f"{arrays[name].dtype}, {META} says {item}")
    return arrays


def _check_leading_dims(path, arrays: dict, config: SamplerConfig) -> None:
    for name, value in arrays.items():
        group = name.split("/", 1)[0]
        lead = (config.chains, config.warmup if group == "warmup" else config.draws)
        if value.shape[:2] != lead:
            what = "warmup iterations" if group == "warmup" else "draws"
            raise _broken(path, f"the array '{name}' has shape {value.shape}: the sampler settings say "
                                f"{lead[0]} chains of {lead[1]} {what}, so its shape must start with {lead}")
    stats = {name.split("/", 1)[1] for name in arrays if name.startswith("stats/")}
    missing = [name for name in STATS if name not in stats]
    if missing:
        raise _broken(path, f"{DRAWS} has no sampler statistics {', '.join(missing)}")
    for name in ("diverging", "n_steps", "tree_depth"):
        kinds = "b" if name == "diverging" else "iu"
        if arrays[f"stats/{name}"].dtype.kind not in kinds:
            raise _broken(path, f"the sampler statistic '{name}' holds {arrays[f'stats/{name}'].dtype} values")


def expected_draw_shapes(spec, data) -> tuple[dict, dict]:
    """The trailing shapes (after chain, draw) of the constrained draws a fit of this model has, and of the
    unconstrained sample sites (the warmup draws'), read off the model without running it."""
    from ..backend.log_density import sample_sites
    from ..backend.numpyro_model import blueprint, discrete_configurations, internal_arrays, make_model

    plan = blueprint(spec, data.outcome_observed)
    arrays = internal_arrays(spec, data)
    transforms, unconstrained = sample_sites(make_model(plan, spec.response.name), arrays)
    constrained = {name: tuple(transforms[name].forward_shape(shape)) for name, shape in unconstrained.items()}
    for sub in plan.submodels:  # drawn after sampling, as api.Model.fit does
        if sub.latent_mean:
            constrained[f"latent mean {sub.name}"] = (int(sub.groups),)
    for _, sub in discrete_configurations(plan)[0]:
        constrained[f"missing_{sub.name}"] = (int(arrays.missing[f"{sub.name} count"]),)
    if arrays.sufficient is not None:
        constrained["r_0"] = tuple(np.shape(arrays.sufficient["Zr"]))
        if spec.outcome_latent:
            constrained["missing_outcome"] = (int(np.size(arrays.missing["outcome"])),)
    return constrained, unconstrained


def _check_model_shapes(path, arrays: dict, spec, data) -> None:
    constrained, unconstrained = expected_draw_shapes(spec, data)
    saved = {name.split("/", 1)[1]: value.shape[2:] for name, value in arrays.items()
             if name.startswith("constrained/")}
    for name in sorted(set(constrained) - set(saved)):
        raise _broken(path, f"{DRAWS} has no draws of '{name}', which the model has")
    for name in sorted(set(saved) - set(constrained)):
        raise _broken(path, f"{DRAWS} holds draws of '{name}', which the model does not have")
    for name, shape in constrained.items():
        if tuple(saved[name]) != shape:
            raise _broken(path, f"the draws of '{name}' are of shape {tuple(saved[name])} each, the model's "
                                f"'{name}' has shape {shape}")
    for name, value in arrays.items():
        if name.startswith("stats/") and value.shape[2:] != ():
            raise _broken(path, f"the sampler statistic '{name}' has shape {value.shape}, one value per draw expected")
        if name.startswith("warmup/"):
            site = name.split("/", 1)[1]
            if site not in unconstrained or tuple(value.shape[2:]) != tuple(unconstrained[site]):
                raise _broken(path, f"the warmup draws '{site}' (shape {value.shape}) do not fit the model")


def _data_given(path, meta: dict, data) -> pd.DataFrame:
    """The used columns of the data the caller passed, checked against the saved fingerprint (a new frame;
    the caller's is not touched)."""
    from ..model.checks import as_data_frame

    frame = as_data_frame(data)
    recorded = meta.get("data")
    if not isinstance(recorded, dict) or not isinstance(recorded.get("columns"), list):
        raise _broken(path, f"{META} has no description of the data used")
    columns = recorded["columns"]
    absent = [name for name in columns if name not in frame.columns]
    wrong = f"'{path}': these are not the data the fit was made with"
    if absent:
        raise MultilevelError(f"{wrong}: the fit used the columns {', '.join(columns)}; the data given have no "
                              f"{', '.join(absent)}. Pass the data the fit was made with")
    used = frame[columns]
    if len(used) != recorded.get("rows"):
        raise MultilevelError(f"{wrong}: the fit was made with {recorded.get('rows')} rows, the data given have "
                              f"{len(used)}. Pass the data the fit was made with")
    if data_fingerprint(used)["sha256"] != recorded.get("sha256"):
        raise MultilevelError(f"{wrong}: the values of {', '.join(columns)} differ from those the fit was made "
                              f"with (their SHA-256 fingerprint differs). Pass the data the fit was made with")
    return used.copy()


def _saved_frame(path, members: dict, meta: dict, data) -> pd.DataFrame:
    if data is not None:
        if "data" not in meta:  # format 2: no fingerprint saved, compare with the saved rows
            meta = dict(meta, data=data_fingerprint(_saved_frame(path, members, meta, None)))
        return _data_given(path, meta, data)
    if DATA not in members:
        if meta.get("data", {}).get("included") is False:
            how = spell(f"fit.save(..., include_data=False)): pass the data the fit was made with, "
                        f"ml.load('{path}', data=frame)",
                        "--save-without-data): pass the data the fit was made with, --data FILE")
            raise MultilevelError(f"'{path}' was saved without its data ({how}")
        raise _broken(path, f"it has no {DATA}")
    item = _json_member(path, members, DATA)
    try:
        frame = frame_from_json(item)
    except Exception as error:  # an edited table fails in many ways (missing keys, wrong lengths, ...)
        raise _broken(path, f"{DATA} does not hold the data table ({type(error).__name__}: {error})") from None
    return frame


def _saved_quantities(meta: dict) -> Quantities:
    conditional = [ConditionalEffect(focal, moderator, None if at is None else tuple(at))
                   for focal, moderator, at in meta.get("conditional", [])]
    return Quantities(tuple(meta.get("labels", {}).items()), tuple(tuple(item) for item in meta.get("definitions", [])),
                      tuple(conditional))


def load_fit(path, data=None, *, model_class, fit_class):
    """Load a fit saved by :func:`save_fit`; ``data``: the data the fit was made with, required when it was
    saved with ``include_data=False`` (only the columns the model uses are read; the frame is not modified).
    ``model_class`` rebuilds the model from its formula, data and options (``multilevel.Model``);
    ``fit_class`` holds the result (``multilevel.Fit``)."""
    members = _read_members(path)
    meta = _checked_meta(path, members)
    config = _checked_config(path, meta)
    arrays = _read_arrays(path, members, meta)
    _check_leading_dims(path, arrays, config)
    frame = _saved_frame(path, members, meta, data)
    options = dict(meta["options"])
    try:
        if isinstance(options.get("priors"), dict):
            options["priors"] = {key: item if isinstance(item, str) else prior_from_json(item)
                                 for key, item in options["priors"].items()}
        model = model_class(meta["formula"], frame, _quiet=True, **options)
    except MultilevelError as error:
        raise MultilevelError(f"'{path}': the saved model cannot be rebuilt: {error}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise _broken(path, f"the model options in {META} are not valid ({type(error).__name__}: {error})") from None
    if "group level" in meta and meta["group level"] != _group_level_names(model.spec):
        raise MultilevelError(f"{path}: the saved draws hold the group-level predictors {meta['group level']} in "
                              f"the random intercepts' means, this version would read them as "
                              f"{_group_level_names(model.spec)}; refit the model with this version")
    _check_model_shapes(path, arrays, model.spec, model.data)
    raw = RawDraws(
        unconstrained={},
        constrained={name.split("/", 1)[1]: value for name, value in arrays.items() if name.startswith("constrained/")},
        stats={name.split("/", 1)[1]: value for name, value in arrays.items() if name.startswith("stats/")},
        warmup={name.split("/", 1)[1]: value for name, value in arrays.items() if name.startswith("warmup/")},
        timings=meta["timings"], environment=meta["environment"],
    )
    try:  # the diagnostics saved are those the draws give: they are computed again when asked for
        fit = fit_class(spec=model.spec, data=model.data, config=config, seed=meta["seed"], raw=raw,
                        frame=model.frame if data is not None else frame, options=model.options,
                        timings=meta["timings"], environment=tuple(meta["environment"]),
                        quantities=_saved_quantities(meta))
        fit.draws  # noqa: B018  (draws that do not fit the model fail here, not later)
    except MultilevelError:
        raise
    except (ValueError, IndexError, KeyError, TypeError) as error:  # the checks above should leave none
        raise _broken(path, f"its draws do not fit the model ({type(error).__name__}: {error})") from error
    return fit
