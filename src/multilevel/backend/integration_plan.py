"""Which missing values the log density integrates out, and which the sampler samples.

Given the parameters and random effects, a row's missing normal predictors and its missing Gaussian
outcome are jointly normal with its observed values when every model that reads them is linear in them
(a random slope on one is linear given the random effects; a product with a complete variable too). Then
they are integrated out of the log density exactly (:mod:`multilevel.backend.integration`), together with
at most one probit selection model on a linear function of them, and drawn afterwards from their exact
conditionals. Where a model is not conditionally Gaussian they stay parameters of the sampler, and the
choice says why.
"""

from __future__ import annotations

from typing import NamedTuple

from ..model import expressions as E
from ..model.model_spec import ModelSpec
from .marginal_likelihood import marginalized


class IntegratedBlock(NamedTuple):
    """The normal variables of the integrated block (part of the compiled program's key)."""

    members: tuple[int, ...]  # submodel positions of the level-1 normal regressions, in their order
    focal: bool  # the focal (Gaussian) outcome is the block's last member
    selection: int | None  # the probit missingness model that reads the integrated values, if any
    names: tuple[str, ...]  # the variables whose missing values are integrated out


class IntegrationChoice(NamedTuple):
    block: IntegratedBlock | None
    sampled: tuple[str, ...]  # continuous variables whose missing values the sampler samples
    reason: str  # why some are sampled that could in principle be integrated ("" when none is)

    def note(self) -> str:
        """What the output says about it ("" when nothing continuous is missing)."""
        parts = []
        if self.block is not None:
            parts.append(f"missing values of {_listed(self.block.names)} integrated out of the likelihood "
                         "(exactly: they are jointly normal given the parameters) and drawn afterwards from "
                         "their conditional distribution")
        if self.sampled:
            parts.append(f"missing values of {_listed(self.sampled)} sampled as parameters"
                         + (f" ({self.reason})" if self.reason else ""))
        return "; ".join(parts)


def _listed(names) -> str:
    return ", ".join(f"'{name}'" for name in names)


def _degree(expression: E.Expression, names) -> float:
    """The degree of an expression in ``names``, a latent group mean counting as a parameter (it is one of
    the model; whether it depends on imputed values is checked on its own model)."""
    def as_parameter(node):
        return E.Variable(E.latent_key(node.name)) if isinstance(node, E.LatentGroupMean) else node

    return E.degree(E.rewrite(expression, as_parameter), names)


def integration_choice(spec: ModelSpec) -> IntegrationChoice:
    """Integrate the missing values of the level-1 normal regressions' variables and of a Gaussian focal
    outcome where the model is conditionally Gaussian in them; otherwise sample them (with the reason)."""
    level2 = tuple(sub.outcome for sub in spec.submodels if sub.level == 2 and sub.kind.sampled and sub.missing_count)
    normal = tuple(j for j, sub in enumerate(spec.submodels) if sub.level == 1 and sub.kind.conditionally_normal)
    names = tuple(spec.submodels[j].outcome for j in normal if spec.submodels[j].missing_count)
    if spec.outcome_latent and not marginalized(spec):
        names += (spec.response.name,)
    if not names:
        return IntegrationChoice(None, level2, "")
    focal = spec.family.kind.conjugate_normal and spec.family.kind.residual_sd
    obstacle, selection = _obstacle(spec, names, normal, focal)
    if obstacle:
        return IntegrationChoice(None, names + level2, obstacle)
    reason = "level-2 values, one per cluster, are shared by the cluster's rows" if level2 else ""
    return IntegrationChoice(IntegratedBlock(normal, focal, selection, names), level2, reason)


def _obstacle(spec: ModelSpec, names: tuple[str, ...], normal: tuple[int, ...], focal: bool) -> tuple[str, int | None]:
    """Why the block cannot be integrated ("" if it can), and the selection model that reads it."""
    if spec.options.get("integrate") is False:
        return "integrate=False", None
    discrete = [sub.outcome for sub in spec.submodels if sub.kind.discrete and sub.missing_count]
    if discrete:
        return (f"missing values of the discrete {_listed(discrete)} are summed out, and summing and integrating "
                "are not combined yet"), None
    focal_columns = list(spec.fixed) + [column for block in spec.random for column in block.columns]
    limit = 1.0 if focal else 0.0
    for column in focal_columns:
        if _degree(column.expression, names) > limit:
            why = "not linear in them" if focal else f"in a {spec.family} model, which is not normal"
            return f"the focal model's term '{column.name}' uses them and is {why}", None
    if spec.outcome_latent and not focal:
        return f"a {spec.family} outcome is not normal", None
    selection = None
    for j, sub in enumerate(spec.submodels):
        degrees = [_degree(column.expression, names) for column in sub.columns]
        top = max(degrees, default=0.0)
        if top == 0.0:
            continue
        uses = f"the model of '{sub.outcome}' uses them"
        if j in normal:
            if top > 1.0:
                return f"{uses} and is not linear in them", None
        elif sub.kind.integrable_selection and top == 1.0 and sub.level == 1:
            if selection is not None:
                return "more than one missingness model uses them", None
            selection = j
        else:
            return f"{uses} and is not a linear normal or probit model of them", None
        if sub.latent_mean:
            return f"{uses} and defines latent cluster means", None
    return "", selection
