"""mlstat validate (and every run, before anything is read) reads the header of core.table's
file, and only its header: a column the [loader] names that the file lacks is one issue
naming the setting, with the closest column of the file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import tomli_w
from click.testing import CliRunner

import mlstat_core
from mlstat_core.builtins.params import TableParams
from mlstat_core.cli import main
from mlstat_core.config import load_config
from mlstat_core.errors import ConfigError

FRAME = pd.DataFrame({"household": ["h1", "h2", "h3", "h4"], "region": [11, 12, 21, 22],
                      "age_head": [34, 51, 29, 62], "income": [1.5, 2.0, 0.5, 3.1],
                      "children": ["0", "1", "2", "1"]})


def pipeline_file(folder: Path, data: str, **loader) -> Path:
    """A pipeline file in ``folder`` whose loader reads ``data`` (relative to it)."""
    path = folder / "pipeline.toml"
    path.write_text(tomli_w.dumps({
        "pipeline": {"name": "header", "task": "tabular_classification"},
        "loader": {"component": "core.table", "path": data, "target": "children", **loader},
        "model": {"component": "core.majority"},
        "indicators": ["core.classification_accuracy"]}), encoding="utf-8")
    return path


def issues_of(path: Path, *overrides: str) -> list:
    with pytest.raises(ConfigError) as caught:
        load_config(path, list(overrides))
    return caught.value.issues


@pytest.mark.parametrize("suffix, writer", [
    (".csv", lambda f, p: f.to_csv(p, index=False)),
    (".parquet", lambda f, p: f.to_parquet(p, index=False)),
    (".xlsx", lambda f, p: f.to_excel(p, index=False)),
])
def test_each_misspelt_column_is_one_issue_with_the_closest_name(tmp_path, suffix, writer):
    writer(FRAME, tmp_path / f"d{suffix}")
    path = pipeline_file(tmp_path, f"d{suffix}", id="houshold", features=["age_haed", "income"],
                         weights="INCOME", categorical=["regoin"])
    found = {issue.field: issue for issue in issues_of(path)}
    assert set(found) == {"loader.id", "loader.features", "loader.weights",
                          "loader.categorical"}
    assert found["loader.id"].suggestion == "household"
    assert found["loader.weights"].suggestion == "income"  # the same letters in another case
    assert found["loader.features"].suggestion == "age_head"
    # not an input (`features` lists it not): said once, not as missing from the file too
    assert "'regoin' of `categorical` is not an input" in found["loader.categorical"].message
    assert f"column 'age_haed' is not in the header of {tmp_path / f'd{suffix}'}" in str(
        found["loader.features"])
    assert "(did you mean 'age_head'?)" in str(found["loader.features"])
    load_config(pipeline_file(tmp_path, f"d{suffix}", id="household",
                              features=["age_head", "income", "region"],
                              categorical=["region"]))  # all there: valid


def test_a_column_without_a_close_name_lists_the_files_columns(tmp_path):
    FRAME.to_csv(tmp_path / "d.csv", index=False)
    (issue,) = issues_of(pipeline_file(tmp_path, "d.csv", groups="stratum"))
    assert issue.field == "loader.groups" and issue.suggestion is None
    assert issue.message.endswith("its columns are 'household', 'region', 'age_head', "
                                  "'income', 'children'")


def test_validate_on_the_command_line_names_the_column_and_its_fix(tmp_path):
    FRAME.to_csv(tmp_path / "d.csv", index=False)
    path = pipeline_file(tmp_path, "d.csv", features=["age_haed"])
    result = CliRunner().invoke(main, ["validate", str(path), "--json"])
    assert result.exit_code == 2
    (issue,) = json.loads(result.stdout)["issues"]
    assert issue["field"] == "loader.features" and issue["suggestion"] == "age_head"
    # --set reaches the check: the corrected name is valid
    result = CliRunner().invoke(main, ["validate", str(path), "--set",
                                       'loader.features=["age_head"]'])
    assert result.exit_code == 0, result.output


def test_a_header_of_another_separator_is_one_issue_on_sep(tmp_path):
    FRAME.to_csv(tmp_path / "d.csv", index=False, sep=";")
    (issue,) = issues_of(pipeline_file(tmp_path, "d.csv", id="household"))
    assert issue.field == "loader.sep"
    assert "seems separated by ';', not ','" in issue.message and "sep = \";\"" in issue.message


def test_only_the_header_is_read(tmp_path):
    """A body that no reader could read (bytes that are not UTF-8, a record cut short) is
    the loader's business: the check reads the first line alone."""
    (tmp_path / "d.csv").write_bytes(b"household,region,children\nh1,11,0\nh2,\xff\xfe,1\n")
    load_config(pipeline_file(tmp_path, "d.csv", id="household"))
    (issue,) = issues_of(pipeline_file(tmp_path, "d.csv", id="househld"))
    assert issue.suggestion == "household"


