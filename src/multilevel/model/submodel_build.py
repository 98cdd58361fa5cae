"""Missing-data submodels: a model for each incomplete predictor (factored regressions, the stated ones,
level-2 and latent-mean models), the missingness models, and the checks that they fit together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..errors import SpecificationError
from . import expressions as E
from .checks import is_numeric_column, suggest
from .design_columns import StatedColumns, Terms
from .inputs import ParsedInput
from .known_values import KnownValues, first_rows, missing_mask
from .missing_data import Submodel, build_submodels, missingness_submodel
from .model_spec import GroupingFactor
from .random_structures import RandomDesign
from .response import OutcomeData, ResponseForm
from .rows import References, Rows


@dataclass(frozen=True)
class MissingData:
    """Step 11's output: the submodels in factored order, the values the sampler reads (the kept rows'
    variables, the outcome where it is sampled, missingness indicators), whether missing outcomes are
    sampled, and whether a missingness model then uses them (a selection model)."""

    submodels: tuple
    values: Mapping[str, np.ndarray]
    outcome_latent: bool
    selection: bool


def missing_data_submodels(parsed: ParsedInput, response: ResponseForm, references: References, rows: Rows,
                           terms: Terms, known: KnownValues, outcome: OutcomeData, random: RandomDesign,
                           style: str) -> MissingData:
    """(the earlier steps' values, the prior style) → MissingData.

    Missing Gaussian outcomes are parameters (as in Blimp), so completed data sets include them. Refuses
    latent group means in stated models, a missingness model of a complete variable, a cycle of models,
    and discrete variables with too many combinations of categories to sum over."""
    _refuse_latent_means_in_stated(terms.stated)
    values = dict(known.values)
    outcome_latent = _outcome_latent(parsed, response, terms, outcome)
    if outcome_latent:
        values[response.outcome] = rows.kept[response.outcome].to_numpy(dtype=float)
    submodels: tuple[Submodel, ...] = ()
    if known.incomplete or terms.stated or outcome_latent or known.latent:
        first_factor = random.blocks[0].factor if random.blocks else None
        first_index = random.index[0] if random.blocks else None
        submodels = _predictor_submodels(parsed, references, terms, known, values, first_factor, first_index, style)
        submodels += _missingness_submodels(terms.stated, rows, values, first_factor, style)
    if submodels:
        check_acyclic(response.outcome, list(terms.fixed) + [c for b in random.blocks for c in b.columns], submodels)
    return MissingData(submodels, MappingProxyType(values), outcome_latent, outcome_latent and bool(terms.stated))


def _refuse_latent_means_in_stated(stated: Sequence[StatedColumns]) -> None:
    for item in stated:
        if any(E.latent_means_in(column.expression) for column in item.columns):
            raise SpecificationError(f"'{item.model.text}': latent group means in predictor or missingness models "
                                     f"are not available yet; use them in the focal model")


def _outcome_latent(parsed: ParsedInput, response: ResponseForm, terms: Terms, outcome: OutcomeData) -> bool:
    """Whether missing outcomes are sampled: for families that impute them with missing='model', or when a
    missingness model uses the outcome (refused for families that cannot impute it)."""
    name, kind = response.outcome, response.family.kind
    selection_uses_outcome = any(name in {v for c in item.columns for v in c.expression.variables()}
                                 for item in terms.stated if item.model.kind == "missingness")
    latent = bool((~outcome.observed).any()) and (
        selection_uses_outcome or (parsed.options.missing == "model" and kind.imputes_missing_outcome))
    if latent and not kind.imputes_missing_outcome:
        raise SpecificationError(f"a missingness model uses the outcome '{name}', whose missing values "
                                 f"must then be imputed; that needs a Gaussian outcome for now")
    return latent


def _predictor_submodels(parsed: ParsedInput, references: References, terms: Terms, known: KnownValues,
                         values: dict, first_factor: GroupingFactor | None, first_index, style: str) -> tuple:
    """The models of the incomplete predictors, of complete ones with a stated model, and of complete ones
    whose latent group means are used."""
    incomplete = list(known.incomplete)
    variables = {info.name: info for info in terms.variables}
    stated = {item.model.variable: item.columns for item in terms.stated if item.model.kind == "predictor"}
    numeric_complete = sorted(name for name in references.predictors - references.structural - set(incomplete)
                              if name in variables and variables[name].kind == "numeric"
                              and name not in stated and name not in known.latent)  # modelled: last among level 1
    categorical_complete = [info for info in terms.variables if info.kind == "categorical"
                            and info.name not in incomplete]
    nominal_incomplete = {name: variables[name] for name in incomplete
                          if name in variables and variables[name].kind == "categorical"}
    modelled = incomplete + sorted(set(stated) - set(incomplete))  # stated models of complete ones too
    modelled += sorted(set(known.latent) - set(modelled))  # complete variables whose latent means are used
    missing = {name: int(missing_mask(values[name]).sum()) if name not in known.level_two else
               int(missing_mask(values[name][first_rows(first_index)]).sum()) for name in incomplete}
    counts = {name: missing.get(name, 0) for name in modelled}
    ordinal_set = check_ordinal(parsed.options.ordinal, parsed.frame)
    submodels = build_submodels(modelled, numeric_complete, categorical_complete, values, counts, first_factor,
                                stated, style, ordinal_set, level_two=frozenset(known.level_two),
                                clusters=first_index, latent=frozenset(known.latent), nominal=nominal_incomplete)
    check_latent_models(submodels, ordinal_set | set(nominal_incomplete), counts)
    check_combinations(submodels)
    return submodels


def _missingness_submodels(stated: Sequence[StatedColumns], rows: Rows, values: dict,
                           first_factor: GroupingFactor | None, style: str) -> tuple[Submodel, ...]:
    """Probit models of the stated missingness indicators; each indicator is added to ``values``."""
    submodels: tuple[Submodel, ...] = ()
    for item in stated:
        if item.model.kind != "missingness":
            continue
        variable = item.model.variable
        indicator = rows.kept[variable].isna().to_numpy().astype(float)
        if not indicator.any():
            raise SpecificationError(f"missingness model '{item.model.text}': '{variable}' has no missing "
                                     f"values in the rows used, so there is no missingness to model; "
                                     f"remove this model")
        values[f"{variable}.missing"] = indicator
        submodels += (missingness_submodel(variable, tuple(item.columns), values, first_factor, style),)
    return submodels


def check_latent_models(submodels, ordinal_set: frozenset, counts: dict) -> None:
    """A latent mean is read off its variable's model: that model must not involve a variable whose missing
    values are summed out (its mean would change with each combination of categories)."""
    summed = {name for name in ordinal_set if counts.get(name)}
    for submodel in submodels:
        if submodel.latent_mean:
            used = {name for column in submodel.columns for name in column.expression.variables()} & summed
            if used or submodel.outcome in ordinal_set:
                raise SpecificationError(f"latent_mean({submodel.outcome}) with the incomplete discrete (ordinal or "
                                         f"nominal) {', '.join(sorted(used or {submodel.outcome}))} in its model "
                                         f"is not available yet")


MAX_PATTERN_WORK = 1024  # prod over the level-1 incomplete discrete variables of (categories + 1), minus 1

MAX_CLUSTER_COMBINATIONS = 64  # of the level-2 incomplete discrete variables' categories


def check_combinations(submodels) -> None:
    """Missing discrete values are summed out: at level 1 per pattern of missing variables over the
    combinations of that pattern's categories (rows x the sum over patterns of their combinations, which is
    prod(categories + 1) - 1), at level 2 per cluster over every combination. Refuses more than these sums
    can afford, naming the variables."""
    for level, bound in ((1, MAX_PATTERN_WORK), (2, MAX_CLUSTER_COMBINATIONS)):
        chosen = [submodel for submodel in submodels
                  if submodel.kind.discrete and submodel.missing_count and submodel.level == level]
        work = 1
        for submodel in chosen:
            work *= len(submodel.categories) + (1 if level == 1 else 0)
        work -= 1 if level == 1 else 0
        if work > bound:
            names = ", ".join(f"{submodel.outcome} ({len(submodel.categories)})" for submodel in chosen)
            what = ("combinations of categories to sum over per pattern of missing values (the product of "
                    "categories + 1, less 1)" if level == 1 else "combinations of categories to sum over per cluster")
            raise SpecificationError(f"the incomplete level-{level} discrete variables {names} have {work} {what}; "
                                     f"at most {bound}: treat some of them as continuous")


def check_ordinal(ordinal, frame: pd.DataFrame) -> frozenset:
    names = frozenset(ordinal or ())
    for name in sorted(names):
        if name not in frame.columns:
            raise SpecificationError(f"ordinal variable '{name}' is not a column of the data"
                                     f"{suggest(name, frame.columns)}")
        if not is_numeric_column(frame[name]):
            raise SpecificationError(f"ordinal variable '{name}' must be numeric (its values order the categories)")
    return names


def check_acyclic(outcome: str, focal_columns, submodels) -> None:
    """The focal model and the submodels must factor the joint density: no variable may (through a chain
    of models) predict itself. Raises naming the models on the cycle."""
    def base(name: str) -> str:
        return name[:-len(".mean")] if name.endswith(".mean") and not name.endswith(".missing") else name

    models = {outcome: ({base(v) for column in focal_columns for v in column.expression.variables()
                         if not v.startswith("group ")}, f"{outcome} (focal model)")}
    for submodel in submodels:
        node = submodel.outcome  # a missingness model's outcome is its indicator, <x>.missing
        predictors = {base(v) for column in submodel.columns for v in column.expression.variables()
                      if not v.startswith("group ")}
        models[node] = (predictors, f"{node} ~ {' + '.join(submodel.predictor_names) or '1'}")
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str):
        state[node] = 1
        path.append(node)
        for predictor in sorted(models.get(node, (set(), ""))[0]):
            if state.get(predictor) == 1:
                cycle = path[path.index(predictor):]
                lines = "; ".join(models[name][1] for name in cycle)
                raise SpecificationError(f"the models form a cycle ({' -> '.join(cycle + [predictor])}): {lines}. "
                                         f"A variable cannot predict itself through other models; remove one of "
                                         f"these predictors")
            if predictor in models and state.get(predictor) != 2:
                visit(predictor)
        path.pop()
        state[node] = 2

    for node in sorted(models):
        if state.get(node) != 2:
            visit(node)


def needed_values(values: dict, submodels, fixed_columns, blocks, dynamic_fixed, dynamic_random) -> dict:
    """The raw variables (and group codes) that columns evaluated at sampling time read."""
    expressions = [fixed_columns[k].expression for k in dynamic_fixed]
    expressions += [block.columns[k].expression for block, ks in zip(blocks, dynamic_random) for k in ks]
    expressions += [column.expression for submodel in submodels for column in submodel.columns]
    names = {submodel.outcome for submodel in submodels}
    names |= {f"{submodel.indicator_of}.missing" for submodel in submodels if submodel.indicator_of}
    for expression in expressions:
        names |= expression.variables()
    keep = {name: np.asarray(values[name]) for name in names}
    for key, value in values.items():
        if key.startswith("group index:") or key.startswith("group count:"):
            keep[key] = value
    return keep
