"""A translated script checked against the model it builds: model errors at their place in the script,
labels, PARAMETERS and SIMPLE checked before sampling; then carried by the fit, and the completed data
sets the script asks for written."""

from __future__ import annotations

import difflib
import re
import warnings
from pathlib import Path

import pandas as pd

from . import blimp_formulas as F
from .blimp_places import ScriptDataError
from .blimp_translate import ScriptModel
from .errors import BlimpScriptError, DataError, MultilevelError, SpecificationError, TextError
from .model.build import build_model
from .model.model_spec import ModelSpec
from .syntax import ast
from .syntax.blimp_script import BlimpScript

_QUOTED_NAME = re.compile(r"'([A-Za-z_][A-Za-z0-9_.]*)'")


def build_script_model(translated: ScriptModel) -> ModelSpec:
    """The model of a translated script, built without sampling. An error the build finds in a formula,
    or about a variable the script declares or uses, cites that place in the script."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # notes on the model are given when it is built for fitting
        try:
            spec, _ = build_model(translated.formula, translated.data, **translated.options)
        except (SpecificationError, DataError) as error:
            placed = script_error(error, translated)
            if placed is None:
                raise
            raise placed from None
    return spec


def script_error(error: MultilevelError, translated: ScriptModel) -> BlimpScriptError | None:
    """The error ``error`` shown at its place in the script (None when the place is not known)."""
    script = translated.script
    if script is None or isinstance(error, BlimpScriptError):
        return None
    kind = ScriptDataError if isinstance(error, DataError) else BlimpScriptError
    if isinstance(error, TextError):
        formula = next((item for item in translated.formulas() if item.text == error.text), None)
        origin = F.origin_of_span(formula, error.start, error.end) if formula is not None else None
        return None if origin is None else script.error_at(origin, error.message, error.hint, kind)
    origin = _named_place(str(error), script, translated)
    return None if origin is None else script.error_at(origin, str(error), None, kind)


def _named_place(message: str, script: BlimpScript, translated: ScriptModel) -> ast.Origin | None:
    """Where the first variable quoted in a message is in the script (``translated.script``): its ORDINAL or
    NOMINAL item when the message is about that kind, else its first use in the model."""
    for name in _QUOTED_NAME.findall(message):
        for declaration in ("ORDINAL", "NOMINAL"):
            command = script.command(declaration)
            if command is not None and declaration.lower() in message.lower() and name in command.items:
                return command.item_origin(name)
        for formula in translated.formulas():
            used = next((node for node in F.nodes_of(formula) if isinstance(node, ast.Name) and node.name == name
                         and node.origin is not None), None)
            if used is not None:
                return used.origin
    return None


def check_quantities(translated: ScriptModel, spec: ModelSpec | None = None) -> None:
    """Every name in PARAMETERS is a label, a coefficient of the focal model or a quantity defined before
    it; every SIMPLE effect's focal predictor interacts with its moderator. Each mistake is an error at
    its place in the script. ``spec``: the model built already (else it is built here)."""
    script = translated.script
    if script is None or not (script.parameters or script.simple or translated.quantities.labels):
        return
    spec = spec if spec is not None else build_script_model(translated)
    fixed = ("Intercept",) + tuple(name for name in spec.fixed_names if name != "Intercept")
    _check_definitions(translated, script, fixed)
    _check_simple_effects(translated, script, fixed)


def _check_definitions(translated: ScriptModel, script: BlimpScript, fixed: tuple[str, ...]) -> None:
    labels = translated.quantities.labels
    known = {name for name in fixed if name.isidentifier()} | set(labels)
    for definition in script.parameters:
        for node in F.nodes_of(definition.expression):
            if isinstance(node, ast.Name) and node.name not in known:
                close = difflib.get_close_matches(node.name, sorted(known), n=3, cutoff=0.6)
                suggestion = f"Did you mean {' or '.join(repr(item) for item in close)}? " if close else ""
                raise script.error_at(node.origin, f"'{node.name}' in PARAMETERS is not a label or coefficient "
                                      "of the model", hint=f"{suggestion}Known: {', '.join(sorted(known))}.")
        known.add(definition.name)


def _check_simple_effects(translated: ScriptModel, script: BlimpScript, fixed: tuple[str, ...]) -> None:
    pairs = [tuple(name.split(":")) for name in fixed if name.count(":") == 1]
    for effect in script.simple:
        moderators = [b for a, b in pairs if a == effect.focal] + [a for a, b in pairs if b == effect.focal]
        if effect.focal not in fixed or effect.moderator not in moderators:
            usable = (f"Interactions in the focal model: {', '.join(':'.join(pair) for pair in pairs)}."
                      if pairs else "The focal model has no interaction of two predictors.")
            what = (f"'{effect.focal}' is not a predictor of the focal model" if effect.focal not in fixed else
                    f"'{effect.moderator}' does not interact with '{effect.focal}' in the focal model")
            origin = effect.focal_origin if effect.focal not in fixed else effect.moderator_origin
            raise script.error_at(origin, f"SIMPLE: {what}", hint=usable)
        column = translated.data.get(effect.moderator)
        if column is None or not pd.api.types.is_numeric_dtype(column):
            raise script.error_at(effect.moderator_origin, f"SIMPLE: the moderator '{effect.moderator}' is not a "
                                  "numeric variable; conditional effects are given at values of a numeric moderator")


def apply_quantities(fit, translated: ScriptModel):
    """The fit carrying a script's labels, PARAMETERS and SIMPLE effects (they appear in the report); a new
    value, the fit given is not changed."""
    quantities = translated.quantities
    return fit.with_quantities(dict(quantities.definitions), labels=dict(quantities.labels) or None,
                               conditional=list(quantities.conditional))


def save_script_imputations(fit, translated: ScriptModel, folder: Path) -> list[Path]:
    """Write the completed data sets a script asks for (paths relative to the script)."""
    settings = translated.imputations
    if not settings:
        return []
    stacked = folder / settings.stacked
    average = folder / settings.average if settings.average else None
    fit.save_imputations(stacked, settings.count, average)
    return [stacked] + ([average] if average else [])
