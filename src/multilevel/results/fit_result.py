"""The :class:`Fit`: posterior draws with the spec that produced them, and everything read off them."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ..backend.likelihood import log_likelihood
from ..backend.numpyro_model import to_user_units
from ..sampling.config import SamplerConfig
from ..sampling.nuts import RawDraws
from ..spec.design import Design, evaluate_design
from ..spec.model_spec import ModelData, ModelSpec
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

    def __post_init__(self):
        self.draws = to_user_units(self.spec, self.raw.constrained)
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
        from .derived import conditional_effect_draws

        table = self._summarize_draws(conditional_effect_draws(self, focal, moderator, at))
        if (focal, moderator, at) not in self.conditional:
            self.conditional.append((focal, moderator, None if at is None else list(at)))
        return table

    def johnson_neyman(self, focal: str, moderator: str, level: float = 0.95, points: int = 400) -> pd.DataFrame:
        """Regions of ``moderator`` (over its observed range) where the ``level`` credible interval of the
        conditional effect of ``focal`` excludes zero: one row per region (from, to, sign)."""
        from .derived import conditional_effect_draws

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

    def variance_explained(self) -> pd.DataFrame:
        """Proportion of the model-implied outcome variance due to the coefficients, each factor's random
        intercepts and random slopes, and the level-1 residual (Rights & Sterba 2019; Blimp's
        "Proportion Variance Explained"). Rows sum to 1 in every draw."""
        from .effect_sizes import variance_explained_draws

        return self._summarize_draws(variance_explained_draws(self, self._design_moments))

    def standardized_coefficients(self) -> pd.DataFrame:
        """Each coefficient times its predictor's SD, divided by the model-implied outcome SD (per draw)."""
        from .effect_sizes import standardized_draws

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
        if newdata is None and self.spec.submodels:
            from ..errors import SpecificationError

            raise SpecificationError("this fit imputed predictors: predictions and the log-likelihood for its own "
                                     "rows (which depend on the imputations) are not available yet; pass newdata")
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
        values = predictions(self.spec, self.draws, design, kind, rng, include_random)
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

    def save_imputations(self, path, count: int = 20, average_path=None) -> None:
        """Write the stacked completed data sets (``.csv`` or ``.parquet``), and the average if asked."""
        from .imputations import write

        write(self.imputations(count), path)
        if average_path is not None:
            write(self.average_imputation(), average_path)

    # -- ArviZ ------------------------------------------------------------------------
    def pointwise_log_likelihood(self) -> np.ndarray:
        """log p(y_i | parameters) for every draw and row with an observed outcome: (chain, draw, rows)."""
        chains, samples = self.raw.stats["diverging"].shape
        eta = linear_predictor(self.spec, self.draws, self._design(None), np.random.default_rng(0))
        sigma = self.draws["sigma"].reshape(-1)[:, None] if "sigma" in self.draws else None
        values = log_likelihood(self.spec.family, self.data.y[None, :], eta, sigma=sigma,
                                trials=None if self.data.trials is None else self.data.trials[None, :])
        values = values.reshape(chains, samples, -1)
        if self.data.outcome_observed is not None:  # the likelihood of the observed outcomes only
            values = values[..., self.data.outcome_observed]
        return values

    @cached_property
    def tree(self):
        """The posterior as an ArviZ DataTree (posterior, sample_stats, log_likelihood, observed_data).

        The log-likelihood group is left out, with a note in ``environment``, when it would hold
        more than 60 million values; ``pointwise_log_likelihood()`` computes it on demand.
        """
        from .to_arviz import build_tree

        chains, samples = self.raw.stats["diverging"].shape
        log_lik = None
        if self.spec.submodels:
            self.environment.append("log_likelihood group omitted: the fit imputed predictors (pointwise "
                                    "likelihood over imputations comes with model comparison)")
        elif chains * samples * self.data.n <= LOG_LIKELIHOOD_LIMIT:
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

        return burn_in_psr(self.spec, self.raw.warmup, rows)

    @property
    def converged(self) -> bool:
        return not self.diagnostics

    def save(self, path) -> None:
        """Save to one file (a zip archive); ``multilevel.load(path)`` restores it."""
        from .persistence import save_fit

        save_fit(self, path)

    def __repr__(self) -> str:
        return (f"<multilevel.Fit {self.spec.formula!r} {self.spec.family} — {self.data.n} rows, "
                f"{self.config.chains} chains x {self.config.draws} draws>")
