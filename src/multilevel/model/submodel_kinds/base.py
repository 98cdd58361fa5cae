"""What a submodel kind is: one protocol every kind of submodel (predictor model, missingness model) implements.

A submodel is a regression in the joint model besides the focal one. Its kind says how its variable is
coded and modelled: which parameters it has besides an intercept, coefficients and a random-intercept SD,
its log density per row, how its variable's missing values are treated (sampled, summed out, or none) and
how its parameters are put back into the variable's units. Everything outside the kind modules asks the
kind, never its name. Functions that compute on draws take the array namespace ``xp`` (NumPy or JAX) and
``special`` (``log_ndtr``, ``log_softmax`` for that namespace) from the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class ExtraParameter:
    """A submodel parameter besides its intercept, coefficients and random-intercept SD.

    ``site`` follows ``"<variable> ~ "`` in the sample site's name; ``prior`` names its prior among the
    submodel's priors; ``size`` 0 is a scalar; ``sd_scaled``: the prior is in the variable's units (a
    residual SD), else on the latent scale.
    """

    key: str
    site: str
    prior: str
    size: int = 0
    sd_scaled: bool = False


class SubmodelKind:
    """One kind of submodel (override what differs). Instances are stateless singletons."""

    name: ClassVar[str]
    role: ClassVar[str] = "predictor model"
    method: ClassVar[str] = ""
    """How the variable is modelled, as the reports say it ("ordinal probit"); empty for a regression."""
    imputes: ClassVar[bool] = True
    """The model's variable may have missing values that are imputed from it (False: a missingness model)."""
    sampled: ClassVar[bool] = False
    """Its variable's missing values are parameters, sampled with the others."""
    discrete: ClassVar[bool] = False
    """Its variable travels as category codes; its missing values are summed out and drawn afterwards."""
    per_category: ClassVar[bool] = False
    """One linear predictor (intercept, coefficients, random intercept) per category after the first."""
    gaussian_units: ClassVar[bool] = False
    """The model sees its variable standardized (location, scale), a continuous residual."""
    conditionally_normal: ClassVar[bool] = False
    """A normal regression: given the other variables its variable is normal with the mean its linear
    predictor gives and the SD :meth:`residual_sd` gives, so missing values of it can be integrated out."""
    integrable_selection: ClassVar[bool] = False
    """A probit model of an observed indicator: averaged over normal uncertainty in its linear predictor it
    has the closed form :meth:`integrated_row_log_density`."""

    @property
    def label(self) -> str:
        return f"{self.role} ({self.method})" if self.method else self.role

    def extra_parameters(self, categories: int) -> tuple[ExtraParameter, ...]:
        """Parameters besides the intercept, coefficients and random-intercept SD (``categories``: how many
        the variable has, 0 for a continuous one)."""
        return ()

    def linear_predictors(self, categories: int) -> int:
        """Linear predictors per row when the kind has one per category (the intercept, coefficients, SD
        and random intercepts gain a last axis of this size); 0 for the usual one."""
        return 0

    def details(self, submodel) -> str:
        """What the text report adds after the method ("binary", "4 categories, reference a")."""
        return ""

    def codes(self, raw: np.ndarray, categories: tuple) -> np.ndarray | None:
        """The variable's category codes (-1 where missing), or None when it is not coded."""
        return None

    def unknown(self, raw: np.ndarray) -> np.ndarray:
        """Where the variable's values (as stored in the model's data) are missing."""
        return np.isnan(np.asarray(raw).astype(float))

    def category_values(self, categories: tuple) -> np.ndarray | None:
        """Per code, the value the variable takes in the other models' predictors (None: not coded)."""
        return None

    def value_of_code(self, code, category_values, xp):
        """The variable's value in other models' predictors when its code is ``code``."""
        return xp.asarray(category_values)[code]

    def row_log_density(self, observed, mean, parameters: dict, xp, special):
        """log p(observed | mean, parameters) per row: ``observed`` is the standardized value, the
        indicator, or the code (discrete kinds); ``mean`` the linear predictor(s)."""
        raise NotImplementedError

    def residual_sd(self, parameters: dict):
        """The residual SD (standardized units) of a :attr:`conditionally_normal` kind."""
        raise NotImplementedError

    def integrated_row_log_density(self, observed, mean, variance, xp, special):
        """log E[p(observed | mean + u)] per row over u ~ N(0, ``variance``), for an
        :attr:`integrable_selection` kind."""
        raise NotImplementedError

    def user_units(self, j: int, submodel, constrained: dict) -> dict[str, Any]:
        """Submodel j's intercept, coefficients, random intercepts, own parameters and imputed values in the
        variable's units, from the internal constrained draws."""
        name, location, unit = submodel.outcome, submodel.location, submodel.scale
        out = {}
        intercept = location + unit * np.asarray(constrained[f"{name} ~ Intercept"])
        if submodel.columns:
            coefficients = np.asarray(constrained[f"{name} ~ b"]) * unit / np.asarray(submodel.column_sds)
            out[f"submodel {j} b"] = coefficients
            intercept = intercept - coefficients @ np.asarray(submodel.column_means)
        out[f"submodel {j} Intercept"] = intercept
        out.update(self.own_user_units(j, submodel, constrained))
        if submodel.factor is not None:
            out[f"submodel {j} sd"] = np.asarray(constrained[f"{name} ~ sd"]) * unit
            if submodel.level == 1 and f"{name} ~ z" in constrained:  # the clusters' random intercepts
                out[f"submodel {j} effects"] = (np.asarray(constrained[f"{name} ~ z"])
                                                * out[f"submodel {j} sd"][..., None])
        if submodel.missing_count:
            out[f"imputed {name}"] = location + unit * np.asarray(constrained[f"missing_{name}"])[
                ..., :submodel.missing_count]
        return out

    def own_user_units(self, j: int, submodel, constrained: dict) -> dict[str, Any]:
        """The kind's own parameters (:meth:`extra_parameters`) in the variable's units."""
        return {}

    def __repr__(self) -> str:
        return f"<submodel kind {self.name}>"
