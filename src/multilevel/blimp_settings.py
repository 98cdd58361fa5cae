"""A Blimp script's settings: the sampler (CHAINS, SEED, BURN, ITERATIONS, THIN), OPTIONS words, and
where completed data sets go (NIMPS, SAVE). Blimp's BURN is per chain (our warmup); its ITERATIONS
is the total across chains (draws per chain = ITERATIONS / chains)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .blimp_places import command_error
from .syntax.blimp_script import BlimpScript

# Blimp OPTIONS words that are read: what each means here. Any other word is an error naming it.
OPTIONS = {
    "psr": "the burn-in R-hat (PSR) table is always printed",
    "labels": "parameter labels are always printed",
    "tuneinfo": "NUTS has no Metropolis acceptance rates to report (step size and divergences are in the report)",
    "nosummary": "ignored: the report always summarizes the parameters",
    "latent": "latent cluster means are the default, as in Blimp",
    "prior2": "Blimp's default covariance prior (zero matrix, df = -(p+1)) is used with priors='blimp'",
}

# The least and most value each whole-number command takes (BURN 0: no warmup is allowed, if unwise).
_LEAST = {"CHAINS": 1, "ITERATIONS": 1, "THIN": 1, "NIMPS": 1, "BURN": 0, "SEED": 0}
_MOST = {"CHAINS": 1000, "ITERATIONS": 10**9, "THIN": 10**6, "NIMPS": 10**5, "BURN": 10**9}


@dataclass(frozen=True)
class SamplerSettings:
    """The sampler options a script sets (as keyword arguments of ``fit``) and notes on their mapping, each
    with the options it speaks of (a note is dropped when one of them is overridden)."""

    options: dict
    notes: tuple[tuple[tuple[str, ...], str], ...]


def option_notes(script: BlimpScript) -> list[str]:
    """What each OPTIONS word means here; a word that is not read is an error under it."""
    command = script.command("OPTIONS")
    if command is None:
        return []
    notes: list[str] = []
    for word in command.items:
        meaning = OPTIONS.get(word.lower())
        if meaning is None:
            raise command_error(script, command, f"OPTIONS: '{word}' is not available in multilevel", word=word,
                                hint=f"Options read here: {', '.join(OPTIONS)}.")
        notes.append(f"OPTIONS {word}: {meaning}")
    return notes


def whole_number(script: BlimpScript, name: str) -> int | None:
    """The value of a whole-number command, checked against its range (None when it is not given)."""
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
        raise command_error(script, command, f"{name} must be {limit}, not {value}", word=command.items[0])
    return value


# BURN counts Gibbs iterations, which Blimp needs by the thousand because Gibbs draws mix slowly; NUTS's
# warmup only adapts its step size and mass matrix, and convergence is judged afterwards (R-hat, ESS).
NUTS_LEAST_WARMUP = 150  # the smallest warmup with Stan's full adaptation windows (75 + 25 + 50)
NUTS_ENOUGH_WARMUP = 1000  # Stan's default: adaptation gains little beyond it


def nuts_warmup(burn: int) -> tuple[int, str]:
    """The warmup per chain a script's BURN becomes, and the note that says so."""
    warmup = min(max(burn, NUTS_LEAST_WARMUP), NUTS_ENOUGH_WARMUP)
    if warmup < burn:
        why = (f"Blimp's burn-in counts Gibbs iterations; NUTS adapts in {NUTS_ENOUGH_WARMUP} and convergence is "
               "checked afterwards (R-hat, ESS); --warmup N (warmup=N) runs longer")
    elif warmup > burn:
        why = f"NUTS needs at least {NUTS_LEAST_WARMUP} to adapt its step size and mass matrix"
    else:
        why = "per chain"
    return warmup, f"BURN {burn} -> warmup {warmup} per chain ({why})"


def sampler_settings(script: BlimpScript) -> SamplerSettings:
    sampler: dict = {}
    notes: list[tuple[tuple[str, ...], str]] = []
    chains = whole_number(script, "CHAINS")
    sampler["chains"] = chains if chains is not None else 4
    seed = whole_number(script, "SEED")
    if seed is not None:
        sampler["seed"] = seed
    burn = whole_number(script, "BURN")
    if burn is not None:
        sampler["warmup"], note = nuts_warmup(burn)
        notes.append((("warmup",), note))
    total = whole_number(script, "ITERATIONS")
    if total is not None:
        sampler["draws"] = max(1, math.ceil(total / sampler["chains"]))
        notes.append((("draws", "chains"), f"ITERATIONS {total} -> {sampler['draws']} draws per chain x "
                      f"{sampler['chains']} chains (Blimp's ITERATIONS is the total across chains; every one is kept)"))
    thin = whole_number(script, "THIN")
    if thin is not None:
        sampler["thin"] = thin
    return SamplerSettings(sampler, tuple(notes))


@dataclass(frozen=True)
class ScriptImputations:
    """NIMPS and SAVE: how many completed data sets, and the files (relative to the script)."""

    count: int
    stacked: str
    average: str | None = None


def imputation_settings(script: BlimpScript) -> ScriptImputations | None:
    """NIMPS and SAVE: stacked = file (and average = file) → where to write completed data sets."""
    nimps = script.command("NIMPS")
    save = script.command("SAVE")
    targets = {}
    if save is not None:
        for statement in save.statements or (save.value,):
            written, _, where = statement.partition("=")
            what = written.strip().lower()
            if what not in ("stacked", "average", "separate"):
                raise command_error(script, save, f"SAVE: '{what}' is not available yet (stacked = file, "
                                    "average = file)", word=written.strip())
            if what == "separate":
                raise command_error(script, save, "SAVE: separate files are not available yet; use stacked = file",
                                    word=written.strip())
            targets[what] = where.strip().strip("'\"")
    if nimps is None and not targets:
        return None
    if nimps is None:
        raise command_error(script, save, "SAVE needs NIMPS: how many imputations to save",
                            hint="Add NIMPS: 20; (the number of completed data sets).")
    if "stacked" not in targets:
        raise command_error(script, nimps, "NIMPS needs SAVE: stacked = file; to say where to write them")
    count = whole_number(script, "NIMPS")
    assert count is not None  # NIMPS is given (checked above)
    return ScriptImputations(count, targets["stacked"], targets.get("average"))
