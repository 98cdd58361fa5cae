"""Blimp scripts → the same model as the formula front end.

``load_script(path)`` reads a Blimp script (:func:`multilevel.syntax.parse_script`), reads its
data (DATA relative to the script; CSV, or whitespace ``.dat`` with VARIABLES; MISSING code)
and translates MODEL lines into an lme4-style focal formula, stated predictor models and
missingness (selection) models. ``fit_script(path)`` fits it. Sampler settings map as Blimp
defines them: BURN is per chain (our warmup), ITERATIONS is the total across chains (draws per
chain = ITERATIONS / chains); the fit records that mapping in ``fit.environment``.

Anything the script asks for that is not available yet is an error naming the script line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
import re
from pathlib import Path

import pandas as pd

from .data_files import read_table
from .errors import BlimpScriptError, DataError
from .syntax import ast
from .syntax.blimp_script import BlimpScript, ModelLine, parse_script

NOT_YET = ("LATENT", "TRANSFORM", "COUNT")

# Blimp OPTIONS words that are read: what each means here. Any other word is an error naming it.
OPTIONS = {
    "psr": "the burn-in R-hat (PSR) table is always printed",
    "labels": "parameter labels are always printed",
    "tuneinfo": "NUTS has no Metropolis acceptance rates to report (step size and divergences are in the report)",
    "nosummary": "ignored: the report always summarizes the parameters",
    "latent": "latent cluster means are the default, as in Blimp",
    "prior2": "Blimp's default covariance prior (zero matrix, df = -(p+1)) is used with priors='blimp'",
}


@dataclass
class ScriptModel:
    """A Blimp script translated: the focal formula, data, model options and sampler settings."""

    formula: str
    data: pd.DataFrame
    options: dict
    sampler: dict
    notes: list[str] = field(default_factory=list)
    script: BlimpScript | None = None
    imputations: dict | None = None  # {"count": K, "stacked": file, "average": file} from NIMPS and SAVE
    quantities: dict | None = None  # labels, PARAMETERS definitions and SIMPLE effects, computed after fitting


def _line_error(line: ModelLine, node: ast.Node, message: str, hint: str | None = None) -> BlimpScriptError:
    return BlimpScriptError(message, line.text, node.start, node.end, line_number=line.line, hint=hint)


def _term_text(line: ModelLine, node: ast.Node) -> str | None:
    """lme4 text of one Blimp predictor term (None for the intercept)."""
    if isinstance(node, ast.Name):
        if node.name.lower() == "intercept":
            return None
        if node.name.endswith(".mean"):  # Blimp's latent group mean of a level-1 variable
            return f"latent_mean({node.name[:-len('.mean')]})"
        return node.name
    if isinstance(node, ast.Number) and node.value == 1:
        return None
    if isinstance(node, ast.Binary) and node.operator == "*":
        left, right = _term_text(line, node.left), _term_text(line, node.right)
        if left is None or right is None:
            raise _line_error(line, node, "a product term needs two variables")
        return f"{left}:{right}"
    if isinstance(node, ast.Binary) and node.operator == "^" and isinstance(node.right, ast.Number):
        base = _term_text(line, node.left)
        return f"I({base}^{node.right.text})"
    raise _line_error(line, node, "this kind of term is not available yet in multilevel's Blimp translation",
                      hint="Supported: variables, products a*b, powers x^2, and intercept.")


def _right_side(line: ModelLine, predictors) -> list[str]:
    terms = []
    for node in predictors:
        text = _term_text(line, node)
        if text is not None and text not in terms:
            terms.append(text)
    return terms


def _read_data(script: BlimpScript, folder: Path) -> pd.DataFrame:
    command = script.command("DATA")
    if command is None:
        raise BlimpScriptError("the script has no DATA command", "", 0, 1, line_number=1,
                               hint="Add a line such as: DATA: mydata.csv;")
    path = (folder / command.value.strip().strip("'\"")).resolve()
    if not path.exists():
        raise BlimpScriptError(f"DATA file '{command.value}' not found (looked for {path})", command.value, 0,
                               len(command.value), line_number=command.line)
    missing = script.command("MISSING")
    code = missing.value.strip() if missing is not None else None
    where = f"line {missing.line}: " if missing is not None else ""
    variables = script.command("VARIABLES")
    names = list(variables.items) if variables is not None else None
    separator = "," if path.suffix.lower() == ".csv" else r"\s+"
    has_header = _first_line_is_header(path, separator, [code] if code is not None else [])
    if names and has_header:  # a header row in the file: VARIABLES renames its columns
        frame = read_table(path, code, separator=separator, where=where)
        if frame.shape[1] != len(names):
            raise BlimpScriptError(f"VARIABLES names {len(names)} variables but the header of '{path.name}' has "
                                   f"{frame.shape[1]} columns", variables.value, 0, max(1, len(variables.value)),
                                   line_number=variables.line)
        frame.columns = names
        return frame
    return read_table(path, code, separator=separator, header=None if names else "infer", names=names, where=where)


def _first_line_is_header(path: Path, separator: str, missing_codes: list[str]) -> bool:
    """True when no field of the first line is a number or a missing-value code."""
    with open(path) as file:
        first = file.readline().strip()
    fields = [field.strip().strip('"\'') for field in re.split(separator, first) if field.strip()]
    def numeric(text):
        try:
            float(text)
            return True
        except ValueError:
            return text in missing_codes or text in ("NA", "NaN", "")
    return bool(fields) and not any(numeric(field) for field in fields)


def translate(script: BlimpScript, data: pd.DataFrame) -> ScriptModel:
    for name in NOT_YET:
        command = script.command(name)
        if command is not None:
            raise BlimpScriptError(f"{name} is not available yet in multilevel", command.value or name, 0,
                                   max(1, len(command.value)), line_number=command.line)
    option_notes = _option_notes(script)
    cluster = script.command("CLUSTERID")
    clusters = list(cluster.items) if cluster is not None else []
    listed = [(item, script.command(c)) for c in ("FIXED", "ORDINAL", "NOMINAL") if script.command(c)
              for item in script.command(c).items]
    for name, command in [(name, cluster) for name in clusters] + listed:
        if name not in data.columns:
            raise BlimpScriptError(f"'{name}' is not a variable of the data", command.value,
                                   command.value.find(name), command.value.find(name) + len(name),
                                   line_number=command.line)
    regressions = [line for line in script.model if line.kind == "regression"]
    others = [line for line in script.model if line.kind != "regression"]
    if others:
        raise BlimpScriptError(f"'{others[0].kind}' model lines are not available yet", others[0].text, 0,
                               len(others[0].text), line_number=others[0].line)
    if not regressions:
        raise BlimpScriptError("MODEL has no regression line", "MODEL", 0, 5, line_number=1)
    focal = [line for line in regressions if (line.block or "").lower() == "focal"] or [
        next(line for line in regressions if not line.outcomes[0].name.endswith(".missing"))]
    if len(focal) > 1 or len(focal[0].outcomes) > 1:
        line = focal[1] if len(focal) > 1 else focal[0]
        raise _line_error(line, line.outcomes[-1], "one focal model with one outcome is available for now")
    focal_line = focal[0]
    outcome = focal_line.outcomes[0].name
    for line in regressions:
        for node in list(line.outcomes) + list(line.predictors) + list(line.random):
            for name in _names(node):
                base = name[: -len(".missing")] if name.endswith(".missing") else name
                base = base[: -len(".mean")] if base.endswith(".mean") else base
                if base.lower() != "intercept" and base not in data.columns:
                    raise _line_error(line, node, f"'{base}' is not a variable of the data")
    terms = _right_side(focal_line, focal_line.predictors)
    formula = f"{outcome} ~ {' + '.join(terms) if terms else '1'}"
    slopes = _right_side(focal_line, focal_line.random)
    if clusters:
        used = {base for line in regressions for node in list(line.outcomes) + list(line.predictors)
                for name in _names(node) for base in [name.split(".")[0]]}
        level_two = _level_two_factor(clusters, data, cluster, used)
        formula += f" + ({' + '.join(['1'] + slopes)} | {level_two})"
        if len(clusters) == 2:
            formula += f" + (1 | {clusters[1]})"
    elif focal_line.random:
        raise _line_error(focal_line, focal_line.random[0], "random slopes need CLUSTERID")
    predictor_models, missingness_models = [], []
    for line in regressions:
        if line is focal_line:
            continue
        names = [node.name for node in line.outcomes]
        right = _right_side(line, line.predictors)
        if names[0].endswith(".missing"):
            missingness_models.append(f"{names[0]} ~ {' + '.join(right) if right else '1'}")
            continue
        for position, name in enumerate(names):  # x1 x2 ~ x3 means x1 ~ x2 + x3 and x2 ~ x3
            terms_here = names[position + 1:] + right
            predictor_models.append(f"{name} ~ {' + '.join(terms_here) if terms_here else '1'}")
    fixed = list(script.command("FIXED").items) if script.command("FIXED") else []
    incomplete_fixed = [name for name in fixed if data[name].isna().any()]
    if incomplete_fixed:
        command = script.command("FIXED")
        raise DataError(f"line {command.line}: FIXED variables must be complete, but "
                        f"{', '.join(incomplete_fixed)} has missing values")
    center = {}
    for centering in script.centering:
        for name in centering.variables:
            # Blimp centres at the latent group mean (a parameter), not at the observed cluster mean
            center[name] = "latent" if centering.kind == "groupmean" else "grand"
    ordinal = list(script.command("ORDINAL").items) if script.command("ORDINAL") else []
    nominal = list(script.command("NOMINAL").items) if script.command("NOMINAL") else []
    labels = _labels(regressions, focal_line)
    definitions = [(item.name, item.text[item.expression.start:item.expression.end]) for item in script.parameters]
    conditional = [(item.focal, item.moderator, list(item.values) or None) for item in script.simple]
    options = {"predictor_models": predictor_models or None, "missingness_models": missingness_models or None,
               "center": center or None, "ordinal": ordinal or None, "nominal": nominal or None}
    sampler, notes = _sampler_settings(script)
    model = ScriptModel(formula, data, options, sampler, notes + option_notes, script)
    model.imputations = _imputation_settings(script)
    model.quantities = {"labels": labels, "definitions": definitions, "conditional": conditional}
    return model


def _option_notes(script: BlimpScript) -> list[str]:
    command = script.command("OPTIONS")
    if command is None:
        return []
    notes = []
    for word in command.items:
        meaning = OPTIONS.get(word.lower())
        if meaning is None:
            start = command.value.find(word)
            raise BlimpScriptError(f"OPTIONS: '{word}' is not available in multilevel", command.value, start,
                                   start + len(word), line_number=command.line,
                                   hint=f"Options read here: {', '.join(OPTIONS)}.")
        notes.append(f"OPTIONS {word}: {meaning}")
    return notes


def _level_two_factor(clusters: list[str], data: pd.DataFrame, command, used: set[str]) -> str:
    """The level-2 grouping of a two- or three-level script: with a level-3 ID, level-2 units must be nested
    in it; level-2 IDs reused across level-3 units are told apart by the pair (``l3:l2``)."""
    if len(clusters) == 1:
        return clusters[0]
    level_two, level_three = clusters
    for name in clusters:
        if data[name].isna().any():
            raise BlimpScriptError(f"the cluster ID '{name}' has missing values", command.value,
                                   command.value.find(name), command.value.find(name) + len(name),
                                   line_number=command.line)
    # a level-3 variable would be imputed once per level-2 unit: refuse rather than impute it at the wrong level
    for name in sorted(used & set(data.columns)):
        if name in clusters or not data[name].isna().any() or not pd.api.types.is_numeric_dtype(data[name]):
            continue
        spread = data.groupby(level_three)[name].agg(lambda v: v.max() - v.min())
        if (spread.fillna(0) == 0).all() and data.groupby(level_three).size().gt(1).any():
            raise BlimpScriptError(f"'{name}' is constant within {level_three} (a level-3 variable) and has missing "
                                   f"values; imputing level-3 variables is not available yet", command.value, 0,
                                   len(command.value), line_number=command.line)
    unique = data.groupby(level_two)[level_three].nunique().le(1).all()
    return level_two if unique else f"{level_three}:{level_two}"


def _labels(regressions: list[ModelLine], focal_line: ModelLine) -> dict[str, str]:
    """label → the parameter it names: ``y ~ x1@b1`` → b1 = "x1"; in other models "x1 ~ x3"."""
    labels = {}
    for line in regressions:
        outcome = line.outcomes[0].name
        for position, label in line.labels:
            term = _term_text(line, line.predictors[position]) or "Intercept"
            name = term if line is focal_line else f"{outcome} ~ {term}"
            if label in labels:
                raise _line_error(line, line.predictors[position], f"the label '{label}' is used twice")
            labels[label] = name
    return labels


def apply_quantities(fit, translated: "ScriptModel") -> None:
    """Attach a script's labels, PARAMETERS and SIMPLE effects to its fit (they appear in the report)."""
    quantities = translated.quantities or {}
    if quantities.get("definitions") or quantities.get("labels"):
        fit.derive(dict(quantities.get("definitions", [])), labels=quantities.get("labels"))
    for focal, moderator, values in quantities.get("conditional", []):
        fit.conditional_effects(focal, moderator, values)


