import os
import warnings

import numpy as np
import pandas as pd
import pytest

import multilevel as ml  # noqa: F401  (configures JAX devices before anything else starts JAX)


@pytest.fixture
def sleepstudy():
    return ml.datasets.load("sleepstudy")


def simulate_random_slopes(seed: int, groups: int = 40, per_group: int = 12):
    """y = 2 + 0.5 x + u0 + u1 x + e with sd(u0)=1.2, sd(u1)=0.4, cor=0.3, sigma=0.8."""
    rng = np.random.default_rng(seed)
    sd = np.array([1.2, 0.4])
    cor = np.array([[1.0, 0.3], [0.3, 1.0]])
    effects = rng.multivariate_normal(np.zeros(2), cor * np.outer(sd, sd), size=groups)
    g = np.repeat(np.arange(groups), per_group)
    x = rng.normal(size=groups * per_group)
    y = 2 + 0.5 * x + effects[g, 0] + effects[g, 1] * x + rng.normal(scale=0.8, size=g.size)
    return pd.DataFrame({"y": y, "x": x, "g": [f"school{k}" for k in g]})


def quick(**overrides):
    """Short sampler settings for tests that check plumbing, not accuracy."""
    settings = dict(chains=2, warmup=150, draws=100, seed=11, progress=False, warn=False)
    settings.update(overrides)
    return settings
