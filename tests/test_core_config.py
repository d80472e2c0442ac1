"""Pipeline files: two-pass validation, overrides and the errors a user sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlstat_core.config import apply_overrides, json_schema, load_config
from mlstat_core.errors import ConfigError


def issues_of(exc: ConfigError) -> dict[str, str]:
    return {i.field: f"{i.message} | {i.suggestion}" for i in exc.issues}


def test_valid_pipeline_resolves_components_and_defaults(write_pipeline):
    config = load_config(write_pipeline())
    assert config.task.name == "tabular_classification"
    assert config.model.name == "core.logistic_regression"
    assert config.model.params.C == 1.0  # default filled in by the component's params model
    assert [i.name for i in config.indicators] == [
        "core.classification_accuracy", "core.timings", "core.provenance"]
    assert "C = 1.0" in config.to_toml()


def test_every_problem_is_reported_at_once_with_suggestions(write_pipeline):
    path = write_pipeline(
        loader={"component": "core.tabel", "path": "x.csv"},
        model={"component": "core.random_forest", "n_estimator": 10, "max_depth": "deep"},
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    found = issues_of(info.value)
    assert "core.table" in found["loader.component"]
    assert "n_estimators" in found["model.n_estimator"]
    assert "model.max_depth" in found
    assert all(i.file == str(path) for i in info.value.issues)


def test_unknown_section_and_missing_section(write_pipeline, tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text('[pipelin]\nname="x"\ntask="tabular_classification"\n'
                    '[loader]\ncomponent="core.table"\npath="a.csv"\n'
                    '[model]\ncomponent="core.majority"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    found = issues_of(info.value)
    assert "pipeline" in found["pipelin"]
    assert found["pipeline"].startswith("required section is missing")


def test_unknown_task_is_named_with_the_known_ones(write_pipeline):
    path = write_pipeline(pipeline={"name": "t", "task": "tabular_clasification"})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "tabular_classification" in issues_of(info.value)["pipeline.task"]


def test_indicator_that_does_not_serve_the_task_is_an_error(write_pipeline):
    path = write_pipeline(pipeline={"name": "t", "task": "tabular_imputation"},
                          model={"component": "core.majority"})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    found = issues_of(info.value)
    assert "does not serve task 'tabular_imputation'" in found["model.component"]
    assert "tabular_classification" in found["indicators[0].component"]


def test_missing_file_and_invalid_toml(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[pipeline\nname = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


@pytest.mark.parametrize("depth", [40, 500, 100_000])
def test_a_file_nested_too_deep_is_a_config_error_not_a_recursion_error(tmp_path, depth):
    """A list nested 500 deep ended in RecursionError with a traceback (exit 1)."""
    deep = tmp_path / "deep.toml"
    deep.write_text(f"x = {'[' * depth}{']' * depth}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nests tables or lists more than 32 levels deep"):
        load_config(deep)


def test_a_pipeline_file_saved_with_a_byte_order_mark_reads(write_pipeline):
    path = write_pipeline()
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert load_config(path).name


def test_overrides_set_params_and_reject_unknown_keys(write_pipeline):
    path = write_pipeline()
    config = load_config(path, ["model.C=0.5", "pipeline.seed=7", "split.test_size=0.3"])
    assert config.model.params.C == 0.5 and config.seed == 7
    assert config.split.params.test_size == 0.3
    with pytest.raises(ConfigError, match=r"\[model.Cee\] unknown parameter.*--set"):
        load_config(path, ["model.Cee=1"], cli=True)
    with pytest.raises(ConfigError, match="has no section"):
        load_config(path, ["modle.C=1"])
    with pytest.raises(ConfigError, match="section.key=value"):
        load_config(path, ["C=1"])
    # a table the file leaves out is made, and its keys are still checked
    config = load_config(path, ["quality.targets.accuracy=0.5"])
    assert config.file.quality["targets"] == {"accuracy": 0.5}


def test_override_values_are_read_as_toml():
    data = {"model": {"component": "x"}}
    apply_overrides(data, ["model.a=3", "model.b=true", "model.c=[1, 2]", "model.d=word"], "f")
    assert data["model"] == {"component": "x", "a": 3, "b": True, "c": [1, 2], "d": "word"}


def test_default_indicators_are_those_serving_the_task(write_pipeline):
    path = write_pipeline(indicators=None)
    config = load_config(path)
    assert config.indicators, "every run gets indicators by default"
    assert all(i.entry.spec.serves("tabular_classification") for i in config.indicators)


def test_json_schema_describes_the_sections():
    schema = json_schema()
    assert {"pipeline", "loader", "model", "split", "indicators"} <= set(schema["properties"])
    assert "pipeline" in schema["required"]


def test_a_validator_s_message_reaches_the_user_without_pydantic_s_prefix(write_pipeline,
                                                                           budget_csv):
    path = write_pipeline(
        loader={"component": "core.table", "path": str(budget_csv), "target": "children",
                "encoding": "utf8x"},
        split={"component": "core.holdout", "test_size": 0.6, "validation_size": 0.5})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    found = {i.field: i.message for i in info.value.issues}
    assert found["loader.encoding"].startswith("unknown text encoding 'utf8x'; give one such")
    assert found["split"].startswith("test_size + validation_size must be below 1")
    assert "Value error" not in str(info.value)


def test_a_component_replaced_by_set_leaves_out_the_params_it_does_not_take(write_pipeline):
    """The quality guideline's baseline: the same pipeline with `--set model.component=...`."""
    path = write_pipeline(model={"component": "core.logistic_regression", "C": 0.5})
    with pytest.warns(UserWarning, match=r"core.logistic_regression -> core.majority.*left "
                                         r"out the file's C"):
        config = load_config(path, ["model.component=core.majority"])
    assert config.model.name == "core.majority"
    # a param given with --set itself is still checked against the new component
    with pytest.raises(ConfigError, match=r"\[model.C\] unknown parameter"):
        load_config(path, ["model.component=core.majority", "model.C=1"])
    # the same component named again changes nothing
    assert load_config(path, ["model.component=core.logistic_regression"]).model.params.C == 0.5


