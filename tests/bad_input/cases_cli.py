"""Command-line cases: options, output paths, seeds."""

from __future__ import annotations

from .cases import Case, cli_error

CASES = [
    Case("cli-no-model", "command line", "multilevel fit --data x.csv",
         lambda tmp: cli_error(["fit", "--data", str(tmp / "x.csv")]), ("--model",)),
]
