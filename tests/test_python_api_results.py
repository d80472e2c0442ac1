"""The Python API as a notebook uses it: ``metric(name)`` answers a wrong name with one
message that says why and lists the figures; results show in one line; paths starting with
``~`` are the home folder's; a failed or interrupted run names its folder and the session
runs on; common slips (a bare override key, a component's bare name, a Series to
``predict``, ``out`` inside a run folder) are one message that says what to write."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import mlstat_core
from mlstat_core.engine import RunResult
from mlstat_core.errors import FigureError, MlstatError
from mlstat_core.predict import predict_file

BUDGET = Path(__file__).resolve().parents[1] / "examples" / "data" / "budget_uk.csv"


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> RunResult:
    pipeline = {
        "pipeline": {"name": "api-results", "task": "tabular_classification"},
        "loader": {"component": "core.table", "path": str(BUDGET), "target": "children"},
        "model": {"component": "core.logistic_regression"},
        "indicators": ["core.classification_accuracy", "core.auto_coding"],
    }
    return mlstat_core.run(pipeline, out=tmp_path_factory.mktemp("runs"))


def test_metric_returns_a_scalar_figure(result):
    assert result.metric("accuracy") == result.metrics["accuracy"]


def test_a_misspelt_figure_suggests_the_name_and_lists_the_figures(result):
    with pytest.raises(FigureError, match=r"has no figure 'acuracy'; did you mean "
                                          r"'accuracy'\? \(its figures: .*'macro_f1'"):
        result.metric("acuracy")


def test_the_error_is_an_mlstat_error_and_a_key_error(result):
    for kind in (MlstatError, KeyError):
        with pytest.raises(kind):
            result.metric("nothing")
    with pytest.raises(KeyError) as info:
        result.metric("nothing")
    assert str(info.value).startswith("run ")  # not KeyError's quoted sentence


def test_a_skipped_figure_says_it_was_skipped_and_why(result):
    with pytest.raises(FigureError, match=r"'auto_coding_accuracy' .* is skipped: No test "
                                          r"record is coded automatically"):
        result.metric("auto_coding_accuracy")


def test_a_figure_that_is_not_a_number_points_to_indicators(result):
    with pytest.raises(FigureError, match=r"'per_class' .* is not a single value: .* from "
                                          r"result\.indicators"):
        result.metric("per_class")


def test_an_indicator_name_lists_its_scalar_figures(result):
    with pytest.raises(FigureError, match=r"'core\.classification_accuracy' is an indicator, "
                                          r"not a figure: give one of its figures "
                                          r"\('accuracy', 'macro_f1'") as info:
        result.metric("core.classification_accuracy")
    assert "'per_class'" not in str(info.value)
    with pytest.raises(FigureError, match=r"is an indicator, not a figure: .*'accuracy'"):
        result.metric("classification_accuracy")  # the indicator's name without its plugin


def test_the_repr_is_one_short_line(result, tmp_path):
    """A notebook shows the value of a cell's last line: the result, not pages of figures."""
    text = repr(result)
    assert "\n" not in text and len(text) < 400
    assert result.run_id in text and "status='succeeded'" in text
    assert "IndicatorResult" not in text and "manifest" not in text
    summary = predict_file(result.run_dir, BUDGET, tmp_path / "scored.parquet")
    text = repr(summary)
    assert "records=1519" in text and "psi" not in text and len(text) < 400
    assert summary.drift["columns"]  # still there, only not in the repr


# --- paths that start with ~ (a notebook's strings get no shell to expand them) -------------


