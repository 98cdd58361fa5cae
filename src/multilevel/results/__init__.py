"""Draws → ArviZ DataTree with named dims and coords; summaries, diagnostics, ICC, prediction."""
