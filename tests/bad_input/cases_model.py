"""Python API cases: declarations that cannot be honoured, data that would make a wrong design, sampler options."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .cases import Case, api_error, ml


@functools.lru_cache(maxsize=1)
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 120
    data = pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n), "g": np.repeat(np.arange(12), 10),
                         "o": rng.integers(0, 4, n)})
    data["comment"] = [f"free text {k}" for k in range(n)]
    data["score"] = [f"{v:.3f}" for v in rng.normal(size=n)]
    data.loc[17, "score"] = "n/a"
    return data


def model():
    return ml.Model("y ~ x + (1 | g)", frame())


CASES = [
    Case("api-ordinal-outcome", "declarations", 'ml.fit("o ~ x + (1 | g)", data, ordinal=["o"])',
         lambda tmp: api_error(lambda: ml.Model("o ~ x + (1 | g)", frame(), ordinal=["o"])),
         ("declared ordinal", "not ignored")),
    Case("api-nominal-outcome", "declarations", 'ml.fit("o ~ x + (1 | g)", data, nominal=["o"])',
         lambda tmp: api_error(lambda: ml.Model("o ~ x + (1 | g)", frame(), nominal=["o"])), ("declared nominal",)),
    Case("api-free-text-column", "data", 'ml.fit("y ~ comment + (1 | g)", data)  # 120 distinct texts in 120 rows',
         lambda tmp: api_error(lambda: ml.Model("y ~ comment + (1 | g)", frame())),
         ("column 'comment'", "120 distinct values", "(1 | comment)")),
    Case("api-number-as-text", "data", 'ml.fit("y ~ score + (1 | g)", data)  # one value is "n/a"',
         lambda tmp: api_error(lambda: ml.Model("y ~ score + (1 | g)", frame())), ("'n/a'", "row 18")),
    Case("api-sampler-typo", "sampler", "model.fit(draw=500)",
         lambda tmp: api_error(lambda: model().fit(draw=500)), ("did you mean draws=",)),
    Case("api-brms-iter", "sampler", "ml.fit(formula, data, iter=2000)",
         lambda tmp: api_error(lambda: ml.fit("y ~ x + (1 | g)", frame(), iter=2000)), ("warmup=", "draws=")),
    Case("api-sampler-option-on-model", "sampler", "ml.Model(formula, data, chains=2)",
         lambda tmp: api_error(lambda: ml.Model("y ~ x + (1 | g)", frame(), chains=2)), ("sampler option",)),
    Case("api-model-typo", "model options", "ml.Model(formula, data, familly='poisson')",
         lambda tmp: api_error(lambda: ml.Model("y ~ x + (1 | g)", frame(), familly="poisson")),
         ("did you mean family=",)),
    Case("api-listwise-with-predictor-models", "model options",
         'ml.fit(formula, data, missing="listwise", predictor_models=["x ~ o"])',
         lambda tmp: api_error(lambda: ml.Model("y ~ x + (1 | g)", frame(), missing="listwise",
                                                predictor_models=["x ~ o"])), ("would be ignored",)),
    Case("api-seed-negative", "sampler", "model.fit(seed=-1)",
         lambda tmp: api_error(lambda: model().fit(seed=-1)), ("seed must be",)),
    Case("api-seed-text", "sampler", 'model.fit(seed="1")',
         lambda tmp: api_error(lambda: model().fit(seed="1")), ("seed must be",)),
    Case("api-dense-mass-word", "sampler", 'model.fit(dense_mass="full")',
         lambda tmp: api_error(lambda: model().fit(dense_mass="full")), ("'population'", "'auto'")),
    Case("api-integrate-text", "model options", 'ml.fit(formula, data, integrate="yes")',
         lambda tmp: api_error(lambda: ml.Model("y ~ x + (1 | g)", frame(), integrate="yes")),
         ("integrate='yes'", "True", "False")),
]
