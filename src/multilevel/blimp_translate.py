"""A parsed Blimp script and its data → :class:`ScriptModel`: the same model the formula front end builds.

The MODEL lines become formula trees (:mod:`.blimp_formulas`) directly from the script's nodes: the
focal model; a stated model for each other outcome (``x1 x2 ~ x3`` means ``x1 ~ x2 + x3`` and
``x2 ~ x3``); a missingness (selection) model for each ``y.missing ~ ...`` line. CLUSTERID gives
the random intercept (and the slopes after ``|``), CENTER the centering, ORDINAL and NOMINAL the
kinds of variables. Anything the script asks for that is not available yet is an error at its place
in the script.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from . import blimp_formulas as F
from .blimp_places import (ScriptDataError, command_error, name_node, names_in, node_error, unknown_variable,
                           variable_hint)
from .blimp_settings import ScriptImputations, imputation_settings, option_notes, sampler_settings
from .syntax import ast
from .syntax.blimp_script import BlimpScript, ModelLine

NOT_YET = ("LATENT", "TRANSFORM", "COUNT")
_DECLARATIONS = ("FIXED", "ORDINAL", "NOMINAL")


@dataclass(frozen=True)
class ScriptQuantities:
    """A script's labels (``y ~ x1@b1``: label → parameter), PARAMETERS definitions (name, expression) and
    SIMPLE effects (focal, moderator, values or None), in the script's order."""

    labels: Mapping[str, str] = field(default_factory=dict)
    definitions: tuple[tuple[str, str], ...] = ()
    conditional: tuple[tuple[str, str, list | None], ...] = ()


@dataclass(frozen=True)
class ScriptModel:
    """A Blimp script translated: the focal formula (a tree; ``str()`` of it is its lme4 text), data, model
    options (the stated predictor and missingness models among them, also trees) and sampler settings."""

    formula: ast.Formula
    data: pd.DataFrame
    options: dict
    sampler: dict
    notes: tuple[str, ...] = ()
    script: BlimpScript | None = None
    imputations: ScriptImputations | None = None  # from NIMPS and SAVE
    quantities: ScriptQuantities = ScriptQuantities()  # computed after fitting
    sampler_notes: tuple[tuple[tuple[str, ...], str], ...] = ()  # (the options it speaks of, the note)

    def notes_with(self, overridden) -> list[str]:
        """The script's notes for a fit whose ``overridden`` sampler options replaced the script's: a note on
        how BURN or ITERATIONS was mapped is left out when its option was overridden, and the overrides said."""
        overridden = dict(overridden)
        kept = [note for options, note in self.sampler_notes if not any(name in overridden for name in options)]
        kept += list(self.notes)
        if overridden:
            kept.append("script settings overridden: " + ", ".join(f"{name}={value}" for name, value in
                                                                  overridden.items()))
        return kept

    @property
    def formula_text(self) -> str:
        return self.formula.text

    def formulas(self) -> list[ast.Formula]:
        """The focal formula, then the stated predictor models, then the missingness models."""
        return [self.formula, *(self.options.get("predictor_models") or ()),
                *(self.options.get("missingness_models") or ())]


def translate(script: BlimpScript, data: pd.DataFrame) -> ScriptModel:
    """The model a script states, checked against the data's variables (errors cite the script)."""
    _check_not_yet(script)
    notes = option_notes(script)
    cluster = script.command("CLUSTERID")
    clusters = list(cluster.items) if cluster is not None else []
    _check_declared_names(script, data)
    _check_centering(script, data)
    regressions = _regressions(script)
    focal = _focal_line(script, regressions)
    for line in regressions:
        _check_line_names(script, line, focal, data, clusters)
        _check_both_sides(script, line)
    _check_centered_names_used(script, regressions)
    formula = _focal_formula(script, focal, regressions, data)
    predictor_models, missingness_models = _stated_models(script, regressions, focal)
    _check_fixed_complete(script, data)
    center = {name: "latent" if centering.kind == "groupmean" else "grand"  # Blimp centres at the latent mean
              for centering in script.centering for name in centering.variables}
    options = {"predictor_models": predictor_models or None, "missingness_models": missingness_models or None,
               "center": center or None, "ordinal": _items(script, "ORDINAL") or None,
               "nominal": _items(script, "NOMINAL") or None}
    quantities = _quantities(script, regressions, focal)
    sampler = sampler_settings(script)
    return ScriptModel(formula, data, options, sampler.options, tuple(notes), script, imputation_settings(script),
                       quantities, sampler.notes)


