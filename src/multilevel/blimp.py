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

import difflib
import math
from dataclasses import dataclass, field
import re
from pathlib import Path

import pandas as pd

from .data_files import WHITESPACE, DataFileError, _read_text, file_bytes, read_table, utf8_text
from .errors import BlimpScriptError, DataError, MultilevelError
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


class ScriptDataError(BlimpScriptError, DataError):
    """A problem with a script's data (its file, its names, its missing-value code), cited at the script
    line that asks for it. Both a :class:`BlimpScriptError` and a :class:`DataError`."""


def _line_error(line: ModelLine, node: ast.Node, message: str, hint: str | None = None) -> BlimpScriptError:
    return BlimpScriptError(message, line.text, node.start, node.end, line_number=line.line, hint=hint)


def _command_error(script: BlimpScript, command, message: str, word: str | None = None, hint: str | None = None,
                   kind: type = BlimpScriptError, line_number: int | None = None) -> BlimpScriptError:
    """An error shown on the script's physical line that holds ``word`` (searched from the command's first
    line on), with a caret under it; without ``word``, under the command's value."""
    lines = script.text.splitlines() or [""]
    first = line_number if line_number is not None else (command.line if command is not None else 1)
    first = min(max(first, 1), len(lines))
    number, start, end = first, None, None
    if word:
        pattern = re.compile(r"(?<![\w.])" + re.escape(word) + r"(?![\w.])")
        for candidate in range(first, min(len(lines), first + 200) + 1):
            text = _COMMENT.sub("", lines[candidate - 1])
            found = pattern.search(text, text.find(":") + 1 if candidate == first and command is not None else 0)
            if found:
                number, start, end = candidate, found.start(), found.end()
                break
    text = lines[number - 1].rstrip("\r").replace("\t", " ")
    if start is None:
        colon = text.find(":") if command is not None else -1
        rest = text[colon + 1:]
        start = colon + 1 + (len(rest) - len(rest.lstrip()))
        end = max(start + 1, len(text.rstrip().rstrip(";").rstrip()))
    return kind(message, text, start, end, line_number=number, hint=hint)


_COMMENT = re.compile(r"#.*")


def _variable_hint(name: str, data: pd.DataFrame) -> str:
    """'Did you mean ...?' and the data's variables, for a name that is not one of them."""
    columns = [str(column) for column in data.columns]
    close = difflib.get_close_matches(name, columns, n=3, cutoff=0.6)
    if not close:
        lowered = {column.lower(): column for column in columns}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    shown = ", ".join(columns[:40]) + (f", ... ({len(columns)} in all)" if len(columns) > 40 else "")
    suggestion = f"Did you mean {' or '.join(repr(item) for item in close)}? " if close else ""
    return f"{suggestion}The data's variables: {shown}."


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
        if base is None:
            raise _line_error(line, node, "a power needs a variable (intercept^2 is just the intercept)")
        if not math.isfinite(node.right.value):
            raise _line_error(line, node.right, f"the exponent {node.right.text} is too large")
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
        raise BlimpScriptError("the script has no DATA command", script.text.splitlines()[0] if script.text.strip()
                               else "", 0, 1, line_number=1, hint="Add a line such as: DATA: mydata.csv;")
    value = command.value.strip().strip("'\"").strip()
    if not value:
        raise _command_error(script, command, "DATA names no file", hint="Write it as: DATA: mydata.csv;")
    path = (folder / value).resolve()
    if not path.exists():
        raise _command_error(script, command, f"DATA file '{value}' not found (looked for {path})",
                             kind=ScriptDataError)
    if path.is_dir():
        raise _command_error(script, command, f"DATA names a directory ({path}), not a data file",
                             kind=ScriptDataError, hint="Name the data file itself: DATA: mydata.csv;")
    missing = script.command("MISSING")
    code = missing.value.strip() if missing is not None else None
    variables = script.command("VARIABLES")
    names = list(variables.items) if variables is not None else None
    suffix = path.suffix.lower()
    separator = "," if suffix == ".csv" else "\t" if suffix in (".tsv", ".tab") else WHITESPACE
    try:
        has_header = _first_line_is_header(_read_text(path), separator, [code] if code is not None else [])
        if names and has_header:  # a header row in the file: VARIABLES renames its columns
            frame = read_table(path, code, separator=separator)
            if frame.shape[1] != len(names):
                raise _command_error(script, variables, f"VARIABLES names {len(names)} variables but the header of "
                                     f"'{path.name}' has {frame.shape[1]} columns", kind=ScriptDataError)
            frame.columns = names
            return frame
        if not names and not has_header:
            raise _command_error(script, command, f"the first line of '{path.name}' holds numbers, not column names, "
                                 "and the script has no VARIABLES command to name the columns", kind=ScriptDataError,
                                 hint="Add VARIABLES: with one name per column (e.g. VARIABLES: id y x1 x2;), or "
                                      "a header line to the file.")
        return read_table(path, code, separator=separator, header=None if names else "infer", names=names,
                          names_from="VARIABLES")
    except DataFileError as error:
        target = {"names": variables, "missing": missing}.get(error.kind) or command
        raise _command_error(script, target, str(error), kind=ScriptDataError) from None


