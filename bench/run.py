"""The benchmark suite in one run: every model in a fresh process with a cold compilation cache, then
again warm; then, when R with brms and rjags is installed, the same models in brms and JAGS
(bench/anchors), and the ratios.

    python bench/run.py [MODEL ...] [--no-anchors | --reuse-anchors]

``--reuse-anchors`` reads the brms/JAGS rows of an earlier run (bench/results/anchors.csv) instead
of fitting them again: for re-measuring our side only.

Models: anorexia, sleepstudy, verbagg, mathach, seed001, insteval, million (default: all). Writes
bench/results/core.csv (ours), bench/results/anchors.csv (theirs) and bench/results/core.md (the
tables and the ratios). Timings are whole-process wall seconds on this machine; never asserted in
tests. Default sampler settings everywhere (4 chains x 1000 warmup + 1000 draws).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from models import ANCHORS, BRMS_COMPILE_SECONDS, BRMS_SAMPLING_SECONDS, MODELS  # noqa: E402
from table import markdown  # noqa: E402

OURS = ["model", "run", "rows", "import_s", "prepare_s", "compile_s", "warmup_s", "sampling_s", "wall_s",
        "min_ess_bulk", "min_ess_tail", "ess_per_s_sampling", "ess_per_s_wall", "max_rhat", "divergences",
        "trustworthy", "ttfr_s", "peak_memory_gb"]
THEIRS = ["model", "tool", "compile_s", "warmup_s", "sampling_s", "whole_s", "min_ess_bulk", "min_ess_tail",
          "max_rhat", "divergences", "ess_per_s_sampling", "ess_per_s_chains", "ess_per_s_whole", "trustworthy",
          "note"]


def run(model: str, cache: str, extra=()) -> dict:
    environment = dict(os.environ, MULTILEVEL_CACHE_DIR=cache)
    output = subprocess.run([sys.executable, str(HERE / "fit_one.py"), model, *extra], capture_output=True,
                            text=True, env=environment, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def anchors(models: list[str]) -> pd.DataFrame:
    """brms and JAGS on the models that have anchors; JAGS anorexia with the handout's 4 x 20,000 draws."""
    if shutil.which("Rscript") is None:
        print("anchors skipped: no Rscript (apt-get install r-base-core r-cran-brms r-cran-rstan jags r-cran-rjags)")
        return pd.DataFrame(columns=THEIRS)
    rows = []
    calls = [[m for m in models if m in ("sleepstudy", "verbagg", "mathach", "anorexia")], ["--tools", "brms"]], \
        [[m for m in models if m == "anorexia"], ["--tools", "jags", "--jags-iter", "20000"]], \
        [[m for m in models if m == "verbagg"], ["--tools", "jags"]]
    results = Path(tempfile.mkdtemp(prefix="multilevel-anchors-")) / "rows.csv"
    for chosen, options in calls:
        if not chosen:
            continue
        output = subprocess.run([sys.executable, str(HERE / "anchors" / "anchors.py"), *chosen, *options,
                                 "--results", str(results)], capture_output=True, text=True)
        sys.stderr.write(output.stderr)
        for line in output.stdout.splitlines():
            if line.startswith("{"):
                rows.append(json.loads(line))
                print(line, flush=True)
    frame = pd.DataFrame(rows)
    return frame[[c for c in THEIRS if c in frame.columns]] if len(frame) else pd.DataFrame(columns=THEIRS)


def ratios(ours: pd.DataFrame, theirs: pd.DataFrame, models: list[str]) -> list[str]:
    lines = []
    for model in models:
        cold = ours[(ours.model == model) & (ours.run == "cold cache")].iloc[0]
        warm = ours[(ours.model == model) & (ours.run == "warm cache")].iloc[0]
        measured = theirs[theirs.model == model] if len(theirs) else theirs
        for row in measured.itertuples():
            lines.append(f"- {model}, {row.tool} (measured, see above): {row.ess_per_s_whole:g} ESS/s whole process, "
                         f"{row.ess_per_s_sampling:g} sampling only; ours {cold.ess_per_s_wall:g} whole process "
                         f"cold ({cold.ess_per_s_wall / row.ess_per_s_whole:.1f}x), {warm.ess_per_s_wall:g} warm "
                         f"({warm.ess_per_s_wall / row.ess_per_s_whole:.1f}x), {warm.ess_per_s_sampling:g} sampling "
                         f"only ({warm.ess_per_s_sampling / row.ess_per_s_sampling:.1f}x); their whole process "
                         f"{row.whole_s:g} s against our {cold.wall_s:g} s cold ({row.whole_s / cold.wall_s:.1f}x)")
        for anchor, value in ANCHORS.get(model, {}).items():
            lines.append(f"- {model}: issue anchor {anchor} {value:g} ESS/s; ours {cold.ess_per_s_wall:g} (whole "
                         f"process, cold), {warm.ess_per_s_wall:g} (warm), {warm.ess_per_s_sampling:g} (sampling "
                         f"only) → {cold.ess_per_s_wall / value:.1f}x / {warm.ess_per_s_wall / value:.1f}x / "
                         f"{warm.ess_per_s_sampling / value:.1f}x")
        if model in BRMS_COMPILE_SECONDS:
            brms = BRMS_COMPILE_SECONDS[model] + BRMS_SAMPLING_SECONDS[model]
            lines.append(f"- {model}: issue anchor brms compile + sampling {brms:g} s; ours whole process "
                         f"{cold.wall_s:g} s cold, {warm.wall_s:g} s warm ({brms / cold.wall_s:.1f}x / "
                         f"{brms / warm.wall_s:.1f}x faster)")
    return lines


def main(arguments):
    with_anchors = "--no-anchors" not in arguments and "--reuse-anchors" not in arguments
    models = [name for name in arguments if not name.startswith("--")] or list(MODELS)
    rows = []
    for model in models:
        cache = tempfile.mkdtemp(prefix="multilevel-bench-cache-")
        for label in ("cold cache", "warm cache"):
            result = run(model, cache)
            result["run"] = label
            rows.append(result)
            print(json.dumps(result), flush=True)
    ours = pd.DataFrame(rows)[OURS]
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    ours.to_csv(out / "core.csv", index=False)
    if "--reuse-anchors" in arguments:
        theirs = pd.read_csv(out / "anchors.csv").fillna({"note": ""})
        theirs = theirs[theirs["model"].isin(models)]
    else:
        theirs = anchors(models) if with_anchors else pd.DataFrame(columns=THEIRS)
        if len(theirs):
            theirs.to_csv(out / "anchors.csv", index=False)
    lines = ["multilevel (each run a fresh process; 4 chains x 1000 warmup + 1000 draws):", "", markdown(ours), ""]
    if len(theirs):
        source = "rows of an earlier run, reused" if "--reuse-anchors" in arguments else "this run"
        lines += [f"brms 2.18 / JAGS 4.3.1 on the same data and machine (bench/anchors; {source}):", "",
                  markdown(theirs), ""]
    lines += ["Ratios (min bulk ESS per second; ours over theirs):"] + ratios(ours, theirs, models)
    text = "\n".join(lines)
    print(text)
    (out / "core.md").write_text(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
