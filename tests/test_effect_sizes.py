"""Standardized coefficients and the variance decomposition (Rights & Sterba), recomputed by hand."""

import numpy as np
import pytest

import multilevel as ml
from multilevel.errors import SpecificationError

from .conftest import quick


def test_variance_decomposition_and_standardized_coefficients_by_hand(sleepstudy):
    fit = ml.fit("Reaction ~ Days + (Days | Subject)", sleepstudy, **quick())
    draws = {name: value.reshape(-1, *value.shape[2:]) for name, value in fit.draws.items()}
    days = sleepstudy["Days"].to_numpy(float)
    b, sd, cor, sigma = draws["b"][:, 0], draws["sd_0"], draws["cor_0"][:, 1, 0], draws["sigma"]
    fixed = b ** 2 * days.var(ddof=1)
    slopes = sd[:, 1] ** 2 * days.var(ddof=1)
    intercepts = sd[:, 0] ** 2 + 2 * days.mean() * cor * sd[:, 0] * sd[:, 1] + days.mean() ** 2 * sd[:, 1] ** 2
    total = fixed + slopes + intercepts + sigma ** 2
    shares = fit.variance_explained()
    for name, part in {"coefficients": fixed, "random slopes | Subject": slopes,
                       "random intercepts | Subject": intercepts, "residual": sigma ** 2}.items():
        np.testing.assert_allclose(shares.loc[name, "mean"], np.mean(part / total), rtol=1e-10)
    np.testing.assert_allclose(shares["mean"].sum(), 1.0, rtol=1e-12)
    standardized = fit.standardized_coefficients()
    np.testing.assert_allclose(standardized.loc["Days", "median"],
                               np.median(b * days.std(ddof=1) / np.sqrt(total)), rtol=1e-10)


def test_latent_scale_for_binary_outcomes_and_a_clear_error_for_counts():
    data = ml.datasets.load("cbpp")
    fit = ml.fit("incidence | trials(size) ~ period + (1 | herd)", data, **quick())
    shares = fit.variance_explained()
    assert list(shares.index) == ["coefficients", "random intercepts | herd", "residual"]
    assert 0.5 < shares.loc["residual", "median"] < 1.0  # pi^2/3 on the logit scale dominates
    fit = ml.fit("incidence ~ period + (1 | herd)", data, family="poisson", **quick())
    with pytest.raises(SpecificationError, match="latent scale"):
        fit.variance_explained()
