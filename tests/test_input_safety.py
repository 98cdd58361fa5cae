"""The command line's error boundary, Ctrl-C, atomic outputs, lazy imports and the JAX settings made at import."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel import cli
from multilevel._files import atomic_write
from multilevel.errors import ModelNote, SamplingError

from .conftest import quick

PYTHON = sys.executable
CSV = str(ml.datasets.path("sleepstudy"))


def run_python(code: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_internal_errors_say_so_and_show_the_traceback_only_under_debug(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(cli, "_command", broken)
    assert cli.main(["fit", "--data", "x.csv", "--model", "y ~ x"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("internal error, please report: RuntimeError: something inside broke")
    assert "--debug" in err and "Traceback" not in err
    assert cli.main(["fit", "--data", "x.csv", "--model", "y ~ x", "--debug"]) == 3
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("wait", [0.3, 6.0], ids=["during imports", "during compilation or sampling"])
def test_ctrl_c_prints_one_line_and_exits_130(wait):
    process = subprocess.Popen([PYTHON, "-m", "multilevel.cli", "fit", "--data", CSV, "--model",
                                "Reaction ~ Days + (Days | Subject)", "--draws", "1000000", "--no-progress"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(wait)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()  # never leave a sampler running when the test fails
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted; nothing was written", err
    assert "Traceback" not in err


def test_an_interrupted_write_leaves_the_old_file_and_no_partial_file(tmp_path):
    target = tmp_path / "summary.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(target) as handle:
            handle.write("half of the new")
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]
    with atomic_write(target) as handle:
        handle.write("new")
    assert target.read_text() == "new"
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_text_column_with_many_values_is_coded_with_a_note():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"y": rng.normal(size=200), "word": [f"w{k % 40}" for k in range(200)],
                          "g": np.repeat(np.arange(20), 10)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ml.Model("y ~ word + (1 | g)", frame)
    notes = [str(w.message) for w in caught if issubclass(w.category, ModelNote)]
    assert notes and "column 'word' has 40 distinct text values" in notes[0] and "39 columns" in notes[0]
    assert sum(name.startswith("word") for name in model.spec.fixed_names) == 39


def test_a_declaration_about_a_column_the_model_does_not_use_gets_a_note():
    frame = pd.DataFrame({"y": np.arange(30.0) % 7, "x": np.arange(30.0) % 5, "o": np.arange(30) % 3,
                          "s": list("abc") * 10, "g": np.repeat(np.arange(6), 5)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ml.Model("y ~ x + (1 | g)", frame, ordinal=["o"], reference={"s": "b"})
    notes = sorted(str(w.message) for w in caught if issubclass(w.category, ModelNote))
    assert notes == ["the ordinal declaration of 'o' has no effect: 'o' is not in the model",
                     "the reference declaration of 's' has no effect: 's' is not in the model"]


def test_too_few_draws_for_psis_is_an_error_not_a_crash(sleepstudy):
    from rich.console import Console

    from multilevel.report.text import print_report

    fit = ml.fit("Reaction ~ Days + (1 | Subject)", sleepstudy, **quick(chains=2, warmup=30, draws=3))
    with pytest.raises(SamplingError, match="at least 20 draws"):
        fit.information_criteria()
    console = Console(record=True, width=120)
    print_report(fit, console)
    assert "too few for PSIS-LOO" in console.export_text()


def test_import_does_not_start_jax_and_help_is_quick():
    result = run_python("""
        import sys, time
        started = time.perf_counter()
        import multilevel
        assert "jax" not in sys.modules, "import multilevel imported jax"
        from multilevel.cli import main
        try:
            main(["--help"])
        except SystemExit:
            pass
        print("jax" in sys.modules, round(time.perf_counter() - started, 2))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2] == "False"


