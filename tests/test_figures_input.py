"""Figures, the HTML report, imputation files and conditional effects given awkward input: column names
that look like mathtext, kinds that do not apply, unknown names, paths that cannot be written."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import multilevel as ml


@pytest.fixture(scope="module")
def dollar_fit():
    """A fit whose column names hold ``$...$`` pairs (matplotlib mathtext), with an interaction."""
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(15), 6)
    frame = pd.DataFrame({"cost$a$b": rng.normal(size=groups.size), "w$q$": rng.normal(size=groups.size),
                          "g$x$": [f"s{k}" for k in groups]})
    frame["y$"] = (1 + 0.5 * frame["cost$a$b"] + 0.3 * frame["cost$a$b"] * frame["w$q$"]
                   + rng.normal(size=15)[groups] + rng.normal(size=groups.size))
    fit = ml.fit("`y$` ~ `cost$a$b` * `w$q$` + (1 | `g$x$`)", frame, chains=2, warmup=100, draws=50, seed=1,
                 progress=False, warn=False)
    return fit.with_quantities(conditional=[("cost$a$b", "w$q$")])  # a new fit, which the figures show


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_mathtext_in_column_names_is_shown_literally(dollar_fit, tmp_path):
    written = dollar_fit.save_plots(tmp_path / "plots", formats=("png", "svg"))
    kinds = {path.stem for path in written}
    assert kinds == {"trace", "rank", "posterior", "forest", "caterpillar", "ppc", "residuals", "simple_slopes"}
    assert all(path.stat().st_size > 1000 for path in written)
    assert "cost$a$b" in (tmp_path / "plots" / "forest.svg").read_text()  # the name as written, not math
    dollar_fit.report(tmp_path / "report.html")
    text = (tmp_path / "report.html").read_text()
    assert text.count("data:image/png;base64,") == 8 and "cost$a$b" in text


def test_a_plot_that_does_not_apply_says_which_do(dollar_fit):
    with pytest.raises(ml.MultilevelError, match=r"no 'imputations' plot: this fit has no imputed values") as caught:
        dollar_fit.plot("imputations")
    assert "Plots for this fit: trace, rank, posterior, forest, caterpillar, ppc, residuals, simple_slopes" in str(
        caught.value)
    with pytest.raises(ml.SpecificationError, match=r"no plot 'tracee'. Did you mean 'trace'\? Plots: trace, rank"):
        dollar_fit.plot("tracee")
    with pytest.raises(ml.SpecificationError, match="no plot None"):
        dollar_fit.plot(None)


def test_unknown_focal_or_moderator_is_named(dollar_fit):
    with pytest.raises(ml.SpecificationError, match=r"'wq' is not a variable of this model. Did you mean 'w\$q\$'\? "
                                                    r"Moderators of 'cost\$a\$b': w\$q\$"):
        dollar_fit.johnson_neyman("cost$a$b", "wq")
    with pytest.raises(ml.SpecificationError, match=r"'cost' is not a coefficient of this model. Did you mean "
                                                    r"'cost\$a\$b'\? Focal predictors with an interaction here"):
        dollar_fit.johnson_neyman("cost", "w$q$")
    with pytest.raises(ml.SpecificationError, match=r"'y\$' does not interact with 'cost\$a\$b'"):
        dollar_fit.conditional_effects("cost$a$b", "y$")
    with pytest.raises(ml.SpecificationError, match="is not a variable of this model"):
        dollar_fit.conditional_effects("cost$a$b", "nothing")
    with pytest.raises(ml.SpecificationError, match="give the moderator's values as a list of numbers"):
        dollar_fit.conditional_effects("cost$a$b", "w$q$", at="high")
    with pytest.raises(ml.SpecificationError, match="level must be a probability"):
        dollar_fit.johnson_neyman("cost$a$b", "w$q$", level=95)
    table = dollar_fit.conditional_effects("cost$a$b", "w$q$", at=np.array([0.0, 1.0]))  # an array is fine
    assert len(table) == 2
    assert list(dollar_fit.johnson_neyman("cost$a$b", "w$q$").columns) == ["from", "to", "effect"]


def test_output_paths_are_checked(dollar_fit, tmp_path):
    (tmp_path / "a file").write_text("x")
    with pytest.raises(ml.MultilevelError, match="report '.*' is a folder"):
        dollar_fit.report(tmp_path)
    with pytest.raises(ml.MultilevelError, match="the folder '.*missing' does not exist"):
        dollar_fit.report(tmp_path / "missing" / "report.html")
    with pytest.raises(ml.MultilevelError, match="is a file, not a folder"):
        dollar_fit.save_plots(tmp_path / "a file")
    with pytest.raises(ml.SpecificationError, match="no figure format 'jpeg2'"):
        dollar_fit.save_plots(tmp_path / "plots", formats=("png", "jpeg2"))
    with pytest.raises(ml.MultilevelError, match="imputations file '.*' is a folder"):
        dollar_fit.save_imputations(tmp_path)
    with pytest.raises(ml.MultilevelError, match="does not exist"):
        dollar_fit.save_imputations(tmp_path / "i.csv", average_path=tmp_path / "missing" / "a.csv")
    assert sorted(os.listdir(tmp_path)) == ["a file"]


def test_figures_and_report_are_written_whole_or_not_at_all(dollar_fit, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    report = tmp_path / "report.html"
    report.write_text("the previous report")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("multilevel.report.html.render", lambda fit: "<html>" + "x" * 10)
    dollar_fit.report(report)
    assert report.read_text() == "<html>xxxxxxxxxx"
    report.write_text("the previous report")
    monkeypatch.setattr(os, "fsync", interrupted)  # interrupted after the content was written, before the rename
    with pytest.raises(KeyboardInterrupt):
        dollar_fit.report(report)
    assert report.read_text() == "the previous report" and sorted(os.listdir(tmp_path)) == ["report.html"]
    monkeypatch.undo()
    monkeypatch.setattr(Figure, "savefig", interrupted)
    with pytest.raises(KeyboardInterrupt):
        dollar_fit.save_plots(tmp_path / "plots")
    assert os.listdir(tmp_path / "plots") == []  # no half-written figure


def test_imputations_are_written_atomically(tmp_path, monkeypatch):
    from multilevel.results.imputations import write

    frame = pd.DataFrame({"imputation": [1, 1], "x": [0.5, 1.5]})
    target = tmp_path / "imputations.csv"
    target.write_text("the previous file")

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write(frame, target)
    assert target.read_text() == "the previous file" and sorted(os.listdir(tmp_path)) == ["imputations.csv"]
    monkeypatch.undo()
    write(frame, target)
    pd.testing.assert_frame_equal(pd.read_csv(target), frame)
    with pytest.raises(ml.MultilevelError, match="is a folder"):
        write(frame, tmp_path)
