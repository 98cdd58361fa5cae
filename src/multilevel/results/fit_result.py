"""The analyses of a fit as methods: each a one-line delegate to a function in its own module.

:class:`FitResult` adds them to the value :class:`~multilevel.results.fit_value.FitValue`; none of them
changes the fit. ``multilevel.Fit`` (in :mod:`multilevel.api`) adds the figures and the HTML report.
"""

from __future__ import annotations

import pandas as pd

from . import bayes_factors, burn_in, data_summary, derived, effect_sizes, group_effects, imputations
from . import log_likelihood, persistence, ppc, predict, residuals
from .fit_value import LOG_LIKELIHOOD_LIMIT, FitValue
from .predict import fitted_linear_predictor
from .summaries import COLUMNS, summarize_draws

__all__ = ["FitResult", "LOG_LIKELIHOOD_LIMIT"]


class FitResult(FitValue):
    """A fitted Bayesian multilevel model: the value (see :class:`FitValue`) and what is read off it."""

    # -- tables ------------------------------------------------------------------------
    def summary(self, classes: list[str] | None = None) -> pd.DataFrame:
        """One row per parameter: mean, median, sd, q2.5, q97.5, rhat, ess_bulk, ess_tail, mcse_mean.

        ``classes`` selects rows by class: Intercept, fixed, sd, cor, var, cov, residual sd,
        residual var, family (a family's own parameters, e.g. Student-t's nu), ICC, predictor model
        (models of incomplete predictors), missingness model.
        """
        frame = self.summary_frame
        if classes is not None:
            frame = frame[frame["class"].isin(classes)]
        return frame[COLUMNS].copy()

    def fixed_effects(self) -> pd.DataFrame:
        return self.summary(["Intercept", "fixed"])

    def variance_components(self) -> pd.DataFrame:
        """Variances and covariances, and the same as SDs and correlations, with the residual."""
        return self.summary(["sd", "cor", "var", "cov", "residual sd", "residual var", "family"])

    def icc(self) -> pd.DataFrame:
        """Intraclass correlation per grouping factor with a random intercept (see docs for the definition)."""
        return self.summary(["ICC"])

    def random_effects(self, factor: str | None = None) -> pd.DataFrame:
        """Per-group effects (deviations from the fixed effects): factor, level, term and their summary."""
        return group_effects.random_effects(self.spec, self.draws, factor)

    def latent_means(self, variable: str | None = None) -> pd.DataFrame:
        """Posterior summaries of the latent cluster means (``latent_mean(x)``): variable, cluster and summary."""
        return group_effects.latent_means(self.spec, self.draws, variable)

    def missing_data_patterns(self) -> pd.DataFrame:
        """Blimp's missing-data pattern table over the model's variables in the rows used: one row per
        pattern, True where missing, with the number and percentage of rows."""
        return data_summary.fit_missing_patterns(self.spec, self.data, self.frame)

    # -- derived quantities ---------------------------------------------------------------
    def derive(self, definitions: dict[str, str], labels: dict[str, str] | None = None) -> pd.DataFrame:
        """Functions of parameters as full posteriors (Blimp's PARAMETERS), e.g.
        ``fit.derive({"ratio": "b1 / b2"}, labels={"b1": "x1", "b2": "x2"})``. Expressions use numbers,
        labels, coefficient names that are plain words, the fit's own definitions, + - * / ^ and sqrt, log,
        exp, abs; they are parsed, never evaluated as Python. Returns their summaries; the fit is not
        changed (``fit.with_quantities(definitions, labels)`` gives a fit whose reports show them)."""
        return derived.derive(self, definitions, labels)

    def derived_quantities(self) -> pd.DataFrame:
        """Summaries of the quantities the fit carries (a script's PARAMETERS, or ``with_quantities``)."""
        return derived.derived_table(self, self.quantities)

    def conditional_effects(self, focal: str, moderator: str, at=None) -> pd.DataFrame:
        """The effect of ``focal`` at values of ``moderator`` (Blimp's SIMPLE): b_focal + b_focal:moderator ×
        value. ``at``: moderator values on the data's scale; default its mean and mean ± 1 SD."""
        return derived.conditional_effects(self, focal, moderator, at)

    def johnson_neyman(self, focal: str, moderator: str, level: float = 0.95, points: int = 400) -> pd.DataFrame:
        """Regions of ``moderator`` (over its observed range) where the ``level`` credible interval of the
        conditional effect of ``focal`` excludes zero: one row per region (from, to, sign)."""
        return derived.johnson_neyman(self, focal, moderator, level, points)

    # -- effect sizes ----------------------------------------------------------------------
    def variance_explained(self, by_level: bool = False) -> pd.DataFrame:
        """Proportion of the model-implied outcome variance due to the coefficients, each factor's random
        intercepts and random slopes, and the level-1 residual (Rights & Sterba 2019; Blimp's
        "Proportion Variance Explained"). Rows sum to 1 in every draw. ``by_level=True``: the within- and
        between-cluster decomposition (over the first grouping factor) and the model-implied and
        conditional ICCs instead."""
        return effect_sizes.variance_explained(self, by_level)

    def standardized_coefficients(self, by_level: bool = False) -> pd.DataFrame:
        """Each coefficient times its predictor's SD, divided by the model-implied outcome SD (per draw).
        ``by_level=True``: within-cluster (predictor's within SD over the within part of the outcome's SD)
        and between-cluster versions, where the predictor varies at that level."""
        return effect_sizes.standardized_coefficients(self, by_level)

    def residual_correlations(self) -> pd.DataFrame:
        """Correlations among the level-1 residuals of the focal model and the models of incomplete continuous
        predictors, per draw over the completed data (Blimp's "correlations among residuals")."""
        draws = residuals.residual_correlation_draws(self, fitted_linear_predictor(self))
        return summarize_draws(draws, *self.shape)

    # -- prediction and checks ---------------------------------------------------------------
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
        return predict.predict(self, newdata, kind=kind, include_random=include_random, summary=summary, seed=seed)

    def ppc(self, draws: int = 500, seed: int | None = None) -> pd.DataFrame:
        """Posterior predictive checks: for each test statistic (mean, SD, min, max; share of zeros for counts,
        share of ones for binary outcomes; SD of the cluster means per grouping factor) its observed value,
        the replicated distribution (mean, 2.5% and 97.5%) over ``draws`` replicated data sets, and the
        posterior predictive p-value P(T(y_rep) >= T(y)). Observed outcomes only."""
        return ppc.posterior_predictive_check(self, draws, seed)[0]

    def posterior_predictive(self, draws: int = 500, seed: int | None = None):
        """Replicated outcomes (replicates x rows with an observed outcome) from ``draws`` posterior draws."""
        return ppc.replicated_outcomes(self, draws, seed)

    def with_posterior_predictive(self, seed: int | None = None):
        """The same fit whose ``tree`` has a posterior_predictive group: one replicated data set per kept draw
        (chain, draw, rows with an observed outcome), for ArviZ's predictive checks."""
        from .posterior_predictive import posterior_predictive_group

        return self.with_groups(posterior_predictive=posterior_predictive_group(self, seed))

    def check(self) -> list[str]:
        """The convergence checks (R-hat, ESS, divergences, tree depth): the messages of those that fail."""
        return self.diagnostics

    def burn_in_psr(self, rows: int = 20) -> pd.DataFrame:
        """Blimp's burn-in PSR table: the highest R-hat over the parameters in expanding windows of the
        warmup (iterations from, to; R-hat; which parameter, named as in ``summary()``). Empty with one chain."""
        key = ("burn-in psr", rows)
        if key not in self._memo:
            self._memo[key] = burn_in.burn_in_psr(self.spec, self.raw.warmup, rows)
        return self._memo[key].copy()

    # -- likelihood-based criteria ------------------------------------------------------------
    def pointwise_log_likelihood(self):
        """log p(y_i | parameters) for every draw and row with an observed outcome: (chain, draw, rows).

        With imputed predictors this is conditional on the imputations: each draw's own imputed values
        enter the linear predictor (Blimp's "conditional likelihood"); rows whose outcome is missing have
        no term."""
        return log_likelihood.pointwise_log_likelihood(self)

    def information_criteria(self, likelihood: str = "conditional") -> pd.DataFrame:
        """DIC (plug-in at the posterior mean of each row's linear predictor), DIC2 (D̄ + var(D)/2, as
        Blimp), WAIC and PSIS-LOO for the observed outcomes of the focal model: elpd (log scale), its SE,
        the effective number of parameters p, and the criterion on the deviance scale (smaller is
        better). With imputed predictors, ``likelihood="conditional"`` scores each outcome given each
        draw's imputations (Blimp's "conditional likelihood"); ``"marginal"`` given only the observed
        predictors, the imputed ones integrated over their predictor models by Monte Carlo (see
        :mod:`multilevel.results.marginal`; no plug-in DIC). ``attrs["notes"]`` says how reliable LOO and
        WAIC are."""
        from . import information  # with xarray and arviz-stats, when first asked

        return information.information_criteria(self, likelihood)

    def loo(self, likelihood: str = "conditional"):
        """PSIS-LOO of the observed outcomes as ArviZ gives it (``arviz_stats.ELPDDataLOO``: elpd, se, p,
        pointwise elpd_i and pareto_k); ``likelihood`` as in :meth:`information_criteria`."""
        from . import information  # with xarray and arviz-stats, when first asked

        return information.loo(self, likelihood)

    def waic(self, likelihood: str = "conditional"):
        """WAIC of the observed outcomes in ArviZ's container (elpd, se, p, elpd_i; ``warning`` when a
        row's log-likelihood varies by more than 0.4 across draws); ``likelihood`` as above."""
        from . import information  # with xarray and arviz-stats, when first asked

        return information.waic(self, likelihood)

    def log_marginal_likelihood(self, seed: int | None = None) -> pd.Series:
        """log p(data) by bridge sampling (as R's bridgesampling, normal proposal), with ``error``, the
        approximate SD of the log estimate. Needs proper priors. With missing data it is the marginal
        likelihood of everything observed (outcomes and the modelled predictors' observed values)."""
        return pd.Series(bayes_factors.log_marginal_likelihood(self, seed))

    def bayes_factor(self, hypothesis: str) -> pd.Series:
        """Savage–Dickey density ratio for a point hypothesis on one coefficient, e.g. ``"x1 = 0"``: BF01
        (evidence for the hypothesis), BF10 and log BF10, with the posterior and prior densities at the value."""
        return bayes_factors.savage_dickey(self, hypothesis)

    # -- imputations and saving ---------------------------------------------------------------
    def imputations(self, count: int = 20) -> pd.DataFrame:
        """``count`` completed data sets from well-separated posterior draws, stacked, with an
        ``imputation`` column (1..count): the rows used, every missing value filled."""
        return imputations.completed_datasets(self, count)

    def average_imputation(self) -> pd.DataFrame:
        """The rows used with each missing value replaced by its posterior mean."""
        return imputations.average_imputation(self)

    def imputed_data_summaries(self, count: int | None = None) -> pd.DataFrame:
        """Blimp's imputed data summaries: mean, SD, quartiles, min and max of each imputed variable's
        completed column, averaged over completed data sets (default: every kept draw)."""
        return imputations.imputed_data_summaries(self, count)

    def save_imputations(self, path, count: int = 20, average_path=None) -> None:
        """Write the stacked completed data sets (``.csv`` or ``.parquet``), and the average if asked."""
        imputations.save_imputations(self, path, count, average_path)

    def save(self, path, include_data: bool = True) -> None:
        """Save to one file; ``multilevel.load(path)`` restores it.

        A path ending in ``.zip`` gets a zip archive (as multilevel wrote before); any other (``fit.nc``) a
        NetCDF4 file holding ``fit.tree`` (posterior, sample_stats, log_likelihood, observed_data,
        constant_data, ...) with the fit's description in its attributes, which
        ``xarray.open_datatree(path)`` and ArviZ read without multilevel. ``load`` tells the formats apart
        by their content.

        The file holds the model, the draws and, by default, the data used (the rows and columns the
        model read): whoever gets the file gets those data. With ``include_data=False`` it holds no data
        rows, only a fingerprint of them (row count, column names and a SHA-256 of the values); load it
        with ``multilevel.load(path, data=frame)``, which refuses data other than those the fit was
        made with; a NetCDF4 file then also leaves out the tree's groups that hold the data's values
        (observed_data, constant_data, log_likelihood, imputed_data). The file is written whole or not at
        all, and checksums let ``load`` detect a file that was truncated or edited since.
        """
        persistence.save_fit(self, path, include_data=include_data)
