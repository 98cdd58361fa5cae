"""What a saved fit holds, whatever the file: the description of the fit (``meta``: formula, options,
priors, sampler settings, seed, timings, notes, versions, the shape and dtype of every array, a
fingerprint of the data used), the arrays (the sampler's constrained draws, statistics and warmup
draws) and, unless left out, the data used. Both file formats (:mod:`persistence` for zip archives,
:mod:`netcdf_file` for NetCDF4 DataTrees) write this and read it back through the checks here, so
every damaged or edited file is one :class:`MultilevelError` naming the file and what is wrong.

Loading rebuilds the spec from the formula, the options and the saved data (the resolver is
deterministic), then attaches the saved draws; no pickle is involved.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, is_dataclass
from importlib import metadata

import numpy as np
import pandas as pd

from ..errors import MultilevelError, spell
from ..model import priors as P
from ..sampling.config import SamplerConfig
from ..sampling.nuts import RawDraws
from .derived import ConditionalEffect, Quantities
from .saved_data import data_fingerprint, frame_from_json

FORMAT_VERSION = 3  # 3: checksums, array shapes, optional data; 2: group-level predictors absorbed into means
READABLE_FORMATS = (2, 3)
STATS = ("diverging", "n_steps", "tree_depth", "energy", "acceptance_rate", "step_size", "lp")
ARRAY_GROUPS = ("constrained", "stats", "warmup")  # arrays are named "<group>/<site>"
VERSIONS_OF = ("multilevel", "numpyro", "jax", "arviz-stats", "xarray", "numpy")


@dataclass(frozen=True)
class Parts:
    """How a file format names the parts of a saved fit, for messages."""

    meta: str  # e.g. "meta.json"
    draws: str  # e.g. "draws.npz"
    data: str  # e.g. "data.json"


def prior_to_json(prior: P.Prior) -> dict:
    assert is_dataclass(prior)  # every kind of prior is a dataclass (the base class is abstract)
    return {"type": type(prior).__name__, "fields": {f.name: getattr(prior, f.name) for f in fields(prior)}}


def prior_from_json(item: dict) -> P.Prior:
    kind = getattr(P, item["type"], None)
    if not (isinstance(kind, type) and issubclass(kind, P.Prior)):
        raise MultilevelError(f"unknown prior type {item['type']!r} in saved fit")
    if not isinstance(item.get("fields"), dict):
        raise MultilevelError(f"prior {item['type']!r} in saved fit has no fields")
    return kind(**item["fields"])


def group_level_names(spec) -> list[list[str]]:
    from ..backend.numpyro_model import absorption

    return [[spec.fixed_names[k] for k in columns] for columns in absorption(spec).group_level]


def versions() -> dict[str, str]:
    found = {}
    for name in VERSIONS_OF:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


# -- saving ------------------------------------------------------------------------------------
def fit_arrays(fit) -> dict[str, np.ndarray]:
    """The arrays a saved fit holds, named ``constrained/<site>``, ``stats/<name>``, ``warmup/<site>``."""
    arrays = {f"constrained/{name}": np.asarray(value) for name, value in fit.raw.constrained.items()}
    arrays.update({f"stats/{name}": np.asarray(value) for name, value in fit.raw.stats.items()})
    arrays.update({f"warmup/{name}": np.asarray(value) for name, value in fit.raw.warmup.items()})
    return arrays


def fit_meta(fit, arrays: dict, include_data: bool) -> dict:
    """The description of the fit (JSON-ready)."""
    if not isinstance(include_data, bool):
        raise MultilevelError(f"include_data must be True or False, got {include_data!r}")
    options = dict(fit.options)
    if isinstance(options.get("priors"), dict):  # a style of defaults ("defaults": "blimp") stays as text
        options["priors"] = {key: prior if isinstance(prior, str) else prior_to_json(prior)
                             for key, prior in options["priors"].items()}
    options["parameterization"] = [block.parameterization for block in fit.spec.random]  # per block, in order
    return {
        "format": FORMAT_VERSION, "formula": fit.spec.formula, "family": str(fit.spec.family), "options": options,
        "config": asdict(fit.config), "seed": int(fit.seed), "timings": dict(fit.timings),
        "environment": list(fit.environment), "diagnostics": fit.diagnostics,
        "labels": fit.quantities.label_map, "definitions": [list(pair) for pair in fit.quantities.definitions],
        "conditional": [[focal, moderator, None if at is None else list(at)]
                        for focal, moderator, at in fit.quantities.conditional],
        "group level": group_level_names(fit.spec),  # whose raw group coefficients include these predictors
        "arrays": {name: {"shape": list(value.shape), "dtype": value.dtype.str} for name, value in arrays.items()},
        "data": {"included": include_data, **data_fingerprint(fit.frame)},
        "versions": versions(),
    }


# -- loading: every check before the model is rebuilt -------------------------------------------
def broken(path, what: str) -> MultilevelError:
    return MultilevelError(f"'{path}' is not a complete saved fit (it may be truncated or edited): {what}; "
                           f"save the fit again")


def check_version(path, meta, parts: Parts) -> int:
    if not isinstance(meta, dict):
        raise broken(path, f"{parts.meta} does not hold the fit's description")
    version = meta.get("format")
    if not isinstance(version, int) or isinstance(version, bool):
        raise broken(path, f"{parts.meta} has no format number")
    if version not in READABLE_FORMATS:
        if version > FORMAT_VERSION:
            raise MultilevelError(f"'{path}' was saved with format {version} by a newer version of multilevel; "
                                  f"this version reads formats {READABLE_FORMATS[0]} to {FORMAT_VERSION}: "
                                  f"upgrade multilevel to load it")
        raise MultilevelError(f"'{path}': saved with format {version}, this version reads {FORMAT_VERSION}; "
                              f"refit the model with this version")
    return version


def check_meta_fields(path, meta: dict, parts: Parts) -> None:
    kinds = {"formula": str, "options": dict, "config": dict, "seed": int, "timings": dict, "environment": list,
             "diagnostics": list, "labels": dict, "definitions": list, "conditional": list, "group level": list}
    if meta["format"] >= 3:
        kinds.update({"arrays": dict, "data": dict})
    for key, kind in kinds.items():
        if key not in meta and key in ("labels", "definitions", "conditional", "group level"):
            continue  # absent in some format-2 files
        if key not in meta:
            raise broken(path, f"{parts.meta} has no '{key}'")
        if not isinstance(meta[key], kind) or (kind is int and isinstance(meta[key], bool)):
            raise broken(path, f"'{key}' in {parts.meta} is not a {kind.__name__}")
    if not all(isinstance(item, str) for item in meta["environment"] + meta["diagnostics"]):
        raise broken(path, f"'environment' and 'diagnostics' in {parts.meta} must hold text")
    for key, width in (("definitions", 2), ("conditional", 3)):
        if not all(isinstance(item, list) and len(item) == width for item in meta.get(key, [])):
            raise broken(path, f"'{key}' in {parts.meta} must hold lists of {width} items")


def checked_config(path, meta: dict, parts: Parts) -> SamplerConfig:
    try:
        return SamplerConfig(**meta["config"])
    except (TypeError, MultilevelError) as error:
        raise broken(path, f"the sampler settings in {parts.meta} are not valid ({error})") from None


def check_arrays(path, arrays: dict, meta: dict, parts: Parts) -> None:
    """Only numbers, named as a fit names them; in format 3 exactly the arrays ``meta`` describes."""
    for name, value in arrays.items():
        if name.split("/", 1)[0] not in ARRAY_GROUPS or "/" not in name:
            raise broken(path, f"{parts.draws} holds an array '{name}' that no fit saves")
        if value.dtype.kind not in "biuf":
            raise broken(path, f"the array '{name}' in {parts.draws} holds {value.dtype} values, not numbers")
    if "arrays" in meta:  # format 3: the arrays described in meta, exactly
        described = meta["arrays"]
        for name in sorted(set(described) | set(arrays)):
            if name not in arrays:
                raise broken(path, f"{parts.draws} has no array '{name}'")
            if name not in described:
                raise broken(path, f"{parts.draws} holds an array '{name}' that {parts.meta} does not describe")
            item = described[name]
            if not isinstance(item, dict) or list(arrays[name].shape) != item.get("shape") or (
                    arrays[name].dtype.str != item.get("dtype")):
                raise broken(path, f"the array '{name}' has shape {arrays[name].shape} and dtype "
                                   f"{arrays[name].dtype}, {parts.meta} says {item}")


def check_leading_dims(path, arrays: dict, config: SamplerConfig, parts: Parts) -> None:
    for name, value in arrays.items():
        group = name.split("/", 1)[0]
        lead = (config.chains, config.warmup if group == "warmup" else config.draws)
        if value.shape[:2] != lead:
            what = "warmup iterations" if group == "warmup" else "draws"
            raise broken(path, f"the array '{name}' has shape {value.shape}: the sampler settings say "
                                f"{lead[0]} chains of {lead[1]} {what}, so its shape must start with {lead}")
    stats = {name.split("/", 1)[1] for name in arrays if name.startswith("stats/")}
    missing = [name for name in STATS if name not in stats]
    if missing:
        raise broken(path, f"{parts.draws} has no sampler statistics {', '.join(missing)}")
    for name in ("diverging", "n_steps", "tree_depth"):
        kinds = "b" if name == "diverging" else "iu"
        if arrays[f"stats/{name}"].dtype.kind not in kinds:
            raise broken(path, f"the sampler statistic '{name}' holds {arrays[f'stats/{name}'].dtype} values")


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
    missing = arrays.missing or {}  # present when values are missing
    for _, sub in discrete_configurations(plan)[0]:
        constrained[f"missing_{sub.name}"] = (int(missing[f"{sub.name} count"]),)
    block = plan.integrated
    if block is not None:  # integrated out of the likelihood, drawn afterwards: padded as the sampler would
        for j in block.members:
            name = plan.submodels[j].name
            if name in missing:
                constrained[f"missing_{name}"] = (int(np.size(missing[name])),)
        if block.focal and "outcome" in missing:
            constrained["missing_outcome"] = (int(np.size(missing["outcome"])),)
    if arrays.sufficient is not None:
        constrained["r_0"] = tuple(np.shape(arrays.sufficient["Zr"]))
        if spec.outcome_latent:
            constrained["missing_outcome"] = (int(np.size(missing["outcome"])),)
    return constrained, unconstrained


def check_model_shapes(path, arrays: dict, spec, data, parts: Parts) -> None:
    constrained, unconstrained = expected_draw_shapes(spec, data)
    saved = {name.split("/", 1)[1]: value.shape[2:] for name, value in arrays.items()
             if name.startswith("constrained/")}
    for name in sorted(set(constrained) - set(saved)):
        raise broken(path, f"{parts.draws} has no draws of '{name}', which the model has")
    for name in sorted(set(saved) - set(constrained)):
        raise broken(path, f"{parts.draws} holds draws of '{name}', which the model does not have")
    for name, shape in constrained.items():
        if tuple(saved[name]) != shape:
            raise broken(path, f"the draws of '{name}' are of shape {tuple(saved[name])} each, the model's "
                                f"'{name}' has shape {shape}")
    for name, value in arrays.items():
        if name.startswith("stats/") and value.shape[2:] != ():
            raise broken(path, f"the sampler statistic '{name}' has shape {value.shape}, one value per draw expected")
        if name.startswith("warmup/"):
            site = name.split("/", 1)[1]
            if site not in unconstrained or tuple(value.shape[2:]) != tuple(unconstrained[site]):
                raise broken(path, f"the warmup draws '{site}' (shape {value.shape}) do not fit the model")


def data_given(path, meta: dict, data, parts: Parts) -> pd.DataFrame:
    """The used columns of the data the caller passed, checked against the saved fingerprint (a new frame;
    the caller's is not touched)."""
    from ..model.checks import as_data_frame

    frame = as_data_frame(data)
    recorded = meta.get("data")
    if not isinstance(recorded, dict) or not isinstance(recorded.get("columns"), list):
        raise broken(path, f"{parts.meta} has no description of the data used")
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


def saved_quantities(meta: dict) -> Quantities:
    conditional = [ConditionalEffect(focal, moderator, None if at is None else tuple(at))
                   for focal, moderator, at in meta.get("conditional", [])]
    return Quantities(tuple(meta.get("labels", {}).items()), tuple(tuple(item) for item in meta.get("definitions", [])),
                      tuple(conditional))


def saved_frame(path, meta: dict, table, data, parts: Parts) -> pd.DataFrame:
    """The data the fit is rebuilt with: ``data`` (checked against the fingerprint) when given, else the saved
    ``table`` (the JSON of :func:`frame_to_json`; None when the file holds no data)."""
    if data is not None:
        if "data" not in meta:  # format 2: no fingerprint saved, compare with the saved rows
            meta = dict(meta, data=data_fingerprint(saved_frame(path, meta, table, None, parts)))
        return data_given(path, meta, data, parts)
    if table is None:
        if meta.get("data", {}).get("included") is False:
            how = spell(f"fit.save(..., include_data=False)): pass the data the fit was made with, "
                        f"ml.load('{path}', data=frame)",
                        "--save-without-data): pass the data the fit was made with, --data FILE")
            raise MultilevelError(f"'{path}' was saved without its data ({how}")
        raise broken(path, f"it has no {parts.data}")
    try:
        return frame_from_json(table)
    except Exception as error:  # an edited table fails in many ways (missing keys, wrong lengths, ...)
        raise broken(path, f"{parts.data} does not hold the data table ({type(error).__name__}: {error})") from None


def _rebuilt_model(path, meta: dict, frame: pd.DataFrame, parts: Parts, model_class):
    options = dict(meta["options"])
    try:
        if isinstance(options.get("priors"), dict):
            options["priors"] = {key: item if isinstance(item, str) else prior_from_json(item)
                                 for key, item in options["priors"].items()}
        model = model_class(meta["formula"], frame, _quiet=True, **options)
    except MultilevelError as error:
        raise MultilevelError(f"'{path}': the saved model cannot be rebuilt: {error}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise broken(path, f"the model options in {parts.meta} are not valid ({type(error).__name__}: {error})"
                     ) from None
    if "group level" in meta and meta["group level"] != group_level_names(model.spec):
        raise MultilevelError(f"{path}: the saved draws hold the group-level predictors {meta['group level']} in "
                              f"the random intercepts' means, this version would read them as "
                              f"{group_level_names(model.spec)}; refit the model with this version")
    return model


def rebuild_fit(path, meta: dict, arrays: dict, table, data, parts: Parts, *, model_class, fit_class,
                groups: dict | None = None):
    """The fit a file holds, once ``meta`` has passed :func:`check_version` and :func:`check_meta_fields`:
    its arrays checked against the sampler settings and the rebuilt model, then attached to it."""
    config = checked_config(path, meta, parts)
    check_arrays(path, arrays, meta, parts)
    check_leading_dims(path, arrays, config, parts)
    frame = saved_frame(path, meta, table, data, parts)
    model = _rebuilt_model(path, meta, frame, parts, model_class)
    check_model_shapes(path, arrays, model.spec, model.data, parts)

    def group(name):
        return {key.split("/", 1)[1]: value for key, value in arrays.items() if key.startswith(f"{name}/")}

    raw = RawDraws(unconstrained={}, constrained=group("constrained"), stats=group("stats"), warmup=group("warmup"),
                   timings=meta["timings"], environment=meta["environment"])
    try:  # the diagnostics saved are those the draws give: they are computed again when asked for
        fit = fit_class(spec=model.spec, data=model.data, config=config, seed=meta["seed"], raw=raw,
                        frame=model.frame if data is not None else frame, options=model.options,
                        timings=meta["timings"], environment=tuple(meta["environment"]),
                        quantities=saved_quantities(meta), groups=groups or {})
        fit.draws  # noqa: B018  (draws that do not fit the model fail here, not later)
    except MultilevelError:
        raise
    except (ValueError, IndexError, KeyError, TypeError) as error:  # the checks above should leave none
        raise broken(path, f"its draws do not fit the model ({type(error).__name__}: {error})") from error
    return fit
