"""Statistical tier: calibration over replications (run with ``pytest -m statistical``)."""

import numpy as np
import pytest

import multilevel as ml

from ..conftest import simulate_random_slopes

pytestmark = pytest.mark.statistical

TRUTH = {"Intercept": 2.0, "x": 0.5, "sd(Intercept | g)": 1.2, "sd(x | g)": 0.4, "residual sd": 0.8}


def test_random_slope_intervals_cover_the_truth():
    """95% intervals over 40 simulated data sets cover the generating values 85-100% of the time."""
    hits = {name: 0 for name in TRUTH}
    replications = 40
    for replication in range(replications):
        data = simulate_random_slopes(seed=1000 + replication, groups=30, per_group=10)
        fit = ml.fit("y ~ x + (1 + x | g)", data, chains=2, warmup=400, draws=400, seed=replication,
                     progress=False, warn=False)
        summary = fit.summary()
        assert summary.loc[list(TRUTH), "rhat"].max() < 1.05
        for name, value in TRUTH.items():
            hits[name] += summary.loc[name, "q2.5"] <= value <= summary.loc[name, "q97.5"]
    coverage = {name: count / replications for name, count in hits.items()}
    assert all(0.85 <= share <= 1.0 for share in coverage.values()), coverage


def test_logistic_random_intercept_recovery_large_sample():
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(200), 25)
    x = rng.normal(size=groups.size)
    u = rng.normal(scale=1.0, size=200)
    y = (rng.random(groups.size) < 1 / (1 + np.exp(-(0.4 - 0.8 * x + u[groups])))).astype(int)
    import pandas as pd

    fit = ml.fit("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": groups}), family="bernoulli", seed=4,
                 progress=False, warn=False)
    summary = fit.summary()
    assert summary["ess_bulk"].min() > 400
    for name, value in {"Intercept": 0.4, "x": -0.8, "sd(Intercept | g)": 1.0}.items():
        assert abs(summary.loc[name, "mean"] - value) < 3 * summary.loc[name, "sd"], name
