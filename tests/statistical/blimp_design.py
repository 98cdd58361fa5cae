"""The data design of the Blimp tutorial example (seed 001), for replication studies.

30 clusters (j) x 20 rows; y = -0.1 + x1i + x2i + x3i + x2i*x3i + u0j + u1j*x1i + e,
var(u0) = 0.20, var(u1) = 0.18, corr 0.59, var(e) = 0.95. x2i missing completely at random
(~8.5%), x1i missing at random given x2i (~13%), y missing not at random on its own value
(~23.5%, probit selection). Same generator as the tutorial data shipped in tests/data.
"""

import numpy as np
import pandas as pd
from scipy.stats import norm

TRUTH = {"Intercept": -0.1, "x1i": 1.0, "x2i": 1.0, "x3i": 1.0, "x2i:x3i": 1.0}
FORMULA = "y ~ x1i + x2i + x3i + x2i:x3i + (1 + x1i | j)"
PREDICTOR_MODELS = ["x1i ~ x2i + x3i", "x2i ~ x3i"]
MISSINGNESS_MODELS = ["y.missing ~ y + x1i + x2i + x3i + x2i:x3i"]


def simulate(seed: int, n_clusters: int = 30, per_cluster: int = 20) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = n_clusters * per_cluster
    j = np.repeat(np.arange(1, n_clusters + 1), per_cluster)
    x3 = rng.normal(size=n)
    x2 = 0.34 * x3 + rng.normal(scale=np.sqrt(0.87), size=n)
    x1 = 0.33 * x2 + 0.29 * x3 + rng.normal(scale=np.sqrt(0.78), size=n)
    tau = np.array([[0.20, 0.59 * np.sqrt(0.20 * 0.18)], [0.59 * np.sqrt(0.20 * 0.18), 0.18]])
    u = rng.multivariate_normal(np.zeros(2), tau, size=n_clusters)
    y = (-0.1 + x1 + x2 + x3 + x2 * x3 + u[j - 1, 0] + u[j - 1, 1] * x1
         + rng.normal(scale=np.sqrt(0.95), size=n))
    complete = pd.DataFrame({"j": j, "y": y, "x1i": x1, "x2i": x2, "x3i": x3})
    miss_x2 = rng.random(n) < 0.085
    miss_x1 = rng.random(n) < norm.cdf(-1.25 + 0.6 * x2)
    z = (y - y.mean()) / y.std()
    miss_y = rng.random(n) < norm.cdf(-1.08 + 1.25 * z)
    observed = complete.copy()
    observed.loc[miss_x2, "x2i"] = np.nan
    observed.loc[miss_x1, "x1i"] = np.nan
    observed.loc[miss_y, "y"] = np.nan
    return observed, complete
