"""The :class:`Fit`: posterior draws with the spec that produced them, and everything read off them."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ..backend.likelihood import log_likelihood
from ..backend.numpyro_model import to_user_units
from ..sampling.config import SamplerConfig
from ..sampling.nuts import RawDraws
from ..model.design import Design, evaluate_design
from ..model.model_spec import ModelData, ModelSpec
from . import diagnostics
from .parameters import Parameter, block_labels, parameter_table
from .predict import linear_predictor, predictions
from .summaries import COLUMNS, summarize

LOG_LIKELIHOOD_LIMIT = 60_000_000  # values (chains x draws x rows) stored in the DataTree


@dataclass
class Fit:
    """A fitted Bayesian multilevel model.

    Attributes: ``spec`` (the frozen model), ``data`` (the arrays used), ``config`` and
    ``seed`` (how it was sampled), ``draws`` (parameters in the data's units, leading dims
    chain and draw), ``diagnostics`` (failed convergence checks, with advice),
    ``environment`` (fallbacks such as chains run sequentially), ``timings`` (seconds).
    """

    spec: ModelSpec
    data: ModelData
    config: SamplerConfig
    seed: int
    raw: RawDraws
    frame: pd.DataFrame  # the caller's columns used by the model (a copy), for saving and refitting
    options: dict  # model options, for saving and refitting
    timings: dict = field(default_factory=dict)
    environment: list[str] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)
    labels: dict = field(default_factory=dict)  # label → parameter name (Blimp's @label)
    definitions: list = field(default_factory=list)  # (name, expression) derived quantities, in order
    conditional: list = field(default_factory=list)  # (focal, moderator, values or None) conditional effects
    # tables that cost seconds per thousand draws (criteria, burn-in PSR), computed once: the terminal
    # report, the HTML report and the JSON summary all ask for them
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        observed = self.data.outcome_observed
        self.draws = to_user_units(self.spec, self.raw.constrained,
                                   None if observed is None else int((~np.asarray(observed)).sum()), self.data)
        self.environment = list(dict.fromkeys(self.environment + self.raw.environment))

    # -- tables ------------------------------------------------------------------------
    @cached_property
    def parameters(self) -> list[Parameter]:
        return parameter_table(self.spec, self.draws)

    @cached_property
    def _summary(self) -> pd.DataFrame:
        table = self.parameters
        frame = summarize([p.name for p in table], np.stack([p.draws for p in table]))
        frame.insert(0, "class", [p.parameter_class for p in table])
        return frame

    def summary(self, classes: list[str] | None = None) -> pd.DataFrame:
        """One row per parameter: mean, median, sd, q2.5, q97.5, rhat, ess_bulk, ess_tail, mcse_mean.

        ``classes`` selects rows by class: Intercept, fixed, sd, cor, var, cov, residual sd,
        residual var, ICC, predictor model (models of incomplete predictors), missingness model.
        """
        frame = self._summary
        if classes is not None:
            frame = frame[frame["class"].isin(classes)]
        return frame[COLUMNS].copy()

    def fixed_effects(self) -> pd.DataFrame:
        return self.summary(["Intercept", "fixed"])

    def variance_components(self) -> pd.DataFrame:
        """Variances and covariances, and the same as SDs and correlations, with the residual."""
        return self.summary(["sd", "cor", "var", "cov", "residual sd", "residual var"])

    def icc(self) -> pd.DataFrame:
        """Intraclass correlation per grouping factor with a random intercept (see docs for the definition)."""
        return self.summary(["ICC"])

    # -- derived quantities ---------------------------------------------------------------
    def derive(self, definitions: dict[str, str], labels: dict[str, str] | None = None) -> pd.DataFrame:
        """Functions of parameters as full posteriors (Blimp's PARAMETERS), e.g.
        ``fit.derive({"ratio": "b1 / b2"}, labels={"b1": "x1", "b2": "x2"})``. Expressions use numbers,
        labels, coefficient names that are plain words, earlier definitions, + - * / ^ and sqrt, log, exp,
        abs; they are parsed, never evaluated as Python. Kept with the fit (report, save)."""
        from .derived import derived_draws

        labels = {**self.labels, **(labels or {})}
        pairs = list(self.definitions) + [(name, text) for name, text in definitions.items()]
        derived_draws(self, pairs, labels)  # checks everything before keeping it
        self.labels, self.definitions = labels, pairs
        return self.derived_quantities().loc[list(definitions)]

    def derived_quantities(self) -> pd.DataFrame:
        """Summaries of every quantity defined with :meth:`derive` (or a script's PARAMETERS)."""
        from .derived import derived_draws

        return self._summarize_draws(derived_draws(self, self.definitions, self.labels))

    def conditional_effects(self, focal: str, moderator: str, at=None) -> pd.DataFrame:
        """The effect of ``focal`` at values of ``moderator`` (Blimp's SIMPLE): b_focal + b_focal:moderator ×
        value. ``at``: moderator values on the data's scale; default its mean and mean ± 1 SD."""
        from .derived import conditional_effect_draws, moderator_points

        at = moderator_points(at)
        table = self._summarize_draws(conditional_effect_draws(self, focal, moderator, at))
        if (focal, moderator, at) not in self.conditional:
            self.conditional.append((focal, moderator, at))
        return table

    def johnson_neyman(self, focal: str, moderator: str, level: float = 0.95, points: int = 400) -> pd.DataFrame:
        """Regions of ``moderator`` (over its observed range) where the ``level`` credible interval of the
        conditional effect of ``focal`` excludes zero: one row per region (from, to, sign)."""
        from ..errors import SpecificationError
        from .derived import check_focal_and_moderator, conditional_effect_draws

        check_focal_and_moderator(self, focal, moderator)
        if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
            raise SpecificationError(f"level must be a probability between 0 and 1 (e.g. 0.95), got {level!r}")
        if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
            raise SpecificationError(f"points must be a whole number of at least 2, got {points!r}")
        column = np.asarray(self.frame.loc[self.data.row_labels, moderator], dtype=float)
        grid = np.linspace(np.nanmin(column), np.nanmax(column), points)
        draws = conditional_effect_draws(self, focal, moderator, grid)
        tail = (1 - level) / 2
        bounds = np.array([np.quantile(value, [tail, 1 - tail]) for value in draws.values()])
        sign = np.where(bounds[:, 0] > 0, 1, np.where(bounds[:, 1] < 0, -1, 0))
        regions, start = [], 0
        for k in range(1, points + 1):
            if k == points or sign[k] != sign[start]:
                if sign[start] != 0:
                    regions.append({"from": grid[start], "to": grid[k - 1],
                                    "effect": "positive" if sign[start] > 0 else "negative"})
                start = k
        return pd.DataFrame(regions, columns=["from", "to", "effect"])

    def latent_means(self, variable: str | None = None) -> pd.DataFrame:
        """Posterior summaries of the latent cluster means (``latent_mean(x)``): variable, cluster and summary."""
        from ..errors import SpecificationError

        names = [key[len("latent mean "):] for key in self.draws if key.startswith("latent mean ")]
        if variable is not None and variable not in names:
            raise SpecificationError(f"no latent group means of '{variable}' in this model "
                                     f"(latent means: {', '.join(names) or 'none'})")
        levels = self.spec.random[0].factor.levels if self.spec.random else ()
        frames = []
        for name in [variable] if variable is not None else names:
            draws = self.draws[f"latent mean {name}"]  # (chain, draw, clusters)
            summary = summarize(list(levels), np.moveaxis(draws, -1, 0)).reset_index(drop=True)
            summary.insert(0, "cluster", list(levels))
            summary.insert(0, "variable", name)
            frames.append(summary)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def missing_data_patterns(self) -> pd.DataFrame:
        """Blimp's missing-data pattern table over the model's variables in the rows used: one row per
        pattern, True where missing, with the number and percentage of rows."""
        from .data_summary import missing_patterns

        return missing_patterns(self.frame.loc[self.data.row_labels], self._modelled_variables())

    def _modelled_variables(self) -> list[str]:
        grouping = {name for block in self.spec.random for name in block.factor.variables}
        return [name for name in self.frame.columns if name not in grouping]

    @cached_property
    def _design_moments(self):
        from .effect_sizes import design_moments

        return design_moments(self)

    def _summarize_draws(self, values: dict[str, np.ndarray]) -> pd.DataFrame:
        chains, samples = self.raw.stats["diverging"].shape
        if not values:
            return pd.DataFrame(columns=COLUMNS)
        return summarize(list(values), np.stack([v.reshape(chains, samples) for v in values.values()]))[COLUMNS]

    def variance_explained(self, by_level: bool = False) -> pd.DataFrame:
        """Proportion of the model-implied outcome variance due to the coefficients, each factor's random
        intercepts and random slopes, and the level-1 residual (Rights & Sterba 2019; Blimp's
        "Proportion Variance Explained"). Rows sum to 1 in every draw. ``by_level=True``: the within- and
        between-cluster decomposition (over the first grouping factor) and the model-implied and
        conditional ICCs instead."""
        from .effect_sizes import by_level_draws, variance_explained_draws

        if by_level:
            return self._summarize_draws(by_level_draws(self, self._design_moments))
        return self._summarize_draws(variance_explained_draws(self, self._design_moments))

    def standardized_coefficients(self, by_level: bool = False) -> pd.DataFrame:
        """Each coefficient times its predictor's SD, divided by the model-implied outcome SD (per draw).
        ``by_level=True``: within-cluster (predictor's within SD over the within part of the outcome's SD)
        and between-cluster versions, where the predictor varies at that level."""
        from .effect_sizes import standardized_by_level_draws, standardized_draws

        if by_level:
            return self._summarize_draws(standardized_by_level_draws(self, self._design_moments))
        return self._summarize_draws(standardized_draws(self, self._design_moments))

    def random_effects(self, factor: str | None = None) -> pd.DataFrame:
        """Per-group effects (deviations from the fixed effects): factor, level, term and their summary."""
        frames = []
        for i, (block, label) in enumerate(zip(self.spec.random, block_labels(self.spec))):
            if factor is not None and factor not in (block.factor.name, label):
                continue
            effects = self.draws[f"r_{i}"]  # (chain, draw, groups, q)
            groups, size = effects.shape[2], effects.shape[3]
            stacked = np.moveaxis(effects, (0, 1), (-2, -1)).reshape(groups * size, *effects.shape[:2])
            names = [f"{level}|{term}" for level in block.factor.levels for term in block.column_names]
            summary = summarize(names, stacked).reset_index(drop=True)
            summary.insert(0, "term", [term for _ in block.factor.levels for term in block.column_names])
            summary.insert(0, "level", [level for level in block.factor.levels for _ in block.column_names])
            summary.insert(0, "factor", block.factor.name)
            frames.append(summary)
        if not frames:
            from ..errors import SpecificationError

            known = ", ".join(block.factor.name for block in self.spec.random) or "none"
            raise SpecificationError(f"no random effects for factor '{factor}' (factors: {known})")
        return pd.concat(frames, ignore_index=True)

    # -- prediction --------------------------------------------------------------------
    def _design(self, newdata, need_trials=False) -> Design:
        if newdata is None:
            return Design(self.data.X, self.data.Z, tuple(np.asarray(i, np.int64) for i in self.data.group_index),
                          self.data.offset, self.data.trials)
        return evaluate_design(self.spec, newdata, need_trials=need_trials)

    def predict(self, newdata: pd.DataFrame | None = None, *, kind: str = "mean", include_random: bool = True,
                summary: bool = True, seed: int | None = None):
        """Posterior predictions.

        ``kind``: ``"linear"`` (linear predictor), ``"mean"`` (expected outcome; a probability for
        binary and binomial models) or ``"response"`` (simulated outcomes). Groups seen in fitting
        use their estimated effects; new groups get effects drawn from the population distribution
        (one draw per new group and posterior draw). ``include_random=False`` gives population-level
        predictions. Returns a DataFrame (mean, sd, q2.5, q97.5 per row) or, with ``summary=False``,
        an array of draws (samples x rows).
        """
        if kind not in ("linear", "mean", "response"):
            from ..errors import SpecificationError

            raise SpecificationError(f"kind must be 'linear', 'mean' or 'response', got {kind!r}")
        design = self._design(newdata, need_trials=kind == "response")
        rng = np.random.default_rng(self.seed if seed is None else seed)
        eta = None
        if newdata is None and self.spec.submodels:
            if not include_random:
                from ..errors import SpecificationError

                raise SpecificationError("include_random=False for the fitted rows of a model with imputed "
                                         "predictors is not available; pass newdata")
            eta = self._fitted_linear_predictor()
        values = predictions(self.spec, self.draws, design, kind, rng, include_random, eta=eta)
        if not summary:
            return values
        quantiles = np.quantile(values, [0.025, 0.975], axis=0)
        index = newdata.index if newdata is not None else pd.Index(self.data.row_labels)
        return pd.DataFrame({"mean": values.mean(axis=0), "sd": values.std(axis=0, ddof=1),
                             "q2.5": quantiles[0], "q97.5": quantiles[1]}, index=index)

    # -- imputations --------------------------------------------------------------------
    def imputations(self, count: int = 20) -> pd.DataFrame:
        """``count`` completed data sets from well-separated posterior draws, stacked, with an
        ``imputation`` column (1..count): the rows used, every missing value filled."""
        from .imputations import completed_datasets

        return completed_datasets(self, count)

    def average_imputation(self) -> pd.DataFrame:
        """The rows used with each missing value replaced by its posterior mean."""
        from .imputations import average_imputation

        return average_imputation(self)

    def imputed_data_summaries(self, count: int | None = None) -> pd.DataFrame:
        """Blimp's imputed data summaries: mean, SD, quartiles, min and max of each imputed variable's
        completed column, averaged over completed data sets (default: every kept draw)."""
        from .imputations import imputed_data_summaries

        return imputed_data_summaries(self, count)

    def save_imputations(self, path, count: int = 20, average_path=None) -> None:
        """Write the stacked completed data sets (``.csv`` or ``.parquet``), and the average if asked."""
        from .imputations import check_path, write

        check_path(path)  # both paths checked before any work is done
        if average_path is not None:
            check_path(average_path, "average imputation file")
        write(self.imputations(count), path)
        if average_path is not None:
            write(self.average_imputation(), average_path, "average imputation file")

    # -- ArviZ ------------------------------------------------------------------------
    def _fitted_linear_predictor(self) -> np.ndarray:
        """(samples, rows) for the fitted rows; with imputed predictors each draw uses its own imputations."""
        if self.spec.submodels:
            from .completed import fitted_linear_predictor
            from .imputations import imputed_cells

            return fitted_linear_predictor(self.spec, self.data, self.draws, imputed_cells(self))
        return linear_predictor(self.spec, self.draws, self._design(None), np.random.default_rng(0))

    def pointwise_log_likelihood(self) -> np.ndarray:
        """log p(y_i | parameters) for every draw and row with an observed outcome: (chain, draw, rows).

        With imputed predictors this is conditional on the imputations: each draw's own imputed values
        enter the linear predictor (Blimp's "conditional likelihood"); rows whose outcome is missing have
        no term."""
        return self._log_likelihood_at(self._fitted_linear_predictor())

    def _log_likelihood_at(self, eta: np.ndarray, sigma: np.ndarray | None = None) -> np.ndarray:
        """Per row with an observed outcome, at linear predictors ``eta`` (samples, rows): (chain, draw, rows),
        or (rows,) for one plug-in row of ``eta``."""
        if sigma is None and "sigma" in self.draws:
            sigma = self.draws["sigma"].reshape(-1)[:, None]
        values = log_likelihood(self.spec.family, self.data.y[None, :], eta, sigma=sigma,
                                trials=None if self.data.trials is None else self.data.trials[None, :])
        if eta.shape[0] > 1:
            values = values.reshape(*self.raw.stats["diverging"].shape, -1)
        if self.data.outcome_observed is not None:  # the likelihood of the observed outcomes only
            values = values[..., self.data.outcome_observed]
        return values

    def information_criteria(self, likelihood: str = "conditional") -> pd.DataFrame:
        """DIC (plug-in at the posterior mean of each row's linear predictor), DIC2 (D̄ + var(D)/2, as
        Blimp), WAIC and PSIS-LOO for the observed outcomes of the focal model: elpd (log scale), its SE,
        the effective number of parameters p, and the criterion on the deviance scale (smaller is
        better). With imputed predictors, ``likelihood="conditional"`` scores each outcome given each
        draw's imputations (Blimp's "conditional likelihood"); ``"marginal"`` given only the observed
        predictors, the imputed ones integrated over their predictor models by Monte Carlo (see
        :mod:`multilevel.results.marginal`; no plug-in DIC). ``attrs["notes"]`` says how reliable LOO and
        WAIC are."""
        if likelihood not in self._memo:
            self._memo[likelihood] = self._information_criteria(likelihood)
        table = self._memo[likelihood]
        result = table.copy()
        result.attrs = copy.deepcopy(table.attrs)
        return result

    def _information_criteria(self, likelihood: str) -> pd.DataFrame:
        from .criteria import criteria_table

        if likelihood == "marginal":
            from .marginal import marginal_pointwise

            pointwise = marginal_pointwise(self)
            table, notes = criteria_table(pointwise, None, self._tree_with(pointwise))
            table.attrs["notes"] = notes
            return table
        if likelihood != "conditional":
            from ..errors import SpecificationError

            raise SpecificationError(f"likelihood must be 'conditional' or 'marginal', got {likelihood!r}")
        eta = self._fitted_linear_predictor()
        pointwise = self._log_likelihood_at(eta)
        sigma = np.asarray([[float(np.mean(self.draws["sigma"]))]]) if "sigma" in self.draws else None
        plug_in = self._log_likelihood_at(eta.mean(axis=0, keepdims=True), sigma=sigma).reshape(-1)
        del eta
        table, notes = criteria_table(pointwise, plug_in, self._log_likelihood_tree(pointwise))
        table.attrs["notes"] = notes
        return table

    def ppc(self, draws: int = 500, seed: int | None = None) -> pd.DataFrame:
        """Posterior predictive checks: for each test statistic (mean, SD, min, max; share of zeros for counts,
        share of ones for binary outcomes; SD of the cluster means per grouping factor) its observed value,
        the replicated distribution (mean, 2.5% and 97.5%) over ``draws`` replicated data sets, and the
        posterior predictive p-value P(T(y_rep) >= T(y)). Observed outcomes only."""
        from .ppc import posterior_predictive_check

        return posterior_predictive_check(self, draws, seed)[0]

    def posterior_predictive(self, draws: int = 500, seed: int | None = None) -> np.ndarray:
        """Replicated outcomes (replicates x rows with an observed outcome) from ``draws`` posterior draws."""
        from .ppc import replicated_outcomes

        return replicated_outcomes(self, draws, seed)

    def plot(self, kind: str):
        """A matplotlib Figure: ``"trace"``, ``"rank"``, ``"posterior"``, ``"forest"`` (fixed effects),
        ``"caterpillar"`` (random effects), ``"ppc"``, ``"imputations"`` (observed vs imputed values),
        ``"residuals"`` (per level) or ``"simple_slopes"``. A kind that does not apply to this fit (no
        imputed values, no random effects, no conditional effects asked for) raises a
        :class:`MultilevelError` naming the kinds that do."""
        from ..report.plots import figure

        return figure(self, kind)

    def save_plots(self, directory, formats=("png", "svg")) -> list:
        """Write every figure that applies to this fit into ``directory``; returns the paths."""
        from ..report.plots import save_figures

        return save_figures(self, directory, formats)

    def report(self, path) -> None:
        """Write a self-contained HTML report (tables and figures embedded; opens offline)."""
        from ..report.html import write_report

        write_report(self, path)

    def log_marginal_likelihood(self, seed: int | None = None) -> pd.Series:
        """log p(data) by bridge sampling (as R's bridgesampling, normal proposal), with ``error``, the
        approximate SD of the log estimate. Needs proper priors. With missing data it is the marginal
        likelihood of everything observed (outcomes and the modelled predictors' observed values)."""
        from .bayes_factors import log_marginal_likelihood

        return pd.Series(log_marginal_likelihood(self, seed))

    def bayes_factor(self, hypothesis: str) -> pd.Series:
        """Savage–Dickey density ratio for a point hypothesis on one coefficient, e.g. ``"x1 = 0"``: BF01
        (evidence for the hypothesis), BF10 and log BF10, with the posterior and prior densities at the value."""
        from .bayes_factors import savage_dickey

        return savage_dickey(self, hypothesis)

    def residual_correlations(self) -> pd.DataFrame:
        """Correlations among the level-1 residuals of the focal model and the models of incomplete continuous
        predictors, per draw over the completed data (Blimp's "correlations among residuals")."""
        from .residuals import residual_correlation_draws

        return self._summarize_draws(residual_correlation_draws(self, self._fitted_linear_predictor()))

    def _tree_with(self, log_lik: np.ndarray):
        from .to_arviz import build_tree

        return build_tree(self.spec, self.data, self.draws, self.raw.stats, log_lik, {})

    def _log_likelihood_tree(self, pointwise: np.ndarray | None = None):
        """The DataTree with a log_likelihood group: ``tree`` when it has one (no imputed predictors),
        otherwise one built around the pointwise log-likelihood of the fitted rows."""
        if "log_likelihood" in self.tree.children:
            return self.tree
        return self._tree_with(self.pointwise_log_likelihood() if pointwise is None else pointwise)

    @cached_property
    def tree(self):
        """The posterior as an ArviZ DataTree (posterior, sample_stats, log_likelihood, observed_data).

        The log-likelihood group is left out, with a note in ``environment``, when it would hold
        more than 60 million values; ``pointwise_log_likelihood()`` computes it on demand.
        """
        from .to_arviz import build_tree

        chains, samples = self.raw.stats["diverging"].shape
        log_lik = None
        if chains * samples * self.data.n <= LOG_LIKELIHOOD_LIMIT:
            log_lik = self.pointwise_log_likelihood()
        else:
            self.environment.append("log_likelihood group omitted from the DataTree (too large); "
                                    "use fit.pointwise_log_likelihood()")
        attrs = {"inference_library": "numpyro", "creation_library": "multilevel", "formula": self.spec.formula,
                 "family": str(self.spec.family), "seed": int(self.seed)}
        return build_tree(self.spec, self.data, self.draws, self.raw.stats, log_lik, attrs)

    # -- diagnostics and saving ----------------------------------------------------------
    def check(self) -> list[str]:
        """Run the convergence checks (R-hat, ESS, divergences, tree depth); returns the messages."""
        rhat_random = None
        if self.spec.random:
            from arviz_stats.base import array_stats

            worst = []
            for i in range(len(self.spec.random)):
                effects = self.draws[f"r_{i}"]
                stacked = np.moveaxis(effects, (0, 1), (-2, -1)).reshape(-1, *effects.shape[:2])
                worst.append(float(np.nanmax(array_stats.rhat(stacked, chain_axis=-2, draw_axis=-1)))
                             if self.config.chains > 1 else np.nan)
            rhat_random = float(np.nanmax(worst)) if np.isfinite(worst).any() else None
        main = self._summary[self._summary["class"].isin(["Intercept", "fixed", "sd", "cor", "residual sd",
                                                          "predictor model", "missingness model"])]
        self.diagnostics = diagnostics.check(main, self.raw.stats, self.config.draws, self.config.warmup,
                                             self.config.max_tree_depth, rhat_random)
        return self.diagnostics

    def burn_in_psr(self, rows: int = 20) -> pd.DataFrame:
        """Blimp's burn-in PSR table: the highest R-hat over the parameters in expanding windows of the
        warmup (iterations from, to; R-hat; which parameter). Empty with one chain."""
        from .burn_in import burn_in_psr

        key = ("burn-in psr", rows)
        if key not in self._memo:
            self._memo[key] = burn_in_psr(self.spec, self.raw.warmup, rows)
        return self._memo[key].copy()

    @property
    def converged(self) -> bool:
        return not self.diagnostics

    def save(self, path, include_data: bool = True) -> None:
        """Save to one file (a zip archive); ``multilevel.load(path)`` restores it.

        The file holds the model, the draws and, by default, the data used (the rows and columns the
        model read): whoever gets the file gets those data. With ``include_data=False`` it holds no data
        rows, only a fingerprint of them (row count, column names and a SHA-256 of the values); load it
        with ``multilevel.load(path, data=frame)``, which refuses data other than those the fit was
        made with. The file is written whole or not at all, and checksums let ``load`` detect a file
        that was truncated or edited since.
        """
        from .persistence import save_fit

        save_fit(self, path, include_data=include_data)

    def __repr__(self) -> str:
        return (f"<multilevel.Fit {self.spec.formula!r} {self.spec.family} — {self.data.n} rows, "
                f"{self.config.chains} chains x {self.config.draws} draws>")
