"""Outcome families: one module per family, found through one registry.

A new family is a module defining an :class:`~.base.OutcomeFamily` subclass and ``FAMILY``, plus its
line in ``_MODULES`` below. A model holds a :class:`Family`: the family object and its link.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import SpecificationError
from . import bernoulli, binomial, gaussian, poisson, student
from .base import FamilyParameter, OutcomeFamily, inverse_link, latent_residual_variance

_MODULES = (gaussian, bernoulli, binomial, poisson, student)
REGISTRY: dict[str, OutcomeFamily] = {module.FAMILY.name: module.FAMILY for module in _MODULES}
_ALIASES = {alias: family for family in REGISTRY.values() for alias in family.aliases}


@dataclass(frozen=True)
class Family:
    """An outcome family with its link, as a model holds it."""

    kind: OutcomeFamily
    link: str

    @property
    def has_residual_sd(self) -> bool:
        return self.kind.residual_sd

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Sites of the outcome distribution's own parameters: ``sigma`` (when it has one), then the family's."""
        return (("sigma",) if self.kind.residual_sd else ()) + tuple(p.name for p in self.kind.parameters)

    @property
    def latent_residual_variance(self) -> float | None:
        """Level-1 variance on the latent scale used for ICCs of discrete outcomes."""
        return None if self.kind.residual_sd else latent_residual_variance(self.link)

    def residual_variance(self, draws: dict):
        """The level-1 variance per draw (its residual variance, e.g. sigma²), or the latent scale's constant
        (pi²/3 for logit, 1 for probit), or None where there is none (Poisson)."""
        if self.kind.residual_sd:
            return self.kind.residual_variance(draws["sigma"], **{p.name: draws[p.name] for p in self.kind.parameters})
        return latent_residual_variance(self.link)

    def mean(self, eta, xp=None):
        """The expected outcome (per trial for binomial) from the linear predictor."""
        import numpy as np

        return inverse_link(self.link, eta, np if xp is None else xp)

    def __str__(self) -> str:
        return f"{self.kind.name}({self.link})"


def family_names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def make_family(family: str | Family | None = "gaussian", link: str | None = None) -> Family:
    """Read ``"gaussian"``, ``"bernoulli"``, ``"bernoulli(probit)"``, ``"binomial"``, ``"poisson"``, ..."""
    if family is None:
        family = "gaussian"
    if isinstance(family, Family):
        return family if link is None else make_family(family.kind.name, link)
    text = str(family).strip().lower()
    if "(" in text and text.endswith(")"):
        text, inner = text[:-1].split("(", 1)
        inner = inner.strip()
        if link is not None and inner != link:
            raise SpecificationError(f"family '{family}' names link '{inner}' but link='{link}' was given")
        link = inner
    text = text.strip()
    kind = REGISTRY.get(text) or _ALIASES.get(text)
    if kind is None:
        raise SpecificationError(f"unknown family '{family}'; choose one of: {', '.join(REGISTRY)}")
    link = link or kind.links[0]
    if link not in kind.links:
        raise SpecificationError(f"family {kind.name} has no link '{link}'; choose one of: {', '.join(kind.links)}")
    return Family(kind, link)


__all__ = ["Family", "FamilyParameter", "OutcomeFamily", "REGISTRY", "family_names", "make_family"]
