"""Behaviour users rely on: safe rules, localisation, every record passing, flags and audit,
persistence, clear data errors, and the example pipeline running through the engine."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlstat_editimpute.loaders import DATA_DIR, BudgetUkLoader
from mlstat_editimpute.models import DonorModel, GbmModel, PmmModel, RatioModel, RegressionModel
from mlstat_editimpute.params import BUDGET_RULES, BudgetParams, PmmParams
from mlstat_editimpute.rules import RuleError, RuleSet, parse_rule
from mlstat_editimpute.solver import LinearSystem, check_consistency

from mlstat_core.components import Dataset
from mlstat_core.errors import ConfigError, DataError

ROOT = Path(__file__).resolve().parents[3]
FAST = {"max_iter": 20, "iterations": 1}
INJECT = [
    {"kind": "mcar", "variables": ["income", "totexp", "wfood", "wfuel"], "rate": 0.15},
    {"kind": "unit", "variables": ["income"], "rate": 0.03},
    {"kind": "sign", "variables": ["wtrans"], "rate": 0.02},
]


def _passes_unless_held(out: pd.DataFrame) -> pd.Series:
    """edit_pass, or held for a clerk with a suspicious value kept as received (the default
    ``suspicious = "review"``): every other record passes."""
    return out["edit_pass"] | out["review_reason"].str.contains("kept as received for review")


@pytest.fixture(scope="module")
def data() -> Dataset:
    ds = BudgetUkLoader(BudgetParams(inject=INJECT, rules=BUDGET_RULES)).load(Path("."))
    keep = np.arange(300)
    small = ds.subset(keep)
    meta = dict(ds.metadata)
    for key in ("truth", "injected_mask", "injected_kind"):
        meta[key] = meta[key].iloc[keep]
    return Dataset(small.frame.reset_index(drop=True), small.roles, small.name, small.sources,
                   meta)


@pytest.fixture(scope="module")
def fitted(data: Dataset) -> tuple[PmmModel, pd.DataFrame]:
    before = data.frame.copy()
    model = PmmModel(PmmParams(**FAST))
    model.fit(data)
    out = model.predict(data.frame)
    pd.testing.assert_frame_equal(before, data.frame)  # input never modified
    return model, out


# --- rules ---------------------------------------------------------------------------------


def test_rules_parse_readable_forms() -> None:
    rules = RuleSet.parse([
        "balance: a + b == 1 +- 0.01", "0 <= age <= 120", "if kids > 0 then age >= 16",
        "x <= 4 * y"])
    assert [r.name for r in rules] == ["balance", "rule2", "rule3", "rule4"]
    assert rules.rules[0].is_balance and rules.rules[0].tol == 0.01
    env = {"a": np.array([0.5, 0.5]), "b": np.array([0.505, 0.6]),
           "age": np.array([10.0, 30.0]), "kids": np.array([1.0, 0.0]),
           "x": np.array([1.0, 9.0]), "y": np.array([1.0, 2.0])}
    ok, evaluable = rules.evaluate(env, 2)
    assert ok.tolist() == [[True, True, False, True], [False, True, True, False]]
    assert evaluable.all()


@pytest.mark.parametrize("text", ["__import__('os').system('ls')", "open('x') == 1",
                                  "a.b == 1", "[a][0] == 1", "a == 'text'", "lambda: 1",
                                  "a ** 2 == 1", "a.__class__ == 1"])
def test_unsafe_rules_refused(text: str) -> None:
    with pytest.raises(RuleError):
        parse_rule(text)


@pytest.mark.parametrize("text", ["food_min: " + "-" * 999 + "wfood > 0",
                                  "not " * 400 + "wfood > 0",
                                  "if " + "not " * 300 + "x > 0 then y > 0",
                                  "x <= " + " + ".join(["1"] * 300)])
def test_deeply_nested_rule_is_one_rule_error(text: str) -> None:
    with pytest.raises(RuleError, match=r"is nested too deeply: more than 200 levels") as err:
        parse_rule(text)
    assert len(str(err.value)) < 400  # the rule is cut short, not repeated whole


@pytest.mark.parametrize(("text", "shown"), [
    ("food_min: wfood <= " + "9" * 400, "contains the number 999999999999... (400 characters)"),
    ("x <= 1e400", "contains the number 1e400, which is too large"),
    ("x <= 1e200 * 1e200", "works out to a number too large"),
    ("x == 1 +- 1e400", "has the tolerance 1e400, which is too large"),
])
def test_number_too_large_is_one_rule_error(text: str, shown: str) -> None:
    with pytest.raises(RuleError, match="too large") as err:
        parse_rule(text)
    assert shown in str(err.value)


def test_long_sum_within_the_nesting_limit_parses() -> None:
    rule = parse_rule(" + ".join(f"x{i}" for i in range(190)) + " == 1")
    assert rule.linear and len(rule.variables) == 190


def test_deep_rule_in_a_pipeline_is_reported_at_its_place() -> None:
    from mlstat_core.config import load_config

    rules = ["first: income >= 10", "food_min: " + "-" * 400 + "wfood > 0"]
    pipeline = {"pipeline": {"name": "r", "task": "tabular_imputation"},
                "loader": {"component": "editimpute.budget_uk"},
                "model": {"component": "editimpute.pmm", "rules": rules}}
    with pytest.raises(ConfigError) as caught:
        load_config(pipeline)
    (issue,) = caught.value.issues
    assert issue.field == "model.rules.1" and "nested too deeply" in str(issue)


def test_every_bad_rule_of_a_pipeline_is_reported_at_once() -> None:
    """mlstat validate lists every problem: five bad rules are five issues, each at its
    place, the good rule between them none."""
    from mlstat_core.config import load_config

    rules = ["age = 30", "totexp => 10", "income >= 0", "income =< 5000",
             "if children > 0 age >= 18", "wfood.real > 0"]
    pipeline = {"pipeline": {"name": "r", "task": "tabular_imputation"},
                "loader": {"component": "editimpute.budget_uk"},
                "model": {"component": "editimpute.pmm", "rules": rules}}
    with pytest.raises(ConfigError) as caught:
        load_config(pipeline)
    fields = [issue.field for issue in caught.value.issues]
    assert fields == [f"model.rules.{i}" for i in (0, 1, 3, 4, 5)]
    assert "write '==' for equality" in str(caught.value.issues[0])


def test_unknown_variable_names_rule_and_variable(data: Dataset) -> None:
    model = PmmModel(PmmParams(rules=["spend: totexpp <= 4 * income"], **FAST))
    with pytest.raises(ConfigError, match="spend.*totexpp.*did you mean 'totexp'"):
        model.fit(data)


def test_contradictory_rules_reported_with_rules_in_conflict() -> None:
    rules = RuleSet.parse(["low: x <= 5", "high: x >= 10", "ok: y >= 0",
                           "cond: if y > 1 then x >= 3"])
    system = LinearSystem(rules.rules, ["x", "y"], np.array([0.0, 0.0]),
                          np.array([100.0, 100.0]), np.array([False, False]))
    with pytest.raises(RuleError, match="low.*high") as err:
        check_consistency(system)
    assert "ok" not in str(err.value).split("all of")[1]


def test_contradiction_through_a_conditional() -> None:
    rules = RuleSet.parse(["kids: kids >= 1", "young: age <= 15",
                           "adult: if kids > 0 then age >= 16"])
    system = LinearSystem(rules.rules, ["kids", "age"], np.array([0.0, 0.0]),
                          np.array([20.0, 120.0]), np.array([True, True]))
    assert sorted(system.conflicts()) == [0, 1, 2]


# --- localisation ---------------------------------------------------------------------------


def _system(texts: list[str], names: list[str], hi: float = 1000.0) -> LinearSystem:
    rules = RuleSet.parse(texts)
    n = len(names)
    return LinearSystem(rules.rules, names, np.zeros(n), np.full(n, hi), np.zeros(n, bool))


def test_localisation_finds_the_single_wrong_field() -> None:
    sys = _system(["t: a + b + c == total", "a <= 100", "b <= 100", "c <= 100"],
                  ["a", "b", "c", "total"])
    values = np.array([10.0, 20.0, 300.0, 60.0])  # c is wrong (should be 30)
    found = sys.localise(values, np.zeros(4, bool), np.zeros(4, bool), np.ones(4))
    assert found.tolist() == [False, False, True, False]


def test_localisation_respects_weights_and_frozen_fields() -> None:
    sys = _system(["t: a + b == total"], ["a", "b", "total"])
    values = np.array([10.0, 20.0, 50.0])
    cost = np.array([1.0, 1.0, 0.5])  # total is the least reliable: change it
    found = sys.localise(values, np.zeros(3, bool), np.zeros(3, bool), cost)
    assert found.tolist() == [False, False, True]
    frozen = np.array([False, False, True])
    found = sys.localise(values, np.zeros(3, bool), frozen, np.ones(3))
    assert found.sum() == 1 and not found[2]


def test_localisation_with_conditional_rule() -> None:
    rules = RuleSet.parse(["if kids > 0 then age >= 16"])
    sys = LinearSystem(rules.rules, ["kids", "age"], np.zeros(2), np.array([20.0, 120.0]),
                       np.array([True, True]))
    found = sys.localise(np.array([2.0, 8.0]), np.zeros(2, bool), np.zeros(2, bool),
                         np.array([1.0, 2.0]))
    assert found.tolist() == [True, False]  # changing kids is cheaper than age
    found = sys.localise(np.array([2.0, 8.0]), np.zeros(2, bool), np.zeros(2, bool),
                         np.array([2.0, 1.0]))
    assert found.tolist() == [False, True]


# --- the edit-and-impute process --------------------------------------------------------------


def test_every_record_passes_after_imputation(fitted) -> None:
    model, out = fitted
    assert out["edit_pass"].all() or out.loc[~out["edit_pass"], "needs_review"].all()
    assert _passes_unless_held(out).mean() >= 0.99
    assert not out[model.targets].isna().any().any()


@pytest.mark.parametrize("cls", [GbmModel, DonorModel, RatioModel, RegressionModel])
def test_other_methods_pass_the_edits(cls, data: Dataset) -> None:
    params = cls.params_type(**({**FAST} if cls is GbmModel else {}))
    out = cls(params).fit(data).predict(data.frame)
    failing = ~out["edit_pass"]
    assert out.loc[failing, "needs_review"].all()
    assert _passes_unless_held(out).mean() >= 0.99


def test_flags_and_audit_consistent_with_changes(fitted, data: Dataset, tmp_path: Path) -> None:
    model, out = fitted
    for v in model.variables:
        before = data.frame[v]
        changed = ~((before == out[v]) | (before.isna() & out[v].isna()))
        flag = out[v + "__flag"]
        assert (flag[changed] != "original").all(), v
        assert set(flag.unique()) <= {"original", "edited", "imputed:pmm", "suspicious"}
        assert (out.loc[flag == "suspicious", v] == before[flag == "suspicious"]).all()
        assert (flag[before.isna()] == "imputed:pmm").all()
    preds = out.assign(record_id=data.frame.index)
    files = model.write_outputs(tmp_path, preds, data)
    assert {p.name for p in files} == {"edited.csv", "audit.csv", "edit_summary.json"}
    audit = pd.read_csv(tmp_path / "audit.csv")
    n_flagged = sum(int((out[v + "__flag"] != "original").sum()) for v in model.variables)
    assert len(audit) == n_flagged
    row = audit.iloc[0]
    assert out.loc[row["record"], row["field"]] == pytest.approx(row["new_value"])
    assert isinstance(row["reason"], str) and row["reason"]
    edited = pd.read_csv(tmp_path / "edited.csv")
    assert len(edited) == len(data.frame) and "income__flag" in edited.columns


def test_injected_errors_are_found(fitted, data: Dataset) -> None:
    model, out = fitted
    kinds = data.metadata["injected_kind"]
    unit = kinds["income"] == "unit"
    assert unit.sum() > 0
    assert (out.loc[unit, "income__flag"] != "original").mean() >= 0.8
    sign = kinds["wtrans"] == "sign"
    assert (out.loc[sign, "wtrans"] >= 0).all()


def test_save_load_round_trip_identical(fitted, data: Dataset, tmp_path: Path) -> None:
    model, out = fitted
    model.save(tmp_path)
    assert not list(tmp_path.glob("*.pkl"))
    again = PmmModel.load(tmp_path).predict(data.frame)
    pd.testing.assert_frame_equal(out, again)


def test_prediction_is_partition_independent_without_rank_matching(data: Dataset) -> None:
    model = PmmModel(PmmParams(rank_match=False, **FAST)).fit(data)
    out = model.predict(data.frame)
    parts = pd.concat([model.predict(data.frame.iloc[:150]), model.predict(data.frame.iloc[150:])])
    pd.testing.assert_frame_equal(out, parts)


def test_rank_matching_per_partition_keeps_flags_and_edits(fitted, data: Dataset) -> None:
    """Rank matching hands draws out within a partition: values may differ between
    partitionings, but which cells are imputed, and that every record passes, do not."""
    model, out = fitted
    parts = pd.concat([model.predict(data.frame.iloc[:150]), model.predict(data.frame.iloc[150:])])
    flags = [v + "__flag" for v in model.variables]
    pd.testing.assert_frame_equal(out[flags], parts[flags])
    assert _passes_unless_held(parts).all()


def test_variable_all_missing_is_a_clear_error(data: Dataset) -> None:
    frame = data.frame.copy()
    frame["income"] = np.nan
    ds = Dataset(frame, data.roles, metadata=data.metadata)
    with pytest.raises(DataError, match="'income'.*no observed value"):
        PmmModel(PmmParams(**FAST)).fit(ds)


def test_text_in_numeric_column_names_the_column(data: Dataset) -> None:
    frame = data.frame.copy().astype({"age": object})
    frame.loc[3, "age"] = "forty"
    ds = Dataset(frame, data.roles, metadata=data.metadata)
    with pytest.raises(DataError, match="column 'age'.*'forty'"):
        PmmModel(PmmParams(**FAST)).fit(ds)
    frame.loc[3, "age"] = ".."  # a statistical office's "not available"
    with pytest.raises(DataError, match=r"if '\.\.' is a code for a missing value, list it in "
                                        r"the loader's `na_values` \(na_values = \[\"\.\.\"\]\)"):
        PmmModel(PmmParams(**FAST)).fit(Dataset(frame, data.roles, metadata=data.metadata))


def test_survey_loader_with_metadata(tmp_path: Path) -> None:
    from mlstat_editimpute.loaders import SurveyLoader
    from mlstat_editimpute.params import SurveyParams

    pd.DataFrame({"hh": [1, 2, 3], "x": [1.0, "bad", 3.0], "y": [1, 2, 3]}).to_csv(
        tmp_path / "d.csv", index=False)
    pd.DataFrame({"variable": ["x", "y"], "type": ["numeric", "integer"], "min": [0, 0],
                  "imputable": [True, False]}).to_csv(tmp_path / "m.csv", index=False)
    loader = SurveyLoader(SurveyParams(path="d.csv", metadata="m.csv", id="hh"))
    with pytest.raises(DataError, match="column 'x'"):
        loader.load(tmp_path)
    pd.DataFrame({"hh": [1, 2, 3], "x": [1.0, None, 3.0], "y": [1, 2, 3]}).to_csv(
        tmp_path / "d.csv", index=False)
    ds = loader.load(tmp_path)
    assert ds.roles.features == ["x", "y"]
    assert ds.metadata["variables"]["y"]["imputable"] is False


def test_injection_is_seeded_and_keeps_truth() -> None:
    a = BudgetUkLoader(BudgetParams(inject=INJECT)).load(Path("."))
    b = BudgetUkLoader(BudgetParams(inject=INJECT)).load(Path("."))
    pd.testing.assert_frame_equal(a.frame, b.frame)
    truth, mask = a.metadata["truth"], a.metadata["injected_mask"]
    clean = ~mask.any(axis=1)
    pd.testing.assert_frame_equal(a.frame.loc[clean, truth.columns], truth.loc[clean],
                                  check_dtype=False)
    assert mask["income"].mean() > 0.1


def test_example_pipeline_runs_through_the_engine(tmp_path: Path) -> None:
    from mlstat_core import engine

    path = ROOT / "examples" / "editimpute-budget-uk.toml"
    result = engine.run(path, overrides=["model.max_iter=20", "model.iterations=1"],
                        out=tmp_path)
    assert result.status == "succeeded"
    metrics = result.metrics
    assert metrics["edit_rule_pass_rate"] >= 0.99
    assert metrics["imputation_nrmse"] is not None
    outputs = result.run_dir / "outputs"
    assert (outputs / "audit.csv").is_file() and (outputs / "edited.csv").is_file()
    summary = json.loads((outputs / "edit_summary.json").read_text())
    assert summary["records"] == 1519



@pytest.mark.parametrize("rank_match", [True, False])
def test_predict_warns_when_chunks_change_rank_matched_imputations(tmp_path: Path,
                                                                   rank_match: bool) -> None:
    from mlstat_core import engine
    from mlstat_core.predict import predict_file

    path = ROOT / "examples" / "editimpute-budget-uk.toml"
    result = engine.run(path, overrides=["model.max_iter=20", f"model.rank_match={rank_match}"],
                        out=tmp_path)
    new = tmp_path / "new.csv"  # the production file, with values to impute
    received = pd.read_csv(ROOT / "examples" / "data" / "budget_uk.csv")
    received.loc[::7, "income"] = np.nan
    received.to_csv(new, index=False)
    whole = predict_file(result.run_dir, new, tmp_path / "whole.csv", chunk_size=5000)
    chunked = predict_file(result.run_dir, new, tmp_path / "chunked.csv", chunk_size=500)
    assert not any("depend on the records" in w for w in whole.warnings)
    warned = [w for w in chunked.warnings if "depend on the records" in w]
    assert bool(warned) is rank_match
    # and the warning tells the truth: chunks change the imputations only with rank matching
    same = pd.read_csv(tmp_path / "whole.csv").equals(pd.read_csv(tmp_path / "chunked.csv"))
    assert same is not rank_match
    if rank_match:
        assert "rank_match = false" in warned[0] and "chunks of 500" in warned[0]


# --- targets of issue 6: detection, distributions, every record passing ----------------------


@pytest.fixture(scope="module")
def budget() -> pd.DataFrame:
    return BudgetUkLoader().load(Path(".")).frame


def test_unit_errors_rank_top_with_few_records_flagged(budget: pd.DataFrame) -> None:
    """Unit errors are found although they are corrected: the suspicion score is taken on the
    values as reported. 95% of the records with a unit error are among the 10% most
    suspicious, and the threshold flags at most 10% of records."""
    from mlstat_editimpute.indicators import _share_for_recall
    from mlstat_editimpute.inject import inject_errors

    specs = [{"kind": "mcar", "variables": ["income", "totexp", "wfood", "wfuel"], "rate": 0.1},
             {"kind": "unit", "variables": ["income", "totexp"], "rate": 0.03},
             {"kind": "sign", "variables": ["wtrans"], "rate": 0.01}]
    inj = inject_errors(budget, specs, 1)
    ds = Dataset(inj.frame, BudgetUkLoader().load(Path(".")).roles)
    model = PmmModel(PmmParams(rules=BUDGET_RULES, **FAST)).fit(ds)
    out = model.predict(inj.frame)
    unit = (inj.kinds == "unit").any(axis=1).to_numpy()
    score = out["suspicion"].to_numpy(float)
    assert unit.sum() >= 40
    assert _share_for_recall(score, unit, 0.95) <= 0.10
    flagged = score > model.params.detect_threshold
    assert flagged.mean() <= 0.10 and flagged[unit].mean() >= 0.95
    assert _passes_unless_held(out).all()


def test_discrete_variable_does_not_dominate_suspicion(budget: pd.DataFrame) -> None:
    from mlstat_editimpute.detect import Scorer

    scorer = Scorer(list(budget.columns), max_iter=20).fit(budget)
    z = np.nan_to_num(scorer.zscores(budget), nan=0.0)
    assert np.quantile(z[:, list(budget.columns).index("children")], 0.99) < 6


@pytest.mark.parametrize("kind", ["mcar", "mar"])
def test_pmm_keeps_distributions_and_every_record_passes(budget: pd.DataFrame, kind) -> None:
    from mlstat_editimpute.inject import inject_errors
    from scipy.stats import ks_2samp

    targets = ["income", "totexp", "wfood", "wfuel"]
    spec = {"kind": kind, "variables": targets, "rate": 0.15, "depends_on": "totexp"}
    inj = inject_errors(budget, [spec], 0)
    ds = Dataset(inj.frame, BudgetUkLoader().load(Path(".")).roles)
    params = PmmParams(rules=BUDGET_RULES, detect=False, correct_units=False)
    out = PmmModel(params).fit(ds).predict(inj.frame)
    assert out["edit_pass"].all() and not out["needs_review"].any()
    for v in targets:
        if kind == "mar" and v == "totexp":
            continue  # missing depending on its own value: not recoverable from the data
        cells = inj.frame[v].isna()
        ks = ks_2samp(out.loc[cells, v], budget.loc[cells, v]).statistic
        assert ks <= 0.10, (v, ks)


def test_imputed_values_use_the_recorded_precision(fitted, data: Dataset) -> None:
    model, out = fitted
    cells = data.frame["income"].isna() & (out["income__flag"] == "imputed:pmm")
    assert cells.any()
    assert np.allclose(out.loc[cells, "income"] % 10, 0)


def test_adjustment_lands_inside_a_balance_tolerance() -> None:
    """A record whose observed shares already sum to the top of the tolerance: the imputed
    share is set so that the record passes, not left a rounding error outside."""
    rules = RuleSet.parse(["b: a + b + c == 1 +- 0.01"])
    system = LinearSystem(rules.rules, ["a", "b", "c"], np.zeros(3), np.ones(3),
                          np.zeros(3, bool))
    new = system.adjust(np.array([0.6, 0.4001, 0.04]), np.array([False, False, True]),
                        np.ones(3))
    env = {"a": new[[0]], "b": new[[1]], "c": new[[2]]}
    ok, _ = rules.evaluate(env, 1)
    assert ok.all() and 0 <= new[2] <= 0.0099 + 1e-9


# --- audit B: edit failures as received, rules and metadata the data contradict -------------


def _with_metadata(data: Dataset, variables: dict, features: list[str] | None = None) -> Dataset:
    from dataclasses import replace

    roles = replace(data.roles, features=features or list(data.roles.features))
    return Dataset(data.frame, roles, metadata={**data.metadata, "variables": variables})


def test_failed_rules_counted_on_the_data_as_received(fitted, data: Dataset) -> None:
    """Sign errors are corrected deductively, yet the records still count as failing
    before editing: failed_rules and the summary describe the data as received."""
    from mlstat_editimpute.models import edit_summary

    model, out = fitted
    rules = RuleSet.parse(BUDGET_RULES)
    ok, evaluable = rules.evaluate({v: data.frame[v].to_numpy(float) for v in rules.variables},
                                   len(data.frame))
    failing = evaluable & ~ok
    expected = [",".join(r.name for r, f in zip(rules.rules, row, strict=True) if f)
                for row in failing]
    negative = data.frame["wtrans"] < 0
    assert negative.any()
    assert out["failed_rules"].tolist() == expected
    assert out.loc[negative, "failed_rules"].str.contains("shares_range2").all()
    summary = edit_summary(out, model.variables, model.rule_texts)
    assert summary["records_failing_before"]["shares_range2"] == int(failing[:, 2].sum())
    assert summary["records_failing_any_before"] == int(failing.any(axis=1).sum())
    assert "records_failing_at_localisation" in summary


def test_rule_no_record_passes_is_a_clear_error(data: Dataset) -> None:
    model = PmmModel(PmmParams(rules=["big_spend: totexp >= 4000"], **FAST))
    with pytest.raises(DataError, match=r"no training record passes edit rule "
                                        r"'big_spend: totexp >= 4000'.*'totexp' has no usable"):
        model.fit(data)


def test_metadata_range_excluding_many_values_warns(fitted, data: Dataset) -> None:
    assert fitted[0].fit_warnings == []  # a few injected unit errors are no metadata problem
    infos = {v: dict(i) for v, i in data.metadata["variables"].items()}
    infos["totexp"]["max"] = 100.0  # a typo for 1000
    model = PmmModel(PmmParams(**FAST))
    with pytest.warns(UserWarning, match=r"of 'totexp' \(\d+%\) lie outside its metadata range "
                                         r"\[0, 100\].*check the metadata"):
        model.fit(_with_metadata(data, infos))
    assert len(model.fit_warnings) == 1


def test_rule_variable_missing_from_metadata_is_named(data: Dataset) -> None:
    infos = {v: i for v, i in data.metadata["variables"].items() if v != "income"}
    features = [v for v in data.roles.features if v != "income"]
    model = PmmModel(PmmParams(**FAST))
    with pytest.warns(UserWarning, match="'income'.*absent from the variable metadata.*kept as "
                                         "reported"):
        model.fit(_with_metadata(data, infos, features))
    out = model.predict(data.frame)
    missing = data.frame["income"].isna()
    assert missing.any() and out.loc[missing, "needs_review"].all()
    assert out.loc[missing, "review_reason"].str.contains("'income' is missing").all()
    assert all("income" in json.loads(r) for r in out.loc[missing, "reasons"])


def test_categorical_text_says_codes_are_needed(tmp_path: Path) -> None:
    from mlstat_editimpute.loaders import SurveyLoader
    from mlstat_editimpute.params import SurveyParams

    pd.DataFrame({"x": [1.0, 2.0, 3.0], "region": ["north", "south", "north"]}).to_csv(
        tmp_path / "d.csv", index=False)
    pd.DataFrame({"variable": ["x", "region"], "type": ["numeric", "categorical"]}).to_csv(
        tmp_path / "m.csv", index=False)
    loader = SurveyLoader(SurveyParams(path="d.csv", metadata="m.csv"))
    with pytest.raises(DataError, match="categorical variable 'region'.*'north'.*must be "
                                        "numeric codes.*1 = north, 2 = south"):
        loader.load(tmp_path)


def test_contradiction_with_metadata_range_names_the_range(data: Dataset) -> None:
    model = PmmModel(PmmParams(rules=["too_old: age >= 130"], **FAST))
    with pytest.raises(RuleError, match=r"'too_old: age >= 130' cannot hold within the allowed "
                                        r"range of 'age' \[16, 120\] \(from the metadata\)"):
        model.fit(data)


def test_weight_for_unknown_variable_suggests_the_closest(data: Dataset) -> None:
    model = PmmModel(PmmParams(weights={"incme": 5.0}, **FAST))
    with pytest.raises(ConfigError, match="weights.*'incme'.*did you mean 'income'"):
        model.fit(data)


@pytest.mark.parametrize("weight", [0, -2.0])
def test_non_positive_weight_is_refused_by_validate(weight: float) -> None:
    """`mlstat validate` catches it from the pipeline file alone, before any data is read."""
    from mlstat_core.config import load_config

    pipeline = {"pipeline": {"name": "w", "task": "tabular_imputation"},
                "loader": {"component": "editimpute.budget_uk"},
                "model": {"component": "editimpute.pmm", "weights": {"income": weight}}}
    with pytest.raises(ConfigError) as caught:
        load_config(pipeline)
    (issue,) = caught.value.issues
    assert issue.field == "model.weights.income"
    assert "greater than 0" in str(issue)


# --- audit H3: frozen values out of range, rule hints, metadata files, rounding, conflicts --


def _frozen_out_of_range(data: Dataset) -> tuple[pd.DataFrame, list[int]]:
    """The data with 'children' (imputable = false, range 0-20) set to -2 and 50."""
    frame = data.frame.copy()
    rows = [3, 7]
    frame.loc[rows, "children"] = [-2.0, 50.0]
    return frame, rows


def test_frozen_value_out_of_range_fails_and_goes_to_review(fitted, data: Dataset,
                                                            tmp_path: Path) -> None:
    model, _ = fitted
    assert data.metadata["variables"]["children"]["imputable"] is False
    frame, rows = _frozen_out_of_range(data)
    out = model.predict(frame)
    assert out.loc[rows, "children"].tolist() == [-2.0, 50.0]  # never changed
    assert (out.loc[rows, "children__flag"] == "original").all()
    assert not out.loc[rows, "edit_pass"].any()
    assert out.loc[rows, "needs_review"].all()
    for r, value in zip(rows, ["-2", "50"], strict=True):
        assert f"'children' = {value} is outside its allowed range [0, 20]" in \
            out.loc[r, "review_reason"]
        assert "may not be imputed" in json.loads(out.loc[r, "reasons"])["children"]
    model.save(tmp_path / "m")  # the metadata's bounds survive saving
    again = type(model).load(tmp_path / "m").predict(frame)
    assert not again.loc[rows, "edit_pass"].any() and again.loc[rows, "needs_review"].all()


def test_many_frozen_values_out_of_range_warn_truthfully(data: Dataset) -> None:
    frame = data.frame.copy()
    frame.loc[: len(frame) // 10, "children"] = -1.0
    ds = Dataset(frame, data.roles, metadata=data.metadata)
    model = RatioModel(RatioModel.params_type())
    with pytest.warns(UserWarning, match=r"of 'children' \(\d+%\) lie outside its metadata "
                                         r"range \[0, 20\]; 'children' may not be imputed "
                                         r"\(imputable = false\), so their records fail the "
                                         r"edits and go to manual review"):
        model.fit(ds)
    assert not any("replaced" in w for w in model.fit_warnings)


@pytest.mark.parametrize(("text", "hint"), [
    ("bad: wfood + wfuel = 0.5", "write '==' for equality"),
    ("totexp => 10", "write '>=' for 'at least'"),
    ("age =< 120", "write '<=' for 'at most'"),
    ("bad: if children > 0 age >= 18", "the conditional form is 'if <condition> then "
                                       "<condition>'"),
])
def test_common_rule_mistakes_get_a_hint(text: str, hint: str) -> None:
    with pytest.raises(RuleError, match="is not a valid expression") as err:
        parse_rule(text)
    assert hint in str(err.value)


@pytest.mark.parametrize("where", ["loader", "model"])
def test_rule_error_names_only_the_offending_rule(where: str) -> None:
    from mlstat_core.config import load_config

    good = "balance: wfood + wfuel + wcloth + walc + wtrans + wother == 1 +- 0.01"
    for rules, bad in ((["first: income >= 10", good, "bad: wfood + wfuel = 0.5"], 2),
                       (["same: income >= 10", good, "same: totexp >= 10"], 2)):
        table = {"component": "editimpute.budget_uk" if where == "loader" else
                 "editimpute.pmm", "rules": rules}
        pipeline = {"pipeline": {"name": "r", "task": "tabular_imputation"},
                    "loader": {"component": "editimpute.budget_uk"},
                    "model": {"component": "editimpute.pmm"}, where: table}
        with pytest.raises(ConfigError) as caught:
            load_config(pipeline)
        (issue,) = caught.value.issues
        assert issue.field == f"{where}.rules.{bad}"
        assert rules[bad] in str(issue) and good not in str(issue)
        assert "first:" not in str(issue)


def test_missing_metadata_file_is_called_a_metadata_file(tmp_path: Path) -> None:
    from mlstat_editimpute.loaders import SurveyLoader
    from mlstat_editimpute.params import SurveyParams

    pd.DataFrame({"x": [1.0, 2.0]}).to_csv(tmp_path / "d.csv", index=False)
    for name in ("nope.csv", "nope.json"):
        loader = SurveyLoader(SurveyParams(path="d.csv", metadata=name))
        with pytest.raises(DataError, match=rf"^metadata file \S*{name} does not exist; check "
                                            r"the loader's `metadata` path"):
            loader.load(tmp_path)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_metadata_separator_is_sniffed(tmp_path: Path, sep: str) -> None:
    from mlstat_editimpute.metadata import read_metadata

    lines = ["variable,type,min,max,imputable,description",
             "x,numeric,0,10,true,\"spend, weekly\"", "y,integer,0,5,false,count"]
    (tmp_path / "m.csv").write_text("\n".join(line.replace(",", sep) if sep != ";" or
                                              "spend" not in line else
                                              "x;numeric;0;10;true;spend, weekly"
                                              for line in lines) + "\n")
    infos = read_metadata(tmp_path / "m.csv")
    assert list(infos) == ["x", "y"]
    assert infos["x"].max == 10 and infos["y"].imputable is False


def test_metadata_one_column_with_semicolons_says_so(tmp_path: Path) -> None:
    from mlstat_editimpute.metadata import read_metadata

    (tmp_path / "m.csv").write_text("name;type;min\nx;numeric;0\n")  # sniffed: named columns
    with pytest.raises(DataError, match=r"needs a 'variable' column; it has name, type, min$"):
        read_metadata(tmp_path / "m.csv")
    (tmp_path / "m.csv").write_text("name;type;min\nx;1\n")  # too ragged to sniff: a hint
    with pytest.raises(DataError, match=r"needs a 'variable' column.*looks ';'-separated"):
        read_metadata(tmp_path / "m.csv")


def test_prorated_and_adjusted_shares_keep_the_recorded_precision(fitted,
                                                                  data: Dataset) -> None:
    model, out = fitted
    shares = ["wfood", "wfuel", "wcloth", "walc", "wtrans", "wother"]
    prorated = out["reasons"].str.contains("prorated")
    assert prorated.sum() >= 5
    for v in shares:
        treated = (out[v + "__flag"] != "original") & ~out["reasons"].map(
            lambda r, v=v: "error" in json.loads(r).get(v, ""))  # not deductive corrections
        scaled = out.loc[treated, v].to_numpy() * 1e4
        assert np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-6), v
    assert _passes_unless_held(out).all()


def test_controlled_rounding_keeps_an_exact_balance() -> None:
    """Prorated shares rounded one by one can miss a balance without tolerance; the rounding
    keeps their sum, so the record still passes."""
    from mlstat_editimpute.editing import Editor

    names = ["a", "b", "c", "d"]
    rules = RuleSet.parse(["b: a + b + c + d == 1"])
    infos = {v: {"min": 0.0, "max": 1.0} for v in names}
    editor = Editor(names, infos, rules, {}, {v: True for v in names})
    train = pd.DataFrame([[0.25, 0.25, 0.25, 0.25], [0.1234, 0.2345, 0.3456, 0.2965]] * 10,
                         columns=names)  # recorded at four decimals
    editor.fit(train)
    values = np.array([[0.5, 1 / 6, 1 / 6, 1 / 6]])  # one by one: 0.5 + 3 x 0.1667 = 1.0001
    treated = np.array([[False, True, True, True]])
    assert editor.passes(values).all()
    editor.round_treated(values, treated)
    assert sorted(values[0, 1:]) == [0.1666, 0.1667, 0.1667]
    assert editor.passes(values).all()


def test_contradiction_names_every_bound_in_conflict() -> None:
    shares = ["wfood", "wfuel", "wcloth", "walc", "wtrans", "wother"]
    rules = RuleSet.parse(["balance: " + " + ".join(shares) + " == 1 +- 0.01",
                           "f: wfood >= 0.6", "g: wfuel >= 0.5"])
    system = LinearSystem(rules.rules, shares, np.zeros(6), np.ones(6), np.zeros(6, bool))
    with pytest.raises(RuleError) as err:
        check_consistency(system, {v: "the metadata" for v in shares})
    message = str(err.value)
    assert "'wcloth' [0, 1]" in message and "(from the metadata)" in message
    bounds = message.split("whose bounds ")[1].split(" take part")[0].split(", ")
    assert sorted(bounds) == ["walc >= 0", "wcloth >= 0", "wother >= 0", "wtrans >= 0"]


def test_a_metadata_file_is_read_in_the_loaders_encoding(tmp_path):
    """The metadata is written by the same office, in the data's encoding: the loader's
    `encoding` reads both, and a message about the metadata offers it."""
    from mlstat_editimpute.metadata import read_metadata

    path = tmp_path / "meta.csv"
    path.write_bytes("variable,description\nincome,Einkommen (\u00fcber alles)\n".encode("cp1252"))
    with pytest.raises(DataError) as info:
        read_metadata(path)
    text = str(info.value)
    assert "is not valid utf-8 text" in text and "set the loader's `encoding`" in text
    assert read_metadata(path, "cp1252")["income"].description == "Einkommen (\u00fcber alles)"


# --- the survey loader reads files as core.table does ------------------------------------------

SURVEY = DATA_DIR / "budget_uk.csv"  # the installed package's copy, not the source tree's
PIPELINE = """
[pipeline]
name = "survey-ids"
task = "tabular_imputation"
[loader]
component = "editimpute.survey"
path = "survey.csv"
id = "hh"
inject = [{ kind = "mcar", variables = ["income", "totexp"], rate = 0.1 },
          { kind = "unit", variables = ["income"], rate = 0.03 }]
