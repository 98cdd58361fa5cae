"""draws="auto": the same compiled sampler goes on until the smallest bulk ESS reaches target_ess or
max_draws are kept (issue 15, item 8), deterministically given the seed."""

from __future__ import annotations

import numpy as np
import pytest

import multilevel as ml
from multilevel.errors import SpecificationError

FORMULA = "Reaction ~ Days + (1 | Subject)"


def test_auto_draws_samples_on_until_the_target_ess_and_reruns_identically():
    data = ml.datasets.load("sleepstudy")
    settings = dict(chains=2, warmup=200, draws="auto", target_ess=3000, max_draws=4000, seed=5, progress=False,
                    warn=False)
    fit = ml.fit(FORMULA, data, **settings)
    kept = fit.config.draws
    assert 1000 < kept <= 4000 and fit.config.target_ess == 3000
    assert np.shape(fit.raw.stats["diverging"]) == (2, kept)
    summary = fit.summary(["Intercept", "fixed", "sd", "residual sd"])
    assert summary["ess_bulk"].min() > 0.8 * 3000 or kept == 4000  # the rule's ESS is NumPyro's, rank-normalized
    again = ml.fit(FORMULA, data, **settings)
    assert again.config.draws == kept
    for name, value in fit.raw.constrained.items():
        np.testing.assert_array_equal(value, again.raw.constrained[name])
    capped = ml.fit(FORMULA, data, **{**settings, "target_ess": 10 ** 6, "max_draws": 1500})
    assert capped.config.draws == 1500  # never more than max_draws


def test_auto_draws_stops_at_the_first_draws_when_the_target_is_met():
    fit = ml.fit(FORMULA, ml.datasets.load("sleepstudy"), chains=2, warmup=200, draws="auto", target_ess=50,
                 seed=5, progress=False, warn=False)
    assert fit.config.draws == 1000


@pytest.mark.parametrize(("options", "message"), [
    ({"draws": "many"}, "draws must be a positive whole number or 'auto'"),
    ({"draws": 500, "target_ess": 1000}, "target_ess and max_draws apply with draws='auto'"),
    ({"draws": "auto", "max_draws": 500}, r"max_draws \(500\) must be at least draws \(1000\)"),
    ({"draws": "auto", "target_ess": 0}, "target_ess must be a positive whole number"),
])
def test_auto_draws_options_are_checked(options, message):
    with pytest.raises(SpecificationError, match=message):
        ml.fit(FORMULA, ml.datasets.load("sleepstudy"), progress=False, **options)


def test_cli_draws_auto(tmp_path, capsys):
    from multilevel.cli import main

    ml.datasets.load("sleepstudy").to_csv(tmp_path / "sleep.csv", index=False)
    assert main(["fit", "--data", str(tmp_path / "sleep.csv"), "--model", FORMULA, "--chains", "2", "--warmup",
                 "200", "--draws", "auto", "--target-ess", "2500", "--max-draws", "3000", "--seed", "5",
                 "--no-progress"]) == 0
    output = capsys.readouterr().out
    assert "draws='auto'" in output or "draws auto" in output
