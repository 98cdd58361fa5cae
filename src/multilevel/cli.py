"""The ``multilevel`` command line: ``multilevel fit`` and ``multilevel demo``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from .errors import ModelNote, MultilevelError, command_line


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


SAMPLER_DEFAULTS = {"chains": 4, "warmup": 1000, "draws": 1000, "thin": 1, "seed": None, "target_accept": 0.8}


def _add_sampler_arguments(parser: argparse.ArgumentParser) -> None:
    # defaults are applied later, so that a Blimp script's own settings win over defaults but not over options
    parser.add_argument("--chains", type=int, default=None, help="number of chains (default 4)")
    parser.add_argument("--warmup", type=int, default=None, help="warmup iterations per chain (default 1000)")
    parser.add_argument("--draws", type=int, default=None, help="draws kept per chain (default 1000)")
    parser.add_argument("--thin", type=int, default=None, help="keep every k-th draw")
    parser.add_argument("--seed", type=int, default=None, help="random seed (same seed, same numbers)")
    parser.add_argument("--target-accept", type=float, default=None, help="NUTS target acceptance (default 0.8)")
    parser.add_argument("--json", metavar="FILE", help="write the summary as JSON")
    parser.add_argument("--save", metavar="FILE", help="save the fit (load with multilevel.load); it holds the data used")
    parser.add_argument("--save-without-data", action="store_true",
                        help="with --save: leave the data out of the saved fit (loading it then needs the data)")
    parser.add_argument("--nimps", type=int, default=20, help="number of imputations to save (default 20)")
    parser.add_argument("--imputations", metavar="FILE",
                        help="save the stacked completed data sets (.csv or .parquet) with an imputation column")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--plots", metavar="DIR", help="write every figure that applies as PNG and SVG into DIR")
    parser.add_argument("--report", metavar="FILE", help="write a self-contained HTML report")
    parser.add_argument("--ppc", action="store_true", help="print posterior predictive checks")
    parser.add_argument("--bayes-factor", action="append", metavar="HYPOTHESIS",
                        help="Savage-Dickey Bayes factor of a point hypothesis, e.g. 'x1 = 0' (repeatable)")
    parser.add_argument("--marginal-likelihood", action="store_true",
                        help="print the log marginal likelihood (bridge sampling; needs proper priors)")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("multilevel")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    from .model.families import family_names  # here, inside main's Ctrl-C boundary (it imports NumPy)

    parser = argparse.ArgumentParser(prog="multilevel",
                                     description="Bayesian multilevel regression (NUTS via NumPyro).")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an internal error")
    parser.add_argument("--version", action="version", version=f"multilevel {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser("fit", help="fit a model to a data file, or a Blimp script")
    fit.add_argument("script", nargs="?", help="a Blimp script (.imp); DATA in it is read relative to the script")
    fit.add_argument("--data", help="data file (.csv, .tsv, .dat, .parquet)")
    fit.add_argument("--model", help='formula, e.g. "y ~ x + (1 | g)"')
    fit.add_argument("--family", default=None, help=f"{', '.join(family_names())} (default: gaussian)")
    fit.add_argument("--link", default=None, help="the family's link, e.g. logit or probit for bernoulli/binomial "
                                                  "(default: the family's first)")
    fit.add_argument("--center", action="append", metavar="VAR=grand|group[:FACTOR]",
                     help="centre a predictor within the model (repeatable)")
    fit.add_argument("--reference", action="append", metavar="VAR=LEVEL", help="reference level (repeatable)")
    fit.add_argument("--prior", action="append", metavar="KEY=PRIOR",
                     help="prior override, e.g. 'x1=Normal(0, 1)', 'sd=HalfStudentT(3, 10)' (repeatable)")
    fit.add_argument("--prior-defaults", default="default", choices=["default", "blimp"],
                     help="default: weakly informative priors scaled to the data; blimp: Blimp's defaults "
                          "(flat coefficients, uniform over covariance matrices) to compare like for like")
    fit.add_argument("--predictor-model", action="append", metavar="FORMULA",
                     help="state the model of an incomplete predictor, e.g. 'x1 ~ x2 + x3' (repeatable)")
    fit.add_argument("--missingness-model", action="append", metavar="FORMULA",
                     help="probit model of a missingness indicator (MNAR selection model), "
                          "e.g. 'y.missing ~ y + x1' (repeatable)")
    fit.add_argument("--ordinal", action="append", metavar="VAR",
                     help="a numeric variable that is ordinal or binary: imputed with an ordinal probit model "
                          "(repeatable)")
    fit.add_argument("--nominal", action="append", metavar="VAR",
                     help="a variable with unordered categories (dummy coded; imputed with a multinomial logit "
                          "model) (repeatable)")
    fit.add_argument("--parameterization", default="auto", help="auto, centered, noncentered or marginalized")
    fit.add_argument("--missing-code", default=None, help="value that marks missing data in the file")
    fit.add_argument("--missing", default="model", choices=["model", "listwise"],
                     help="model: impute missing predictors and outcomes within the model (default); "
                          "listwise: exclude incomplete rows")
    _add_sampler_arguments(fit)
    for command in (fit,):
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show the full traceback of an internal error")
    demo = commands.add_parser("demo", help="fit a bundled example (sleepstudy, random slopes)")
    _add_sampler_arguments(demo)
    comparison = commands.add_parser("compare", help="compare saved fits (from --save) by PSIS-LOO")
    comparison.add_argument("fits", nargs="+", help="saved fits (.zip), at least two, of the same data")
    for command in (demo, comparison):
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show the full traceback of an internal error")
    comparison.add_argument("--data", metavar="FILE",
                            help="the data, for fits saved with --save-without-data (.csv, .tsv, .dat, .parquet)")
    comparison.add_argument("--missing-code", default=None, help="with --data: value that marks missing data in it")
    comparison.add_argument("--bayes-factor", action="store_true",
                            help="also the Bayes factor of the first fit against each other (bridge sampling)")
    return parser


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


def _run_fit(args, formula: str, data, options: dict, script_settings: dict | None = None,
             notes: list[str] | None = None, translated=None) -> int:
    from rich.console import Console

    from . import api
    from .report.text import print_report, summary_json

    console = Console()
    if not console.is_terminal:
        console = Console(width=132)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = api.Model(formula, data, **options)
    for warning in caught:  # before sampling, so that a long fit can be stopped at once
        if issubclass(warning.category, (api.ExcludedRowsWarning, ModelNote)):
            console.print(f"note: {warning.message}", markup=False, style="yellow")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # diagnostics and environment notes are in the report
        sampler = _sampler_options(args, script_settings)
        fit = model.fit(**sampler, progress=not args.no_progress and None, warn=False)
    if script_settings is not None:
        overridden = [name for name in ("warmup", "draws", "chains") if getattr(args, name) is not None]
        kept = [note for note in notes or [] if not overridden]
        if overridden:
            kept.append("script settings overridden on the command line: " + ", ".join(
                f"{name}={getattr(args, name)}" for name in overridden))
        fit = fit.with_notes(*kept)
    if translated is not None:
        from .blimp import apply_quantities

        fit = apply_quantities(fit, translated)
    print_report(fit, console)
    _print_checks(fit, args, console)
    _writing["outputs"] = True
    if args.json:
        from ._files import atomic_write

        with atomic_write(args.json, encoding="utf-8") as handle:
            handle.write(json.dumps(summary_json(fit), indent=2, default=float))
        args.written.append(args.json)
        console.print(f"summary written to {args.json}")
    if args.save:
        fit.save(args.save, include_data=not args.save_without_data)
        args.written.append(args.save)
        console.print(f"fit saved to {args.save}")
    if args.imputations:
        fit.save_imputations(args.imputations, args.nimps)
        args.written.append(args.imputations)
        console.print(f"{args.nimps} imputations saved to {args.imputations}")
    if args.plots:
        written = fit.save_plots(args.plots)
        args.written.append(args.plots)
        console.print(f"{len(written)} figure files written to {args.plots}")
    if args.report:
        fit.report(args.report)
        args.written.append(args.report)
        console.print(f"HTML report written to {args.report}")
    if translated is not None:
        from .blimp import save_script_imputations

        for written in save_script_imputations(fit, translated, Path(args.script).parent):
            args.written.append(str(written))
            console.print(f"imputations written to {written}")
    return 0


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
    from rich.console import Console

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
    console = Console() if Console().is_terminal else Console(width=132)
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
    if args.command == "demo":
        from . import datasets

        check_outputs(args)
        data = datasets.load("sleepstudy")
        formula = "Reaction ~ Days + (Days | Subject)"
        print(f"Demo: sleep deprivation study (lme4::sleepstudy, 180 rows, 18 subjects): {formula}")
        return _run_fit(args, formula, data, {})
    if args.script:
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
        return _run_fit(args, translated.formula, translated.data, options, translated.sampler,
                        translated.notes, translated)
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
