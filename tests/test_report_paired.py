"""``mlstat compare`` names a best run only when the data can tell the runs apart: record by
record where the runs scored the same test records, else by their intervals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from click.testing import CliRunner
from conftest import BUDGET, pipeline_dict
from scipy.stats import binomtest
from sklearn.metrics import f1_score

import mlstat_core
from mlstat_core.artifacts import RunFolder
from mlstat_core.errors import IntegrityError
from mlstat_core.report.commands import compare_command
from mlstat_core.report.compare import comparison, render_comparison_html


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Three runs tested on the same 380 households of the budget survey (one stratified
    split, seed 0; the split depends on the target only): the majority class (two
    children), and two forests on a single 0/1 column that marks some one-child households,
    40 in training and, in the test records, 20 (``strong``) or 3 (``weak``). Each forest
    is right where the majority is, and on its marked test households: 20 or 3 records only
    it gets right, none only the majority gets right, whatever the library versions."""
    folder = tmp_path_factory.mktemp("paired")

    def run(name: str, data: Path, **sections) -> Path:
        pipeline = folder / f"{name}.toml"
        pipeline.write_text(tomli_w.dumps(pipeline_dict(
            data, indicators=["core.classification_accuracy"], **sections)), encoding="utf-8")
        return mlstat_core.run(pipeline, out=folder / "runs").run_dir

    majority = run("majority", BUDGET, model={"component": "core.majority"})
    households = pd.read_csv(BUDGET)
    tested = set(pd.read_parquet(majority / "predictions.parquet")["record_id"])
    one_child = households.index[households["children"] == 1]
    in_test = [i for i in one_child if i in tested]
    in_training = [i for i in one_child if i not in tested][:40]
    for name, count in (("strong", 20), ("weak", 3)):
        households[name] = households.index.isin(in_training + in_test[:count]).astype(int)
    data = folder / "budget_marked.csv"
    households.to_csv(data, index=False)
    found = {"majority": majority}
    for name in ("strong", "weak"):
        found[name] = run(name, data, loader={"component": "core.table", "path": str(data),
                                              "target": "children", "features": [name]},
                          model={"component": "core.random_forest", "n_estimators": 10})
    return found


def copied(run: Path, tmp_path: Path) -> Path:
    """A copy of a run folder, to change without touching the module's runs."""
    return Path(shutil.copytree(run, tmp_path / run.name))


def rows_of(table: dict) -> dict[str, dict]:
    return {r["name"]: r for r in table["rows"]}


def correct(run: Path) -> pd.Series:
    """Whether each test record's predicted class is right, by record id."""
    frame = pd.read_parquet(run / "predictions.parquet").set_index("record_id")
    return frame["prediction"] == frame["true"]


def test_the_runs_are_what_the_fixture_says(runs) -> None:
    majority = correct(runs["majority"])
    for name, count in (("strong", 20), ("weak", 3)):
        mine = correct(runs[name]).reindex(majority.index)
        assert int((mine & ~majority).sum()) == count and not (majority & ~mine).any()


def test_a_run_that_reads_best_is_not_best_when_mcnemar_cannot_tell_it_apart(runs) -> None:
    """The weak forest reads best on accuracy (0.616 against 0.608): 3 households only it
    gets right and none only the majority does, which a fair coin gives one time in four
    (exact McNemar test, p = 0.25): it is not named best, and compare says why."""
    weak, majority = runs["weak"], runs["majority"]
    table = comparison([majority, weak])
    accuracy = rows_of(table)["accuracy"]
    assert accuracy["values"][1] > accuracy["values"][0]
    assert accuracy["leader"] == 1 and accuracy["best"] is None
    (judged,) = accuracy["comparisons"]
    assert judged["method"] == "exact McNemar test" and judged["records"] == 380
    assert (judged["leader_only_right"], judged["other_only_right"]) == (3, 0)
    assert judged["p_value"] == pytest.approx(binomtest(3, 3, 0.5).pvalue) == 0.25
    assert judged["distinguishable"] is False
    assert accuracy["verdict"] == (
        f"{weak.name} reads best, but is not distinguishable from {majority.name} "
        "(exact McNemar test on 380 paired records: p = 0.250)")

    # what a reader sees: no bold accuracy, the words under the figure, the same in JSON
    page = render_comparison_html(table)
    row = next(r for r in page.split("<tr>") if r.startswith('<th scope="row">accuracy<'))
    assert "num best" not in row and f"not distinguishable from {majority.name}" in row
    outcome = CliRunner().invoke(compare_command, [str(majority), str(weak)])
    assert outcome.exit_code == 0, outcome.output
    assert f"accuracy: {accuracy['verdict']}" in " ".join(outcome.output.split())
    outcome = CliRunner().invoke(compare_command, [str(majority), str(weak), "--json"])
    shown = rows_of(json.loads(outcome.stdout))
    assert shown["accuracy"]["best"] is None and shown["accuracy"]["leader"] == 1
    assert shown["accuracy"]["verdict"] == accuracy["verdict"]
    assert shown["accuracy"]["intervals"] == accuracy["intervals"]


