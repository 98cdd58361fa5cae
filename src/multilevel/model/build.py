"""Formula + data → :class:`ModelSpec` and :class:`ModelData`: :func:`build_model`, a pipeline of named steps.

Everything that can be wrong with the formula or the data is found here, before any compilation, and
reported with the column, the token or the rows involved. Each step is a function from the frozen
values of the steps before it to its own (see each step's docstring)::

    read_inputs              formula, data, BuildOptions          -> ParsedInput
    resolve_response         ParsedInput                          -> ResponseForm
    referenced_columns       ParsedInput, ResponseForm            -> References (stated models, centering)
    select_rows              ..., References                      -> Rows (kept rows, imputable variables)
    grouping_factors         ..., Rows                            -> Groups
    design_terms             ..., Groups                          -> Terms (columns, variables, codes)
    known_values             Terms, Rows, Groups                  -> KnownValues (level 2, latent means)
    store_group_means        Terms, KnownValues                   -> Terms (cluster means recorded)
    fixed_design             Terms, KnownValues                   -> FixedDesign (X)
    random_structures        Terms, Groups, KnownValues           -> RandomDesign (blocks, Z)
    outcome_values           ResponseForm, Rows, Terms            -> OutcomeData (y, trials, offset)
    design_scaling           OutcomeData, FixedDesign, RandomDesign -> Scaling
    choose_parameterizations RandomDesign, OutcomeData            -> RandomDesign (parameterizations)
    assign_priors            FixedDesign, RandomDesign, Scaling   -> PriorChoice
    missing_data_submodels   ...                                  -> MissingData (submodels)
    assemble                 all of the above                     -> (ModelSpec, ModelData)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import FormulaSpecificationError, SpecificationError
from ..syntax import as_formula, ast
from . import expressions as E
from .checks import as_data_frame
from .design_columns import FixedDesign, Terms, design_terms, fixed_design, group_level_columns, store_group_means
from .families import Family
from .grouping import grouping_factors
from .inputs import MISSING_CHOICES, BuildOptions, ParsedInput, StatedFormula, as_list, with_missingness_indicators
from .inputs import with_nominal_columns
from .known_values import KnownValues, known_values
from .model_spec import ModelData, ModelSpec, ParameterPrior, Response, Scaling
from .prior_assignment import apply_user_priors, default_priors, prior_style
from .random_structures import (RandomDesign, choose_parameterizations, marginalize_when_exact,
                                parameterization_choices, random_structures)
from .response import OutcomeData, ResponseForm, outcome_values, resolve_response
from .rows import References, Rows, referenced_columns, select_rows
from .terms import expand_formula
from .submodel_build import MissingData, check_acyclic, missing_data_submodels, needed_values
from .resolve import factor_columns, group_label_array

__all__ = ["build_model", "check_acyclic", "factor_columns", "group_label_array"]  # the last three: re-exported


def build_model(formula: str | ast.Formula, data, *, family: str | Family | None = None, link: str | None = None,
                priors: dict | None = None, center: dict | None = None, reference: dict | None = None,
                parameterization: str | dict = "auto", missing: str = "model",
                predictor_models: list[str | ast.Formula] | None = None,
                missingness_models: list[str | ast.Formula] | None = None,
                ordinal: list[str] | None = None, nominal: list[str] | None = None,
                integrate: bool = True) -> tuple[ModelSpec, ModelData]:
    """Resolve a formula against data. The caller's data frame is only read, never modified.

    ``missing="model"``: missing values of numeric predictors and of the outcome are unknowns of
    the model (predictors get factored regressions); a missing grouping factor, offset or number
    of trials is an error naming the rows. ``missing="listwise"``: every row with a missing
    value in a used column is excluded and counted.

    ``predictor_models``: formulas stating the models of incomplete predictors
    (``"x1 ~ x2 + x3"``); predictors without one get the automatic factored regression.
    ``missingness_models``: probit models of missingness indicators (selection models for data
    missing not at random), ``"y.missing ~ y + x1 + x2"``; the variable itself may appear on the
    right. Both get a random intercept over the first grouping factor when the data are clustered.
    ``ordinal``: numeric variables that are ordinal or binary (Blimp's ORDINAL): when incomplete
    they get an ordinal probit model, and their missing values are summed out of the likelihood
    (every combination of categories, per row) instead of being sampled.
    ``nominal``: variables with unordered categories (Blimp's NOMINAL); text and pandas categorical
    columns are nominal already. They enter the focal model as dummy codes; when incomplete they get
    a multinomial logit model and their missing categories are summed out the same way.
    ``integrate``: missing continuous values are integrated out of the likelihood where the model is
    conditionally Gaussian in them (and drawn afterwards); False samples them as parameters.
    """
    options = BuildOptions(family=family, link=link, priors=priors, center=center, reference=reference,
                           parameterization=parameterization, missing=missing, predictor_models=predictor_models,
                           missingness_models=missingness_models, ordinal=ordinal, nominal=nominal,
                           integrate=integrate)
    parsed = read_inputs(formula, data, options)
    response = resolve_response(parsed)
    references = referenced_columns(parsed, response)
    rows = select_rows(parsed, response, references)
    groups = grouping_factors(parsed, references.group_nodes, references.centering, rows.kept)
    terms = design_terms(parsed, response, references, rows.kept, groups)
    known = known_values(terms, rows, groups, references)
    terms = store_group_means(terms, known.values, groups)
    fixed = fixed_design(terms.fixed, known.values, known.sampled, rows.n, parsed.expanded.intercept)
    random = random_structures(parsed, response.family, groups, terms.random, known.values, known.sampled, rows.n)
    outcome = outcome_values(parsed, response, rows.kept, terms.trials, terms.offset, known.values)
    scaling = design_scaling(response.family, parsed.expanded.intercept, outcome, fixed, random)
    random = choose_parameterizations(options.parameterization, response.family, outcome, random)
    prior_choice = assign_priors(options.priors, response.family, parsed.expanded.intercept, fixed, random, scaling)
    missing_data = missing_data_submodels(parsed, response, references, rows, terms, known, outcome, random,
                                          prior_choice.style)
    return assemble(parsed, response, references, rows, terms, known, fixed, random, outcome, scaling,
                    prior_choice, missing_data)


def _parsed(formula: str | ast.Formula) -> ast.Formula:
    """The one place formulas are read: text is parsed; a tree (from a Blimp script) is used as it is."""
    return as_formula(formula)


def read_inputs(formula: str | ast.Formula, data, options: BuildOptions) -> ParsedInput:
    """(formula text, data, BuildOptions) → ParsedInput: the data as a frame (declared nominal columns made
    categorical, ``x.missing`` indicators added where a formula uses them: in a copy), the focal and the
    stated formulas parsed, the focal formula expanded into terms. Refuses an unknown ``missing`` choice and
    a formula without an outcome."""
    if not isinstance(options.integrate, bool):
        raise SpecificationError(f"integrate={options.integrate!r}: give True (integrate missing continuous values "
                                 "out of the likelihood where that is exact) or False (sample them)")
    if options.missing not in MISSING_CHOICES:
        raise SpecificationError(f"missing='{options.missing}' is not available; choose one of: "
                                 f"{', '.join(MISSING_CHOICES)}")
    frame = with_nominal_columns(as_data_frame(data), options.nominal)
    focal = _parsed(formula)
    stated = tuple(StatedFormula(kind, _parsed(text))
                   for kind, texts in (("predictor", options.predictor_models),
                                       ("missingness", options.missingness_models))
                   for text in as_list(texts))
    frame = with_missingness_indicators(frame, [focal] + [item.formula for item in stated])
    if focal.outcome is None:
        raise FormulaSpecificationError("the formula has no outcome", focal.text, 0, 1,
                                        hint="Write it as y ~ x + (1 | g).")
    return ParsedInput(options, frame, focal, expand_formula(focal), stated)


def design_scaling(family: Family, intercept: bool, outcome: OutcomeData, fixed: FixedDesign,
                   random: RandomDesign) -> Scaling:
    """(family, intercept, OutcomeData, FixedDesign, RandomDesign) → Scaling: the constants of the internal
    standardization (outcome location and scale from the family; each fixed column's mean and sd over the
    rows where it is known; each random slope's sd)."""
    location, scale = family.kind.scaling(outcome.y[outcome.observed], intercept, outcome.exposure)
    column_means, column_sds = [], []
    for k in range(fixed.X.shape[1]):  # over the rows where the column is known
        seen = fixed.X_observed[np.isfinite(fixed.X_observed[:, k]), k]
        column_means.append(float(seen.mean()) if intercept else 0.0)
        column_sds.append(float(seen.std(ddof=1)) if intercept else float(np.sqrt((seen ** 2).mean())))
    random_sds = tuple(tuple(1.0 if column.is_intercept else float(np.std(Z[:, k], ddof=1))
                             for k, column in enumerate(block.columns)) for block, Z in zip(random.blocks, random.Z))
    return Scaling(location, scale, tuple(column_means), tuple(column_sds), random_sds)


@dataclass(frozen=True)
class PriorChoice:
    """The prior style ("default" | "blimp" | ...) and every parameter's prior (the user's where given)."""

    style: str
    assignments: tuple[ParameterPrior, ...]


def assign_priors(priors, family: Family, intercept: bool, fixed: FixedDesign, random: RandomDesign,
                  scaling: Scaling) -> PriorChoice:
    """(the user's priors, family, intercept, FixedDesign, RandomDesign, Scaling) → PriorChoice: the
    default priors on the data's scale, then the user's (an unknown parameter name is refused)."""
    style, overrides = prior_style(priors)
    defaults = default_priors(family, intercept, fixed.names, scaling.column_sds, list(random.blocks),
                              scaling.random_column_sds, scaling.outcome_location,
                              scaling.outcome_scale if family.kind.standardized else 1.0, style)
    return PriorChoice(style, apply_user_priors(defaults, overrides, random.blocks))


def assemble(parsed: ParsedInput, response: ResponseForm, references: References, rows: Rows, terms: Terms,
             known: KnownValues, fixed: FixedDesign, random: RandomDesign, outcome: OutcomeData, scaling: Scaling,
             prior_choice: PriorChoice, missing_data: MissingData) -> tuple[ModelSpec, ModelData]:
    """Every step's value → (ModelSpec, ModelData). Random effects are integrated out where that is exact
    (:func:`~.random_structures.marginalize_when_exact`)."""
    options, submodels = parsed.options, missing_data.submodels
    dynamic_random = tuple(tuple(k for k, column in enumerate(block.columns)
                                 if column.expression.variables() & known.sampled) for block in random.blocks)
    blocks = marginalize_when_exact(random.blocks, parameterization_choices(options.parameterization, random.blocks),
                                    response.family, submodels, missing_data.selection)
    latent_columns = {k for k, column in enumerate(fixed.columns) if E.latent_means_in(column.expression)}
    assert parsed.formula.outcome is not None  # read_inputs refuses a formula without an outcome
    spec = ModelSpec(
        formula=parsed.text, family=response.family,
        response=Response(response.outcome, response.kind, terms.trials, ast.source(parsed.formula.outcome,
                                                                                    parsed.text)),
        intercept=parsed.expanded.intercept, fixed=fixed.columns, random=tuple(blocks), offset=terms.offset,
        variables=terms.variables, priors=prior_choice.assignments, scaling=scaling,
        centering=references.centering, options={"missing": options.missing, "priors": prior_choice.style,
                                                  "integrate": options.integrate},
        submodels=submodels, dynamic_fixed=fixed.dynamic, dynamic_random=dynamic_random,
        outcome_latent=missing_data.outcome_latent,
        group_level=group_level_columns(fixed.X, random.index, set(fixed.dynamic) | latent_columns),
    )
    values = (needed_values(dict(missing_data.values), submodels, list(fixed.columns), blocks, fixed.dynamic,
                            dynamic_random) if submodels else None)
    data = ModelData(
        y=outcome.y, trials=outcome.trials, X=fixed.X, offset=outcome.offset, group_index=random.index,
        Z=random.Z, row_labels=rows.kept.index.to_numpy(), excluded_rows=rows.excluded,
        exclusion_reasons=rows.exclusion_reasons, outcome_observed=outcome.observed, values=values,
    )
    return spec, data