@pytest.mark.parametrize("name, content", [
    ("empty.csv", b""),                                   # the path check says it is empty
    ("latin.csv", "région,children\n1,0\n".encode("cp1250")),  # not UTF-8: the loader says
    ("broken.parquet", b"not a parquet file"),            # damaged: the loader says
    ("broken.xlsx", b"PK\x03\x04 not a workbook"),
])
def test_a_file_whose_header_cannot_be_read_is_left_to_the_loader(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    path = pipeline_file(tmp_path, name, id="household")
    if name == "empty.csv":
        (issue,) = issues_of(path)
        assert issue.field == "loader.path" and "is empty" in issue.message
    else:
        assert load_config(path).loader.params.path == name  # valid: no header to check


def test_a_missing_file_is_named_once_by_the_path_check(tmp_path):
    (issue,) = issues_of(pipeline_file(tmp_path, "nowhere.csv", id="household"))
    assert issue.field == "loader.path" and "does not exist" in issue.message


def test_the_path_is_taken_from_the_pipeline_files_folder(tmp_path, monkeypatch):
    (tmp_path / "project" / "data").mkdir(parents=True)
    FRAME.to_csv(tmp_path / "project" / "data" / "d.csv", index=False)
    path = pipeline_file(tmp_path / "project", "data/d.csv", id="houshold")
    monkeypatch.chdir(tmp_path)
    (issue,) = issues_of(path)
    assert issue.suggestion == "household"


def test_a_check_called_alone_reads_no_file(tmp_path, monkeypatch):
    """``TableParams.check`` compares the settings only; the header is read by
    ``input_issues``, which validation calls with the pipeline's folder."""
    FRAME.to_csv(tmp_path / "d.csv", index=False)
    monkeypatch.chdir(tmp_path)
    params = TableParams(path="d.csv", target="children", id="houshold")
    assert params.check(None) == []
    (issue,) = params.input_issues(tmp_path)
    assert issue.field == "id" and issue.suggestion == "household"


def test_a_run_stops_before_reading_and_names_the_column_once(tmp_path):
    """mlstat run validates first: the missing column is one issue, and no run folder is
    made for it (the loader, which would say it again, never starts)."""
    FRAME.to_csv(tmp_path / "d.csv", index=False)
    path = pipeline_file(tmp_path, "d.csv", features=["age_haed", "income"])
    with pytest.raises(ConfigError) as caught:
        mlstat_core.run(path, out=tmp_path / "runs")
    assert len(caught.value.issues) == 1 and str(caught.value).count("'age_haed'") == 1
    assert not (tmp_path / "runs").exists()


def test_evaluate_checks_the_labelled_files_header(tmp_path):
    FRAME.to_csv(tmp_path / "d.csv", index=False)
    result = mlstat_core.run(pipeline_file(tmp_path, "d.csv", id="household"),
                             out=tmp_path / "runs")
    FRAME.rename(columns={"children": "child"}).to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(ConfigError) as caught:
        mlstat_core.evaluate(result.run_dir, tmp_path / "other.csv", out=tmp_path / "ev")
    (issue,) = caught.value.issues
    assert issue.field == "loader.target" and issue.suggestion == "child"
    assert issue.file == "input_file" and "config.toml" not in str(caught.value)


def test_evaluate_names_the_input_file_and_the_override_that_reads_it(tmp_path):
    """A labelled file of another separator is a problem of that file, not of the run's
    config.toml: named with --input and fixed with --set loader.sep, which works there."""
    FRAME.to_csv(tmp_path / "d.csv", index=False)
    result = mlstat_core.run(pipeline_file(tmp_path, "d.csv", id="household"),
                             out=tmp_path / "runs")
    FRAME.to_csv(tmp_path / "other.csv", index=False, sep=";")
    output = CliRunner().invoke(main, ["evaluate", str(result.run_dir), "--input",
                                       str(tmp_path / "other.csv"), "--out",
                                       str(tmp_path / "ev")]).output
    assert "given with --input" in output and str(tmp_path / "other.csv") in output
    assert "config.toml" not in output and "set the loader's" not in output
    assert 'pass --set loader.sep=";"' in output
    fixed = CliRunner().invoke(main, ["evaluate", str(result.run_dir), "--input",
                                      str(tmp_path / "other.csv"), "--set", 'loader.sep=";"',
                                      "--out", str(tmp_path / "ev")])
    assert fixed.exit_code == 0, fixed.output


def test_evaluate_blames_a_misspelt_set_on_the_set_not_on_the_file(tmp_path):
    """The labelled file has the column; the name given with --set is misspelt: the issue
    is the override's, with the closest name, not the file's."""
    FRAME.to_csv(tmp_path / "d.csv", index=False)
    result = mlstat_core.run(pipeline_file(tmp_path, "d.csv", id="household"),
                             out=tmp_path / "runs")
    FRAME.to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(ConfigError) as caught:
        mlstat_core.evaluate(result.run_dir, tmp_path / "other.csv",
                             overrides=["loader.target=chidren"], out=tmp_path / "ev")
    (issue,) = caught.value.issues
    assert issue.file == "overrides" and issue.field == "loader.target"
    assert issue.suggestion == "children" and "a value given in overrides" in issue.message
    assert "does not fit the setting(s) given with overrides" in str(caught.value)
    output = CliRunner().invoke(main, ["evaluate", str(result.run_dir), "--input",
                                       str(tmp_path / "other.csv"), "--set",
                                       "loader.target=chidren", "--out",
                                       str(tmp_path / "ev")]).output
    assert "--set: [loader.target]" in output and "--input: [" not in output
    assert "config.toml" not in output


@pytest.mark.parametrize("header, loader", [
    ("household,score,score,children", {"id": "household", "features": ["score.1"]}),
    (",score,children", {"id": "Unnamed: 0", "features": ["score"]}),  # DataFrame.to_csv's
])
def test_the_header_is_named_as_the_loader_names_it(tmp_path, header, loader):
    """The loader reads a name written twice as ``score.1`` and an empty one as
    ``Unnamed: 0``: a pipeline that names them so is valid, and runs."""
    fields = header.count(",")
    records = [",".join([f"h{i}", *[str(i % 5)] * (fields - 1), str(i % 2)]) for i in range(20)]
    (tmp_path / "d.csv").write_text("\n".join([header, *records]) + "\n", encoding="utf-8")
    path = pipeline_file(tmp_path, "d.csv", **loader)
    assert load_config(path).loader.params.features == loader["features"]
    assert (mlstat_core.run(path, out=tmp_path / "runs").run_dir / "model").is_dir()
