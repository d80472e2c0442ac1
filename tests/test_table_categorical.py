"""core.table's `categorical`: codes written as numbers (region 11, 12, 21, 22) are read as
text and taken for categories wherever a model reads the records: training, mlstat predict
on new files, mlstat evaluate, and the drift profile."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlstat_core
from mlstat_core.builtins.loaders import CATEGORICAL, TableLoader
from mlstat_core.builtins.params import TableParams
from mlstat_core.errors import ConfigError, DataError

CODES = [11, 12, 21, 22]


def coded_frame(records: int = 400, seed: int = 0) -> pd.DataFrame:
    """Records whose class depends on the region code but not on its order: 11 and 22 are
    class a, 12 and 21 class b (no cut of the numbers separates them); some regions are
    missing, so pandas alone would read the codes as 11.0."""
    rng = np.random.default_rng(seed)
    region = rng.choice(CODES, size=records).astype(float)
    frame = pd.DataFrame({
        "id": [f"r{i:04d}" for i in range(records)],
        "region": region,
        "x": rng.normal(size=records),
        "y": np.where(np.isin(region, [11, 22]), "a", "b"),
    })
    frame.loc[::37, "region"] = np.nan
    return frame


def write(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as the file ``path`` names; in a CSV file the codes are written as the
    office writes them, whole (11), a missing one empty."""
    if path.suffix == ".csv":
        out = frame.copy()
        out["region"] = out["region"].map(lambda v: "" if pd.isna(v) else str(int(v)))
        out.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_excel(path, index=False)
    return path


def pipeline(path: Path, **loader) -> dict:
    return {"pipeline": {"name": "codes", "task": "tabular_classification"},
            "loader": {"component": "core.table", "path": str(path), "id": "id",
                       "target": "y", "categorical": ["region"], **loader},
            "model": {"component": "core.logistic_regression"},
            "indicators": ["core.classification_accuracy"]}


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_codes_are_read_as_text_with_missing_left_missing(tmp_path, suffix):
    """Every format gives the codes as written (11, not 11.0: a Parquet or Excel column with
    gaps holds 11.0) and missing as missing; without `categorical` they are numbers."""
    path = write(coded_frame(60), tmp_path / f"d{suffix}")
    dataset = TableLoader(TableParams(path=path.name, target="y", id="id",
                                      categorical=["region"])).load(tmp_path)
    region = dataset.frame["region"]
    assert set(region.dropna()) == {"11", "12", "21", "22"}
    assert region.isna().sum() == 2 and region.dropna().map(type).eq(str).all()
    assert dataset.metadata[CATEGORICAL] == ["region"]
    plain = TableLoader(TableParams(path=path.name, target="y", id="id")).load(tmp_path)
    assert pd.api.types.is_float_dtype(plain.frame["region"])


def test_a_code_column_is_one_hot_encoded_and_predicted_by_its_codes(tmp_path):
    """The fitted preprocessor takes the column for categories (one-hot), not a number to
    scale: the classes, which no ordering of the codes separates, are learnt."""
    from mlstat_core.builtins.models import LogisticRegressionModel

    path = write(coded_frame(), tmp_path / "d.csv")
    params = TableParams(path=path.name, target="y", id="id", categorical=["region"])
    dataset = TableLoader(params).load(tmp_path)
    model = LogisticRegressionModel().fit(dataset)
    transformers = {name: list(columns) for name, _, columns
                    in model.estimator.named_steps["prepare"].transformers_}
    assert transformers["categorical"] == ["region"] and transformers["numeric"] == ["x"]
    assert "region" in model.text_columns
    present = dataset.frame["region"].notna()
    predicted = model.predict(dataset.frame)["prediction"]
    assert (predicted[present] == dataset.y[present]).mean() > 0.95

    as_numbers = LogisticRegressionModel().fit(
        TableLoader(TableParams(path=path.name, target="y", id="id")).load(tmp_path))
    assert "region" in dict((n, list(c)) for n, _, c in
                            as_numbers.estimator.named_steps["prepare"].transformers_)["numeric"]


