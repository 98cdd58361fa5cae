"""A self-contained HTML report: one file, figures embedded as PNG data, no scripts, no network.

Sections: data (rows, clusters, missing-data patterns, imputed-data summaries), model (structure,
predictor models, priors, sampler), estimates (fixed effects, variance components, ICC, effect
sizes, derived quantities, predictor models), model checking (information criteria, posterior
predictive checks, residual correlations), diagnostics (convergence checks, burn-in R-hat) and
every figure that applies.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import pandas as pd

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; border-bottom: 2px solid #1f77b4; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; color: #1f4f7f; }
h3 { font-size: 1.05em; margin-bottom: .3em; }
table { border-collapse: collapse; margin: .4em 0 1em; font-size: .88em; }
th, td { padding: .25em .7em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef3f8; }
.note { color: #555; font-size: .9em; }
.warning { color: #a33; }
.ok { color: #2a7a2a; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
code { background: #f4f4f4; padding: 0 .25em; }
"""


def _number(value) -> str:
    if isinstance(value, (bool,)) or value is None:
        return html.escape(str(value))
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return html.escape(str(value))
    if math.isnan(number):
        return "—"
    if number != 0 and (abs(number) >= 1e5 or abs(number) < 1e-3):
        return f"{number:.3e}"
    return f"{number:.3f}"


def _whole(value) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return html.escape(str(value))
    return "—" if math.isnan(number) else f"{number:.0f}"


def table(frame: pd.DataFrame, caption: str | None = None, index: bool = True) -> str:
    if frame is None or not len(frame):
        return ""
    columns = ([frame.index.name or ""] if index else []) + [str(c) for c in frame.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    whole = [str(c).startswith("ess") or str(c) in ("rows", "clusters", "size_min", "size_max", "iterations")
             for c in frame.columns]
    rows = []
    for label, row in frame.iterrows():
        cells = [f"<td>{_whole(v) if is_whole else _number(v)}</td>" for v, is_whole in zip(row, whole)]
        cells = ([f"<td>{html.escape(str(label))}</td>"] if index else []) + cells
        rows.append("<tr>" + "".join(cells) + "</tr>")
    title = f"<h3>{html.escape(caption)}</h3>" if caption else ""
    return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _estimates(frame: pd.DataFrame, caption: str) -> str:
    columns = [c for c in ("median", "mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk", "ess_tail") if c in frame]
    return table(frame[columns], caption)


def _figure(drawn, caption: str) -> str:
    from .plots import save_figure

    buffer = io.BytesIO()
    save_figure(drawn, buffer, format="png", dpi=100)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{encoded}">'
            f"<figcaption class='note'>{html.escape(caption)}</figcaption></figure>")


FIGURE_CAPTIONS = {
    "trace": "Trace plots of the main parameters, one colour per chain.",
    "rank": "Rank plots: uniform, alike histograms across chains mean good mixing.",
    "posterior": "Posterior densities with median and 95% interval.",
    "forest": "Fixed effects: median, 50% and 95% intervals.",
    "caterpillar": "Random effects per grouping factor, sorted, with 95% intervals.",
    "ppc": "Posterior predictive check: observed against replicated outcomes, and p-values of test statistics.",
    "imputations": "Observed values of each incomplete variable against its imputed values.",
    "residuals": "Residuals against fitted values at level 1, and random intercepts against fitted group means.",
    "simple_slopes": "Conditional (simple) effects over the moderator's observed range.",
}


def render(fit) -> str:
    """The whole report as one self-contained HTML page: data, model, estimates, model checking,
    diagnostics and figures, one section function each."""
    spec = fit.spec
    parts = [f"<h1>multilevel report</h1><p><code>{html.escape(spec.formula)}</code> — {html.escape(str(spec.family))}"
             f"</p>"]
    for section in (_data_section, _model_section, _estimates_section, _checking_section, _diagnostics_section,
                    _figures_section):
        parts += section(fit)
    body = "\n".join(part for part in parts if part)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>multilevel report: "
            f"{html.escape(spec.formula)}</title><style>{STYLE}</style></head><body>{body}</body></html>")


def _data_section(fit) -> list[str]:
    from ..results.data_summary import data_summary, missing_rates

    spec = fit.spec
    info = data_summary(spec, fit.data)
    parts = ["<h2>Data</h2>"]
    by_column = ", ".join(f"{k}: {v}" for k, v in info["missing_by_column"].items())
    parts.append(f"<p>Rows used: {info['rows_used']}; rows excluded: {info['rows_excluded']}"
                 + (f" (missing values: {html.escape(by_column)})" if info["rows_excluded"] else "") + "</p>")
    if info["factors"]:
        parts.append(table(pd.DataFrame.from_dict(info["factors"], orient="index").rename_axis("factor"),
                           "Clusters"))
    if spec.submodels or info.get("outcome_missing"):
        patterns = fit.missing_data_patterns()
        variables = [c for c in patterns.columns if c not in ("rows", "percent")]
        shown = patterns.copy()
        for name in variables:
            shown[name] = shown[name].map({True: "M", False: "·"})
        if info["missing_values_handling"]:
            parts.append(f"<p>{html.escape(info['missing_values_handling'].capitalize())}.</p>")
        parts.append(table(shown, "Missing-data patterns (M = missing)"))
        rates = missing_rates(fit.frame.loc[fit.data.row_labels], variables).rename("% missing").to_frame()
        parts.append(table(rates.rename_axis("variable"), "Missing rates"))
        parts.append(table(fit.imputed_data_summaries(min(1000, fit.config.chains * fit.config.draws)),
                           "Imputed data summaries (averaged over completed data sets)"))
    return parts


