"""Kinds of submodel (the regressions of a joint model besides the focal one): one module per kind.

A new kind is a module defining a :class:`~.base.SubmodelKind` subclass and ``KIND``, plus its line in
``_MODULES`` below.
"""

from __future__ import annotations

from . import gaussian, missingness, nominal, ordinal
from .base import ExtraParameter, SubmodelKind

_MODULES = (gaussian, ordinal, nominal, missingness)
REGISTRY: dict[str, SubmodelKind] = {module.KIND.name: module.KIND for module in _MODULES}
GAUSSIAN, ORDINAL, NOMINAL, MISSINGNESS = (module.KIND for module in _MODULES)

__all__ = ["ExtraParameter", "GAUSSIAN", "MISSINGNESS", "NOMINAL", "ORDINAL", "REGISTRY", "SubmodelKind"]
