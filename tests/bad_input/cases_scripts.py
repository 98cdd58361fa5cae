"""Blimp scripts: their data files, names that are not variables, models the translation cannot honour."""

from __future__ import annotations

import re

from pathlib import Path

from .cases import Case, api_error, cli_error, ml

DATA = Path(__file__).resolve().parents[1] / "data"
SCRIPT = (DATA / "04_multilevel.imp").read_text()


def script(tmp: Path, text: str, name: str = "analysis.imp", encoding: str = "utf-8") -> str:
    (tmp / "04_multilevel.csv").write_text((DATA / "04_multilevel.csv").read_text())
    path = tmp / name
    path.write_text(text, encoding=encoding)
    return str(path)


def five_column_dat(tmp: Path) -> None:
    (tmp / "five.dat").write_text("".join(f"{k % 4} {k * 0.5:.1f} {k % 3} {k * 0.25:.2f} {k % 7}\n"
                                          for k in range(20)))


def likert(tmp: Path) -> None:
    (tmp / "likert.csv").write_text("y,item\n" + "".join(f"{0.5 * k:.1f},{k % 6}\n" for k in range(30)))


CASES = [
    Case("script-variables-count", "Blimp scripts",
         "VARIABLES: a b c d;  for a headerless five.dat with 5 fields per line",
         lambda tmp: (five_column_dat(tmp), cli_error(["fit", script(tmp, "DATA: five.dat;\nVARIABLES: a b c d;\n"
                                                                          "MODEL: b ~ d;\n")]))[1],
         ("line 2:", "names 4 variable(s) but line 1", "has 5 field(s)")),
    Case("script-missing-zero", "Blimp scripts", "MISSING: 0;  on a 0-5 Likert item",
         lambda tmp: (likert(tmp), api_error(lambda: ml.load_script(script(tmp, "DATA: likert.csv;\nMISSING: 0;\n"
                                                                                "MODEL: y ~ item;\n"))))[1],
         ("line 2:", "column 'item'", "-99 or 999")),
    Case("script-data-directory", "Blimp scripts", "DATA: /etc;",
         lambda tmp: cli_error(["fit", script(tmp, "DATA: /etc;\nMODEL: y ~ x;\n")]), ("line 1:", "directory")),
    Case("script-data-missing", "Blimp scripts", "DATA: nosuch.csv;",
         lambda tmp: cli_error(["fit", script(tmp, "DATA: nosuch.csv;\nMODEL: y ~ x;\n")]), ("line 1:", "not found")),
    Case("script-data-ragged", "Blimp scripts", "DATA: ragged.csv;  (line 3 has an extra field)",
         lambda tmp: ((tmp / "ragged.csv").write_text("y,x\n1,2\n3,4,5\n"),
                      cli_error(["fit", script(tmp, "DATA: ragged.csv;\nMODEL: y ~ x;\n")]))[1],
         ("line 1:", "ragged.csv", "line 3 has 3 field(s)")),
    Case("script-bom", "Blimp scripts",
         "a script saved by Notepad with a UTF-8 byte-order mark, and a zero-width space",
         lambda tmp: cli_error(["fit", script(tmp, "\ufeff" + SCRIPT.replace("FIXED: x3i;", "FIXED:\u200b x3i;"),
                                              encoding="utf-8")]),
         ("line 3:", "U+200B (ZERO WIDTH SPACE)")),
    Case("script-non-breaking-space", "Blimp scripts", "MODEL: y ~ x1i\u00a0x2i;  (a non-breaking space)",
         lambda tmp: api_error(lambda: ml.load_script(script(tmp, SCRIPT.replace("y ~ x1i x2i", "y ~ x1i\u00a0x2i")))),
         ("line 6:", "U+00A0 (NO-BREAK SPACE)")),
    Case("script-latin-1", "Blimp scripts", "a script saved as Latin-1 (a comment with é)",
         lambda tmp: cli_error(["fit", script(tmp, "# analyse d'été\n" + SCRIPT, encoding="latin-1")]),
         ("not UTF-8", "line 1", "Save it as UTF-8")),
    Case("script-model-typo", "Blimp scripts", "MODEL: y ~ x1i x2i x3 ...;  (x3 for x3i)",
         lambda tmp: cli_error(["fit", script(tmp, SCRIPT.replace("y ~ x1i x2i x3i", "y ~ x1i x2i x3"))]),
         ("line 6:", "'x3' is not a variable", "Did you mean 'x3i'?", "The data's variables: j, y, x1i")),
    Case("script-ordinal-typo", "Blimp scripts", "ORDINAL: x2;",
         lambda tmp: api_error(lambda: ml.load_script(script(tmp, SCRIPT + "ORDINAL: x2;\n"))),
         ("line 13:", "'x2' is not a variable", "Did you mean 'x2i'?")),
    Case("script-ordinal-many-values", "Blimp scripts",
         "ORDINAL: x1i;  (a continuous variable; found when the model is built)",
         lambda tmp: api_error(lambda: ml.load_script(script(tmp, SCRIPT + "ORDINAL: x1i;\n"))),
         ("line 13:", "ordinal variable 'x1i' has 518 distinct values", "    ORDINAL: x1i;", "^^^ column 10")),
    Case("script-clusterid-typo", "Blimp scripts", "CLUSTERID: J;",
         lambda tmp: api_error(lambda: ml.load_script(script(tmp, SCRIPT.replace("CLUSTERID: j;", "CLUSTERID: J;")))),
         ("line 2:", "'J' is not a variable", "Did you mean 'j'?")),
    Case("script-outcome-both-sides", "Blimp scripts", "MODEL: y ~ y x1i;",
         lambda tmp: cli_error(["fit", script(tmp, SCRIPT.replace("y ~ x1i x2i", "y ~ y x1i x2i"))]),
         ("line 6:", "'y' is on both sides")),
    Case("script-center-latent-mean", "Blimp scripts", "CENTER: grandmean = x1i.mean;",
         lambda tmp: cli_error(["fit", script(tmp, SCRIPT + "CENTER: grandmean = x1i.mean;\n")]),
         ("line 13:", "latent group mean", "not available yet", "Remove x1i.mean from CENTER")),
    Case("script-center-typo", "Blimp scripts", "CENTER: groupmean = x1;",
         lambda tmp: cli_error(["fit", script(tmp, SCRIPT + "CENTER: groupmean = x1;\n")]),
         ("line 13:", "'x1' is not a variable", "Did you mean 'x1i'?")),
    Case("script-chains-zero", "Blimp scripts", "CHAINS: 0;",
         lambda tmp: cli_error(["fit", script(tmp, SCRIPT + "CHAINS: 0;\n")]), ("line 13:", "CHAINS must be from 1")),
    Case("script-iterations-zero", "Blimp scripts", "ITERATIONS: 0;",
         lambda tmp: cli_error(["fit", script(tmp, re.sub(r"ITERATIONS: \d+;", "ITERATIONS: 0;", SCRIPT))]),
         ("line 12:", "ITERATIONS must be from 1")),
    Case("script-seed-negative", "Blimp scripts", "SEED: -1;",
         lambda tmp: cli_error(["fit", script(tmp, re.sub(r"SEED: \d+;", "SEED: -1;", SCRIPT))]), ("line 10:", "SEED")),
    Case("script-headerless-without-variables", "Blimp scripts", "DATA: five.dat;  (numbers on line 1, no VARIABLES)",
         lambda tmp: (five_column_dat(tmp), cli_error(["fit", script(tmp, "DATA: five.dat;\nMODEL: b ~ d;\n")]))[1],
         ("line 1:", "no VARIABLES")),
    Case("script-parameters-unknown-name", "Blimp scripts", "PARAMETERS: d = b1 * nosuch;  (checked before sampling)",
         lambda tmp: cli_error(["fit", script(tmp, SCRIPT.replace("y ~ x1i x2i", "y ~ x1i@b1 x2i")
                                              + "PARAMETERS: d = b1 * nosuch;\n")]),
         ("line 13:", "'nosuch' in PARAMETERS", "Known: Intercept, b1")),
    Case("script-simple-no-interaction", "Blimp scripts", "SIMPLE: x1i | x2i;  (no x1i*x2i in the model)",
         lambda tmp: cli_error(["fit", script(tmp, SCRIPT + "SIMPLE: x1i | x2i;\n")]),
         ("line 13:", "does not interact")),
    Case("script-directory", "Blimp scripts", "multilevel fit /etc",
         lambda tmp: cli_error(["fit", "/etc"]), ("directory",)),
]
