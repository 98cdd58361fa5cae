"""Core benchmark: each model in a fresh process with a cold compilation cache, then again warm.

    python bench/run.py [MODEL ...]

Prints a table and writes bench/results/core.csv and core.md. Timings are whole-process wall
seconds on this machine; never asserted in tests.
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
from models import ANCHORS, BRMS_COMPILE_SECONDS, BRMS_SAMPLING_SECONDS, MODELS  # noqa: E402
from table import markdown  # noqa: E402


def run(model: str, cache: str, extra=()) -> dict:
    environment = dict(os.environ, MULTILEVEL_CACHE_DIR=cache)
    output = subprocess.run([sys.executable, str(HERE / "fit_one.py"), model, *extra], capture_output=True,
                            text=True, env=environment, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main(models):
    rows = []
    for model in models:
        cache = tempfile.mkdtemp(prefix="multilevel-bench-cache-")
        for label in ("cold cache", "warm cache"):
            result = run(model, cache)
            result["run"] = label
            rows.append(result)
            print(json.dumps(result), flush=True)
    frame = pd.DataFrame(rows)
    columns = ["model", "run", "rows", "import_s", "prepare_s", "compile_s", "warmup_s", "sampling_s", "wall_s",
               "min_ess_bulk", "min_ess_tail", "ess_per_s_sampling", "ess_per_s_wall", "max_rhat", "divergences",
               "trustworthy", "ttfr_s", "peak_memory_gb"]
    frame = frame[columns]
    lines = [markdown(frame), "", "Anchors (min bulk ESS per second):"]
    for model in models:
        warm = frame[(frame.model == model) & (frame.run == "warm cache")].iloc[0]
        cold = frame[(frame.model == model) & (frame.run == "cold cache")].iloc[0]
        for anchor, value in ANCHORS.get(model, {}).items():
            lines.append(f"- {model}: {anchor} {value:g} ESS/s; ours {cold.ess_per_s_wall:g} (whole process, cold), "
                         f"{warm.ess_per_s_wall:g} (warm), {warm.ess_per_s_sampling:g} (sampling only) → "
                         f"{cold.ess_per_s_wall / value:.1f}x / {warm.ess_per_s_sampling / value:.1f}x")
        if model in BRMS_COMPILE_SECONDS:
            brms = BRMS_COMPILE_SECONDS[model] + BRMS_SAMPLING_SECONDS[model]
            lines.append(f"- {model}: brms compile + sampling {brms:g} s; ours whole process {cold.wall_s:g} s cold, "
                         f"{warm.wall_s:g} s warm ({brms / cold.wall_s:.1f}x / {brms / warm.wall_s:.1f}x faster)")
    text = "\n".join(lines)
    print(text)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    frame.to_csv(out / "core.csv", index=False)
    (out / "core.md").write_text(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1:] or ["anorexia", "sleepstudy", "verbagg"])