def test_a_paired_test_tells_apart_runs_whose_intervals_overlap(runs) -> None:
    """The strong forest is right on 20 more households than the majority class: 5 points,
    less than the two 95% Wilson intervals' overlap, but beyond chance record by record
    (exact McNemar test, p = 2e-6); its macro F1 is better by a paired bootstrap."""
    strong, majority = runs["strong"], runs["majority"]
    table = comparison([majority, strong])
    accuracy = rows_of(table)["accuracy"]
    (_low_a, high_a), (low_b, _high_b) = accuracy["intervals"]
    assert low_b < high_a  # overlapping
    assert accuracy["best"] == 1
    assert accuracy["comparisons"][0]["p_value"] == pytest.approx(binomtest(20, 20).pvalue)
    assert accuracy["verdict"] == (f"best: {strong.name}, better than {majority.name} (exact "
                                   "McNemar test on 380 paired records: p < 0.001)")
    macro = rows_of(table)["macro_f1"]
    assert macro["best"] == 1 and macro["comparisons"][0]["method"] == "paired bootstrap"
    low, high = macro["comparisons"][0]["interval"]
    frames = [pd.read_parquet(r / "predictions.parquet") for r in (strong, majority)]
    difference = (f1_score(frames[0]["true"], frames[0]["prediction"], average="macro")
                  - f1_score(frames[1]["true"], frames[1]["prediction"], average="macro"))
    assert macro["comparisons"][0]["difference"] == pytest.approx(difference)
    assert 0 < low < difference < high
    assert rows_of(comparison([majority, strong]))["macro_f1"]["comparisons"][0][
        "interval"] == [low, high]  # seeded: the same draws every time
    page = render_comparison_html(table)
    row = next(r for r in page.split("<tr>") if r.startswith('<th scope="row">accuracy<'))
    assert '<td class="num best">' in row
    # three runs: the strong forest is better than each of the others (17 and 20 records)
    three = rows_of(comparison([runs["weak"], majority, strong]))
    assert three["accuracy"]["best"] == 2
    assert [c["run"] for c in three["accuracy"]["comparisons"]] == [0, 1]


def test_without_predictions_runs_are_judged_by_their_intervals(runs, tmp_path) -> None:
    """A run folder shared without predictions.parquet (it holds records) is still
    compared: by the intervals, which overlap here, and a note says so."""
    strong, majority = copied(runs["strong"], tmp_path), runs["majority"]
    (strong / "predictions.parquet").unlink()
    table = comparison([majority, strong])
    accuracy = rows_of(table)["accuracy"]
    assert accuracy["best"] is None and accuracy["comparisons"][0]["method"] == "intervals"
    assert accuracy["verdict"] == (f"{strong.name} reads best, but is not distinguishable "
                                   f"from {majority.name} (95% intervals overlap)")
    assert table["notes"] == [  # one note for the figures it could have paired (the
        # majority's MCC is undefined: no row to compare)
        "accuracy, macro_f1, weighted_f1, cohen_kappa are compared by their intervals, not "
        f"record by record: {strong.name} has no predictions.parquet"]