def _imputation_settings(script: BlimpScript) -> dict | None:
    """NIMPS and SAVE: stacked = file (and average = file) → where to write completed data sets."""
    nimps = script.command("NIMPS")
    save = script.command("SAVE")
    targets = {}
    if save is not None:
        for statement in save.statements or (save.value,):
            what, _, where = statement.partition("=")
            what = what.strip().lower()
            if what not in ("stacked", "average", "separate"):
                raise BlimpScriptError(f"SAVE: '{what}' is not available yet (stacked = file, average = file)",
                                       save.value, 0, len(save.value), line_number=save.line)
            if what == "separate":
                raise BlimpScriptError("SAVE: separate files are not available yet; use stacked = file",
                                       save.value, 0, len(save.value), line_number=save.line)
            targets[what] = where.strip().strip("'\"")
    if nimps is None and not targets:
        return None
    if nimps is None:
        raise BlimpScriptError("SAVE needs NIMPS: how many imputations to save", save.value, 0, len(save.value),
                               line_number=save.line)
    if "stacked" not in targets:
        raise BlimpScriptError("NIMPS needs SAVE: stacked = file; to say where to write them", nimps.value, 0,
                               len(nimps.value), line_number=nimps.line)
    return {"count": int(nimps.items[0]), **targets}


