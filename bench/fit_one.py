"""Fit one benchmark model in this (fresh) process and print its figures as one JSON line.

Usage: python bench/fit_one.py MODEL [--parameterization centered|noncentered] [--seed N]
                                [--integrate 1|0] [--dense-mass auto|false|population]
                                [--draws N|auto [--target-ess N]]
"""

import argparse
import json
import resource
import sys
import time

started = time.perf_counter()
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import multilevel as ml  # noqa: E402

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from models import MODELS  # noqa: E402

imported = time.perf_counter()
parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("--parameterization", default="auto")
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--integrate", type=int, default=1, help="0: sample missing continuous values")
parser.add_argument("--dense-mass", default="auto", choices=["auto", "false", "population"])
parser.add_argument("--draws", default="1000", help="draws per chain, or auto")
parser.add_argument("--target-ess", type=int, default=None, help="with --draws auto")
args = parser.parse_args()
formula, data, options = MODELS[args.model]()
sampler = {key: options.pop(key) for key in list(options) if key in ("target_accept",)}
warnings.simplefilter("ignore")
dense_mass = {"auto": "auto", "false": False, "population": "population"}[args.dense_mass]
if args.draws == "auto":
    sampler.update(draws="auto", target_ess=args.target_ess)
else:
    sampler["draws"] = int(args.draws)
fit = ml.fit(formula, data, parameterization=args.parameterization, seed=args.seed, progress=False,
             integrate=bool(args.integrate), dense_mass=dense_mass, **options, **sampler)
first_result = time.perf_counter()
main = fit.summary(["Intercept", "fixed", "sd", "cor", "residual sd"])
sampling = fit.timings["warmup"] + fit.timings["sampling"]
wall = first_result - started
result = {
    "model": args.model, "rows": int(fit.data.n), "draws": int(fit.config.draws),
    "parameterization": {b.factor.name: b.parameterization for b in fit.spec.random},
    "import_s": round(imported - started, 2), "prepare_s": round(fit.timings["prepare"], 2),
    "compile_s": round(fit.timings["compile"], 2), "warmup_s": round(fit.timings["warmup"], 2),
    "sampling_s": round(fit.timings["sampling"], 2), "wall_s": round(wall, 2),
    "min_ess_bulk": round(float(main["ess_bulk"].min()), 1), "min_ess_tail": round(float(main["ess_tail"].min()), 1),
    "worst_parameter": str(main["ess_bulk"].idxmin()),
    "max_rhat": round(float(main["rhat"].max()), 4), "divergences": int(np.sum(fit.raw.stats["diverging"])),
    "ess_per_s_sampling": round(float(main["ess_bulk"].min()) / sampling, 1),
    "ess_per_s_wall": round(float(main["ess_bulk"].min()) / wall, 1),
    "trustworthy": bool(main["rhat"].max() < 1.01 and main["ess_bulk"].min() >= 400),
    "mean_leapfrog_steps": round(float(fit.raw.stats["n_steps"].mean()), 1),
    "after_sampling_s": round(sum(fit.timings.get(key, 0.0) for key in ("integrated values", "discrete values",
                                                                         "group effects")), 2),
    "peak_memory_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, 2),
}
# time to first trustworthy result: the whole process, when this default run already meets the standard
result["ttfr_s"] = result["wall_s"] if result["trustworthy"] else None
print(json.dumps(result))
