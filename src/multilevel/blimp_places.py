"""Errors at a place in a Blimp script: its line, shown with a caret under the text, and its column.

Every value of the parsed script keeps where it is (:class:`multilevel.syntax.ast.Origin`): a
command's value and each of its items, each MODEL node, each CENTER name, each PARAMETERS node.
These helpers turn such a place into a :class:`BlimpScriptError` (or a :class:`ScriptDataError`).
"""

from __future__ import annotations

import difflib

import pandas as pd

from .errors import BlimpScriptError, DataError
from .syntax import ast
from .syntax.blimp_script import BlimpScript, Command


class ScriptDataError(BlimpScriptError, DataError):
    """A problem with a script's data (its file, its names, its missing-value code), cited at the script
    line that asks for it. Both a :class:`BlimpScriptError` and a :class:`DataError`."""


def error_at(script: BlimpScript, origin: ast.Origin | None, message: str, hint: str | None = None,
             kind: type[BlimpScriptError] = BlimpScriptError) -> BlimpScriptError:
    """An error at ``origin`` (without one, the script's first line)."""
    return script.error_at(origin, message, hint, kind)


def node_error(script: BlimpScript, node: ast.Node, message: str, hint: str | None = None) -> BlimpScriptError:
    """An error under a node of a MODEL line (every such node knows its place in the script)."""
    return script.error_at(node.origin, message, hint)


def command_error(script: BlimpScript, command: Command | None, message: str, word: str | None = None,
                  hint: str | None = None, kind: type[BlimpScriptError] = BlimpScriptError) -> BlimpScriptError:
    """An error under the item ``word`` of ``command`` (without ``word``, or when no item is written so,
    under the command's value; without a command, on the script's first line)."""
    origin = None
    if command is not None:
        origin = (command.item_origin(word) if word else None) or command.origin
    return script.error_at(origin, message, hint, kind)


def unknown_variable(name: str) -> str:
    return f"'{name}' is not a variable of the data"


def variable_hint(name: str, data: pd.DataFrame) -> str:
    """'Did you mean ...?' and the data's variables, for a name that is not one of them."""
    columns = [str(column) for column in data.columns]
    close = difflib.get_close_matches(name, columns, n=3, cutoff=0.6)
    if not close:
        lowered = {column.lower(): column for column in columns}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    shown = ", ".join(columns[:40]) + (f", ... ({len(columns)} in all)" if len(columns) > 40 else "")
    suggestion = f"Did you mean {' or '.join(repr(item) for item in close)}? " if close else ""
    return f"{suggestion}The data's variables: {shown}."


def names_in(node: ast.Node) -> list[str]:
    """The variable names inside a MODEL term (a product, a power, a range, a negation)."""
    if isinstance(node, ast.Name):
        return [node.name]
    if isinstance(node, ast.Binary):
        return names_in(node.left) + names_in(node.right)
    if isinstance(node, ast.Unary):
        return names_in(node.operand)
    return []


def name_node(node: ast.Node, name: str) -> ast.Node:
    """The Name node called ``name`` inside ``node`` (for a caret under the very name)."""
    if isinstance(node, ast.Name):
        return node
    for child in ([node.left, node.right] if isinstance(node, ast.Binary) else
                  [node.operand] if isinstance(node, ast.Unary) else
                  [node.terms, node.group] if isinstance(node, ast.RandomTerm) else []):
        if name in names_in(child):
            return name_node(child, name)
    return node
