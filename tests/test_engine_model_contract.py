"""The engine holds models and loaders to the contract: predictions meet their own records,
carry the task's columns and probabilities, the saved model is safe and loads back, and an
unexpected error in component code is one message naming the step, the component and its
distribution, with the traceback kept in the run folder."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from contract_fakes import bad_registry, cli_run, pipeline, write_data

import mlstat_core
from mlstat_core.artifacts import RunFolder
from mlstat_core.components import ColumnRoles, Dataset
from mlstat_core.engine import prediction_frame
from mlstat_core.errors import DataError, MlstatError, ModelError, PluginError


def run(tmp_path, model="bad.echo", **sections):
    cfg = pipeline(write_data(tmp_path), model, **sections)
    return mlstat_core.run(cfg, out=tmp_path / "runs", registry=bad_registry())


def failed_run(tmp_path, error=MlstatError, **kwargs):
    """Run, expect ``error``; return it and the manifest of the (only) run folder."""
    with pytest.raises(error) as caught:
        run(tmp_path, **kwargs)
    folders = list((tmp_path / "runs").iterdir())
    assert len(folders) == 1
    manifest = RunFolder.open(folders[0]).manifest
    assert manifest["status"] == "failed"
    assert manifest["error"] == str(caught.value)
    return caught.value, manifest, folders[0]


# --- 1. predictions meet their own records --------------------------------------------------


def test_rows_returned_in_another_order_are_matched_by_index(tmp_path):
    result = run(tmp_path, "bad.reordered")
    assert result.status == "succeeded"
    assert (result.predictions["prediction"] == result.predictions["true"]).all()
    assert result.metric("accuracy") == 1.0


@pytest.mark.parametrize("model, says", [
    ("bad.resetindex", "index labels that are not the input's"),
    ("bad.shortbyone", "19 row(s) for 20 record(s)"),
    ("bad.ndarray", "numpy.ndarray, not a DataFrame"),
])
def test_predictions_that_cannot_be_matched_are_one_model_error(tmp_path, model, says):
    error, manifest, _ = failed_run(tmp_path, ModelError, model=model)
    assert f"model {model} (distribution mlstat-bad): predict() returned" in str(error)
    assert says in str(error)


def test_prediction_frame_refuses_repeated_labels():
    frame = pd.DataFrame({"id": ["a", "b", "c"], "y": [1, 0, 1]}, index=[10, 11, 12])
    dataset = Dataset(frame, ColumnRoles(id="id", target="y"))
    twice = pd.DataFrame({"prediction": [1, 0, 1]}, index=[10, 10, 12])
    with pytest.raises(ModelError, match="repeated index label"):
        prediction_frame(dataset, [0, 1, 2], twice, None, "p.m")
    shuffled = pd.DataFrame({"prediction": ["C", "A", "B"]}, index=[12, 10, 11])
    out = prediction_frame(dataset, [0, 1, 2], shuffled, None, "p.m")
    assert out.set_index("record_id")["prediction"].to_dict() == {"a": "A", "b": "B", "c": "C"}


# --- 2. unusable output fails the run -------------------------------------------------------


def test_missing_prediction_column_fails_the_run_naming_model_and_column(tmp_path):
    error, _, _ = failed_run(tmp_path, ModelError, model="bad.noconfidence")
    assert "model bad.noconfidence (distribution mlstat-bad): predictions lack column(s) " \
           "'confidence'" in str(error)


def test_confidence_outside_0_1_fails_the_run(tmp_path):
    error, _, _ = failed_run(tmp_path, ModelError, model="bad.percent")
    assert "model bad.percent (distribution mlstat-bad): column 'confidence'" in str(error)
    assert "not probabilities in [0, 1] (e.g. 100.0" in str(error)


def test_a_model_that_saves_no_file_fails_the_run(tmp_path):
    error, _, _ = failed_run(tmp_path, ModelError, model="bad.nofiles")
    assert "model bad.nofiles (distribution mlstat-bad): save() wrote no file" in str(error)


def test_pickle_files_are_refused(tmp_path):
    error, manifest, _ = failed_run(tmp_path, ModelError, model="bad.pickler")
    assert "pickle file(s) model.pkl" in str(error)
    assert "safe formats only: skops, safetensors, JSON" in str(error)
    assert not any(name.startswith("model/") for name in manifest["files"])


def test_files_written_outside_the_model_folder_fail_the_run(tmp_path):
    error, _, folder = failed_run(tmp_path, ModelError, model="bad.outside")
    assert "outside the model folder" in str(error)
    assert str(folder / "extra.json") in str(error)


def test_a_model_that_forgets_what_it_learned_when_saved_fails_the_run(tmp_path):
    error, _, _ = failed_run(tmp_path, ModelError, model="bad.forgetful")
    assert "predicts differently once loaded" in str(error)
    assert "model bad.forgetful (distribution mlstat-bad): its save() or load()" in str(error)


def test_a_model_whose_predictions_change_between_calls_is_warned_not_failed(tmp_path):
    result = run(tmp_path, "bad.noisy")
    assert result.status == "succeeded"
    assert any("bad.noisy predicts the same records differently from one call to the next"
               in w for w in result.warnings)


def test_changed_records_compare_missing_values_of_every_dtype():
    from mlstat_core.reload_check import changed_records

    index = pd.Index([7, 8, 9])
    for dtype, values in (("Int64", [1, None, 3]), ("string", ["a", None, "c"]),
                          ("float64", [0.5, None, 0.25]), ("object", ["a", None, "c"])):
        before = pd.DataFrame({"prediction": pd.array(values, dtype=dtype)}, index=index)
        assert changed_records(before, before.copy()) == []
        after = before.copy()
        after.iloc[0, 0] = None  # a value lost
        after.iloc[1, 0] = before.iloc[0, 0]  # a missing value filled
        assert changed_records(before, after) == [7, 8]


def test_a_model_its_class_cannot_load_fails_the_run_with_the_fix(tmp_path):
    error, _, _ = failed_run(tmp_path, ModelError, model="bad.tree")
    text = str(error)
    assert "model bad.tree (distribution mlstat-bad), class contract_fakes.Tree, cannot load " \
           "the files it saved" in text
    assert "add 'sklearn.tree._tree.Tree' to Tree.trusted_types" in text


# --- 5. unexpected errors in component code -------------------------------------------------


def loader(component: str, path) -> dict:
    return {"component": component, "path": str(path)}


@pytest.mark.parametrize("component, step, says", [
    ("bad.buggyloader", "load", "raised ZeroDivisionError"),
])
def test_an_unexpected_error_in_a_loader_is_one_message(tmp_path, component, step, says):
    data = write_data(tmp_path)
    error, manifest, folder = failed_run(tmp_path, PluginError,
                                         loader=loader(component, data))
    text = str(error)
    assert text.startswith(f"step {step}: loader {component} (distribution mlstat-bad) {says}")
    assert f"full traceback in {folder / 'traceback.txt'}" in text
    assert "traceback.txt" in manifest["files"]
    assert "ZeroDivisionError" in (folder / "traceback.txt").read_text()


def test_a_file_a_loader_cannot_find_is_the_users_path_to_check(tmp_path):
    """No such file: one message that says to check the path, not a plugin bug."""
    from mlstat_core.errors import user_message

    data = write_data(tmp_path)
    with pytest.raises(FileNotFoundError) as caught:
        run(tmp_path, loader=loader("bad.missingfileloader", data.name))
    assert "no such file or folder: check the path" in user_message(caught.value)
    [folder] = list((tmp_path / "runs").iterdir())
    assert RunFolder.open(folder).manifest["status"] == "failed"


def test_a_loader_returning_a_frame_is_one_message(tmp_path):
    data = write_data(tmp_path)
    error, _, _ = failed_run(tmp_path, PluginError,
                             loader=loader("bad.frameloader", data))
    assert "loader bad.frameloader (distribution mlstat-bad) returned a DataFrame, not a " \
           "mlstat_core.components.Dataset" in str(error)


def test_a_loader_that_returns_no_record_is_one_message(tmp_path):
    """It used to end in a traceback (IndexError) from the check of the target's classes."""
    data = write_data(tmp_path)
    error, _, _ = failed_run(tmp_path, DataError, loader=loader("bad.emptyloader", data))
    assert str(error).startswith(f"loader bad.emptyloader (distribution mlstat-bad) returned "
                                 f"no records from {data}: check that the input holds records")


