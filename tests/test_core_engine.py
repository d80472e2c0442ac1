"""Runs end to end: run folder, manifest, reproducibility, failures, predict."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import mlstat_core
from mlstat_core.artifacts import RunFolder
from mlstat_core.errors import ConfigError, DataError, IntegrityError, ModelError
from mlstat_core.predict import predict_file


def only_run(tmp_path: Path) -> Path:
    (run_dir,) = list((tmp_path / "runs").iterdir())
    return run_dir


def test_a_run_is_repeated_from_its_folders_config_toml(write_pipeline, tmp_path: Path,
                                                        monkeypatch):
    # a relative data path, as in the examples: it starts at the pipeline file's folder
    pipeline = write_pipeline(loader={"component": "core.table", "path": "budget_uk.csv",
                                      "target": "children"})
    first = mlstat_core.run(pipeline)
    monkeypatch.chdir(first.run_dir)  # anywhere but the pipeline's folder
    again = mlstat_core.run(first.run_dir / "config.toml", out=tmp_path / "again")
    manifests = [json.loads((r.run_dir / "manifest.json").read_text()) for r in (first, again)]
    assert manifests[0]["config_sha256"] == manifests[1]["config_sha256"]
    assert manifests[0]["inputs"] == manifests[1]["inputs"]
    pd.testing.assert_frame_equal(pd.read_parquet(first.run_dir / "predictions.parquet"),
                                  pd.read_parquet(again.run_dir / "predictions.parquet"))


def test_run_writes_a_complete_run_folder(write_pipeline, tmp_path: Path):
    result = mlstat_core.run(write_pipeline())
    assert result.status == "succeeded"
    folder = result.run_dir
    assert folder.parent == tmp_path / "runs"
    for name in ("config.toml", "manifest.json", "predictions.parquet", "report.json",
                 "model/estimator.skops", "model/state.json"):
        assert (folder / name).is_file(), name
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    assert manifest["seed"] == 0 and manifest["finished_at"]
    report = json.loads((folder / "report.json").read_text())  # the stored report is final
    assert report["run"]["finished_at"] == manifest["finished_at"]
    assert report["run"]["status"] == "succeeded"
    assert manifest["environment"]["python"] and manifest["environment"]["mlstat_core"]
    (source,) = manifest["inputs"]
    assert source.endswith("budget_uk.csv") and len(manifest["inputs"][source]) == 64
    assert set(manifest["files"]) >= {"model/estimator.skops", "predictions.parquet"}
    predictions = pd.read_parquet(folder / "predictions.parquet")
    assert len(predictions) == round(1519 * 0.25)
    # which records the figures come from, so that `mlstat compare` can tell runs apart
    assert manifest["test_records"]["count"] == len(predictions)
    assert len(manifest["test_records"]["sha256"]) == 64
    assert {"record_id", "true", "prediction", "confidence", "proba_1", "proba_2"} <= set(
        predictions.columns)
    # the part each record is in, in the words of [split] and the report: the test records
    assert set(predictions["split"]) == {"test"} and "fold" not in predictions.columns
    accuracy = (predictions["true"] == predictions["prediction"]).mean()
    assert result.metric("accuracy") == pytest.approx(accuracy)
    assert 0.55 < accuracy < 0.9  # better than the majority share 0.61 is not guaranteed


def test_the_drift_profile_describes_the_records_the_model_learnt_from(write_pipeline,
                                                                      budget_csv: Path):
    """profile.json, against which `mlstat predict` measures drift, summarises the records the
    model learnt from: the test records held out of training are not in it."""
    from mlstat_core.quality.drift import build_profile

    result = mlstat_core.run(write_pipeline())
    profile = json.loads((result.run_dir / "profile.json").read_text())
    learnt = pd.read_csv(budget_csv).drop(index=result.predictions["record_id"])
    assert profile["records"] == len(learnt) == 1519 - round(1519 * 0.25)
    assert profile == build_profile(learnt, list(profile["columns"]))


def test_same_seed_same_predictions_and_resolved_config_reruns(write_pipeline, tmp_path):
    first = mlstat_core.run(write_pipeline())
    again = mlstat_core.run(first.run_dir / "config.toml", out=tmp_path / "again")
    pd.testing.assert_frame_equal(first.predictions.reset_index(drop=True),
                                  again.predictions.reset_index(drop=True))
    other_seed = mlstat_core.run(write_pipeline(), overrides=["pipeline.seed=3"])
    assert not other_seed.predictions["record_id"].equals(first.predictions["record_id"])


def test_kfold_predicts_every_record_once_and_saves_a_final_model(write_pipeline):
    result = mlstat_core.run(write_pipeline(split={"component": "core.kfold", "n_splits": 3},
                                            model={"component": "core.random_forest",
                                                   "n_estimators": 20},
                                            indicators=["core.classification_accuracy",
                                                        "core.permutation_importance"]))
    assert sorted(result.predictions["record_id"]) == list(range(1519))
    # every record in the test part of one fold: the column says which
    assert set(result.predictions["split"]) == {"test"}
    assert result.predictions.groupby("fold").size().sort_index().tolist() == [507, 506, 506]
    assert (result.run_dir / "model" / "estimator.skops").is_file()
    # the saved model learnt every record: shuffling its training records would flatter it
    (importance,) = [i for i in result.indicators if i.name == "permutation_importance"]
    assert importance.status == "skipped" and "holdout split" in importance.explanation


def test_insample_predictions_say_the_model_learnt_from_them(write_pipeline):
    """core.insample fits and scores the same records: the split column says `train`, so
    that nobody reads them as held-out predictions."""
    result = mlstat_core.run(write_pipeline(split={"component": "core.insample"},
                                            indicators=["core.timings"]))
    predictions = pd.read_parquet(result.run_dir / "predictions.parquet")
    assert len(predictions) == 1519 and set(predictions["split"]) == {"train"}


def test_predictions_of_earlier_run_folders_read_in_the_same_words(write_pipeline):
    """Run folders written before the split column named the part held the splitter's name
    (holdout, fold0, insample, evaluation, a plugin's own): they read as test and train."""
    from mlstat_core.artifacts import read_predictions

    result = mlstat_core.run(write_pipeline())
    path = result.run_dir / "predictions.parquet"
    folder = RunFolder.open(result.run_dir)
    old = pd.read_parquet(path)
    names = ["holdout", "fold0", "fold12", "insample", "evaluation", "spatial_blocks"]
    old["split"] = [names[i % len(names)] for i in range(len(old))]
    old.to_parquet(path, index=False)
    folder.record("predictions.parquet")  # as that run would have written it
    folder.save_manifest()
    read = read_predictions(result.run_dir)
    expected = {"holdout": ("test", None), "fold0": ("test", 0), "fold12": ("test", 12),
                "insample": ("train", None), "evaluation": ("test", None),
                "spatial_blocks": ("test", None)}
    for name, split, fold in zip(old["split"], read["split"], read["fold"], strict=True):
        part, number = expected[name]
        assert split == part and (pd.isna(fold) if number is None else fold == number)
    assert list(read.columns[:4]) == ["record_id", "true", "split", "fold"]
    # today's folders read as written
    fresh = mlstat_core.run(write_pipeline())
    pd.testing.assert_frame_equal(read_predictions(fresh.run_dir),
                                  pd.read_parquet(fresh.run_dir / "predictions.parquet"))
    path.write_bytes(path.read_bytes() + b"x")  # changed after the run: refused
    with pytest.raises(IntegrityError, match="predictions.parquet does not match"):
        read_predictions(result.run_dir)
    path.unlink()
    folder.manifest["files"].pop("predictions.parquet")
    folder.save_manifest()
    with pytest.raises(DataError, match="predictions = false"):
        read_predictions(result.run_dir)


def test_group_split_keeps_groups_together(write_pipeline):
    result = mlstat_core.run(write_pipeline(
        loader={"component": "core.table", "path": str(Path(write_pipeline().parent /
                                                            "budget_uk.csv")),
                "target": "children", "groups": "age"},
        split={"component": "core.group", "test_size": 0.3}))
    data = pd.read_csv(write_pipeline().parent / "budget_uk.csv")
    test_ages = set(data.loc[result.predictions["record_id"], "age"])
    train_ages = set(data["age"]) - test_ages
    assert test_ages and train_ages and not test_ages & train_ages


def test_missing_column_fails_and_the_folder_says_so(write_pipeline, tmp_path):
    # a column the file's header lacks is found by the validation that precedes the run
    path = write_pipeline(loader={"component": "core.table",
                                  "path": str(tmp_path / "budget_uk.csv"),
                                  "target": "children", "features": ["income", "savings"]})
    with pytest.raises(ConfigError, match=r"\[loader.features\] column 'savings' is not in"):
        mlstat_core.run(path)
    assert not (tmp_path / "runs").exists()
    # one the records break (ids used twice) fails the run, and its folder says so
    path = write_pipeline(loader={"component": "core.table",
                                  "path": str(tmp_path / "budget_uk.csv"),
                                  "target": "children", "id": "income"})
    with pytest.raises(DataError, match="id column 'income' .* is not unique"):
        mlstat_core.run(path)
    manifest = json.loads((only_run(tmp_path) / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "income" in manifest["error"]
    assert not (only_run(tmp_path) / "predictions.parquet").exists()


@pytest.mark.parametrize("content, message", [
    (b"", "is empty \\(0 bytes"),  # refused by the validation that precedes the run
    (b"wfood,children\n", "has no records"),
    (b"wfood,children\n0.1,2\n0.2,2\n0.3,2\n", "single class"),
    ("wfood,children,note\n0.1,1,\xe9t\xe9\n".encode("latin-1"), "not valid utf-8"),
])
def test_bad_data_gets_one_clear_error(write_pipeline, tmp_path, content, message):
    data = tmp_path / "bad.csv"
    data.write_bytes(content)
    path = write_pipeline(loader={"component": "core.table", "path": str(data),
                                  "target": "children"})
    with pytest.raises((DataError, ConfigError), match=message):
        mlstat_core.run(path)


def test_predict_gives_the_runs_predictions_in_bounded_chunks(write_pipeline, tmp_path,
                                                               budget_csv):
    result = mlstat_core.run(write_pipeline())
    new = pd.read_csv(budget_csv).drop(columns="children")
    new.to_csv(tmp_path / "new.csv", index=False)
    summary = predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "scored.parquet",
                           chunk_size=100)
    assert summary.records == 1519
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    merged = result.predictions.merge(scored, on="record_id", suffixes=("_run", "_new"))
    assert len(merged) == len(result.predictions)
    assert (merged["prediction_run"] == merged["prediction_new"]).all()
    assert (merged["confidence_run"] - merged["confidence_new"]).abs().max() < 1e-12


def test_predict_refuses_a_model_file_changed_after_the_run(write_pipeline, tmp_path,
                                                             budget_csv):
    result = mlstat_core.run(write_pipeline())
    model_file = result.run_dir / "model" / "estimator.skops"
    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    with pytest.raises(IntegrityError, match="does not match the SHA-256"):
        predict_file(result.run_dir, budget_csv, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_a_model_folder_without_its_state_is_a_clear_error(write_pipeline, tmp_path):
    from mlstat_core.builtins.models import LogisticRegressionModel

    result = mlstat_core.run(write_pipeline())
    model_dir = result.run_dir / "model"
    assert LogisticRegressionModel.load(model_dir).classes_  # the saved state rebuilds the model
    (model_dir / "state.json").unlink()
    with pytest.raises(ModelError, match="has no state.json .* fit the model again"):
        LogisticRegressionModel.load(model_dir)


def test_predict_names_missing_input_columns_and_leaves_no_output(write_pipeline, tmp_path,
                                                                  budget_csv):
    result = mlstat_core.run(write_pipeline())
    pd.read_csv(budget_csv).drop(columns=["income"]).to_csv(tmp_path / "new.csv", index=False)
    with pytest.raises(DataError, match="lacks column.*'income'"):
        predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
    assert not list(tmp_path.glob(".out.csv*"))


def test_text_in_a_numeric_column_is_named_and_nothing_is_written(write_pipeline, tmp_path,
                                                                  budget_csv):
    result = mlstat_core.run(write_pipeline())
    new = pd.read_csv(budget_csv)
    new["income"] = new["income"].astype(object)
    new.loc[700, "income"] = "unknown"
    new.loc[5, "income"] = "1520.5"  # a number written as text is a number
    new.to_csv(tmp_path / "new.csv", index=False)
    with pytest.raises(DataError, match=r"column 'income' was numeric in training but has 1 "
                                        r"value\(s\) that are not numbers, e.g. 'unknown' \(first "
                                        r"at data row 701\)"):
        predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
    new.loc[700, "income"] = None  # left empty: imputed like any missing value
    new.to_csv(tmp_path / "new.csv", index=False)
    assert predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "out.csv").records \
        == len(new)


def test_an_infinite_value_is_named_in_training_and_in_new_records(write_pipeline, tmp_path,
                                                                   budget_csv):
    frame = pd.read_csv(budget_csv)
    frame.loc[3, "wfood"] = float("inf")  # a division by zero upstream, say
    frame.to_csv(tmp_path / "inf.csv", index=False)
    with pytest.raises(DataError, match=r"training data: column 'wfood' holds 1 infinite "
                                        r"value\(s\).*leave them empty"):
        mlstat_core.run(write_pipeline(loader={"component": "core.table", "target": "children",
                                               "path": str(tmp_path / "inf.csv")}))
    result = mlstat_core.run(write_pipeline())
    with pytest.raises(DataError, match=r"column 'wfood' holds 1 infinite value\(s\) \(first "
                                        r"at data row 4\)"):
        predict_file(result.run_dir, tmp_path / "inf.csv", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_the_local_engine_refuses_a_url_output_rather_than_mangling_it(write_pipeline,
                                                                      budget_csv):
    result = mlstat_core.run(write_pipeline())
    with pytest.raises(DataError, match="writes local files, not s3a://bucket/scored"):
        predict_file(result.run_dir, budget_csv, "s3a://bucket/scored")
    assert not Path("s3a:").exists()


def test_predict_reports_labels_the_model_never_saw(write_pipeline, tmp_path, budget_csv):
    result = mlstat_core.run(write_pipeline())
    new = pd.read_csv(budget_csv).head(50)
    new.loc[:9, "children"] = 3
    new.to_csv(tmp_path / "new.csv", index=False)
    summary = predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "out.csv")
    assert summary.unseen_labels == {"3": 10}
    assert any("never saw" in w for w in summary.warnings)


def test_a_failed_run_has_no_usable_model(write_pipeline, tmp_path):
    path = write_pipeline(loader={"component": "core.table", "path": "budget_uk.csv",
                                  "target": "children", "id": "age"})  # ages are no ids
    with pytest.raises(DataError, match="is not unique"):
        mlstat_core.run(path)
    with pytest.raises(DataError, match="did not succeed"):
        RunFolder.open(only_run(tmp_path)).verify()


def test_predict_can_take_ids_from_a_named_column(write_pipeline, tmp_path, budget_csv):
    result = mlstat_core.run(write_pipeline())
    new = pd.read_csv(budget_csv).head(30)
    new.insert(0, "household", [f"h{i}" for i in range(30)])
    new.to_csv(tmp_path / "new.csv", index=False)
    predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "o.csv",
                 id_column="household")
    assert pd.read_csv(tmp_path / "o.csv")["record_id"].tolist() == list(new["household"])
    with pytest.raises(DataError, match="no id column 'hh'"):
        predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "o.csv", id_column="hh")


def test_predict_warns_when_new_records_drift_from_training(write_pipeline, tmp_path,
                                                            budget_csv):
    result = mlstat_core.run(write_pipeline())
    same = predict_file(result.run_dir, budget_csv, tmp_path / "same.csv")
    assert not same.drift["drifted"]
    shifted = pd.read_csv(budget_csv).assign(income=lambda f: f["income"] * 3)
    shifted.to_csv(tmp_path / "shifted.csv", index=False)
    summary = predict_file(result.run_dir, tmp_path / "shifted.csv", tmp_path / "out.csv")
    assert "income" in summary.drift["drifted"]
    assert any("income" in w for w in summary.warnings)


@pytest.mark.parametrize(("platform", "mb"), [("linux", 2048.0), ("darwin", 2.0)])
def test_peak_memory_reads_the_platforms_unit(monkeypatch: pytest.MonkeyPatch, platform: str,
                                              mb: float) -> None:
    """getrusage's ru_maxrss is in kilobytes on Linux and in bytes on macOS."""
    import resource
    import sys
    from types import SimpleNamespace

    from mlstat_core.engine import _peak_memory_mb

    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(resource, "getrusage", lambda _who: SimpleNamespace(ru_maxrss=2**21))
    assert _peak_memory_mb() == mb