def test_predictions_that_do_not_give_back_the_report_are_not_paired(runs, tmp_path) -> None:
    """The paired test is made only on predictions whose figures are the report's."""
    strong, majority = copied(runs["strong"], tmp_path), runs["majority"]
    report = json.loads((strong / "report.json").read_text())
    next(e for e in report["indicators"] if e["name"] == "accuracy")["value"] = 0.7
    (strong / "report.json").write_text(json.dumps(report))
    folder = RunFolder.open(strong)
    folder.record("report.json")
    folder.save_manifest()
    table = comparison([majority, strong])
    assert rows_of(table)["accuracy"]["comparisons"][0]["method"] == "intervals"
    assert any("do not give back its report's accuracy" in n for n in table["notes"])


def test_changed_predictions_are_refused_and_old_split_names_still_pair(runs,
                                                                        tmp_path) -> None:
    strong, majority = copied(runs["strong"], tmp_path), runs["majority"]
    path = strong / "predictions.parquet"
    frame = pd.read_parquet(path)
    frame.loc[frame.index[:50], "prediction"] = 1
    frame.to_parquet(path, index=False)
    with pytest.raises(IntegrityError, match="predictions.parquet does not match"):
        comparison([majority, strong])
    # a run folder of an earlier version, whose split column named the splitter's split
    frame = pd.read_parquet(runs["strong"] / "predictions.parquet")
    frame["split"] = "holdout"
    frame.to_parquet(path, index=False)
    folder = RunFolder.open(strong)
    folder.record("predictions.parquet")
    folder.save_manifest()
    accuracy = rows_of(comparison([majority, strong]))["accuracy"]
    assert accuracy["best"] == 1 and accuracy["comparisons"][0]["records"] == 380


def test_record_ids_read_as_floats_in_one_run_pair_with_integer_ids() -> None:
    """An id column with a gap is read as floats (1.0): the same records must pair with a run
    whose ids were read as integers, not be called "not of the same records"."""
    from mlstat_core.report.paired import record_index

    assert record_index(pd.Series([1.0, 2.0, 10.0])).equals(record_index(pd.Series([1, 2, 10])))
    assert list(record_index(pd.Series(["A01", "7"]))) == ["A01", "7"]


def test_a_pair_codes_labels_as_the_indicator_does() -> None:
    """The paired figures must be the indicator's, or every pair falls back to intervals:
    both code labels with one helper, here with records left without a prediction (an
    error, no class) and a second run predicting a class the first never does."""
    from test_quality_context import label_context

    from mlstat_core.quality.accuracy import NO_PREDICTION, ClassificationAccuracy
    from mlstat_core.report.paired import Pair

    y_true = ["a"] * 50 + ["b"] * 50
    y_pred = ["a"] * 45 + [None] * 5 + ["b"] * 48 + ["a", None]
    results = ClassificationAccuracy().compute(label_context(y_true, y_pred))
    shown = {r.name: r.value for r in results}
    first = pd.DataFrame({"true": y_true, "prediction": pd.Series(y_pred).fillna(
        NO_PREDICTION)})
    second = first.assign(prediction=["c"] * 100)
    figures = Pair(first, second).figures(0)
    assert {name: figures[name] for name in figures} == {name: shown[name] for name in figures}


def test_compare_reads_only_the_columns_it_pairs_on(runs, monkeypatch) -> None:
    """predictions.parquet may hold a probability per class for many records: compare
    reads record ids, true and predicted classes only."""
    read = []
    real = pd.read_parquet

    def spy(path, *args, **kwargs):
        read.append(kwargs.get("columns"))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pd, "read_parquet", spy)
    comparison([runs["majority"], runs["strong"]])
    assert read and all(c is not None and set(c) == {"record_id", "true", "prediction"}
                        for c in read)


