"""Collect the catalogue's cases and render ``docs/bad-input.md``; ``python -m tests.bad_input.catalogue``
rewrites the document from what the cases give today."""

from __future__ import annotations

import html
import importlib
import pkgutil
import sys
import tempfile
from pathlib import Path

from . import __path__ as package_path
from .cases import Case, normalized

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "bad-input.md"
HEADER = """# Bad input and what it gets

Each row is an input a careless or hostile user might give, through the Python API or the command
line, and the message it gets, before anything is compiled or sampled. The table is generated from
the test cases in `tests/bad_input/` (`python -m tests.bad_input.catalogue`), and a test fails when
a message here differs from what the package prints, so it stays true. On the command line every
message is one `error: ...` block and exit status 2; anything unexpected is an "internal error"
with the traceback shown under `--debug`.
"""


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for module in sorted(info.name for info in pkgutil.iter_modules(package_path) if info.name.startswith("cases_")):
        cases.extend(importlib.import_module(f"{__package__}.{module}").CASES)
    seen = set()
    for case in cases:
        assert case.id not in seen, f"two catalogue cases are called {case.id!r}"
        seen.add(case.id)
    return cases


def row(case: Case, message: str) -> str:
    return (f'<tr id="{case.id}"><td>{html.escape(case.area)}</td><td><pre>{html.escape(case.given)}</pre></td>'
            f"<td><pre>{html.escape(message)}</pre></td></tr>")


def rows_in_document() -> dict[str, str]:
    if not DOCUMENT.exists():
        return {}
    found = {}
    for line in DOCUMENT.read_text(encoding="utf-8").splitlines():
        if line.startswith('<tr id="'):
            found[line.split('"', 2)[1]] = line
    return found


def render(cases: list[Case], messages: dict[str, str]) -> str:
    body = [row(case, messages[case.id]).replace("\n", "&#10;") for case in cases]
    return (HEADER + "\n<table>\n<tr><th>area</th><th>input</th><th>message</th></tr>\n" + "\n".join(body)
            + "\n</table>\n")


def rendered_row(case: Case, message: str) -> str:
    return row(case, message).replace("\n", "&#10;")


def main() -> int:
    messages = {}
    cases = all_cases()
    for case in cases:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            messages[case.id] = normalized(case.run(tmp), tmp)
    DOCUMENT.parent.mkdir(exist_ok=True)
    DOCUMENT.write_text(render(cases, messages), encoding="utf-8")
    print(f"{DOCUMENT}: {len(cases)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