def test_predict_reads_new_files_as_training_did(tmp_path):
    """mlstat predict on a CSV whose codes pandas alone would read as integers (no gap) or
    that holds an unseen code, or codes written 11.0: a seen code gets what training-time
    reading gives, an unseen one is scored (no category of its own), 11.0 is 11."""
    from mlstat_core.predict import load_model, predict_file

    result = mlstat_core.run(pipeline(write(coded_frame(), tmp_path / "d.csv")),
                             out=tmp_path / "runs")
    new = pd.DataFrame({"id": ["n1", "n2", "n3", "n4", "n5"],
                        "region": [11, 12, 21, 22, 99], "x": [0.1, 0.1, -0.3, 0.2, 0.0]})
    new.to_csv(tmp_path / "new.csv", index=False)
    predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "out.csv")
    out = pd.read_csv(tmp_path / "out.csv")
    assert out["prediction"].tolist()[:4] == ["a", "b", "b", "a"]
    assert out["prediction"].notna().all() and len(out) == 5

    # the same records as the run's loader reads them, scored by the saved model
    _, model, _, _ = load_model(result.run_dir)
    as_trained = new.head(4).assign(region=lambda f: f["region"].astype(str))
    expected = model.predict(as_trained)["proba_a"].to_numpy()
    assert np.allclose(out["proba_a"].head(4), expected)

    # codes written with a zero fraction (a CSV exported from a column with gaps)
    decimals = new.head(4).assign(region=lambda f: f["region"].map(lambda v: f"{v}.0"))
    decimals.to_csv(tmp_path / "decimals.csv", index=False)
    predict_file(result.run_dir, tmp_path / "decimals.csv", tmp_path / "out2.csv")
    assert np.allclose(pd.read_csv(tmp_path / "out2.csv")["proba_a"], expected)


def test_the_drift_profile_takes_many_codes_for_categories(tmp_path):
    """60 codes in 120 records would look like free text to the profile's guess: declared,
    they are profiled as categories, and new records of the same codes are no drift."""
    from mlstat_core.predict import predict_file

    rng = np.random.default_rng(3)
    codes = rng.choice(np.arange(1100, 1160), size=120)
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(120)], "occupation": codes,
                          "x": rng.normal(size=120), "y": np.where(codes % 2, "a", "b")})
    frame.to_csv(tmp_path / "d.csv", index=False)
    config = pipeline(tmp_path / "d.csv", categorical=["occupation"])
    result = mlstat_core.run(config, out=tmp_path / "runs")
    profile = json.loads((result.run_dir / "profile.json").read_text())["columns"]
    assert profile["occupation"]["kind"] == "categorical"
    assert set(profile["occupation"]["shares"]) - {"__other__"} <= {str(c) for c in codes}
    assert profile["x"]["kind"] == "numeric"
    # the profile holds the training records (three in four): the whole file is no drift
    summary = predict_file(result.run_dir, tmp_path / "d.csv", tmp_path / "out.csv")
    assert summary.drift["columns"]["occupation"]["psi"] < 0.1  # "little change"
    assert "occupation" not in summary.drift["drifted"]


def test_evaluate_reads_the_labelled_file_with_the_runs_categories(tmp_path):
    """mlstat evaluate --input reads the file with the run's loader, `categorical` included:
    the codes are scored as categories, and the training records are found as such (they
    hash alike however their codes were read)."""
    frame = coded_frame()
    result = mlstat_core.run(pipeline(write(frame, tmp_path / "d.csv")), out=tmp_path / "runs")
    fresh = coded_frame(200, seed=9).assign(id=lambda f: "e" + f["id"])
    write(fresh, tmp_path / "fresh.csv")
    evaluation = mlstat_core.evaluate(result.run_dir, tmp_path / "fresh.csv",
                                      out=tmp_path / "evaluations")
    assert evaluation.metric("accuracy") > 0.95
    again = mlstat_core.evaluate(result.run_dir, tmp_path / "d.csv", out=tmp_path / "evaluations")
    manifest = json.loads((again.run_dir / "manifest.json").read_text())
    assert manifest["evaluates"].get("read_in_training")