def _names(node: ast.Node) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.name]
    if isinstance(node, (ast.Binary,)):
        return _names(node.left) + _names(node.right)
    if isinstance(node, ast.Unary):
        return _names(node.operand)
    return []


def _sampler_settings(script: BlimpScript) -> tuple[dict, list[str]]:
    sampler: dict = {}
    notes = []
    chains = script.command("CHAINS")
    sampler["chains"] = int(chains.items[0]) if chains else 4
    if script.command("SEED"):
        sampler["seed"] = int(script.command("SEED").items[0])
    if script.command("BURN"):
        sampler["warmup"] = int(script.command("BURN").items[0])
        notes.append(f"Blimp BURN {sampler['warmup']} is per chain: warmup = {sampler['warmup']} per chain")
    if script.command("ITERATIONS"):
        total = int(script.command("ITERATIONS").items[0])
        sampler["draws"] = max(1, math.ceil(total / sampler["chains"]))
        notes.append(f"Blimp ITERATIONS {total} is the total across chains: {sampler['draws']} draws per chain x "
                     f"{sampler['chains']} chains")
    if script.command("THIN"):
        sampler["thin"] = int(script.command("THIN").items[0])
    return sampler, notes


def load_script(path) -> ScriptModel:
    """Read and translate a Blimp script and its data (paths relative to the script)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"script '{path}' does not exist")
    script = parse_script(path.read_text())
    data = _read_data(script, path.parent)
    return translate(script, data)


def save_script_imputations(fit, translated: ScriptModel, folder: Path) -> list[Path]:
    """Write the completed data sets a script asks for (paths relative to the script)."""
    settings = translated.imputations
    if not settings:
        return []
    stacked = folder / settings["stacked"]
    average = folder / settings["average"] if "average" in settings else None
    fit.save_imputations(stacked, settings["count"], average)
    fit.environment.append(f"{settings['count']} imputations saved to {stacked}"
                           + (f", their average to {average}" if average else ""))
    return [stacked] + ([average] if average else [])


def fit_script(path, *, priors=None, **overrides):
    """Fit a Blimp script. ``overrides`` replace its sampler settings (e.g. ``draws=500`` for a quick look).

    ``priors="blimp"`` uses Blimp's default priors, to compare with Blimp's output like for like.
    """
    from .api import Model

    translated = load_script(path)
    sampler = {**translated.sampler, **overrides}
    model = Model(translated.formula, translated.data, **{**translated.options, "priors": priors})
    fit = model.fit(**sampler)
    apply_quantities(fit, translated)
    save_script_imputations(fit, translated, Path(path).parent)
    fit.environment.extend(note for note in translated.notes
                           if not any(key in overrides for key in ("warmup", "draws", "chains")))
    if overrides:
        fit.environment.append(f"script settings overridden: {', '.join(f'{k}={v}' for k, v in overrides.items())}")
    fit.environment.append(f"Blimp script {path} translated to: {translated.formula}")
    return fit
