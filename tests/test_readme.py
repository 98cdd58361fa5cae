"""The README runs as written: its ```python blocks in order in one namespace (the tour builds on itself) and
the ``multilevel ...`` commands of its ```sh blocks through :func:`multilevel.cli.main`, all in a temporary
folder holding a copy of ``examples/``. Lines that install (``pip install``) are not run.

Only the sampler settings are shortened (2 chains, 200 warmup, 250 draws, whatever a snippet or a Blimp
script asks for): the test is that every snippet runs with the names it uses and the files a reader can get,
not that its numbers are those of a long run.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
import warnings
from pathlib import Path

import pytest

import multilevel as ml
from multilevel import api
from multilevel.cli import main

pytestmark = pytest.mark.slow  # about a dozen short fits, each compiled: minutes

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHORT = {"chains": 2, "warmup": 200, "draws": 250, "thin": 1, "progress": False}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)


def blocks(language: str) -> list[tuple[int, str]]:
    """(line number, text) of every fenced block of ``language``, in order."""
    text = README.read_text(encoding="utf-8")
    return [(text[: found.start()].count("\n") + 1, found.group(2)) for found in FENCE.finditer(text)
            if found.group(1) == language]


def commands(block: str) -> list[list[str]]:
    """The ``multilevel`` commands of a shell block as argument lists (continuation lines joined, comments
    dropped). Any other line fails the test, unless it installs: the README holds no command we do not run."""
    joined = block.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if not words or "pip install" in line:
            continue
        assert words[0] == "multilevel", f"a shell line that is not a multilevel command: {line!r}"
        found.append(words[1:])
    return found


def test_the_readme_has_the_blocks_this_test_runs():
    assert len(blocks("python")) >= 4 and len(blocks("sh")) >= 3
    assert not [number for number, _ in blocks("")], "a fenced block without a language (python, sh, text)"
    assert any(command[:1] == ["datasets"] for _, block in blocks("sh") for command in commands(block))


@pytest.fixture
def reader_folder(tmp_path, monkeypatch):
    """An empty folder with a copy of examples/, as a reader's clone has it, and short sampler settings."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    full = api.Model.fit

    def short(self, **settings):
        return full(self, **{**settings, **SHORT})

    monkeypatch.setattr(api.Model, "fit", short)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path


def test_every_python_block_runs_in_order(reader_folder):
    namespace: dict = {}
    for number, code in blocks("python"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # short runs warn about convergence; that is not the point here
            try:
                exec(compile(code, f"README.md, block at line {number}", "exec"), namespace)  # noqa: S102
            except Exception as error:  # noqa: BLE001 - say which block failed
                raise AssertionError(f"the README's python block at line {number} fails: {error!r}") from error
    fit, other, school = namespace["fit"], namespace["other"], namespace["school"]
    assert list(fit.fixed_effects().index) == ["Intercept", "Days"]
    assert "sd(Days | Subject)" in fit.variance_components().index
    assert "SES:MEANSES" in school.fixed_effects().index
    assert len(ml.compare(fit, other, names=["slopes", "intercepts"])) == 2
    assert (reader_folder / "fit.nc").exists() and (reader_folder / "report.html").stat().st_size > 10_000
    assert list((reader_folder / "figures").glob("*.svg"))


def test_every_command_runs(reader_folder):
    ran = []
    for number, block in blocks("sh"):
        for arguments in commands(block):
            output, errors = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(errors):
                code = main(arguments)
            assert code == 0, f"README line {number}: multilevel {shlex.join(arguments)}\n{errors.getvalue()}"
            ran.append((arguments, output.getvalue()))
    assert len(ran) >= 15
    listing = next(printed for arguments, printed in ran if arguments == ["datasets"])
    assert all(name in listing for name in ml.datasets.names())
    for name in ("school.csv", "verbagg.csv", "sleep.csv", "summary.json", "imps.csv", "slopes.nc",
                 "intercepts.nc", "report.html", "figures"):
        assert (reader_folder / name).exists(), name
    assert "Model comparison (PSIS-LOO)" in ran[-2][1] and "Demo:" in ran[-1][1]
