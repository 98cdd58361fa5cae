"""Replication study in the Blimp tutorial's design (seed 001): full model vs listwise deletion.

    python bench/replicate_blimp_design.py [REPLICATIONS] [FIRST_SEED]

Each replicate simulates the design (tests/statistical/blimp_design.py), fits the full model
(stated predictor models and the MNAR selection model, as the tutorial's script) and listwise
deletion, and appends one row per coefficient to bench/results/blimp_design_runs.csv. The
summary (bias, RMSE, 95% coverage per coefficient and method) goes to blimp_design.md.
"""

import sys
import time
import warnings
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "tests" / "statistical"))
sys.path.insert(0, str(HERE))
warnings.simplefilter("ignore")

import multilevel as ml  # noqa: E402
from blimp_design import FORMULA, MISSINGNESS_MODELS, PREDICTOR_MODELS, TRUTH, simulate  # noqa: E402
from table import markdown  # noqa: E402

SETTINGS = dict(chains=4, warmup=500, draws=500, progress=False, warn=False)


def replicate(seed: int) -> list[dict]:
    observed, _ = simulate(seed)
    rows = []
    for method, options in (("full model", dict(predictor_models=PREDICTOR_MODELS,
                                                 missingness_models=MISSINGNESS_MODELS)),
                            ("listwise", dict(missing="listwise"))):
        started = time.perf_counter()
        fit = ml.fit(FORMULA, observed, seed=seed, **options, **SETTINGS)
        summary = fit.summary()
        for name, truth in TRUTH.items():
            row = summary.loc[name]
            rows.append({"seed": seed, "method": method, "parameter": name, "truth": truth, "mean": row["mean"],
                         "q2.5": row["q2.5"], "q97.5": row["q97.5"], "rhat": row["rhat"], "ess_bulk": row["ess_bulk"],
                         "seconds": round(time.perf_counter() - started, 1)})
    return rows


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    runs = runs.assign(error=runs["mean"] - runs["truth"],
                       covered=(runs["q2.5"] <= runs["truth"]) & (runs["truth"] <= runs["q97.5"]))
    table = runs.groupby(["parameter", "method"], sort=False).agg(
        replications=("seed", "nunique"), bias=("error", "mean"),
        rmse=("error", lambda e: float((e ** 2).mean() ** 0.5)), coverage=("covered", "mean")).reset_index()
    return table.round(3)


def main(replications: int, first_seed: int) -> None:
    out = HERE / "results" / "blimp_design_runs.csv"
    for seed in range(first_seed, first_seed + replications):
        rows = pd.DataFrame(replicate(seed))
        rows.to_csv(out, mode="a", header=not out.exists(), index=False)
        print(f"seed {seed} done", flush=True)
    table = summarize(pd.read_csv(out))
    text = ("Blimp tutorial design (30 clusters x 20; y MNAR, x1i MAR, x2i MCAR): posterior means over "
            "replications, 4 chains x 500 + 500.\n\n" + markdown(table))
    (HERE / "results" / "blimp_design.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20, int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
