"""Found by a third review: a variable only an edit rule names is in the drift profile (so an
empty one is warned of at predict, whatever the chunk size); a value that may not be
imputed is never changed, and a suspicious one (a new code) goes to review; identifier
names in CamelCase or numbered (``case_no``); an Excel date column blank in its first rows;
honest wording of the range's lower end and of the tiny-file warning."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlstat_editimpute.loaders import DATA_DIR, SurveyLoader, named_as_identifier
from mlstat_editimpute.models import PmmModel, edited_and_audit, few_usable_warning
from mlstat_editimpute.params import PmmParams, SurveyParams
from survey_samples import fitted_pmm, scored_by_chunks, small_survey

from mlstat_core.components import ColumnRoles, Dataset

FROZEN = {"region": {"type": "categorical", "imputable": False}}


def _fit(frame: pd.DataFrame, infos: dict | None = None, **params: object) -> PmmModel:
    return fitted_pmm(frame, infos, detect=False, correct_units=False, **params)


# --- 1. a variable only an edit rule names: in the drift profile ----------------------------

def test_an_empty_variable_only_a_model_rule_names_is_warned_of_at_predict(
        tmp_path: Path) -> None:
    data = pd.read_csv(DATA_DIR / "budget_uk.csv")
    data["hhsize"] = np.random.default_rng(0).integers(1, 6, len(data))
    scored = scored_by_chunks(tmp_path, data.iloc[:300], data.iloc[300:345].assign(hhsize=np.nan),
                              (7, 50_000), rules=("hs: hhsize >= 1",))
    for out, warned in scored:
        assert any("'hhsize' has no value in any of the new records" in w for w in warned)
        assert out["needs_review"].all()


def test_only_a_model_that_reads_a_rule_only_variable_requires_it(tmp_path: Path) -> None:
    """The edit-and-impute models read a variable only a rule names (it is profiled and
    required at predict); the detect model ignores rules, and the loader's roles do not name
    it, so scoring a file without it works as before."""
    from mlstat_editimpute.models import DetectModel

    small_survey(40).assign(hhsize=2).to_csv(tmp_path / "d.csv", index=False)
    ds = SurveyLoader(SurveyParams(path="d.csv", variables=["income", "spend", "food"],
                                   rules=["hs: hhsize >= 1", "f: food <= spend"])
                      ).load(tmp_path)
    assert ds.roles.features == ["income", "spend", "food"] and ds.roles.auxiliary == []
    edit = PmmModel(PmmParams(max_iter=20)).fit(ds)
    assert "hhsize" in edit.roles.input_columns() and ds.roles.auxiliary == []
    detect = DetectModel().fit(ds)
    assert "hhsize" not in detect.roles.input_columns()


# --- 2. and 7. a value that may not be imputed: never changed, suspicious ones reviewed ----


@pytest.mark.parametrize("suspicious", ["review", "impute"])
def test_a_new_code_that_may_not_be_imputed_goes_to_review_unchanged(suspicious: str) -> None:
    model = _fit(small_survey(), FROZEN, suspicious=suspicious)
    out = model.predict(small_survey(4, seed=2).assign(region=[5.0, 0.0, -1.0, 2.0]))
    assert out["region"].tolist() == [5.0, 0.0, -1.0, 2.0]
    assert out.loc[:2, "region__flag"].eq("suspicious").all()
    assert out.loc[:2, "needs_review"].all() and not out.loc[:2, "edit_pass"].any()
    assert "'region' = 5 is suspicious (code 5 of categorical 'region' is new" \
        in out.loc[0, "review_reason"]
    assert out.loc[0, "review_reason"].endswith("kept as received for review")
    assert out.loc[3, "region__flag"] == "original"


def test_a_new_code_that_may_not_be_imputed_passes_flagged_with_keep() -> None:
    model = _fit(small_survey(), FROZEN, suspicious="keep")
    out = model.predict(small_survey(1, seed=2).assign(region=5.0))
    assert out.loc[0, "region__flag"] == "suspicious" and out.loc[0, "region"] == 5.0


def test_a_fraction_that_may_not_be_imputed_is_not_rounded() -> None:
    model = _fit(small_survey(), FROZEN)
    out = model.predict(small_survey(1, seed=2).assign(region=2.5))
    assert out.loc[0, "region"] == 2.5 and out.loc[0, "region__flag"] == "original"
    assert out.loc[0, "needs_review"]
    assert "adjusted" not in out.loc[0, "reasons"]
    assert "'region' = 2.5 is not a whole number" in out.loc[0, "review_reason"]


# --- 3. identifier names ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["HouseholdID", "RespondentID", "recordid", "case_no",
                                  "hh_no", "hh_nr", "rowid", "obsid", "pidp", "hidp",
                                  "caseno", "hhnum", "record", "record_id", "RecordNo"])
def test_these_identifier_names_are_recognised(name: str) -> None:
    assert named_as_identifier(name)


@pytest.mark.parametrize("name", ["record_count", "medical_record", "no_rooms", "nr_rooms",
                                  "num_employees", "age", "year", "children", "income",
                                  "AvgIncome", "PaidRent"])
def test_these_names_are_no_identifiers(name: str) -> None:
    assert not named_as_identifier(name)


# --- 4. an Excel date column blank in its first rows ------------------------------------------


def test_an_excel_date_column_blank_at_first_is_written_as_dates(tmp_path: Path) -> None:
    n = 240
    frame = small_survey(n).drop(columns="region")
    late = [None] * 215 + [datetime.datetime(2024, 1, 10)] * (n - 215)
    frame.insert(0, "late", late)
    frame.insert(0, "hh", [f"{i:04d}" for i in range(n)])
    frame.to_excel(tmp_path / "d.xlsx", index=False)
    pd.DataFrame({"variable": ["income", "spend", "food"], "min": [0, 0, 0]}).to_csv(
        tmp_path / "m.csv", index=False)
    ds = SurveyLoader(SurveyParams(path="d.xlsx", metadata="m.csv", id="hh")).load(tmp_path)
    variables = ["income", "spend", "food"]
    pred = ds.frame[variables].assign(**{f"{v}__flag": "original" for v in variables})
    edited, _ = edited_and_audit(ds.frame, pred, variables)
    edited.to_csv(tmp_path / "edited.csv", index=False)
    again = pd.read_csv(tmp_path / "edited.csv", dtype=str)
    assert again["late"].iloc[215] == "2024-01-10"
    assert again["hh"].iloc[0] == "0000"


# --- 5. and 6. the wording of the range's lower end and of the tiny-file warning -------------


def test_the_lower_end_at_0_does_not_claim_no_negative_training_value() -> None:
    rng = np.random.default_rng(0)
    n = 1500
    income = np.round(np.exp(rng.normal(7, 0.4, n)), -1)
    saving = np.abs(np.round(rng.normal(50, 20, n)))
    saving[0] = -40
    frame = pd.DataFrame({"income": income, "saving": saving})
    ds = Dataset(frame, ColumnRoles(features=list(frame.columns)), metadata={})
    model = PmmModel(PmmParams(rules=["saving <= income"], max_iter=20, suspicious="keep",
                               detect=False, correct_units=False)).fit(ds)
    out = model.predict(pd.DataFrame({"income": [1000.0], "saving": [-40.0]}))
    assert "(0, their 0.1st percentile not being negative)" in out.loc[0, "reasons"]
    assert "none of their values" not in out.loc[0, "reasons"]


def test_the_tiny_file_warning_says_the_counts_are_in_brackets() -> None:
    message = few_usable_warning({"income": 3, "food": 5}, 15)
    assert message.startswith("'income' (3), 'food' (5) have only N usable training values "
                              "each (N in brackets, of 15 records; in the other records")
    assert "that many" not in message