def _submodel_item(submodel) -> str:
    right = " + ".join(("1",) + submodel.predictor_names)
    if submodel.factor is not None:  # the submodel's random intercept, as the terminal report prints it
        right += f" + (1 | {submodel.factor.name})"
    kind = submodel.kind.label
    level = " — level 2" if submodel.level == 2 else ""
    missing = "" if not submodel.kind.imputes else (
        f" ({submodel.missing_count} missing {'clusters' if submodel.level == 2 else 'values'})")
    return (f"<li>{kind}{level}: <code>{html.escape(submodel.outcome)} ~ {html.escape(right)}</code>"
            f"{missing}</li>")


def _model_section(fit) -> list[str]:
    spec = fit.spec
    parts = ["<h2>Model</h2><ul>"]
    fixed = (["Intercept"] if spec.intercept else []) + list(spec.fixed_names)
    parts.append(f"<li>fixed effects: {html.escape(', '.join(fixed) or 'none')}</li>")
    for block in spec.random:
        parts.append(f"<li>random over {html.escape(block.factor.name)}: {html.escape(', '.join(block.column_names))}"
                     f" ({html.escape(block.parameterization)})</li>")
    parts += [_submodel_item(submodel) for submodel in spec.submodels]
    parts.append("</ul>")
    priors = pd.DataFrame([{"parameter": a.parameter, "prior": str(a.prior), "source": a.source} for a in spec.priors]
                          + [{"parameter": f"{sub.outcome} ~ {name}", "prior": str(prior), "source": "submodel default"}
                             for sub in spec.submodels for name, prior in sub.priors])
    parts.append(table(priors.set_index("parameter"), "Priors"))
    config = fit.config
    parts.append(f"<p class='note'>NUTS, {config.chains} chains × ({config.warmup} warmup + {config.draws} draws), "
                 f"seed {fit.seed}, target acceptance {config.target_accept}. Seconds: "
                 + html.escape(", ".join(f"{k} {v:.1f}" for k, v in fit.timings.items())) + "</p>")
    notes = ([config.auto_note()] if config.auto_note() else []) + list(fit.environment)
    parts += [f"<p class='note'>note: {html.escape(note)}</p>" for note in notes]
    return parts


def _estimates_section(fit) -> list[str]:
    from .text import effect_size_tables

    parts = ["<h2>Estimates</h2>",
             _estimates(fit.fixed_effects(), "Fixed effects"),
             _estimates(fit.summary(["sd", "cor", "residual sd", "family"]),
                        "Variance components (SD and correlation)"),
             _estimates(fit.summary(["var", "cov", "residual var"]), "Variance components (variance and covariance)"),
             _estimates(fit.icc(), "Intraclass correlation")]
    for title, frame in effect_size_tables(fit).items():
        parts.append(_estimates(frame, title))
    if fit.quantities.definitions:
        parts.append(_estimates(fit.derived_quantities(), "Derived quantities"))
    for focal, moderator, values in fit.quantities.conditional:
        parts.append(_estimates(fit.conditional_effects(focal, moderator, values), f"Conditional effect of {focal}"))
    parts.append(_estimates(fit.summary(["predictor model"]), "Predictor models"))
    parts.append(_estimates(fit.summary(["missingness model"]), "Missingness models (probit)"))
    return parts


def _checking_section(fit) -> list[str]:
    from .text import model_fit

    parts = ["<h2>Model checking</h2>"]
    criteria, correlations = model_fit(fit)
    if criteria is not None:
        parts.append(table(criteria, "Information criteria" + (" (conditional on the imputations; marginal rows: "
                                                              "imputed predictors integrated over their models)"
                                                              if fit.spec.submodels else "")))
        for label, key in (("Pareto k", "pareto k"), ("Pareto k (marginal)", "marginal pareto k")):
            k = criteria.attrs.get("notes", {}).get(key)
            if k:
                cls = "warning" if k["above threshold"] else "ok"
                parts.append(f"<p class='{cls}'>{label}: {k['above threshold']} of {k['rows']} above "
                             f"{k['threshold']:.2f} (max {k['max']:.2f}).</p>")
    if correlations is not None and len(correlations):
        parts.append(_estimates(correlations, "Correlations among level-1 residuals"))
    parts.append(table(fit.ppc(), "Posterior predictive checks (p-value = P(T(y_rep) ≥ T(y)))"))
    return parts


def _diagnostics_section(fit) -> list[str]:
    parts = ["<h2>Diagnostics</h2>"]
    if fit.diagnostics:
        parts += [f"<p class='warning'>{html.escape(message)}</p>" for message in fit.diagnostics]
    else:
        parts.append("<p class='ok'>All convergence checks passed (R-hat, bulk and tail ESS, no divergent "
                     "transitions).</p>")
    psr = fit.burn_in_psr()
    if len(psr):
        parts.append(table(psr, "Burn-in potential scale reduction (highest R-hat over expanding windows of the "
                                "warmup)", index=False))
    return parts


def _figures_section(fit) -> list[str]:
    from .plots import figures

    return ["<h2>Figures</h2>"] + [_figure(drawn, FIGURE_CAPTIONS.get(name, name))
                                   for name, drawn in figures(fit).items()]


def write_report(fit, path) -> Path:
    """Write the report to ``path``, whole or not at all (checked first: a missing folder is an error)."""
    from .._files import atomic_write, check_output_file

    path = check_output_file(path, "report")
    text = render(fit)
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path