@pytest.mark.parametrize("section, component, code", [
    ("model", "bad.shortbyone", 3), ("model", "bad.noconfidence", 3),
    ("model", "bad.percent", 3), ("model", "bad.nofiles", 3), ("model", "bad.pickler", 3),
    ("model", "bad.outside", 3), ("model", "bad.forgetful", 3), ("model", "bad.mutates", 3),
    ("loader", "bad.frameloader", 3), ("loader", "bad.badroleloader", 3),
    ("loader", "bad.emptyloader", 2),
])
def test_a_breach_of_the_contract_exits_as_a_defect_of_the_component(tmp_path, section,
                                                                      component, code):
    """Exit code 3 lets a scheduler tell a plugin's defect from the user's mistake (2), as
    docs/cli.md says; breaches of the contract used to exit 2."""
    data = write_data(tmp_path)
    sections = {"loader": loader(component, data)} if section == "loader" else \
        {"model": component}
    error, _, _ = failed_run(tmp_path, MlstatError, **sections)
    assert error.exit_code == code, str(error)


def test_roles_naming_a_missing_column_blame_the_file_or_the_plugin(tmp_path):
    """A column the pipeline file names is the user's to check; one it does not name is a
    defect of the loader."""
    data = write_data(tmp_path)
    error, _, _ = failed_run(tmp_path, DataError, loader={
        **loader("bad.configroleloader", data), "target": "lable"})
    assert "loader bad.configroleloader (distribution mlstat-bad) gives column role(s) to " \
           "'lable', which the data lacks" in str(error)
    assert "check the column names in [loader]" in str(error)
    other = tmp_path / "other"
    other.mkdir()
    error, _, _ = failed_run(other, PluginError,
                             loader=loader("bad.badroleloader", write_data(other)))
    assert "gives column role(s) to 'labl'" in str(error)
    assert "a defect of the loader" in str(error) and "mlstat-bad" in str(error)


