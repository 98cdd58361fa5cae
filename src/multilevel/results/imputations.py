"""Completed data sets from the posterior draws of the missing values (multiple imputation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._files import atomic_path, check_output_file
from ..errors import MultilevelError
from .imputed_values import imputed_cells


def outcome_predictions(fit) -> tuple[np.ndarray, np.ndarray] | None:
    """The missing outcomes of a family whose model leaves them out of the likelihood (bernoulli,
    binomial, poisson, ...): (row positions, draws (samples, rows)), each posterior draw's outcome simulated
    from the focal model at that draw's parameters, group effects and imputed predictors (the posterior
    predictive distribution of the missing values). None when no such outcome is missing."""
    observed = fit.data.outcome_observed
    if fit.spec.outcome_latent or observed is None or observed.all():
        return None
    from .predict import fitted_design, fitted_linear_predictor, predictions

    rows = np.flatnonzero(~observed)
    eta = fitted_linear_predictor(fit)
    draws = {name: np.asarray(value).reshape((-1,) + np.shape(value)[2:])[None]
             for name, value in fit.draws.items() if np.ndim(value) >= 2}
    rng = np.random.default_rng(np.random.SeedSequence([fit.seed, 6607]))  # the same imputations every call
    return rows, predictions(fit.spec, draws, fitted_design(fit.data), "response", rng, eta=eta)[:, rows]


def every_imputed_cell(fit) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`imputed_cells` and the missing outcomes that the likelihood left out (drawn afterwards)."""
    cells = imputed_cells(fit)
    predicted = outcome_predictions(fit)
    if predicted is not None:
        cells[fit.spec.response.name] = predicted
    return cells


def _base(fit) -> pd.DataFrame:
    base = fit.frame.loc[fit.data.row_labels].copy()
    for submodel in fit.spec.submodels:  # level 2: a value missing in a row but seen in its cluster is known
        if submodel.level == 2 and submodel.kind.per_category:  # codes
            info = next(v for v in fit.spec.variables if v.name == submodel.outcome)
            codes = np.asarray(fit.data.values[submodel.outcome]).astype(int)
            labels = np.asarray(info.level_values, dtype=object)[np.maximum(codes, 0)]
            column = np.where(codes >= 0, labels, None)
            base[submodel.outcome] = pd.Series(column, index=base.index).astype(fit.frame[submodel.outcome].dtype)
        elif submodel.level == 2:
            base[submodel.outcome] = np.asarray(fit.data.values[submodel.outcome], dtype=float)
    return base


