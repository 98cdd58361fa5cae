"""The ``multilevel`` command line: ``fit``, ``demo``, ``compare`` and ``datasets`` (their options are in
:mod:`multilevel.cli_arguments`), behind one error boundary, :func:`main`."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from .cli_arguments import SAMPLER_DEFAULTS, build_parser
from .errors import ModelNote, MultilevelError, command_line

if TYPE_CHECKING:
    from .syntax.ast import Formula


def read_data(path: str, missing_code: str | None = None):
    from .data_files import read_data_file

    return read_data_file(path, missing_code, where="--missing-code: ")


def _pairs(items: list[str] | None, option: str) -> dict[str, str]:
    result = {}
    for item in items or []:
        if "=" not in item:
            raise MultilevelError(f"{option} '{item}': write NAME=VALUE")
        key, value = item.split("=", 1)
        result[key.strip()] = value.strip()
    return result


def _with_style(priors: dict | None, args):
    if args.prior_defaults == "default":
        return priors
    return {"defaults": args.prior_defaults, **(priors or {})}


def _sampler_options(args, script_settings: dict | None = None) -> dict:
    chosen = dict(SAMPLER_DEFAULTS)
    chosen.update(script_settings or {})
    for name in SAMPLER_DEFAULTS:
        value = getattr(args, name)
        if value is not None:
            chosen[name] = value
    return chosen


def _console():
    """A rich console as wide as the terminal (rich reads it from any of stdin, stdout and stderr, so also
    when the output is redirected); without a terminal, the COLUMNS variable or 80."""
    from rich.console import Console

    return Console()


def _run_fit(args, formula: str | Formula, data, options: dict, translated=None) -> int:
    """Check the model, sample, print the report, write the outputs asked for. ``translated``: the Blimp
    script the model came from (its sampler settings, notes, quantities and imputation files)."""
    from .report.text import print_report

    console = _console()
    if getattr(args, "sample_missing", False):
        options = {**options, "integrate": False}
    model = _checked_model(formula, data, options, console)
    fit = _sampled(model, args, translated)
    print_report(fit, console)
    _print_checks(fit, args, console)
    _writing["outputs"] = True
    _write_outputs(fit, args, console, translated)
    return 0


def _checked_model(formula: str | Formula, data, options: dict, console):
    """The model, its notes printed before sampling, so that a long fit can be stopped at once."""
    from . import api

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = api.Model(formula, data, **options)
    for warning in caught:
        if issubclass(warning.category, (api.ExcludedRowsWarning, ModelNote)):
            console.print(f"note: {warning.message}", markup=False, style="yellow")
    return model


def _sampled(model, args, translated=None):
    """The fit, with a Blimp script's notes and quantities (its settings overridden by options are said)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # diagnostics and environment notes are in the report
        sampler = _sampler_options(args, translated.sampler if translated is not None else None)
        fit = model.fit(**sampler, progress=not args.no_progress and None, warn=False)
    if translated is None:
        return fit
    from .blimp import apply_quantities

    overridden = {name: getattr(args, name) for name in SAMPLER_DEFAULTS if getattr(args, name, None) is not None}
    return apply_quantities(fit.with_notes(*translated.notes_with(overridden)), translated)


def _write_outputs(fit, args, console, translated=None) -> None:
    """Every output asked for, each named in ``args.written`` once it is whole (Ctrl-C then says which)."""
    from .report.text import summary_json

    def written(path, message: str) -> None:
        args.written.append(str(path))
        console.print(message)

    if args.json:
        from ._files import atomic_write

        with atomic_write(args.json, encoding="utf-8") as handle:
            handle.write(json.dumps(summary_json(fit), indent=2, default=float))
        written(args.json, f"summary written to {args.json}")
    if args.save:
        fit.save(args.save, include_data=not args.save_without_data)
        written(args.save, f"fit saved to {args.save}")
    if args.imputations:
        fit.save_imputations(args.imputations, args.nimps)
        written(args.imputations, f"{args.nimps} imputations saved to {args.imputations}")
    if args.plots:
        files = fit.save_plots(args.plots)
        written(args.plots, f"{len(files)} figure files written to {args.plots}")
    if args.report:
        fit.report(args.report)
        written(args.report, f"HTML report written to {args.report}")
    if translated is not None:
        from .blimp import save_script_imputations

        for path in save_script_imputations(fit, translated, Path(args.script).parent):
            written(path, f"imputations written to {path}")