def _items(script: BlimpScript, name: str) -> list[str]:
    command = script.command(name)
    return list(command.items) if command is not None else []


def _check_not_yet(script: BlimpScript) -> None:
    for name in NOT_YET:
        command = script.command(name)
        if command is not None:
            raise command_error(script, command, f"{name} is not available yet in multilevel",
                                hint=f"Remove {name} from the script.")


def _check_declared_names(script: BlimpScript, data: pd.DataFrame) -> None:
    """CLUSTERID, FIXED, ORDINAL and NOMINAL name variables of the data, one by one."""
    for command in [script.command(name) for name in ("CLUSTERID", *_DECLARATIONS)]:
        for name in command.items if command is not None else ():
            if ":" in name:
                raise command_error(script, command, f"variable ranges such as '{name}' are not available yet",
                                    word=name, hint="List the variables one by one.")
            if name not in data.columns:
                raise command_error(script, command, unknown_variable(name), word=name,
                                    hint=variable_hint(name, data))


def _check_centering(script: BlimpScript, data: pd.DataFrame) -> None:
    for centering in script.centering:
        for name, origin in zip(centering.variables, centering.origins):
            if name.endswith(".mean") and name[:-len(".mean")] in data.columns:
                raise script.error_at(
                    origin, f"centering a latent group mean ({name}) is not available yet",
                    hint=f"Remove {name} from CENTER. Here a latent group mean enters the model uncentered, so "
                         f"its slope is unchanged; the intercept (and the lower-order terms of products with it) "
                         f"refer to {name} = 0 instead of its grand mean.")
            if name not in data.columns:
                raise script.error_at(origin, unknown_variable(name), hint=variable_hint(name, data))


def _regressions(script: BlimpScript) -> list[ModelLine]:
    """The MODEL lines, each a regression whose outcomes are variable names."""
    others = [line for line in script.model if line.kind != "regression"]
    if others:
        raise script.error_at(others[0].origin, f"'{others[0].kind}' model lines are not available yet",
                              hint="Write each model as a regression: y ~ x1 x2;")
    if not script.model:
        raise script.error_at(None, "the script has no MODEL command", hint="Add a model such as: MODEL: y ~ x1 x2;")
    for line in script.model:
        for node in line.outcomes:
            if not isinstance(node, ast.Name):
                raise node_error(script, node, "an outcome must be a single variable name here",
                                 hint="Variable ranges and transformed outcomes are not available yet.")
    return list(script.model)


def _focal_line(script: BlimpScript, regressions: list[ModelLine]) -> ModelLine:
    """The line of the block labelled ``focal:``, else the first line that is not a missingness model."""
    candidates = [line for line in regressions if not _first_outcome(line).endswith(".missing")]
    if not candidates:
        raise node_error(script, regressions[0].outcomes[0], "every model line is a missingness (.missing) model: "
                         "the script has no focal model", hint="Add the analysis model, e.g. focal: y ~ x1 x2;")
    focal = [line for line in regressions if (line.block or "").lower() == "focal"] or candidates[:1]
    if len(focal) > 1 or len(focal[0].outcomes) > 1:
        line = focal[1] if len(focal) > 1 else focal[0]
        raise node_error(script, line.outcomes[-1], "one focal model with one outcome is available for now")
    if _first_outcome(focal[0]).endswith(".missing"):
        raise node_error(script, focal[0].outcomes[0], "the focal model cannot be a missingness model")
    return focal[0]


