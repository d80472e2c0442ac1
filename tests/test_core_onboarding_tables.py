"""A newcomer's own survey tables: dates, mixed Excel columns, classes a split leaves out,
measurements given to a classifier, weights, Latin-1 files and misspelt columns."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlstat_core
from mlstat_core.builtins import models
from mlstat_core.builtins.loaders import TableLoader
from mlstat_core.builtins.params import HoldoutParams, StratifiedParams, TableParams
from mlstat_core.builtins.splitters import HoldoutSplitter, StratifiedSplitter
from mlstat_core.components import ColumnRoles, Dataset
from mlstat_core.config import load_config
from mlstat_core.engine import check_target_values
from mlstat_core.errors import DataError
from mlstat_core.predict import predict_file

ROOT = Path(__file__).resolve().parents[1]


def budget(budget_csv: Path) -> pd.DataFrame:
    return pd.read_csv(budget_csv)


def pipeline(path: Path, out: Path, features: list[str], model: str = "core.random_forest",
             **loader) -> dict:
    return {"pipeline": {"name": "t", "task": "tabular_classification", "seed": 0},
            "loader": {"component": "core.table", "path": str(path), "target": "children",
                       "features": features, **loader},
            "split": {"component": "core.stratified", "test_size": 0.25},
            "model": {"component": model, **({"n_estimators": 20} if "forest" in model
                                             else {})},
            "indicators": ["core.classification_accuracy"],
            "output": {"dir": str(out)}}


@pytest.mark.parametrize("model", ["core.random_forest", "core.gradient_boosting"])
def test_a_date_column_is_read_as_days_since_1970_and_the_model_loads_back(
        tmp_path, budget_csv, model):
    frame = budget(budget_csv)
    frame["interviewed"] = pd.Timestamp("1980-01-01") + pd.to_timedelta(
        np.arange(len(frame)) % 900, unit="D")
    frame.to_parquet(tmp_path / "survey.parquet", index=False)
    result = mlstat_core.run(pipeline(tmp_path / "survey.parquet", tmp_path / "runs",
                                      ["wfood", "totexp", "interviewed"], model))
    fitted = mlstat_core.load_model(result.run_dir)
    as_text = frame.head(40).assign(interviewed=frame["interviewed"].head(40).astype(str))
    assert as_text["interviewed"].iloc[0] == "1980-01-01"  # as a CSV file holds dates
    assert fitted.predict(frame.head(40))["prediction"].tolist() == \
        fitted.predict(as_text)["prediction"].tolist()


def test_dates_become_days_and_a_value_that_is_not_a_date_is_named():
    frame = pd.DataFrame({"d": pd.to_datetime(["1970-01-11", None, "1970-01-01 12:00"],
                                              format="mixed")})
    assert models.dates_as_days(frame, ["d"])["d"].tolist()[::2] == [10.0, 0.5]
    with pytest.raises(DataError, match="column 'd' held dates in training.*'soon'"):
        models.dates_as_days(pd.DataFrame({"d": ["1980-01-02", "soon"]}), ["d"])


def test_an_excel_column_of_numbers_mixed_with_text_is_read_as_categories(
        tmp_path, budget_csv):
    frame = budget(budget_csv)
    frame["rooms"] = [v if v < 5 else "5+" for v in (frame["age"] // 10).tolist()]
    frame.to_excel(tmp_path / "survey.xlsx", index=False)
    result = mlstat_core.run(pipeline(tmp_path / "survey.xlsx", tmp_path / "runs",
                                      ["wfood", "totexp", "rooms"]))
    fitted = mlstat_core.load_model(result.run_dir)
    assert fitted.text_columns == ["rooms"]
    numbers_only = frame[frame["rooms"] != "5+"].head(20).astype({"rooms": int})
    assert len(fitted.predict(numbers_only)) == 20  # a chunk of numbers alone scores too


def rare_class(budget_csv: Path) -> Dataset:
    """The budget data with a target class of two records."""
    frame = budget(budget_csv)
    frame["household"] = np.where(frame["children"] > 0, "children", "none")
    frame.loc[[3, 700], "household"] = "other"
    return Dataset(frame=frame, roles=ColumnRoles(target="household", features=["wfood"]))


@pytest.mark.parametrize("test_size, part", [(0.1, "test"), (0.9, "training")])
def test_a_stratified_split_warns_of_a_class_left_out_of_a_part(budget_csv, test_size, part):
    with pytest.warns(UserWarning, match=rf"1 class\(es\) of target 'household' have no "
                                         rf"record in the {part} set \(other\)"):
        StratifiedSplitter(StratifiedParams(test_size=test_size)).split(
            rare_class(budget_csv), 0)


def test_a_holdout_of_an_integer_target_warns_of_a_class_only_in_test(budget_csv):
    frame = budget(budget_csv)
    frame.loc[[3, 700], "children"] = 9
    data = Dataset(frame=frame, roles=ColumnRoles(target="children", features=["wfood"]))
    with pytest.warns(UserWarning, match=r"no record in the training set \(9\)"):
        split = HoldoutSplitter(HoldoutParams(test_size=0.9)).split(data, 0)[0]
    assert {3, 700} <= set(split.test.tolist())


def test_a_test_size_too_small_for_the_classes_says_which_share_works(budget_csv):
    data = Dataset(frame=budget(budget_csv),
                   roles=ColumnRoles(target="age", features=["wfood"]))
    with pytest.raises(DataError, match=r"test_size gives 15 test record\(s\) for 42 classes: "
                                        r"raise test_size to at least 0\.03, or use "
                                        r"core\.holdout"):
        StratifiedSplitter(StratifiedParams(test_size=0.01)).split(data, 0)


def test_a_measurement_given_to_a_classifier_is_warned_about(tmp_path, budget_csv):
    config = load_config(pipeline(budget_csv, tmp_path / "runs", ["wfood"], "core.majority"))
    frame = budget(budget_csv)
    ages = Dataset(frame=frame, roles=ColumnRoles(target="age", features=["wfood"]))
    with pytest.warns(UserWarning, match=r"target column 'age' holds 42 distinct numbers "
                                         r"\(4 of them on fewer than 5 records\).*use task "
                                         r"'tabular_regression'"):
        check_target_values(ages, config)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a few classes: no warning
        check_target_values(Dataset(frame=frame, roles=ColumnRoles(
            target="children", features=["wfood"])), config)


def test_the_docs_say_what_weights_do():
    description = TableParams.model_fields["weights"].description or ""
    assert "sample_weight" in description and "unweighted" in description
    reference = (ROOT / "docs" / "pipeline-reference.md").read_text(encoding="utf-8")
    concepts = (ROOT / "docs" / "concepts.md").read_text(encoding="utf-8")
    assert "sample_weight" in reference and "**What weights do.**" in concepts


def test_predict_reads_new_files_with_the_encoding_the_run_was_trained_with(
        tmp_path, budget_csv):
    frame = budget(budget_csv)
    frame["tenure"] = np.where(frame["income"] > 150, "propriétaire", "locataire")
    frame.to_csv(tmp_path / "train.csv", index=False, encoding="latin-1")
    frame.head(30).to_csv(tmp_path / "new.csv", index=False, encoding="latin-1")
    result = mlstat_core.run(pipeline(tmp_path / "train.csv", tmp_path / "runs",
                                      ["wfood", "tenure"], encoding="latin-1"))
    summary = predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "out.csv")
    assert summary.records == 30
    with pytest.raises(DataError, match="is not valid utf-8"):
        predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "out.csv",
                     encoding="utf-8")


def test_a_misspelt_column_gets_the_closest_name(budget_csv):
    with pytest.raises(DataError, match=r"lacks declared column\(s\) 'agee'; it has .*; did "
                                        r"you mean 'age' for 'agee' \(`features`\)\? Correct "
                                        r"the name\(s\) in \[loader\]"):
        TableLoader(TableParams(path=str(budget_csv), target="children",
                                features=["wfood", "agee"])).load(budget_csv.parent)
