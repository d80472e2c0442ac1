"""mlstat evaluate: a saved model assessed on a fixed labelled file, ranked by mlstat compare."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import mlstat_core
from mlstat_core.cli import main
from mlstat_core.errors import ConfigError, DataError
from mlstat_core.evaluation import evaluate
from mlstat_core.predict import predict_file
from mlstat_core.report.compare import comparison


@pytest.fixture
def cycles(tmp_path: Path, budget_csv: Path, write_pipeline):
    """Two coding cycles' runs (other models, trained on the first 1,200 households) and a
    fixed labelled file that neither was trained on (the other 319)."""
    households = pd.read_csv(budget_csv)
    training, fixed = tmp_path / "training.csv", tmp_path / "fixed.csv"
    households.iloc[:1200].to_csv(training, index=False)
    households.iloc[1200:].to_csv(fixed, index=False)
    loader = {"component": "core.table", "path": str(training), "target": "children"}
    indicators = ["core.classification_accuracy", "core.provenance", "core.refit_check"]
    runs = [mlstat_core.run(write_pipeline(f"cycle{k}.toml", loader=loader,
                                           model={"component": component},
                                           indicators=indicators))
            for k, component in ((1, "core.logistic_regression"), (2, "core.random_forest"))]
    return runs, fixed


def test_an_evaluation_scores_every_record_of_the_file_with_the_saved_model(cycles, tmp_path):
    (first, _), fixed = cycles
    result = evaluate(first.run_dir, fixed, out=tmp_path / "evaluations")
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert result.run_dir.parent == tmp_path / "evaluations"
    assert manifest["evaluates"]["run_id"] == first.run_id
    assert manifest["evaluates"]["model_files"] == {
        k: v for k, v in first.manifest["files"].items()
        if k.startswith("model/") or k == "profile.json"}
    assert not (result.run_dir / "model").exists()  # the model stays in its run
    assert manifest["test_records"]["count"] == 319 and manifest["records"] == 319
    predictions = pd.read_parquet(result.run_dir / "predictions.parquet")
    # every record of the file is a test record of the evaluation (split: test)
    assert len(predictions) == 319 and set(predictions["split"]) == {"test"}
    # the same predictions as mlstat predict gives for the file, and figures made from them
    scored = tmp_path / "scored.csv"
    predict_file(first.run_dir, fixed, scored)
    assert predictions["prediction"].tolist() == pd.read_csv(scored)["prediction"].tolist()
    truth = pd.read_csv(fixed)["children"]
    assert predictions["true"].tolist() == truth.tolist()
    assert result.metric("accuracy") == pytest.approx((predictions["prediction"] == truth).mean())
    refit = next(r for r in result.indicators if r.name == "refit_identical_share")
    assert refit.status == "skipped" and "Nothing was trained here" in refit.explanation
    assert not result.warnings


def test_compare_ranks_evaluations_of_two_cycles_on_one_fixed_file(cycles, tmp_path):
    """Runs tested on their own splits are not ranked; their evaluations on one file are."""
    (first, second), fixed = cycles
    evaluations = [evaluate(r.run_dir, fixed, out=tmp_path / "evaluations")
                   for r in (first, second)]
    table = comparison([e.run_dir for e in evaluations])
    assert table["warnings"] == []
    rows = {r["name"]: r for r in table["rows"]}
    accuracy = [e.metric("accuracy") for e in evaluations]
    assert accuracy[0] != accuracy[1]
    # judged record by record on the file's 319 records: best only beyond chance
    leader = accuracy.index(max(accuracy))
    assert rows["accuracy"]["leader"] == leader
    (judged,) = rows["accuracy"]["comparisons"]
    assert judged["method"] == "exact McNemar test" and judged["records"] == 319
    assert (rows["accuracy"]["best"] == leader) is (judged["p_value"] < 0.05)
    facts = {f[0]: f[1:] for f in table["facts"]}
    assert facts["evaluates the model of"] == [first.run_id, second.run_id]
    assert facts["data read (sha256)"][0] == facts["data read (sha256)"][1]
    assert facts["model files (sha256)"][0] != facts["model files (sha256)"][1]
    assert table["notes"] == []  # nothing was trained, so nothing was reproduced
    # on another file, the two evaluations are not ranked, and the warning says why
    other = tmp_path / "other.csv"
    pd.read_csv(fixed).head(100).to_csv(other, index=False)
    third = evaluate(second.run_dir, other, out=tmp_path / "evaluations")
    table = comparison([evaluations[0].run_dir, third.run_dir])
    assert table["warnings"][0].startswith("the evaluations were made on different records "
                                           "(319, 100 records")
    assert all(row["best"] is None for row in table["rows"])


def test_an_evaluation_on_the_training_file_says_its_figures_are_in_sample(cycles, tmp_path):
    (first, _), _fixed = cycles
    result = evaluate(first.run_dir, tmp_path / "training.csv", out=tmp_path / "evaluations")
    assert any("read in training" in w and "overstate" in w for w in result.warnings)
    # mlstat compare names no best among evaluations on training records, and says why
    second = evaluate(cycles[0][1].run_dir, tmp_path / "training.csv",
                      out=tmp_path / "evaluations")
    assert second.manifest["evaluates"]["read_in_training"]
    table = comparison([result.run_dir, second.run_dir])
    assert any("scored records the model was trained on" in w for w in table["warnings"])
    assert all(row["best"] is None for row in table["rows"])
    facts = {f[0]: f[1:] for f in table["facts"]}
    assert facts["warnings"] == ["1 (in its report)", "1 (in its report)"]


def test_classes_the_model_never_saw_are_counted_and_a_wrong_column_is_refused(cycles,
                                                                                tmp_path):
    (first, _), fixed = cycles
    households = pd.read_csv(fixed)
    some = tmp_path / "some_new.csv"
    households.assign(children=households["children"].where(households.index > 10, 9)
                      ).to_csv(some, index=False)
    result = evaluate(first.run_dir, some, out=tmp_path / "evaluations")
    (warning,) = result.warnings
    assert "11 of 319 records carry 1 class(es) the model never saw" in warning
    wrong = tmp_path / "wrong.csv"
    households.assign(children=households["age"] + 100).to_csv(wrong, index=False)
    with pytest.raises(DataError, match="none of the true values in column 'children'"):
        evaluate(first.run_dir, wrong, out=tmp_path / "evaluations")


def test_a_file_without_true_values_or_records_is_refused(cycles, tmp_path):
    (first, _), fixed = cycles
    unlabelled = tmp_path / "unlabelled.csv"
    pd.read_csv(fixed).drop(columns="children").to_csv(unlabelled, index=False)
    with pytest.raises(ConfigError, match=r"\[loader.target\] column 'children' is not in the "
                                          r"header of .*unlabelled.csv"):
        evaluate(first.run_dir, unlabelled, out=tmp_path / "evaluations")
    with pytest.raises(DataError, match="does not exist"):
        evaluate(first.run_dir, tmp_path / "missing.csv")
    with pytest.raises(ConfigError, match="give the labelled file"):
        evaluate(first.run_dir)
    assert not (tmp_path / "evaluations").exists() or not any(
        (m / "report.json").exists() for m in (tmp_path / "evaluations").iterdir())


def test_the_evaluate_command(cycles, tmp_path):
    (first, _), fixed = cycles
    runner = CliRunner()
    outcome = runner.invoke(main, ["evaluate", str(first.run_dir), "--input", str(fixed),
                                   "--out", str(tmp_path / "evaluations"), "--json"])
    assert outcome.exit_code == 0, outcome.output
    printed = json.loads(outcome.stdout)
    assert printed["status"] == "succeeded" and "accuracy" in printed["figures"]
    evaluation = Path(printed["run_dir"])
    assert evaluation.name.startswith("test-evaluation-")
    # an evaluation holds no model: scoring with it names the run that does
    outcome = runner.invoke(main, ["predict", str(evaluation), "--input", str(fixed),
                                   "--output", str(tmp_path / "out.csv")])
    assert outcome.exit_code != 0 and "holds no model; give that run's folder" in " ".join(
        outcome.output.split())
    outcome = runner.invoke(main, ["evaluate", str(first.run_dir)])
    assert outcome.exit_code != 0 and "--input FILE" in outcome.output


@pytest.fixture
def income_run(tmp_path: Path, budget_csv: Path, write_pipeline):
    """A regression run (household income) trained on the first 1,200 households, and the
    file of the other 319."""
    households = pd.read_csv(budget_csv)
    training, fixed = tmp_path / "training.csv", tmp_path / "fixed.csv"
    households.iloc[:1200].to_csv(training, index=False)
    households.iloc[1200:].to_csv(fixed, index=False)
    run = mlstat_core.run(write_pipeline(
        pipeline={"name": "income", "task": "tabular_regression", "seed": 0},
        loader={"component": "core.table", "path": str(training), "target": "income"},
        split={"component": "core.holdout", "test_size": 0.25},
        model={"component": "core.random_forest_regressor", "n_estimators": 20},
        indicators=["core.regression_accuracy"]))
    return run, fixed


def test_a_regression_run_is_evaluated_too(income_run, tmp_path):
    run, fixed = income_run
    result = mlstat_core.evaluate(run.run_dir, fixed, out=tmp_path / "evaluations")
    predictions = pd.read_parquet(result.run_dir / "predictions.parquet")
    errors = predictions["prediction"] - pd.read_csv(fixed)["income"]
    assert result.metric("rmse") == pytest.approx(float((errors ** 2).mean() ** 0.5))

def test_evaluations_of_runs_with_and_without_an_id_column_are_ranked(tmp_path, budget_csv,
                                                                       write_pipeline):
    """The same file read with and without an id: the same records, so compare ranks."""
    households = pd.read_csv(budget_csv).reset_index().rename(columns={"index": "id"})
    training, fixed = tmp_path / "training.csv", tmp_path / "fixed.csv"
    households.iloc[:1200].to_csv(training, index=False)
    households.iloc[1200:].to_csv(fixed, index=False)
    runs = [mlstat_core.run(write_pipeline(
        f"cycle{k}.toml", loader={"component": "core.table", "path": str(training),
                                  "target": "children", **extra},
        model={"component": component}))
        for k, extra, component in ((1, {"id": "id"}, "core.logistic_regression"),
                                    (2, {}, "core.random_forest"))]
    evaluations = [evaluate(r.run_dir, fixed, out=tmp_path / "evaluations") for r in runs]
    table = comparison([e.run_dir for e in evaluations])
    assert table["warnings"] == []
    accuracy = {r["name"]: r for r in table["rows"]}["accuracy"]
    # judged record by record: the file's rows pair the two, whatever their record ids
    assert accuracy["leader"] is not None and table["notes"] == []
    assert accuracy["comparisons"][0]["method"] == "exact McNemar test"
    assert accuracy["comparisons"][0]["records"] == 319


def test_records_without_a_true_value_are_left_out_with_a_warning(cycles, tmp_path):
    (first, _), fixed = cycles
    gaps = tmp_path / "gaps.csv"
    households = pd.read_csv(fixed)
    households.loc[[3, 7], "children"] = None
    households.to_csv(gaps, index=False)
    result = evaluate(first.run_dir, gaps, out=tmp_path / "evaluations")
    assert len(result.predictions) == 317
    assert any("2 record(s) of" in w and "have no value in the target column 'children' "
               "(first at data row 4) and are left out" in w for w in result.warnings)


def test_a_regression_file_without_numbers_is_refused(income_run, tmp_path):
    run, fixed = income_run
    text = tmp_path / "text.csv"
    pd.read_csv(fixed).head(20).astype({"income": str}).assign(
        income=lambda f: f["income"] + " GBP").to_csv(text, index=False)
    with pytest.raises(DataError, match=r"column 'income' of text holds values that are not "
                                        r"numbers \('100 GBP' at data row 1\), but the model "
                                        r"predicts numbers"):
        evaluate(run.run_dir, text, out=tmp_path / "evaluations")


def test_the_report_names_the_run_evaluated_and_mistakes_get_clear_messages(cycles, tmp_path,
                                                                            monkeypatch):
    (first, _), fixed = cycles
    monkeypatch.chdir(first.run_dir.parent)  # a relative run folder is stored resolved
    result = evaluate(first.run_dir.name, fixed, out=tmp_path / "evaluations")
    report = json.loads((result.run_dir / "report.json").read_text())
    assert report["run"]["evaluates"]["run_id"] == first.run_id
    assert report["run"]["evaluates"]["run_dir"] == str(first.run_dir.resolve())
    assert first.run_id in (result.run_dir / "report.html").read_text()
    with pytest.raises(DataError, match="input_file is a pandas DataFrame; give the path"):
        evaluate(first.run_dir, pd.read_csv(fixed))
    for inside in (first.run_dir, first.run_dir / "model"):
        with pytest.raises(ConfigError, match="lies inside the run folder"):
            evaluate(first.run_dir, fixed, out=inside)
    assert sorted(p.name for p in first.run_dir.iterdir()) == sorted(
        p.name for p in first.run_dir.iterdir() if "evaluation" not in p.name)


def test_a_failed_evaluation_says_to_run_the_evaluation_again(cycles, tmp_path):
    (first, _), fixed = cycles
    unlabelled = tmp_path / "unlabelled.csv"  # true values missing: refused once read
    pd.read_csv(fixed).assign(children=None).to_csv(unlabelled, index=False)
    with pytest.raises(DataError):
        evaluate(first.run_dir, unlabelled, out=tmp_path / "evaluations")
    (failed,) = (tmp_path / "evaluations").iterdir()
    with pytest.raises(DataError, match="fix that and run mlstat evaluate again"):
        comparison([failed, first.run_dir])


def test_the_predict_step_times_scoring_only_not_building_the_engine(cycles, tmp_path,
                                                                      monkeypatch):
    """The timeliness figures of an evaluation read the predict step's seconds; building the
    engine (a plugin engine may start a cluster session) was inside them, unlike in a run."""
    from mlstat_core.engine import Runner

    (first, _), fixed = cycles
    events: list[str] = []
    built = Runner.build_engine
    monkeypatch.setattr(Runner, "build_engine",
                        lambda self: events.append("engine built") or built(self))
    evaluate(first.run_dir, fixed, out=tmp_path / "evaluations",
             progress=lambda step, said: events.append(f"{step} {'ends' if said else 'starts'}"))
    assert events.index("engine built") < events.index("predict starts")


def test_figures_of_an_indicator_set_otherwise_in_each_run_are_not_ranked(write_pipeline):
    """Two runs whose auto-coding indicators have other target accuracies: their auto-coding
    figures answer different questions, so none is named best (the [quality] table's
    differences already worked so); the other figures are ranked as before."""
    runs = [mlstat_core.run(write_pipeline(
        f"target{k}.toml", model={"component": model},
        indicators=[{"component": "core.classification_accuracy", "top_k": top_k},
                    {"component": "core.auto_coding", "target_accuracy": target}]))
        for k, model, target, top_k in ((1, "core.logistic_regression", 0.7, [3]),
                                        (2, "core.random_forest", 0.95, [3, 5]))]
    table = comparison([r.run_dir for r in runs])
    rows = {r["name"]: r for r in table["rows"]}
    share = next(name for name in rows if name.startswith("auto_coding"))
    assert rows[share]["values"][0] != rows[share]["values"][1]
    assert rows[share]["best"] is None and rows[share]["leader"] is None
    (warning,) = [w for w in table["warnings"] if "core.auto_coding" in w]
    assert "target_accuracy: 0.7, 0.95" in warning and share in warning
    # accuracy does not depend on which top-k figures are added: still ranked, not warned of
    assert rows["accuracy"]["leader"] is not None
    assert not [w for w in table["warnings"] if "classification_accuracy" in w]


def test_records_the_model_learnt_from_are_found_in_another_file(cycles, tmp_path,
                                                                  budget_csv, write_pipeline):
    """Only a file read in training was found: a superset of the training file, or an audit
    sample whose records the model had learnt from, scored 0.853 and 0.909 against 0.633 on
    unseen records, unwarned, and compare named the contaminated run best. The run keeps
    hashes of the records it learnt from; the evaluation finds them by values, or by id."""
    (first, second), fixed = cycles
    households = pd.read_csv(budget_csv)
    superset = tmp_path / "superset.csv"
    households.to_csv(superset, index=False)
    clean = evaluate(first.run_dir, fixed, out=tmp_path / "evaluations")
    assert not any("learnt from" in w for w in clean.warnings)
    assert "read_in_training" not in clean.manifest["evaluates"]
    found = evaluate(first.run_dir, superset, out=tmp_path / "evaluations")
    (said,) = [w for w in found.warnings if "learnt from" in w]
    learnt = 1200 - len(first.predictions)  # the run's training split (its test: 300)
    assert said.startswith(f"evaluate: {learnt:,} of the 1,519 records of ")
    assert f"({learnt / 1519:.0%}) repeat, in every input column and the true value, a " \
        "record" in said
    assert found.manifest["evaluates"]["read_in_training"]
    # the report says so too (it kept run_id, run_dir and model_files only): a dashboard
    # built on report.json flags the evaluation
    reported = json.loads((found.run_dir / "report.json").read_text("utf-8"))
    assert reported["run"]["evaluates"]["read_in_training"] \
        == found.manifest["evaluates"]["read_in_training"]
    assert "read_in_training" not in json.loads(
        (clean.run_dir / "report.json").read_text("utf-8"))["run"]["evaluates"]
    table = comparison([clean.run_dir, found.run_dir])
    assert all(row["best"] is None for row in table["rows"])

    # by id and values: an audit drawn partly from the training file is found; the same
    # households in the next cycle (their ids reused, their values new) are not
    with_ids = households.assign(hh=[f"H{i:05d}" for i in range(len(households))])
    with_ids.iloc[:1200].to_csv(tmp_path / "train_ids.csv", index=False)
    audit = with_ids.iloc[1150:1450]
    audit.to_csv(tmp_path / "audit.csv", index=False)
    run = mlstat_core.run(write_pipeline("ids.toml", loader={
        "component": "core.table", "path": str(tmp_path / "train_ids.csv"),
        "target": "children", "id": "hh"}))
    by_id = evaluate(run.run_dir, tmp_path / "audit.csv", out=tmp_path / "evaluations")
    (said,) = [w for w in by_id.warnings if "learnt from" in w]
    tested = set(run.predictions["record_id"].astype(str))
    learnt = len(set(audit["hh"]) & set(with_ids["hh"].iloc[:1200]) - tested)
    assert 0 < learnt < 50
    assert f"{learnt} of the 300 records" in said
    assert "repeat the id, every input column and the true value of a record" in said
    next_cycle = with_ids.iloc[:300].assign(income=with_ids["income"].iloc[:300] + 7)
    next_cycle.to_csv(tmp_path / "next_cycle.csv", index=False)
    later = evaluate(run.run_dir, tmp_path / "next_cycle.csv", out=tmp_path / "evaluations")
    assert not any("learnt from" in w for w in later.warnings)


def test_a_record_hashes_alike_from_any_file_of_it():
    """A column of whole numbers in one file (read as integers) and with a 20.5 in another
    (floats), a date from Excel and the same date written in a CSV: the same record."""
    from mlstat_core.components import ColumnRoles
    from mlstat_core.training_records import record_keys

    roles = ColumnRoles(features=["hours", "since"], target="y")
    whole = pd.DataFrame({"hours": [20, 35], "since": ["2024-01-05", None], "y": ["a", "b"]})
    other = pd.DataFrame({"hours": [20.0, 35.0, 20.5],
                          "since": pd.to_datetime(["2024-01-05", None, "2024-02-01"]),
                          "y": ["a", "b", "a"]})
    assert (record_keys(whole, roles)["values"] == record_keys(other, roles)["values"][:2]).all()
    assert record_keys(other, roles)["values"][2] not in record_keys(whole, roles)["values"]
    # booleans with a gap (read as objects), a text column all blank in the other file, a
    # code of digits beside codes with letters, a date with its time written by a CSV
    roles = ColumnRoles(features=["paid", "note", "code", "at"], target="y")
    training = pd.DataFrame({"paid": [True, None], "note": ["late", None],
                             "code": ["111", "A12"],
                             "at": pd.to_datetime(["2024-01-05 10:30", "2024-02-01 00:00"]),
                             "y": ["a", "b"]})
    audit = pd.DataFrame({"paid": [True], "note": [np.nan], "code": [111],
                          "at": ["2024-01-05 10:30:00"], "y": ["a"]})
    training.loc[0, "note"] = None
    assert record_keys(audit, roles)["values"][0] == record_keys(training, roles)["values"][0]
    # ids count with the values, not alone
    with_id = ColumnRoles(id="hh", features=["hours"], target="y")
    first = pd.DataFrame({"hh": ["H1"], "hours": [20], "y": ["a"]})
    assert record_keys(first, with_id)["ids"][0] != \
        record_keys(first.assign(hours=21), with_id)["ids"][0]
