"""The missing-data engine side by side (issue 15): missing normal values sampled as parameters or integrated
out of the likelihood, with a diagonal mass matrix or a dense block over the population-level parameters.

    python bench/integration.py [MODEL ...]   (default: seed001)

Each configuration in a fresh process, first with a cold compilation cache, then warm. Writes
bench/results/integration.md. Timings are whole-process wall seconds on this machine, never asserted.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from table import markdown  # noqa: E402

CONFIGURATIONS = [  # (label, --integrate, --dense-mass)
    ("sampled, diagonal mass (the engine before)", "0", "false"),
    ("sampled, population block dense", "0", "population"),
    ("integrated, diagonal mass", "1", "false"),
    ("integrated, population block dense (the default)", "1", "auto"),
]
COLUMNS = ["model", "engine", "run", "compile_s", "warmup_s", "sampling_s", "after_sampling_s", "wall_s",
           "mean_leapfrog_steps", "min_ess_bulk", "worst_parameter", "ess_per_s_sampling", "ess_per_s_wall",
           "max_rhat", "divergences"]


def run(model: str, integrate: str, dense: str, cache: str) -> dict:
    output = subprocess.run([sys.executable, str(HERE / "fit_one.py"), model, "--integrate", integrate,
                             "--dense-mass", dense], capture_output=True, text=True, check=True,
                            env={**__import__("os").environ, "MULTILEVEL_CACHE_DIR": cache})
    return json.loads(output.stdout.strip().splitlines()[-1])


def main(models: list[str]) -> None:
    rows = []
    for model in models:
        for label, integrate, dense in CONFIGURATIONS:
            cache = tempfile.mkdtemp(prefix="multilevel-bench-")
            for run_label in ("cold cache", "warm cache"):
                result = run(model, integrate, dense, cache)
                rows.append({**result, "engine": label, "run": run_label})
                print(json.dumps(rows[-1]), flush=True)
    frame = pd.DataFrame(rows)[COLUMNS]
    text = ["Missing-data engine, 4 chains x 1000 warmup + 1000 draws, each run a fresh process "
            "(bench/integration.py):", "", markdown(frame), ""]
    (HERE / "results" / "integration.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main(sys.argv[1:] or ["seed001"])
