"""Every catalogue case gets a clear error (no traceback), and docs/bad-input.md shows that very message."""

from __future__ import annotations

import pytest

from .cases import normalized
from .catalogue import all_cases, rendered_row, rows_in_document

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_gets_its_message(case, tmp_path):
    message = normalized(case.run(tmp_path), tmp_path)
    for fragment in case.expect:
        assert fragment in message, f"{fragment!r} not in the message:\n{message}"
    documented = rows_in_document().get(case.id)
    assert documented == rendered_row(case, message), (
        f"docs/bad-input.md is out of date for {case.id!r}: run python -m tests.bad_input.catalogue")


def test_catalogue_has_no_stale_rows():
    stale = set(rows_in_document()) - {case.id for case in CASES}
    assert not stale, f"docs/bad-input.md lists cases that no longer exist: {sorted(stale)}"