def _first_outcome(line: ModelLine) -> str:
    """The name of a model line's first outcome (_regressions refuses outcomes that are not names)."""
    node = line.outcomes[0]
    assert isinstance(node, ast.Name)
    return node.name


def _line_nodes(line: ModelLine) -> list[ast.Node]:
    return [*line.outcomes, *line.predictors, *line.random]


def _check_line_names(script: BlimpScript, line: ModelLine, focal: ModelLine, data: pd.DataFrame,
                      clusters: list[str]) -> None:
    """Every name of a model line is a variable of the data (or its ``.missing`` / ``.mean``)."""
    for node in _line_nodes(line):
        for name in names_in(node):
            base = name[: -len(".missing")] if name.endswith(".missing") else name
            base = base[: -len(".mean")] if base.endswith(".mean") else base
            place = name_node(node, name)
            if base.lower() != "intercept" and base not in data.columns:
                raise node_error(script, place, unknown_variable(base), hint=variable_hint(base, data))
            if name.endswith(".mean") and line is not focal:
                raise node_error(script, place, f"'{name}' (a latent group mean) is available in the focal model "
                                 "only for now", hint=f"Remove {name} from this line.")
            if name.endswith(".mean") and not clusters:
                raise node_error(script, place, f"'{name}' is a latent group mean, and the script has no CLUSTERID "
                                 "to say what the groups are",
                                 hint="Add CLUSTERID: with the cluster variable, e.g. CLUSTERID: school;")


def _check_both_sides(script: BlimpScript, line: ModelLine) -> None:
    """``y ~ y x1``: a variable cannot predict itself."""
    outcomes = {node.name for node in line.outcomes if isinstance(node, ast.Name)}
    for node in list(line.predictors) + list(line.random):
        for name in names_in(node):
            if name.endswith(".missing") and name[:-len(".missing")] in outcomes:
                raise node_error(script, name_node(node, name), f"'{name}', the missingness of the outcome "
                                 f"'{name[:-len('.missing')]}', cannot predict it",
                                 hint="Model the missingness with its own line instead: "
                                      f"{name} ~ {name[:-len('.missing')]} ...;")
            if name in outcomes:
                raise node_error(script, name_node(node, name), f"'{name}' is on both sides of this model line",
                                 hint=f"Remove '{name}' from the predictors: a variable cannot predict itself.")


def _check_centered_names_used(script: BlimpScript, regressions: list[ModelLine]) -> None:
    used = {name for line in regressions for node in _line_nodes(line) for name in names_in(node)}
    for centering in script.centering:
        for name, origin in zip(centering.variables, centering.origins):
            if name not in used:
                raise script.error_at(origin, f"CENTER: '{name}' is not used in the model",
                                      hint=f"Remove {name} from CENTER, or add it to a model line.")


def _focal_formula(script: BlimpScript, focal: ModelLine, regressions: list[ModelLine],
                   data: pd.DataFrame) -> ast.Formula:
    """``y ~ terms + (1 + slopes | level two) [+ (1 | level three)]``."""
    terms = F.lme4_terms(script, focal.predictors)
    slopes = F.lme4_terms(script, focal.random)
    cluster = script.command("CLUSTERID")
    if cluster is None:
        if focal.random:
            raise node_error(script, focal.random[0], "random slopes need CLUSTERID")
        return F.regression(_outcome(focal.outcomes[0]), F.terms_sum(terms), focal.origin)
    used = {name.split(".")[0] for line in regressions for node in [*line.outcomes, *line.predictors]
            for name in names_in(node)}
    groups = [F.name(name, cluster.item_origin(name)) for name in cluster.items]
    level_two = _level_two_factor(script, groups, data, used)
    random = [F.random_intercept_and_slopes(slopes, level_two)]
    if len(groups) == 2:
        random.append(F.random_intercept_and_slopes([], groups[1]))
    return F.regression(_outcome(focal.outcomes[0]), F.terms_sum([*terms, *random]), focal.origin)


