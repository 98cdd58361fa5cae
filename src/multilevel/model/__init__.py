"""Frozen model specification: variables, terms, random-effect blocks, families, priors. No JAX here."""