def _first_line_is_header(text: str, separator: str, missing_codes: list[str]) -> bool:
    """True when no field of the first non-blank line is a number or a missing-value code."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
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
            raise _command_error(script, command, f"{name} is not available yet in multilevel",
                                 hint=f"Remove {name} from the script.")
    option_notes = _option_notes(script)
    cluster = script.command("CLUSTERID")
    clusters = list(cluster.items) if cluster is not None else []
    listed = [(item, script.command(c)) for c in ("FIXED", "ORDINAL", "NOMINAL") if script.command(c)
              for item in script.command(c).items]
    for name, command in [(name, cluster) for name in clusters] + listed:
        if ":" in name:
            raise _command_error(script, command, f"variable ranges such as '{name}' are not available yet",
                                 word=name, hint="List the variables one by one.")
        if name not in data.columns:
            raise _command_error(script, command, _unknown_variable(name), word=name,
                                 hint=_variable_hint(name, data))
    _check_centering(script, data)
    regressions = [line for line in script.model if line.kind == "regression"]
    others = [line for line in script.model if line.kind != "regression"]
    if others:
        raise BlimpScriptError(f"'{others[0].kind}' model lines are not available yet", others[0].text, 0,
                               len(others[0].text), line_number=others[0].line,
                               hint="Write each model as a regression: y ~ x1 x2;")
    if not regressions:
        lines = script.text.splitlines() or [""]
        raise BlimpScriptError("the script has no MODEL command", lines[0], 0, max(1, len(lines[0])), line_number=1,
                               hint="Add a model such as: MODEL: y ~ x1 x2;")
    for line in regressions:
        for node in line.outcomes:
            if not isinstance(node, ast.Name):
                raise _line_error(line, node, "an outcome must be a single variable name here",
                                  hint="Variable ranges and transformed outcomes are not available yet.")
    candidates = [line for line in regressions if not line.outcomes[0].name.endswith(".missing")]
    if not candidates:
        line = regressions[0]
        raise _line_error(line, line.outcomes[0], "every model line is a missingness (.missing) model: the script "
                          "has no focal model", hint="Add the analysis model, e.g. focal: y ~ x1 x2;")
    focal = [line for line in regressions if (line.block or "").lower() == "focal"] or candidates[:1]
    if len(focal) > 1 or len(focal[0].outcomes) > 1:
        line = focal[1] if len(focal) > 1 else focal[0]
        raise _line_error(line, line.outcomes[-1], "one focal model with one outcome is available for now")
    focal_line = focal[0]
    outcome = focal_line.outcomes[0].name
    if outcome.endswith(".missing"):
        raise _line_error(focal_line, focal_line.outcomes[0], "the focal model cannot be a missingness model")
    for line in regressions:
        for node in list(line.outcomes) + list(line.predictors) + list(line.random):
            for name in _names(node):
                base = name[: -len(".missing")] if name.endswith(".missing") else name
                base = base[: -len(".mean")] if base.endswith(".mean") else base
                if base.lower() != "intercept" and base not in data.columns:
                    raise _line_error(line, _name_node(node, name), _unknown_variable(base),
                                      hint=_variable_hint(base, data))
                if name.endswith(".mean") and line is not focal_line:
                    raise _line_error(line, _name_node(node, name), f"'{name}' (a latent group mean) is available "
                                      "in the focal model only for now", hint=f"Remove {name} from this line.")
                if name.endswith(".mean") and not clusters:
                    raise _line_error(line, _name_node(node, name), f"'{name}' is a latent group mean, and the "
                                      "script has no CLUSTERID to say what the groups are",
                                      hint="Add CLUSTERID: with the cluster variable, e.g. CLUSTERID: school;")
        _check_both_sides(line)
    used_names = {name for line in regressions for node in list(line.outcomes) + list(line.predictors)
                  + list(line.random) for name in _names(node)}
    for centering in script.centering:
        for name in centering.variables:
            if name not in used_names:
                raise _command_error(script, None, f"CENTER: '{name}' is not used in the model", word=name,
                                     line_number=centering.line, hint=f"Remove {name} from CENTER, or add it to "
                                                                      "a model line.")
    terms = _right_side(focal_line, focal_line.predictors)
    formula = f"{outcome} ~ {' + '.join(terms) if terms else '1'}"
    slopes = _right_side(focal_line, focal_line.random)
    if clusters:
        used = {base for line in regressions for node in list(line.outcomes) + list(line.predictors)
                for name in _names(node) for base in [name.split(".")[0]]}
        level_two = _level_two_factor(script, clusters, data, cluster, used)
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
        raise _command_error(script, command, f"FIXED variables must be complete, but "
                             f"{', '.join(incomplete_fixed)} has missing values", word=incomplete_fixed[0],
                             kind=ScriptDataError, hint="Remove it from FIXED: then its missing values are imputed.")
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


def _unknown_variable(name: str) -> str:
    return f"'{name}' is not a variable of the data"


def _name_node(node: ast.Node, name: str) -> ast.Node:
    """The Name node called ``name`` inside ``node`` (for a caret under the very name)."""
    if isinstance(node, ast.Name):
        return node
    for child in ([node.left, node.right] if isinstance(node, ast.Binary) else
                  [node.operand] if isinstance(node, ast.Unary) else
                  [node.terms, node.group] if isinstance(node, ast.RandomTerm) else []):
        if name in _names(child):
            return _name_node(child, name)
    return node


def _check_both_sides(line: ModelLine) -> None:
    """``y ~ y x1``: a variable cannot predict itself."""
    outcomes = {node.name for node in line.outcomes if isinstance(node, ast.Name)}
    for node in list(line.predictors) + list(line.random):
        for name in _names(node):
            if name.endswith(".missing") and name[:-len(".missing")] in outcomes:
                raise _line_error(line, _name_node(node, name), f"'{name}', the missingness of the outcome "
                                  f"'{name[:-len('.missing')]}', cannot predict it",
                                  hint="Model the missingness with its own line instead: "
                                       f"{name} ~ {name[:-len('.missing')]} ...;")
            if name in outcomes:
                raise _line_error(line, _name_node(node, name), f"'{name}' is on both sides of this model line",
                                  hint=f"Remove '{name}' from the predictors: a variable cannot predict itself.")


def _check_centering(script: BlimpScript, data: pd.DataFrame) -> None:
    for centering in script.centering:
        for name in centering.variables:
            if name.endswith(".mean") and name[:-len(".mean")] in data.columns:
                raise _command_error(
                    script, None, f"centering a latent group mean ({name}) is not available yet", word=name,
                    line_number=centering.line,
                    hint=f"Remove {name} from CENTER. Here a latent group mean enters the model uncentered, so "
                         f"its slope is unchanged; the intercept (and the lower-order terms of products with it) "
                         f"refer to {name} = 0 instead of its grand mean.")
            if name not in data.columns:
                raise _command_error(script, None, _unknown_variable(name), word=name, line_number=centering.line,
                                     hint=_variable_hint(name, data))


def _option_notes(script: BlimpScript) -> list[str]:
    command = script.command("OPTIONS")
    if command is None:
        return []
    notes = []
    for word in command.items:
        meaning = OPTIONS.get(word.lower())
        if meaning is None:
            raise _command_error(script, command, f"OPTIONS: '{word}' is not available in multilevel", word=word,
                                 hint=f"Options read here: {', '.join(OPTIONS)}.")
        notes.append(f"OPTIONS {word}: {meaning}")
    return notes


def _level_two_factor(script: BlimpScript, clusters: list[str], data: pd.DataFrame, command, used: set[str]) -> str:
    """The level-2 grouping of a two- or three-level script: with a level-3 ID, level-2 units must be nested
    in it; level-2 IDs reused across level-3 units are told apart by the pair (``l3:l2``)."""
    if len(clusters) == 1:
        return clusters[0]
    level_two, level_three = clusters
    for name in clusters:
        if data[name].isna().any():
            raise _command_error(script, command, f"the cluster ID '{name}' has missing values", word=name,
                                 kind=ScriptDataError)
    # a level-3 variable would be imputed once per level-2 unit: refuse rather than impute it at the wrong level
    for name in sorted(used & set(data.columns)):
        if name in clusters or not data[name].isna().any() or not pd.api.types.is_numeric_dtype(data[name]):
            continue
        spread = data.groupby(level_three)[name].agg(lambda v: v.max() - v.min())
        if (spread.fillna(0) == 0).all() and data.groupby(level_three).size().gt(1).any():
            raise _command_error(script, command, f"'{name}' is constant within {level_three} (a level-3 variable) "
                                 "and has missing values; imputing level-3 variables is not available yet",
                                 word=level_three)
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


def apply_quantities(fit, translated: ScriptModel):
    """The fit carrying a script's labels, PARAMETERS and SIMPLE effects (they appear in the report); a new
    value, the fit given is not changed."""
    quantities = translated.quantities or {}
    return fit.with_quantities(dict(quantities.get("definitions", [])), labels=quantities.get("labels"),
                               conditional=quantities.get("conditional", []))


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
                raise _command_error(script, save, f"SAVE: '{what}' is not available yet (stacked = file, "
                                     "average = file)", word=what)
            if what == "separate":
                raise _command_error(script, save, "SAVE: separate files are not available yet; use stacked = file",
                                     word=what)
            targets[what] = where.strip().strip("'\"")
    if nimps is None and not targets:
        return None
    if nimps is None:
        raise _command_error(script, save, "SAVE needs NIMPS: how many imputations to save",
                             hint="Add NIMPS: 20; (the number of completed data sets).")
    if "stacked" not in targets:
        raise _command_error(script, nimps, "NIMPS needs SAVE: stacked = file; to say where to write them")
    return {"count": _whole_number(script, "NIMPS"), **targets}


def _names(node: ast.Node) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.name]
    if isinstance(node, (ast.Binary,)):
        return _names(node.left) + _names(node.right)
    if isinstance(node, ast.Unary):
        return _names(node.operand)
    return []


# The least value each whole-number command takes (BURN 0: no warmup is allowed, if unwise).
_LEAST = {"CHAINS": 1, "ITERATIONS": 1, "THIN": 1, "NIMPS": 1, "BURN": 0, "SEED": 0}
_MOST = {"CHAINS": 1000, "ITERATIONS": 10**9, "THIN": 10**6, "NIMPS": 10**5, "BURN": 10**9}


def _whole_number(script: BlimpScript, name: str) -> int | None:
    command = script.command(name)
    if command is None:
        return None
    value = int(command.items[0])
    least, most = _LEAST.get(name, 0), _MOST.get(name)
    if name == "SEED":
        from .sampling.config import MAX_SEED

        most = MAX_SEED
    if value < least or (most is not None and value > most):
        limit = f"from {least} to {most}" if most is not None else f"at least {least}"
        raise _command_error(script, command, f"{name} must be {limit}, not {value}", word=command.items[0])
    return value


def _sampler_settings(script: BlimpScript) -> tuple[dict, list[str]]:
    sampler: dict = {}
    notes = []
    chains = _whole_number(script, "CHAINS")
    sampler["chains"] = chains if chains is not None else 4
    seed = _whole_number(script, "SEED")
    if seed is not None:
        sampler["seed"] = seed
    burn = _whole_number(script, "BURN")
    if burn is not None:
        sampler["warmup"] = burn
        notes.append(f"Blimp BURN {sampler['warmup']} is per chain: warmup = {sampler['warmup']} per chain")
    total = _whole_number(script, "ITERATIONS")
    if total is not None:
        sampler["draws"] = max(1, math.ceil(total / sampler["chains"]))
        notes.append(f"Blimp ITERATIONS {total} is the total across chains: {sampler['draws']} draws per chain x "
                     f"{sampler['chains']} chains")
    thin = _whole_number(script, "THIN")
    if thin is not None:
        sampler["thin"] = thin
    return sampler, notes


def read_script_text(path) -> str:
    """A script file's text (UTF-8; a byte-order mark, as Windows Notepad writes, is dropped)."""
    path = Path(path)
    return utf8_text(file_bytes(path, "Blimp script"), path, "Blimp script")


