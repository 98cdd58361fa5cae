"""The readable report printed by the CLI (and ``Fit.report_text()``), with rich tables."""

from __future__ import annotations

import math

import numpy as np
from rich.console import Console
from rich.table import Table

from ..errors import spell
from ..results.data_summary import data_summary
from ..results.diagnostics import ESS_LIMIT, RHAT_LIMIT
from .tables import number as _number, print_estimates, print_frame

__all__ = ["effect_size_tables", "model_fit", "print_frame", "print_report", "summary_json"]


def _patterns_table(fit) -> Table:
    """Blimp's layout: a column per pattern, M where a variable is missing, the rate per variable."""
    from ..results.data_summary import missing_rates

    patterns = fit.missing_data_patterns()
    variables = [name for name in patterns.columns if name not in ("rows", "percent")]
    rates = missing_rates(fit.frame.loc[fit.data.row_labels], variables)
    table = Table(title="missing-data patterns (M = missing)", title_justify="left")
    table.add_column("variable", style="cyan", no_wrap=True)  # labels stay whole; pattern columns give way
    table.add_column("% missing", justify="right")
    for number in patterns.index:
        table.add_column(str(number), justify="center")
    for name in rates.index:
        table.add_row(name, f"{rates[name]:.1f}", *["M" if patterns.loc[k, name] else "-" for k in patterns.index])
    table.add_row("% of rows", "", *[f"{patterns.loc[k, 'percent']:.1f}" for k in patterns.index])
    return table


def _imputed_summaries_table(fit) -> Table:
    summaries = fit.imputed_data_summaries(min(1000, fit.config.chains * fit.config.draws))
    table = Table(title="imputed data summaries (averaged over completed data sets)", title_justify="left")
    table.add_column("variable", style="cyan", no_wrap=True)
    for column in summaries.columns:
        table.add_column(column, justify="right")
    for name, row in summaries.iterrows():
        table.add_row(str(name), *[_number(value) for value in row])
    return table


def print_report(fit, console: Console | None = None) -> None:
    """The report the command line prints: data, model, priors, sampling, estimates, model fit, diagnostics."""
    console = console or Console()
    spec = fit.spec
    console.rule("[bold]multilevel: Bayesian multilevel regression")
    console.print(f"[bold]Model[/bold]   {spec.formula}")
    console.print(f"[bold]Family[/bold]  {spec.family}")
    _print_data(fit, console)
    _print_structure(fit, console)
    _print_priors(fit, console)
    _print_sampling(fit, console)
    _print_estimates(fit, console)
    _print_diagnostics(fit, console)


def _print_data(fit, console: Console) -> None:
    spec = fit.spec
    info = data_summary(spec, fit.data)
    console.print("\n[bold]Data[/bold]")
    console.print(f"  rows used: {info['rows_used']}")
    if info["rows_excluded"]:
        reasons = ", ".join(f"{name}: {count}" for name, count in info["missing_by_column"].items())
        console.print(f"  [yellow]rows excluded: {info['rows_excluded']} (missing values; per column: {reasons})"
                      "[/yellow]")
    if fit.spec.submodels or info.get("outcome_missing"):
        parts = [f"{submodel.outcome}: {submodel.missing_count}{' clusters' if submodel.level == 2 else ''}"
                 for submodel in fit.spec.submodels if submodel.missing_count]
        if info.get("outcome_missing"):
            parts.append(f"{info['outcome']['name']}: {info['outcome_missing']} (outcome)")
        console.print(f"  missing values imputed within the model: {', '.join(parts)}")
        if info["missing_values_handling"]:
            console.print(f"  {info['missing_values_handling']}")
        console.print(_patterns_table(fit))
        console.print(_imputed_summaries_table(fit))
    outcome = info["outcome"]
    console.print(f"  outcome {outcome['name']}: mean {_number(outcome['mean'])}, sd {_number(outcome['sd'])}, "
                  f"range {_number(outcome['min'])} to {_number(outcome['max'])}")
    if info["factors"]:
        table = Table(title="clusters", title_justify="left")
        for column in ("factor", "clusters", "size min", "size median", "size max"):
            table.add_column(column, justify="right" if column != "factor" else "left", no_wrap=column == "factor")
        for name, row in info["factors"].items():
            table.add_row(name, str(row["clusters"]), str(row["size_min"]), f"{row['size_median']:g}",
                          str(row["size_max"]))
        console.print(table)



