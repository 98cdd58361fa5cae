"""Blimp scripts → the same model as the formula front end.

``load_script(path)`` reads a Blimp script (:func:`multilevel.syntax.parse_script`), reads its
data (DATA relative to the script; CSV, or whitespace ``.dat`` with VARIABLES; MISSING code;
:mod:`.blimp_data`), translates the MODEL lines into formula trees built from the script's own
nodes — the focal model, stated predictor models and missingness (selection) models
(:mod:`.blimp_translate`, :mod:`.blimp_formulas`) — and builds the model once, so that every
mistake, in the script or found by the model, is an error citing the script's line and column with
a caret under the text (:mod:`.blimp_quantities`). ``fit_script(path)`` fits it. Sampler settings
map as Blimp defines them (:mod:`.blimp_settings`): BURN is per chain (our warmup), ITERATIONS is
the total across chains (draws per chain = ITERATIONS / chains); the fit records that mapping in
``fit.environment``.
"""

from __future__ import annotations

from pathlib import Path

from .blimp_data import read_data, read_script_text
from .blimp_places import ScriptDataError
from .blimp_quantities import apply_quantities, build_script_model, check_quantities, save_script_imputations
from .blimp_settings import OPTIONS
from .blimp_translate import NOT_YET, ScriptModel, translate
from .syntax.blimp_script import parse_script

__all__ = ["NOT_YET", "OPTIONS", "ScriptDataError", "ScriptModel", "apply_quantities", "build_script_model",
           "check_quantities", "load_script", "read_script_text", "save_script_imputations", "translate"]


def load_script(path) -> ScriptModel:
    """Read and translate a Blimp script and its data (paths relative to the script). The model is built
    here (no sampling), and labels, PARAMETERS and SIMPLE are checked against it, so that a mistake is an
    error citing the script before sampling rather than after it."""
    path = Path(path)
    script = parse_script(read_script_text(path))
    data = read_data(script, path.parent)
    translated = translate(script, data)
    check_quantities(translated, build_script_model(translated))
    return translated
