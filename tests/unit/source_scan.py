"""Lines of the package's source that match a pattern, outside some folder: for tests that no module asks
for a kind's name."""

from __future__ import annotations

import re
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "multilevel"


def lines_asking(pattern: str, outside: str) -> list[str]:
    """``path:line: text`` of every source line matching ``pattern`` in modules not under a folder ``outside``."""
    asking = re.compile(pattern)
    return [f"{path.relative_to(SOURCE)}:{number}: {line.strip()}"
            for path in sorted(SOURCE.rglob("*.py")) if outside not in path.parts
            for number, line in enumerate(path.read_text().splitlines(), 1) if asking.search(line)]
