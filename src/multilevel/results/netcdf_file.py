"""A saved fit as a NetCDF4 file: the fit's ArviZ DataTree, readable with ``xarray.open_datatree`` alone.

The file holds ``fit.tree`` (posterior, sample_stats, log_likelihood, observed_data, constant_data,
imputed_data, posterior_predictive when drawn; names and units as ``fit.summary()``), the fit's
description in the root's attributes (``formula``, ``family``, ``seed``, ``sampler``, ``options``,
``priors``, ``data``, ``versions`` as text or JSON, and ``multilevel_meta``, the whole description as
JSON) and, for :func:`load`, the draws as sampled in the group ``/multilevel`` (``constrained`` and
``warmup``, each array named ``a<k>`` with its site in the attribute ``site``) with the data used as
JSON text in ``/multilevel/data``. With ``include_data=False`` the data and the groups that hold the data's
values (observed_data, constant_data, log_likelihood, imputed_data) are left out. ``multilevel_checksums``
(SHA-256 of the description, the data and each array) lets :func:`load` detect an edited file.
Loading reads numbers and text only; it never executes code.
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

import numpy as np
import xarray as xr

from .._files import atomic_path
from ..errors import MultilevelError
from .saved_data import plain
from .saved_fit import Parts, broken, check_meta_fields, check_version, rebuild_fit

STATE, DATA_VARIABLE = "multilevel", "data"
META_ATTRIBUTE, CHECKSUM_ATTRIBUTE = "multilevel_meta", "multilevel_checksums"
NETCDF_PARTS = Parts(meta=f"the attribute {META_ATTRIBUTE}", draws=f"the group /{STATE}",
                     data=f"the variable /{STATE}/{DATA_VARIABLE}")
# groups that hold the data's values (or, as the log-likelihood of a Gaussian model, the size of each residual):
# left out of a file saved with include_data=False
DATA_GROUPS = ("observed_data", "constant_data", "log_likelihood", "imputed_data")
SAVED_GROUPS = ("posterior_predictive",)  # groups a fit carries (FitValue.groups), restored on loading
ENGINE: Final = "h5netcdf"


def _array_sum(name: str, value: np.ndarray) -> str:
    digest = hashlib.sha256(f"{name}|{value.dtype.str}|{list(value.shape)}|".encode())
    digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()


def _text_sum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _arrays_dataset(arrays: dict) -> xr.Dataset:
    variables = {}
    for k, (name, value) in enumerate(arrays.items()):
        dims = ("chain", "draw") + tuple(f"a{k} dim {m}" for m in range(value.ndim - 2))
        variables[f"a{k}"] = xr.Variable(dims, value, attrs={"site": name})
    return xr.Dataset(variables)


def _described(fit, meta: dict) -> dict:
    """The root's attributes: the fit's description, readable without multilevel."""
    def text(value) -> str:
        return json.dumps(value, default=plain)

    priors = [{"parameter": item.parameter, "class": item.parameter_class, "prior": str(item.prior),
               "source": item.source} for item in fit.spec.priors]
    return {"creation_library": "multilevel", "inference_library": "numpyro",
            "multilevel_version": meta["versions"]["multilevel"], "formula": meta["formula"],
            "family": meta["family"], "seed": meta["seed"], "sampler": text(meta["config"]),
            "options": text(meta["options"]), "priors": text(priors), "data": text(meta["data"]),
            "versions": text(meta["versions"])}


def write(fit, path, meta: dict, arrays: dict, table: dict | None) -> None:
    """Write ``fit`` as a NetCDF4 DataTree (whole or not at all)."""
    tree = fit.tree
    meta_text = json.dumps(meta, default=plain)
    sums = {"meta": _text_sum(meta_text), "arrays": {name: _array_sum(name, value) for name, value in arrays.items()}}
    state = {}
    if table is not None:
        table_text = json.dumps(table)
        state[f"/{STATE}"] = xr.Dataset({DATA_VARIABLE: ((), table_text)})
        sums["data"] = _text_sum(table_text)
    for group in ("constrained", "warmup"):
        chosen = {name: value for name, value in arrays.items() if name.startswith(f"{group}/")}
        if chosen:
            state[f"/{STATE}/{group}"] = _arrays_dataset(chosen)
    groups = {node.path: node.to_dataset(inherit=False) for node in tree.subtree
              if node.path != "/" and (table is not None or node.name not in DATA_GROUPS)}
    saved = xr.DataTree.from_dict({"/": xr.Dataset(attrs={**_described(fit, meta), META_ATTRIBUTE: meta_text,
                                                           CHECKSUM_ATTRIBUTE: json.dumps(sums)}),
                                   **groups, **state})
    encoding = {node.path: {name: {"zlib": True, "complevel": 4} for name, variable in node.dataset.variables.items()
                            if variable.dtype.kind in "biuf" and variable.size >= 10_000}  # chunks cost space
                for node in saved.subtree}
    try:
        with atomic_path(path) as temporary:
            saved.to_netcdf(temporary, engine=ENGINE, encoding=encoding)
    except (ValueError, TypeError) as error:  # a name or value NetCDF cannot hold
        raise MultilevelError(f"the fit cannot be saved as NetCDF to '{path}' ({error}); save it as .zip") from None


# -- loading -----------------------------------------------------------------------------------
def _opened(path) -> xr.DataTree:
    try:
        with xr.open_datatree(path, engine=ENGINE) as tree:
            return tree.load()
    except Exception as error:  # h5py and h5netcdf fail in many ways on a cut or damaged file
        raise broken(path, f"the NetCDF4 file is damaged or cut short ({type(error).__name__})") from None


def _json_attribute(path, attrs, name: str):
    value = attrs.get(name)
    if not isinstance(value, str):
        raise broken(path, f"it has no attribute {name}")
    try:
        return json.loads(value)
    except (ValueError, RecursionError) as error:
        raise broken(path, f"the attribute {name} is not valid JSON ({error})") from None


def _saved_arrays(path, tree: xr.DataTree) -> dict[str, np.ndarray]:
    arrays = {}
    for group in ("constrained", "warmup"):
        if STATE not in tree.children or group not in tree.children[STATE].children:
            continue
        for key, variable in tree.children[STATE].children[group].to_dataset(inherit=False).data_vars.items():
            site = variable.attrs.get("site")
            if not isinstance(site, str) or not site.startswith(f"{group}/"):
                raise broken(path, f"the array {NETCDF_PARTS.draws}/{group}/{key} names no site of the fit")
            arrays[site] = np.asarray(variable.values)
    if "sample_stats" not in tree.children:
        raise broken(path, "it has no group sample_stats")
    for name, variable in tree.children["sample_stats"].to_dataset(inherit=False).data_vars.items():
        arrays[f"stats/{name}"] = np.asarray(variable.values)
    return arrays


def _checked(path, tree: xr.DataTree, meta_text: str, arrays: dict, table_text: str | None) -> None:
    sums = _json_attribute(path, tree.attrs, CHECKSUM_ATTRIBUTE)
    if not isinstance(sums, dict) or not isinstance(sums.get("arrays"), dict):
        raise broken(path, f"the attribute {CHECKSUM_ATTRIBUTE} does not hold checksums")
    if sums.get("meta") != _text_sum(meta_text):
        raise broken(path, f"{NETCDF_PARTS.meta} was changed after the fit was saved (its SHA-256 checksum differs)")
    if table_text is not None and sums.get("data") != _text_sum(table_text):
        raise broken(path, f"{NETCDF_PARTS.data} was changed after the fit was saved (its SHA-256 checksum differs)")
    for name, value in arrays.items():
        if name in sums["arrays"] and sums["arrays"][name] != _array_sum(name, value):
            raise broken(path, f"the array '{name}' was changed after the fit was saved (its SHA-256 checksum "
                               f"differs)")


def load(path, data=None, *, model_class, fit_class):
    """The fit a NetCDF4 file written by :func:`write` holds."""
    tree = _opened(path)
    if META_ATTRIBUTE not in tree.attrs:
        raise MultilevelError(f"'{path}' is a NetCDF4 file but not a saved multilevel fit (it has no attribute "
                              f"{META_ATTRIBUTE}); give the file fit.save wrote")
    meta_text = tree.attrs[META_ATTRIBUTE]
    meta = _json_attribute(path, tree.attrs, META_ATTRIBUTE)
    check_version(path, meta, NETCDF_PARTS)
    check_meta_fields(path, meta, NETCDF_PARTS)
    arrays = _saved_arrays(path, tree)
    table_text = None
    if STATE in tree.children and DATA_VARIABLE in tree[STATE].data_vars:
        table_text = str(tree[STATE][DATA_VARIABLE].values)
    _checked(path, tree, meta_text if isinstance(meta_text, str) else "", arrays, table_text)
    table = None
    if table_text is not None:
        try:
            table = json.loads(table_text)
        except (ValueError, RecursionError) as error:
            raise broken(path, f"{NETCDF_PARTS.data} is not valid JSON ({error})") from None
    groups = {name: tree[name].to_dataset(inherit=False) for name in SAVED_GROUPS if name in tree.children}
    return rebuild_fit(path, meta, arrays, table, data, NETCDF_PARTS, model_class=model_class, fit_class=fit_class,
                       groups=groups)
