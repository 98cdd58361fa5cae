"""What a catalogue case is, and the two ways of running one (API, CLI)."""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

import multilevel as ml
from multilevel.errors import MultilevelError


@dataclass(frozen=True)
class Case:
    """``run(tmp)`` gets an empty folder and returns the message the user sees (use :func:`api_error` or
    :func:`cli_error`); the message must contain every fragment of ``expect``."""

    id: str
    area: str
    given: str  # the input, as the catalogue shows it
    run: Callable[[Path], str]
    expect: tuple[str, ...] = field(default_factory=tuple)


class NoError(AssertionError):
    pass


def api_error(call: Callable[[], object]) -> str:
    """Run ``call``; it must raise a :class:`MultilevelError` with a message. Returns the message."""
    try:
        call()
    except MultilevelError as error:
        message = str(error)
        assert message.strip(), "a MultilevelError without a message"
        return message
    raise NoError("no error was raised")


def cli_error(argv: list[str], code: int = 2) -> str:
    """Run the CLI; it must exit with ``code`` and print an ``error:`` line before any sampler is compiled.
    Returns what it printed to stderr."""
    from unittest import mock

    from multilevel import api
    from multilevel.cli import main

    def no_sampling(*args, **kwargs):
        raise AssertionError("the sampler was about to be compiled: the error must come before that")

    stderr, stdout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout), \
            mock.patch.object(api, "compiled_sampler", no_sampling):
        returned = main(argv)
    text = stderr.getvalue()
    assert returned == code, f"exit code {returned}, wanted {code}; stderr: {text!r}"
    assert text.startswith("error: "), f"stderr does not start with 'error: ': {text!r}"
    assert "Traceback" not in text
    return text[len("error: "):].rstrip("\n")


def normalized(message: str, tmp: Path) -> str:
    """The message with the test's temporary folder written as ``<tmp>``, so the catalogue is stable."""
    text = message.replace(str(tmp.resolve()), "<tmp>").replace(str(tmp), "<tmp>")
    return re.sub(r"\s+$", "", text, flags=re.M)


__all__ = ["Case", "api_error", "cli_error", "normalized", "ml"]
