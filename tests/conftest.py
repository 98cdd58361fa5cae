import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import multilevel as ml  # (first: configures JAX devices before anything else starts JAX)

# Test tiers (markers in pyproject.toml):
#   pytest                       the default tier: everything but the opt-in statistical and browser tests
#   pytest -m "not slow"         the fast tier: the default tier without its long tests
#   pytest -m statistical        the statistical checks (minutes each); pytest -m browser: headless chromium
OPT_IN = ("statistical", "browser")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Every statistical and browser test is also ``slow``, before ``-m`` selects: a ``-m`` on the command
    line replaces the one in addopts, and ``-m "not slow"`` must still leave the opt-in tiers out."""
    for item in items:
        if any(item.get_closest_marker(name) for name in OPT_IN):
            item.add_marker(pytest.mark.slow)


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


def load_error(path, **options) -> str:
    """The message of the error ``ml.load(path, **options)`` raises (it must raise a MultilevelError)."""
    with pytest.raises(ml.MultilevelError) as caught:
        ml.load(path, **options)
    return str(caught.value)


def simulate_mar_on_outcome(seed: int, clusters: int = 40, per_cluster: int = 15):
    """y = 1 + 0.8 x + 0.5 z + u + e; x is missing more often when y is high (MAR given y)."""
    rng = np.random.default_rng(seed)
    n = clusters * per_cluster
    g = np.repeat(np.arange(clusters), per_cluster)
    z = rng.normal(size=n)
    x = 0.4 * z + rng.normal(scale=0.9, size=n)
    y = 1 + 0.8 * x + 0.5 * z + rng.normal(scale=0.5, size=clusters)[g] + rng.normal(scale=0.8, size=n)
    standardized = (y - y.mean()) / y.std()
    missing = rng.random(n) < norm.cdf(-0.6 + 1.2 * standardized)
    frame = pd.DataFrame({"y": y, "x": np.where(missing, np.nan, x), "z": z, "g": g.astype(str)})
    return frame, x


MAR_SETTINGS = quick(chains=4, warmup=300, draws=250)


@pytest.fixture(scope="session")
def mar_fit():
    """One fit of simulate_mar_on_outcome(4) shared by the tests that only read it."""
    frame, x_true = simulate_mar_on_outcome(4)
    return frame, x_true, ml.fit("y ~ x + z + (1 | g)", frame, **MAR_SETTINGS)
