"""multilevel — Bayesian multilevel regression with principled missing-data handling.

>>> import multilevel as ml
>>> fit = ml.fit("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"), seed=1)
>>> fit.summary()
"""

from . import _environment  # noqa: F401  (must run before JAX starts)
from . import datasets
from .api import Model, fit, load
from .blimp import fit_script, load_script
from .errors import (DataError, FormulaSyntaxError, MultilevelError, SamplingError, SpecificationError)
from .results.diagnostics import ConvergenceWarning
from .results.fit_result import Fit
from .results.bayes_factors import bayes_factor
from .results.comparison import compare
from .results.pooling import pool
from .spec.priors import (LKJ, Cauchy, Exponential, Flat, FlatCovariance, Gamma, HalfCauchy, HalfNormal, HalfStudentT,
                          InverseGamma, LogNormal, Normal, StudentT, Uniform)

__version__ = "0.1.0"

__all__ = [
    "Model", "fit", "load", "fit_script", "load_script", "Fit", "datasets", "pool", "compare", "bayes_factor",
    "Normal", "StudentT", "Cauchy", "Flat", "FlatCovariance", "HalfNormal", "HalfStudentT", "HalfCauchy", "Exponential",
    "Gamma", "InverseGamma", "LogNormal", "Uniform", "LKJ",
    "MultilevelError", "FormulaSyntaxError", "SpecificationError", "DataError", "SamplingError",
    "ConvergenceWarning",
]
