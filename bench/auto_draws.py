"""draws="auto" against the default draws=1000 (issue 15, item 8): each model in a fresh process with a cold
compilation cache, default settings otherwise; target_ess 8000 (max_draws 5000 per chain).

    python bench/auto_draws.py [MODEL ...]   (default: anorexia verbagg)

Writes bench/results/auto_draws.md. Whole-process wall seconds on this machine, never asserted.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from table import markdown  # noqa: E402

COLUMNS = ["model", "draws", "kept", "compile_s", "warmup_s", "sampling_s", "wall_s", "min_ess_bulk",
           "ess_per_s_wall", "max_rhat"]


def run(model: str, draws: str) -> dict:
    environment = {**os.environ, "MULTILEVEL_CACHE_DIR": tempfile.mkdtemp(prefix="multilevel-bench-")}
    output = subprocess.run([sys.executable, str(HERE / "fit_one.py"), model, "--draws", draws, "--target-ess",
                             "8000"], capture_output=True, text=True, check=True, env=environment)
    result = json.loads(output.stdout.strip().splitlines()[-1])
    return {**result, "draws": draws, "kept": result["draws"]}


def main(models: list[str]) -> None:
    rows = [run(model, draws) for model in models for draws in ("1000", "auto")]
    frame = pd.DataFrame(rows)[COLUMNS]
    text = ["draws=1000 against draws='auto' (target_ess 8000, max_draws 5000), 4 chains, a fresh process with a "
            "cold cache each (bench/auto_draws.py):", "", markdown(frame), ""]
    (HERE / "results" / "auto_draws.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main(sys.argv[1:] or ["anorexia", "verbagg"])