def check_outputs(args) -> None:
    """Every output path is checked before the data are read and the model sampled, so a fit is never lost to
    a path that cannot be written."""
    from ._files import check_output_file, check_output_folder

    for option in ("json", "save", "imputations", "report"):
        if getattr(args, option, None):
            check_output_file(getattr(args, option), f"--{option}")
    if getattr(args, "plots", None):
        check_output_folder(args.plots, "--plots")
    if getattr(args, "save_without_data", False) and not getattr(args, "save", None):
        raise MultilevelError("--save-without-data goes with --save FILE")
    if getattr(args, "imputations", None):
        if Path(args.imputations).suffix.lower() not in (".csv", ".parquet"):
            raise MultilevelError(f"--imputations '{args.imputations}': use a .csv or .parquet file name")
        from .results.imputations import check_path

        check_path(args.imputations, "--imputations")  # also: Parquet needs pyarrow, said before sampling
    if getattr(args, "nimps", 1) < 1:
        raise MultilevelError(f"--nimps must be at least 1, got {args.nimps}")


def _print_checks(fit, args, console) -> None:
    from .report.text import print_frame

    if args.ppc:
        print_frame(console, "Posterior predictive checks (p-value = P(T(y_rep) >= T(y)))", fit.ppc())
    for hypothesis in args.bayes_factor or []:
        result = fit.bayes_factor(hypothesis)
        console.print(f"Bayes factor (Savage-Dickey) for {hypothesis}: BF01 {result['BF01']:.4g}, "
                      f"BF10 {result['BF10']:.4g}" + (f" [yellow]({result.attrs['note']})[/yellow]"
                                                      if "note" in result.attrs else ""))
    if args.marginal_likelihood:
        result = fit.log_marginal_likelihood()
        console.print(f"log marginal likelihood (bridge sampling): {result['estimate']:.3f} "
                      f"(error {result['error']:.3f} on the log scale)")


