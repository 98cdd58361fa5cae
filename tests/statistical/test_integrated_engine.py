"""Statistical tier: the integrated missing-data engine against the sampled-values model on the seed-001 data
(two fits of 4 x 1000 draws; the exactness of the integral itself is checked by quadrature in the default tier,
tests/unit/test_integration.py)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import multilevel as ml

pytestmark = pytest.mark.statistical

DATA = Path(__file__).resolve().parents[1] / "data" / "04_multilevel.csv"
FORMULA = "y ~ x1i + x2i + x3i + x2i:x3i + (1 + x1i | j)"
OPTIONS = {"predictor_models": ["x1i ~ x2i + x3i", "x2i ~ x3i"],
           "missingness_models": ["y.missing ~ y + x1i + x2i + x3i + x2i:x3i"]}


@pytest.fixture(scope="module")
def seed_fits():
    data = pd.read_csv(DATA)
    return [ml.fit(FORMULA, data, integrate=integrate, seed=11, progress=False, **OPTIONS)
            for integrate in (True, False)]


def test_integrated_and_sampled_models_agree_on_the_seed_data(seed_fits):
    """The same posterior: every parameter's mean within 0.1 posterior SD plus 3 Monte Carlo SEs, SDs within
    10%, and the imputations alike (each value's mean, the SDs, their correlation with an observed variable)."""
    integrated, sampled = (fit.summary() for fit in seed_fits)
    assert integrated["ess_bulk"].min() > 400 and sampled["ess_bulk"].min() > 400
    assert integrated["rhat"].max() < 1.01 and sampled["rhat"].max() < 1.01
    for name in integrated.index:
        difference = abs(integrated.loc[name, "mean"] - sampled.loc[name, "mean"])
        mcse = np.hypot(integrated.loc[name, "mcse_mean"], sampled.loc[name, "mcse_mean"])
        assert difference < 0.1 * sampled.loc[name, "sd"] + 3 * mcse, name
        assert integrated.loc[name, "sd"] == pytest.approx(sampled.loc[name, "sd"], rel=0.1), name
    data = pd.read_csv(DATA)
    for name in ("x1i", "x2i", "y"):
        draws = [fit.draws[f"imputed {name}"].reshape(-1, fit.draws[f"imputed {name}"].shape[-1]) for fit in seed_fits]
        means = [d.mean(axis=0) for d in draws]
        # per missing value, in its posterior SD: 4,000 draws of each engine leave ~0.03 SD of Monte Carlo error
        gap = np.abs(means[0] - means[1]) / draws[1].std(axis=0)
        assert gap.mean() < 0.05 and gap.max() < 0.25, (name, gap.mean(), gap.max())
        assert draws[0].std(axis=0).mean() == pytest.approx(draws[1].std(axis=0).mean(), rel=0.05)
        rows = data[name].isna().to_numpy()
        other = data.loc[rows, "x3i"].to_numpy()
        correlations = [np.corrcoef(mean, other)[0, 1] for mean in means]
        assert correlations[0] == pytest.approx(correlations[1], abs=0.05), name