def _print_structure(fit, console: Console) -> None:
    spec = fit.spec
    console.print("\n[bold]Model structure[/bold]")
    fixed = (["Intercept"] if spec.intercept else []) + list(spec.fixed_names)
    console.print(f"  fixed effects: {', '.join(fixed) or 'none'}")
    if spec.submodels:
        modelled = [sub.outcome for sub in spec.submodels if sub.kind.imputes]
        incomplete = [sub.outcome for sub in spec.submodels if sub.kind.imputes and sub.missing_count]
        used = sorted({name for column in spec.fixed for name in column.expression.variables()
                       if not name.endswith(".mean") and not name.startswith("group ")})
        complete = [name for name in used if name not in modelled]
        console.print(f"  predictors: incomplete (imputed from their models): {', '.join(incomplete) or 'none'}; "
                      f"complete (conditioned on, no model): {', '.join(complete) or 'none'}"
                      + (f"; modelled complete variables: {', '.join(sorted(set(modelled) - set(incomplete)))}"
                         if set(modelled) - set(incomplete) else ""))
    for block in spec.random:
        kind = "correlated" if block.has_correlations else ("uncorrelated" if block.size > 1 else "")
        how = ("integrated out of the likelihood (exact), group effects drawn afterwards"
               if block.parameterization == "marginalized" else f"{block.parameterization} parameterization")
        console.print(f"  random over {block.factor.name}: {', '.join(block.column_names)}"
                      f"{' (' + kind + ')' if kind else ''}; {how}")
    for submodel in spec.submodels:
        right = " + ".join(("1",) + submodel.predictor_names)
        random = f" + (1 | {submodel.factor.name})" if submodel.factor is not None else ""
        level_two = f"; level 2, one value per {spec.random[0].factor.name}" if submodel.level == 2 else ""
        unit = "clusters" if submodel.level == 2 else "values"
        kind = submodel.kind
        if not kind.imputes:
            console.print(f"  {kind.label}: {submodel.outcome} ~ {right}{random}")
        elif kind.discrete:
            console.print(f"  {kind.role} ({kind.method}, {kind.details(submodel)}{level_two}): {submodel.outcome} ~ "
                          f"{right}{random} ({submodel.missing_count} missing {unit}, summed out of the likelihood)")
        elif submodel.level == 2:
            console.print(f"  predictor model (level 2, one value per {spec.random[0].factor.name}): "
                          f"{submodel.outcome} ~ {right} ({submodel.missing_count} clusters with missing values)")
        else:
            uses = [f"{submodel.missing_count} missing values"] if submodel.missing_count else []
            if submodel.latent_mean:
                uses.append(f"its random intercept gives latent_mean({submodel.outcome})")
            console.print(f"  predictor model: {submodel.outcome} ~ {right}{random} ({'; '.join(uses)})")
    for variable, how in spec.centering:
        where = ("at the grand mean" if how == "grand" else
                 f"at its latent group mean (over {spec.random[0].factor.name})" if how == "latent" else
                 f"within {how.split(':', 1)[1]} (group mean)")
        console.print(f"  {variable} centred {where}")



def _print_priors(fit, console: Console) -> None:
    spec = fit.spec
    table = Table(title="priors", title_justify="left", title_style="bold")
    table.add_column("parameter", style="cyan", no_wrap=True)  # the prior and its source wrap instead
    table.add_column("prior")
    table.add_column("source")
    for assignment in spec.priors:
        table.add_row(assignment.parameter, str(assignment.prior), assignment.source)
    for submodel in spec.submodels:
        for name, prior in submodel.priors:
            table.add_row(f"{submodel.outcome} ~ {name}", str(prior), "submodel default")
    console.print(table)
    console.print("  [dim]Intercept prior applies with predictors centred at their means (as in brms).[/dim]")



def _print_sampling(fit, console: Console) -> None:
    config = fit.config
    timings = fit.timings
    console.print(f"\n[bold]Sampling[/bold]  NUTS, {config.chains} chains x ({config.warmup} warmup + "
                  f"{config.draws} draws{f', thin {config.thin}' if config.thin > 1 else ''}), seed {fit.seed}, "
                  f"target acceptance {config.target_accept}")
    if timings:
        console.print("  seconds: " + ", ".join(f"{name} {value:.1f}" for name, value in timings.items()))
    if config.auto_note():
        console.print(f"  note: {config.auto_note()}")
    for note in fit.environment:
        console.print(f"  [yellow]note: {note}[/yellow]")



