"""The `mlstat` command as a user meets it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from mlstat_core.cli import main


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run `mlstat` in a fresh process, as a user would."""
    return subprocess.run([sys.executable, "-m", "mlstat_core.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, cwd=cwd, timeout=300)


def test_a_path_the_outputs_encoding_cannot_hold_is_escaped_not_a_failure(tmp_path,
                                                                         write_pipeline):
    """On Windows, output redirected to a file or pipe (a scheduler's log) is encoded in the
    locale's code page: a pipeline in `Ana Kovač`'s folder was checked, then the command
    failed with a UnicodeEncodeError (exit 1) printing its path under cp1252."""
    folder = tmp_path / "Ana Kovač"
    folder.mkdir()
    pipeline = write_pipeline().replace(folder / "p.toml")  # its data path is absolute
    result = run_cli("validate", str(pipeline), env={"PYTHONIOENCODING": "cp1252"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{tmp_path}/Ana Kova\\u010d/p.toml is valid")


def test_run_prints_steps_and_the_run_folder(write_pipeline, tmp_path):
    result = invoke("run", str(write_pipeline()), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output
    run_dir = next((tmp_path / "out").iterdir())
    assert f"Run folder: {run_dir}" in result.output.replace("\n", "") or str(run_dir) in \
        result.output


def test_validate_lists_every_problem_as_json(write_pipeline):
    path = write_pipeline(model={"component": "core.random_forst", "n_trees": 5})
    result = invoke("validate", str(path), "--json")
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["valid"] is False
    (issue,) = report["issues"]
    assert issue["field"] == "model.component" and issue["suggestion"] == "core.random_forest"


def test_validate_checks_the_command_line_a_run_gets(write_pipeline, tmp_path, budget_csv):
    # the file's data path is next month's; the run replaces it with --set, as validate must
    path = write_pipeline(loader={"component": "core.table", "path": "2026-11.csv",
                                  "target": "children"})
    assert invoke("validate", str(path)).exit_code == 2
    result = invoke("validate", str(path), "--set", f"loader.path={budget_csv}",
                    "--set", "split.test_size=0.3", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["valid"] is True

    result = invoke("validate", str(path), "--set", f"loader.path={budget_csv}",
                    "--set", "model.max_iter=-5", "--json")
    assert result.exit_code == 2
    (issue,) = json.loads(result.output)["issues"]
    assert issue["field"] == "model.max_iter"
    assert issue["message"].endswith("(a value given with --set)")


@pytest.mark.parametrize("item, message", [
    ("nosuch.key=1", "has no section [nosuch]"),
    ("model", "--set 'model' must look like section.key=value"),
])
def test_validate_rejects_a_bad_set_as_run_does(write_pipeline, item, message):
    path = write_pipeline()
    for command in ("validate", "run"):
        proc = run_cli(command, str(path), "--set", item, "--json")
        assert proc.returncode == 2, (command, proc.stderr)
        assert message in json.loads(proc.stdout)[
            "message" if command == "validate" else "error"]
        assert "Traceback" not in proc.stderr


def test_schema_is_json_schema():
    result = invoke("schema")
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "mlstat pipeline file"


def test_components_show_params_and_defaults():
    result = invoke("components", "--kind", "model", "--json")
    rows = {r["name"]: r for r in json.loads(result.output)}
    forest = {p["name"]: p for p in rows["core.random_forest"]["params"]}
    assert forest["n_estimators"]["default"] == 200
    assert forest["n_estimators"]["type"] == "integer"
    assert forest["class_weight"]["type"] == '"balanced" | "balanced_subsample" | none'
    assert invoke("components", "--task", "no_such_task").exit_code == 2


@pytest.mark.parametrize("make_args, message", [
    (lambda p, t: ["run", str(t / "missing.toml")], "does not exist"),
    (lambda p, t: ["run", str(p), "--set", "model.nope=1"], "unknown parameter"),
    (lambda p, t: ["run", str(p), "--set", "nosuch.key=1"], "has no section"),
    (lambda p, t: ["run", str(p), "--set", "model"], "--set 'model' must look like"),
    (lambda p, t: ["run", str(p), "--set", "model.max_iter=-5"],
     "(a value given with --set)"),
    (lambda p, t: ["predict", str(t), "--input", str(p), "--output", str(t / "o.csv")],
     "not a run folder"),
    (lambda p, t: ["report", str(t)], "not a run folder"),
    (lambda p, t: ["compare", str(t), str(t)], "not a run folder"),
    (lambda p, t: ["run", str(p), "--out", str(p / "runs")], "is a file, not a folder"),
])
def test_user_mistakes_exit_2_with_one_message(write_pipeline, tmp_path, make_args, message):
    proc = run_cli(*make_args(write_pipeline(), tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_invalid_toml_and_tampered_model_exit_2(write_pipeline, tmp_path, budget_csv):
    bad = tmp_path / "bad.toml"
    bad.write_text("[pipeline]\nname = \n", encoding="utf-8")
    proc = run_cli("validate", str(bad))
    assert proc.returncode == 2 and "not valid TOML" in proc.stderr

    assert invoke("run", str(write_pipeline()), "--out", str(tmp_path / "r")).exit_code == 0
    run_dir = next((tmp_path / "r").iterdir())
    skops = run_dir / "model" / "estimator.skops"
    skops.write_bytes(skops.read_bytes()[:-10])
    proc = run_cli("predict", str(run_dir), "--input", str(budget_csv),
                   "--output", str(tmp_path / "o.csv"))
    assert proc.returncode == 2 and "SHA-256" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_predict_command_writes_the_output(write_pipeline, tmp_path, budget_csv):
    assert invoke("run", str(write_pipeline()), "--out", str(tmp_path / "r")).exit_code == 0
    run_dir = next((tmp_path / "r").iterdir())
    result = invoke("predict", str(run_dir), "--input", str(budget_csv), "--output",
                    str(tmp_path / "scored.csv"), "--chunk-size", "300")
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert len(scored) == 1519
    assert any(c.startswith("proba_") for c in scored.columns)
    lean = invoke("predict", str(run_dir), "--input", str(budget_csv), "--output",
                  str(tmp_path / "lean.csv"), "--no-probabilities")
    assert lean.exit_code == 0, lean.output
    lean_frame = pd.read_csv(tmp_path / "lean.csv")
    assert not any(c.startswith("proba_") for c in lean_frame.columns)
    pd.testing.assert_frame_equal(lean_frame, scored[list(lean_frame.columns)])


def fake_distribution(site: Path, name: str, module_source: str, requires: str = "") -> None:
    """An installed distribution with an `mlstat` entry point, made of metadata files only."""
    dist = site / f"{name}-0.1.dist-info"
    dist.mkdir(parents=True)
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n"
    if requires:
        meta += f"Requires-Dist: {requires}\n"
    (dist / "METADATA").write_text(meta)
    (dist / "entry_points.txt").write_text(f"[mlstat]\n{name} = {name}_plugin\n")
    (site / f"{name}_plugin.py").write_text(module_source)


def test_a_plugin_that_fails_to_import_is_listed_and_skipped(tmp_path, write_pipeline):
    site = tmp_path / "site"
    fake_distribution(site, "broken", "raise RuntimeError('database driver missing')\n")
    env = {"PYTHONPATH": str(site)}
    proc = run_cli("plugins", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    records = {r["name"]: r for r in json.loads(proc.stdout)}
    assert records["broken"]["status"] == "failed"
    assert "database driver missing" in records["broken"]["error"]
    assert records["core"]["status"] == "loaded"
    # the host keeps working: a core-only pipeline still runs
    proc = run_cli("run", str(write_pipeline()), env=env)
    assert proc.returncode == 0, proc.stderr
    # --strict makes it fatal, with one message
    proc = run_cli("plugins", "--strict", env=env)
    assert proc.returncode == 2 and "broken" in proc.stderr and "Traceback" not in proc.stderr


def test_an_output_path_through_a_file_is_one_message(write_pipeline, tmp_path, budget_csv):
    assert invoke("run", str(write_pipeline()), "--out", str(tmp_path / "r")).exit_code == 0
    run_dir = next((tmp_path / "r").iterdir())
    (tmp_path / "afile").write_text("not a folder")
    proc = run_cli("predict", str(run_dir), "--input", str(budget_csv),
                   "--output", str(tmp_path / "afile" / "o.csv"))
    assert proc.returncode == 2, proc.stderr
    assert "afile" in proc.stderr and "Traceback" not in proc.stderr


def test_summary_shows_bracketed_text_as_written(tmp_path, capsys):
    """'[quality]' in an explanation names a table; rich must not take it for markup."""
    from types import SimpleNamespace

    from mlstat_core.cli import _print_summary
    from mlstat_core.components import IndicatorResult

    skipped = IndicatorResult("cost", "cost_effectiveness", None, status="skipped",
                              explanation="set it in the pipeline's [quality] table")
    _print_summary(SimpleNamespace(indicators=[skipped], warnings=["see [model.index]"],
                                   run_dir=tmp_path))
    said = capsys.readouterr()
    assert "[quality] table" in said.err and "[model.index]" in said.err  # problems: stderr
    assert f"Run folder: {tmp_path}" in said.out


@pytest.fixture
def python_shows_warnings(monkeypatch):
    """Every warning shown the way Python shows it outside pytest (which records them): on
    stderr, with its file and source line."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    monkeypatch.setattr(warnings, "showwarning", show)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        yield


def test_a_warning_while_the_report_is_rewritten_is_recorded_not_printed(
        write_pipeline, tmp_path, monkeypatch, python_shows_warnings):
    """A warning of the report's drawing (matplotlib's constrained_layout, say) is raised
    again when the report is rewritten after the persist step: it is the run's warning,
    shown once, never Python's two lines with the source."""
    import warnings

    from mlstat_core.engine import Runner

    original = Runner._write_report

    def drawing(self, folder, results):
        warnings.warn("axes sizes collapsed to zero", UserWarning, stacklevel=1)
        original(self, folder, results)

    monkeypatch.setattr(Runner, "_write_report", drawing)
    result = invoke("run", str(write_pipeline()), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert result.output.count("axes sizes collapsed") == 1
    assert "warning: persist: axes sizes collapsed to zero" in result.output
    assert "warnings.warn(" not in result.output
    manifest = json.loads(next((tmp_path / "out").iterdir()).joinpath("manifest.json")
                          .read_text())
    assert manifest["warnings"].count("persist: axes sizes collapsed to zero") == 1


def test_predict_shows_a_library_warning_once_on_one_line(write_pipeline, tmp_path, budget_csv,
                                                          monkeypatch, python_shows_warnings):
    import warnings

    import mlstat_core.predict as predict_module

    assert invoke("run", str(write_pipeline()), "--out", str(tmp_path / "r")).exit_code == 0
    run_dir = next((tmp_path / "r").iterdir())
    original = predict_module.predict_checked

    def checked(*args, **kwargs):  # a model whose library warns twice in every chunk
        for _ in range(2):
            warnings.warn("X has feature names,\n  but the model was fitted without",
                          UserWarning, stacklevel=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(predict_module, "predict_checked", checked)
    result = invoke("predict", str(run_dir), "--input", str(budget_csv), "--output",
                    str(tmp_path / "o.csv"), "--chunk-size", "500")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "feature names" in line]
    assert lines == ["warning: X has feature names, but the model was fitted without"]


@pytest.mark.parametrize("option", ["foo", "=3", "a.b=1"])
def test_a_malformed_engine_option_names_engine_option_not_set(option, tmp_path):
    result = invoke("predict", str(tmp_path), "--input", "x.csv", "--output", "y.csv",
                    "--engine-option", option)
    assert result.exit_code == 2
    assert f"--engine-option {option!r} must look like key=value" in result.output
    assert "--set" not in result.output


def test_a_scheduler_reads_results_on_stdout_and_problems_on_stderr(write_pipeline, tmp_path,
                                                                    budget_csv):
    """Figures and the run folder on stdout (its path as it is, brackets included), warnings
    on stderr; --json gives one object a scheduler parses, for run and predict alike."""
    path = write_pipeline()
    out = tmp_path / "runs[prod]"
    result = run_cli("run", str(path), "--out", str(out), "--set", "quality.targets.acuracy=0.5")
    assert result.returncode == 0, result.stderr
    run_dir = next(out.iterdir())
    assert f"Run folder: {run_dir}" in result.stdout  # not read as rich markup
    assert "warning" not in result.stdout and "names no figure" in result.stderr
    result = run_cli("run", str(path), "--out", str(out), "--json")
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "succeeded" and Path(outcome["run_dir"]).is_dir()
    assert 0 < outcome["figures"]["accuracy"] <= 1 and outcome["failed"] == {}
    cut = tmp_path / "cut.csv"
    cut.write_bytes(budget_csv.read_bytes()[:5000].rsplit(b",", 1)[0])  # no line end
    result = run_cli("predict", outcome["run_dir"], "--input", str(cut), "--output",
                     str(tmp_path / "scored.csv"), "--json")
    summary = json.loads(result.stdout)
    assert summary["records"] > 0 and "drift" in summary
    assert any("looks cut short" in w for w in summary["warnings"])
    assert "looks cut short" in result.stderr  # shown as well as kept


def test_exit_codes_tell_a_mistake_a_defect_and_an_interruption_apart(monkeypatch):
    """2: the user's mistake; 3: a component's defect; 130: Ctrl-C; 143: SIGTERM."""
    from mlstat_core import engine
    from mlstat_core.cli import user_errors

    def fails_with(exc: BaseException):
        def command() -> None:
            raise exc
        return user_errors(command)

    defect = engine.component_failure(ValueError("boom"), "fit", "model x.y", "mlstat-x", None)
    cases = [(engine.DataError("no such column"), 2), (defect, 3),
             (KeyboardInterrupt(), 130), (engine.Interrupted(), 143)]
    for exc, code in cases:
        with pytest.raises(SystemExit) as stopped:
            fails_with(exc)()
        assert stopped.value.code == code, exc


def test_a_failed_run_still_tells_a_scheduler_where_it_is(write_pipeline, tmp_path):
    # ids used twice: valid to `mlstat validate` (it reads the header only), fails when read
    path = write_pipeline(loader={"component": "core.table", "path": "budget_uk.csv",
                                  "target": "children", "id": "age"})
    result = run_cli("run", str(path), "--out", str(tmp_path / "runs"), "--json")
    assert result.returncode == 2
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "failed" and "is not unique" in outcome["error"]
    manifest = json.loads((Path(outcome["run_dir"]) / "manifest.json").read_text())
    assert manifest["status"] == "failed"


@pytest.mark.parametrize("args, shape", [
    (["predict", "RUN", "--json", "--bogus"], {"status": "failed", "output": None}),
    (["predict", "RUN", "--json"], {"status": "failed", "output": None}),  # no --input
    (["predict", "RUN", "--input", "x.csv", "--output", "y.csv", "--chunk-size", "0",
      "--json"], {"status": "failed", "output": None}),
    (["run", "--json"], {"status": "failed", "run_dir": None}),
    (["evaluate", "RUN", "--json", "--nope"], {"status": "failed", "run_dir": None}),
    (["validate", "--json"], {"valid": False}),
    (["components", "--kind", "modle", "--json"], {"status": "failed"}),
    (["plugins", "--json", "--nope"], {"status": "failed"}),
    (["predcit", "RUN", "--json"], {"status": "failed"}),
])
def test_a_command_line_rejected_by_click_is_still_json_with_json(tmp_path, args, shape):
    """A scheduler that parses stdout gets the command's failure object, not usage text;
    the usage text a person reads stays on stderr, with exit code 2."""
    result = CliRunner().invoke(main, [str(tmp_path) if a == "RUN" else a for a in args],
                                prog_name="mlstat")
    assert result.exit_code == 2
    failure = json.loads(result.stdout)
    assert shape.items() <= failure.items()
    message = failure.get("error") or failure.get("message")
    assert "Try 'mlstat" in message and "--help' for help." in message
    assert "Usage:" in result.stderr and "Traceback" not in result.stderr


def test_without_json_a_rejected_command_line_prints_nothing_on_stdout(tmp_path):
    for args in (["predict", str(tmp_path), "--bogus"],
                 ["predict", str(tmp_path), "--input", "x.csv", "--", "--json"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and result.stdout == ""
        assert "Usage:" in result.stderr


def test_components_with_json_report_their_own_failure_as_json():
    result = CliRunner().invoke(main, ["components", "--task", "no_such_task", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"].startswith("unknown task 'no_such_task'")


def test_components_show_the_values_each_param_accepts():
    """Bounds and allowed values, so that a user picks params that validate."""
    rows = {r["name"]: r for r in json.loads(invoke("components", "--json").output)}
    forest = {p["name"]: p for p in rows["core.random_forest"]["params"]}
    assert forest["n_estimators"]["constraints"] == {"ge": 1, "le": 5000}
    assert forest["class_weight"]["constraints"] == {
        "choices": ["balanced", "balanced_subsample", None]}
    assert forest["n_jobs"]["constraints"] == {}
    boosting = {p["name"]: p for p in rows["core.gradient_boosting"]["params"]}
    assert boosting["learning_rate"]["constraints"] == {"gt": 0, "le": 1}
    text = invoke("components", "--kind", "model").output
    assert "- n_estimators: integer (>= 1, <= 5000; default 200) " in text
    assert "- learning_rate: number (> 0, <= 1; default 0.1) " in text
    assert '- class_weight: "balanced" | "balanced_subsample" | none (default None) ' in text


def test_a_run_folder_named_in_local_time_by_an_older_version_still_opens(
        write_pipeline, tmp_path, budget_csv):
    """Run folders are named in UTC now ('...-091502Z-...'); one named before, in local time,
    is still scored from and compared."""
    for _ in range(2):  # the old folder is the second run's, renamed: two runs to compare
        assert invoke("run", str(write_pipeline()), "--out", str(tmp_path / "r")).exit_code == 0
    new, second = sorted((tmp_path / "r").iterdir())
    assert new.name.split("-")[-2].endswith("Z")
    old = tmp_path / "old" / "test-20261129-235959-abcdef"
    for copied in second.rglob("*"):
        target = old / copied.relative_to(second)
        target.parent.mkdir(parents=True, exist_ok=True)
        if copied.is_file():
            target.write_bytes(copied.read_bytes())
    result = invoke("predict", str(old), "--input", str(budget_csv), "--output",
                    str(tmp_path / "scored.csv"), "--json")
    assert json.loads(result.stdout)["status"] == "succeeded"
    assert invoke("compare", str(old), str(new)).exit_code == 0


def test_a_hand_edited_mistake_is_one_message_and_no_run_folder(tmp_path, budget_csv):
    path = tmp_path / "p.toml"
    path.write_text('[pipeline]\nname = "x"\ntask = "tabular_classification"\nseed = true\n'
                    '[loader]\ncomponent = "core.table"\npath = "data\\budget.csv"\n'
                    'target = "children"\n[model]\ncomponent = "core.majority"\n'
                    '[indicators]\ncomponent = "core.timings"\n', encoding="utf-8")
    proc = run_cli("run", str(path), "--out", str(tmp_path / "runs"))
    assert proc.returncode == 2, proc.stderr
    for expected in ("[pipeline.seed] expects an integer", "[loader.path] holds a backspace",
                     "write [[indicators]]"):
        assert expected in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "runs").exists()
