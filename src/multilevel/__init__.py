"""multilevel — Bayesian multilevel regression with principled missing-data handling.

>>> import multilevel as ml
>>> fit = ml.fit("Reaction ~ Days + (Days | Subject)", ml.datasets.load("sleepstudy"), seed=1)
>>> fit.summary()

The public names are imported when first used (PEP 562), so ``import multilevel`` and the
command line's ``--help`` do not wait for JAX; the JAX settings of :mod:`multilevel._environment`
are made at import, before JAX starts.
"""

from __future__ import annotations

import importlib

from . import _environment  # noqa: F401  (must run before JAX starts)
from .errors import DataError, FormulaSyntaxError, MultilevelError, SamplingError, SpecificationError

__version__ = "0.1.0"

_PRIORS = ("LKJ", "Cauchy", "Exponential", "Flat", "FlatCovariance", "Gamma", "HalfCauchy", "HalfNormal",
           "HalfStudentT", "InverseGamma", "LogNormal", "Normal", "StudentT", "Uniform")
_WHERE = {
    "Model": ".api", "fit": ".api", "load": ".api", "fit_script": ".api", "load_script": ".blimp",
    "Fit": ".api", "ConvergenceWarning": ".results.diagnostics", "bayes_factor": ".results.bayes_factors",
    "compare": ".results.comparison", "pool": ".results.pooling", "datasets": ".datasets",
    **{name: ".model.priors" for name in _PRIORS},
}

__all__ = [
    "Model", "fit", "load", "fit_script", "load_script", "Fit", "datasets", "pool", "compare", "bayes_factor",
    "Normal", "StudentT", "Cauchy", "Flat", "FlatCovariance", "HalfNormal", "HalfStudentT", "HalfCauchy", "Exponential",
    "Gamma", "InverseGamma", "LogNormal", "Uniform", "LKJ",
    "MultilevelError", "FormulaSyntaxError", "SpecificationError", "DataError", "SamplingError",
    "ConvergenceWarning",
]


def __getattr__(name: str):
    if name not in _WHERE:  # a submodule (ml.api, ml.results, ...), as a plain package would give after import
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'multilevel' has no attribute {name!r}") from None
    module = importlib.import_module(_WHERE[name], __name__)
    value = module if name == "datasets" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