def _print_estimates(fit, console: Console) -> None:
    console.print()
    print_estimates(console, "Fixed effects", fit.fixed_effects())
    sd_rows = fit.summary(["sd", "cor", "residual sd", "family"])
    if len(sd_rows):
        print_estimates(console, "Variance components (SD and correlation)", sd_rows)
    var_rows = fit.summary(["var", "cov", "residual var"])
    if len(var_rows):
        print_estimates(console, "Variance components (variance and covariance)", var_rows)
    icc = fit.icc()
    if len(icc):
        print_estimates(console, "Intraclass correlation", icc)

    for title, table in effect_size_tables(fit).items():
        print_estimates(console, title, table)
    _print_model_fit(fit, console)
    if fit.quantities.definitions:
        print_estimates(console, "Derived quantities (PARAMETERS)", fit.derived_quantities())
        for name, text in fit.quantities.definitions:
            console.print(f"  [dim]{name} = {text}[/dim]")
        if fit.quantities.labels:
            console.print("  [dim]labels: " + ", ".join(f"{label} = {name}" for label, name in fit.quantities.labels)
                          + "[/dim]")
    for focal, moderator, values in fit.quantities.conditional:
        print_estimates(console, f"Conditional effect of {focal} (SIMPLE)",
                        fit.conditional_effects(focal, moderator, values))

    predictor_rows = fit.summary(["predictor model"])
    if len(predictor_rows):
        print_estimates(console, "Predictor models (incomplete predictors)", predictor_rows)
    selection_rows = fit.summary(["missingness model"])
    if len(selection_rows):
        print_estimates(console, "Missingness models (probit)", selection_rows)


def _print_diagnostics(fit, console: Console) -> None:
    console.print("\n[bold]Diagnostics[/bold]")
    psr = fit.burn_in_psr()
    if len(psr):
        table = Table(title="burn-in potential scale reduction (R-hat over expanding windows of the warmup)",
                      title_justify="left")
        for column in ("warmup iterations", "highest R-hat", "parameter"):
            table.add_column(column, justify="right" if column != "parameter" else "left",
                             no_wrap=column == "parameter")
        for row in psr.itertuples():
            rhat = f"{row[3]:.3f}"
            table.add_row(f"{row[1]} to {row[2]}", f"[red]{rhat}[/red]" if row[3] > 1.05 else rhat, row[4])
        console.print(table)
    main = fit.summary(["Intercept", "fixed", "sd", "cor", "residual sd", "family", "predictor model",
                        "missingness model"])
    divergent = int(np.sum(fit.raw.stats["diverging"]))
    console.print(f"  max R-hat {_number(float(main['rhat'].max()))}, min bulk ESS {main['ess_bulk'].min():.0f}, "
                  f"min tail ESS {main['ess_tail'].min():.0f}, divergent transitions {divergent}")
    if fit.diagnostics:
        for message in fit.diagnostics:
            console.print(f"  [bold red]warning:[/bold red] {message}")
    else:
        console.print(f"  [green]all checks passed (R-hat <= {RHAT_LIMIT}, bulk and tail ESS >= {ESS_LIMIT}, "
                      f"no divergent transitions)[/green]")


def model_fit(fit):
    """Information criteria and residual correlations, or (None, None) where the log-likelihood would be
    too large to hold (the report then says how to compute them)."""
    from ..results.criteria import enough_draws
    from ..results.log_likelihood import log_likelihood_too_large

    chains, samples = fit.raw.stats["diverging"].shape
    if log_likelihood_too_large(chains, samples, fit.data.n) or not enough_draws(chains, samples):
        return None, None
    from ..results.marginal import marginal_available

    criteria = fit.information_criteria()
    if fit.spec.submodels and marginal_available(fit) is None:
        import pandas as pd

        marginal = fit.information_criteria("marginal")
        notes = dict(criteria.attrs.get("notes", {}))
        notes.update({f"marginal {key}": value for key, value in marginal.attrs.get("notes", {}).items()})
        criteria = pd.concat([criteria.rename(index=lambda name: f"{name} (conditional)"),
                              marginal.drop(index="DIC").rename(index=lambda name: f"{name} (marginal)")])
        criteria.index.name = "criterion"
        criteria.attrs["notes"] = notes
    correlations = fit.residual_correlations() if fit.spec.submodels else None
    return criteria, correlations


