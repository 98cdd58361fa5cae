"""Figures of a fit, drawn with matplotlib's object API (no pyplot state, no display needed).

Each function takes a fit and returns a :class:`matplotlib.figure.Figure`; :func:`figures` lists
those that apply to the fit and :func:`save_figures` writes them as PNG and SVG.

Every figure is drawn and saved through :func:`figure` and :func:`save_figure`, with matplotlib's
mathtext off: labels are the user's names as literal text, so a column called ``cost$a$b`` is shown
as written instead of breaking the figure.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .._files import atomic_path, check_output_folder
from ..errors import MultilevelError, SpecificationError

MAIN_CLASSES = ["Intercept", "fixed", "sd", "cor", "residual sd", "family"]
MAX_PANELS = 12
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _main_parameters(fit) -> list:
    wanted = [p for p in fit.parameters if p.parameter_class in MAIN_CLASSES]
    return wanted[:MAX_PANELS]


def _grid(count: int, columns: int = 3, size=(3.4, 2.3)) -> tuple[Figure, list]:
    rows = max(1, int(np.ceil(count / columns)))
    columns = min(columns, max(count, 1))
    figure = Figure(figsize=(size[0] * columns, size[1] * rows), layout="constrained")
    axes = [figure.add_subplot(rows, columns, k + 1) for k in range(count)]
    return figure, axes


def trace(fit) -> Figure:
    """Draws per chain for the main parameters."""
    parameters = _main_parameters(fit)
    figure, axes = _grid(len(parameters))
    for axis, parameter in zip(axes, parameters):
        for chain, values in enumerate(np.asarray(parameter.draws)):
            axis.plot(values, lw=0.5, alpha=0.8, color=COLORS[chain % len(COLORS)])
        axis.set_title(parameter.name, fontsize=9)
        axis.tick_params(labelsize=7)
    figure.suptitle("Trace plots (one colour per chain)", fontsize=11)
    return figure


def rank(fit) -> Figure:
    """Rank histograms per chain: flat and alike when the chains mix (Vehtari et al. 2021)."""
    parameters = _main_parameters(fit)
    figure, axes = _grid(len(parameters))
    for axis, parameter in zip(axes, parameters):
        draws = np.asarray(parameter.draws)
        ranks = np.argsort(np.argsort(draws.reshape(-1))).reshape(draws.shape)
        bins = np.linspace(0, ranks.size, 21)
        for chain in range(draws.shape[0]):
            axis.hist(ranks[chain], bins=bins, histtype="step", color=COLORS[chain % len(COLORS)])
        axis.set_title(parameter.name, fontsize=9)
        axis.set_yticks([])
        axis.tick_params(labelsize=7)
    figure.suptitle("Rank plots (one colour per chain)", fontsize=11)
    return figure


def _density(values: np.ndarray, points: int = 200):
    from scipy.stats import gaussian_kde

    values = np.asarray(values, dtype=float).reshape(-1)
    if np.std(values) == 0:
        return np.array([values[0]]), np.array([1.0])
    grid = np.linspace(*np.quantile(values, [0.001, 0.999]), points)
    return grid, gaussian_kde(values)(grid)


def posterior(fit) -> Figure:
    """Posterior densities of the main parameters, with the median and 95% interval."""
    parameters = _main_parameters(fit)
    figure, axes = _grid(len(parameters))
    for axis, parameter in zip(axes, parameters):
        grid, density = _density(parameter.draws)
        axis.plot(grid, density, color=COLORS[0])
        low, median, high = np.quantile(np.asarray(parameter.draws), [0.025, 0.5, 0.975])
        axis.axvline(median, color="black", lw=0.8)
        axis.axvspan(low, high, color=COLORS[0], alpha=0.12)
        axis.set_title(parameter.name, fontsize=9)
        axis.set_yticks([])
        axis.tick_params(labelsize=7)
    figure.suptitle("Posterior densities (median, 95% interval)", fontsize=11)
    return figure


def forest(fit) -> Figure:
    """Fixed effects: median with 50% and 95% intervals."""
    table = fit.fixed_effects()
    figure = Figure(figsize=(6, 0.45 * len(table) + 1.2), layout="constrained")
    axis = figure.add_subplot()
    positions = np.arange(len(table))[::-1]
    names = list(table.index)
    for position, name in zip(positions, names):
        draws = next(p.draws for p in fit.parameters if p.name == name)
        q = np.quantile(np.asarray(draws), [0.025, 0.25, 0.5, 0.75, 0.975])
        axis.plot([q[0], q[4]], [position, position], color=COLORS[0], lw=1)
        axis.plot([q[1], q[3]], [position, position], color=COLORS[0], lw=3)
        axis.plot(q[2], position, "o", color="black", ms=4)
    axis.axvline(0, color="grey", lw=0.6, ls="--")
    axis.set_yticks(positions, names, fontsize=8)
    axis.set_title("Fixed effects (median, 50% and 95% intervals)", fontsize=10)
    return figure


def caterpillar(fit) -> Figure:
    """Each grouping factor's random intercepts (or first term), sorted, with 95% intervals."""
    blocks = fit.spec.random
    figure, axes = _grid(len(blocks), columns=min(2, len(blocks)), size=(5, 3.2))
    for i, (axis, block) in enumerate(zip(axes, blocks)):
        effects = np.asarray(fit.draws[f"r_{i}"])[..., 0].reshape(-1, len(block.factor.levels))
        q = np.quantile(effects, [0.025, 0.5, 0.975], axis=0)
        order = np.argsort(q[1])
        x = np.arange(order.size)
        axis.vlines(x, q[0][order], q[2][order], color=COLORS[0], lw=0.8)
        axis.plot(x, q[1][order], "o", color="black", ms=2)
        axis.axhline(0, color="grey", lw=0.6, ls="--")
        axis.set_title(f"{block.column_names[0]} | {block.factor.name} ({order.size} groups, sorted)", fontsize=9)
        axis.set_xticks([])
    figure.suptitle("Random effects (median, 95% interval)", fontsize=11)
    return figure