def test_records_read_in_training_are_told_by_their_codes_as_written(tmp_path):
    """The hashes of the records a run learnt from take a code column's codes as the models
    do: 011 is not 11 (the same records with other codes are not the training records),
    11.0 is 11 (the training records written with decimals are found)."""
    from mlstat_core.training_records import canonical

    assert not canonical(pd.DataFrame({"region": ["011"]}), ["region"]).equals(
        canonical(pd.DataFrame({"region": ["11"]}), ["region"]))
    assert canonical(pd.DataFrame({"region": ["11.0", None]}), ["region"]).equals(
        canonical(pd.DataFrame({"region": ["11", None]}), ["region"]))

    frame = coded_frame().dropna(subset=["region"])  # every record has a code
    result = mlstat_core.run(pipeline(write(frame, tmp_path / "d.csv")), out=tmp_path / "runs")
    for codes, learnt in (("0{}", False), ("{}.0", True)):
        other = frame.assign(region=frame["region"].map(
            lambda v, c=codes: "" if pd.isna(v) else c.format(int(v))))
        other.to_csv(tmp_path / "other.csv", index=False)
        evaluation = mlstat_core.evaluate(result.run_dir, tmp_path / "other.csv",
                                          out=tmp_path / "evaluations")
        manifest = json.loads((evaluation.run_dir / "manifest.json").read_text())
        assert bool(manifest["evaluates"].get("read_in_training")) is learnt, codes


def test_nullable_missing_values_stay_missing():
    """pd.NA, the missing value of nullable columns (a Parquet file written after
    convert_dtypes: Int64, Float64, boolean), stays missing: no category "<NA>"."""
    from mlstat_core.io import as_text

    for series in (pd.Series([11, None, 21], dtype="Int64"),
                   pd.Series([11.0, None, 21.5], dtype="Float64"),
                   pd.Series([True, None, False], dtype="boolean")):
        text = as_text(series)
        assert text.isna().tolist() == [False, True, False]
        assert "<NA>" not in set(text.dropna())
    assert as_text(pd.Series([11, None], dtype="Int64")).iloc[0] == "11"


def test_an_int64_parquet_file_gives_codes_and_missing(tmp_path):
    """A Parquet file of nullable integers: the loader gives the codes, missing as missing;
    a run trained on a CSV file of the same records predicts it alike, without drift."""
    from mlstat_core.predict import predict_file

    frame = coded_frame()
    frame.convert_dtypes().to_parquet(tmp_path / "d.parquet", index=False)
    assert str(pd.read_parquet(tmp_path / "d.parquet")["region"].dtype) == "Int64"
    dataset = TableLoader(TableParams(path="d.parquet", target="y", id="id",
                                      categorical=["region"])).load(tmp_path)
    region = dataset.frame["region"]
    assert set(region.dropna()) == {"11", "12", "21", "22"}
    assert region.isna().sum() == frame["region"].isna().sum()

    result = mlstat_core.run(pipeline(write(frame, tmp_path / "d.csv")), out=tmp_path / "runs")
    summary = predict_file(result.run_dir, tmp_path / "d.parquet", tmp_path / "out.csv")
    assert summary.drift["columns"]["region"]["psi"] < 0.01
    assert not [w for w in summary.warnings if "region" in w]
    predict_file(result.run_dir, tmp_path / "d.csv", tmp_path / "out_csv.csv")
    assert np.allclose(pd.read_csv(tmp_path / "out.csv")["proba_a"],
                       pd.read_csv(tmp_path / "out_csv.csv")["proba_a"])


