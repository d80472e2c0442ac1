"""The Python API (``mlstat_core.run``, ``load_run``, ``load_model``, ``predict_file``,
``load_config``): a user's mistake is one mlstat error naming the argument and the fix in
Python's words (``overrides``, ``output_path``, ``sep=``), never a raw TypeError; the command
line keeps its option names (``cli=True``)."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlstat_core
from mlstat_core.artifacts import MANIFEST
from mlstat_core.config import load_config
from mlstat_core.errors import ConfigError, DataError
from mlstat_core.predict import predict_file

ROOT = Path(__file__).resolve().parents[1]
BUDGET = ROOT / "examples" / "data" / "budget_uk.csv"


def pipeline(**changes: dict[str, Any]) -> dict[str, Any]:
    """A small dict pipeline on the budget data, without a [split] table."""
    data: dict[str, Any] = {
        "pipeline": {"name": "api", "task": "tabular_classification"},
        "loader": {"component": "core.table", "path": str(BUDGET), "target": "children"},
        "model": {"component": "core.majority"},
        "indicators": ["core.timings"],
    }
    for section, table in changes.items():
        data[section] = {**data.get(section, {}), **table}
    return data


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return mlstat_core.run(pipeline(), out=tmp_path_factory.mktemp("runs")).run_dir


def issue_fields(exc: ConfigError) -> dict[str, str]:
    return {issue.field: issue.message for issue in exc.issues}


# --- 1. plain Python values in a dict pipeline ------------------------------------------------


def test_a_dict_pipeline_takes_a_pathlib_path_and_numpy_numbers():
    config = load_config(pipeline(
        pipeline={"seed": np.int64(3)}, loader={"path": BUDGET},
        split={"component": "core.holdout", "test_size": np.float64(0.3)}))
    assert config.loader.params.path == str(BUDGET)
    assert config.seed == 3 and type(config.seed) is int
    assert config.split.params.test_size == 0.3
    assert "test_size = 0.3" in config.to_toml()


def test_a_dataframe_in_a_dict_pipeline_is_one_config_error_naming_the_field():
    data = pipeline(loader={"path": pd.DataFrame({"a": [1]})}, model={"weights": object()})
    with pytest.raises(ConfigError) as info:
        load_config(data)
    found = issue_fields(info.value)
    assert "mlstat reads data through loaders" in found["loader.path"]
    assert "a pandas DataFrame" in found["loader.path"]
    assert "give text, a number" in found["model.weights"]


# --- 2. what run() and predict_file() take ----------------------------------------------------


@pytest.mark.parametrize("source", [pd.DataFrame(), None, [pipeline()], b"p.toml"])
def test_run_of_something_else_than_a_path_or_a_dict_is_one_config_error(source):
    with pytest.raises(ConfigError, match="give a pipeline file path or a dict"):
        mlstat_core.run(source)


def test_toml_text_given_as_a_path_says_to_parse_it_or_save_it():
    text = (ROOT / "examples" / "budget-children.toml").read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tomllib\.loads\(text\)") as info:
        mlstat_core.run(text)
    assert "save it to a file" in str(info.value)
    assert len(str(info.value)) < 300  # the text itself is not echoed


def test_a_dataframe_as_predict_input_names_the_argument_and_load_model(run_dir, tmp_path):
    with pytest.raises(DataError, match=r"input_path is a pandas DataFrame.*"
                                        r"mlstat_core\.load_model\(run_dir\)\.predict"):
        predict_file(run_dir, pd.DataFrame(), tmp_path / "o.parquet")
    with pytest.raises(DataError, match="--input is a pandas DataFrame"):
        predict_file(run_dir, pd.DataFrame(), tmp_path / "o.parquet", cli=True)
    with pytest.raises(DataError, match="run_dir is None; give the path"):
        predict_file(None, BUDGET, tmp_path / "o.parquet")


# --- 3. overrides from Python ----------------------------------------------------------------


def test_a_single_override_string_is_one_override():
    config = load_config(pipeline(model={"component": "core.logistic_regression"}),
                         "model.C=0.5")
    assert config.model.params.C == 0.5


def test_override_messages_name_overrides_in_python_and_set_on_the_command_line():
    data = pipeline(model={"component": "core.logistic_regression"})
    with pytest.raises(ConfigError, match="overrides entry 'model' must look like") as info:
        mlstat_core.run(copy.deepcopy(data), overrides=["model"])
    assert "--set" not in str(info.value)
    with pytest.raises(ConfigError, match=r"\(a value given in overrides\)"):
        load_config(copy.deepcopy(data), ["model.C=-1"])
    with pytest.warns(UserWarning, match=r"\[model\] component replaced by overrides"):
        load_config(pipeline(model={"component": "core.logistic_regression", "C": 0.5}),
                    ["model.component=core.majority"])
    with pytest.raises(ConfigError, match="--set 'model' must look like"):
        load_config(copy.deepcopy(data), ["model"], cli=True)
    with pytest.raises(ConfigError, match=r"\(a value given with --set\)"):
        load_config(copy.deepcopy(data), ["model.C=-1"], cli=True)


def test_a_warning_about_the_pipeline_file_is_kept_with_the_run(tmp_path):
    """A model setting an override left out was printed, but neither the manifest, the
    report nor the --json outcome said so: the archived run hid that its params changed."""
    data = pipeline(model={"component": "core.logistic_regression", "C": 0.5},
                    output={"dir": str(tmp_path / "runs")})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # kept with the run, not left to Python
        result = mlstat_core.run(data, overrides=["model.component=core.majority"])
    said = [w for w in result.warnings if w.startswith("config: [model] component replaced "
                                                       "by overrides")]
    assert len(said) == 1 and "left out the file's C" in said[0]
    report = json.loads((result.run_dir / "report.json").read_text("utf-8"))
    assert said[0] in report["run"]["warnings"] and said[0] in result.manifest["warnings"]
    with pytest.warns(UserWarning, match="component replaced"), \
            pytest.raises(ConfigError, match="does not exist"):  # shown when the run fails
        mlstat_core.run({**data, "loader": {**data["loader"], "path": "nowhere.csv"}},
                        overrides=["model.component=core.majority"])
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    with pytest.warns(UserWarning, match="component replaced"), \
            pytest.raises(ConfigError, match="is a file, not a folder"):  # refused after
        mlstat_core.run(data, overrides=["model.component=core.majority"], out=a_file)
    # an evaluation keeps those of its overrides the same way
    evaluation = mlstat_core.evaluate(result.run_dir, BUDGET, out=tmp_path / "evaluations",
                                      overrides=["quality.manual_seconds_per_record=30"])
    assert any(w.startswith("config: [quality] sets manual_seconds_per_record")
               for w in evaluation.warnings), evaluation.warnings


@pytest.mark.parametrize("overrides", [{"model.C": 0.5}, ["model.C=0.5", 3]])
def test_overrides_that_are_not_strings_are_refused(overrides):
    with pytest.raises(ConfigError, match="give a list of 'section.key=value' strings"):
        load_config(pipeline(), overrides)


# --- 4. an override that makes an optional section -------------------------------------------


@pytest.mark.parametrize("cli", [False, True])
def test_an_override_of_a_left_out_split_uses_its_default_component(cli):
    config = load_config(pipeline(), ["split.test_size=0.3"], cli=cli)
    assert config.split.name == "core.holdout"
    assert config.split.params.test_size == 0.3
    chosen = load_config(pipeline(), ["split.component=core.kfold", "split.n_splits=3"])
    assert chosen.split.name == "core.kfold"


# --- 5. out that is a file -------------------------------------------------------------------


def test_out_that_is_a_file_is_refused_before_the_run(tmp_path):
    file = tmp_path / "afile"
    file.write_text("x", encoding="utf-8")
    for out in (file, file / "runs"):
        with pytest.raises(ConfigError, match=r"is a file, not a folder; give a folder"):
            mlstat_core.run(pipeline(), out=out)
    assert file.read_text(encoding="utf-8") == "x"
    with pytest.raises(ConfigError, match=r"\[output\] dir of <dict>"):
        mlstat_core.run(pipeline(output={"dir": str(file)}))
    with pytest.raises(ConfigError, match="out is a int; give the path of a folder"):
        mlstat_core.run(pipeline(), out=3)


# --- 6, 7. predict_file's messages name its arguments ----------------------------------------


def test_a_chunk_size_below_one_names_chunk_size_before_reading(run_dir, tmp_path):
    with pytest.raises(DataError, match=r"^chunk_size is 0; give the number of records"):
        predict_file(run_dir, BUDGET, tmp_path / "o.parquet", chunk_size=0)
    with pytest.raises(DataError, match=r"^--chunk-size is -5"):
        predict_file(run_dir, BUDGET, tmp_path / "o.parquet", chunk_size=-5, cli=True)


def test_predict_file_messages_name_arguments_unless_cli(run_dir, tmp_path):
    source = tmp_path / "semi.csv"
    pd.read_csv(BUDGET).head(50).to_csv(source, sep=";", index=False)
    with pytest.raises(DataError, match="pass sep=';'") as info:
        predict_file(run_dir, source, tmp_path / "o.csv")
    assert "--sep" not in str(info.value)
    with pytest.raises(DataError, match=r"^output_path .* is the input file"):
        predict_file(run_dir, source, source)
    with pytest.raises(DataError, match=r"^--output .* is the input file"):
        predict_file(run_dir, source, source, cli=True)
    summary = predict_file(run_dir, source, tmp_path / "o.csv", sep=";")
    [note] = summary.notes
    assert "pass id_column to keep" in note and "--id-column" not in note


# --- 9. load_model and load_run --------------------------------------------------------------


def test_load_model_scores_a_dataframe_and_refuses_a_failed_run(run_dir, tmp_path):
    frame = pd.read_csv(BUDGET).head(5)
    predicted = mlstat_core.load_model(run_dir).predict(frame)
    assert len(predicted) == 5 and "prediction" in predicted.columns
    failed = tmp_path / "failed"
    failed.mkdir()
    for file in run_dir.rglob("*"):
        if file.is_file():
            target = failed / file.relative_to(run_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.read_bytes())
    manifest = json.loads((failed / MANIFEST).read_text(encoding="utf-8"))
    manifest.update(status="failed", error="model fit failed")
    (failed / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert mlstat_core.load_run(failed).manifest["error"] == "model fit failed"
    with pytest.raises(DataError, match="did not succeed.*model fit failed"):
        mlstat_core.load_model(failed)
    with pytest.raises(DataError, match="^run_dir is a pandas DataFrame; give the path of a "
                                        "run folder$"):
        mlstat_core.load_run(pd.DataFrame())
