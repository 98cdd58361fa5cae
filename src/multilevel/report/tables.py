"""Rich tables of estimates that stay readable in a narrow terminal.

A table that does not fit the console's width is drawn compact (no vertical rules) and, if it still
does not fit, without its least needed columns (``mean`` beside the median, then ``ess_tail``,
``ess_bulk`` and ``rhat``, which the diagnostics section checks), with a note saying so. Parameter names
are never folded mid-word: they wrap, if at all, only at spaces, and the column of names never shrinks
below its longest word.
"""

from __future__ import annotations

import math

import numpy as np
from rich import box
from rich.console import Console
from rich.table import Table

from ..results.diagnostics import ESS_LIMIT, RHAT_LIMIT

ESTIMATE_COLUMNS = ("median", "mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk", "ess_tail")
# the median is beside the mean, bulk ESS beside tail ESS; the Diagnostics section names any parameter whose
# R-hat or ESS fails its check
LEFT_OUT_FIRST = ("mean", "ess_tail", "ess_bulk", "rhat")


def number(value: float, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    magnitude = abs(value)
    if magnitude != 0 and (magnitude >= 1e5 or magnitude < 1e-3):
        return f"{value:.{digits}e}"
    return f"{value:.{digits}f}"


def longest_word(names) -> int:
    return max((len(word) for name in names for word in str(name).split()), default=1)


def natural_width(console: Console, table: Table) -> int:
    """The width ``table`` takes when nothing has to wrap."""
    return console.measure(table, options=console.options.update_width(100_000)).maximum


def _cells(row, columns) -> list[str]:
    cells = []
    for column in columns:
        value = row[column]
        if column == "rhat":
            text = number(value, 3)
            cells.append(f"[red]{text}[/red]" if value > RHAT_LIMIT else text)
        elif column.startswith("ess_"):
            text = f"{value:.0f}" if np.isfinite(value) else "—"
            cells.append(f"[red]{text}[/red]" if np.isfinite(value) and value < ESS_LIMIT else text)
        else:
            cells.append(number(value))
    return cells


def _estimates(title: str, frame, columns, compact: bool, names_whole: bool) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD if compact else
                  box.HEAVY_HEAD, pad_edge=not compact, show_edge=not compact, collapse_padding=compact)
    names = [str(name) for name in frame.index]
    table.add_column("parameter", style="cyan", no_wrap=names_whole, overflow="fold",
                     min_width=max(longest_word(names + ["parameter"]), 1))
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)  # numbers are never cut
    for name, row in frame.iterrows():
        table.add_row(str(name), *_cells(row, columns))
    return table


def estimates_table(console: Console, title: str, frame) -> tuple[Table, list[str]]:
    """The widest layout of ``frame``'s estimates that fits ``console``, and the columns left out."""
    columns = [column for column in ESTIMATE_COLUMNS if column in frame.columns]
    candidates: list[tuple[bool, list[str]]] = [(False, []), (True, [])]
    for count in range(1, len(LEFT_OUT_FIRST) + 1):
        candidates.append((True, list(LEFT_OUT_FIRST[:count])))
    for compact, left_out in candidates:
        shown = [column for column in columns if column not in left_out]
        table = _estimates(title, frame, shown, compact, names_whole=True)
        if natural_width(console, table) <= console.width:
            return table, left_out
    return _estimates(title, frame, shown, True, names_whole=False), left_out  # names wrap at spaces


def print_estimates(console: Console, title: str, frame) -> None:
    table, left_out = estimates_table(console, title, frame)
    console.print(table)
    if left_out:
        console.print(f"  [dim]({', '.join(left_out)}: not shown at this width; see fit.summary() or --json)[/dim]")


def print_frame(console: Console, title: str, frame) -> None:
    """Any table of numbers (index first), as the report prints them; the index never shrinks below its
    longest word."""
    table = Table(title=title, title_justify="left", title_style="bold")
    labels = [str(name) for name in frame.index]
    table.add_column(str(frame.index.name or ""), style="cyan", min_width=longest_word(labels + [" "]))
    for column in frame.columns:
        table.add_column(str(column), justify="right", no_wrap=True)
    for name, row in frame.iterrows():
        table.add_row(str(name), *[str(v) if isinstance(v, (bool, int, np.integer, str)) else number(float(v))
                                   for v in row])
    console.print(table)