def ppc(fit, draws: int = 100) -> Figure:
    """Observed outcome distribution over replicated ones, and the test statistics' p-values."""
    from ..results.ppc import posterior_predictive_check

    table, replicated = posterior_predictive_check(fit, draws)
    observed = fit.data.y if fit.data.outcome_observed is None else fit.data.y[fit.data.outcome_observed]
    figure = Figure(figsize=(10, 3.6), layout="constrained")
    left, right = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    discrete = np.allclose(observed, np.round(observed)) and np.unique(observed).size <= 30
    if discrete:
        values = np.unique(np.concatenate([observed, replicated.reshape(-1)]))
        shares = np.stack([(replicated == v).mean(axis=1) for v in values], axis=1)
        low, high = np.quantile(shares, [0.025, 0.975], axis=0)
        left.bar(values, [(observed == v).mean() for v in values], color="#cccccc", label="observed")
        left.errorbar(values, shares.mean(axis=0), yerr=[shares.mean(axis=0) - low, high - shares.mean(axis=0)],
                      fmt="o", color=COLORS[0], ms=3, label="replicated (95%)")
    else:
        for row in replicated[:50]:
            grid, density = _density(row)
            left.plot(grid, density, color=COLORS[0], alpha=0.15, lw=0.7)
        grid, density = _density(observed)
        left.plot(grid, density, color="black", lw=1.6, label="observed")
        left.plot([], [], color=COLORS[0], label="replicated")
    left.legend(fontsize=8)
    left.set_title(f"{fit.spec.response.name}: observed and replicated", fontsize=10)
    names = list(table.index)
    right.barh(np.arange(len(names)), table["p-value"], color=COLORS[0])
    right.axvline(0.5, color="grey", lw=0.6, ls="--")
    right.set_xlim(0, 1)
    right.set_yticks(np.arange(len(names)), names, fontsize=8)
    right.set_title("posterior predictive p-values", fontsize=10)
    return figure


def _numeric_imputed_cells(fit) -> dict:
    """The imputed cells of numeric variables (nominal ones hold codes, not values), by variable."""
    from ..results.imputations import imputed_cells

    nominal = {sub.outcome for sub in fit.spec.submodels if sub.family == "nominal"}
    return {name: value for name, value in imputed_cells(fit).items()
            if fit.frame[name].dtype.kind in "fiu" and name not in nominal}


