"""ModelSpec → a NumPyro model over internal (standardized) units, and back to the data's units.

The backend in stages, one module each:

- :mod:`.model_arrays` — :class:`ModelArrays` (the data as the compiled model sees them) and padded sizes;
- :mod:`.internal_units` — priors, design and arrays in the internal units (:func:`internal_arrays`);
- :mod:`.absorption` — hierarchical centering (which fixed effects are a centered block's means);
- :mod:`.marginal_likelihood` — Gaussian random effects integrated out exactly;
- :mod:`.submodel_plans` — the missing-data arrays and each submodel's compiled shape;
- :mod:`.blueprint` — the :class:`Blueprint` that shapes the compiled program;
- :mod:`.linear_predictor` — the one linear predictor (NumPy and JAX);
- :mod:`.random_effects` — random-effect structures as kinds (one module each, one registry);
- :mod:`.model_function` — :func:`make_model`, with :mod:`.submodels` and :mod:`.discrete`;
- :mod:`.posterior_draws` — values drawn after sampling; :mod:`.user_units` — :func:`to_user_units`.

Internally the outcome of a Gaussian model is (y − location)/scale, fixed design columns are centred (with an
intercept) and divided by their SD, and random-effect columns are divided by their SD. That is an exact
reparameterization: every prior is mapped to the internal units (``Prior.scaled`` / ``shifted``) and every
draw is mapped back in :func:`to_user_units`, so users only ever see the data's units.

This module gathers the names the rest of the package uses, so they can be imported from one place.
"""

from __future__ import annotations

from .absorption import Absorption, absorption, group_designs
from .blueprint import BlockPlan, Blueprint, blueprint
from .discrete import MASKED, MAX_CONFIGURATIONS, discrete_configurations, with_categories
from .internal_units import (InternalPriors, internal_arrays, internal_column_means, internal_design, internal_priors,
                             model_constants)
from .marginal_likelihood import marginal_log_likelihood, marginalized, sufficient_statistics
from .model_arrays import LOG_2PI, ModelArrays, bucket
from .model_function import completed_designs, make_model
from .posterior_draws import draw_discrete, draw_integrated, draw_latent_means, draw_marginalized, traced_sites
from .random_effects import RandomEffectStructure, structure_of
from .sites import constraint_of
from .submodel_plans import SubmodelPlan
from .user_units import to_user_units

__all__ = ["Absorption", "BlockPlan", "Blueprint", "InternalPriors", "LOG_2PI", "MASKED", "MAX_CONFIGURATIONS",
           "ModelArrays", "RandomEffectStructure", "SubmodelPlan", "absorption", "blueprint", "bucket",
           "completed_designs", "constraint_of",
           "discrete_configurations", "draw_discrete", "draw_integrated", "draw_latent_means", "draw_marginalized",
           "group_designs",
           "internal_arrays", "internal_column_means", "internal_design", "internal_priors", "make_model",
           "marginal_log_likelihood", "marginalized", "model_constants",
           "structure_of", "sufficient_statistics", "to_user_units", "traced_sites", "with_categories"]
