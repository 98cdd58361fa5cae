"""The public entry points: :class:`Model`, :func:`fit`, :func:`load` and :func:`fit_script`, thin
composers of the stages, and :class:`Fit`, the fitted model.

``Model(formula, data, ...)`` resolves the formula against the data (every check happens
here, before compilation); ``Model.fit(...)`` samples and returns a :class:`Fit`. A model's
compiled sampler is cached, so fitting it again (another seed, the same settings) does not
compile again.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from .backend.numpyro_model import (blueprint, discrete_configurations, draw_discrete, draw_integrated,
                                     draw_latent_means, draw_marginalized, internal_arrays, make_model)
from .results.fit_result import FitResult
from .errors import ModelNote, SpecificationError, spell
from .sampling.config import SamplerConfig, auto_draws, check_seed, unknown_options
from .sampling.nuts import compiled_sampler
from .model.build import build_model
from .model.checks import as_data_frame
from .syntax.ast import Formula


_MODEL_OPTIONS = ("family", "link", "priors", "center", "reference", "parameterization", "missing",
                  "predictor_models", "missingness_models", "ordinal", "nominal", "integrate")
_SAMPLER_OPTIONS = ("chains", "warmup", "draws", "thin", "seed", "target_accept", "max_tree_depth", "dense_mass",
                    "target_ess", "max_draws", "progress", "warn")


class Fit(FitResult):
    """A fitted Bayesian multilevel model: a value (spec, data, draws, sampler settings, seed, timings,
    notes; see :class:`~multilevel.results.fit_value.FitValue`) with its analyses as methods (see
    :class:`~multilevel.results.fit_result.FitResult`), its figures and its HTML report. Nothing changes it."""

    def plot(self, kind: str):
        """A matplotlib Figure: ``"trace"``, ``"rank"``, ``"posterior"``, ``"forest"`` (fixed effects),
        ``"caterpillar"`` (random effects), ``"ppc"``, ``"imputations"`` (observed vs imputed values),
        ``"residuals"`` (per level) or ``"simple_slopes"`` (the conditional effects the fit carries, see
        :meth:`with_quantities`). A kind that does not apply to this fit raises a
        :class:`MultilevelError` naming the kinds that do."""
        from .report.plots import figure

        return figure(self, kind)

    def save_plots(self, directory, formats=("png", "svg")) -> list:
        """Write every figure that applies to this fit into ``directory``; returns the paths."""
        from .report.plots import save_figures

        return save_figures(self, directory, formats)

    def report(self, path) -> None:
        """Write a self-contained HTML report (tables and figures embedded; opens offline)."""
        from .report.html import write_report

        write_report(self, path)


class ExcludedRowsWarning(UserWarning):
    """Rows were left out of the analysis (the count and the reason are in the message)."""


class Model:
    """A Bayesian multilevel regression model, resolved against data but not yet sampled.

    Parameters
    ----------
    formula : str
        lme4/brms syntax, e.g. ``"y ~ x1 + x2*x3 + (1 + x1 | g)"``. Binomial outcomes:
        ``"y | trials(n) ~ ..."`` or ``"cbind(successes, failures) ~ ..."``.
    data : pandas.DataFrame
        Never modified.
    family : str
        ``"gaussian"`` (default), ``"bernoulli"``, ``"binomial"``, ``"poisson"``; a link may
        be given as ``"bernoulli(probit)"`` or with ``link=``.
    priors : dict
        Overrides of the default priors by class (``"Intercept"``, ``"fixed"``, ``"sd"``,
        ``"cor"``, ``"residual sd"``) or by parameter name (``"x1"``, ``"sd(x1 | g)"``).
    center : dict
        ``{"x": "grand"}`` or ``{"x": "group"}`` (``"group:g"`` names the factor) centres a
        predictor within the model, without editing the data.
    reference : dict
        Reference level of categorical predictors, e.g. ``{"Sector": "Public"}``.
    parameterization : str or dict
        ``"auto"`` (chosen per grouping factor from the data), ``"centered"`` or
        ``"noncentered"``, or a dict per factor.
    missing : str
        ``"model"`` (default): missing values of numeric predictors and of the outcome are unknowns
        sampled with the parameters; each incomplete predictor gets a regression on the complete
        predictors and the incomplete ones after it (ordered by missing rate), with a random
        intercept when the data are clustered. ``"listwise"``: rows with a missing value in a used
        column are excluded, with a warning that says how many and why. With ``"model"`` a missing
        grouping factor, offset or number of trials (which cannot be imputed) is an error naming the rows.
    predictor_models : list of str
        Models of incomplete predictors stated instead of the automatic ones, e.g. ``["x1 ~ x2 + x3"]``.
    missingness_models : list of str
        Probit models of missingness indicators, e.g. ``["y.missing ~ y + x1 + x2"]``: a selection
        model for an outcome missing not at random (the outcome itself may be a predictor).
    ordinal : list of str
        Numeric variables that are ordinal or binary (Blimp's ORDINAL). An incomplete one gets an
        ordinal probit model; its missing values are summed out of the likelihood (exactly, per row)
        and drawn afterwards for the imputations.
    nominal : list of str
        Variables with unordered categories (Blimp's NOMINAL); text and pandas categorical columns are
        nominal already. They enter the model as dummy codes; an incomplete one gets a multinomial logit
        model, and its missing categories are summed out and drawn afterwards.
    integrate : bool
        True (default): where the model is conditionally Gaussian in them (normal predictor models, a
        Gaussian outcome, designs linear in them, at most one probit selection model on them), missing
        continuous values are integrated out of the likelihood exactly, so the sampler sees parameters and
        random effects only, and are drawn afterwards from their conditional distribution. False samples
        them as parameters (the equivalent model). The report says which were integrated, which sampled and why.
    """

    def __init__(self, formula: str | Formula, data, *, family=None, link=None, priors=None, center=None,
                 reference=None, parameterization="auto", missing="model", predictor_models=None,
                 missingness_models=None, ordinal=None, nominal=None, integrate: bool = True,
                 _quiet: bool = False, **unknown):
        if unknown:
            if set(unknown) & set(_SAMPLER_OPTIONS):
                name = sorted(set(unknown) & set(_SAMPLER_OPTIONS))[0]
                raise SpecificationError(f"{name} is a sampler option, not a model option: write "
                                         f"Model(formula, data).fit({name}=...) or ml.fit(formula, data, {name}=...)")
            unknown_options(unknown, _MODEL_OPTIONS, "Model")
        frame = as_data_frame(data)
        self.options = {"family": family, "link": link, "priors": priors, "center": center,
                        "reference": reference, "parameterization": parameterization, "missing": missing,
                        "predictor_models": predictor_models, "missingness_models": missingness_models,
                        "ordinal": ordinal, "nominal": nominal, "integrate": integrate}
        if missing == "listwise" and (predictor_models or missingness_models):
            raise SpecificationError(spell("predictor_models and missingness_models", "--predictor-model and "
                                           "--missingness-model") + " describe how missing values are imputed; "
                                     "with " + spell("missing='listwise'", "--missing listwise")
                                     + " incomplete rows are excluded instead, so they would be ignored: drop one")
        self.spec, self.data = build_model(formula, frame, **self.options)
        used = _used_columns(self.spec, frame)
        if not _quiet:
            _note_unused_declarations(self.options, used)
            _note_binary_imputed_as_continuous(self.spec, self.data)
        self.frame = frame[used].copy()
        if self.data.excluded_rows and not _quiet:
            reasons = ", ".join(f"{name}: {count}" for name, count in self.data.exclusion_reasons)
            warnings.warn(f"{self.data.excluded_rows} of {len(frame)} rows excluded because of missing values "
                          f"(missing per column: {reasons}); {self.data.n} rows used", ExcludedRowsWarning,
                          stacklevel=3)

    def fit(self, *, chains: int = 4, warmup: int = 1000, draws: int | str = 1000, thin: int = 1,
            seed: int | None = None, target_accept: float = 0.8, max_tree_depth: int = 10,
            dense_mass: bool | str = "auto", target_ess: int | None = None, max_draws: int | None = None,
            progress: bool | None = None, warn: bool = True, **unknown) -> Fit:
        """Sample the posterior with NUTS. ``seed`` makes the result bit-identical on rerun.

        ``draws``: kept per chain, or "auto": 1000, then more (the same compiled sampler goes on) until the
        smallest ESS of the population-level parameters reaches ``target_ess`` (default 2000) or
        ``max_draws`` per chain (default 5000) are kept; the rule reads no clock, so a seed still gives
        the same draws. A cheap model gets many more effective draws for little time.

        ``dense_mass``: the mass matrix NUTS adapts in warmup: False (diagonal), True (dense), "population"
        (dense over the population-level parameters, diagonal over group effects) or "auto" (the default:
        "population" for a model with predictor or missingness models, whose selection-model coefficients
        are strongly correlated, diagonal otherwise; the fit's config records the choice)."""
        from .report.progress import SamplingProgress, interactive

        unknown_options(unknown, _SAMPLER_OPTIONS, "fit")
        started = time.perf_counter()
        if dense_mass == "auto":
            dense_mass = "population" if self.spec.submodels else False
        config = SamplerConfig(chains=chains, warmup=warmup, thin=thin, target_accept=target_accept,
                               max_tree_depth=max_tree_depth, dense_mass=dense_mass,
                               **auto_draws(draws, target_ess, max_draws))
        seed = int.from_bytes(os.urandom(4), "little") >> 1 if seed is None else check_seed(seed)
        arrays = internal_arrays(self.spec, self.data)
        plan = blueprint(self.spec, self.data.outcome_observed)
        sampler = compiled_sampler(plan, lambda: make_model(plan, self.spec.response.name), arrays, config)
        reporter = SamplingProgress(chains, enabled=interactive() if progress is None else progress)
        prepared = time.perf_counter()
        try:
            raw = sampler.run(arrays, seed, config, reporter)
        finally:
            reporter.close()
        if any(sub.latent_mean for sub in plan.submodels):
            raw.constrained = draw_latent_means(plan, make_model(plan, self.spec.response.name), arrays,
                                                raw.constrained)
        if discrete_configurations(plan)[0]:  # missing categories were summed out: draw them now
            drawn = time.perf_counter()
            raw.constrained = draw_discrete(plan, make_model(plan, self.spec.response.name), arrays,
                                            raw.constrained, seed)
            raw.timings["discrete values"] = time.perf_counter() - drawn
        if plan.integrated is not None:  # missing normal values were integrated out: draw them now
            drawn = time.perf_counter()
            raw.constrained = draw_integrated(plan, arrays, raw.constrained, seed, self.spec.response.name)
            raw.timings["integrated values"] = time.perf_counter() - drawn
        if arrays.sufficient is not None:  # random effects were integrated out: draw them now
            drawn = time.perf_counter()
            raw.constrained = draw_marginalized(self.spec, arrays, raw.constrained, seed)
            raw.timings["group effects"] = time.perf_counter() - drawn
        if config.target_ess is not None:  # draws="auto": the draws kept
            config = replace(config, draws=int(np.shape(raw.stats["diverging"])[1]))
        timings = dict(raw.timings)
        timings["prepare"] = prepared - started
        timings["total"] = time.perf_counter() - started  # the convergence checks are computed when first read
        result = Fit(spec=self.spec, data=self.data, config=config, seed=seed, raw=raw, frame=self.frame,
                     options=self.options, timings=timings)
        if warn:
            from .results.diagnostics import warn as emit

            emit(result.diagnostics)
            for note in result.environment:
                warnings.warn(note, RuntimeWarning, stacklevel=2)
        return result


def _note_unused_declarations(options: dict, used: list[str]) -> None:
    """A declaration about a column the model does not use has no effect: say so rather than ignore it."""
    declared = [("ordinal", name) for name in options.get("ordinal") or ()]
    declared += [("nominal", name) for name in options.get("nominal") or ()]
    declared += [("reference", name) for name in options.get("reference") or {}]
    for option, name in declared:
        if name not in used:
            warnings.warn(f"the {option} declaration of '{name}' has no effect: '{name}' is not in the model",
                          ModelNote, stacklevel=3)


def _note_binary_imputed_as_continuous(spec, data) -> None:
    """An undeclared 0/1 variable with missing values is imputed from a normal model (as Blimp does): its
    imputations are not 0 or 1. Say so, and how to declare it."""
    for submodel in spec.submodels:
        if not (submodel.missing_count and submodel.kind.imputes and not submodel.kind.discrete
                and submodel.kind.gaussian_units):
            continue
        values = np.asarray((data.values or {}).get(submodel.outcome, ()), dtype=float)
        seen = np.unique(values[~np.isnan(values)])
        if seen.size == 2 and set(seen) == {0.0, 1.0}:
            name = submodel.outcome
            warnings.warn(f"'{name}' has only the values 0 and 1 but is imputed as continuous (a normal model, as "
                          f"Blimp does for an undeclared variable), so its imputations are not 0 or 1; to impute "
                          f"0/1 values declare it ordinal: ordinal=['{name}'] in Python, --ordinal {name} on the "
                          f"command line, ORDINAL: {name}; in a Blimp script", ModelNote, stacklevel=4)


def _used_columns(spec, frame: pd.DataFrame) -> list[str]:
    from .model.design import _needed_columns

    names = _needed_columns(spec, include_submodels=True) | {spec.response.name}
    if spec.response.trials is not None:
        names |= spec.response.trials.variables()
    return [name for name in frame.columns if name in names]


def fit(formula: str, data, **options) -> Fit:
    """Resolve and sample in one call: ``fit(formula, data, family=..., chains=..., seed=...)``.

    Model options are those of :class:`Model`; sampler options those of :meth:`Model.fit`.
    """
    model_options = {key: options.pop(key) for key in list(options) if key in _MODEL_OPTIONS}
    return Model(formula, data, **model_options).fit(**options)


def load(path, data=None) -> Fit:
    """Load a fit saved with :meth:`Fit.save`.

    ``data``: the data the fit was made with; needed when it was saved with ``include_data=False``
    (only the columns the model uses are read, the frame is not modified). Data other than those the
    fit was made with are refused. A damaged, truncated or edited file raises :class:`MultilevelError`.
    """
    from .results.persistence import load_fit

    return load_fit(path, data=data, model_class=Model, fit_class=Fit)


def fit_script(path, *, priors=None, **overrides) -> Fit:
    """Fit a Blimp script. ``overrides`` replace its sampler settings (e.g. ``draws=500`` for a quick look).

    ``priors="blimp"`` uses Blimp's default priors, to compare with Blimp's output like for like. The fit
    carries the script's labels, PARAMETERS and SIMPLE effects (its report shows them) and notes on how
    the script was translated.
    """
    from .blimp import apply_quantities, load_script, save_script_imputations

    translated = load_script(path)
    sampler = {**translated.sampler, **overrides}
    model = Model(translated.formula, translated.data, **{**translated.options, "priors": priors})
    result = apply_quantities(model.fit(**sampler), translated)
    written = save_script_imputations(result, translated, Path(path).parent)
    notes: list[str] = []
    if written and translated.imputations:  # files written: the script asked for imputations
        notes.append(f"{translated.imputations.count} imputations saved to {written[0]}"
                     + (f", their average to {written[1]}" if len(written) > 1 else ""))
    notes += translated.notes_with({name: value for name, value in overrides.items()  # not progress=, warn=
                                    if name not in ("progress", "warn")})
    notes.append(f"Blimp script {path} translated to: {translated.formula}")
    return result.with_notes(*notes)
