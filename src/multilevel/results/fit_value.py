"""The fitted model as a value: the spec, the data, the draws and how they were sampled.

A :class:`FitValue` is frozen: nothing public changes it. What is read off the draws (the draws in the
data's units, the parameter table, the summary, the DataTree, the convergence checks) is computed once
and cached on the value; analyses are functions in their own modules. ``with_notes`` and
``with_quantities`` return a new value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..backend.numpyro_model import to_user_units
from ..model.model_spec import ModelData, ModelSpec
from ..sampling.config import SamplerConfig
from ..sampling.nuts import RawDraws
from .derived import Quantities, checked_quantities
from .log_likelihood import LOG_LIKELIHOOD_LIMIT, log_likelihood_too_large, pointwise_log_likelihood
from .parameters import Parameter, parameter_table
from .summaries import summarize

OMITTED_LOG_LIKELIHOOD = ("log_likelihood group omitted from the DataTree (too large); "
                          "use fit.pointwise_log_likelihood()")
_CACHED = ("draws", "parameters", "summary_frame", "_diagnostics", "tree")  # kept by with_notes / with_quantities


@dataclass(frozen=True, eq=False)
class FitValue:
    """A fitted Bayesian multilevel model, as a value.

    ``spec`` (the frozen model), ``data`` (the arrays used), ``config`` and ``seed`` (how it was sampled),
    ``raw`` (the sampler's draws and statistics), ``frame`` (the caller's columns the model used, a copy),
    ``options`` (the model options, for saving and refitting), ``timings`` (seconds), ``environment``
    (notes such as fallbacks taken), ``quantities`` (labels, derived quantities and conditional effects
    the fit was made with, e.g. a Blimp script's PARAMETERS and SIMPLE).
    """

    spec: ModelSpec
    data: ModelData
    config: SamplerConfig
    seed: int
    raw: RawDraws
    frame: pd.DataFrame
    options: Mapping
    timings: Mapping = field(default_factory=dict)
    environment: tuple[str, ...] = ()
    quantities: Quantities = field(default_factory=Quantities)
    groups: Mapping = field(default_factory=dict)  # more DataTree groups drawn for it (posterior_predictive)
    # tables that cost seconds per thousand draws (criteria, burn-in PSR), computed once: the terminal
    # report, the HTML report and the JSON summary all ask for them
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        notes = tuple(self.environment) + tuple(self.raw.environment)
        chains, samples = self.raw.stats["diverging"].shape
        if log_likelihood_too_large(chains, samples, self.data.n):
            notes += (OMITTED_LOG_LIKELIHOOD,)
        object.__setattr__(self, "environment", tuple(dict.fromkeys(notes)))
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        object.__setattr__(self, "timings", MappingProxyType(dict(self.timings)))
        object.__setattr__(self, "groups", MappingProxyType(dict(self.groups)))

    @cached_property
    def draws(self) -> Mapping[str, np.ndarray]:
        """Parameters in the data's units, leading dims chain and draw."""
        observed = self.data.outcome_observed
        missing = None if observed is None else int((~np.asarray(observed)).sum())
        return MappingProxyType(to_user_units(self.spec, self.raw.constrained, missing, self.data))

    @cached_property
    def parameters(self) -> list[Parameter]:
        return parameter_table(self.spec, self.draws)

    @cached_property
    def summary_frame(self) -> pd.DataFrame:
        """Every parameter's summary with its ``class`` column (read-only use: ``summary()`` copies)."""
        table = self.parameters
        frame = summarize([p.name for p in table], np.stack([p.draws for p in table]))
        frame.insert(0, "class", [p.parameter_class for p in table])
        return frame

    @property
    def _summary(self) -> pd.DataFrame:
        return self.summary_frame

    @cached_property
    def _diagnostics(self) -> tuple[str, ...]:
        from .diagnostics import convergence_messages

        return tuple(convergence_messages(self.spec, self.summary_frame, self.draws, self.raw.stats, self.config))

    @property
    def diagnostics(self) -> list[str]:
        """Failed convergence checks (R-hat, ESS, divergences, tree depth), each with advice; [] when all pass."""
        return list(self._diagnostics)

    @property
    def converged(self) -> bool:
        return not self._diagnostics

    @property
    def shape(self) -> tuple[int, int]:
        """(chains, draws per chain) of the kept draws."""
        return tuple(self.raw.stats["diverging"].shape)

    @cached_property
    def tree(self):
        """The fit as an ArviZ DataTree, named as ``summary()`` and ``random_effects()`` and in the data's
        units: posterior, sample_stats, log_likelihood, observed_data, constant_data, imputed_data (when
        values were imputed) and the groups drawn for it (``with_posterior_predictive()``).

        The log-likelihood group is left out, with a note in ``environment``, when it would hold
        more than 60 million values; ``pointwise_log_likelihood()`` computes it on demand.
        """
        from .imputations import imputed_cells
        from .to_arviz import build_tree

        chains, samples = self.shape
        log_lik = None if log_likelihood_too_large(chains, samples, self.data.n) else pointwise_log_likelihood(self)
        attrs = {"inference_library": "numpyro", "creation_library": "multilevel", "formula": self.spec.formula,
                 "family": str(self.spec.family), "seed": int(self.seed)}
        return build_tree(self.spec, self.data, self.draws, self.raw.stats, log_lik, attrs,
                          imputed=imputed_cells(self), extra=dict(self.groups))

    # -- new values ----------------------------------------------------------------------------
    def _replace(self, **changes) -> FitValue:
        """A new value with ``changes``; what was computed from the draws is shared, not recomputed."""
        new = dataclasses.replace(self, **changes)
        for name in _CACHED:
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name]
        new._memo.update(self._memo)
        return new

    def with_notes(self, *notes: str) -> FitValue:
        """The same fit with ``notes`` added to its ``environment`` (shown in reports, saved)."""
        return self._replace(environment=self.environment + tuple(str(note) for note in notes))

    def with_quantities(self, definitions: dict[str, str] | None = None, labels: dict[str, str] | None = None,
                        conditional=None) -> FitValue:
        """The same fit carrying more derived quantities (``definitions``, ``labels``, as ``derive``) and
        conditional effects (``conditional``: (focal, moderator) or (focal, moderator, values) items), which
        its reports show, ``derived_quantities()`` summarizes, ``plot("simple_slopes")`` draws and ``save``
        keeps. Everything is checked first; the fit itself is not changed."""
        return self._replace(quantities=checked_quantities(self, self.quantities, definitions, labels, conditional))

    def with_groups(self, **datasets) -> FitValue:
        """The same fit whose ``tree`` also holds these groups (name → xarray Dataset)."""
        new = self._replace(groups={**self.groups, **datasets})
        new.__dict__.pop("tree", None)
        return new

    def __reduce__(self):
        """Pickled as the values it was made with (its read-only mappings as plain dicts); caches are rebuilt."""
        values = {item.name: getattr(self, item.name) for item in dataclasses.fields(self) if item.init}
        values.update(options=dict(self.options), timings=dict(self.timings), groups=dict(self.groups))
        return _rebuild, (type(self), values)

    def __repr__(self) -> str:
        return (f"<multilevel.Fit {self.spec.formula!r} {self.spec.family} — {self.data.n} rows, "
                f"{self.config.chains} chains x {self.config.draws} draws>")


def _rebuild(kind: type, values: dict) -> FitValue:
    return kind(**values)


__all__ = ["FitValue", "LOG_LIKELIHOOD_LIMIT", "OMITTED_LOG_LIKELIHOOD"]