def test_paths_that_start_with_a_tilde_are_taken_from_the_home_folder(tmp_path, monkeypatch):
    home, cwd = tmp_path / "home", tmp_path / "notebooks"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    (home / "p.toml").write_text(
        '[pipeline]\nname = "tilde"\ntask = "tabular_classification"\n\n'
        f'[loader]\ncomponent = "core.table"\npath = "{BUDGET.as_posix()}"\n'
        'target = "children"\n\n[model]\ncomponent = "core.majority"\n\n'
        '[[indicators]]\ncomponent = "core.timings"\n', encoding="utf-8")
    (home / "new.csv").write_bytes(BUDGET.read_bytes())

    result = mlstat_core.run("~/p.toml", out="~/runs")
    assert result.run_dir.parent == home / "runs"
    assert mlstat_core.run("~/p.toml", "output.dir=~/more").run_dir.parent == home / "more"
    run_dir = f"~/runs/{result.run_dir.name}"
    assert mlstat_core.load_run(run_dir).path == result.run_dir
    summary = predict_file(run_dir, "~/new.csv", "~/scored.parquet")
    assert summary.output == home / "scored.parquet"
    assert len(pd.read_parquet(home / "scored.parquet")) == summary.records > 0
    assert not list(home.glob(".*.partial"))
    assert list(cwd.iterdir()) == []  # no folder named "~" where the notebook runs
    # a name that only starts with ~ is a name (Path.expanduser looked for a user "runs" and
    # raised RuntimeError, a traceback)
    assert mlstat_core.run("~/p.toml", out="~runs").run_dir.parent == cwd / "~runs"


# --- a run that fails or is interrupted in a notebook session -------------------------------


def test_a_failed_run_names_its_folder_and_the_session_runs_on(tmp_path, monkeypatch):
    import signal
    import warnings

    from mlstat_core.builtins.models import MajorityModel

    pipeline = {
        "pipeline": {"name": "session", "task": "tabular_classification"},
        # ages are no ids: valid to the validation, refused when the file is read
        "loader": {"component": "core.table", "path": str(BUDGET), "target": "children",
                   "id": "age"},
        "model": {"component": "core.majority"},
        "indicators": ["core.timings"],
    }
    with pytest.raises(MlstatError, match="is not unique") as info:
        mlstat_core.run(pipeline, out=tmp_path)
    failed = mlstat_core.load_run(info.value.run_dir)
    assert failed.manifest["status"] == "failed"
    assert failed.manifest["error"] == str(info.value)

    del pipeline["loader"]["id"]
    handler, filters = signal.getsignal(signal.SIGTERM), list(warnings.filters)

    def interrupted(self, *args):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(MajorityModel, "fit", interrupted)
        with pytest.raises(KeyboardInterrupt) as stop:
            mlstat_core.run(pipeline, out=tmp_path)
    stopped = mlstat_core.load_run(stop.value.run_dir).manifest
    assert (stopped["status"], stopped["error"]) == ("failed", "interrupted (Ctrl-C)")
    assert signal.getsignal(signal.SIGTERM) == handler and warnings.filters == filters
    assert mlstat_core.run(pipeline, out=tmp_path).status == "succeeded"


def test_a_missing_relative_pipeline_file_names_the_current_folder(tmp_path, monkeypatch):
    """A notebook runs in its own folder, which is often not the one the path assumes."""
    from mlstat_core.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^pipeline file examples/first\.toml does not exist "
                                          r"\(a relative path is taken from the current "
                                          rf"folder, {re.escape(str(tmp_path))}\)$"):
        mlstat_core.run("examples/first.toml")


@pytest.mark.parametrize("cli", [False, True])
def test_an_override_without_its_section_suggests_the_section(cli):
    from mlstat_core.config import load_config
    from mlstat_core.errors import ConfigError

    pipeline = {
        "pipeline": {"name": "hint", "task": "tabular_classification"},
        "loader": {"component": "core.table", "path": str(BUDGET), "target": "children"},
        "model": {"component": "core.majority"},
    }
    given = "--set 'seed=3'" if cli else "overrides entry 'seed=3'"
    with pytest.raises(ConfigError, match=rf"^{given} must look like section\.key=value "
                                          r"\(did you mean 'pipeline\.seed=3'\?\)$"):
        load_config(pipeline, "seed=3", cli=cli)
    with pytest.raises(ConfigError, match=r"'output\.dir=elsewhere'"):
        load_config(pipeline, ["dir=elsewhere"], cli=cli)
    with pytest.raises(ConfigError, match=r"section\.key=value$"):
        load_config(pipeline, "seed", cli=cli)


# --- load_model(run_dir).predict(...) of something else than a DataFrame ---------------------


class Identity:
    """A preprocessing step that changes nothing (and needs a DataFrame, as most do)."""

    def transform(self, frame, roles):
        return frame.assign()