def test_a_fit_works_when_arviz_was_imported_first():
    """arviz_base puts a lazy stand-in for numpyro in sys.modules; importing numpyro's submodules through it
    used to fail inside NumPyro, so `import arviz_stats` before `import multilevel` broke every fit."""
    result = run_python("""
        import arviz_stats, sys
        assert type(sys.modules["numpyro"]).__name__ == "_LazyModule"  # the case this test is about
        import multilevel as ml
        fit = ml.fit("Reaction ~ Days + (1 | Subject)", ml.datasets.load("sleepstudy"), chains=1, warmup=50,
                     draws=50, seed=1, progress=False)
        print(round(float(fit.summary().loc["Days", "mean"]), 1))
    """, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 8.0 < float(result.stdout.split()[-1]) < 13.0


def test_jax_settings_are_made_only_where_the_user_made_none(tmp_path):
    probe = """
        import os, multilevel
        from multilevel._environment import enable_compilation_cache
        print(os.environ.get("XLA_FLAGS", "<unset>"))
        print(enable_compilation_cache())
    """
    clean = {"XLA_FLAGS": "", "MULTILEVEL_CACHE_DIR": str(tmp_path / "ours")}
    ours = run_python(probe, clean).stdout.splitlines()
    assert "--xla_force_host_platform_device_count" in ours[0] and ours[1] == str(tmp_path / "ours")
    theirs = run_python(probe, {**clean, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
                                "JAX_COMPILATION_CACHE_DIR": str(tmp_path / "theirs")}).stdout.splitlines()
    assert theirs == ["--xla_force_host_platform_device_count=2", str(tmp_path / "theirs")]
    off = run_python(probe, {**clean, "MULTILEVEL_NO_XLA_FLAGS": "1",
                             "MULTILEVEL_NO_COMPILATION_CACHE": "1"}).stdout.splitlines()
    assert off[1] == "None" and "device_count" not in off[0]


def test_a_damaged_compilation_cache_entry_is_replaced(tmp_path):
    program = """
        import warnings, multilevel
        from multilevel._environment import enable_compilation_cache
        enable_compilation_cache()
        import jax, jax.numpy as jnp
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            jax.jit(lambda x: jnp.sin(x) * 3.0 + x ** 2)(jnp.arange(5.0)).block_until_ready()
        print(sum("persistent compilation cache" in str(w.message) for w in caught))
    """
    env = {"MULTILEVEL_CACHE_DIR": str(tmp_path)}
    assert run_python(program, env).stdout.split()[-1] == "0"
    entries = list(tmp_path.glob("*-cache"))
    assert entries
    for entry in entries:  # truncate every entry, as an interrupted write or a full disk would
        entry.write_bytes(entry.read_bytes()[:20])
    damaged = run_python(program, env)
    assert int(damaged.stdout.split()[-1]) == len(entries), damaged.stderr  # JAX warns and compiles ...
    assert run_python(program, env).stdout.split()[-1] == "0"  # ... and the next process reads the new entry


def test_advice_names_command_line_options_on_the_command_line():
    from multilevel.errors import command_line
    from multilevel.results.diagnostics import check

    summary = pd.DataFrame({"rhat": [1.05], "ess_bulk": [100.0], "ess_tail": [100.0]}, index=["x"])
    stats = {"diverging": np.ones((2, 3), bool), "tree_depth": np.full((2, 3), 10)}
    python = " ".join(check(summary, stats, 100, 100, 10))
    with command_line():
        cli_words = " ".join(check(summary, stats, 100, 100, 10))
    assert "warmup=1000, draws=1000" in python and "target_accept" in python and "--" not in python
    assert "--warmup 1000 --draws 1000" in cli_words and "--target-accept" in cli_words
    assert "--draws 400" in cli_words and "draws=" not in cli_words


def test_the_command_line_prints_notes_before_it_samples(tmp_path, capsys):
    frame = ml.datasets.load("sleepstudy")
    frame["Subject"] = frame["Subject"].astype(str)
    frame["rater"] = [f"rater [{k % 25}]" for k in range(len(frame))]  # brackets: printed as text, not markup
    frame.loc[3, "Days"] = np.nan
    path = tmp_path / "sleep.csv"
    frame.to_csv(path, index=False)
    assert cli.main(["fit", "--data", str(path), "--model", "Reaction ~ Days + rater + (1 | Subject)",
                     "--missing", "listwise", "--chains", "2", "--warmup", "50", "--draws", "50", "--seed", "1",
                     "--no-progress"]) == 0
    out = capsys.readouterr().out
    excluded, coded = out.find("note: 1 of 180 rows excluded"), out.find("note: column 'rater' has 25 distinct")
    assert 0 <= excluded < out.find("Sampling") and 0 <= coded < out.find("Sampling"), out[:2000]
    assert "reference 'rater [0]'" in out


def test_parquet_imputations_without_pyarrow_are_refused_before_sampling(tmp_path, capsys, monkeypatch):
    import importlib.util

    if any(importlib.util.find_spec(engine) for engine in ("pyarrow", "fastparquet")):
        pytest.skip("a Parquet engine is installed here")
    from multilevel import api

    def no_sampling(*args, **kwargs):
        raise AssertionError("the sampler was compiled before the output path was checked")

    monkeypatch.setattr(api, "compiled_sampler", no_sampling)
    assert cli.main(["fit", "--data", CSV, "--model", "Reaction ~ Days + (1 | Subject)",
                     "--imputations", str(tmp_path / "imps.parquet")]) == 2
    assert "writing Parquet needs pyarrow" in capsys.readouterr().err