def _outcome(node: ast.Node) -> ast.Name:
    """A model line's outcome as a new name node (_regressions refuses outcomes that are not names)."""
    assert isinstance(node, ast.Name)
    return F.name(node.name, node.origin)


def _level_two_factor(script: BlimpScript, groups: list[ast.Name], data: pd.DataFrame, used: set[str]) -> ast.Node:
    """The level-2 grouping of a two- or three-level script: with a level-3 ID, level-2 units must be nested
    in it; level-2 IDs reused across level-3 units are told apart by the pair (``l3:l2``)."""
    if len(groups) == 1:
        return groups[0]
    level_two, level_three = groups
    cluster = script.command("CLUSTERID")
    for group in groups:
        if data[group.name].isna().any():
            raise command_error(script, cluster, f"the cluster ID '{group.name}' has missing values",
                                word=group.name, kind=ScriptDataError)
    # a level-3 variable would be imputed once per level-2 unit: refuse rather than impute it at the wrong level
    for name in sorted(used & set(data.columns)):
        if name in (level_two.name, level_three.name) or not data[name].isna().any() or \
                not pd.api.types.is_numeric_dtype(data[name]):
            continue
        spread = data.groupby(level_three.name)[name].agg(lambda v: v.max() - v.min())
        if (spread.fillna(0) == 0).all() and data.groupby(level_three.name).size().gt(1).any():
            raise command_error(script, cluster, f"'{name}' is constant within {level_three.name} (a level-3 "
                                "variable) and has missing values; imputing level-3 variables is not available yet",
                                word=level_three.name)
    unique = data.groupby(level_two.name)[level_three.name].nunique().le(1).all()
    return level_two if unique else F.interaction(level_three, level_two)


def _stated_models(script: BlimpScript, regressions: list[ModelLine],
                   focal: ModelLine) -> tuple[list[ast.Formula], list[ast.Formula]]:
    """The predictor models (``x1 x2 ~ x3`` is ``x1 ~ x2 + x3`` and ``x2 ~ x3``) and missingness models."""
    predictor_models, missingness_models = [], []
    for line in regressions:
        if line is focal:
            continue
        right = F.lme4_terms(script, line.predictors)
        outcomes = [_outcome(node) for node in line.outcomes]
        if _first_outcome(line).endswith(".missing"):
            missingness_models.append(F.regression(outcomes[0], F.terms_sum(right), line.origin))
            continue
        for position, outcome in enumerate(outcomes):
            predictor_models.append(F.regression(outcome, F.terms_sum([*outcomes[position + 1:], *right]),
                                                 line.origin))
    return predictor_models, missingness_models


def _check_fixed_complete(script: BlimpScript, data: pd.DataFrame) -> None:
    incomplete = [name for name in _items(script, "FIXED") if data[name].isna().any()]
    if incomplete:
        raise command_error(script, script.command("FIXED"), f"FIXED variables must be complete, but "
                            f"{', '.join(incomplete)} has missing values", word=incomplete[0], kind=ScriptDataError,
                            hint="Remove it from FIXED: then its missing values are imputed.")


def _quantities(script: BlimpScript, regressions: list[ModelLine], focal: ModelLine) -> ScriptQuantities:
    """Labels (``y ~ x1@b1``), PARAMETERS definitions and SIMPLE effects, computed after fitting."""
    labels = {}
    for line in regressions:
        outcome = _first_outcome(line)
        for position, label in line.labels:
            term = F.lme4_term(script, line.predictors[position])
            text = F.formula_text(term) if term is not None else "Intercept"
            if label in labels:
                raise node_error(script, line.predictors[position], f"the label '{label}' is used twice")
            labels[label] = text if line is focal else f"{outcome} ~ {text}"
    definitions = tuple((item.name, item.text[item.expression.start:item.expression.end]) for item in script.parameters)
    conditional = tuple((item.focal, item.moderator, list(item.values) or None) for item in script.simple)
    return ScriptQuantities(labels, definitions, conditional)
