"""One error hierarchy for everything a user can get wrong.

Every error that concerns the user's text carries the text and the character span
of the offending token, and renders it with a caret line under the token, so the
message points into what the user wrote.
"""

from __future__ import annotations

import contextlib
import contextvars

_INTERFACE: contextvars.ContextVar[str] = contextvars.ContextVar("multilevel_interface", default="python")


@contextlib.contextmanager
def command_line():
    """Within this block, messages name command-line options instead of Python arguments (see :func:`spell`)."""
    token = _INTERFACE.set("cli")
    try:
        yield
    finally:
        _INTERFACE.reset(token)


def spell(python: str, cli: str) -> str:
    """The words for a fix in the user's language: ``spell("missing='listwise'", "--missing listwise")``."""
    return cli if _INTERFACE.get() == "cli" else python


def on_command_line() -> bool:
    return _INTERFACE.get() == "cli"


class MultilevelError(Exception):
    """Base class of every error raised by ``multilevel``."""


class TextError(MultilevelError):
    """An error located in a piece of user text (a formula or a script line)."""

    def __init__(self, message: str, text: str, start: int, end: int | None = None,
                 *, hint: str | None = None, line_number: int | None = None):
        self.message = message
        self.text = text
        self.start = max(0, min(start, len(text)))
        self.end = max(self.start + 1, end if end is not None else self.start + 1)
        self.hint = hint
        self.line_number = line_number
        super().__init__(self.render())

    def render(self) -> str:
        where = f"line {self.line_number}: " if self.line_number is not None else ""
        lines = [f"{where}{self.message}", f"    {self.text}", self.caret_line()]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)

    def caret_line(self) -> str:
        width = max(1, min(self.end, len(self.text) + 1) - self.start)
        return "    " + " " * self.start + "^" * width


class FormulaSyntaxError(TextError):
    """The formula cannot be read: a bad token, a missing parenthesis, ..."""


class SpecificationError(MultilevelError):
    """The model is readable but not valid: unknown column, unsupported term, bad prior."""


class FormulaSpecificationError(TextError, SpecificationError):
    """A specification error that can be pointed at inside the formula."""


class BlimpScriptError(TextError, SpecificationError):
    """A Blimp script cannot be read: unknown command, missing ';', bad model line, ...

    Rendered with the script's line number, the line, and a caret under the offending text followed by
    its column (counted from 1): ``line 6: ...`` / the line / ``^^ column 13``.
    """

    @property
    def column(self) -> int:
        return self.start + 1

    def caret_line(self) -> str:
        return f"{super().caret_line()} column {self.column}"


class DataError(MultilevelError):
    """The data cannot support the model: wrong outcome values, constant predictor, ..."""


class SamplingError(MultilevelError):
    """The sampler could not start or run."""


class ModelNote(UserWarning):
    """Something the user should know about how the model reads the data (not an error): e.g. a text
    column with many distinct values dummy coded into many columns. The CLI prints each as a note."""