def test_the_majority_baseline_serves_text_classification(tmp_path):
    import mlstat_core
    from mlstat_core.testing.samples import DATA_DIR

    result = mlstat_core.run({
        "pipeline": {"name": "t", "task": "text_classification", "seed": 0},
        "loader": {"component": "core.table", "path": str(DATA_DIR / "ecoicop_pl_sample.csv"),
                   "target": "category", "text": ["product"]},
        "split": {"component": "core.stratified", "test_size": 0.25},
        "model": {"component": "core.majority"},
        "indicators": ["core.classification_accuracy"],
        "output": {"dir": str(tmp_path / "runs")},
    })
    predictions = result.predictions
    assert predictions["prediction"].nunique() == 1  # the most frequent code, for every text


def test_a_toml_date_is_a_config_issue_not_a_crash(write_pipeline):
    path = write_pipeline()
    path.write_text(path.read_text(encoding="utf-8").replace(
        "[loader]\n", "[loader]\nrun_date = 2024-01-01\n"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[loader.run_date\] unknown parameter"):
        load_config(path, ["model.component=core.majority"])


def test_cost_settings_without_the_cost_indicator_warn(write_pipeline, recwarn):
    """[quality] costs that no indicator of the pipeline reads are named, not silently unused;
    with core.cost_effectiveness listed, or left to the defaults, nothing is said."""
    quality = {"manual_seconds_per_record": 60, "cost_per_hour": 30.0, "currency": "GBP"}
    listed = write_pipeline("listed.toml", quality=quality,
                            indicators=[{"component": "core.classification_accuracy"}])
    with pytest.warns(UserWarning, match=r"\[quality\] sets manual_seconds_per_record, "
                                         r"cost_per_hour, currency.*core.cost_effectiveness"):
        load_config(listed)
    recwarn.clear()
    load_config(write_pipeline("with.toml", quality=quality, indicators=[
        {"component": "core.classification_accuracy"}, {"component": "core.cost_effectiveness"}]))
    load_config(write_pipeline("defaults.toml", quality=quality, indicators=None))
    assert not [w for w in recwarn if "[quality] sets" in str(w.message)]


def test_a_windows_backslash_that_became_an_escape_is_named_with_the_fix(tmp_path: Path,
                                                                          budget_csv: Path):
    # "data\budget.csv" in double quotes is "data" + backspace + "udget.csv": no such file
    path = tmp_path / "p.toml"
    path.write_text('[pipeline]\nname = "x"\ntask = "tabular_classification"\n'
                    '[loader]\ncomponent = "core.table"\npath = "data\\budget.csv"\n'
                    'target = "children"\n[model]\ncomponent = "core.majority"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = issues_of(info.value)["loader.path"]
    assert "backspace" in message and "forward slashes" in message


def test_a_tab_separator_written_as_an_escape_is_no_windows_path(write_pipeline, budget_csv):
    """``sep = "\\t"`` (a tab-separated file) is one character, not a path gone wrong."""
    tabbed = budget_csv.with_name("budget_uk.txt.csv")
    tabbed.write_text(budget_csv.read_text().replace(",", "\t"))
    path = write_pipeline(loader={"component": "core.table", "path": str(tabbed),
                                  "target": "children", "sep": "\t"})
    assert load_config(path).loader.params.sep == "\t"


def test_a_description_may_span_lines(write_pipeline):
    path = write_pipeline(pipeline={"name": "t", "task": "tabular_classification",
                                    "description": "two\nlines of text"})
    assert load_config(path).file.pipeline.description == "two\nlines of text"


@pytest.mark.parametrize("sections, field", [
    ({"pipeline": {"name": "t", "task": "tabular_classification", "seed": True}},
     "pipeline.seed"),
    ({"predict": {"chunk_size": True}}, "predict.chunk_size"),
    ({"model": {"component": "core.logistic_regression", "max_iter": True}}, "model.max_iter"),
    ({"indicators": [{"component": "core.classification_accuracy", "bootstrap": True}]},
     "indicators[0].bootstrap"),
    ({"quality": {"cost_per_hour": True}}, "quality.cost_per_hour"),
])
def test_a_boolean_for_a_number_is_refused_not_read_as_one(write_pipeline, sections, field):
    with pytest.raises(ConfigError) as info:
        load_config(write_pipeline(**sections))
    assert "not the boolean true" in issues_of(info.value)[field]


def test_indicators_written_as_one_table_say_to_use_double_brackets(tmp_path: Path,
                                                                     budget_csv: Path):
    path = tmp_path / "p.toml"
    path.write_text('[pipeline]\nname = "x"\ntask = "tabular_classification"\n'
                    f'[loader]\ncomponent = "core.table"\npath = "{budget_csv.as_posix()}"\n'
                    'target = "children"\n[model]\ncomponent = "core.majority"\n'
                    '[indicators]\ncomponent = "core.timings"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "write [[indicators]]" in issues_of(info.value)["indicators"]


def test_a_single_section_written_as_a_list_says_to_use_single_brackets(write_pipeline):
    with pytest.raises(ConfigError) as info:
        load_config(write_pipeline(model=[{"component": "core.majority"}]))
    assert "write [model] (single brackets)" in issues_of(info.value)["model"]


@pytest.mark.parametrize("section, table, key, close", [
    ("pipeline", {"name": "t", "task": "tabular_classification", "sed": 1}, "sed", "seed"),
    ("output", {"dri": "runs"}, "dri", "dir"),
    ("predict", {"chunk_sise": 10}, "chunk_sise", "chunk_size"),
])
def test_a_misspelt_key_of_a_core_section_gets_the_closest_name(write_pipeline, section, table,
                                                                key, close):
    with pytest.raises(ConfigError) as info:
        load_config(write_pipeline(**{section: table}))
    (issue,) = [i for i in info.value.issues if i.field == f"{section}.{key}"]
    assert issue.suggestion == close and f"[{section}]" in issue.message


def test_a_param_under_the_wrong_section_says_where_it_belongs(write_pipeline):
    path = write_pipeline(model={"component": "core.logistic_regression", "test_size": 0.3,
                                 "target_accuracy": 0.9})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    found = issues_of(info.value)
    assert "setting of [split] (core.stratified): move it there" in found["model.test_size"]
    assert "setting of [quality]" in found["model.target_accuracy"]


def test_a_misspelt_choice_gets_the_closest_choice(write_pipeline):
    path = write_pipeline(model={"component": "core.logistic_regression",
                                 "class_weight": "balancd"})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (issue,) = info.value.issues
    assert issue.field == "model.class_weight" and issue.suggestion == "balanced"


def test_a_value_none_of_a_union_accepts_is_one_issue_at_the_field():
    from typing import Literal

    from pydantic import BaseModel, ValidationError

    from mlstat_core.registry import issues_from_validation

    class Rule(BaseModel):
        threshold: Literal["argmax", "cv"] | float = "cv"

    with pytest.raises(ValidationError) as info:
        Rule.model_validate({"threshold": "agrmax"})
    (issue,) = issues_from_validation(info.value, "model", "p.toml")
    assert issue.field == "model.threshold" and issue.suggestion == "argmax"
    assert "or a valid number" in issue.message


@pytest.mark.parametrize("item", ["indicators.top_k=3", "indicators.0.top_k=3"])
def test_set_into_the_indicators_list_says_to_edit_the_file(write_pipeline, item):
    with pytest.raises(ConfigError, match=r"\[\[indicators\]\] is a list of tables"):
        load_config(write_pipeline(), [item], cli=True)


@pytest.mark.parametrize("text, words", [
    ('[pipeline]\nname = x\n', ["line 2: name = x", "text is written in quotes"]),
    ('[pipeline]\nname = "x"\nname = "y"\n', ["line 3", "a key is given twice"]),
    ('[model]\nC = 1\n[model]\nC = 2\n', ["line 3: [model]", "merge the two"]),
    ('[indicators]\ncomponent = "a"\n[indicators]\ncomponent = "b"\n',
     ["write [[indicators]]"]),
    ('[loader]\npath = "C:\\Users\\me\\x.csv"\n', ["forward slashes"]),
])
def test_a_toml_slip_names_the_line_and_what_to_write(tmp_path: Path, text, words):
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_non_ascii_file_and_folder_names_work(tmp_path: Path, budget_csv: Path):
    folder = tmp_path / "données"
    folder.mkdir()
    (folder / "ménages.csv").write_bytes(budget_csv.read_bytes())
    path = tmp_path / "pipeline-é.toml"
    path.write_text('[pipeline]\nname = "x"\ntask = "tabular_classification"\n'
                    '[loader]\ncomponent = "core.table"\npath = "données/ménages.csv"\n'
                    'target = "children"\n[model]\ncomponent = "core.majority"\n',
                    encoding="utf-8")
    assert load_config(path).loader.params.path == "données/ménages.csv"
