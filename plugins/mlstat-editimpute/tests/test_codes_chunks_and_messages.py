"""More of them, found by a second review: predictions that never depend on the chunk size (an empty
variable is warned of by the core's drift check, never refused per chunk); decimal-comma
columns carried through; new category codes; identifier-like names; the fixes predict-time
messages offer; Excel dates carried through; honest range reasons; one warning for a tiny
training file."""

from __future__ import annotations

import datetime
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlstat_editimpute.editing import Editor
from mlstat_editimpute.loaders import DATA_DIR, SurveyLoader, looks_like_identifier
from mlstat_editimpute.metadata import numeric_frame
from mlstat_editimpute.models import PmmModel, edited_and_audit
from mlstat_editimpute.params import SurveyParams
from mlstat_editimpute.rules import RuleSet
from survey_samples import RULES, fitted_pmm, scored_by_chunks, small_survey

_fit = fitted_pmm


# --- 1. an empty variable at predict: the same whatever the chunk size -----------------------


def test_predict_imputes_a_variable_empty_in_every_input_record() -> None:
    model = _fit(small_survey())
    out = model.predict(small_survey(45, seed=1).assign(food=np.nan))
    assert (out["food__flag"] == "imputed:pmm").all()


def test_predictions_do_not_depend_on_the_chunk_size_for_an_empty_variable(
        tmp_path: Path) -> None:
    data = pd.read_csv(DATA_DIR / "budget_uk.csv")
    new = data.iloc[300:345].assign(income=np.nan)
    new.loc[new.index[:30], "totexp"] = np.nan  # empty in the first chunks only
    scored = scored_by_chunks(tmp_path, data.iloc[:300], new, (7, 25, 50_000))
    for _out, warned in scored:
        assert any("'income' has no value in any of the new records" in w for w in warned)
    first = scored[0][0]
    assert all(first.equals(out) for out, _ in scored[1:])


# --- 2. a decimal-comma column an edit rule names, carried through ---------------------------


def test_a_decimal_comma_column_a_rule_names_is_written_as_read() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "hhsize": ["1,5", "2,5"]})
    pred = pd.DataFrame({"x": [1.0, 2.0], "hhsize": [1.5, 2.5], "x__flag": ["original"] * 2,
                         "hhsize__flag": ["original"] * 2})
    edited, audit = edited_and_audit(frame, pred, ["x", "hhsize"], decimal=",")
    assert audit.empty
    assert edited["hhsize"].tolist() == ["1,5", "2,5"]


# --- 3. a category code not seen in training ------------------------------------------------

CATEGORICAL = {"region": {"type": "categorical", "min": 0, "max": 9}}


@pytest.mark.parametrize("suspicious", ["review", "impute"])
def test_a_category_code_unseen_in_training_is_suspicious(suspicious: str) -> None:
    model = _fit(small_survey(), CATEGORICAL, suspicious=suspicious, detect=False,
                 correct_units=False)
    new = small_survey(3, seed=2).assign(region=[5.0, 2.0, 3.0])
    out = model.predict(new)
    assert "code 5 of categorical 'region' is new: the training data hold only 1, 2, 3" \
        in out.loc[0, "reasons"]
    assert out.loc[1:, "region__flag"].eq("original").all()
    if suspicious == "review":
        assert out.loc[0, "region__flag"] == "suspicious" and out.loc[0, "needs_review"]
        assert out.loc[0, "region"] == 5
    else:
        assert out.loc[0, "region__flag"] == "imputed:pmm"
        assert out.loc[0, "region"] in (1, 2, 3)


def test_a_model_saved_before_codes_were_kept_checks_none(tmp_path: Path) -> None:
    frame = small_survey()
    model = _fit(frame, CATEGORICAL, suspicious="review", detect=False, correct_units=False)
    assert model.editor is not None
    state = model.editor.json_state()
    assert state["codes"] == {"region": [1.0, 2.0, 3.0]}
    del state["codes"]
    old = Editor(model.variables, model.infos, RuleSet.parse(RULES), {},
                 {v: True for v in model.variables})
    old.restore(state)
    assert not old.unseen_codes(np.array([[1000.0, 700.0, 140.0, 5.0]])).any()
    model.save(tmp_path)
    again = PmmModel.load(tmp_path)
    out = again.predict(small_survey(1, seed=2).assign(region=5.0))
    assert out.loc[0, "region__flag"] == "suspicious"


# --- 4. identifier-like columns ----------------------------------------------------------


@pytest.mark.parametrize("name", ["rent_paid", "tax_paid", "covid", "valid", "idade",
                                  "num_employees", "no_rooms", "nr_rooms"])
def test_a_variable_named_with_id_or_no_inside_is_no_identifier(name: str) -> None:
    assert not looks_like_identifier(name, pd.Series(3 * np.arange(20) + 17))


@pytest.mark.parametrize("name", ["id", "hh_id", "caseid", "HHID", "person_id", "serial",
                                  "record_no", "persid", "ID2"])
def test_an_identifier_name_is_recognised(name: str) -> None:
    assert looks_like_identifier(name, pd.Series(3 * np.arange(20) + 17))


def test_only_a_numbering_from_0_or_1_looks_like_an_identifier() -> None:
    assert not looks_like_identifier("year", pd.Series(np.arange(1981, 2021)))
    assert looks_like_identifier("line", pd.Series(np.arange(1, 41)))
    assert looks_like_identifier("line", pd.Series(np.arange(0, 40)))
    assert not looks_like_identifier("line", pd.Series(np.arange(40, 0, -1)))


