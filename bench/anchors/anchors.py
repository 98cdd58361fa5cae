"""External anchors: brms (rstan) and JAGS (rjags) on the benchmark models, each in a fresh Rscript process.

    python bench/anchors/anchors.py [MODEL ...] [--tools brms jags] [--iter N] [--warmup N] [--jags-iter N]
                                    [--results CSV] [--keep]

For each model the data (bench/models.py) is written to a temporary CSV, brms_fit.R / jags_fit.R is run on it
in a fresh ``Rscript`` process, and its post-warmup draws are diagnosed with the same ArviZ functions our side
uses (rank-normalized split R-hat, bulk ESS, tail ESS at the 5% / 95% quantiles). One JSON line is printed per
(model, tool) and the rows are appended to bench/anchors/results.csv. A tool whose R packages are missing is
skipped with a note on stderr.

Defaults are the full-length runs: brms iter 2000 / warmup 1000, JAGS adapt 1000 + burn-in 1000 + 1000 kept
draws per chain; 4 chains everywhere. brms runs all of anorexia, sleepstudy, verbagg, mathach; JAGS runs
anorexia (Model 5) and verbagg with the (1 | id) effect only.

Figures: compile_s, warmup_s, sampling_s, whole_s come from the R script's timings.json (whole_s is the whole
Rscript process, library loading included); process_s is the same process timed from here.
ess_per_s_sampling = min bulk ESS / (warmup_s + sampling_s); ess_per_s_whole = min bulk ESS / whole_s; for brms,
ess_per_s_chains = min bulk ESS / (summed per-chain warmup + sampling time / cores), the sampler alone.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from arviz_stats.base import array_stats

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
RESULTS = HERE / "results.csv"  # default of --results

TOOLS = {
    "brms": {"script": HERE / "brms_fit.R", "package": "brms",
             "models": ("anorexia", "sleepstudy", "verbagg", "mathach")},
    "jags": {"script": HERE / "jags_fit.R", "package": "rjags", "models": ("anorexia", "verbagg")},
}
NOTES = {
    ("brms", "anorexia"): "brms default priors; Rx dummies, reference Rx = 2",
    ("jags", "anorexia"): "Model 5 priors of bench/models.py",
    ("jags", "verbagg"): "(1 | id) only, no item effect; glm module",
}
COLUMNS = ["timestamp", "model", "tool", "note", "chains", "iter", "warmup", "draws_per_chain", "compile_s",
           "warmup_s", "sampling_s", "whole_s", "process_s", "min_ess_bulk", "min_ess_tail", "worst_parameter",
           "max_rhat", "divergences", "ess_per_s_sampling", "ess_per_s_whole", "ess_per_s_chains", "trustworthy",
           "sampling_call_s", "chain_warmup_s_sum", "chain_sampling_s_sum", "versions"]


def available(package: str) -> str | None:
    """None when Rscript and the R package load, else the reason they do not."""
    if shutil.which("Rscript") is None:
        return "Rscript not found on PATH"
    probe = subprocess.run(["Rscript", "-e", f"quit(status = if (requireNamespace('{package}', quietly = TRUE)) "
                                              "0 else 1)"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"R package {package} is not installed or does not load"


def load_data(model: str) -> pd.DataFrame:
    sys.path.insert(0, str(BENCH))
    from models import MODELS  # noqa: PLC0415  (imports multilevel; only its datasets are used)

    return MODELS[model]()[1]


def diagnose(draws: pd.DataFrame) -> dict:
    """Rank-normalized R-hat and bulk / tail ESS over the main parameters, as bench/fit_one.py gets them."""
    draws = draws.sort_values([".chain", ".draw"])
    names = [c for c in draws.columns if not c.startswith(".")]
    chains = sorted(draws[".chain"].unique())
    per_chain = draws.groupby(".chain").size()
    if per_chain.nunique() != 1:
        raise ValueError(f"chains have different lengths: {per_chain.to_dict()}")
    array = np.stack([draws.loc[draws[".chain"] == c, names].to_numpy(float).T for c in chains], axis=1)
    constant = np.ptp(array.reshape(len(names), -1), axis=1) == 0
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")
        bulk = np.asarray(array_stats.ess(array, chain_axis=-2, draw_axis=-1, method="bulk"), dtype=float)
        tail = np.asarray(array_stats.ess(array, chain_axis=-2, draw_axis=-1, method="tail", prob=(0.05, 0.95)),
                          dtype=float)
        rhat = np.asarray(array_stats.rhat(array, chain_axis=-2, draw_axis=-1, method="rank"), dtype=float)
    bulk[constant] = tail[constant] = rhat[constant] = np.nan
    return {"names": names, "chains": len(chains), "draws_per_chain": int(per_chain.iloc[0]),
            "bulk": bulk, "tail": tail, "rhat": rhat}


def run_one(model: str, tool: str, data_csv: Path, workdir: Path, args) -> dict:
    outdir = workdir / f"{model}-{tool}"
    command = ["Rscript", str(TOOLS[tool]["script"]), model, str(data_csv), str(outdir)]
    if tool == "brms":
        command += [str(args.iter), str(args.warmup)]
    else:
        command += [str(args.jags_iter)]
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True)
    process_s = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({finished.returncode}):\n{finished.stderr[-3000:]}")
    timings = json.loads((outdir / "timings.json").read_text())
    diagnostics = diagnose(pd.read_csv(outdir / "draws.csv"))
    bulk, tail, rhat = diagnostics["bulk"], diagnostics["tail"], diagnostics["rhat"]
    min_bulk = float(np.nanmin(bulk))
    sampler_s = timings["warmup_s"] + timings["sampling_s"]
    chains_s = None
    if "chain_warmup_s_sum" in timings:
        chains_s = (timings["chain_warmup_s_sum"] + timings["chain_sampling_s_sum"]) / timings["cores"]
    divergences = timings.get("divergences")
    row = {
        "timestamp": datetime.datetime.now().isoformat(timespec="seconds"),
        "model": model, "tool": tool, "note": NOTES.get((tool, model), ""),
        "chains": diagnostics["chains"], "iter": timings["iter"],
        "warmup": timings.get("warmup", timings.get("burn_in")),
        "draws_per_chain": diagnostics["draws_per_chain"],
        "compile_s": timings["compile_s"], "warmup_s": timings["warmup_s"], "sampling_s": timings["sampling_s"],
        "whole_s": timings["whole_s"], "process_s": round(process_s, 2),
        "min_ess_bulk": round(min_bulk, 1), "min_ess_tail": round(float(np.nanmin(tail)), 1),
        "worst_parameter": diagnostics["names"][int(np.nanargmin(bulk))],
        "max_rhat": round(float(np.nanmax(rhat)), 4),
        "divergences": None if divergences is None else int(divergences),
        "ess_per_s_sampling": round(min_bulk / sampler_s, 1),
        "ess_per_s_whole": round(min_bulk / timings["whole_s"], 1),
        "ess_per_s_chains": None if not chains_s else round(min_bulk / chains_s, 1),
        "trustworthy": bool(np.nanmax(rhat) < 1.01 and min_bulk >= 400),
        "sampling_call_s": timings.get("sampling_call_s"),
        "chain_warmup_s_sum": timings.get("chain_warmup_s_sum"),
        "chain_sampling_s_sum": timings.get("chain_sampling_s_sum"),
        "versions": " ".join(f"{k} {v}" for k, v in timings["versions"].items()),
    }
    if tool == "jags":
        # the adaptation (inside compile_s for JAGS) and burn-in are reported in the JSON line, not the CSV
        row["samplers"] = timings.get("samplers")
    return row


def append(rows: list[dict], path: Path) -> None:
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerows(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=["anorexia", "sleepstudy", "verbagg", "mathach"])
    parser.add_argument("--tools", nargs="+", choices=sorted(TOOLS), default=sorted(TOOLS))
    parser.add_argument("--iter", type=int, default=2000, help="brms iterations per chain, warmup included")
    parser.add_argument("--warmup", type=int, default=1000, help="brms warmup iterations per chain")
    parser.add_argument("--jags-iter", type=int, default=1000, help="JAGS kept draws per chain")
    parser.add_argument("--results", type=Path, default=RESULTS, help="CSV the rows are appended to")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder with data and draws")
    args = parser.parse_args(argv)

    reasons = {tool: available(TOOLS[tool]["package"]) for tool in args.tools}
    for tool, reason in reasons.items():
        if reason:
            print(f"note: skipping {tool}: {reason}", file=sys.stderr, flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="multilevel-anchors-"))
    rows, failures = [], 0
    try:
        for model in args.models:
            tools = [t for t in args.tools if not reasons[t] and model in TOOLS[t]["models"]]
            if not tools:
                print(f"note: no available anchor for {model}", file=sys.stderr, flush=True)
                continue
            data_csv = workdir / f"{model}.csv"
            load_data(model).to_csv(data_csv, index=False)
            for tool in tools:
                try:
                    row = run_one(model, tool, data_csv, workdir, args)
                except Exception as error:  # one failing anchor should not lose the others
                    failures += 1
                    print(f"error: {model} / {tool}: {error}", file=sys.stderr, flush=True)
                    continue
                rows.append(row)
                append([row], args.results)
                print(json.dumps(row), flush=True)
    finally:
        if args.keep:
            print(f"note: draws kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
