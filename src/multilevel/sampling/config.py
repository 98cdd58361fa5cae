"""Sampler settings."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SpecificationError


@dataclass(frozen=True)
class SamplerConfig:
    chains: int = 4
    warmup: int = 1000
    draws: int = 1000
    thin: int = 1
    target_accept: float = 0.8
    max_tree_depth: int = 10
    dense_mass: bool | str = False  # True, False or "population" (see sampling.nuts.mass_structure)
    target_ess: int | None = None  # draws="auto": sample on (up to max_draws) until the smallest ESS reaches it
    max_draws: int | None = None  # draws="auto": the most draws kept per chain

    def auto_note(self) -> str | None:
        """What draws="auto" did (None with a number of draws)."""
        if self.target_ess is None:
            return None
        return (f"draws='auto': {self.draws} draws per chain kept (sampled on from {AUTO_DRAWS} until the smallest "
                f"bulk ESS reached {self.target_ess} or {self.max_draws} draws per chain)")

    @property
    def program(self) -> tuple[int, int, bool | str]:
        """The settings that shape the compiled sampler: chains, max_tree_depth, dense_mass (the others
        are its inputs, so changing them does not compile again)."""
        return self.chains, self.max_tree_depth, self.dense_mass

    def __post_init__(self):
        for name in ("chains", "draws", "thin", "max_tree_depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise SpecificationError(f"{name} must be a positive whole number, got {value!r}")
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise SpecificationError(f"warmup must be a whole number >= 0, got {self.warmup!r}")
        if self.dense_mass not in (True, False, "population") or not isinstance(self.dense_mass, (bool, str)):
            raise SpecificationError(f"dense_mass must be True, False, 'population' or 'auto', got {self.dense_mass!r}")
        for name in ("target_ess", "max_draws"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise SpecificationError(f"{name} must be a positive whole number, got {value!r}")
        if self.max_draws is not None and self.max_draws < self.draws:
            raise SpecificationError(f"max_draws ({self.max_draws}) must be at least draws ({self.draws})")
        if not 0 < self.target_accept < 1:
            raise SpecificationError(f"target_accept must be between 0 and 1, got {self.target_accept}")


MAX_SEED = 2 ** 63 - 1

AUTO_DRAWS = 1000  # draws="auto": the draws per chain sampled first
AUTO_TARGET_ESS = 2000  # draws="auto": the smallest bulk ESS sampled for, unless target_ess= says otherwise
AUTO_MAX_DRAWS = 5000  # draws="auto": the most draws per chain


def auto_draws(draws, target_ess, max_draws) -> dict:
    """The SamplerConfig fields for ``draws``: a number (kept as asked; target_ess= and max_draws= need
    draws="auto"), or "auto" (AUTO_DRAWS first, then more until the smallest ESS reaches the target)."""
    if isinstance(draws, str):
        if draws != "auto":
            raise SpecificationError(f"draws must be a positive whole number or 'auto', got {draws!r}")
        return {"draws": AUTO_DRAWS, "target_ess": AUTO_TARGET_ESS if target_ess is None else target_ess,
                "max_draws": max(AUTO_DRAWS, AUTO_MAX_DRAWS) if max_draws is None else max_draws}
    if target_ess is not None or max_draws is not None:
        raise SpecificationError("target_ess and max_draws apply with draws='auto' (--draws auto); with a number of "
                                 f"draws ({draws!r}) exactly that many are kept")
    return {"draws": draws}

# Other tools' names for our sampler options (brms, rstanarm, NumPyro, PyMC, Blimp), each with what to write here.
_OTHER_NAMES = {
    "iter": "brms's iter counts warmup and draws together: write warmup=1000, draws=1000",
    "n_iter": "write draws= (draws kept per chain) and warmup=",
    "iterations": "Blimp's ITERATIONS is the total across chains: write draws= (per chain)",
    "burn": "Blimp's BURN is warmup= (per chain)", "burnin": "write warmup= (per chain)",
    "num_warmup": "write warmup=", "num_samples": "write draws=", "num_chains": "write chains=",
    "tune": "PyMC's tune is warmup=", "samples": "write draws=", "n_samples": "write draws=",
    "cores": "chains run in parallel already, one CPU device per chain: write chains=",
    "random_seed": "write seed=", "rng_key": "write seed= (an integer)",
    "adapt_delta": "brms's adapt_delta is target_accept=", "max_treedepth": "write max_tree_depth=",
    "warmup_iter": "write warmup=",
}


def unknown_options(unknown: dict, known, where: str) -> None:
    """Raise :class:`SpecificationError` for keyword arguments ``where`` does not take, saying which was meant."""
    import difflib

    if not unknown:
        return
    name = sorted(unknown)[0]
    if name in _OTHER_NAMES:
        hint = _OTHER_NAMES[name]
    else:
        close = difflib.get_close_matches(name, list(known), n=2, cutoff=0.6)
        hint = f"did you mean {' or '.join(f'{c}=' for c in close)}?" if close else ""
    raise SpecificationError(f"{where} has no option '{name}'" + (f": {hint}" if hint else "")
                             + f" (its options: {', '.join(known)})")


def check_seed(seed) -> int:
    """A seed is a whole number from 0 to 2^63 - 1 (the same seed gives the same numbers)."""
    if isinstance(seed, bool) or not isinstance(seed, (int,)) and not (hasattr(seed, "__index__")):
        raise SpecificationError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    value = int(seed.__index__())
    if not 0 <= value <= MAX_SEED:
        raise SpecificationError(f"seed must be a whole number from 0 to {MAX_SEED} (2^63 - 1), got {value}")
    return value