def load_script(path) -> ScriptModel:
    """Read and translate a Blimp script and its data (paths relative to the script). Labels, PARAMETERS
    and SIMPLE are checked against the model here, so that a mistake in them is an error before sampling
    rather than after it."""
    path = Path(path)
    script = parse_script(read_script_text(path))
    data = _read_data(script, path.parent)
    translated = translate(script, data)
    check_quantities(translated)
    return translated


def check_quantities(translated: ScriptModel) -> None:
    """Every name in PARAMETERS is a label, a coefficient of the focal model or a quantity defined before
    it; every SIMPLE effect's focal predictor interacts with its moderator. Each mistake is an error citing
    its script line."""
    script, quantities = translated.script, translated.quantities or {}
    if script is None or not (script.parameters or script.simple or quantities.get("labels")):
        return
    from .model.build import build_model

    try:
        spec, _ = build_model(translated.formula, translated.data, **translated.options)
    except MultilevelError:
        return  # the model's own error comes when the model is built
    fixed = ("Intercept",) + tuple(name for name in spec.fixed_names if name != "Intercept")
    labels = quantities.get("labels") or {}
    known = {name for name in fixed if name.isidentifier()} | set(labels)
    for definition in script.parameters:
        for node in _walk(definition.expression):
            if isinstance(node, ast.Name) and node.name not in known:
                close = difflib.get_close_matches(node.name, sorted(known), n=3, cutoff=0.6)
                suggestion = f"Did you mean {' or '.join(repr(item) for item in close)}? " if close else ""
                raise BlimpScriptError(f"'{node.name}' in PARAMETERS is not a label or coefficient of the model",
                                       definition.text, node.start, node.end, line_number=definition.line,
                                       hint=f"{suggestion}Known: {', '.join(sorted(known))}.")
        known.add(definition.name)
    for effect in script.simple:
        pairs = [tuple(name.split(":")) for name in fixed if name.count(":") == 1]
        moderators = [b for a, b in pairs if a == effect.focal] + [a for a, b in pairs if b == effect.focal]
        if effect.focal not in fixed or effect.moderator not in moderators:
            usable = (f"Interactions in the focal model: {', '.join(':'.join(pair) for pair in pairs)}."
                      if pairs else "The focal model has no interaction of two predictors.")
            what = (f"'{effect.focal}' is not a predictor of the focal model" if effect.focal not in fixed else
                    f"'{effect.moderator}' does not interact with '{effect.focal}' in the focal model")
            raise _command_error(script, None, f"SIMPLE: {what}", line_number=effect.line,
                                 word=effect.focal if effect.focal not in fixed else effect.moderator, hint=usable)
        column = translated.data.get(effect.moderator)
        if column is None or not pd.api.types.is_numeric_dtype(column):
            raise _command_error(script, None, f"SIMPLE: the moderator '{effect.moderator}' is not a numeric "
                                 "variable; conditional effects are given at values of a numeric moderator",
                                 line_number=effect.line, word=effect.moderator)


def _walk(node: ast.Node):
    yield node
    for child in ([node.left, node.right] if isinstance(node, ast.Binary) else
                  [node.operand] if isinstance(node, ast.Unary) else
                  [node.inner] if isinstance(node, ast.Parenthesized) else
                  list(node.arguments) if isinstance(node, ast.Call) else []):
        yield from _walk(child)


def save_script_imputations(fit, translated: ScriptModel, folder: Path) -> list[Path]:
    """Write the completed data sets a script asks for (paths relative to the script)."""
    settings = translated.imputations
    if not settings:
        return []
    stacked = folder / settings["stacked"]
    average = folder / settings["average"] if "average" in settings else None
    fit.save_imputations(stacked, settings["count"], average)
    return [stacked] + ([average] if average else [])