@pytest.mark.parametrize("trained, new", [(".0", ""), ("", ".0")])
def test_codes_written_11_0_and_11_are_one_code_to_the_drift_check(tmp_path, trained, new):
    """A run trained on codes written 11.0 (a CSV exported from a column with gaps) scoring a
    file written 11, or the other way round: the same codes to the model and to the drift
    check (no drift warning), and the profile says the column holds codes."""
    from mlstat_core.predict import predict_file

    def written(frame, suffix, path):
        out = frame.assign(region=frame["region"].map(
            lambda v: "" if pd.isna(v) else f"{int(v)}{suffix}"))
        out.to_csv(path, index=False)
        return path

    result = mlstat_core.run(pipeline(written(coded_frame(), trained, tmp_path / "d.csv")),
                             out=tmp_path / "runs")
    fresh = coded_frame(3000, seed=4)
    summary = predict_file(result.run_dir, written(fresh, new, tmp_path / "new.csv"),
                           tmp_path / "out.csv")
    assert summary.drift["columns"]["region"]["psi"] < 0.05
    assert not [w for w in summary.warnings if "region" in w]
    profile = json.loads((result.run_dir / "profile.json").read_text())["columns"]["region"]
    assert profile["codes"] is True
    assert set(profile["shares"]) == {"11", "12", "21", "22", "__other__"}


def validate(tmp_path: Path, **loader) -> list:
    from mlstat_core.config import load_config

    path = write(coded_frame(40), tmp_path / "d.csv")
    with pytest.raises(ConfigError) as caught:
        load_config(pipeline(path, **loader))
    return caught.value.issues


def test_a_name_that_is_no_input_is_refused_with_the_closest_input(tmp_path):
    (issue,) = validate(tmp_path, features=["region", "x"], categorical=["regoin"])
    assert issue.field == "loader.categorical" and issue.suggestion == "region"
    assert "'regoin' of `categorical` is not an input" in issue.message
    (issue,) = validate(tmp_path, categorical=["y"])
    assert "is the target, not an input" in issue.message
    assert 'set target_type = "text"' in issue.message
    (issue,) = validate(tmp_path, categorical=["y"], target_type="text")
    assert "is the target, not an input" in issue.message  # target_type is text already
    assert "set target_type" not in issue.message and "already" in issue.message
    (issue,) = validate(tmp_path, categorical=["regoin"])  # every column an input: the file's
    assert issue.field == "loader.categorical" and issue.suggestion == "region"
    assert "'regoin' is not in the header" in issue.message


def test_a_groups_column_in_categorical_asks_for_every_input_in_features(tmp_path):
    """With `features` empty, listing the groups column alone in `features` would make it
    the model's only input: the message asks for every input, this one included."""
    (issue,) = validate(tmp_path, groups="region")
    assert "list every input column in `features`, this one included" in issue.message
    (issue,) = validate(tmp_path, groups="region", features=["x"])
    assert "list it in `features` too" in issue.message


def test_a_column_both_categorical_and_text_is_refused(tmp_path):
    (issue,) = validate(tmp_path, text=["region"])
    assert "in both `categorical` and `text`" in str(issue)


def test_the_loader_refuses_the_same_when_used_without_validation(tmp_path):
    write(coded_frame(40), tmp_path / "d.csv")
    with pytest.raises(DataError, match=r"'x' of `categorical` is not an input of the model: "
                                        r"`features` lists 'region'; add it to `features`"):
        TableLoader(TableParams(path="d.csv", target="y", features=["region"],
                                categorical=["x"])).load(tmp_path)
    with pytest.raises(DataError, match="in both `categorical` and `text`"):
        TableLoader(TableParams(path="d.csv", target="y", text=["region"],
                                categorical=["region"])).load(tmp_path)
    with pytest.raises(DataError, match=r"lacks declared column\(s\) 'regoin'.*did you mean "
                                        r"'region' for 'regoin' \(`categorical`\)"):
        TableLoader(TableParams(path="d.csv", target="y",
                                categorical=["regoin"])).load(tmp_path)
