"""Read the estimate tables of a Blimp 4.1 output log (one log may hold several runs)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

_ROW = re.compile(r"^  (?:L2 : )?(?P<name>\S.*?)\s{2,}(?P<estimate>-?\d+\.\d+)\s+(?P<sd>-?\d+\.\d+)\s+"
                  r"(?P<lower>-?\d+\.\d+)\s+(?P<upper>-?\d+\.\d+)\s+\S+\s+\S+\s+(?P<ess>\S+)\s*$")


def read_blimp_log(path: Path) -> pd.DataFrame:
    """One row per reported parameter: run (1, 2, ...), model lines, variable, section, parameter, estimate,
    sd, lower, upper, n_eff (NaN when Blimp prints ---)."""
    rows, run, models, variable, section, in_models = [], 0, [], None, None, False
    for line in Path(path).read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("ALGORITHMIC OPTIONS SPECIFIED"):
            run, models, variable = run + 1, [], None
        elif stripped.startswith(("IMPUTED DATA SUMMARIES", "CORRELATIONS AMONG RESIDUALS")):
            variable = None
        elif stripped == "MODELS":
            in_models = True
        elif in_models:
            if stripped.startswith("["):
                models.append(stripped.split("]", 1)[1].strip())
            elif stripped and not stripped.startswith("["):
                in_models = stripped == ""
        if stripped.startswith(("Outcome Variable:", "Latent Variable:", "Predictor Variable:")):
            variable = stripped.split(":", 1)[1].strip()
        elif stripped.endswith(":") and not line.startswith("   ") and stripped[:-1] in (
                "Variances", "Coefficients", "Thresholds", "Standard Deviations", "Standardized Coefficients"):
            section = stripped[:-1]
        elif stripped.startswith("Proportion Variance Explained"):
            section = "Proportion Variance Explained"
        elif variable is not None and (match := _ROW.match(line)):
            ess = match["ess"]
            rows.append({"run": run, "models": " ; ".join(models), "variable": variable, "section": section,
                         "parameter": match["name"].strip(), "estimate": float(match["estimate"]),
                         "sd": float(match["sd"]), "lower": float(match["lower"]), "upper": float(match["upper"]),
                         "n_eff": float(ess) if ess != "---" else float("nan")})
    return pd.DataFrame(rows)