def _print_model_fit(fit, console: Console) -> None:
    from ..results.criteria import MIN_DRAWS, enough_draws

    criteria, correlations = model_fit(fit)
    if criteria is None:
        if not enough_draws(*fit.raw.stats["diverging"].shape):
            console.print(f"\n  [dim]information criteria: fewer than {MIN_DRAWS} draws in all, too few for "
                          f"PSIS-LOO[/dim]")
        else:
            how = spell("call fit.information_criteria()",
                        "save the fit (--save) and call fit.information_criteria() on ml.load(...) in Python")
            console.print(f"\n  [dim]information criteria: the data are too large for the report; {how}[/dim]")
        return
    both = any(str(name).endswith("(marginal)") for name in criteria.index)
    conditional = (" (conditional on the imputations, and marginal over them)" if both else
                   " (conditional on the imputations)" if fit.spec.submodels else "")
    table = Table(title=f"Information criteria{conditional}: observed outcomes of the focal model",
                  title_justify="left", title_style="bold")
    for column in ("criterion", "elpd", "se", "p", "deviance scale"):
        table.add_column(column, justify="right" if column != "criterion" else "left", no_wrap=column == "criterion")
    for name, row in criteria.iterrows():
        table.add_row(name, _number(row["elpd"]), _number(row["se"]), _number(row["p"]), _number(row["deviance"]))
    console.print(table)
    notes = criteria.attrs.get("notes", {})
    for label, key in (("LOO", "pareto k"), ("LOO (marginal)", "marginal pareto k")):
        k = notes.get(key)
        if k and k["above threshold"]:
            console.print(f"  [yellow]{label}: {k['above threshold']} of {k['rows']} Pareto k values above "
                          f"{k['threshold']:.2f} (max {k['max']:.2f}); the LOO estimate is unreliable for those rows"
                          + (" (their imputed predictors are parameters that each row informs)"
                             if key == "pareto k" and conditional else "")
                          + "[/yellow]")
    if any(name.endswith("(marginal)") for name in criteria.index):
        console.print("  [dim]conditional: each outcome given the draw's imputed predictors; marginal: given its "
                      "observed predictors only, the imputed ones integrated over their models[/dim]")
    if notes.get("waic"):
        console.print(f"  [yellow]WAIC: {notes['waic']} rows with a posterior variance of the log-likelihood "
                      f"above 0.4; prefer LOO[/yellow]")
    if correlations is not None and len(correlations):
        print_estimates(console, "Correlations among level-1 residuals (completed data)", correlations)


def effect_size_tables(fit) -> dict:
    """Standardized coefficients and the variance decomposition, where the family defines them."""
    from ..errors import SpecificationError

    try:
        tables = {"Standardized coefficients": fit.standardized_coefficients(),
                  "Proportion of variance explained (Rights & Sterba)": fit.variance_explained()}
        if fit.spec.random and fit.spec.fixed:
            tables["Standardized coefficients within and between clusters"] = fit.standardized_coefficients(
                by_level=True)
            tables["Variance explained within and between clusters; ICCs"] = fit.variance_explained(by_level=True)
    except SpecificationError:
        return {}
    return {title: table for title, table in tables.items() if len(table)}


def _records(frame) -> list[dict]:
    records = []
    for row in frame.reset_index().to_dict(orient="records"):
        records.append({key: (None if isinstance(value, float) and not math.isfinite(value) else value)
                        for key, value in row.items()})
    return records


def summary_json(fit) -> dict:
    """The report as plain data (written by ``--json``)."""
    effect_sizes = effect_size_tables(fit)
    criteria, correlations = model_fit(fit)
    return {
        "formula": fit.spec.formula,
        "family": str(fit.spec.family),
        "data": data_summary(fit.spec, fit.data),
        "priors": [{"parameter": a.parameter, "prior": str(a.prior), "source": a.source} for a in fit.spec.priors],
        "sampler": {"chains": fit.config.chains, "warmup": fit.config.warmup, "draws": fit.config.draws,
                    "thin": fit.config.thin, "seed": fit.seed, "target_accept": fit.config.target_accept},
        "parameterization": {block.factor.name: block.parameterization for block in fit.spec.random},
        "summary": _records(fit.summary_frame),
        "derived": _records(fit.derived_quantities()) if fit.quantities.definitions else [],
        "conditional_effects": [{"focal": focal, "moderator": moderator,
                                 "effects": _records(fit.conditional_effects(focal, moderator, values))}
                                for focal, moderator, values in fit.quantities.conditional],
        "missing_data_patterns": _records(fit.missing_data_patterns()) if fit.spec.submodels else [],
        "information_criteria": _records(criteria) if criteria is not None else [],
        "residual_correlations": _records(correlations) if correlations is not None else [],
        "standardized": _records(effect_sizes.get("Standardized coefficients", fit.summary([]).iloc[:0])),
        "variance_explained": _records(effect_sizes.get("Proportion of variance explained (Rights & Sterba)",
                                                        fit.summary([]).iloc[:0])),
        "diagnostics": fit.diagnostics,
        "environment": list(fit.environment),
        "timings": dict(fit.timings),
    }
