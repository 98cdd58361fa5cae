"""`multilevel --help` and `--version` answer without starting JAX (it costs seconds): argparse runs first."""

import subprocess
import sys

import pytest

from multilevel.model.families import family_names

PROBE = """
import sys
from multilevel.cli import main
try:
    main({arguments!r})
except SystemExit:
    pass
heavy = sorted(name for name in ("jax", "numpyro", "pandas", "arviz_stats", "matplotlib", "xarray")
               if name in sys.modules)
print("HEAVY", heavy)
"""


@pytest.mark.parametrize("arguments", [["--help"], ["--version"], ["fit", "--help"]])
def test_help_and_version_import_nothing_heavy(arguments):
    output = subprocess.run([sys.executable, "-c", PROBE.format(arguments=arguments)], capture_output=True,
                            text=True, check=True).stdout
    assert "HEAVY []" in output, output
    if arguments == ["--version"]:
        assert output.startswith("multilevel ")
    if arguments == ["fit", "--help"]:
        assert all(name in output for name in family_names())  # the registry, not a list written by hand
