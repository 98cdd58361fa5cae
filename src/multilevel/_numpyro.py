"""Imported by every module that imports NumPyro, before its first ``numpyro`` import: see
:func:`multilevel._environment.load_numpyro` (ArviZ may have left a lazy stand-in for numpyro)."""

from ._environment import load_numpyro

load_numpyro()