[split]
component = "core.insample"
[model]
component = "editimpute.pmm"
max_iter = 20
[[indicators]]
component = "editimpute.edit_report"
[[indicators]]
component = "editimpute.error_detection"
"""


def test_survey_ids_keep_their_leading_zeros_in_every_output(tmp_path: Path) -> None:
    """Household ids such as 00017 are text: edited.csv, audit.csv and the predictions give
    them as written, so that the edited data join back to the register."""
    from mlstat_core import engine

    frame = pd.read_csv(SURVEY).iloc[:400]
    ids = [f"{i:05d}" for i in range(len(frame))]
    frame.insert(0, "hh", ids)
    frame.to_csv(tmp_path / "survey.csv", index=False)
    (tmp_path / "p.toml").write_text(PIPELINE)
    result = engine.run(tmp_path / "p.toml", out=tmp_path / "runs")
    assert result.status == "succeeded"
    outputs = result.run_dir / "outputs"
    edited = pd.read_csv(outputs / "edited.csv", dtype=str)
    assert edited["hh"].tolist() == ids
    audit = pd.read_csv(outputs / "audit.csv", dtype=str)
    assert len(audit) and set(audit["record"]) <= set(ids)
    predictions = pd.read_parquet(result.run_dir / "predictions.parquet")
    assert predictions["record_id"].tolist() == ids
    assert result.metrics["error_detection_recall"] is not None


def _polish_csv(path: Path) -> None:
    """A file as Polish Excel saves it: ';' between fields, decimal commas, cp1250."""
    text = ("regon;gmina;x;y\n00017;\u0141\u00f3d\u017a;0,5;1\n00018;Krak\u00f3w;1,25;..\n"
            "00019;\u017bary;;3\n")
    path.write_bytes(text.encode("cp1250"))


def test_survey_reads_semicolons_decimal_commas_and_cp1250(tmp_path: Path) -> None:
    from mlstat_editimpute.loaders import SurveyLoader
    from mlstat_editimpute.params import SurveyParams

    _polish_csv(tmp_path / "d.csv")
    params = SurveyParams(path="d.csv", id="regon", sep=";", decimal=",", encoding="cp1250",
                          na_values=[".."])
    ds = SurveyLoader(params).load(tmp_path)
    assert ds.frame["regon"].tolist() == ["00017", "00018", "00019"]
    assert ds.frame["gmina"].tolist() == ["\u0141\u00f3d\u017a", "Krak\u00f3w", "\u017bary"]
    assert ds.roles.features == ["x", "y"]
    assert ds.frame["x"].tolist()[:2] == [0.5, 1.25] and ds.frame["y"].isna().tolist() == [
        False, True, False]


@pytest.mark.parametrize("settings", [{"id": "regon"}, {"variables": ["x", "y"]},
                                      {"metadata": "m.csv"}, {}])
def test_survey_read_with_the_wrong_separator_says_which_to_set(tmp_path: Path,
                                                               settings: dict) -> None:
    from mlstat_editimpute.loaders import SurveyLoader
    from mlstat_editimpute.params import SurveyParams

    _polish_csv(tmp_path / "d.csv")
    (tmp_path / "m.csv").write_text("variable,type\nx,numeric\ny,numeric\n")
    loader = SurveyLoader(SurveyParams(path="d.csv", encoding="cp1250", **settings))
    with pytest.raises(DataError, match=r"seems separated by ';', not ',': set the loader's "
                                        r"`sep` \(for example sep = \";\"\)$"):
        loader.load(tmp_path)


def test_survey_decimal_commas_read_as_text_say_to_set_decimal(tmp_path: Path) -> None:
    from mlstat_editimpute.loaders import SurveyLoader
    from mlstat_editimpute.params import SurveyParams

    _polish_csv(tmp_path / "d.csv")
    loader = SurveyLoader(SurveyParams(path="d.csv", id="regon", sep=";", encoding="cp1250",
                                       na_values=[".."]))
    with pytest.raises(DataError, match=r"column 'x' of \S*d.csv holds numbers written with a "
                                        r"decimal comma \(such as '0,5'\).*decimal = \",\""):
        loader.load(tmp_path)


def test_survey_data_in_another_encoding_offers_the_encoding_setting(tmp_path: Path) -> None:
    from mlstat_editimpute.loaders import SurveyLoader
    from mlstat_editimpute.params import SurveyParams

    _polish_csv(tmp_path / "d.csv")
    loader = SurveyLoader(SurveyParams(path="d.csv", sep=";", decimal=","))
    with pytest.raises(DataError, match=r"not valid utf-8 text.*set the loader's `encoding`"):
        loader.load(tmp_path)


@pytest.mark.parametrize("options", [{"decimal": ","}, {"decimal": ",,", "sep": ";"},
                                     {"encoding": "nope"}, {"na_values": "..", "sep": ";"}])
def test_survey_reading_options_are_checked_as_core_table_checks_them(options: dict) -> None:
    from mlstat_editimpute.params import SurveyParams
    from pydantic import ValidationError

    from mlstat_core.builtins.params import TableParams

    with pytest.raises(ValidationError) as core:
        TableParams(path="d.csv", **options)
    with pytest.raises(ValidationError) as survey:
        SurveyParams(path="d.csv", **options)
    assert [e["msg"] for e in survey.value.errors()] == [e["msg"] for e in core.value.errors()]


# --- audit EI: rules the data contradict, empty rule columns, weights, float noise, names ------


@pytest.mark.parametrize("detect", [True, False])
@pytest.mark.parametrize("rule", ["big: totexp + income >= 9000", "nl: wfood * totexp >= 6000"])
def test_rule_every_record_fails_stops_fit_with_detection_on_or_off(data: Dataset, rule: str,
                                                                    detect: bool) -> None:
    """Records the rule cannot be checked on (a value missing, or blanked as suspicious) keep
    their other values, yet a rule that no record passes is still the data contradicting it,
    not a variable to rewrite in every record."""
    model = PmmModel(PmmParams(rules=[rule], detect=detect, **FAST))
    with pytest.raises(DataError, match=r"^(\(almost\) )?no training record passes edit rule "
                                        + re.escape(repr(rule)) + r" \(\d of the \d+ records it "
                                        r"can be checked on\), so '\w+', '\w+' have "):
        model.fit(data)  # without detection, 2 income unit errors (x10) pass 'big'



def test_rule_almost_no_record_passes_stops_fit(data: Dataset) -> None:
    model = PmmModel(PmmParams(rules=["top: totexp >= 300"], **FAST))
    with pytest.raises(DataError, match=r"^\(almost\) no training record passes edit rule "
                                        r"'top: totexp >= 300' \([12] of the \d+ records"):
        model.fit(data)


def test_rule_some_records_fail_is_edited_not_refused(data: Dataset) -> None:
    """A demanding but plausible rule (about a tenth of these records fail it) is applied."""
    model = PmmModel(PmmParams(rules=[*BUDGET_RULES, "d: totexp <= income"], **FAST))
    out = model.fit(data).predict(data.frame)
    assert (out["failed_rules"].str.contains(r"\bd\b")).sum() >= 10
    assert out["edit_pass"].mean() >= 0.95


def _with_savings(data: Dataset, values: object) -> Dataset:
    frame = data.frame.copy()
    frame["savings"] = values
    return Dataset(frame, data.roles, metadata=data.metadata)


@pytest.mark.parametrize("detect", [True, False])
def test_rule_on_an_empty_column_is_a_clear_error(data: Dataset, detect: bool) -> None:
    model = PmmModel(PmmParams(rules=["sv: savings <= income"], detect=detect, **FAST))
    with pytest.raises(DataError, match=r"^edit rule 'sv: savings <= income' names 'savings', "
                                        r"which has no value in the training data.*fill in "
                                        r"'savings' or drop the rule$"):
        model.fit(_with_savings(data, np.nan))


def test_rule_on_a_partly_filled_column_keeps_it_as_reported(data: Dataset) -> None:
    ds = _with_savings(data, np.where(np.arange(len(data.frame)) % 2, 100.0, np.nan))
    model = PmmModel(PmmParams(rules=["sv: savings <= 10 * income"], **FAST))
    with pytest.warns(UserWarning, match=r"'savings' are not among the variables to edit"):
        model.fit(ds)
    out = model.predict(ds.frame)
    assert (out["savings__flag"] == "original").all()
    assert out.loc[ds.frame["savings"].isna(), "needs_review"].all()


def test_scorer_ignores_a_column_with_no_value(budget: pd.DataFrame) -> None:
    from mlstat_editimpute.detect import Scorer

    frame = budget.assign(savings=np.nan)
    z = Scorer(list(frame.columns), max_iter=20).fit(frame).zscores(frame)
    assert np.isnan(z[:, -1]).all() and np.isfinite(z[:, :-1]).all()


@pytest.mark.parametrize(("value", "problem"), [("", "missing value"),
                                                ("-20", "negative value"),
                                                ("abc", "value(s) that are not numbers")])
def test_survey_weights_are_checked_as_core_table_checks_them(tmp_path: Path, value: str,
                                                              problem: str) -> None:
    from mlstat_editimpute.loaders import SurveyLoader
    from mlstat_editimpute.params import SurveyParams

    frame = pd.read_csv(SURVEY).iloc[:50].astype(str)
    frame.insert(0, "hh", [f"{i:05d}" for i in range(len(frame))])
    frame["wgt"] = "250.5"
    frame.loc[7, "wgt"] = value
    frame.to_csv(tmp_path / "d.csv", index=False)
    loader = SurveyLoader(SurveyParams(path="d.csv", id="hh", weights="wgt"))
    with pytest.raises(DataError, match=rf"weights column 'wgt' has 1 {re.escape(problem)}.*at "
                                        r"record id '00007'\); a weight must be a number >= 0"):
        loader.load(tmp_path)
    frame.loc[7, "wgt"] = "12"
    frame.to_csv(tmp_path / "d.csv", index=False)
    assert loader.load(tmp_path).roles.weights == "wgt"


def test_treated_values_are_clean_and_unchanged_ones_not_logged(budget: pd.DataFrame) -> None:
    """Prorated shares carry the recorded precision without float noise (0.1686, not
    0.16860000000000008), and a suspicious share the balance edit puts back where it was is
    not an imputation: flagged original, and absent from the audit log."""
    from mlstat_editimpute.imputers import snap
    from mlstat_editimpute.models import edited_and_audit

    ds = BudgetUkLoader(BudgetParams(inject=INJECT, rules=BUDGET_RULES)).load(Path("."))
    model = PmmModel(PmmParams(suspicious="impute", **FAST)).fit(ds)
    out = model.predict(ds.frame)
    for j, v in enumerate(model.variables):
        treated = (out[v + "__flag"] != "original").to_numpy()
        x = out.loc[treated, v].to_numpy(float)
        if model.editor.steps[j]:
            assert (snap(x, model.editor.steps[j]) == x).all(), v
    shares = ["wfood", "wfuel", "wcloth", "walc", "wtrans", "wother"]
    assert out["reasons"].str.contains("suspicious").any()
    assert (out[shares].sum(axis=1) - 1).abs().max() <= 0.01 + 1e-9
    _, audit = edited_and_audit(ds.frame, out, model.variables)
    old = audit["old_value"].astype(float)
    assert not (old == audit["new_value"].astype(float)).any()
    assert out["edit_pass"].all()


@pytest.mark.parametrize("name", ["TOTEXP", "Totexp", "totexpp"])
def test_unknown_variable_hint_ignores_case(data: Dataset, name: str) -> None:
    model = PmmModel(PmmParams(rules=[f"spend: {name} <= 4 * income"], **FAST))
    with pytest.raises(ConfigError, match=f"'{name}'.*did you mean 'totexp'"):
        model.fit(data)
    model = PmmModel(PmmParams(weights={name.upper().replace("TOTEXP", "INCOME"): 2.0}, **FAST))
    with pytest.raises(ConfigError, match="did you mean 'income'"):
        model.fit(data)


# --- audit I: production outputs as an ONS methodologist checks them ----------------------------


def _with_household_size(data: Dataset, missing: list[int]) -> Dataset:
    """The data with 'hhsize': reported, imputable = false, used by no edit rule; missing in
    the records ``missing``."""
    frame = data.frame.copy()
    frame["hhsize"] = (frame["children"].fillna(0) + 2).astype(float)
    frame.loc[missing, "hhsize"] = np.nan
    variables = {**data.metadata["variables"],
                 "hhsize": {"name": "hhsize", "type": "integer", "min": 1, "max": 20,
                            "imputable": False, "weight": 2.0}}
    ds = _with_metadata(data, variables, [*data.roles.features, "hhsize"])
    return Dataset(frame, ds.roles, metadata=ds.metadata)


def test_record_missing_a_frozen_value_no_rule_uses_fails_and_goes_to_review(data) -> None:
    """A record missing a value that may not be imputed was not completed automatically:
    it fails (edit_pass false, as the docs say), and needs_review is always exactly the
    records that fail, so the automation rate (read from edit_pass) never counts a record
    sent to a clerk. It passed before, while a clerk was asked to see it."""
    missing = [5, 17, 40]
    ds = _with_household_size(data, missing)
    out = RatioModel(RatioModel.params_type()).fit(ds).predict(ds.frame)
    assert not out.loc[missing, "edit_pass"].any()
    assert out.loc[missing, "needs_review"].all()
    assert (out.loc[missing, "review_reason"] == "'hhsize' is missing and may not be "
                                                "imputed").all()
    assert (out["needs_review"] == ~out["edit_pass"]).all()
    assert (out["review_reason"] != "").tolist() == out["needs_review"].tolist()
    assert (out.loc[missing, "hhsize__flag"] == "original").all()


def test_edited_values_keep_the_input_columns_kind() -> None:
    from mlstat_editimpute.models import as_input_kind

    ints = pd.Series([90, 100, 5000000000], dtype="int64")
    kept = as_input_kind(ints, np.array([90.0, 110.0, 5e9]), whole=False)
    assert kept.dtype == "int64" and kept.tolist() == [90, 110, 5000000000]
    # an integer column still missing a value after editing: nullable, not float
    assert as_input_kind(ints, np.array([90.0, np.nan, 1.0]), whole=False).dtype == "Int64"
    # a CSV column of whole numbers with blanks is read as floats: whole again once filled
    blanks = pd.Series([90.0, np.nan, 120.0])
    assert as_input_kind(blanks, np.array([90.0, 70.0, 120.0]), whole=True).dtype == "int64"
    # ... but not a variable recorded with decimals, nor edited values that are not whole
    assert as_input_kind(blanks, np.array([90.0, 70.0, 120.0]), whole=False).dtype == float
    assert as_input_kind(blanks, np.array([90.0, 70.5, 120.0]), whole=True).dtype == float
    assert as_input_kind(ints, np.array([90.0, 100.5, 1.0]), whole=False).dtype == float
    shares = pd.Series([0.4272, np.nan])
    assert as_input_kind(shares, np.array([0.4272, 0.5]), whole=True).dtype == float


def test_an_edited_value_never_wraps_around_a_narrow_integer_type() -> None:
    """A Parquet column of int16 given an imputed 40,000 would wrap to -25,536: it widens to
    int64 instead; a nullable integer column stays nullable."""
    from mlstat_editimpute.models import as_input_kind

    narrow = pd.Series([100, 200], dtype="int16")
    assert as_input_kind(narrow, np.array([100.0, 40000.0]), whole=False).tolist() == [100,
                                                                                       40000]
    assert as_input_kind(narrow, np.array([100.0, 300.0]), whole=False).dtype == "int16"
    nullable = pd.Series([1, 2], dtype="Int32")
    assert as_input_kind(nullable, np.array([1.0, 4.0]), whole=False).dtype == "Int32"


@pytest.mark.parametrize(("loader", "field", "message"), [
    ({"component": "editimpute.budget_uk",
      "inject": [{"kind": "mcar", "variables": ["income"]},
                 {"kind": "mcar", "variables": ["wclothes"]}]},
     "loader.inject.1.variables", "names 'wclothes', which is not among the variables edited; "
                                  "did you mean 'wcloth'?"),
    ({"component": "editimpute.budget_uk",
      "inject": [{"kind": "mar", "variables": ["wcloth"], "depends_on": "TOTEXP"}]},
     "loader.inject.0.depends_on", "did you mean 'totexp'?"),
    ({"component": "editimpute.budget_uk", "inject": [{"kind": "mar", "variables": ["wcloth"]}]},
     "loader.inject.0", "'mar' needs `depends_on`"),
    ({"component": "editimpute.budget_uk",
      "inject": [{"kind": "swap", "variables": ["walc", "wother", "wfood"]}]},
     "loader.inject.0", "name exactly two different variables"),
    ({"component": "editimpute.survey", "path": "d.csv", "variables": ["x", "y"],
      "inject": [{"kind": "unit", "variables": ["z"]}]},
     "loader.inject.0.variables", "names 'z', which is not among the variables edited"),
])
def test_injection_mistakes_are_refused_by_validate(loader: dict, field: str,
                                                     message: str) -> None:
    """Where the variables are known without the data (the bundled data, or the survey
    loader's `variables`), mlstat validate refuses an injection it could only fail at run
    time before, at the spec's place."""
    from mlstat_core.config import load_config

    pipeline = {"pipeline": {"name": "i", "task": "tabular_imputation"}, "loader": loader,
                "model": {"component": "editimpute.pmm"}}
    with pytest.raises(ConfigError) as caught:
        load_config(pipeline)
    issues = [i for i in caught.value.issues if i.field == field]
    assert issues and message in str(issues[0]), caught.value.issues


def test_injection_into_a_variable_the_metadata_lacks_fails_before_the_data_is_read(
        tmp_path: Path) -> None:
    from mlstat_editimpute.loaders import SurveyLoader
    from mlstat_editimpute.params import SurveyParams

    pd.DataFrame({"variable": ["income", "totexp"]}).to_csv(tmp_path / "m.csv", index=False)
    loader = SurveyLoader(SurveyParams(path="absent.csv", metadata="m.csv", inject=[
        {"kind": "mcar", "variables": ["incomee"]}]))
    with pytest.raises(DataError, match=r"names 'incomee', which is not among the variables "
                                        r"edited; did you mean 'income'\?.*metadata file m.csv"):
        loader.load(tmp_path)


PRODUCTION = """
[pipeline]
name = "production"
task = "tabular_imputation"
[loader]
component = "editimpute.survey"
path = "survey.csv"
metadata = "meta.csv"
id = "hh"
[split]
component = "core.insample"
[model]
component = "editimpute.pmm"
max_iter = 20
rules = {rules}
[[indicators]]
component = "editimpute.edit_report"
[[indicators]]
component = "core.cost_effectiveness"
[quality]
manual_seconds_per_record = 60
"""


def test_production_outputs_keep_untouched_records_to_the_digit(tmp_path: Path) -> None:
    """A survey file as an office writes it (whole numbers, blanks, a reported field that may
    not be imputed): records nothing changed are written back to edited.csv exactly as read
    (90, not 90.0), every change is in the audit log in the same form, and the automation
    rate is the share of records no clerk has to see."""
    from mlstat_core import engine

    frame = pd.read_csv(SURVEY).iloc[:400].copy()
    frame.insert(0, "hh", [f"{i:05d}" for i in range(len(frame))])
    frame["hhsize"] = frame["children"] + 2
    frame = frame.astype({c: "Int64" for c in ("totexp", "income", "hhsize")})
    frame.loc[[3, 50, 77], "income"] = pd.NA
    frame.loc[[9, 60], "totexp"] = pd.NA
    frame.loc[11, "totexp"] = frame.loc[11, "totexp"] * 100  # a unit error
    frame.loc[[20, 21], "hhsize"] = pd.NA
    frame.to_csv(tmp_path / "survey.csv", index=False)
    meta = pd.read_csv(SURVEY.parent / "budget_uk_metadata.csv")
    meta.loc[len(meta)] = ["hhsize", "integer", "count", 1, 20, False, 2.0, "household size"]
    meta.to_csv(tmp_path / "meta.csv", index=False)
    (tmp_path / "p.toml").write_text(PRODUCTION.replace("{rules}", json.dumps(BUDGET_RULES)))
    result = engine.run(tmp_path / "p.toml", out=tmp_path / "runs")
    assert result.status == "succeeded"
    outputs = result.run_dir / "outputs"
    given = pd.read_csv(tmp_path / "survey.csv", dtype=str, keep_default_na=False)
    edited = pd.read_csv(outputs / "edited.csv", dtype=str, keep_default_na=False)
    flags = [c for c in edited.columns if c.endswith("__flag")]
    untouched = (edited[flags] == "original").all(axis=1)
    assert untouched.sum() > 300
    for column in given.columns:
        assert edited.loc[untouched, column].tolist() == given.loc[untouched, column].tolist(), \
            column
    typed = pd.read_csv(outputs / "edited.csv")
    assert {c: str(typed[c].dtype) for c in ("totexp", "income", "age", "children")} == \
        dict.fromkeys(("totexp", "income", "age", "children"), "int64")
    assert typed.loc[[20, 21], "hhsize"].isna().all()  # kept missing: never imputed
    audit = pd.read_csv(outputs / "audit.csv", dtype=str, keep_default_na=False)
    unit = audit[(audit["record"] == "00011") & (audit["field"] == "totexp")]
    assert unit[["old_value", "new_value", "flag"]].values.tolist() == [
        [given.loc[11, "totexp"], str(int(given.loc[11, "totexp"]) // 100), "edited"]]
    assert not audit.loc[audit["field"].isin(["totexp", "income"]), "new_value"].str.contains(
        r"\.").any()
    predictions = pd.read_parquet(result.run_dir / "predictions.parquet")
    review = predictions["needs_review"].to_numpy(bool)
    assert review[[20, 21]].all() and not predictions["edit_pass"].to_numpy(bool)[[20, 21]].any()
    assert (review == ~predictions["edit_pass"].to_numpy(bool)).all()
    assert result.metrics["automation_rate"] == pytest.approx(1 - review.mean())
    assert result.metrics["manual_review_share"] == pytest.approx(review.mean())


# --- audit II: declared types, wide surveys -------------------------------------------------


def test_a_declared_integer_that_is_not_whole_fails_its_edit_and_is_imputed_whole(
        data: Dataset, tmp_path: Path) -> None:
    """An age of 25.5 passed every edit: 'age' is integer in the metadata, so a value that is
    not whole fails its whole-number edit, is imputed (whole, passing every edit) and flagged
    with a reason naming the variable and the rule; a count that may not be imputed (children)
    keeps its value and sends its record to review, saying why."""
    frame = data.frame.copy()
    frame.loc[3, "age"] = 25.5
    frame.loc[8, "children"] = 1.5
    model = PmmModel(PmmParams(**FAST)).fit(data)
    out = model.predict(frame)
    assert out.loc[3, "age__flag"] == "imputed:pmm"
    assert float(out.loc[3, "age"]).is_integer() and 16 <= out.loc[3, "age"] <= 120
    assert "age_whole" in out.loc[3, "failed_rules"].split(",")
    reason = json.loads(out.loc[3, "reasons"])["age"]
    assert "25.5 is not a whole number" in reason and "'age'" in reason and "age_whole" in reason
    assert out.loc[3, "edit_pass"]
    assert np.all(np.mod(out["age"].dropna(), 1) == 0)  # every imputed age is whole
    assert out.loc[8, "children"] == 1.5 and out.loc[8, "needs_review"]
    assert "'children'" in out.loc[8, "review_reason"]
    assert "children_whole" in out.loc[8, "review_reason"]
    assert _passes_unless_held(out.drop(index=8)).all()
    model.write_outputs(tmp_path, out.assign(record_id=frame.index),
                        Dataset(frame, data.roles, metadata=data.metadata))
    summary = json.loads((tmp_path / "edit_summary.json").read_text())
    assert summary["records_failing_before"]["age_whole"] == 1
    assert "age is a whole number (integer in the metadata)" in summary["rules"]
    audit = pd.read_csv(tmp_path / "audit.csv")
    row = audit[(audit["record"] == 3) & (audit["field"] == "age")].iloc[0]
    assert row["old_value"] == 25.5 and "age_whole" in row["reason"]


def test_a_type_guessed_from_the_data_makes_no_whole_number_edit(data: Dataset) -> None:
    """A variable the metadata does not type, whose training values happen to be whole, is
    not held to whole numbers: a guess is no edit the user asked for."""
    variables = {v: {k: x for k, x in info.items() if k != "type"}
                 for v, info in data.metadata["variables"].items()}
    ds = _with_metadata(data, variables)
    model = RatioModel(RatioModel.params_type(detect=False)).fit(ds)
    assert model.infos["age"]["guessed"] and model.infos["age"]["type"] == "integer"
    assert not any("whole" in r.name for r in model.editor.rules)
    frame = data.frame.copy()
    frame.loc[3, "age"] = 25.5
    out = model.predict(frame)
    assert out.loc[3, "age"] == 25.5 and out.loc[3, "age__flag"] == "original"


def test_a_declared_integer_survives_saving_and_loading(data: Dataset, tmp_path: Path) -> None:
    model = RatioModel(RatioModel.params_type()).fit(data)
    model.save(tmp_path)
    loaded = RatioModel.load(tmp_path)
    frame = data.frame.copy()
    frame.loc[3, "age"] = 25.5
    assert loaded.predict(frame).loc[3, "age__flag"] == "imputed:ratio"


def test_a_model_saved_before_declared_types_edits_as_it_did(data: Dataset,
                                                            tmp_path: Path) -> None:
    """A model saved without ``guessed`` flags cannot tell declared from guessed types: it
    gets no whole-number edit, so it treats records as it did when it was saved."""
    import json

    from mlstat_core.components import STATE_FILE

    RatioModel(RatioModel.params_type()).fit(data).save(tmp_path)
    state = json.loads((tmp_path / STATE_FILE).read_text())
    for info in state["infos"].values():
        info.pop("guessed", None)
    (tmp_path / STATE_FILE).write_text(json.dumps(state))
    loaded = RatioModel.load(tmp_path)
    assert not any(r.name.endswith("_whole") for r in loaded.editor.rules)
    # but its integer variables are still solved and rounded in whole numbers, as then
    age = loaded.variables.index("age")
    assert loaded.editor.integer[age] and loaded.editor.integer.tolist() == \
        RatioModel(RatioModel.params_type()).fit(data).editor.integer.tolist()
    frame = data.frame.copy()
    frame.loc[3, "age"] = 25.5
    assert loaded.predict(frame).loc[3, "age"] == 25.5


def test_metadata_with_a_blank_type_reads_as_numeric(tmp_path: Path) -> None:
    """A blank type cell was read as the type 'nan' and refused."""
    from mlstat_editimpute.metadata import read_metadata

    (tmp_path / "m.csv").write_text("variable,type,min\nx,,0\ny,integer,\n")
    infos = read_metadata(tmp_path / "m.csv")
    assert infos["x"].type == "numeric" and infos["y"].type == "integer"


def test_injection_into_an_unknown_variable_of_a_wide_survey_names_only_close_ones(
        tmp_path: Path) -> None:
    """The message listed every column of the data set (hundreds on a wide survey): it names
    the unknown variable and the closest names only."""
    from mlstat_editimpute.loaders import SurveyLoader
    from mlstat_editimpute.params import SurveyParams

    rng = np.random.default_rng(0)
    columns = {f"q{i:03d}": rng.integers(0, 9, 30) for i in range(200)}
    pd.DataFrame({**columns, "income": rng.random(30)}).to_csv(tmp_path / "d.csv", index=False)
    for name, said in (("incme", "did you mean 'income'?"),
                       ("zzzz", "none of the 201 variables edited has a similar name")):
        loader = SurveyLoader(SurveyParams(path="d.csv", inject=[
            {"kind": "mcar", "variables": [name]}]))
        with pytest.raises(DataError) as caught:
            loader.load(tmp_path)
        message = str(caught.value)
        assert f"names {name!r}" in message and said in message
        assert "q150" not in message and len(message) < 200


def test_predictions_keep_declared_integers_whole_in_every_batch(data: Dataset) -> None:
    """predictions.parquet held ages as floats while edited.csv kept them integer. A variable
    declared integer that may be imputed is int64 in the predictions (Int64 where missing),
    whatever the batch holds (an age of 25.5 is imputed whole), so that an engine fixing the
    column types from a first batch (Spark, chunks) finds the same in every batch; a count
    that may not be imputed can keep a reported 1.5 and stays a float."""
    from mlstat_editimpute.models import _as_integer

    model = RatioModel(RatioModel.params_type()).fit(data)
    clean = model.predict(data.frame.iloc[:50])
    frame = data.frame.iloc[50:100].copy()
    frame.loc[60, "age"] = 25.5
    frame.loc[61, "age"] = np.nan
    odd = model.predict(frame)
    for out in (clean, odd):
        assert str(out["age"].dtype) == "int64" and str(out["children"].dtype) == "float64"
        assert str(out["income"].dtype) == "float64"
    assert odd.loc[60, "age__flag"] == "imputed:ratio"
    missing = _as_integer(pd.Series([30.0, np.nan]))
    assert str(missing.dtype) == "Int64" and missing.isna().tolist() == [False, True]


def test_a_typo_in_a_metadata_variable_name_is_not_silently_ignored(tmp_path: Path) -> None:
    """With the loader's `variables`, metadata describing 'incme' for 'income' was ignored
    silently: 'income' was edited without its range and its imputable = false; now a warning
    says so (an error would refuse a metadata file shared with other surveys). Without
    `variables`, the error now suggests the column meant."""
    from mlstat_editimpute.loaders import SurveyLoader
    from mlstat_editimpute.params import SurveyParams

    pd.DataFrame({"hh": range(20), "income": range(100, 120), "kids": [0, 1] * 10}).to_csv(
        tmp_path / "d.csv", index=False)
    pd.DataFrame({"variable": ["incme", "kids"], "imputable": [False, True],
                  "max": [500, 5]}).to_csv(tmp_path / "m.csv", index=False)
    with pytest.warns(UserWarning, match=r"variable 'income' to edit has no entry in the "
                                         r"metadata, which describes 'incme'"):
        SurveyLoader(SurveyParams(path="d.csv", metadata="m.csv", id="hh",
                                  variables=["income", "kids"])).load(tmp_path)
    with pytest.raises(DataError, match=r"'incme' \(did you mean 'income'\?\) that .*d.csv"):
        SurveyLoader(SurveyParams(path="d.csv", metadata="m.csv", id="hh")).load(tmp_path)


def test_metadata_rows_described_twice_or_without_a_name_are_refused(tmp_path: Path) -> None:
    """A second row for a variable silently replaced the first, and a row without a name
    described the variable 'nan'; a blank line is skipped."""
    from mlstat_editimpute.metadata import read_metadata

    path = tmp_path / "m.csv"
    path.write_text("variable,type,min\nx,integer,0\ny,numeric,1\nx,numeric,\n")
    with pytest.raises(DataError, match=r"row 4 \(x\): variable 'x' is described twice"):
        read_metadata(path)
    path.write_text("variable,type,min\nx,integer,0\n,integer,\n")
    with pytest.raises(DataError, match="row 3: the variable name is blank"):
        read_metadata(path)
    path.write_text("variable,type\nx,integer\n,\ny,numeric\n")
    assert list(read_metadata(path)) == ["x", "y"]


def test_an_empty_metadata_variable_says_where_to_drop_it(tmp_path: Path) -> None:
    """'drop it from `variables`' was said of a variable the loader's `variables` did not
    name (it came from the metadata)."""
    from mlstat_editimpute.loaders import SurveyLoader
    from mlstat_editimpute.params import SurveyParams

    pd.DataFrame({"x": range(20), "empty": [np.nan] * 20}).to_csv(tmp_path / "d.csv",
                                                                  index=False)
    pd.DataFrame({"variable": ["x", "empty"]}).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(DataError, match=r"'empty' .* has no value at all .*drop it from the "
                                        r"metadata"):
        SurveyLoader(SurveyParams(path="d.csv", metadata="m.csv")).load(tmp_path)


def test_a_measured_variable_declared_integer_is_warned_of(data: Dataset) -> None:
    """Shares declared integer by mistake would all fail their whole-number edit: fit says
    which variable and what to check, rather than imputing them silently."""
    variables = {**data.metadata["variables"],
                 "wfood": {**data.metadata["variables"]["wfood"], "type": "integer"}}
    warned = r"observed values of 'wfood' \(\d+%\) are not whole numbers, though the " \
             r"metadata declares it integer"
    with pytest.warns(UserWarning, match=warned), \
            pytest.raises(DataError, match="set its type to numeric"):
        RatioModel(RatioModel.params_type()).fit(_with_metadata(data, variables))