def test_with_an_id_set_the_identifier_warning_advises_the_variables(tmp_path: Path) -> None:
    frame = small_survey(40).drop(columns="region")
    frame.insert(0, "caseid", np.arange(1001, 1041))
    frame.insert(0, "hh", [f"{i:03d}" for i in range(40)])
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.warns(UserWarning, match=r"'caseid' .* looks like an identifier .*name the "
                                         r"variables to edit in the loader's `variables` \(the "
                                         r"id is already 'hh'\)$"):
        SurveyLoader(SurveyParams(path="d.csv", id="hh")).load(tmp_path)


def test_years_and_counts_load_without_an_identifier_warning(tmp_path: Path) -> None:
    frame = small_survey(40).drop(columns="region")
    frame["year"] = np.arange(1981, 2021)
    frame["rent_paid"] = 10 * np.arange(40) + 300
    frame.to_csv(tmp_path / "d.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SurveyLoader(SurveyParams(path="d.csv")).load(tmp_path)


# --- 5. the fixes predict-time messages offer -----------------------------------------------


def test_a_category_as_text_at_predict_gets_a_fix_to_the_file() -> None:
    frame = pd.DataFrame({"region": ["North", "2", "3"]})
    infos = {"region": {"type": "categorical"}}
    with pytest.raises(Exception, match=r"write the column in the file with the codes it was "
                                        r"trained with$") as caught:
        numeric_frame(frame, ["region"], what="input", infos=infos, new_records=True)
    assert "metadata" not in str(caught.value) and "e.g." not in str(caught.value)


def test_text_categories_at_predict_get_fixes_predict_has() -> None:
    frame = pd.DataFrame({"region": ["North", "South", "3"]})
    with pytest.raises(Exception, match=r"write 'region' in the file as the numbers the model "
                                        r"was trained with, or retrain the model without "
                                        r"'region'$") as caught:
        numeric_frame(frame, ["region"], what="input", new_records=True)
    assert "declare it categorical" not in str(caught.value)


def test_a_missing_value_code_at_predict_says_predict_applies_na_values() -> None:
    frame = pd.DataFrame({"income": ["100", ".", "300"]})
    with pytest.raises(Exception, match=r"which predict applies too$") as caught:
        numeric_frame(frame, ["income"], what="input", new_records=True)
    assert "reads no" not in str(caught.value)


def test_text_in_a_number_column_is_named_with_its_row_in_the_file() -> None:
    """mlstat predict scores a file in chunks whose records keep their rows as index labels:
    the message named neither (a 2-million-record file had to be searched), where the core's
    models say "first at data row 150,001"."""
    chunk = pd.DataFrame({"age": ["41", "abc", "37"]}, index=pd.RangeIndex(150_000, 150_003))
    with pytest.raises(Exception, match=r"holds text such as 'abc' \(1 value\(s\), first at "
                                        r"data row 150,002\)"):
        numeric_frame(chunk, ["age"], what="input", new_records=True)
    chunk = pd.DataFrame({"region": ["1", "North", "South"]}, index=pd.RangeIndex(7, 10))
    with pytest.raises(Exception, match=r"in 2 of its 3 values \(first at data row 9\)"):
        numeric_frame(chunk, ["region"], what="input", new_records=True)


# --- 6. Excel dates carried through ---------------------------------------------------------


def test_an_excel_date_column_carried_through_is_written_as_a_date(tmp_path: Path) -> None:
    frame = small_survey(40).drop(columns="region")
    frame.insert(0, "interview", [datetime.datetime(2024, 1, 5) + datetime.timedelta(days=i)
                                  for i in range(40)])
    frame.insert(0, "hh", [f"{i:03d}" for i in range(40)])
    frame.to_excel(tmp_path / "d.xlsx", index=False)
    pd.DataFrame({"variable": ["income", "spend", "food"], "min": [0, 0, 0]}).to_csv(
        tmp_path / "m.csv", index=False)
    ds = SurveyLoader(SurveyParams(path="d.xlsx", metadata="m.csv", id="hh")).load(tmp_path)
    pred = ds.frame[["income", "spend", "food"]].assign(
        **{f"{v}__flag": "original" for v in ("income", "spend", "food")})
    edited, _ = edited_and_audit(ds.frame, pred, ["income", "spend", "food"])
    edited.to_csv(tmp_path / "edited.csv", index=False)
    again = pd.read_csv(tmp_path / "edited.csv", dtype=str)
    assert again["interview"].iloc[0] == "2024-01-05"
    assert again["hh"].iloc[0] == "000"


# --- 7. the reason of a value beyond the training data's plausible range ---------------------


def test_the_reason_beyond_the_training_range_says_how_it_was_drawn() -> None:
    model = _fit(small_survey().drop(columns="region"), suspicious="keep", detect=False,
                 correct_units=False)
    out = model.predict(pd.DataFrame({"income": [20000.0], "spend": [14000.0],
                                      "food": [2800.0]}))
    assert "(their 99.9th percentile plus a margin)" in out.loc[0, "reasons"]
    assert "outside the training data's range" not in out.loc[0, "reasons"]


# --- 8. one warning for a tiny training file ------------------------------------------------


def test_a_tiny_training_file_gives_one_warning_naming_every_variable() -> None:
    with pytest.warns(UserWarning) as caught:
        model = _fit(small_survey(15).drop(columns="region"))
    few = [str(w.message) for w in caught if "usable training values" in str(w.message)]
    assert len(few) == 1 and few[0].startswith("'income', 'spend', 'food' have only 15 usable")
    assert len([w for w in model.fit_warnings if "usable training values" in w]) == 1