def test_an_unexpected_error_in_fit_names_step_model_and_distribution(tmp_path):
    error, manifest, folder = failed_run(tmp_path, PluginError, model="bad.fitfails")
    assert str(error).startswith("step fit: model bad.fitfails (distribution mlstat-bad) "
                                 "raised ValueError: Input contains NaN; full traceback in")
    assert isinstance(error.__cause__, ValueError)
    assert "raise ValueError" in (folder / "traceback.txt").read_text()


def test_cli_prints_one_line_without_a_traceback(tmp_path, monkeypatch):
    out = cli_run(tmp_path, "bad.fitfails", bad_registry(), monkeypatch)
    assert out.exit_code == 3, out.output  # a component's defect, not the user's mistake
    assert "Traceback" not in out.output
    errors = [line for line in out.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "model bad.fitfails (distribution mlstat-bad)" in errors[0]


def test_manifest_warnings_of_a_clean_run_stay_json(tmp_path):
    result = run(tmp_path)
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "succeeded" and "traceback.txt" not in manifest["files"]


def test_a_dataset_given_one_source_or_one_column_as_text_takes_them_as_lists(tmp_path):
    """A loader's `sources="data.csv"` left the run's inputs unfingerprinted, and
    `features="wfood"` named the columns 'w', 'f', 'o', 'd'."""
    data = write_data(tmp_path)
    frame = pd.read_csv(data)
    dataset = Dataset(frame, {"target": "y", "features": "a"}, sources=str(data))
    assert dataset.sources == [data] and dataset.roles.features == ["a"]
    assert dataset.roles.input_columns() == ["a"]
