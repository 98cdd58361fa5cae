"""`multilevel --help`, `multilevel COMMAND --help`, `--version` and `multilevel datasets` answer without
importing JAX, NumPyro, pandas or the model (they cost seconds): argparse runs first. Checked on the imports
that ``python -X importtime -m multilevel ...`` reports, not on a timing."""

import subprocess
import sys

import pytest

from multilevel.model.families import family_names

HEAVY = ("jax", "numpyro", "pandas", "arviz_base", "arviz_stats", "matplotlib", "xarray", "scipy",
         "multilevel.backend", "multilevel.sampling", "multilevel.results", "multilevel.api")


def run(*arguments: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """``python -X importtime -m multilevel ARGUMENTS``: the finished process and the modules it imported."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "multilevel", *arguments],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}
    return result, imported


def heavy_in(imported: set[str]) -> list[str]:
    return sorted(name for name in imported if any(name == heavy or name.startswith(heavy + ".") for heavy in HEAVY))


@pytest.mark.parametrize("arguments", [["--help"], ["--version"], ["demo", "--help"], ["compare", "--help"],
                                       ["datasets", "--help"], ["datasets"], ["datasets", "sleepstudy"]])
def test_help_version_and_datasets_import_nothing_heavy(arguments):
    result, imported = run(*arguments)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "multilevel.cli" in imported  # the probe sees the package's own imports
    assert heavy_in(imported) == []
    assert not any(name.startswith("multilevel.model") for name in imported)
    if arguments == ["--version"]:
        from importlib.metadata import version

        assert result.stdout == f"multilevel {version('multilevel')}\n"


def test_fit_help_names_the_family_registry_and_imports_only_the_registry():
    result, imported = run("fit", "--help")
    assert result.returncode == 0, result.stderr[-2000:]
    assert heavy_in(imported) == []
    assert all(name in result.stdout for name in family_names())  # the registry, not a list written by hand
    assert "{families}" not in result.stdout


def test_python_dash_m_multilevel_is_the_command():
    result, _ = run("fit", "--data", "no-such-file.csv", "--model", "y ~ x")
    assert result.returncode == 2 and "error: " in result.stderr and "no-such-file.csv" in result.stderr
