"""mypy, configured in pyproject.toml ([tool.mypy]: the sources), finds no type errors."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_is_clean():
    # mypy's incremental cache (.mypy_cache) makes a repeated run take about a second, a cold one a minute
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