def _compare(args) -> int:
    from .api import load
    from .report.text import print_frame
    from .results.bayes_factors import bayes_factor
    from .results.comparison import compare

    if len(args.fits) < 2:
        raise MultilevelError("multilevel compare needs at least two saved fits")
    if args.missing_code is not None and not args.data:
        raise MultilevelError("--missing-code goes with --data FILE")
    given = {"data": read_data(args.data, args.missing_code)} if args.data else {}
    fits = [load(path, **given) for path in args.fits]
    names = [Path(path).stem for path in args.fits]
    console = _console()
    print_frame(console, "Model comparison (PSIS-LOO)", compare(*fits, names=names))
    if args.bayes_factor:
        for name, fit in zip(names[1:], fits[1:]):
            result = bayes_factor(fits[0], fit)
            console.print(f"Bayes factor {names[0]} vs {name}: log BF {result['log BF']:.3f} "
                          f"(BF {result['BF']:.4g}; error {result['error (log scale)']:.3f} on the log scale)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The error boundary: a :class:`MultilevelError` is one ``error:`` message and exit 2; Ctrl-C is one line
    and exit 130; anything else is an internal error, with its traceback under ``--debug``."""
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    args.written = []
    try:
        with command_line():
            return _command(args)
    except MultilevelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; " + (f"written before that: {', '.join(args.written)}" if args.written
                                 else "nothing was written"), file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - the boundary: say it is ours, show the traceback on request
        if args.debug:
            import traceback

            traceback.print_exc()
        print(f"internal error, please report: {type(error).__name__}: {error}"
              + ("" if args.debug else " (run again with --debug for the traceback)"), file=sys.stderr)
        return 3


def _command(args) -> int:
    if args.command == "compare":
        return _compare(args)
    if args.command == "datasets":
        return _datasets(args)
    if args.command == "demo":
        from . import datasets

        check_outputs(args)
        formula = "Reaction ~ Days + (Days | Subject)"
        print("Demo: lme4's sleep deprivation study (sleepstudy: 180 rows, 18 subjects)\n"
              f"model: {formula}")
        return _run_fit(args, formula, datasets.load("sleepstudy"), {})
    if args.script:
        return _fit_script(args)
    if not args.data or not args.model:
        raise MultilevelError("multilevel fit needs --data FILE and --model FORMULA (or a Blimp script)")
    from .model.prior_text import parse_prior_assignment

    check_outputs(args)
    priors = dict(parse_prior_assignment(text) for text in (args.prior or []))
    options = {
        "family": args.family, "link": args.link, "priors": _with_style(priors or None, args),
        "center": _pairs(args.center, "--center") or None,
        "reference": _pairs(args.reference, "--reference") or None,
        "parameterization": args.parameterization, "missing": args.missing,
        "predictor_models": args.predictor_model, "missingness_models": args.missingness_model,
        "ordinal": args.ordinal, "nominal": args.nominal,
    }
    data = read_data(args.data, args.missing_code)
    return _run_fit(args, args.model, data, options)


def _fit_script(args) -> int:
    from .blimp import load_script

    if args.data or args.model:
        raise MultilevelError("give either a Blimp script or --data and --model, not both")
    if args.predictor_model or args.missingness_model or args.ordinal or args.nominal:
        raise MultilevelError("state predictor and missingness models in the script's MODEL section and "
                              "ordinal variables with ORDINAL, not with --predictor-model / "
                              "--missingness-model / --ordinal")
    check_outputs(args)
    translated = load_script(args.script)
    print(f"Blimp script {args.script}: focal model {translated.formula}")
    options = {**translated.options, "priors": _with_style(translated.options.get("priors"), args)}
    return _run_fit(args, translated.formula, translated.data, options, translated)


def _datasets(args) -> int:
    """``multilevel datasets [NAME] [--out FILE.csv [--force]]``: list, describe or write a bundled data set.
    Nothing is created on an error; an existing file is replaced only with --force."""
    from . import datasets

    if args.force and not args.out:
        raise MultilevelError("--force goes with --out FILE.csv")
    if args.name is None:
        if args.out:
            raise MultilevelError("--out needs a data set: multilevel datasets NAME --out FILE.csv")
        print(datasets.listing())
        return 0
    try:
        described = datasets.describe(args.name)
    except datasets.UnknownDataSet as error:
        raise MultilevelError(str(error)) from None
    if not args.out:
        print(datasets.details(described))
        return 0
    from ._files import atomic_write, check_output_file

    target = check_output_file(args.out, "--out")
    if target.suffix.lower() != ".csv":
        raise MultilevelError(f"--out '{args.out}': the data sets are CSV files; use a .csv file name")
    if target.exists() and not args.force:
        raise MultilevelError(f"--out '{args.out}' exists; add --force to replace it")
    with atomic_write(target, "wb") as handle:
        handle.write(datasets.read_bytes(described.name))
    args.written.append(args.out)
    print(f"{described.name}: {described.rows} rows, {len(described.columns)} columns written to {args.out}")
    return 0


_writing = {"outputs": False}  # set while the outputs are written: Ctrl-C then unwinds, removing a partial file


def _on_interrupt(signum, frame) -> None:
    """Ctrl-C while reading, compiling or sampling ends the process at once. A KeyboardInterrupt raised there
    can be swallowed by a library (a bare ``except:`` around an optional import) and the fit go on; nothing
    has been written yet, so there is nothing to clean up."""
    if _writing["outputs"]:
        raise KeyboardInterrupt
    print("interrupted; nothing was written", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def entry() -> None:
    """The ``multilevel`` command. After Ctrl-C the process ends at once with status 130: an import or a
    compilation that was cut short can leave state whose clean-up at exit would be interrupted again."""
    import signal

    signal.signal(signal.SIGINT, _on_interrupt)
    code = main()
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":
    entry()