def imputations(fit) -> Figure:
    """Observed values of each incomplete variable against its imputed values (all draws)."""
    cells = _numeric_imputed_cells(fit)
    figure, axes = _grid(len(cells), columns=min(3, len(cells)))
    rows_used = fit.frame.loc[fit.data.row_labels]
    for axis, (name, (_, draws)) in zip(axes, cells.items()):
        seen = rows_used[name].dropna().to_numpy(dtype=float)
        bins = np.histogram_bin_edges(np.concatenate([seen, draws.reshape(-1)]), bins=30)
        axis.hist(seen, bins=bins, density=True, color="#cccccc", label="observed")
        axis.hist(draws.reshape(-1), bins=bins, density=True, histtype="step", color=COLORS[1], lw=1.5,
                  label="imputed")
        axis.set_title(f"{name} ({draws.shape[1]} imputed)", fontsize=9)
        axis.legend(fontsize=7)
        axis.set_yticks([])
    figure.suptitle("Observed and imputed values", fontsize=11)
    return figure


def residuals(fit) -> Figure:
    """Level 1: residual against fitted value (posterior means); level 2: each group's random intercept
    against its fitted mean without it."""
    from ..backend.likelihood import mean_of
    from ..results.predict import fitted_linear_predictor

    eta = fitted_linear_predictor(fit)
    fitted = mean_of(fit.spec.family, eta).mean(axis=0)
    observed = np.ones(fit.data.n, bool) if fit.data.outcome_observed is None else fit.data.outcome_observed
    y = fit.data.y / (fit.data.trials if fit.data.trials is not None else 1.0)
    intercept_blocks = [i for i, block in enumerate(fit.spec.random) if block.columns[0].is_intercept]
    figure = Figure(figsize=(4.2 * (1 + len(intercept_blocks[:2])), 3.4), layout="constrained")
    axis = figure.add_subplot(1, 1 + len(intercept_blocks[:2]), 1)
    axis.scatter(fitted[observed], (y - fitted)[observed], s=6, alpha=0.5, color=COLORS[0])
    axis.axhline(0, color="grey", lw=0.6)
    axis.set_xlabel("fitted", fontsize=8)
    axis.set_ylabel("residual", fontsize=8)
    axis.set_title("level 1", fontsize=10)
    for k, i in enumerate(intercept_blocks[:2]):
        block = fit.spec.random[i]
        effects = np.asarray(fit.draws[f"r_{i}"])[..., 0].reshape(-1, len(block.factor.levels)).mean(axis=0)
        index = np.asarray(fit.data.group_index[i])
        without = fitted - effects[index] if fit.spec.family.link == "identity" else eta.mean(axis=0) - effects[index]
        group_mean = np.bincount(index, weights=without, minlength=effects.size) / np.maximum(
            np.bincount(index, minlength=effects.size), 1)
        panel = figure.add_subplot(1, 1 + len(intercept_blocks[:2]), 2 + k)
        panel.scatter(group_mean, effects, s=10, alpha=0.7, color=COLORS[1])
        panel.axhline(0, color="grey", lw=0.6)
        panel.set_xlabel("fitted group mean (without its effect)", fontsize=8)
        panel.set_ylabel(f"random intercept | {block.factor.name}", fontsize=8)
        panel.set_title(f"level 2: {block.factor.name}", fontsize=10)
    return figure


def simple_slopes(fit) -> Figure:
    """Each conditional effect asked for (SIMPLE / ``conditional_effects``) over the moderator's range."""
    from ..results.derived import conditional_effect_draws

    effects = fit.quantities.conditional
    figure, axes = _grid(len(effects), columns=min(2, len(effects)), size=(4.5, 3.2))
    for axis, (focal, moderator, _) in zip(axes, effects):
        column = np.asarray(fit.frame.loc[fit.data.row_labels, moderator], dtype=float)
        grid = np.linspace(np.nanmin(column), np.nanmax(column), 60)
        draws = conditional_effect_draws(fit, focal, moderator, grid)
        q = np.array([np.quantile(value, [0.025, 0.5, 0.975]) for value in draws.values()])
        axis.fill_between(grid, q[:, 0], q[:, 2], color=COLORS[0], alpha=0.2)
        axis.plot(grid, q[:, 1], color=COLORS[0])
        axis.axhline(0, color="grey", lw=0.6, ls="--")
        axis.set_xlabel(moderator, fontsize=8)
        axis.set_ylabel(f"effect of {focal}", fontsize=8)
        axis.set_title(f"{focal} by {moderator} (95% band)", fontsize=9)
    return figure


