"""Blimp scripts run through the same model as formulas (seed 001's script verbatim)."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel.errors import BlimpScriptError

DATA = Path(__file__).parent / "data"
SEED_SCRIPT = (Path(__file__).resolve().parents[0] / "data" / "04_multilevel.imp").read_text()


@pytest.fixture
def script_folder(tmp_path):
    shutil.copy(DATA / "04_multilevel.csv", tmp_path / "04_multilevel.csv")
    (tmp_path / "analysis.imp").write_text(SEED_SCRIPT)
    return tmp_path


def test_seed_script_translates_to_the_blimp_model(script_folder):
    translated = ml.load_script(script_folder / "analysis.imp")
    assert translated.formula_text == "y ~ x1i + x2i + x3i + x2i:x3i + (1 + x1i | j)"
    assert [str(model) for model in translated.options["predictor_models"]] == ["x1i ~ x2i + x3i", "x2i ~ x3i"]
    assert [str(model) for model in translated.options["missingness_models"]] == [
        "y.missing ~ y + x1i + x2i + x3i + x2i:x3i"]
    # ITERATIONS is the total across chains, all kept; BURN 20000 (Gibbs burn-in) becomes NUTS's 1000 warmup
    assert translated.sampler == {"chains": 4, "seed": 123, "warmup": 1000, "draws": 5000}
    assert "BURN 20000 -> warmup 1000 per chain (Blimp's burn-in counts Gibbs iterations" in " ".join(
        translated.notes_with({}))


@pytest.mark.parametrize(("burn", "warmup", "why"), [
    (20000, 1000, "Blimp's burn-in counts Gibbs iterations; NUTS adapts in 1000"),
    (500, 500, "per chain"), (100, 150, "NUTS needs at least 150 to adapt")])
def test_burn_becomes_a_nuts_warmup_and_says_so(burn, warmup, why):
    from multilevel.blimp_settings import nuts_warmup

    chosen, note = nuts_warmup(burn)
    assert chosen == warmup and note.startswith(f"BURN {burn} -> warmup {warmup} per chain (") and why in note


def test_a_mapping_note_goes_when_its_setting_is_overridden(script_folder):
    translated = ml.load_script(script_folder / "analysis.imp")
    notes = translated.notes_with({"warmup": 300})
    assert not any(note.startswith("BURN") for note in notes)
    assert any(note.startswith("ITERATIONS 20000 -> 5000 draws per chain") for note in notes)
    assert notes[-1] == "script settings overridden: warmup=300"


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_seed_script_runs_and_the_selection_model_corrects_mnar(script_folder):
    fit = ml.fit_script(script_folder / "analysis.imp", warmup=500, draws=500, progress=False, warn=False)
    # lme4 REML estimates of the focal model on the complete data and after listwise deletion
    # (tests/reference/data/lme4_seed001_focal.R)
    reference = pd.read_csv(Path(__file__).parent / "reference" / "data" / "lme4_seed001_focal.csv")
    reference["term"] = reference["term"].replace({"(Intercept)": "Intercept"})
    target = reference[reference["data"] == "complete"].set_index("term")["estimate"]
    deleted = reference[reference["data"] == "listwise"].set_index("term")["estimate"]
    ours = fit.summary()
    focal = ["Intercept", "x1i", "x2i", "x3i", "x2i:x3i"]
    assert ours.loc[focal, "ess_bulk"].min() > 400 and ours.loc[focal, "rhat"].max() < 1.01
    assert [s.outcome for s in fit.spec.submodels] == ["x1i", "x2i", "y.missing"]
    assert ours.loc["y.missing ~ y", "q2.5"] > 0  # the selection model finds y's own effect on its missingness
    # the full model lands nearer the complete-data estimates than listwise deletion, overall
    full_error = np.abs(ours.loc[focal, "mean"] - target[focal]).sum()
    listwise_error = np.abs(deleted[focal] - target[focal]).sum()
    assert full_error < 0.6 * listwise_error, (full_error, listwise_error)
    assert any("translated to" in note for note in fit.environment)


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_cli_runs_a_script(script_folder, capsys):
    from multilevel.cli import main

    # the settings of the NIMPS and PARAMETERS tests below: one compiled sampler serves them all
    code = main(["fit", str(script_folder / "analysis.imp"), "--chains", "2", "--warmup", "150", "--draws", "100",
                 "--no-progress"])
    assert code == 0
    printed = " ".join(capsys.readouterr().out.split())  # lines longer than 80 columns are wrapped
    assert "focal model y ~ x1i + x2i + x3i + x2i:x3i + (1 + x1i | j)" in printed
    assert "missingness model (probit): y.missing ~ 1 + y + x1i + x2i + x3i + x2i:x3i + (1 | j)" in printed
    assert "script settings overridden" in printed


def test_unavailable_script_features_name_the_line(script_folder):
    (script_folder / "simple.imp").write_text(SEED_SCRIPT + "COUNT: x3i;\n")
    with pytest.raises(BlimpScriptError, match="line 13: COUNT is not available yet"):
        ml.load_script(script_folder / "simple.imp")
    (script_folder / "options.imp").write_text(SEED_SCRIPT + "OPTIONS: psr hev;\n")
    with pytest.raises(BlimpScriptError, match="line 13: OPTIONS: 'hev' is not available"):
        ml.load_script(script_folder / "options.imp")
    (script_folder / "options.imp").write_text(SEED_SCRIPT + "OPTIONS: psr labels;\n")
    assert any(note.startswith("OPTIONS psr") for note in ml.load_script(script_folder / "options.imp").notes)
    (script_folder / "ordinal.imp").write_text(SEED_SCRIPT + "ORDINAL: x4;\n")
    with pytest.raises(BlimpScriptError, match="line 13: 'x4' is not a variable"):
        ml.load_script(script_folder / "ordinal.imp")
    (script_folder / "typo.imp").write_text(SEED_SCRIPT.replace("y ~ x1i x2i x3i", "y ~ x1i x2i x3"))
    with pytest.raises(BlimpScriptError, match="line 6: 'x3' is not a variable"):
        ml.load_script(script_folder / "typo.imp")


def test_script_nimps_and_save_write_stacked_imputations(script_folder):
    (script_folder / "imps.imp").write_text(SEED_SCRIPT + "NIMPS: 4;\nSAVE: stacked = imps.csv;\n")
    fit = ml.fit_script(script_folder / "imps.imp", chains=2, warmup=150, draws=100, progress=False, warn=False)
    stacked = pd.read_csv(script_folder / "imps.csv")
    assert stacked["imputation"].max() == 4 and stacked[["y", "x1i", "x2i"]].notna().all().all()
    assert any("4 imputations saved" in note for note in fit.environment)
    (script_folder / "nosave.imp").write_text(SEED_SCRIPT + "NIMPS: 4;\n")
    with pytest.raises(BlimpScriptError, match="NIMPS needs SAVE"):
        ml.load_script(script_folder / "nosave.imp")


@pytest.mark.slow  # the default tier's long tests (measured with --durations)
def test_labels_parameters_and_simple_effects(script_folder, capsys):
    script = SEED_SCRIPT.replace("y ~ x1i x2i x3i x2i*x3i | x1i;", "y ~ x1i@b1 x2i@b2 x3i x2i*x3i@b23 | x1i;")
    script += ("PARAMETERS:\n  diff = b1 - b2;\n  scaled = 2 * sqrt(abs(diff));\n"
               "SIMPLE: x2i | x3i;\n  x2i | x3i = 0 1;\n")
    (script_folder / "labelled.imp").write_text(script)
    translated = ml.load_script(script_folder / "labelled.imp")
    assert translated.quantities.labels == {"b1": "x1i", "b2": "x2i", "b23": "x2i:x3i"}
    fit = ml.fit_script(script_folder / "labelled.imp", chains=2, warmup=150, draws=100, progress=False, warn=False)
    draws = {p.name: p.draws for p in fit.parameters}
    derived = fit.derived_quantities()
    np.testing.assert_allclose(derived.loc["diff", "median"], np.median(draws["x1i"] - draws["x2i"]))
    np.testing.assert_allclose(derived.loc["scaled", "mean"], np.mean(2 * np.sqrt(np.abs(draws["x1i"] - draws["x2i"]))))
    effects = fit.conditional_effects("x2i", "x3i", [1])
    np.testing.assert_allclose(effects["mean"].iloc[0], np.mean(draws["x2i"] + draws["x2i:x3i"]))
    assert len(fit.conditional_effects("x2i", "x3i")) == 3  # mean and mean ± 1 SD
    from multilevel.cli import main

    assert main(["fit", str(script_folder / "labelled.imp"), "--chains", "2", "--warmup", "150", "--draws", "100",
                 "--no-progress", "--save", str(script_folder / "fit.zip")]) == 0
    printed = capsys.readouterr().out
    assert "Derived quantities (PARAMETERS)" in printed and "Conditional effect of x2i (SIMPLE)" in printed
    assert "diff = b1 - b2" in printed
    restored = ml.load(script_folder / "fit.zip")
    assert list(restored.derived_quantities().index) == ["diff", "scaled"]


def test_derived_quantities_from_python_name_the_bad_token(sleepstudy):
    fit = ml.fit("Reaction ~ Days + (Days | Subject)", sleepstudy, chains=2, warmup=150, draws=100, seed=1,
                 progress=False, warn=False)
    table = fit.derive({"per_week": "7 * Days"})
    np.testing.assert_allclose(table.loc["per_week", "mean"], 7 * fit.summary().loc["Days", "mean"])
    with pytest.raises(ml.SpecificationError, match="'Dayz' is not a label or parameter") as caught:
        fit.derive({"bad": "2 * Dayz"})
    assert "^^^^" in str(caught.value)


def test_three_level_script(tmp_path):
    rng = np.random.default_rng(4)
    school = np.repeat(np.arange(10), 30)
    classroom = np.tile(np.repeat(np.arange(3), 10), 10)  # classroom IDs 0-2 reused in every school
    x = rng.normal(size=300)
    y = (1 + 0.5 * x + rng.normal(scale=0.6, size=10)[school] + rng.normal(scale=0.4, size=30)[school * 3 + classroom]
         + rng.normal(size=300))
    pd.DataFrame({"school": school, "classroom": classroom, "x": x, "y": y}).to_csv(tmp_path / "three.csv",
                                                                                    index=False)
    (tmp_path / "three.imp").write_text("DATA: three.csv;\nCLUSTERID: classroom school;\nMODEL: y ~ x | x;\n"
                                        "SEED: 2;\nBURN: 300;\nITERATIONS: 800;\n")
    translated = ml.load_script(tmp_path / "three.imp")
    assert translated.formula_text == "y ~ x + (1 + x | school:classroom) + (1 | school)"
    fit = ml.fit_script(tmp_path / "three.imp", chains=2, progress=False, warn=False)
    assert {"sd(Intercept | school:classroom)", "sd(x | school:classroom)", "sd(Intercept | school)"} <= set(
        fit.summary().index)
    (tmp_path / "four.imp").write_text("DATA: three.csv;\nCLUSTERID: classroom school x;\nMODEL: y ~ x;\n")
    with pytest.raises(BlimpScriptError, match="at most 2 names"):
        ml.load_script(tmp_path / "four.imp")


def test_nominal_variable_in_a_script(tmp_path):
    from .test_missing_data import simulate_incomplete_nominal

    frame, _ = simulate_incomplete_nominal(9, clusters=20, per_cluster=10)
    frame["grp"] = frame["grp"].map({"a": 1, "b": 2, "c": 3})  # numeric codes, as Blimp data files have
    frame.to_csv(tmp_path / "nominal.csv", index=False, na_rep="-99")
    (tmp_path / "nominal.imp").write_text("DATA: nominal.csv;\nCLUSTERID: g;\nNOMINAL: grp;\nMISSING: -99;\n"
                                          "MODEL: y ~ x grp;\nSEED: 3;\nBURN: 150;\nITERATIONS: 200;\n")
    fit = ml.fit_script(tmp_path / "nominal.imp", chains=2, progress=False, warn=False)
    assert {"grp2", "grp3"} <= set(fit.fixed_effects().index)  # dummy codes, category 1 the reference
    assert "grp[3] ~ x" in fit.summary().index
    assert set(fit.imputations(2)["grp"].astype(float)) == {1.0, 2.0, 3.0}


# -- errors at their place in the script: line, the line itself, a caret under the token, its column ------

def place_of(error: BlimpScriptError, script: str) -> tuple[int, int, str]:
    """(line, caret column counted from 1, the caret's text) of a rendered error, after checking that the
    message shows the script's very line and ends its caret line with that column."""
    rendered = str(error).splitlines()
    line = error.line_number
    assert rendered[0].startswith(f"line {line}: ")
    assert rendered[1] == "    " + script.splitlines()[line - 1].replace("\t", " ")
    caret_line = rendered[2]
    column = caret_line.index("^") - 4 + 1
    assert caret_line.endswith(f" column {column}")
    carets = caret_line[4:].split(" column ")[0].strip()
    assert set(carets) == {"^"}
    return line, column, rendered[1][4 + column - 1:4 + column - 1 + len(carets)]


PLACED_ERRORS = [
    # (what, the script, line, column, the text under the caret, a fragment of the message)
    ("unknown variable in MODEL", SEED_SCRIPT.replace("y ~ x1i x2i x3i", "y ~ x1i x2i x3"), 6, 13, "x3",
     "'x3' is not a variable"),
    ("unknown variable on the second line of a MODEL statement",
     SEED_SCRIPT.replace("y ~ x1i x2i x3i x2i*x3i", "y ~ x1i\n    x2i x3 x2i*x3i"), 7, 9, "x3",
     "'x3' is not a variable"),
    ("unknown variable in CENTER", SEED_SCRIPT + "CENTER: groupmean = x1;\n", 13, 21, "x1",
     "'x1' is not a variable"),
    ("bad PARAMETERS expression", SEED_SCRIPT + "PARAMETERS:\n  d = b1 * ) 2;\n", 14, 12, ")", "unexpected ')'"),
    ("unknown name in PARAMETERS", SEED_SCRIPT.replace("y ~ x1i x2i", "y ~ x1i@b1 x2i")
     + "PARAMETERS: d = b1 * nosuch;\n", 13, 22, "nosuch", "'nosuch' in PARAMETERS"),
    ("misspelt command", SEED_SCRIPT.replace("ITERATIONS:", "ITERATONS:"), 12, 1, "ITERATONS",
     "'ITERATONS' is not a Blimp command"),
    ("SIMPLE without the interaction", SEED_SCRIPT + "SIMPLE: x1i | x2i;\n", 13, 15, "x2i", "does not interact"),
    ("ORDINAL variable with too many categories, found when the model is built", SEED_SCRIPT + "ORDINAL: x1i;\n",
     13, 10, "x1i", "ordinal variable 'x1i' has 518 distinct values"),
    ("ORDINAL outcome, found when the model is built", SEED_SCRIPT + "ORDINAL:  y;\n", 13, 11, "y",
     "ordinal outcomes are not available yet"),
]


@pytest.mark.parametrize("what, text, line, column, token, message", PLACED_ERRORS,
                         ids=[case[0] for case in PLACED_ERRORS])
def test_script_errors_cite_line_column_and_caret(script_folder, what, text, line, column, token, message):
    (script_folder / "bad.imp").write_text(text)
    with pytest.raises(BlimpScriptError) as caught:
        ml.load_script(script_folder / "bad.imp")
    assert message in caught.value.message
    assert place_of(caught.value, text) == (line, column, token)


def test_a_model_error_found_in_the_built_formula_points_at_the_script_term(tmp_path):
    rows = ["y,x,grp,j"] + [f"{k * 0.1:.1f},{k % 5},{'abc'[k % 3]},{k % 6}" for k in range(60)]
    (tmp_path / "groups.csv").write_text("\n".join(rows) + "\n")
    text = "DATA: groups.csv;\nCLUSTERID: j;\nMODEL:\n  y ~ x\n      grp^2;\n"
    (tmp_path / "power.imp").write_text(text)
    with pytest.raises(BlimpScriptError) as caught:
        ml.load_script(tmp_path / "power.imp")
    assert "'grp' is categorical" in caught.value.message  # found by build_model, in the tree of I(grp^2)
    assert place_of(caught.value, text) == (5, 7, "grp")


def test_translation_builds_the_formula_tree_with_the_script_places(script_folder):
    from multilevel.model.build import build_model
    from multilevel.syntax import ast, parse_formula

    translated = ml.load_script(script_folder / "analysis.imp")
    formula = translated.formula
    assert isinstance(formula, ast.Formula) and str(formula) == translated.formula_text
    # the tree is what the formula front end reads from its text, spans included
    assert parse_formula(str(formula)) == formula
    names = {(node.name, node.start): node for node in _nodes(formula) if isinstance(node, ast.Name)}
    x2i = names[("x2i", str(formula).index("x2i"))]
    assert (x2i.origin.line, x2i.origin.column) == (6, 9)  # 'y ~ x1i x2i ...' on line 6 of the script
    group = names[("j", str(formula).index("| j") + 2)]
    assert (group.origin.line, group.origin.column) == (2, 12)  # CLUSTERID: j;
    interaction = next(node for node in _nodes(formula) if isinstance(node, ast.Binary) and node.operator == ":")
    assert str(formula)[interaction.start:interaction.end] == "x2i:x3i"
    assert (interaction.origin.line, interaction.origin.column) == (6, 17)  # written x2i*x3i
    missingness = translated.options["missingness_models"][0]
    assert missingness.outcome.name == "y.missing" and missingness.outcome.origin.line == 9
    # the same model as from the formula text: same numbers
    as_text = {key: [str(item) for item in value] if key.endswith("_models") and value else value
               for key, value in translated.options.items()}
    assert build_model(formula, translated.data, **translated.options)[0] == build_model(
        str(formula), translated.data, **as_text)[0]


def _nodes(node):
    from multilevel.blimp_formulas import nodes_of

    return list(nodes_of(node))
