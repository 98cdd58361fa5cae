"""The command line's grammar: every command and option of ``multilevel`` (argparse), and nothing else.

Parsing imports nothing heavy, so ``multilevel --help``, ``multilevel COMMAND --help`` and ``--version``
answer at once: the version is read when asked, and the family registry (it imports NumPy) when the help
of ``multilevel fit`` is shown.
"""

from __future__ import annotations

import argparse

SAMPLER_DEFAULTS = {"chains": 4, "warmup": 1000, "draws": 1000, "thin": 1, "seed": None, "target_accept": 0.8,
                    "target_ess": None, "max_draws": None}


def _draws(text: str):
    """--draws: a whole number, or 'auto'."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'auto', got {text!r}") from None


def _add_sampler_arguments(parser: argparse.ArgumentParser) -> None:
    # defaults are applied later, so that a Blimp script's own settings win over defaults but not over options
    parser.add_argument("--chains", type=int, default=None, help="number of chains (default 4)")
    parser.add_argument("--warmup", type=int, default=None, help="warmup iterations per chain (default 1000)")
    parser.add_argument("--draws", type=_draws, default=None,
                        help="draws kept per chain (default 1000), or 'auto': 1000, then more until the smallest "
                             "ESS reaches --target-ess (default 2000) or --max-draws per chain (default 5000)")
    parser.add_argument("--target-ess", type=int, default=None, help="with --draws auto: the smallest ESS sought")
    parser.add_argument("--max-draws", type=int, default=None, help="with --draws auto: the most draws per chain")
    parser.add_argument("--thin", type=int, default=None, help="keep every k-th draw")
    parser.add_argument("--seed", type=int, default=None, help="random seed (same seed, same numbers)")
    parser.add_argument("--target-accept", type=float, default=None, help="NUTS target acceptance (default 0.8)")
    parser.add_argument("--json", metavar="FILE", help="write the summary as JSON")
    parser.add_argument("--save", metavar="FILE",
                        help="save the fit: FILE.nc a NetCDF4 DataTree (xarray and ArviZ read it), FILE.zip a "
                             "zip archive; multilevel.load reads both. It holds the data used")
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


class _Version(argparse.Action):
    """``--version``: the installed package's version (importlib.metadata, read only when asked)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"multilevel {package_version()}")
        parser.exit()


def package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("multilevel")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        from . import __version__

        return __version__


class _RegistryHelp(argparse.HelpFormatter):
    """Help that names the family registry, read only when the help is shown (the registry imports NumPy;
    within main's Ctrl-C boundary, as parsing is)."""

    def _get_help_string(self, action) -> str:
        text = super()._get_help_string(action) or ""
        if "{families}" in text:
            from .model.families import family_names

            text = text.replace("{families}", ", ".join(family_names()))
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="multilevel",
                                     description="Bayesian multilevel regression (NUTS via NumPyro).")
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an internal error")
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser("fit", help="fit a model to a data file, or a Blimp script",
                              formatter_class=_RegistryHelp)
    _add_fit_arguments(fit)
    _add_sampler_arguments(fit)
    demo = commands.add_parser("demo", help="fit a bundled example (sleepstudy, random slopes)")
    _add_sampler_arguments(demo)
    comparison = commands.add_parser("compare", help="compare saved fits (from --save) by PSIS-LOO")
    comparison.add_argument("fits", nargs="+", help="saved fits (.nc or .zip), at least two, of the same data")
    comparison.add_argument("--data", metavar="FILE",
                            help="the data, for fits saved with --save-without-data (.csv, .tsv, .dat, .parquet)")
    comparison.add_argument("--missing-code", default=None, help="with --data: value that marks missing data in it")
    comparison.add_argument("--bayes-factor", action="store_true",
                            help="also the Bayes factor of the first fit against each other (bridge sampling)")
    bundled = commands.add_parser("datasets", help="list the bundled data sets, or write one as a CSV file")
    bundled.add_argument("name", nargs="?", help="a bundled data set: shows its columns (with --out: writes it)")
    bundled.add_argument("--out", metavar="FILE.csv", help="write the data set to FILE.csv")
    bundled.add_argument("--force", action="store_true", help="with --out: replace an existing file")
    for command in (fit, demo, comparison, bundled):
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show the full traceback of an internal error")
    return parser


def _add_fit_arguments(fit: argparse.ArgumentParser) -> None:
    fit.add_argument("script", nargs="?", help="a Blimp script (.imp); DATA in it is read relative to the script")
    fit.add_argument("--data", help="data file (.csv, .tsv, .dat, .parquet)")
    fit.add_argument("--model", help='formula, e.g. "y ~ x + (1 | g)"')
    fit.add_argument("--family", default=None, help="{families} (default: gaussian)")
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
    fit.add_argument("--sample-missing", action="store_true",
                     help="sample missing continuous values as parameters instead of integrating them out of "
                          "the likelihood (where that is exact; the default)")
    fit.add_argument("--missing", default="model", choices=["model", "listwise"],
                     help="model: impute missing predictors and outcomes within the model (default); "
                          "listwise: exclude incomplete rows")