KINDS = {"trace": trace, "rank": rank, "posterior": posterior, "forest": forest, "caterpillar": caterpillar,
         "ppc": ppc, "imputations": imputations, "residuals": residuals, "simple_slopes": simple_slopes}


def literal_text():
    """Text in figures is literal: no mathtext (``$...$``), whatever the user's matplotlib settings."""
    return matplotlib.rc_context({"text.parse_math": False, "text.usetex": False})


def _not_applicable(fit, kind: str) -> str | None:
    """Why figure ``kind`` does not apply to this fit, or None when it does."""
    if kind == "caterpillar" and not fit.spec.random:
        return "this fit has no random effects"
    if kind == "forest" and not len(fit.fixed_effects()):
        return "this fit has no fixed effects"
    if kind == "imputations":
        from ..results.imputations import imputed_cells

        if not imputed_cells(fit):
            return "this fit has no imputed values (no variable with missing values was modelled)"
        if not _numeric_imputed_cells(fit):
            return "this fit has no imputed numeric values (only categories, see fit.imputations())"
    if kind == "simple_slopes" and not fit.quantities.conditional:
        return ("this fit has no conditional effects yet: add one with "
                "fit.with_quantities(conditional=[(focal, moderator)])")
    return None


def applicable_kinds(fit) -> list[str]:
    return [kind for kind in KINDS if _not_applicable(fit, kind) is None]


def _check_kind(kind) -> None:
    if not isinstance(kind, str) or kind not in KINDS:
        from ..model.checks import suggest

        close = suggest(kind, KINDS) if isinstance(kind, str) else ""
        raise SpecificationError(f"no plot {kind!r}.{close} Plots: {', '.join(KINDS)}")


def figure(fit, kind: str) -> Figure:
    """The figure ``kind`` of this fit; a :class:`MultilevelError` saying which kinds apply when it does not."""
    _check_kind(kind)
    reason = _not_applicable(fit, kind)
    if reason is not None:
        raise MultilevelError(f"no '{kind}' plot: {reason}. Plots for this fit: {', '.join(applicable_kinds(fit))}")
    with literal_text():
        return KINDS[kind](fit)


def figures(fit) -> dict[str, Figure]:
    """Every figure that applies to this fit, by name."""
    return {kind: figure(fit, kind) for kind in applicable_kinds(fit)}


def save_figure(drawn: Figure, target, **options) -> None:
    """``drawn.savefig(target, ...)`` with literal text; a path is written whole or not at all."""
    with literal_text():
        if isinstance(target, (str, Path)):
            with atomic_path(target) as temporary:
                drawn.savefig(temporary, **options)
        else:
            drawn.savefig(target, **options)


def _checked_formats(formats) -> list[str]:
    if isinstance(formats, str):
        formats = [formats]
    supported = Figure().canvas.get_supported_filetypes()
    try:
        chosen = [str(extension).lower().lstrip(".") for extension in formats]
    except TypeError:
        raise SpecificationError(f"formats must be a list of file types such as ('png', 'svg'), "
                                 f"got {formats!r}") from None
    unknown = [extension for extension in chosen if extension not in supported]
    if unknown or not chosen:
        raise SpecificationError(f"no figure format {', '.join(map(repr, unknown)) or 'given'}; formats: "
                                 f"{', '.join(sorted(supported))}")
    return list(dict.fromkeys(chosen))


def save_figures(fit, directory, formats=("png", "svg")) -> list[Path]:
    formats = _checked_formats(formats)
    directory = check_output_folder(directory, "plots folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MultilevelError(f"plots folder '{directory}' cannot be made: {error.strerror or error}") from None
    written = []
    for name, drawn in figures(fit).items():
        for extension in formats:
            path = directory / f"{name}.{extension}"
            save_figure(drawn, path, format=extension, dpi=110)
            written.append(path)
    return written