def well_separated_draws(chains: int, per_chain: int, count: int) -> np.ndarray:
    """Flat indices (chain-major) of ``count`` draws spread evenly over chains and over each chain."""
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)):
        raise MultilevelError(f"the number of imputations must be a whole number, got {count!r}")
    if count < 1:
        raise MultilevelError("the number of imputations must be at least 1")
    if count > chains * per_chain:
        raise MultilevelError(f"{count} imputations requested but only {chains * per_chain} draws were kept")
    positions = np.floor(np.linspace(0, chains * per_chain, count, endpoint=False)).astype(int)
    chain_of = np.arange(count) % chains  # alternate chains
    within = (positions // chains) % per_chain
    return chain_of * per_chain + within


def _nominal_levels(fit) -> dict[str, np.ndarray]:
    """Incomplete nominal variables → their categories' values in the data, in code order."""
    result = {}
    for submodel in fit.spec.submodels:
        if submodel.kind.per_category:  # its values are codes
            info = next(v for v in fit.spec.variables if v.name == submodel.outcome)
            result[submodel.outcome] = np.asarray(info.level_values, dtype=object)
    return result


def _latent_mean_draws(fit) -> dict[str, np.ndarray]:
    """variable → latent cluster-mean draws per row (samples, rows)."""
    result = {}
    for key, value in fit.draws.items():
        if key.startswith("latent mean "):
            flat = value.reshape(-1, value.shape[-1])
            result[key[len("latent mean "):]] = flat[:, np.asarray(fit.data.group_index[0])]
    return result


def completed_datasets(fit, count: int = 20) -> pd.DataFrame:
    """``count`` completed data sets stacked, with an ``imputation`` column (1..count) first."""
    cells = every_imputed_cell(fit)
    if not cells and not any(key.startswith("latent mean ") for key in fit.draws):
        raise MultilevelError("this fit imputed nothing: the data used have no missing values")
    chains, per_chain = fit.raw.stats["diverging"].shape
    chosen = well_separated_draws(chains, per_chain, count)
    base = _base(fit)
    frames = []
    latent = _latent_mean_draws(fit)
    levels = _nominal_levels(fit)
    for number, draw in enumerate(chosen, start=1):
        completed = base.copy()
        for name, (rows, draws) in cells.items():
            if name in levels:  # codes → the category's value in the data
                column = completed[name].astype(object).to_numpy().copy()
                column[rows] = levels[name][draws[draw].astype(int)]
                completed[name] = pd.Series(column, index=completed.index).astype(fit.frame[name].dtype)
                continue
            column = completed[name].to_numpy(dtype=float).copy()
            column[rows] = draws[draw]
            completed[name] = column
        for name, per_row in latent.items():  # as Blimp saves them: the draw's latent cluster means
            completed[f"{name}.mean"] = per_row[draw]
        completed.insert(0, "imputation", number)
        frames.append(completed)
    return pd.concat(frames, ignore_index=True)


def average_imputation(fit) -> pd.DataFrame:
    """The data used with each missing value replaced by its posterior mean (the most frequent category for
    nominal variables)."""
    base = _base(fit)
    levels = _nominal_levels(fit)
    for name, (rows, draws) in every_imputed_cell(fit).items():
        if name in levels:  # the most frequent category over the draws
            counts = np.stack([(draws == code).sum(axis=0) for code in range(len(levels[name]))])
            column = base[name].astype(object).to_numpy().copy()
            column[rows] = levels[name][np.argmax(counts, axis=0)]
            base[name] = pd.Series(column, index=base.index).astype(fit.frame[name].dtype)
            continue
        column = base[name].to_numpy(dtype=float).copy()
        column[rows] = draws.mean(axis=0)
        base[name] = column
    for name, per_row in _latent_mean_draws(fit).items():
        base[f"{name}.mean"] = per_row.mean(axis=0)
    return base


def check_path(path, option: str = "imputations file") -> Path:
    """``path`` can be written (its folder exists, it is not a folder), and Parquet can be written if asked."""
    path = check_output_file(path, option)
    if path.suffix.lower() == ".parquet":
        import importlib.util

        if not any(importlib.util.find_spec(engine) for engine in ("pyarrow", "fastparquet")):
            raise MultilevelError(f"{option} '{path}': writing Parquet needs pyarrow: pip install pyarrow "
                                  f"(or write .csv)")
    return path


def write(frame: pd.DataFrame, path, option: str = "imputations file") -> Path:
    """Write ``frame`` as ``.parquet`` (by the suffix) or CSV, whole or not at all."""
    path = check_path(path, option)
    with atomic_path(path) as temporary:
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False)
    return path


def imputed_data_summaries(fit, count: int | None = None) -> pd.DataFrame:
    """Blimp's "imputed data summaries": per variable with imputed values, the mean, SD, quartiles, minimum
    and maximum of its completed column, averaged over ``count`` completed data sets (default: every
    kept draw, as Blimp averages over all iterations)."""
    cells = every_imputed_cell(fit)
    chains, per_chain = fit.raw.stats["diverging"].shape
    chosen = well_separated_draws(chains, per_chain, min(count or chains * per_chain, chains * per_chain))
    base = _base(fit)
    levels = _nominal_levels(fit)
    rows = []
    for name, (positions, draws) in cells.items():
        if name in levels:
            continue  # nominal: categories have no mean
        column = base[name].to_numpy(dtype=float)
        completed = np.repeat(column[None, :], len(chosen), axis=0)
        completed[:, positions] = draws[chosen]
        quartiles = np.quantile(completed, [0.25, 0.5, 0.75], axis=1)
        rows.append({"variable": name, "mean": completed.mean(axis=1).mean(),
                     "sd": completed.std(axis=1, ddof=1).mean(), "25%": quartiles[0].mean(),
                     "50%": quartiles[1].mean(), "75%": quartiles[2].mean(), "min": completed.min(axis=1).mean(),
                     "max": completed.max(axis=1).mean()})
    return pd.DataFrame(rows).set_index("variable") if rows else pd.DataFrame(
        columns=["mean", "sd", "25%", "50%", "75%", "min", "max"])


def save_imputations(fit, path, count: int = 20, average_path=None) -> None:
    """Write ``count`` stacked completed data sets (``.csv`` or ``.parquet``), and their average if asked;
    both paths are checked before any work is done."""
    check_path(path)
    if average_path is not None:
        check_path(average_path, "average imputation file")
    write(completed_datasets(fit, count), path)
    if average_path is not None:
        write(average_imputation(fit), average_path, "average imputation file")
