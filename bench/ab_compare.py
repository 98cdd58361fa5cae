"""Compare two checkouts on bench/fit_one.py in one sitting: for each model a cold run (fresh compilation
cache) then warm runs, the checkouts alternated run by run so that load on the machine hits both alike.

Usage: python bench/ab_compare.py BEFORE_DIR AFTER_DIR OUT.jsonl [--models a,b] [--warm N]
Each checkout's own src/ is put first on PYTHONPATH, so one environment serves both (its dependencies
must satisfy both). bench/table.py-style summaries: python bench/ab_compare.py --table OUT.jsonl
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

MODELS = ["anorexia", "sleepstudy", "verbagg", "mathach", "seed001", "million"]


def run(trees: dict[str, str], out: str, models: list[str], warm: int) -> None:
    with open(out, "a") as sink:
        for model in models:
            caches = {name: tempfile.mkdtemp() for name in trees}
            for kind in ["cold"] + ["warm"] * warm:
                for name, tree in trees.items():
                    env = {**os.environ, "PYTHONPATH": os.path.join(tree, "src"), "MULTILEVEL_CACHE_DIR": caches[name]}
                    done = subprocess.run([sys.executable, os.path.join(tree, "bench", "fit_one.py"), model],
                                          capture_output=True, text=True, env=env, cwd=tree)
                    figures = (json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else
                               {"model": model, "error": done.stderr[-500:]})
                    sink.write(json.dumps({"checkout": name, "run": kind, **figures}) + "\n")
                    sink.flush()
                    print(model, kind, name, figures.get("wall_s"), figures.get("min_ess_bulk"), flush=True)


def table(path: str) -> str:
    rows = [json.loads(line) for line in open(path)]
    groups = collections.defaultdict(list)
    for row in rows:
        groups[(row["model"], row["run"], row["checkout"])].append(row)
    names = list(dict.fromkeys(row["checkout"] for row in rows))
    lines = ["| model | run | wall before (s) | wall after (s) | change | compile before / after (s) | "
             "warmup + sampling before / after (s) | min bulk ESS before / after |",
             "|---|---|---|---|---|---|---|---|"]

    def mean(items, key):
        return sum(item[key] for item in items) / len(items)

    for model in dict.fromkeys(row["model"] for row in rows):
        for kind in ("cold", "warm"):
            before, after = groups[(model, kind, names[0])], groups[(model, kind, names[1])]
            if not before or not after:
                continue
            wb, wa = mean(before, "wall_s"), mean(after, "wall_s")
            sb = sum(r["warmup_s"] + r["sampling_s"] for r in before) / len(before)
            sa = sum(r["warmup_s"] + r["sampling_s"] for r in after) / len(after)
            lines.append(f"| {model} | {kind} (n={len(before)}) | {wb:.2f} | {wa:.2f} | {100 * (wa / wb - 1):+.1f}% | "
                         f"{mean(before, 'compile_s'):.2f} / {mean(after, 'compile_s'):.2f} | {sb:.2f} / {sa:.2f} | "
                         f"{before[0]['min_ess_bulk']} / {after[0]['min_ess_bulk']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--table", action="store_true")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--warm", type=int, default=2)
    args = parser.parse_args()
    if args.table:
        print(table(args.paths[0]))
    else:
        before, after, out = args.paths
        run({"before": before, "after": after}, out, args.models.split(","), args.warm)
