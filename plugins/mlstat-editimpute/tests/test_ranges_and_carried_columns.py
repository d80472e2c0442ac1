"""Users' files that a review found mishandled: a value beyond the range the training data
make plausible is suspicious, not invalid; carried-through columns keep their text; metadata
weights of 0; tiny training files; identifier-like columns; the fixes predict-time messages
offer; the tie-break of localisation; rounding in records held for review."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlstat_editimpute.editing import Editor, localisation_cost
from mlstat_editimpute.loaders import BudgetUkLoader, SurveyLoader, looks_like_identifier
from mlstat_editimpute.metadata import numeric_frame, read_metadata
from mlstat_editimpute.models import PmmModel, edited_and_audit
from mlstat_editimpute.params import BudgetParams, PmmParams, SurveyParams
from mlstat_editimpute.rules import RuleSet

from mlstat_core.components import ColumnRoles, Dataset
from mlstat_core.errors import DataError

RULES = ["spend_vs_income: spend <= 4 * income", "food_in_spend: food <= spend"]
WIDE = 0
"""A record far beyond the training data's range (income 20000, spend 14000) that passes
every edit and is as the others are (spend 0.7 of income, food 0.2 of spend)."""


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = np.round(np.exp(rng.normal(7, 0.4, n)), -1)
    spend = np.round(income * rng.uniform(0.6, 0.8, n), -1)
    food = np.round(spend * rng.uniform(0.15, 0.25, n), 0)
    return pd.DataFrame({"income": income, "spend": spend, "food": food})


def _fit(frame: pd.DataFrame, infos: dict | None = None, **params: object) -> PmmModel:
    meta = {"variables": infos} if infos else {}
    ds = Dataset(frame, ColumnRoles(features=list(frame.columns)), metadata=meta)
    return PmmModel(PmmParams(rules=RULES, max_iter=20, **params)).fit(ds)


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return _frame()


def _wide() -> pd.DataFrame:
    return pd.DataFrame({"income": [20000.0], "spend": [14000.0], "food": [2800.0]})


@pytest.mark.parametrize("suspicious", ["keep", "review"])
def test_a_value_beyond_the_training_range_is_kept_as_suspicious(train: pd.DataFrame,
                                                                  suspicious: str) -> None:
    model = _fit(train, suspicious=suspicious, detect=False, correct_units=False)
    out = model.predict(_wide())
    assert out.loc[WIDE, ["income", "spend", "food"]].tolist() == [20000.0, 14000.0, 2800.0]
    assert out.loc[WIDE, "spend__flag"] == "suspicious"
    assert "the training data make plausible" in out.loc[WIDE, "reasons"]
    assert out.loc[WIDE, "needs_review"] == (suspicious == "review")
    if suspicious == "review":
        assert "14000 is suspicious" in out.loc[WIDE, "review_reason"]


def test_a_value_beyond_the_training_range_imputed_only_when_asked(train: pd.DataFrame) -> None:
    out = _fit(train, suspicious="impute", detect=False, correct_units=False).predict(_wide())
    assert out.loc[WIDE, "spend__flag"] == "imputed:pmm"
    assert ("suspicious value (beyond the range the training data make plausible"
            in out.loc[WIDE, "reasons"])


def test_a_metadata_range_still_makes_a_value_invalid(train: pd.DataFrame) -> None:
    infos = {"spend": {"type": "numeric", "min": 0.0, "max": 10000.0}}
    model = _fit(train, infos, suspicious="keep", detect=False, correct_units=False)
    out = model.predict(_wide())
    assert out.loc[WIDE, "spend__flag"] == "imputed:pmm"
    assert "outside the allowed range [0, 10000]" in out.loc[WIDE, "reasons"]
    assert out.loc[WIDE, "income"] == 20000.0  # no max in the metadata: kept


def test_a_kept_wide_value_in_a_failing_record_is_not_forced_to_change(
        train: pd.DataFrame) -> None:
    wide = _wide().assign(food=20000.0)  # food above spend: the record fails food_in_spend
    out = _fit(train, suspicious="keep", detect=False, correct_units=False).predict(wide)
    assert out.loc[WIDE, "income"] == 20000.0
    assert out.loc[WIDE, "spend"] == 14000.0
    assert out.loc[WIDE, "food__flag"] == "imputed:pmm"
    assert out.loc[WIDE, "edit_pass"]


# --- carried-through columns keep their text ------------------------------------------------


def _carry_files(tmp_path: Path) -> None:
    frame = _frame(60).astype(int)
    frame.insert(0, "area", [f"{i % 9 + 1:02d}" for i in range(len(frame))])
    frame.insert(0, "regon", [f"{7 * i:09d}" for i in range(len(frame))])
    frame.insert(0, "hh", [f"{i:05d}" for i in range(len(frame))])
    frame.to_csv(tmp_path / "d.csv", index=False)
    pd.DataFrame({"variable": ["income", "spend", "food"], "min": [0, 0, 0]}).to_csv(
        tmp_path / "m.csv", index=False)


@pytest.mark.parametrize("id_column", ["hh", None])
def test_columns_carried_through_keep_their_leading_zeros(tmp_path: Path,
                                                          id_column: str | None) -> None:
    _carry_files(tmp_path)
    ds = SurveyLoader(SurveyParams(path="d.csv", metadata="m.csv", id=id_column)).load(tmp_path)
    written = pd.read_csv(tmp_path / "d.csv", dtype=str)
    assert ds.roles.features == ["income", "spend", "food"]
    for column in ("hh", "regon", "area"):
        assert ds.frame[column].tolist() == written[column].tolist()
    model = _fit(ds.frame[["income", "spend", "food"]])
    out = model.predict(ds.frame).assign(record_id=ds.frame.index)
    edited, _ = edited_and_audit(ds.frame, out, model.variables, model.whole_variables())
    edited.to_csv(tmp_path / "edited.csv", index=False)
    again = pd.read_csv(tmp_path / "edited.csv", dtype=str)
    assert again["regon"].iloc[1] == "000000007"
    assert again[["hh", "regon", "area"]].equals(written[["hh", "regon", "area"]])
    assert again["income"].tolist() == written["income"].tolist()  # variables as numbers


def test_a_column_a_rule_names_is_still_read_as_a_number(tmp_path: Path) -> None:
    _carry_files(tmp_path)
    ds = SurveyLoader(SurveyParams(path="d.csv", metadata="m.csv", id="hh",
                                   rules=["area_code: area >= 1"])).load(tmp_path)
    assert pd.api.types.is_numeric_dtype(ds.frame["area"])
    assert ds.frame["regon"].iloc[1] == "000000007"



def test_a_text_column_an_edit_rule_uses_is_written_as_read() -> None:
    """A carried column read as text that a model's rule names ('area >= 1') is checked as
    numbers, never changed, and written back as read ('01', not '1.0')."""
    frame = pd.DataFrame({"x": [1.0, 2.0], "area": ["01", "02"]})
    pred = pd.DataFrame({"x": [1.0, 2.5], "area": [1.0, 2.0], "x__flag": ["original", "edited"],
                         "area__flag": ["original"] * 2})
    edited, _ = edited_and_audit(frame, pred, ["x", "area"])
    assert edited["area"].tolist() == ["01", "02"]
    assert edited["x"].tolist() == [1.0, 2.5]

# --- metadata weights, the fixes predict offers -------------------------------------------


@pytest.mark.parametrize("weight", ["0", "-1", "0.0"])
def test_a_metadata_weight_not_above_zero_is_refused(tmp_path: Path, weight: str) -> None:
    (tmp_path / "m.csv").write_text(f"variable,weight\nincome,{weight}\nspend,\n")
    with pytest.raises(DataError, match=r"\(income\): weight -?[01] is not positive; give a "
                                        r"weight above 0"):
        read_metadata(tmp_path / "m.csv")


def test_a_blank_metadata_weight_is_one(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("variable,weight\nincome,2.5\nspend,\n")
    infos = read_metadata(tmp_path / "m.csv")
    assert (infos["income"].weight, infos["spend"].weight) == (2.5, 1.0)


def test_a_missing_value_code_at_predict_gets_a_fix_predict_has() -> None:
    frame = pd.DataFrame({"income": ["100", ".", "300"]})
    with pytest.raises(DataError, match=r"blank these values in the file before scoring it.*"
                                        r"retrain the model with it in the loader's "
                                        r"`na_values` \(na_values = \[\"\.\"\]\)"):
        numeric_frame(frame, ["income"], what="input", new_records=True)
    with pytest.raises(DataError, match=r"list it in the loader's `na_values`"):
        numeric_frame(frame, ["income"], what="training data")


def test_a_decimal_point_at_predict_offers_the_decimal_option() -> None:
    frame = pd.DataFrame({"income": ["1.300", "2,5", "300"]})
    with pytest.raises(DataError, match=r"score it with `mlstat predict --decimal \.`"):
        numeric_frame(frame, ["income"], what="input", decimal=",", new_records=True)
    with pytest.raises(DataError, match=r"only decimal mark$"):
        numeric_frame(frame, ["income"], what="training data", decimal=",")


# --- tiny training files, identifier-like columns ---------------------------------------------


def test_a_one_record_training_file_is_refused(train: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"the training data has 1 record, too few .*train on "
                                        r"more records"):
        _fit(train.iloc[:1])


def test_a_tiny_training_file_is_warned_of(train: pd.DataFrame) -> None:
    with pytest.warns(UserWarning, match=r"'income', 'spend', 'food' have only 12 usable "
                                         r"training values \(of 12 records.*train on more "
                                         r"records \(at least 30"):
        model = _fit(train.iloc[:12])
    assert any("only 12 usable" in w for w in model.fit_warnings)
    quiet = _fit(train)
    assert not any("usable" in w for w in quiet.fit_warnings)


def test_an_identifier_edited_as_a_variable_is_warned_of(tmp_path: Path) -> None:
    frame = _frame(40)
    frame.insert(0, "hh_id", np.arange(1, 41))
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.warns(UserWarning, match=r"column 'hh_id' of d.csv looks like an identifier "
                                         r".*set the loader's `id = \"hh_id\"`"):
        ds = SurveyLoader(SurveyParams(path="d.csv")).load(tmp_path)
    assert "hh_id" in ds.roles.features
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # set as the id: no warning; nor for income
        SurveyLoader(SurveyParams(path="d.csv", id="hh_id")).load(tmp_path)


# --- localisation's tie-break, rounding in records held for review -----------------------------


def _editor(rules: list[str], frame: pd.DataFrame) -> Editor:
    names = list(frame.columns)
    return Editor(names, {}, RuleSet.parse(rules), {}, {v: True for v in names}).fit(frame)


def test_localisation_changes_the_most_suspicious_of_fields_above_the_threshold() -> None:
    """A household spending 5000 a week (z 31.1) on an income of 10 (z 6.4), both above the
    threshold 6, fails spend_vs_income: the spending is changed, not the income."""
    ds = BudgetUkLoader(BudgetParams()).load(Path("."))
    infos = ds.metadata["variables"]
    names = list(infos)
    rules = ["balance: wfood + wfuel + wcloth + walc + wtrans + wother == 1 +- 0.01",
             "spend_positive: totexp >= 10", "income_positive: income >= 10",
             "spend_vs_income: totexp <= 4 * income"]
    ed = Editor(names, infos, RuleSet.parse(rules), {},
                {v: infos[v]["imputable"] for v in names}).fit(ds.frame[names])
    values = {"wfood": 0.4438, "wfuel": 0.1258, "wcloth": 0.0539, "walc": 0.0397,
              "wtrans": 0.0652, "wother": 0.2716, "totexp": 5000.0, "income": 10.0, "age": 33.0,
              "children": 2.0}
    row = np.array([[values[v] for v in names]])
    z = np.zeros(row.shape)
    z[0, names.index("totexp")], z[0, names.index("income")] = 31.1, 6.4
    ok, evaluable = ed.evaluate(row)
    blank = np.zeros(row.shape, dtype=bool)
    ed._localise(row, blank, evaluable & ~ok, z, 6.0, np.full(row.shape, "", dtype=object),
                 np.full(1, "", dtype=object))
    assert [v for v, b in zip(names, blank[0], strict=True) if b] == ["totexp"]


def test_localisation_costs_below_the_threshold_are_as_before() -> None:
    z = np.array([0.0, 3.0, 6.0, 6.4, 31.1, 100.0])
    cost = localisation_cost(z, np.ones(6), 6.0)
    assert np.allclose(cost[:3], [1.1, 1.05, 1.0])
    assert np.all(np.diff(cost) < 0) and cost.min() > 0.95


def test_imputed_values_of_a_record_held_for_review_are_rounded() -> None:
    """A record missing a value that may not be imputed ('kids', which a rule uses) fails
    whatever is imputed; its imputed shares are still rounded where no rule it passes breaks."""
    rng = np.random.default_rng(0)
    a = np.round(rng.uniform(10, 90, 200))
    frame = pd.DataFrame({"a": a, "b": 100 - a, "kids": rng.integers(0, 3, 200).astype(float)})
    ed = _editor(["balance: a + b == 100", "kids_range: 0 <= kids <= 10"], frame)
    values = np.array([[30.4, 69.6, np.nan], [30.4, 69.6, 1.0]])
    ed.round_treated(values, np.array([[True, True, False]] * 2))
    assert values[:, :2].tolist() == [[30.0, 70.0], [30.0, 70.0]]


def test_a_column_numbering_the_records_is_taken_for_an_identifier() -> None:
    assert looks_like_identifier("record", pd.Series(np.arange(5, 25)))
    assert not looks_like_identifier("income", pd.Series(900 + 37 * np.arange(20)))
    assert not looks_like_identifier("hh_id", pd.Series(np.arange(5)))  # too few to tell
