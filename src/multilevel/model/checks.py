"""Data checks that run before anything is compiled. Each says what to do about it."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from ..errors import DataError, on_command_line, spell


def suggest(name: str, choices) -> str:
    close = difflib.get_close_matches(name, [str(choice) for choice in choices], n=3, cutoff=0.6)
    if not close:
        lowered = {str(choice).lower(): str(choice) for choice in choices}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def as_data_frame(data) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, dict):
        frame = pd.DataFrame(data)
    else:
        raise DataError(f"data must be a pandas DataFrame or a dict of columns, got {type(data).__name__}")
    if frame.shape[0] == 0:
        raise DataError("the data have no rows")
    if frame.columns.duplicated().any():
        duplicated = sorted(set(frame.columns[frame.columns.duplicated()].astype(str)))
        raise DataError(f"the data have duplicated column names: {', '.join(duplicated)}")
    return frame


def is_numeric_column(series: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(series) or (
        pd.api.types.is_numeric_dtype(series) and not isinstance(series.dtype, pd.CategoricalDtype))


def check_text_column(name: str, series: pd.Series) -> None:
    """A text column is categorical unless it looks like numbers stored as text."""
    values = series.dropna()
    if len(values) == 0:
        return
    if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(series):
        raise DataError(f"column '{name}' holds dates or times, which cannot be a predictor; "
                        f"convert it to a number (e.g. days since the start) first")
    as_text = values.astype(str)
    numeric = pd.to_numeric(as_text, errors="coerce")
    share = float(numeric.notna().mean())
    bad = numeric.isna().to_numpy()
    if share >= 0.9 and len(values) > 10 and (bad.any() or numeric.nunique() > 0.5 * len(values)):
        if bad.any():  # numbers with a few that are not: a typo, a decimal comma or a missing-value word
            position = int(series.index.get_loc(values.index[np.flatnonzero(bad)[0]]))
            value = as_text.iloc[int(np.flatnonzero(bad)[0])]
            where = (f"data row {position + 1} (line {position + 1} after the header)" if on_command_line()
                     else f"row {position + 1} (label {series.index[position]!r})")
            fix = spell(f"fix it (pd.to_numeric(data['{name}'], errors='coerce') makes it missing)",
                        f"fix it in the file, or if it marks missing values, pass --missing-code {value!r}")
            raise DataError(f"column '{name}' holds numbers stored as text, but {value!r} on {where} is not a "
                            f"number ({int(bad.sum())} such value(s)): {fix}; or wrap it in C({name}) to treat "
                            f"every value as a category")
        examples = ", ".join(repr(v) for v in as_text.iloc[:3])
        raise DataError(f"column '{name}' holds numbers stored as text ({examples}, ...); "
                        + spell(f"convert it with pd.to_numeric(data['{name}'])",
                                "write them as plain numbers in the file")
                        + f" to use it as a number, or wrap it in C({name}) to treat it as categorical")
    kinds = {type(v) for v in values.iloc[:1000]}
    if len(kinds) > 1 and any(k in (int, float) for k in kinds) and any(k is str for k in kinds):
        raise DataError(f"column '{name}' mixes numbers and text; clean it or wrap it in C({name}) to "
                        f"treat every value as a category")


def check_finite(name: str, values: np.ndarray) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataError(f"column '{name}' has {int(bad.sum())} infinite value(s) (first at row position "
                        f"{int(np.flatnonzero(bad)[0])}); replace them or mark them missing")


def check_design(names: tuple[str, ...], X: np.ndarray, intercept: bool) -> None:
    """Constant and perfectly collinear columns, named."""
    if X.shape[1] == 0:
        return
    sds = X.std(axis=0)
    scale = np.maximum(np.abs(X).max(axis=0), 1e-300)
    constant = [names[k] for k in range(X.shape[1]) if sds[k] <= 1e-12 * scale[k]]
    zero = [names[k] for k in range(X.shape[1]) if np.abs(X[:, k]).max() == 0]
    if zero:
        raise DataError(f"predictor(s) {', '.join(repr(n) for n in zero)} are zero in every row used: remove them")
    if constant and intercept:
        raise DataError(f"predictor(s) {', '.join(repr(n) for n in constant)} are constant in the data used; "
                        f"a constant predictor duplicates the intercept: remove it")
    if X.shape[0] < X.shape[1] + 1:
        raise DataError(f"{X.shape[1]} fixed-effect columns but only {X.shape[0]} rows; simplify the model")
    standardized = (X - X.mean(axis=0)) / sds if intercept else X / np.sqrt((X ** 2).mean(axis=0))
    _, singular, right = np.linalg.svd(standardized, full_matrices=False)
    tolerance = singular[0] * max(X.shape) * 1e-10
    null = right[singular <= tolerance]
    if len(null):
        involved = np.abs(null).max(axis=0) > 1e-6
        collinear = [names[k] for k in range(X.shape[1]) if involved[k]]
        raise DataError(f"predictors {', '.join(repr(n) for n in collinear)} are perfectly collinear "
                        f"(one is an exact combination of the others{', with the intercept' if intercept else ''}); "
                        f"remove one of them")


MANY_LEVELS = 20  # a text column with more distinct values than this is dummy coded with a note


def check_levels(name: str, series: pd.Series, levels: int, forced: bool) -> str | None:
    """A categorical predictor with very many levels: an error when it looks like an identifier or free text
    (as many levels as half its rows), else a note (returned) saying how many dummy columns it takes."""
    observed = int(series.notna().sum())
    if levels > 10 and levels >= 0.5 * observed:
        kind = "categorical" if forced else "text"
        raise DataError(f"column '{name}' is {kind} with {levels} distinct values in {observed} rows: as a "
                        f"categorical predictor it would take {levels - 1} dummy columns, and it looks like an "
                        f"identifier or free text. If it identifies groups, use it as a grouping factor, "
                        f"(1 | {name}); otherwise remove it from the model")
    if levels > MANY_LEVELS:
        return (f"column '{name}' has {levels} distinct {'values' if forced else 'text values'}: it is dummy coded "
                f"into {levels - 1} columns (reference '{{reference}}'); if it identifies groups, (1 | {name}) "
                f"is usually the better model")
    return None
