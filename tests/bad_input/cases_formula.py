"""Formulas: powers that R's formula algebra would silently read as something else, invisible characters."""

from __future__ import annotations

from .cases import Case, api_error, cli_error, ml


def sleepstudy():
    return ml.datasets.load("sleepstudy")


CASES = [
    Case("formula-power-star-star", "formulas", 'ml.Model("Reaction ~ Days**2 + (Days | Subject)", sleepstudy)',
         lambda tmp: api_error(lambda: ml.Model("Reaction ~ Days**2 + (Days | Subject)", sleepstudy())),
         ("not a power", "I(Days**2)")),
    Case("formula-power-caret", "formulas", 'ml.Model("Reaction ~ Days^2 + (Days | Subject)", sleepstudy)',
         lambda tmp: api_error(lambda: ml.Model("Reaction ~ Days^2 + (Days | Subject)", sleepstudy())),
         ("not a power", "I(Days^2)")),
    Case("formula-power-star-star-sum", "formulas", 'multilevel fit --model "y ~ (a + b)**2" ...',
         lambda tmp: ((tmp / "d.csv").write_text("y,a,b\n1,2,3\n2,3,1\n3,1,2\n"),
                      cli_error(["fit", "--data", str(tmp / "d.csv"), "--model", "y ~ (a + b)**2"]))[1],
         ("'**' is not a formula operator", "(a + b)^2")),
    Case("formula-zero-width-space", "formulas", 'ml.Model("Reaction ~ Days\u200b + (1 | Subject)", sleepstudy)',
         lambda tmp: api_error(lambda: ml.Model("Reaction ~ Days\u200b + (1 | Subject)", sleepstudy())),
         ("U+200B (ZERO WIDTH SPACE)",)),
]
