"""Convergence checks with advice: R-hat, bulk and tail ESS, divergent transitions, tree depth."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import spell

RHAT_LIMIT = 1.01
ESS_LIMIT = 400


class ConvergenceWarning(UserWarning):
    """The sampler's output does not meet the standard for trustworthy estimates."""


def _listing(frame: pd.DataFrame, column: str, limit: int = 5) -> str:
    items = [f"{name} ({value:.3g})" for name, value in frame[column].items()]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _longer(warmup: int, draws: int) -> str:
    warmup, draws = max(2 * warmup, 1000), max(2 * draws, 1000)
    return spell(f"warmup={warmup}, draws={draws}", f"--warmup {warmup} --draws {draws}")


def _reparameterize() -> str:
    return spell("parameterization={'factor': 'centered' or 'noncentered'}",
                 "--parameterization centered or noncentered")


def check(summary: pd.DataFrame, stats: dict, draws_per_chain: int, warmup: int, max_tree_depth: int,
          random_effect_rhat: float | None = None) -> list[str]:
    """Messages for every failed check (empty when all pass)."""
    messages = []
    rhat = summary[summary["rhat"] > RHAT_LIMIT]
    if len(rhat):
        messages.append(
            f"R-hat above {RHAT_LIMIT} for {_listing(rhat.sort_values('rhat', ascending=False), 'rhat')}: the chains "
            f"do not agree yet. Run longer (e.g. {_longer(warmup, draws_per_chain)}); if it "
            f"persists, use stronger priors for those parameters or switch the parameterization of their grouping "
            f"factor ({_reparameterize()}).")
    if random_effect_rhat is not None and random_effect_rhat > RHAT_LIMIT and not len(rhat):
        messages.append(f"R-hat of some group-level effects reaches {random_effect_rhat:.3g}: run longer before "
                        f"interpreting individual groups.")
    for column, label in (("ess_bulk", "bulk"), ("ess_tail", "tail")):
        low = summary[summary[column] < ESS_LIMIT]
        if len(low):
            smallest = float(low[column].min())
            needed = int(np.ceil(draws_per_chain * ESS_LIMIT / max(smallest, 1.0) / 100.0) * 100)
            messages.append(
                f"{label} ESS below {ESS_LIMIT} for {_listing(low.sort_values(column), column)}: "
                f"{'means and SDs' if label == 'bulk' else 'the 2.5% and 97.5% quantiles'} of these are imprecise. "
                f"Run more draws (about {spell(f'draws={needed}', f'--draws {needed}')} per chain).")
    divergent = int(np.sum(stats["diverging"]))
    if divergent:
        total = stats["diverging"].size
        messages.append(
            f"{divergent} of {total} draws after warmup ended in a divergent transition: the sampler could not "
            f"follow the posterior's curvature and estimates may be biased. "
            f"Raise {spell('target_accept', '--target-accept')} (e.g. 0.95); if "
            f"divergences remain, change the parameterization of the grouping factors with few observations per "
            f"group or give their SDs more informative priors.")
    saturated = int(np.sum(stats["tree_depth"] >= max_tree_depth))
    if saturated:
        messages.append(f"{saturated} draws hit the maximum tree depth ({max_tree_depth}): sampling is inefficient; "
                        f"{spell('raise max_tree_depth or reparameterize', 'reparameterize (--parameterization)')}.")
    return messages


def warn(messages: list[str]) -> None:
    for message in messages:
        warnings.warn(message, ConvergenceWarning, stacklevel=3)


CHECKED_CLASSES = ["Intercept", "fixed", "sd", "cor", "residual sd", "family", "predictor model", "missingness model"]


def convergence_messages(spec, summary: pd.DataFrame, draws, stats: dict, config) -> list[str]:
    """The convergence checks of a fit: R-hat, ESS, divergences, tree depth (on the main parameters) and
    the worst R-hat of the group-level effects."""
    rhat_random = None
    if spec.random:
        from arviz_stats.base import array_stats

        worst = []
        for i in range(len(spec.random)):
            effects = draws[f"r_{i}"]
            stacked = np.moveaxis(effects, (0, 1), (-2, -1)).reshape(-1, *effects.shape[:2])
            worst.append(float(np.nanmax(array_stats.rhat(stacked, chain_axis=-2, draw_axis=-1)))
                         if config.chains > 1 else np.nan)
        rhat_random = float(np.nanmax(worst)) if np.isfinite(worst).any() else None
    main = summary[summary["class"].isin(CHECKED_CLASSES)]
    return check(main, stats, config.draws, config.warmup, config.max_tree_depth, rhat_random)
