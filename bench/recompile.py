"""Does a second fit compile again? In one process: a model fitted with 1000 + 1000, then with other
sampler settings (warmup, draws, thin, target_accept, seed), then on new data of the same shape, then on
data with another missingness pattern and with more missing values (5: the same bucket of padded
missing values; 15: the next). Prints one JSON line per fit with its compile seconds.

Usage: python bench/recompile.py [sleepstudy|seed001]
"""

import json
import sys
import time
import warnings

import numpy as np

import multilevel as ml

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from models import MODELS  # noqa: E402

name = sys.argv[1] if len(sys.argv) > 1 else "sleepstudy"
formula, data, options = MODELS[name]()
options.pop("target_accept", None)
warnings.simplefilter("ignore")
rng = np.random.default_rng(7)
outcome = formula.split("~")[0].strip()
numeric = [column for column in data.columns if data[column].dtype.kind == "f" and column != outcome]
jittered = data.copy()
jittered[outcome] = data[outcome] + rng.normal(scale=0.1 * np.nanstd(data[outcome]), size=len(data))
repatterned = data.copy()
for column in numeric[:2]:  # the same number of missing values, in other rows
    missing = repatterned[column].isna().to_numpy()
    if missing.any():
        values = repatterned[column].to_numpy().copy()
        observed = values[~missing]
        new_missing = rng.permutation(len(values))[:missing.sum()]
        refill = np.ones(len(values), bool)
        refill[new_missing] = False
        values[:] = np.nan
        values[refill] = rng.choice(observed, refill.sum())
        repatterned[column] = values
def with_more_missing(frame, count):
    """``count`` more missing values in the first numeric predictor."""
    frame = frame.copy()
    seen = np.flatnonzero(frame[numeric[0]].notna().to_numpy())
    frame.loc[frame.index[rng.choice(seen, count, replace=False)], numeric[0]] = np.nan
    return frame


runs = [("first: 1000 + 1000", data, {}), ("warmup 500, draws 500", data, {"warmup": 500, "draws": 500}),
        ("thin 2, target_accept 0.9, seed 2", data, {"thin": 2, "target_accept": 0.9, "seed": 2}),
        ("new data, same shape", jittered, {})]
if numeric and data[numeric[0]].isna().any():  # a model with incomplete predictors
    runs += [("another missingness pattern", repatterned, {}),
             (f"5 more missing values in {numeric[0]}", with_more_missing(repatterned, 5), {}),
             (f"15 more missing values in {numeric[0]}", with_more_missing(repatterned, 15), {})]
for label, frame, settings in runs:
    started = time.perf_counter()
    fit = ml.fit(formula, frame, progress=False, **{"seed": 1, **options, **settings})
    print(json.dumps({"model": name, "fit": label, "compile_s": round(fit.timings["compile"], 2),
                      "wall_s": round(time.perf_counter() - started, 2)}), flush=True)
