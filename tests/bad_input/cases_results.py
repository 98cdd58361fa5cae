"""Results of a fit: figures that do not apply, unknown kinds, unknown focal predictors and moderators,
output paths that cannot be written."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .cases import Case, api_error, ml


@functools.lru_cache(maxsize=1)
def interaction_fit():
    """``y ~ x * w + (1 | g)`` on 90 rows with no missing values, fitted once for every case."""
    rng = np.random.default_rng(2)
    groups = np.repeat(np.arange(15), 6)
    data = pd.DataFrame({"x": rng.normal(size=groups.size), "w": rng.normal(size=groups.size),
                         "g": [f"s{k}" for k in groups]})
    data["y"] = 1 + 0.5 * data["x"] + 0.3 * data["x"] * data["w"] + rng.normal(size=15)[groups] + rng.normal(
        size=groups.size)
    return ml.fit("y ~ x * w + (1 | g)", data, chains=2, warmup=100, draws=50, seed=1, progress=False, warn=False)


def _existing_file(path):
    path.write_text("<html></html>")
    return path


CASES = [
    Case("plot-no-imputations", "results", 'fit.plot("imputations")  # a fit with no missing values',
         lambda tmp: api_error(lambda: interaction_fit().plot("imputations")),
         ("this fit has no imputed values", "Plots for this fit: trace")),
    Case("plot-unknown-kind", "results", 'fit.plot("traces")',
         lambda tmp: api_error(lambda: interaction_fit().plot("traces")), ("Did you mean 'trace'?", "Plots: trace")),
    Case("plot-simple-slopes-not-asked", "results", 'fit.plot("simple_slopes")  # no conditional effect asked for',
         lambda tmp: api_error(lambda: interaction_fit().plot("simple_slopes")), ("fit.with_quantities",)),
    Case("johnson-neyman-unknown-moderator", "results", 'fit.johnson_neyman("x", "ww")  # y ~ x * w + (1 | g)',
         lambda tmp: api_error(lambda: interaction_fit().johnson_neyman("x", "ww")),
         ("'ww' is not a variable of this model", "Did you mean 'w'?", "Moderators of 'x': w")),
    Case("johnson-neyman-unknown-focal", "results", 'fit.johnson_neyman("xx", "w")  # y ~ x * w + (1 | g)',
         lambda tmp: api_error(lambda: interaction_fit().johnson_neyman("xx", "w")),
         ("'xx' is not a coefficient of this model", "Did you mean 'x'?")),
    Case("conditional-effects-no-interaction", "results", 'fit.conditional_effects("x", "g")  # y ~ x * w + (1 | g)',
         lambda tmp: api_error(lambda: interaction_fit().conditional_effects("x", "g")),
         ("'g' does not interact with 'x'",)),
    Case("conditional-effects-at-text", "results", 'fit.conditional_effects("x", "w", at="high")',
         lambda tmp: api_error(lambda: interaction_fit().conditional_effects("x", "w", at="high")),
         ("a list of numbers",)),
    Case("report-folder-missing", "results", 'fit.report("no/such/folder/report.html")',
         lambda tmp: api_error(lambda: interaction_fit().report(tmp / "no" / "report.html")),
         ("does not exist; create it first",)),
    Case("save-plots-into-a-file", "results", 'fit.save_plots("report.html")  # an existing file, not a folder',
         lambda tmp: api_error(lambda: interaction_fit().save_plots(_existing_file(tmp / "report.html"))),
         ("is a file, not a folder",)),
    Case("save-imputations-folder", "results", 'fit.save_imputations("results/")  # a folder',
         lambda tmp: api_error(lambda: interaction_fit().save_imputations(tmp)), ("is a folder",)),
]
