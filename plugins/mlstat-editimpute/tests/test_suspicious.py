"""What happens to a value that passes every hard edit but that detection finds suspicious
(``suspicious = "impute" | "review" | "keep"``), and that hard-edit failures are imputed
whatever the setting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlstat_editimpute.models import PmmModel, edited_and_audit
from mlstat_editimpute.params import PmmParams

from mlstat_core.components import ColumnRoles, Dataset
from mlstat_core.errors import ConfigError

RULES = ["spend_vs_income: spend <= 4 * income", "food_in_spend: food <= spend",
         "income_positive: income >= 10"]
RICH, BROKEN, MISSING = 0, 1, 2
"""Records: a true rich household (income 20 times what its spending predicts, passing
every edit); food above total spending (fails food_in_spend); income missing."""


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    income = np.round(np.exp(rng.normal(7, 0.4, 400)), -1)
    spend = np.round(income * rng.uniform(0.6, 0.8, 400), -1)
    food = np.round(spend * rng.uniform(0.15, 0.25, 400), 0)
    out = pd.DataFrame({"income": income, "spend": spend, "food": food})
    out.loc[RICH, ["income", "spend", "food"]] = [20000.0, 700.0, 140.0]
    out.loc[BROKEN, ["income", "spend", "food"]] = [1000.0, 700.0, 5000.0]
    out.loc[MISSING, "income"] = np.nan
    return out


def _run(frame: pd.DataFrame, suspicious: str) -> tuple[PmmModel, pd.DataFrame]:
    ds = Dataset(frame, ColumnRoles(features=list(frame.columns)))
    model = PmmModel(PmmParams(rules=RULES, suspicious=suspicious, max_iter=30)).fit(ds)
    return model, model.predict(frame)


def _audit(model: PmmModel, frame: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    return edited_and_audit(frame, out.assign(record_id=frame.index), model.variables)[1]


@pytest.mark.parametrize("suspicious", ["impute", "review", "keep"])
def test_hard_edit_failures_and_missing_values_are_imputed_in_every_setting(
        frame: pd.DataFrame, suspicious: str) -> None:
    model, out = _run(frame, suspicious)
    assert out.loc[BROKEN, "food__flag"] == "imputed:pmm"
    assert out.loc[BROKEN, "food"] <= out.loc[BROKEN, "spend"]
    assert out.loc[MISSING, "income__flag"] == "imputed:pmm"
    assert out.loc[[BROKEN, MISSING], "edit_pass"].all()
    assert not out.loc[[BROKEN, MISSING], "needs_review"].any()
    assert (out["needs_review"] == ~out["edit_pass"]).all()


def test_impute_replaces_the_true_outlier(frame: pd.DataFrame) -> None:
    model, out = _run(frame, "impute")
    assert out.loc[RICH, "income__flag"] == "imputed:pmm"
    assert out.loc[RICH, "income"] < 5000
    assert out.loc[RICH, "edit_pass"] and not out.loc[RICH, "needs_review"]
    assert json.loads(out.loc[RICH, "reasons"])["income"].startswith("suspicious value")
    row = _audit(model, frame, out).query(f"record == {RICH} and field == 'income'")
    assert row["old_value"].tolist() == [20000] and row["flag"].tolist() == ["imputed:pmm"]


def test_review_keeps_the_value_and_sends_the_record_to_a_clerk(frame: pd.DataFrame) -> None:
    model, out = _run(frame, "review")
    assert out.loc[RICH, "income"] == 20000
    assert out.loc[RICH, ["spend", "food"]].tolist() == [700, 140]
    assert out.loc[RICH, "income__flag"] == "suspicious"
    assert not out.loc[RICH, "edit_pass"] and out.loc[RICH, "needs_review"]
    reason = out.loc[RICH, "review_reason"]
    assert reason.startswith("'income' = 20000 is suspicious (robust z = ")
    assert reason.endswith("): kept as received for review")
    assert out.loc[RICH, "failed_rules"] == ""  # it passes every hard edit
    row = _audit(model, frame, out).query(f"record == {RICH}")
    assert row[["field", "old_value", "new_value", "flag"]].values.tolist() == [
        ["income", 20000, 20000, "suspicious"]]
    assert row["reason"].iloc[0].endswith("kept as received for review")


def test_keep_keeps_the_value_flagged_and_the_record_passes(frame: pd.DataFrame) -> None:
    model, out = _run(frame, "keep")
    assert out.loc[RICH, "income"] == 20000
    assert out.loc[RICH, "income__flag"] == "suspicious"
    assert out.loc[RICH, "edit_pass"] and not out.loc[RICH, "needs_review"]
    assert out.loc[RICH, "review_reason"] == ""
    assert json.loads(out.loc[RICH, "reasons"])["income"].endswith("kept as received")
    row = _audit(model, frame, out).query(f"record == {RICH}")
    assert row[["field", "old_value", "new_value", "flag"]].values.tolist() == [
        ["income", 20000, 20000, "suspicious"]]


def test_review_is_the_default_and_survives_saving(frame: pd.DataFrame,
                                                   tmp_path: Path) -> None:
    assert PmmParams().suspicious == "review"
    model, out = _run(frame, "keep")
    model.save(tmp_path / "m")
    again = PmmModel.load(tmp_path / "m")
    assert again.params.suspicious == "keep"
    pd.testing.assert_frame_equal(out, again.predict(frame))


def test_a_model_saved_before_the_setting_still_imputes(frame: pd.DataFrame,
                                                        tmp_path: Path) -> None:
    """A model folder written before `suspicious` existed keeps its behaviour in
    `mlstat predict`: suspicious values imputed."""
    model, _ = _run(frame, "impute")
    model.save(tmp_path / "m")
    state_file = tmp_path / "m" / "state.json"
    state = json.loads(state_file.read_text())
    del state["params"]["suspicious"]
    state_file.write_text(json.dumps(state))
    again = PmmModel.load(tmp_path / "m")
    assert again.params.suspicious == "impute"
    assert again.predict(frame).loc[RICH, "income__flag"] == "imputed:pmm"


def test_a_wrong_setting_is_refused_by_validate() -> None:
    from mlstat_core.config import load_config

    pipeline = {"pipeline": {"name": "s", "task": "tabular_imputation"},
                "loader": {"component": "editimpute.budget_uk"},
                "model": {"component": "editimpute.pmm", "suspicious": "flag"}}
    with pytest.raises(ConfigError) as caught:
        load_config(pipeline)
    (issue,) = caught.value.issues
    assert issue.field == "model.suspicious"
    assert "'impute', 'review' or 'keep'" in str(issue)


@pytest.mark.parametrize("suspicious", ["impute", "review"])
def test_detection_figures_count_a_kept_value_as_flagged_not_changed(
        frame: pd.DataFrame, suspicious: str) -> None:
    """An error (income x4: no unit error to undo) that passes every hard edit: imputed, it
    is a change that finds an error; kept for review, it is flagged, not changed, and the
    true rich household kept is no false correction."""
    from mlstat_editimpute.indicators import ErrorDetection

    from mlstat_core.components import AssessContext
    from mlstat_core.tasks import TABULAR_IMPUTATION

    damaged = frame.copy()
    damaged.loc[3, "income"] = frame.loc[3, "income"] * 4
    mask = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    mask.loc[3, "income"] = True
    kinds = pd.DataFrame("", index=frame.index, columns=frame.columns)
    kinds.loc[3, "income"] = "scale"
    test = Dataset(damaged, ColumnRoles(features=list(frame.columns)),
                   metadata={"injected_mask": mask, "injected_kind": kinds})
    model, out = _run(damaged, suspicious)
    (recall, _) = ErrorDetection().compute(AssessContext(
        task=TABULAR_IMPUTATION, model=model, train=test, test=test, predictions=out))
    held = suspicious == "review"
    assert out.loc[3, "income__flag"] == ("suspicious" if held else "imputed:pmm")
    assert recall.value == (0.0 if held else 1.0)
    assert recall.details["recall_changed_or_flagged"] == 1.0
    flags = out[[v + "__flag" for v in frame.columns]]
    kept = int((flags == "suspicious").to_numpy().sum())
    assert recall.details["flagged_suspicious_cells"] == kept
    assert (kept >= 2) if held else (kept == 0)  # record 3 and RICH
    # changes of observed values: in review only BROKEN's food, which failed a hard edit
    changed = int((~flags.isin(["original", "suspicious"])).to_numpy().sum()) - 1  # MISSING
    assert recall.details["changed_cells"] == changed
    assert (changed == 1) if held else (changed >= 3)  # impute: also RICH and record 3
