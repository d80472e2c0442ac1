"""Input files and folders named in params (InputPath): checked by ``mlstat validate`` and
before every run, relative paths resolved as the loaders resolve them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Annotated

import pytest
import tomli_w
from conftest import pipeline_dict
from pydantic import Field

import mlstat_core
from mlstat_core import hookimpl
from mlstat_core.components import (
    ComponentSpec,
    InputFile,
    InputFolder,
    InputPath,
    InputRef,
    Params,
    params_problems,
)
from mlstat_core.config import load_config
from mlstat_core.errors import ConfigError
from mlstat_core.inputs import field_marker, marked_inputs
from mlstat_core.registry import PluginRecord, discover
from mlstat_core.typenames import constraints_text, param_constraints


def issues_of(exc: ConfigError) -> dict[str, tuple[str, str | None]]:
    return {i.field: (i.message, i.suggestion) for i in exc.issues}


def loader_path_issue(write_pipeline, value: str) -> tuple[str, str | None]:
    """The message and suggestion for a core.table loader whose `path` is ``value``."""
    path = write_pipeline(loader={"component": "core.table", "path": value,
                                  "target": "children"})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return issues_of(info.value)["loader.path"]


# --- the marker ------------------------------------------------------------------------------


class Lookup(Params):
    file: InputFile = "lookup.csv"


class ScanParams(Params):
    """Params of a fake loader with every shape of input path."""

    path: InputFile = Field(description="a data file")
    codes: InputFile | None = None
    scenes: InputFolder | None = None
    extra: list[InputFile] = Field(default_factory=list)
    by_name: dict[str, InputFile] = Field(default_factory=dict)
    marked_on_field: Annotated[str | None, InputPath("any")] = None
    folder: str | None = None
    inside: Annotated[str, InputPath("file", within="folder")] = "inner.csv"
    bundled: Annotated[str, InputPath(names=("bundled:demo",))] = "bundled:demo"
    lookup: Lookup | None = None
    label: str = "not a path"


def test_the_marker_is_found_on_the_field_and_inside_its_type():
    fields = ScanParams.model_fields
    assert field_marker(fields["path"]) == InputPath("file")
    assert field_marker(fields["codes"]) == InputPath("file")
    assert field_marker(fields["scenes"]) == InputPath("folder")
    assert field_marker(fields["extra"]) == InputPath("file")
    assert field_marker(fields["marked_on_field"]) == InputPath("any")
    assert field_marker(fields["label"]) is None
    assert param_constraints(fields["codes"]) == {"input": "file"}
    assert constraints_text(param_constraints(fields["scenes"])) == "existing folder"


def test_marked_inputs_lists_each_value_and_skips_none():
    params = ScanParams(path="a.csv", extra=["b.csv", "c.csv"], by_name={"x": "d.csv"},
                        lookup=Lookup())
    refs = {ref.field: ref for ref in params.input_paths()}
    assert sorted(refs) == ["bundled", "by_name.x", "extra[0]", "extra[1]", "lookup.file",
                            "path"]  # None left out; `inside` is within a folder left out
    assert refs["extra[1]"].value == "c.csv"
    within = {r.field: r for r in ScanParams(path="a", folder="f").input_paths()}["inside"]
    assert (within.folder, within.folder_field) == ("f", "folder")
    # TOML has no null: "" leaves an optional path (or the folder of a `within`) out
    refs = ScanParams(path="a", codes="", marked_on_field=" ", folder="").input_paths()
    assert {r.field for r in refs} == {"path", "bundled"}


def test_marked_inputs_work_on_a_plain_pydantic_model():
    from pydantic import BaseModel

    class Plain(BaseModel):
        path: InputFile

    assert [r.value for r in marked_inputs(Plain(path="x.csv"))] == ["x.csv"]


def test_a_marker_within_a_field_the_params_lack_is_a_plugin_defect():
    class Broken(Params):
        file: Annotated[str, InputPath(within="folder")] = "x"

    assert any("within 'folder'" in p for p in params_problems(Broken))
    assert not [p for p in params_problems(ScanParams) if "InputPath" in p]


def test_the_marker_leaves_the_params_buildable_without_files():
    """Params are built from run folders too (state.json), where the files may be gone."""
    params = ScanParams(path="/no/such/file.csv")
    assert ScanParams.model_validate(params.model_dump()).path == "/no/such/file.csv"
    assert ScanParams.model_json_schema()["properties"]["path"]["type"] == "string"


# --- core.table in a pipeline file -----------------------------------------------------------


def test_a_missing_data_file_is_named_with_its_resolved_path(write_pipeline, tmp_path):
    message, _ = loader_path_issue(write_pipeline, "data/nope.csv")
    assert str(tmp_path / "data" / "nope.csv") in message
    assert f"starts at the pipeline file's folder, {tmp_path}" in message
    assert "its folder" in message and "does not exist either" in message
    assert "correct `path` in [loader]" in message


def test_relative_paths_start_at_the_pipeline_files_folder(tmp_path, budget_csv,
                                                           monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data").mkdir()
    budget_csv.rename(tmp_path / "sub" / "data" / "budget.csv")
    pipeline = tmp_path / "sub" / "p.toml"
    pipeline.write_text(tomli_w.dumps(pipeline_dict(Path("data/budget.csv"))),
                        encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the pipeline's folder
    assert load_config(pipeline).loader.params.path == "data/budget.csv"
    # a dict pipeline: relative paths start at the working folder
    with pytest.raises(ConfigError) as info:
        load_config(pipeline_dict(Path("data/budget.csv")))
    message, _ = issues_of(info.value)["loader.path"]
    assert str(tmp_path / "data" / "budget.csv") in message and "working folder" in message
    monkeypatch.chdir(tmp_path / "sub")
    assert load_config(pipeline_dict(Path("data/budget.csv"))).loader.params.path


def test_a_close_name_is_suggested(write_pipeline):
    assert loader_path_issue(write_pipeline, "budget_uk.cvs")[1] == "budget_uk.csv"


def test_a_name_in_another_case_and_a_mistyped_folder_are_suggested(write_pipeline, tmp_path,
                                                                     budget_csv):
    (tmp_path / "data").mkdir()
    budget_csv.rename(tmp_path / "data" / "budget_uk.csv")
    assert loader_path_issue(write_pipeline, "Data/Budget_UK.csv")[1] == "data/budget_uk.csv"


def test_a_path_written_with_backslashes_is_told_to_use_slashes(write_pipeline, tmp_path,
                                                                  budget_csv):
    """A pipeline written on Windows ('data\\budget_uk.csv', in single quotes as the TOML
    advice says) read on Linux: the file was only said not to exist."""
    (tmp_path / "data").mkdir()
    budget_csv.rename(tmp_path / "data" / "budget_uk.csv")
    message, suggestion = loader_path_issue(write_pipeline, "data\\budget_uk.csv")
    assert "\\ separates folders on Windows only" in message
    assert "write the path with / in `path` in [loader]" in message
    assert suggestion == "data/budget_uk.csv"
    message, _ = loader_path_issue(write_pipeline, "C:\\data\\budget.csv")
    assert message.startswith("file C:\\data\\budget.csv is a Windows path, which names a file "
                              "of another system; give in `path` in [loader] the file's path "
                              "on this machine, with /")


def test_names_differing_only_in_digits_are_not_suggested(write_pipeline, tmp_path,
                                                          budget_csv):
    budget_csv.rename(tmp_path / "budget_2018.csv")
    # another year, not a typo
    assert loader_path_issue(write_pipeline, "budget_2019.csv")[1] is None


def test_a_folder_where_a_file_is_expected_and_an_empty_file(write_pipeline, tmp_path):
    (tmp_path / "data").mkdir()
    message, _ = loader_path_issue(write_pipeline, "data")
    assert f"{tmp_path / 'data'} is a folder, not a file" in message
    (tmp_path / "empty.csv").write_bytes(b"")
    assert "is empty (0 bytes" in loader_path_issue(write_pipeline, "empty.csv")[0]
    assert "where the path of a file is expected" in loader_path_issue(write_pipeline, " ")[0]


def test_an_absolute_path_and_a_home_path(write_pipeline, budget_csv, tmp_path, monkeypatch):
    load_config(write_pipeline(loader={"component": "core.table", "path": str(budget_csv),
                                       "target": "children"}))
    monkeypatch.setenv("HOME", str(tmp_path))
    load_config(write_pipeline(loader={"component": "core.table", "path": "~/budget_uk.csv",
                                       "target": "children"}))


def test_a_url_is_not_checked(write_pipeline):
    load_config(write_pipeline(loader={"component": "core.table", "target": "children",
                                       "path": "s3a://bucket/budget_uk.csv"}))


def test_an_override_is_checked_and_named_as_one(write_pipeline):
    path = write_pipeline()
    with pytest.raises(ConfigError) as info:
        load_config(path, ["loader.path=other.csv"], cli=True)
    message, _ = issues_of(info.value)["loader.path"]
    assert str(path.parent / "other.csv") in message and "(a value given with --set)" in message
    # relative to the pipeline file, not to the working folder
    assert load_config(path, ["loader.path=budget_uk.csv"]).loader.params.path == "budget_uk.csv"


def test_mlstat_run_stops_before_a_run_folder_is_made(write_pipeline, tmp_path):
    path = write_pipeline()
    runs = tmp_path / "runs"
    with pytest.raises(ConfigError, match="other.csv does not exist"):
        mlstat_core.run(path, overrides=["loader.path=other.csv"], out=runs)
    assert not runs.exists()


def test_a_run_folders_config_resolves_from_the_original_pipeline_folder(write_pipeline,
                                                                         tmp_path):
    """config.toml of a run folder keeps the pipeline's relative paths; its manifest's
    base_dir says where they start, as the loaders read them."""
    result = mlstat_core.run(write_pipeline(loader={"component": "core.table",
                                                    "path": "budget_uk.csv",
                                                    "target": "children"}))
    assert load_config(result.run_dir / "config.toml").loader.params.path == "budget_uk.csv"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlstat_core", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "NO_COLOR": "1"})


def test_mlstat_validate_names_the_missing_file_in_text_and_json(write_pipeline, tmp_path):
    path = write_pipeline(loader={"component": "core.table", "path": "nope.csv",
                                  "target": "children"})
    done = run_cli("validate", str(path))
    assert done.returncode == 2
    assert "[loader.path]" in done.stderr and str(tmp_path / "nope.csv") in done.stderr
    done = run_cli("validate", str(path), "--json")
    assert done.returncode == 2
    failure = json.loads(done.stdout)
    assert failure["valid"] is False
    [issue] = failure["issues"]
    assert issue["field"] == "loader.path" and issue["file"] == str(path)
    assert str(tmp_path / "nope.csv") in issue["message"]


def test_mlstat_run_with_set_refuses_a_missing_file_before_the_run(write_pipeline, tmp_path):
    path = write_pipeline()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run_cli("run", str(path), "--set", "loader.path=data/new.csv", "--out",
                   str(tmp_path / "runs"), "--json", cwd=elsewhere)
    assert done.returncode == 2
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "failed" and outcome["run_dir"] is None
    # relative to the pipeline file's folder, not to the working folder
    assert str(tmp_path / "data" / "new.csv") in outcome["error"]
    assert "(a value given with --set)" in outcome["error"]
    assert not (tmp_path / "runs").exists()


# --- a plugin's components: every section, folders, within, names ----------------------------


class ScanLoaderParams(ScanParams):
    pass


class StepParams(Params):
    vocabulary: InputFile | None = None


class IndicatorParams(Params):
    reference: InputFile | None = None


class Scans:
    def __init__(self, params):
        self.params = params


def scan_registry():
    module = types.ModuleType("scan")

    @hookimpl
    def mlstat_loaders():
        return [ComponentSpec("scan", "loader", f"{__name__}:Scans", ScanLoaderParams,
                              description="A loader of many inputs.",
                              tasks=("tabular_classification",))]

    @hookimpl
    def mlstat_transforms():
        return [ComponentSpec("step", "transform", f"{__name__}:Scans", StepParams,
                              description="A step that reads a vocabulary.")]

    @hookimpl
    def mlstat_indicators():
        return [ComponentSpec("ref", "indicator", f"{__name__}:Scans", IndicatorParams,
                              description="Compares with a reference file.",
                              dimension="accuracy", default=False)]

    module.mlstat_loaders = mlstat_loaders
    module.mlstat_transforms = mlstat_transforms
    module.mlstat_indicators = mlstat_indicators
    registry = discover(entry_points=[])
    registry.register(module, "scan", PluginRecord("scan", "scan"))
    return registry


def scan_pipeline(tmp_path: Path, **loader) -> dict:
    data = pipeline_dict(Path("x.csv"))
    data["loader"] = {"component": "scan.scan", **loader}
    return data


def test_every_section_is_checked_and_every_problem_named(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "scenes.txt").write_text("not a folder")
    data = scan_pipeline(tmp_path, path="a.csv", codes="codes.csv", scenes="scenes.txt",
                         extra=["a.csv", "b.csv"], lookup={"file": "lookup.csv"})
    data["preprocess"] = [{"component": "scan.step", "vocabulary": "vocab.txt"}]
    data["indicators"] = ["core.timings", {"component": "scan.ref", "reference": "ref.csv"}]
    with pytest.raises(ConfigError) as info:
        mlstat_core.config.validate(data, "p.toml", tmp_path, scan_registry())
    found = issues_of(info.value)
    assert sorted(found) == ["indicators[1].reference", "loader.codes", "loader.extra[1]",
                             "loader.lookup.file", "loader.scenes", "preprocess[0].vocabulary"]
    assert "is a file, not a folder" in found["loader.scenes"][0]
    assert "in [[preprocess]] table 1" in found["preprocess[0].vocabulary"][0]
    assert "in [[indicators]] table 2" in found["indicators[1].reference"][0]


def test_a_path_within_a_folder_field(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "scene").mkdir()
    (tmp_path / "scene" / "inner.csv").write_text("x\n1\n")
    registry = scan_registry()
    mlstat_core.config.validate(scan_pipeline(tmp_path, path="a.csv", folder="scene"),
                                "p.toml", tmp_path, registry)
    with pytest.raises(ConfigError) as info:
        mlstat_core.config.validate(scan_pipeline(tmp_path, path="a.csv", folder="scene",
                                                  inside="iner.csv"), "p.toml", tmp_path,
                                    registry)
    message, suggestion = issues_of(info.value)["loader.inside"]
    assert f"the folder of `folder`, {tmp_path / 'scene'}" in message
    assert suggestion == "inner.csv"  # relative to that folder, as it is written


def test_names_that_are_not_paths_and_a_close_one(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    registry = scan_registry()
    mlstat_core.config.validate(scan_pipeline(tmp_path, path="a.csv"), "p.toml", tmp_path,
                                registry)  # bundled = "bundled:demo"
    with pytest.raises(ConfigError) as info:
        mlstat_core.config.validate(scan_pipeline(tmp_path, path="a.csv",
                                                  bundled="bundled:dmeo"),
                                    "p.toml", tmp_path, registry)
    assert issues_of(info.value)["loader.bundled"][1] == "bundled:demo"


def test_a_failing_input_paths_is_the_plugins_bug(tmp_path, monkeypatch):
    (tmp_path / "a.csv").write_text("x\n1\n")

    def broken(self):
        raise RuntimeError("oops")

    monkeypatch.setattr(ScanLoaderParams, "input_paths", broken)
    with pytest.raises(ConfigError) as info:
        mlstat_core.config.validate(scan_pipeline(tmp_path, path="a.csv"), "p.toml", tmp_path,
                                    scan_registry())
    message, _ = issues_of(info.value)["loader.component"]
    assert "bug of plugin 'scan'" in message and "input_paths" in message


def test_a_component_may_add_paths_it_derives(tmp_path, monkeypatch):
    (tmp_path / "a.csv").write_text("x\n1\n")

    def derived(self):
        return [*ScanParams.input_paths(self),
                InputRef("path", self.path + ".idx", InputPath(), note="the index of `path`")]

    monkeypatch.setattr(ScanLoaderParams, "input_paths", derived)
    with pytest.raises(ConfigError) as info:
        mlstat_core.config.validate(scan_pipeline(tmp_path, path="a.csv"), "p.toml", tmp_path,
                                    scan_registry())
    message, _ = issues_of(info.value)["loader.path"]
    assert "a.csv.idx does not exist" in message and "the index of `path`" in message
