"""What kind of parameter a sampler site is, from its name (no JAX: results and reports read these too)."""

from __future__ import annotations

GROUP_EFFECT_SITES = ("z_", "r_")  # per-group effects of the focal model's blocks: z_0, r_1, ...


def is_group_effect_site(site: str) -> bool:
    """A site of per-group effects (a block's, or a submodel's random intercepts ``<x> ~ z``)."""
    if site.endswith(" ~ z"):
        return True
    return any(site.startswith(prefix) and site[len(prefix):].isdigit() for prefix in GROUP_EFFECT_SITES)


def is_population_site(site: str) -> bool:
    """A population-level parameter: neither per-group effects nor missing values."""
    return not (is_group_effect_site(site) or site.startswith("missing_"))