@pytest.mark.parametrize("preprocessed", [False, True])
def test_predict_of_a_series_or_records_says_to_make_a_dataframe(result, preprocessed):
    from mlstat_core.errors import DataError
    from mlstat_core.preprocess import Preprocessed

    model = mlstat_core.load_model(result.run_dir)
    if preprocessed:
        model = Preprocessed([("identity", Identity())], model)
    frame = pd.read_csv(BUDGET).head(3)
    assert len(model.predict(frame.iloc[[0]])) == 1
    for wrong, kind in [(frame.iloc[0], "a pandas Series"), (frame.to_dict("records"), "a list"),
                        (frame.to_numpy(), "a numpy ndarray")]:
        with pytest.raises(DataError, match=rf"^input is {kind}; a model scores a pandas "
                                            r"DataFrame .* frame\.iloc\[\[i\]\]; .* "
                                            r"pd\.DataFrame\(records\)"):
            model.predict(wrong)


def test_a_run_into_a_run_folder_is_refused_before_it_starts(result):
    """``out=result.run_dir`` (mixing up out and run_dir) would change a run's evidence, as
    ``mlstat predict`` and ``mlstat evaluate`` refuse to."""
    from mlstat_core.errors import ConfigError

    before = sorted(result.run_dir.rglob("*"))
    pipeline = {
        "pipeline": {"name": "nested", "task": "tabular_classification"},
        "loader": {"component": "core.table", "path": str(BUDGET), "target": "children"},
        "model": {"component": "core.majority"},
    }
    for out in (result.run_dir, result.run_dir / "model", result.run_dir / "new" / "runs"):
        with pytest.raises(ConfigError, match=rf"^out {re.escape(str(out))} lies inside the "
                                              r"run folder .*: writing there would change"):
            mlstat_core.run(pipeline, out=out)
    # the pipeline's own [output] dir (a run's config.toml rerun where its data folder is
    # gone puts runs/ inside the run folder): the message names the way out, out=
    with pytest.raises(ConfigError, match=r"^the \[output\] dir of <dict> .* lies inside the "
                                          r"run .* outside run folders with out=$"):
        mlstat_core.run({**pipeline, "output": {"dir": str(result.run_dir)}})
    assert sorted(result.run_dir.rglob("*")) == before
    mlstat_core.load_run(result.run_dir).verify()


@pytest.mark.parametrize("in_dict", [True, False])
def test_a_component_given_by_its_bare_name_says_what_to_write(tmp_path, in_dict):
    from mlstat_core.config import load_config
    from mlstat_core.errors import ConfigError

    pipeline = {
        "pipeline": {"name": "bare", "task": "tabular_classification"},
        "loader": {"component": "core.table", "path": str(BUDGET), "target": "children"},
        "model": "core.majority",
        "indicators": "core.timings",
    }
    source: object = pipeline
    if not in_dict:
        source = tmp_path / "p.toml"
        source.write_text(
            'model = "core.majority"\nindicators = "core.timings"\n\n[pipeline]\nname = "bare"\n'
            'task = "tabular_classification"\n\n[loader]\ncomponent = "core.table"\n'
            f'path = "{BUDGET.as_posix()}"\ntarget = "children"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(source)
    found = {issue.field: issue.message for issue in info.value.issues}
    model = '{"component": "core.majority"}' if in_dict \
        else '[model] with component = "core.majority"'
    indicators = '["core.timings"]' if in_dict else 'indicators = ["core.timings"]'
    assert found["model"] == ("is the text 'core.majority'; model is a table that names its "
                              f"component and its params: write {model}")
    assert found["indicators"] == ("is the text 'core.timings'; indicators is a list: write "
                                   f"{indicators}")
    assert "ComponentRef" not in str(info.value)


def test_a_file_of_a_run_given_as_the_run_names_its_folder(result):
    from mlstat_core.errors import DataError

    for file in ("manifest.json", "report.html"):
        with pytest.raises(DataError, match=rf"{file} is a file, not a run folder; give the "
                                            rf"folder it is in, {re.escape(str(result.run_dir))}$"):
            mlstat_core.load_model(result.run_dir / file)
    with pytest.raises(DataError, match=r"budget_uk\.csv is a file, not a run folder$"):
        mlstat_core.load_run(BUDGET)
