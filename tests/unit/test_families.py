"""The family registry: every registered family honours the protocol, and no module outside the family
modules asks a family for its name."""

import numpy as np
import pytest

from multilevel.errors import DataError, SpecificationError
from multilevel.model.families import REGISTRY, make_family

from .source_scan import lines_asking


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_family_is_found_by_name_alias_and_link(name):
    kind = REGISTRY[name]
    assert make_family(name).kind is kind and make_family(name).link == kind.links[0]
    for alias in kind.aliases:
        assert make_family(alias).kind is kind
    for link in kind.links:
        assert make_family(f"{name}({link})") == make_family(name, link)
        assert str(make_family(name, link)) == f"{name}({link})"
    with pytest.raises(SpecificationError, match=f"family {name} has no link 'cauchit'"):
        make_family(name, "cauchit")


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_family_draws_and_checks_its_outcome(name):
    family = make_family(name)
    rng = np.random.default_rng(1)
    eta = rng.normal(size=(3, 5)) * 0.5
    trials = np.full(5, 4.0)
    mean = family.mean(eta)
    own = {parameter.name: np.full(3, parameter.lower + 4.0) for parameter in family.kind.parameters}
    replicated = family.kind.draw(rng, mean, sigma=np.ones(3), trials=trials, **own)
    assert replicated.shape == (3, 5) and np.all(np.isfinite(replicated))
    for statistic in family.kind.ppc_statistics().values():
        assert statistic(replicated).shape == (3,)
    family.kind.check_outcome("y", replicated[0], trials)  # its own draws are valid outcomes
    if not family.kind.residual_sd:
        with pytest.raises(DataError, match="outcome 'y'"):
            family.kind.check_outcome("y", np.array([0.5, -1.0, 2.0, 1.0, 0.0]), trials)


def test_unknown_family_lists_the_registered_ones():
    with pytest.raises(SpecificationError, match="choose one of: " + ", ".join(REGISTRY)):
        make_family("gamma")


def test_no_module_outside_the_family_modules_asks_for_a_family_name():
    offenders = lines_asking(r"kind\.name\s*(==|!=|in\b|is\b)|family\.name\b|FamilyName", outside="families")
    assert not offenders, "\n".join(offenders)
