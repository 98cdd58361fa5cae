"""Command-line cases: options, output paths, seeds, and messages in the command line's words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .cases import Case, cli_error

MODEL = "Reaction ~ Days + (1 | Subject)"


def sleepstudy(tmp: Path, change=None) -> str:
    import multilevel as ml

    frame = ml.datasets.load("sleepstudy")
    if change is not None:
        frame = change(frame.copy())
    path = tmp / "sleepstudy.csv"
    frame.to_csv(path, index=False)
    return str(path)


def fit_args(tmp: Path, *extra: str, change=None) -> list[str]:
    return ["fit", "--data", sleepstudy(tmp, change), "--model", MODEL, *extra]


def _missing_subject(frame: pd.DataFrame) -> pd.DataFrame:
    frame["Subject"] = frame["Subject"].astype(object)
    frame.loc[4, "Subject"] = np.nan
    return frame


def _decimal_comma(frame: pd.DataFrame) -> pd.DataFrame:
    frame["Days"] = frame["Days"].astype(float).astype(str)
    frame.loc[41, "Days"] = "4,5"
    return frame


def _file(tmp: Path) -> str:
    (tmp / "notes.txt").write_text("a file\n")
    return str(tmp / "notes.txt")


CASES = [
    Case("cli-no-model", "command line", "multilevel fit --data x.csv",
         lambda tmp: cli_error(["fit", "--data", str(tmp / "x.csv")]), ("--model",)),
    Case("cli-save-no-folder", "output paths", "multilevel fit ... --save nodir/a.zip",
         lambda tmp: cli_error(fit_args(tmp, "--save", str(tmp / "nodir" / "a.zip"))), ("does not exist",)),
    Case("cli-json-unwritable", "output paths", "multilevel fit ... --json /proc/x.json",
         lambda tmp: cli_error(fit_args(tmp, "--json", "/proc/x.json")), ("--json", "/proc")),
    Case("cli-report-folder", "output paths", "multilevel fit ... --report DIR (a folder)",
         lambda tmp: cli_error(fit_args(tmp, "--report", str(tmp))), ("is a folder",)),
    Case("cli-plots-under-file", "output paths", "multilevel fit ... --plots notes.txt/figures",
         lambda tmp: cli_error(fit_args(tmp, "--plots", _file(tmp) + "/figures")), ("is a file",)),
    Case("cli-imputations-suffix", "output paths", "multilevel fit ... --imputations imps.xlsx",
         lambda tmp: cli_error(fit_args(tmp, "--imputations", str(tmp / "imps.xlsx"))), (".csv or .parquet",)),
    Case("cli-save-without-data-alone", "command line", "multilevel fit ... --save-without-data (no --save)",
         lambda tmp: cli_error(fit_args(tmp, "--save-without-data")), ("--save FILE",)),
    Case("cli-seed-negative", "sampler", "multilevel fit ... --seed -1",
         lambda tmp: cli_error(fit_args(tmp, "--seed", "-1")), ("seed must be",)),
    Case("cli-seed-huge", "sampler", "multilevel fit ... --seed 99999999999999999999999",
         lambda tmp: cli_error(fit_args(tmp, "--seed", "99999999999999999999999")), ("2^63 - 1",)),
    Case("cli-draws-zero", "sampler", "multilevel fit ... --draws 0",
         lambda tmp: cli_error(fit_args(tmp, "--draws", "0")), ("draws must be",)),
    Case("cli-missing-cluster-id", "command-line words", "multilevel fit ... (a Subject ID missing in one row)",
         lambda tmp: cli_error(fit_args(tmp, change=_missing_subject)), ("--missing listwise",)),
    Case("cli-number-as-text", "command-line words", "multilevel fit ... (Days holds '4,5' in one row)",
         lambda tmp: cli_error(fit_args(tmp, change=_decimal_comma)), ("'4,5'", "data row 42", "--missing-code")),
    Case("cli-ordinal-outcome", "declarations", "multilevel fit ... --ordinal Reaction",
         lambda tmp: cli_error(fit_args(tmp, "--ordinal", "Reaction")), ("--ordinal Reaction", "not ignored")),
    Case("cli-bernoulli-counts", "command-line words",
         "multilevel fit --model 'Days ~ 1 + (1 | Subject)' --family bernoulli",
         lambda tmp: cli_error(["fit", "--data", sleepstudy(tmp), "--model", "Days ~ 1 + (1 | Subject)",
                                "--family", "bernoulli"]), ("--family binomial",)),
]