def test_read_predictions_of_some_columns_still_reads_old_split_names(runs,
                                                                      tmp_path) -> None:
    from mlstat_core.artifacts import read_predictions

    run = copied(runs["strong"], tmp_path)
    frame = pd.read_parquet(run / "predictions.parquet")
    frame["split"] = ["fold0", "fold1"] * (len(frame) // 2) + ["fold0"] * (len(frame) % 2)
    frame.to_parquet(run / "predictions.parquet", index=False)
    folder = RunFolder.open(run)
    folder.record("predictions.parquet")
    folder.save_manifest()
    some = read_predictions(run, columns=["record_id", "fold", "split", "missing"])
    assert list(some.columns) == ["record_id", "split", "fold"]
    assert set(some["split"]) == {"test"} and list(some["fold"][:2]) == [0, 1]
    assert list(read_predictions(run, columns=["fold"]).columns) == ["fold"]
    assert list(read_predictions(run).columns) == [*frame.columns[:3], "fold",
                                                   *frame.columns[3:]]


def test_a_pair_seen_in_both_orders_is_bootstrapped_once(runs, monkeypatch) -> None:
    """Where one run reads best on one figure and the other on another, the pair is made
    once and its bootstrap drawn once: the other order's differences are the negation,
    and the order asked first draws as a pair made in that order always did."""
    from mlstat_core.report import paired
    from mlstat_core.report.compare import Judge

    sides = [paired.labelled_predictions(runs[n]) for n in ("weak", "strong")]
    fresh = paired.Pair(sides[1], sides[0]).bootstrap()
    made = []
    real = paired.Pair.__init__

    def counted(self, *args) -> None:
        made.append(1)
        real(self, *args)

    monkeypatch.setattr(paired.Pair, "__init__", counted)
    judge = Judge([{"dir": str(runs[n]), "label": n, "manifest": {}} for n in ("weak", "strong")])
    later = judge._paired(1, 0).bootstrap()
    first = judge._paired(0, 1).bootstrap()
    assert len(made) == 1
    for name, drawn in fresh.items():
        assert np.array_equal(later[name], drawn)
        assert np.array_equal(first[name], -drawn)


def older(run: Path, tmp_path: Path, keep: int | None = None) -> Path:
    """A copy of a run as mlstat wrote it before it recorded its test records'
    fingerprint, its predictions cut to the first ``keep`` records."""
    run = copied(run, tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    del manifest["test_records"]
    (run / "manifest.json").write_text(json.dumps(manifest))
    if keep is not None:
        frame = pd.read_parquet(run / "predictions.parquet")
        frame.head(keep).to_parquet(run / "predictions.parquet", index=False)
        folder = RunFolder.open(run)
        folder.record("predictions.parquet")
        folder.save_manifest()
    return run


def test_an_old_run_tested_on_other_records_is_told_by_its_predictions(runs,
                                                                       tmp_path) -> None:
    """A run folder without the test records' fingerprint (an older mlstat) on records
    other than the new run's: its predictions show it, so compare warns and names no best,
    instead of ranking figures of other records by their intervals."""
    majority = older(runs["majority"], tmp_path, keep=300)
    table = comparison([majority, runs["strong"]])
    assert table["warnings"] == ["the runs were tested on different records (300, 380 test "
                                 "records; different data, split or seed): a difference "
                                 "mixes the models with their test records, so no run is "
                                 "named best; to compare models, evaluate each on one fixed "
                                 "labelled file that none was trained on (mlstat evaluate)"]
    assert all(row["leader"] is None for row in table["rows"])
    # an old run on the same records is still compared record by record
    table = comparison([older(runs["weak"], tmp_path), runs["strong"]])
    assert not table["warnings"]
    assert rows_of(table)["accuracy"]["comparisons"][0]["method"] == "exact McNemar test"


def test_runs_whose_fingerprints_differ_are_warned_of_beside_an_old_run(runs,
                                                                        tmp_path) -> None:
    """Two runs that recorded different test records are not ranked because a third, from
    an older mlstat, recorded none and has no predictions to tell by."""
    old = older(runs["majority"], tmp_path)
    (old / "predictions.parquet").unlink()
    other = copied(runs["weak"], tmp_path)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["test_records"]["sha256"] = "0" * 64
    (other / "manifest.json").write_text(json.dumps(manifest))
    table = comparison([old, other, runs["strong"]])
    assert table["warnings"][0].startswith(
        "the runs were tested on different records (—, 380, 380 test records;")
    assert all(row["leader"] is None for row in table["rows"])
