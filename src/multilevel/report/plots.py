"""Figures of a fit: each function takes a fit and returns a :class:`matplotlib.figure.Figure` (no display
needed); :func:`figures` lists those that apply to the fit and :func:`save_figures` writes them as PNG and SVG.

The generic figures (trace, rank, posterior, forest, PPC) are arviz-plots' own, drawn from ``fit.tree``,
whose variables are named as in ``summary()``; the figures of this package's analyses (caterpillar,
imputations, residuals, simple slopes) are drawn here with matplotlib's object API.

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
from ..results.naming import block_names, tree_name

MAIN_CLASSES = ["Intercept", "fixed", "sd", "cor", "residual sd", "family"]
MAX_PANELS = 12
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _main_parameters(fit) -> list:
    wanted = [p for p in fit.parameters if p.parameter_class in MAIN_CLASSES]
    return wanted[:MAX_PANELS]


def _main_variables(fit) -> list[str]:
    """The tree's variables of the main parameters (named as in ``summary()``)."""
    return [tree_name(parameter.name) for parameter in _main_parameters(fit)]


def _grid(count: int, columns: int = 3, size=(3.4, 2.3)) -> tuple[Figure, list]:
    rows = max(1, int(np.ceil(count / columns)))
    columns = min(columns, max(count, 1))
    figure = Figure(figsize=(size[0] * columns, size[1] * rows), layout="constrained")
    axes = [figure.add_subplot(rows, columns, k + 1) for k in range(count)]
    return figure, axes


def _arviz_figure(collection, title: str) -> Figure:
    """The matplotlib Figure an arviz-plots PlotCollection drew, with ``title``, released from pyplot's list
    of open figures (arviz-plots makes it with pyplot; the figure is ours to return, not to show)."""
    import matplotlib.pyplot as pyplot

    drawn = collection.get_viz("figure")
    pyplot.close(drawn)
    drawn.suptitle(title, fontsize=11)
    return drawn


def trace(fit) -> Figure:
    """Draws per chain and their densities for the main parameters (arviz-plots ``plot_trace_dist``)."""
    from arviz_plots import plot_trace_dist

    drawn = plot_trace_dist(fit.tree, var_names=_main_variables(fit), compact=True, backend="matplotlib")
    return _arviz_figure(drawn, "Trace plots (one line style per chain)")


def rank(fit) -> Figure:
    """Rank plots per chain (arviz-plots ``plot_rank``: the ECDF of the fractional ranks, minus the uniform's,
    inside the band when the chains mix; Vehtari et al. 2021, Säilynoja et al. 2022)."""
    from arviz_plots import plot_rank

    drawn = plot_rank(fit.tree, var_names=_main_variables(fit), backend="matplotlib")
    return _arviz_figure(drawn, "Rank plots (one colour per chain; inside the band when the chains mix)")


def posterior(fit) -> Figure:
    """Posterior densities of the main parameters, with the median and 95% interval (arviz-plots ``plot_dist``)."""
    from arviz_plots import plot_dist

    drawn = plot_dist(fit.tree, var_names=_main_variables(fit), point_estimate="median", ci_kind="eti",
                      ci_prob=0.95, backend="matplotlib")
    return _arviz_figure(drawn, "Posterior densities (median, 95% interval)")


def forest(fit) -> Figure:
    """Fixed effects: median with 50% and 95% intervals (arviz-plots ``plot_forest``, chains combined)."""
    from arviz_plots import plot_forest

    names = [tree_name(name) for name in fit.fixed_effects().index]
    drawn = plot_forest(fit.tree, var_names=names, combined=True, point_estimate="median", ci_kind="eti",
                        ci_probs=(0.5, 0.95), backend="matplotlib")
    figure = _arviz_figure(drawn, "Fixed effects (median, 50% and 95% intervals)")
    figure.axes[-1].axvline(0, color="grey", lw=0.6, ls="--")
    return figure


def caterpillar(fit) -> Figure:
    """Each grouping factor's random intercepts (or first term), sorted, with 95% intervals."""
    blocks = fit.spec.random
    figure, axes = _grid(len(blocks), columns=min(2, len(blocks)), size=(5, 3.2))
    for axis, block, names in zip(axes, blocks, block_names(fit.spec)):
        effects = np.asarray(fit.draws[names.site])[..., 0].reshape(-1, len(block.factor.levels))
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
    """Observed outcome distribution over ``draws`` replicated ones (arviz-plots ``plot_ppc_dist``), and the
    posterior predictive p-values of the test statistics."""
    from arviz_plots import plot_ppc_dist

    from ..results.ppc import posterior_predictive_check
    from ..results.to_arviz import build_tree, predictive_dataset

    table, replicated = posterior_predictive_check(fit, draws)
    tree = build_tree(fit.spec, fit.data, fit.draws, fit.raw.stats, None, {}, extra={
        "posterior_predictive": predictive_dataset(fit.spec, fit.data, replicated[None])})
    import xarray as xr

    outcome = tree["observed_data"][tree_name(fit.spec.response.name)]
    assert isinstance(outcome, xr.DataArray)  # a variable of the group, not a subgroup
    observed = outcome.values
    discrete = np.allclose(observed, np.round(observed)) and np.unique(observed).size <= 30
    drawn = plot_ppc_dist(tree, kind="hist" if discrete else "kde", num_samples=min(50, replicated.shape[0]),
                          backend="matplotlib", figure_kwargs={"figsize": (10, 3.6)})
    figure = _arviz_figure(drawn, f"{fit.spec.response.name}: observed and replicated")
    figure.set_layout_engine(None)
    figure.axes[0].set_position((0.06, 0.14, 0.5, 0.72))
    right = figure.add_axes((0.72, 0.14, 0.26, 0.72))
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

    coded = {sub.outcome for sub in fit.spec.submodels if sub.kind.per_category}
    return {name: value for name, value in imputed_cells(fit).items()
            if fit.frame[name].dtype.kind in "fiu" and name not in coded}


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
        intercepts = np.asarray(fit.draws[block_names(fit.spec)[i].site])[..., 0]
        effects = intercepts.reshape(-1, len(block.factor.levels)).mean(axis=0)
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
