"""Run safety: user mistakes in data and config are caught before fitting with one clear
message, splits keep their promises, figures agree with each other and interrupted runs say so.
"""

from __future__ import annotations

import json
import os
import signal
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from test_quality_context import label_context

import mlstat_core
from mlstat_core.builtins.params import GroupParams, HoldoutParams, KFoldParams
from mlstat_core.builtins.splitters import KFoldSplitter, StratifiedSplitter
from mlstat_core.components import ColumnRoles, Dataset
from mlstat_core.config import load_config
from mlstat_core.errors import ConfigError, DataError
from mlstat_core.quality.accuracy import AutoCoding, RegressionAccuracy
from mlstat_core.quality.cost import CostEffectiveness
from mlstat_core.report.build import open_run
from mlstat_core.tasks import TABULAR_CLASSIFICATION, TABULAR_REGRESSION


def small_table(tmp_path: Path, n: int = 120, **columns) -> Path:
    """A small survey-like table: id, age, income, region, weight, group, class y, number num_y;
    class 'rare' has a single record (id 0)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "id": range(n), "age": rng.integers(18, 80, n), "income": rng.normal(100, 20, n),
        "region": rng.choice(["n", "s", "e"], n), "w": rng.uniform(0.5, 2, n),
        "grp": rng.integers(0, 20, n)})
    frame["y"] = np.where(frame["income"] > 100, "high", "low")
    frame.loc[0, "y"] = "rare"
    frame["num_y"] = frame["income"] * 1.5 + rng.normal(0, 1, n)
    for name, values in columns.items():
        frame[name] = values
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path


def config(path: Path, task: str = "tabular_classification", **loader) -> dict:
    model = "core.random_forest" if task == "tabular_classification" \
        else "core.random_forest_regressor"
    return {
        "pipeline": {"name": "safety", "task": task, "seed": 0},
        "loader": {"component": "core.table", "path": str(path),
                   "target": "y" if task == "tabular_classification" else "num_y", "id": "id",
                   "features": ["age", "income", "region"], **loader},
        "split": {"component": "core.holdout"},
        "model": {"component": model, "n_estimators": 5},
        "indicators": ["core.timings"],
    }


def run(cfg: dict, tmp_path: Path, **kwargs):
    return mlstat_core.run(cfg, out=tmp_path / "runs", **kwargs)


# --- 1. target leakage ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["y", "id"])
def test_target_or_id_listed_as_feature_is_refused_at_validation(tmp_path, role):
    cfg = config(small_table(tmp_path), features=["age", role])
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    issue = err.value.issues[0]
    assert issue.field == "loader.features"
    assert f"remove {role!r} from `features`" in issue.message


def test_weights_listed_as_feature_runs_with_a_warning(tmp_path):
    cfg = config(small_table(tmp_path), features=["age", "w"], weights="w")
    result = run(cfg, tmp_path)
    assert any("'w' is the weights column and also an input" in w for w in result.warnings)


# --- 2. cost figures agree with the auto-coding figures -------------------------------------


def test_automation_rate_uses_the_auto_coding_threshold_and_min_records():
    # 10 sure and right records, then 40 wrong ones: 95% is reached only by fewer than 20.
    y_true = ["a"] * 50
    y_pred = ["a"] * 10 + ["b"] * 40
    confidence = [0.99] * 10 + list(np.linspace(0.9, 0.5, 40))
    ctx = label_context(y_true, y_pred, confidence=confidence, classes=["a", "b"])
    share = {r.name: r for r in AutoCoding().compute(ctx)}["auto_coding_share"].value
    rate = {r.name: r for r in CostEffectiveness().compute(ctx)}["automation_rate"]
    assert share == 0.0
    assert rate.value == share
    assert "at least 20 test records" in rate.explanation


# --- 3. and 6. stratification ---------------------------------------------------------------


def class_data(n: int = 100) -> Dataset:
    y = ["a"] * 70 + ["b"] * (n - 71) + ["solo"]
    frame = pd.DataFrame({"x": range(n), "y": y})
    return Dataset(frame, ColumnRoles(target="y", features=["x"]))


@pytest.mark.parametrize("seed", range(8))
def test_stratified_holdout_keeps_a_single_record_class_in_training(seed):
    dataset = class_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        split = StratifiedSplitter(HoldoutParams(test_size=0.2)).split(dataset, seed)[0]
    solo = 99
    assert solo in split.train and solo not in split.test
    test_classes = dataset.y.iloc[split.test].value_counts()
    assert test_classes["a"] == 14 and test_classes["b"] == 6  # still stratified
    assert "kept in training" in str(caught[0].message)


def test_stratified_kfold_keeps_a_single_record_class_in_every_training_fold():
    dataset = class_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        splits = KFoldSplitter(KFoldParams(n_splits=5)).split(dataset, 0)
    assert all(99 in s.train and 99 not in s.test for s in splits)
    assert all(dataset.y.iloc[s.test].value_counts()["a"] == 14 for s in splits)
    tested = np.sort(np.concatenate([s.test for s in splits]))
    assert tested.tolist() == list(range(99))
    assert "in every fold (never tested)" in str(caught[0].message)


def test_kfold_on_a_regression_task_makes_plain_folds_without_a_warning():
    frame = pd.DataFrame({"x": range(30), "t": np.linspace(0, 1, 30)})
    splitter = KFoldSplitter(KFoldParams(n_splits=3))
    splitter.task = TABULAR_REGRESSION
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        splits = splitter.split(Dataset(frame, ColumnRoles(target="t", features=["x"])), 0)
    assert len(splits) == 3


def test_stratified_split_on_a_regression_task_is_refused_at_validation(tmp_path):
    cfg = config(small_table(tmp_path), task="tabular_regression")
    cfg["split"] = {"component": "core.stratified"}
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert err.value.issues[0].field == "split.component"
    assert "needs a classification task" in err.value.issues[0].message


def test_classification_kfold_still_stratifies_when_told_the_task():
    splitter = KFoldSplitter(KFoldParams(n_splits=5))
    splitter.task = TABULAR_CLASSIFICATION
    with pytest.warns(UserWarning, match="never tested"):
        splits = splitter.split(class_data(), 0)
    assert all(99 not in s.test for s in splits)


# --- 4. interrupted runs --------------------------------------------------------------------


@pytest.mark.parametrize("how,expected", [
    ("term", "interrupted (SIGTERM)"), ("int", "interrupted (Ctrl-C)")])
def test_an_interrupted_run_is_marked_failed_and_says_why(tmp_path, how, expected):
    class Unhandled(Exception):
        """Raised by the handler outside the run: the run did not install its own."""

    def outside(signum, frame):
        raise Unhandled

    original = signal.signal(signal.SIGTERM, outside)
    before = signal.getsignal(signal.SIGTERM)

    def progress(step: str, message: str) -> None:
        if step == "fit" and not message:
            if how == "term":
                os.kill(os.getpid(), signal.SIGTERM)
            else:
                raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            run(config(small_table(tmp_path)), tmp_path, progress=progress)
    finally:
        after = signal.signal(signal.SIGTERM, original)
    manifest = json.loads(next((tmp_path / "runs").glob("*/manifest.json")).read_text())
    assert manifest["status"] == "failed"
    assert manifest["error"] == expected
    assert manifest["finished_at"]
    assert after == before  # the handler outside the run is back


# --- 5. data mistakes are one DataError before fitting --------------------------------------


BAD_DATA = {
    "weights NaN": ({"w": [np.nan] + [1.0] * 119}, {"weights": "w"},
                    "weights column 'w' has 1 missing value(s)"),
    "weights negative": ({"w": [1.0] * 5 + [-5.0] + [1.0] * 114}, {"weights": "w"},
                         "1 negative value(s) (first: -5.0 at record id '5')"),
    "weights zero": ({"w": [0.0] * 120}, {"weights": "w"}, "zero for every record"),
    "weights text": ({"w": ["1x"] * 120}, {"weights": "w"}, "not numbers (first: '1x'"),
    "groups NaN": ({"grp": [np.nan] * 3 + [1.0] * 117}, {"groups": "grp"},
                   "groups column 'grp' of"),
    "target NaN kept": ({"y": [np.nan] * 2 + ["a", "b"] * 59}, {"dropna_target": False},
                        "set `dropna_target = true`"),
    "continuous target": ({"y": [0.5] + [0.0, 1.0] * 59 + [1.0]}, {},
                          "holds continuous numbers (e.g. 0.5 at record id '0')"),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_data_mistakes_are_one_data_error_naming_column_record_and_fix(tmp_path, case):
    columns, loader, message = BAD_DATA[case]
    cfg = config(small_table(tmp_path, **columns), **loader)
    with pytest.raises(DataError) as err:
        run(cfg, tmp_path)
    assert message in str(err.value)


def test_a_data_mistake_exits_2_without_a_traceback(tmp_path):
    from click.testing import CliRunner

    from mlstat_core.cli import main

    cfg = config(small_table(tmp_path, w=[np.nan] * 120), weights="w")
    path = tmp_path / "p.toml"
    path.write_text(tomli_w.dumps(cfg), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "missing value(s)" in result.output


# --- 7. [quality] typos ---------------------------------------------------------------------


def test_unknown_quality_settings_are_issues_with_a_suggestion(tmp_path):
    cfg = config(small_table(tmp_path))
    cfg["quality"] = {"target_acuracy": 0.5, "manual_seconds_per_recrod": 30,
                      "cost_per_hour": 40}
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    found = {i.field: i.suggestion for i in err.value.issues}
    assert found == {"quality.target_acuracy": "target_accuracy",
                     "quality.manual_seconds_per_recrod": "manual_seconds_per_record"}


def test_a_target_naming_no_figure_is_a_run_warning_with_close_names(tmp_path):
    cfg = config(small_table(tmp_path))
    cfg["indicators"] = ["core.classification_accuracy"]
    cfg["quality"] = {"targets": {"acurracy": 0.9, "accuracy": 0.5}}
    result = run(cfg, tmp_path)
    notes = [w for w in result.warnings if "names no figure" in w]
    assert len(notes) == 1 and "'acurracy'" in notes[0] and "'accuracy'" in notes[0]


# --- 8. regression ----------------------------------------------------------------------------


def test_core_random_forest_regressor_runs_a_regression_pipeline(tmp_path):
    cfg = config(small_table(tmp_path), task="tabular_regression")
    cfg["split"] = {"component": "core.kfold", "n_splits": 3}
    cfg["indicators"] = ["core.regression_accuracy"]
    result = run(cfg, tmp_path)
    assert result.metrics["r_squared"] > 0.8
    assert result.metrics["missing_predictions"] == 0
    assert not any("class" in w for w in result.warnings)  # no stratification on numbers


def test_regression_accuracy_counts_missing_predictions():
    ctx = label_context([1.0, 2.0, 3.0, 4.0], [1.5, np.nan, 3.5, 4.5])
    results = {r.name: r for r in RegressionAccuracy().compute(ctx)}
    assert results["missing_predictions"].value == 1
    assert results["missing_predictions"].headline
    assert results["rmse"].details["records"] == 3
    assert "1 record(s) got none" in results["rmse"].explanation


# --- 9. messages ------------------------------------------------------------------------------


def test_report_of_a_failed_run_gives_the_error(tmp_path):
    with pytest.raises(DataError):
        run(config(small_table(tmp_path, w=[-1.0] * 120), weights="w"), tmp_path)
    folder = next((tmp_path / "runs").iterdir())
    with pytest.raises(DataError) as err:
        open_run(folder)
    assert "negative value(s)" in str(err.value)


def test_duplicate_and_missing_ids_are_plain_messages(tmp_path):
    ids = list(range(120))
    ids[3] = 4
    with pytest.raises(DataError, match=r"is not unique: '4' is used 2 times"):
        run(config(small_table(tmp_path, id=ids)), tmp_path)
    with pytest.raises(DataError, match=r"id column 'id' of .* is empty"):
        run(config(small_table(tmp_path, id=[np.nan] * 120)), tmp_path)


def test_a_pipeline_name_with_leading_punctuation_gives_a_clean_folder(tmp_path):
    from mlstat_core.artifacts import new_run_id

    assert new_run_id("<draft>").startswith("draft-2")
    assert new_run_id("---").startswith("run-")


def test_a_run_folder_name_holds_only_what_the_file_system_can_name(monkeypatch):
    """Under a Latin-2 locale a pipeline named in Cyrillic still gets a folder, not a
    UnicodeEncodeError from mkdir."""
    import sys

    from mlstat_core.artifacts import new_run_id

    assert new_run_id("Potok żółć").startswith("Potok-żółć-2")  # a UTF-8 file system
    monkeypatch.setattr(sys, "getfilesystemencoding", lambda: "iso8859-2")
    name = new_run_id("Potok żółć ёж")
    assert name.startswith("Potok-żółć-2")  # Polish letters exist in Latin-2, Cyrillic not
    name.encode("iso8859-2")


def test_a_run_that_never_finished_says_so(tmp_path):
    from mlstat_core.artifacts import RunFolder

    folder = RunFolder.create(tmp_path, "killed")  # left 'running', as by SIGKILL
    with pytest.raises(DataError, match=r"never finished \(status 'running'\).*killed, out of "
                       r"memory.*rerun the pipeline"):
        RunFolder.open(folder.path).verify()
    cfg = config(small_table(tmp_path))
    cfg["pipeline"]["name"] = "<draft>"
    result = run(cfg, tmp_path)
    assert result.run_dir.name.startswith("draft")
    assert result.manifest["name"] == "<draft>"


def test_group_split_sizes_are_documented_as_shares_of_groups():
    assert "share of groups" in GroupParams.model_fields["test_size"].description


# --- 10. ids keep their leading zeros ------------------------------------------------------


def test_ids_with_leading_zeros_stay_text(tmp_path):
    result = run(config(small_table(tmp_path, id=[f"{i:05d}" for i in range(120)])), tmp_path)
    assert result.predictions["record_id"].str.startswith("00").all()


def test_a_full_disk_is_the_machine_s_problem_not_a_component_s(tmp_path):
    """A write that fills the disk names no file; it is still the one line a user can act
    on, never "report it to the component's authors"."""
    import errno

    from mlstat_core.engine import blame
    from mlstat_core.errors import user_message

    full = OSError(errno.ENOSPC, "No space left on device")
    assert user_message(full) == "cannot write: the disk is full: free some space or write " \
        "elsewhere"
    with pytest.raises(OSError) as caught, blame("persist", "model core.x", None, lambda e: None):
        raise full
    assert caught.value is full  # passed through, not turned into a PluginError
    assert user_message(OSError(errno.EIO, "I/O error")) is None  # a real fault keeps its trace


def test_a_run_folder_that_cannot_be_started_is_not_left_behind(tmp_path, monkeypatch):
    import errno

    from mlstat_core.artifacts import RunFolder

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(RunFolder, "save_manifest", full)
    with pytest.raises(OSError):
        RunFolder.create(tmp_path, "full")
    assert list(tmp_path.iterdir()) == []  # no folder that is not a run folder


def test_a_run_folder_that_lost_files_while_written_does_not_succeed(tmp_path):
    from mlstat_core.artifacts import RunFolder, atomic_write_text

    folder = RunFolder.create(tmp_path, "cleaned")
    atomic_write_text(folder.path / "config.toml", "x = 1\n")
    folder.record("config.toml")
    (folder.path / "config.toml").unlink()  # a cleaner swept the folder meanwhile
    with pytest.raises(DataError, match=r"lost 1 of its files while the run wrote it "
                                        r"\(config\.toml\).*rerun"):
        folder.finish("succeeded")
    assert RunFolder.open(folder.path).manifest["status"] == "running"
    folder.finish("failed", error="lost files")  # what the engine then records


def test_a_run_folder_is_named_in_utc(monkeypatch):
    """Folders made in two time zones, or across a change of daylight saving time, sort in
    the order they were made."""
    import datetime as dt
    import re
    import time

    from mlstat_core.artifacts import new_run_id

    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: the local date is another day
    time.tzset()
    try:
        before = dt.datetime.now(dt.UTC).replace(microsecond=0)
        stamp = re.fullmatch(r"draft-(\d{8}-\d{6})Z-[0-9a-f]{6}", new_run_id("draft"))
        after = dt.datetime.now(dt.UTC)
    finally:
        monkeypatch.undo()  # the TZ this process had
        time.tzset()
    assert stamp is not None
    made = dt.datetime.strptime(stamp[1], "%Y%m%d-%H%M%S").replace(tzinfo=dt.UTC)
    assert before <= made <= after


# --- 10. run folders received from elsewhere ---------------------------------------------------


@pytest.mark.parametrize("field", ["task", "components"])
def test_evaluating_a_run_whose_manifest_lost_a_field_names_the_field(tmp_path, field):
    table = small_table(tmp_path)
    result = run(config(table), tmp_path)
    manifest_path = result.run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.pop(field)
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(DataError, match=rf"manifest.json has no {field}.*the manifest is damaged "
                       r"or was edited.*rerun the pipeline"):
        mlstat_core.evaluate(result.run_dir, table, out=tmp_path / "evaluations")
    assert not (tmp_path / "evaluations").exists()


def test_a_run_folder_under_a_path_with_spaces_and_accents_scores_and_evaluates(tmp_path):
    table = small_table(tmp_path)
    out = tmp_path / "shared drive" / "żółć é"
    result = mlstat_core.run(config(table), out=out)
    evaluation = mlstat_core.evaluate(result.run_dir, table, out=out)
    assert evaluation.manifest["status"] == "succeeded"
    assert mlstat_core.load_model(result.run_dir).predict(pd.read_csv(table).head(3)).shape[0] == 3


def test_a_run_stopped_after_writing_its_report_keeps_no_report(tmp_path, monkeypatch):
    """Ctrl-C between the report and the manifest's 'succeeded': the report (which says
    'succeeded') goes with the failure, and report and compare refuse the folder saying it was
    stopped, as mlstat predict does, with nothing to fix but to run again."""
    from mlstat_core import report as report_module

    written = report_module.write_report

    def stopped_after(*args, **kwargs):
        written(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "write_report", stopped_after)
    with pytest.raises(KeyboardInterrupt):
        run(config(small_table(tmp_path)), tmp_path)
    folder = next((tmp_path / "runs").iterdir())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert not (folder / "report.json").exists() and not (folder / "report.html").exists()
    assert not {"report.json", "report.html"} & set(manifest["files"])
    with pytest.raises(DataError, match=r"interrupted \(Ctrl-C\)\); it has no report to stand "
                                        r"by: rerun the pipeline"):
        open_run(folder)


def test_a_failed_run_with_a_report_left_in_its_folder_is_not_compared(tmp_path):
    """A folder whose manifest says 'failed' (killed in an older version, or copied in part)
    with a report.json beside it: the report is not read."""
    result = run(config(small_table(tmp_path)), tmp_path)
    manifest_path = result.run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.update(status="failed", error="model fit failed: out of memory")
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="did not succeed .*out of memory\\); it has no report to "
                                        "stand by: fix that and rerun the pipeline"):
        open_run(result.run_dir)


def test_files_are_written_with_the_umask_of_the_moment_without_setting_it(tmp_path):
    """The umask was read once, when mlstat was imported, by setting it to 0 for a moment
    (a race with the threads of a notebook or service creating files then); a umask set
    later by the user (027 for a shared folder) was not followed."""
    from mlstat_core.artifacts import atomic_write_bytes, process_umask

    before = os.umask(0o027)
    try:
        assert process_umask() == 0o027
        written = atomic_write_bytes(tmp_path / "a.json", b"{}")
        assert written.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(before)


def test_files_are_written_where_the_os_has_no_fchmod(tmp_path, monkeypatch):
    """Windows has no os.fchmod before Python 3.13: every file a run writes failed there."""
    from mlstat_core.artifacts import atomic_write_bytes

    monkeypatch.delattr(os, "fchmod")
    atomic_write_bytes(tmp_path / "a.json", b"{}")
    assert (tmp_path / "a.json").read_bytes() == b"{}"
