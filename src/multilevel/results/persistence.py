"""Save and load fits: one zip file with the model options, the data used and the draws.

Loading rebuilds the spec from the formula, the options and the saved data (the resolver
is deterministic), then attaches the saved draws; no pickle is involved.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict, fields

import numpy as np
import pandas as pd

from ..errors import MultilevelError
from ..spec import priors as P
from ..sampling.config import SamplerConfig
from ..sampling.nuts import RawDraws

FORMAT_VERSION = 2  # 2: group-level predictors absorbed into centered blocks' means


def prior_to_json(prior: P.Prior) -> dict:
    return {"type": type(prior).__name__, "fields": {f.name: getattr(prior, f.name) for f in fields(prior)}}


def prior_from_json(item: dict) -> P.Prior:
    kind = getattr(P, item["type"], None)
    if not (isinstance(kind, type) and issubclass(kind, P.Prior)):
        raise MultilevelError(f"unknown prior type {item['type']!r} in saved fit")
    return kind(**item["fields"])


def _frame_to_json(frame: pd.DataFrame) -> dict:
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.CategoricalDtype):
            columns[name] = {"kind": "categorical", "categories": [_plain(c) for c in series.cat.categories],
                             "ordered": bool(series.cat.ordered),
                             "codes": series.cat.codes.astype(int).tolist()}
        elif pd.api.types.is_bool_dtype(series):
            columns[name] = {"kind": "bool", "values": [None if pd.isna(v) else bool(v) for v in series]}
        elif pd.api.types.is_numeric_dtype(series):
            columns[name] = {"kind": "number", "integer": pd.api.types.is_integer_dtype(series),
                             "values": [None if pd.isna(v) else float(v) for v in series]}
        else:
            columns[name] = {"kind": "object", "values": [None if pd.isna(v) else _plain(v) for v in series]}
    return {"index": [_plain(v) for v in frame.index], "columns": columns, "order": list(map(str, frame.columns))}


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _frame_from_json(item: dict) -> pd.DataFrame:
    data = {}
    for name in item["order"]:
        column = item["columns"][name]
        if column["kind"] == "categorical":
            data[name] = pd.Categorical.from_codes(column["codes"], categories=column["categories"],
                                                   ordered=column["ordered"])
        elif column["kind"] == "number":
            values = pd.Series(column["values"], dtype=float)
            data[name] = values.astype("Int64") if column["integer"] and values.isna().any() else (
                values.astype(np.int64) if column["integer"] else values)
        elif column["kind"] == "bool":
            data[name] = pd.Series(column["values"])
        else:
            data[name] = pd.Series(column["values"])  # pandas infers its text dtype, as when the data were read
    return pd.DataFrame(data, index=item["index"])


def _group_level_names(spec) -> list[list[str]]:
    from ..backend.numpyro_model import absorption

    return [[spec.fixed_names[k] for k in columns] for columns in absorption(spec).group_level]


def save_fit(fit, path) -> None:
    options = dict(fit.options)
    if isinstance(options.get("priors"), dict):  # a style of defaults ("defaults": "blimp") stays as text
        options["priors"] = {key: prior if isinstance(prior, str) else prior_to_json(prior)
                             for key, prior in options["priors"].items()}
    options["parameterization"] = [block.parameterization for block in fit.spec.random]  # per block, in order
    meta = {
        "format": FORMAT_VERSION, "formula": fit.spec.formula, "options": options,
        "config": asdict(fit.config), "seed": int(fit.seed), "timings": fit.timings,
        "environment": fit.environment, "diagnostics": fit.diagnostics,
        "labels": fit.labels, "definitions": fit.definitions, "conditional": fit.conditional,
        "group level": _group_level_names(fit.spec),  # whose raw group coefficients include these predictors
    }
    arrays = {f"constrained/{name}": value for name, value in fit.raw.constrained.items()}
    arrays.update({f"stats/{name}": value for name, value in fit.raw.stats.items()})
    arrays.update({f"warmup/{name}": value for name, value in fit.raw.warmup.items()})
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("meta.json", json.dumps(meta, indent=1, default=_plain))
        archive.writestr("data.json", json.dumps(_frame_to_json(fit.frame)))
        archive.writestr("draws.npz", buffer.getvalue())


def load_fit(path):
    from ..api import Model
    from .fit_result import Fit

    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read("meta.json"))
        frame = _frame_from_json(json.loads(archive.read("data.json")))
        arrays = np.load(io.BytesIO(archive.read("draws.npz")))
        arrays = {name: arrays[name] for name in arrays.files}
    if meta.get("format") != FORMAT_VERSION:
        raise MultilevelError(f"{path}: saved with format {meta.get('format')}, this version reads {FORMAT_VERSION}; "
                             f"refit the model with this version")
    options = dict(meta["options"])
    if isinstance(options.get("priors"), dict):
        options["priors"] = {key: item if isinstance(item, str) else prior_from_json(item)
                             for key, item in options["priors"].items()}
    model = Model(meta["formula"], frame, _quiet=True, **options)
    if "group level" in meta and meta["group level"] != _group_level_names(model.spec):
        raise MultilevelError(f"{path}: the saved draws hold the group-level predictors {meta['group level']} in "
                              f"the random intercepts' means, this version would read them as "
                              f"{_group_level_names(model.spec)}; refit the model with this version")
    raw = RawDraws(
        unconstrained={},
        constrained={name.split("/", 1)[1]: value for name, value in arrays.items() if name.startswith("constrained/")},
        stats={name.split("/", 1)[1]: value for name, value in arrays.items() if name.startswith("stats/")},
        warmup={name.split("/", 1)[1]: value for name, value in arrays.items() if name.startswith("warmup/")},
        timings=meta["timings"], environment=meta["environment"],
    )
    fit = Fit(spec=model.spec, data=model.data, config=SamplerConfig(**meta["config"]), seed=meta["seed"], raw=raw,
              frame=frame, options=model.options, timings=meta["timings"], environment=meta["environment"],
              diagnostics=meta["diagnostics"], labels=meta.get("labels", {}),
              definitions=[tuple(item) for item in meta.get("definitions", [])],
              conditional=[tuple(item) for item in meta.get("conditional", [])])
    return fit
