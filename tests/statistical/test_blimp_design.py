"""Statistical tier: the Blimp tutorial design over replications (``MULTILEVEL_REPLICATIONS``, default 20)."""

import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.statistical

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))


def test_full_model_beats_listwise_and_its_intervals_cover():
    import replicate_blimp_design as runner  # bench/replicate_blimp_design.py

    replications = int(os.environ.get("MULTILEVEL_REPLICATIONS", "20"))
    import pandas as pd

    runs = pd.DataFrame([row for seed in range(2000, 2000 + replications) for row in runner.replicate(seed)])
    table = runner.summarize(runs)
    full = table[table["method"] == "full model"]
    listwise = table[table["method"] == "listwise"]
    assert full["bias"].abs().mean() < listwise["bias"].abs().mean(), table
    pooled = runs[runs["method"] == "full model"]
    covered = ((pooled["q2.5"] <= pooled["truth"]) & (pooled["truth"] <= pooled["q97.5"])).mean()
    assert 0.90 <= covered <= 0.99, table
