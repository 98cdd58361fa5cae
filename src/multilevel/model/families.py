"""Outcome families and their links."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..errors import SpecificationError


class FamilyName(enum.Enum):
    GAUSSIAN = "gaussian"
    BERNOULLI = "bernoulli"
    BINOMIAL = "binomial"
    POISSON = "poisson"


LINKS = {
    FamilyName.GAUSSIAN: ("identity",),
    FamilyName.BERNOULLI: ("logit", "probit"),
    FamilyName.BINOMIAL: ("logit", "probit"),
    FamilyName.POISSON: ("log",),
}

ALIASES = {"normal": "gaussian", "logistic": "bernoulli", "binary": "bernoulli", "count": "poisson"}


@dataclass(frozen=True)
class Family:
    name: FamilyName
    link: str

    @property
    def has_residual_sd(self) -> bool:
        return self.name is FamilyName.GAUSSIAN

    @property
    def latent_residual_variance(self) -> float | None:
        """Level-1 variance on the latent scale used for ICCs of discrete outcomes."""
        if self.link == "logit":
            return 3.28986813369645  # pi^2 / 3
        if self.link == "probit":
            return 1.0
        return None

    def __str__(self) -> str:
        return f"{self.name.value}({self.link})"


def make_family(family: str | Family = "gaussian", link: str | None = None) -> Family:
    """Read ``"gaussian"``, ``"bernoulli"``, ``"bernoulli(probit)"``, ``"binomial"``, ``"poisson"``."""
    if isinstance(family, Family):
        return family if link is None else make_family(family.name.value, link)
    text = str(family).strip().lower()
    if "(" in text and text.endswith(")"):
        text, inner = text[:-1].split("(", 1)
        inner = inner.strip()
        if link is not None and inner != link:
            raise SpecificationError(f"family '{family}' names link '{inner}' but link='{link}' was given")
        link = inner
    text = ALIASES.get(text.strip(), text.strip())
    try:
        name = FamilyName(text)
    except ValueError:
        choices = ", ".join(member.value for member in FamilyName)
        raise SpecificationError(f"unknown family '{family}'; choose one of: {choices}") from None
    link = link or LINKS[name][0]
    if link not in LINKS[name]:
        raise SpecificationError(f"family {name.value} has no link '{link}'; choose one of: "
                                 f"{', '.join(LINKS[name])}")
    return Family(name, link)
