"""The parsed Blimp script: frozen values, each with where it is in the script.

Node spans inside a :class:`ModelLine` or :class:`Definition` are offsets into its
``text``; every such node also has an ``origin`` (:class:`multilevel.syntax.ast.Origin`):
its offsets, line and column in the script. :meth:`BlimpScript.error_at` turns an origin
into an error showing that line with a caret under the text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..errors import BlimpScriptError
from . import ast
from .blimp_commands import canonical_name
from .blimp_source import ScriptSource


@dataclass(frozen=True)
class Command:
    """One ``NAME: value;`` command (MODEL, PARAMETERS, SIMPLE and CENTER have their own structures).

    ``value`` is the text after the colon with comments removed, lines joined by a space
    and the final ``;`` dropped; a command that owns several statements (SAVE, LATENT,
    TRANSFORM) joins them with ``"; "`` and also lists them one by one in ``statements``.
    ``items`` is the value split on white space, commas and semicolons. Variable ranges
    such as ``attent1:attent9`` stay one item. ``origin`` is where the value is in the
    script (all its statements), ``item_origins`` where each item is.
    """

    name: str
    value: str
    items: tuple[str, ...]
    line: int
    statements: tuple[str, ...] = ()
    origin: ast.Origin | None = None
    item_origins: tuple[ast.Origin, ...] = ()

    def item_origin(self, item: str) -> ast.Origin | None:
        """Where the first item written ``item`` is in the script."""
        return next((origin for text, origin in zip(self.items, self.item_origins) if text == item), None)


@dataclass(frozen=True)
class ModelLine:
    """One statement of the MODEL command.

    ``kind`` is ``"regression"`` (``y ~ x1 x2 | x1``), ``"arrow"`` (``x -> y1 y2``: each
    variable on the right is regressed on everything on the left; ``intercept -> y``
    gives an empty model) or ``"covariance"`` (``a ~~ b``, which Blimp echoes as
    ``a <-> b``: residual covariance; ``outcomes`` holds the left side and
    ``predictors`` the right side). ``labels`` pairs an index into ``predictors`` with
    the text after ``@``; ``outcome_labels`` does the same for the outcomes of an arrow
    line (``f -> item1@loading1``). Node spans are offsets into ``text``; ``origin`` is
    where the statement is in the script.
    """

    block: str | None
    kind: str
    outcomes: tuple[ast.Node, ...]
    predictors: tuple[ast.Node, ...]
    random: tuple[ast.Node, ...]
    labels: tuple[tuple[int, str], ...]
    line: int
    text: str
    outcome_labels: tuple[tuple[int, str], ...] = ()
    origin: ast.Origin | None = None


@dataclass(frozen=True)
class Centering:
    """One CENTER statement: ``groupmean = x1 x2`` (also written ``cwc``) centres within
    clusters; ``grandmean = x3`` (also ``cgm``), or a bare list of names, at the grand mean.
    ``origins`` are where the ``variables`` are in the script."""

    kind: str
    variables: tuple[str, ...]
    line: int
    origins: tuple[ast.Origin, ...] = ()


@dataclass(frozen=True)
class Definition:
    """One PARAMETERS statement, ``name = expression``: a quantity derived from labelled
    parameters at every iteration. Spans of ``expression`` are offsets into ``text``."""

    name: str
    expression: ast.Node
    line: int
    text: str
    origin: ast.Origin | None = None


@dataclass(frozen=True)
class SimpleEffect:
    """One SIMPLE statement, ``focal | moderator [= values]``: the conditional effect of
    ``focal`` at values of ``moderator`` (``values`` is empty when none are given)."""

    focal: str
    moderator: str
    values: tuple[float, ...]
    line: int
    focal_origin: ast.Origin | None = None
    moderator_origin: ast.Origin | None = None


@dataclass(frozen=True)
class BlimpScript:
    text: str
    commands: tuple[Command, ...]
    model: tuple[ModelLine, ...]
    centering: tuple[Centering, ...]
    parameters: tuple[Definition, ...]
    simple: tuple[SimpleEffect, ...]

    def command(self, name: str) -> Command | None:
        """The command called ``name`` (any case; ``ITER`` finds ITERATIONS), or None."""
        canonical = canonical_name(name)
        return next((command for command in self.commands if command.name == canonical), None)

    @functools.cached_property
    def source(self) -> ScriptSource:
        return ScriptSource(self.text)

    def error_at(self, origin: ast.Origin | None, message: str, hint: str | None = None,
                 kind: type[BlimpScriptError] = BlimpScriptError) -> BlimpScriptError:
        """An error at ``origin``: its line, shown with a caret under the text (without an origin, the
        first line of the script)."""
        if origin is None:
            first = self.text.split("\n", 1)[0]
            origin = self.source.origin(0, max(1, len(first.rstrip())))
        return self.source.error_at(origin, message, hint, kind)
