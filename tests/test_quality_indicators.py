"""Explainability, reproducibility, timeliness and cost-effectiveness indicators, the runner
that records failures, and the indicator specs."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from test_quality_context import StubModel, budget_context, label_context

from mlstat_core.components import DIMENSIONS, Indicator, IndicatorResult
from mlstat_core.quality.cost import CostEffectiveness
from mlstat_core.quality.explainability import (
    InfluentialTerms,
    PermutationImportance,
    RecordExplanations,
    normalise_terms,
)
from mlstat_core.quality.params import CostParams, PermutationParams, RefitParams, TermsParams
from mlstat_core.quality.reproducibility import Provenance, RefitCheck
from mlstat_core.quality.runner import run_indicator
from mlstat_core.quality.specs import INDICATORS
from mlstat_core.quality.timeliness import Timings


def by_name(results):
    return {r.name: r for r in (results if isinstance(results, list) else [results])}


# --- explainability -----------------------------------------------------------------------------


def test_permutation_importance_finds_the_input_the_target_depends_on() -> None:
    from mlstat_core.builtins.models import RandomForestModel
    from mlstat_core.builtins.params import ForestParams
    from mlstat_core.components import AssessContext, ColumnRoles, Dataset
    from mlstat_core.tasks import TABULAR_CLASSIFICATION

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"signal": rng.normal(size=600), "noise": rng.normal(size=600)})
    frame["y"] = np.where(frame["signal"] > 0, "up", "down")
    data = Dataset(frame, ColumnRoles(target="y", features=["signal", "noise"]))
    train, test = data.subset(np.arange(400)), data.subset(np.arange(400, 600))
    model = RandomForestModel(ForestParams(n_estimators=20)).fit(train)
    ctx = AssessContext(task=TABULAR_CLASSIFICATION, model=model, train=train, test=test,
                        predictions=model.predict(test.frame), seed=4)
    indicator = PermutationImportance(PermutationParams(n_repeats=3, max_records=150))
    result = indicator.compute(ctx)
    assert list(result.value)[0] == "signal"
    assert result.value["signal"] > 0.3
    assert abs(result.value["noise"]) < 0.05
    assert result.details["records"] == 150
    assert indicator.compute(ctx).value == result.value  # seeded


def test_permutation_importance_on_the_budget_model_is_bounded_and_seeded() -> None:
    ctx = budget_context()
    params = PermutationParams(n_repeats=2, max_records=100, max_features=3)
    first = PermutationImportance(params).compute(ctx)
    assert len(first.value) == 3
    assert first.plots[0].kind == "bar"
    assert PermutationImportance(params).compute(ctx).value == first.value


def test_permutation_importance_names_no_input_of_a_model_that_ignores_them() -> None:
    """The majority baseline reads no input: every importance is 0, and the report must not
    call one of them "the most influential input"."""
    from mlstat_core.builtins.models import MajorityModel
    from mlstat_core.components import NoParams

    ctx = budget_context()
    model = MajorityModel(NoParams()).fit(ctx.train)
    ctx.model, ctx.predictions = model, model.predict(ctx.test.frame)
    result = PermutationImportance(PermutationParams(n_repeats=2)).compute(ctx)
    assert set(result.value.values()) == {0.0}
    assert "most influential input" not in result.explanation
    assert "does not rely on any of them" in result.explanation


def test_permutation_importance_says_when_it_shuffled_only_the_first_inputs() -> None:
    ctx = budget_context()
    every = PermutationImportance(PermutationParams(n_repeats=1)).compute(ctx)
    assert "max_features" not in every.explanation and every.details["assessed"] == 9
    first = PermutationImportance(PermutationParams(n_repeats=1, max_features=3)).compute(ctx)
    assert len(first.value) == 3 and first.details["inputs"] == 9
    assert "Only the first 3 of the 9 inputs were shuffled (max_features)" in first.explanation


@pytest.mark.parametrize("given", [
    {"classes": {"food": [{"term": "bread", "weight": 2.0}, {"term": "milk", "weight": 1.5}]}},
    {"food": [["bread", 2.0], ["milk", 1.5]]},
    {"food": {"bread": 2.0, "milk": 1.5}},
])
def test_influential_terms_accepts_the_documented_shapes(given) -> None:
    assert normalise_terms(given) == {"food": [("bread", 2.0), ("milk", 1.5)]}


def test_influential_terms_per_class() -> None:
    explanation = {"kind": "terms_per_class", "classes": {
        "01.1": {"bread": 2.5, "rice": 1.0, "<script>": -0.5},
        "07.2": {"petrol": 3.0, "diesel": 2.0}}}
    ctx = label_context(["a"], ["a"])
    ctx.model = StubModel(explanation=explanation)
    result = InfluentialTerms().compute(ctx)
    assert result.status == "ok" and result.value == 2
    assert result.details["terms"]["01.1"][0] == ["bread", 2.5]
    assert result.details["table"]["rows"][1][1].startswith("petrol (+3.00)")
    # a cut table says so; importances (a forest's) have no direction, so no sign
    cut = InfluentialTerms(TermsParams(max_classes=1)).compute(ctx)
    assert "first 1 of 2 classes" in cut.explanation
    ctx.model = StubModel(explanation={"kind": "impurity_importance",
                                       "features": {"band_1": 0.6, "band_2": 0.4}})
    forest = InfluentialTerms().compute(ctx)
    assert forest.details["table"]["rows"][0][1] == "band_1 (0.60), band_2 (0.40)"
    assert "without a direction" in forest.explanation and "towards" not in forest.explanation


def test_no_explanation_is_skipped() -> None:
    ctx = budget_context()
    assert InfluentialTerms().compute(ctx).status == "skipped"
    assert RecordExplanations().compute(ctx).status == "skipped"


def test_record_explanations_show_inputs_per_record() -> None:
    ctx = budget_context()
    index = ctx.test.frame.index[:2]
    explained = pd.DataFrame({"record": [index[0], index[0], index[1]],
                              "feature": ["income", "age", "totexp"],
                              "contribution": [0.8, -0.2, 0.5]})
    ctx.model = StubModel(explained=explained)
    result = RecordExplanations().compute(ctx)
    assert result.value == 2
    first = result.details["records"][0]
    assert first["inputs"] == [["income", 0.8], ["age", -0.2]]
    assert first["predicted"] == str(ctx.predictions.at[index[0], "prediction"])
    assert first["true"] == str(ctx.test.frame.at[index[0], "children"])


# --- reproducibility, timeliness ----------------------------------------------------------------


def test_refit_of_a_seeded_model_gives_identical_predictions() -> None:
    from mlstat_core.builtins.models import LogisticRegressionModel
    from mlstat_core.builtins.params import LogisticParams

    ctx = budget_context()
    ctx.refit = lambda: LogisticRegressionModel(LogisticParams()).fit(ctx.train).predict(
        ctx.test.frame)
    result = RefitCheck().compute(ctx)
    assert result.value == 1.0 and result.headline
    assert result.details["max_probability_difference"] < 1e-9


def test_refit_reports_the_share_of_changed_predictions() -> None:
    ctx = label_context(list("aabb"), list("abab"))
    ctx.refit = lambda: pd.DataFrame({"prediction": list("abba")})
    result = RefitCheck().compute(ctx)
    assert result.value == 0.5
    assert result.details["different"] == 2


def test_refit_can_be_switched_off_or_be_unavailable() -> None:
    ctx = label_context(["a"], ["a"])
    ctx.refit = lambda: pytest.fail("refit must not run")
    assert RefitCheck(RefitParams(refit=False)).compute(ctx).status == "skipped"
    ctx.refit = None
    assert RefitCheck().compute(ctx).status == "skipped"


def test_under_cross_validation_the_refit_check_says_why_it_is_not_available() -> None:
    ctx = label_context(["a"], ["a"], step_counts={"fit": 6})
    result = RefitCheck().compute(ctx)
    assert result.status == "skipped"
    assert result.explanation.startswith("Under cross-validation (6 trainings")
    assert "holdout split" in result.explanation
    evaluated = RefitCheck().compute(label_context(["a"], ["a"], step_counts={"predict": 1}))
    assert evaluated.explanation.startswith("Nothing was trained here")


def test_provenance_lists_fingerprints_config_and_environment() -> None:
    ctx = label_context(["a"], ["a"], fingerprints={"budget.csv": "ab" * 32},
                        config_hash="c" * 64, environment={
                            "python": "3.12.1", "threads": {"cpus": 16, "OMP_NUM_THREADS": "4"}})
    result = Provenance().compute(ctx)
    assert result.value == "c" * 12
    rows = dict(map(tuple, result.details["table"]["rows"]))
    assert rows["data: budget.csv"] == "ab" * 32 and rows["python"] == "3.12.1"
    assert rows["threads"] == "16 CPUs, OMP_NUM_THREADS=4"


def test_the_environment_records_what_sets_the_threads(monkeypatch) -> None:
    """A multi-threaded sum depends on the number of threads: a rerun elsewhere that differs
    can be traced to the cores or to a variable that set them."""
    import os

    from mlstat_core.artifacts import environment

    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    threads = environment()["threads"]
    assert threads["cpus"] == os.cpu_count() and threads["OMP_NUM_THREADS"] == "3"
    assert "MKL_NUM_THREADS" not in threads


def test_timings() -> None:
    ctx = label_context(["a"] * 200, ["a"] * 200, timings={"fit": 2.0, "predict": 0.5},
                        peak_memory_mb=321.0)
    results = by_name(Timings().compute(ctx))
    assert results["fit_seconds"].value == 2.0
    assert results["records_per_second"].value == 400.0
    assert results["peak_memory_mb"].value == 321.0
    no_memory = by_name(Timings().compute(label_context(["a"], ["a"])))
    assert no_memory["peak_memory_mb"].status == "skipped"
    assert "was not measured" in no_memory["peak_memory_mb"].explanation  # why, not what
    # cross-validation: 5 folds and the final model; fit_seconds is one training, not six
    folds = by_name(Timings().compute(label_context(["a"], ["a"], timings={"fit": 6.0},
                                                    step_counts={"fit": 6})))
    assert folds["fit_seconds"].value == 1.0 and folds["fit_seconds"].details["fits"] == 6
    assert "mean of 6 trainings" in folds["fit_seconds"].explanation


def test_an_evaluation_times_no_training_and_says_so() -> None:
    """`mlstat evaluate` scores a saved model: fit_seconds is not a computed figure without a
    value, but not available, naming the run that trained the model."""
    results = by_name(Timings().compute(label_context(["a"] * 4, ["a"] * 4,
                                                      timings={"predict": 0.5})))
    assert results["fit_seconds"].status == "skipped" and results["fit_seconds"].value is None
    assert "Nothing was trained here" in results["fit_seconds"].explanation
    assert results["records_per_second"].value == 8.0


# --- cost-effectiveness -------------------------------------------------------------------------


def test_cost_from_routes_and_settings() -> None:
    ctx = label_context(["a"] * 10, ["a"] * 10, settings={
        "manual_seconds_per_record": 36, "cost_per_hour": 50, "currency": "EUR",
        "records_per_cycle": 100_000})
    ctx.predictions["route"] = ["auto"] * 7 + ["manual"] * 3
    results = by_name(CostEffectiveness().compute(ctx))
    assert results["automation_rate"].value == pytest.approx(0.7)
    # 100,000 records * 0.7 * 36 s = 700 hours saved; 300 hours remain
    assert results["manual_hours_saved"].value == pytest.approx(700)
    assert results["manual_hours_remaining"].value == pytest.approx(300)
    assert results["cost_saved"].value == pytest.approx(35_000)
    assert "EUR" in results["cost_saved"].explanation
    assert "100.0% of those are correct" in results["automation_rate"].explanation


def test_the_automation_rate_says_how_right_the_automatic_records_are_on_test() -> None:
    # the threshold is chosen on other records; these test records above it are 2 of 3 right
    ctx = label_context(["a", "a", "b", "b"], ["a", "a", "a", "b"],
                        confidence=[0.95, 0.9, 0.85, 0.4])
    rate = by_name(CostEffectiveness(CostParams(threshold=0.8)).compute(ctx))["automation_rate"]
    assert rate.value == 0.75
    assert "on the test records, 66.7% of those are correct" in rate.explanation


def test_cost_from_a_confidence_threshold() -> None:
    ctx = label_context(["a"] * 4, ["a"] * 4, confidence=[0.95, 0.9, 0.5, 0.4],
                        settings={"manual_seconds_per_record": 3600})
    results = by_name(CostEffectiveness(CostParams(threshold=0.8)).compute(ctx))
    assert results["automation_rate"].value == 0.5
    assert results["manual_hours_saved"].value == pytest.approx(2.0)
    assert "cost_saved" not in results


def test_cost_without_settings_says_what_to_set() -> None:
    results = by_name(CostEffectiveness().compute(label_context(["a"], ["a"])))
    assert results["automation_rate"].value == 1.0
    assert results["manual_hours_saved"].status == "skipped"
    assert "manual_seconds_per_record" in results["manual_hours_saved"].explanation


# --- runner --------------------------------------------------------------------------------------


class Broken(Indicator):
    def compute(self, ctx):
        raise ZeroDivisionError("no records")


class Noisy(Indicator):
    def compute(self, ctx):
        warnings.warn("few records", UserWarning, stacklevel=1)
        return IndicatorResult("noisy", "timeliness", 1.0)


def test_a_failing_indicator_is_recorded_and_the_others_still_computed() -> None:
    ctx = budget_context()
    results = []
    for indicator, name, dim in [(Broken(), "demo.broken", "accuracy"),
                                 (Timings(), "core.timings", "timeliness")]:
        results.extend(run_indicator(indicator, name, dim, ctx))
    failed = [r for r in results if r.status == "failed"]
    assert len(failed) == 1
    assert failed[0].name == "demo.broken" and failed[0].dimension == "accuracy"
    assert failed[0].error == "ZeroDivisionError: no records"
    assert "Traceback" in failed[0].details["traceback"]
    assert {r.name for r in results if r.status != "failed"} >= {"fit_seconds"}
    assert all(r.details["indicator"] == "core.timings" for r in results[1:])


def test_runner_keeps_warnings_and_rejects_bad_results() -> None:
    ctx = label_context(["a"], ["a"])
    [noisy] = run_indicator(Noisy(), "demo.noisy", "timeliness", ctx)
    assert noisy.status == "ok" and "UserWarning: few records" in noisy.details["warnings"]

    class Wrong(Indicator):
        def compute(self, ctx):
            return {"accuracy": 1}

    class BadDimension(Indicator):
        def compute(self, ctx):
            return IndicatorResult("x", "speed", 1)

    assert run_indicator(Wrong(), "demo.wrong", "accuracy", ctx)[0].status == "failed"
    [bad] = run_indicator(BadDimension(), "demo.bad", "timeliness", ctx)
    assert bad.status == "failed" and "speed" in bad.error


# --- specs ---------------------------------------------------------------------------------------


def test_every_spec_honours_the_contract_and_its_factory_imports() -> None:
    names = [s.name for s in INDICATORS]
    assert len(names) == len(set(names))
    tasks = {"tabular_classification", "text_classification", "tabular_regression",
             "tabular_imputation", "raster_segmentation"}
    for spec in INDICATORS:
        assert spec.problems() == [], spec.name
        assert spec.dimension in DIMENSIONS
        assert set(spec.tasks) <= tasks
        assert issubclass(spec.load_factory(), Indicator)
    covered = {d for s in INDICATORS for d in [s.dimension]}
    assert covered == set(DIMENSIONS)


def test_every_default_indicator_runs_on_a_classification_run() -> None:
    ctx = budget_context(settings={"manual_seconds_per_record": 20})
    for spec in INDICATORS:
        if spec.default and spec.serves("tabular_classification"):
            results = run_indicator(spec.load_factory()(spec.params()), f"core.{spec.name}",
                                    spec.dimension, ctx)
            assert results and all(r.status != "failed" for r in results), spec.name


def test_declaring_the_indicators_imports_no_heavy_library() -> None:
    code = ("import sys, mlstat_core.quality.specs; "
            "heavy = [m for m in ('pandas', 'numpy', 'sklearn', 'scipy', 'matplotlib') "
            "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_core_registers_the_indicators() -> None:
    from mlstat_core.registry import discover

    registry = discover(entry_points=[])
    found = {c.full_name for c in registry.find(kind="indicator")}
    assert {"core.classification_accuracy", "core.auto_coding", "core.imputation_accuracy",
            "core.permutation_importance", "core.refit_check", "core.cost_effectiveness",
            "core.timings", "core.provenance"} <= found
    served = {c.spec.name for c in registry.find(kind="indicator", task="tabular_imputation")}
    assert "imputation_accuracy" in served and "classification_accuracy" not in served


def test_runner_builds_lazily_and_records_build_errors() -> None:
    ctx = label_context(["a"], ["a"], timings={"fit": 1.0})

    def cannot_build() -> Indicator:
        raise ImportError("needs torch")

    [failed] = run_indicator(cannot_build, "demo.torchy", "explainability", ctx)
    assert failed.status == "failed" and "needs torch" in failed.error
    results = run_indicator(Timings, "core.timings", "timeliness", ctx)
    assert results[0].name == "fit_seconds" and results[0].value == 1.0


def test_cost_without_a_currency_says_it_is_not_set_and_where_to_set_it() -> None:
    """It said "at 35 an hour": 35 of what?"""
    ctx = label_context(["a"] * 4, ["a"] * 4, settings={
        "manual_seconds_per_record": 20, "cost_per_hour": 35.0, "currency": ""})
    ctx.predictions["route"] = ["auto"] * 4
    explanation = by_name(CostEffectiveness().compute(ctx))["cost_saved"].explanation
    assert "at 35 an hour" not in explanation
    assert "at 35 (currency not set" in explanation
    assert "`currency` in the pipeline's [quality] table" in explanation
    ctx.settings["currency"] = "GBP"
    named = by_name(CostEffectiveness().compute(ctx))["cost_saved"].explanation
    assert "at 35 GBP an hour" in named and "not set" not in named


def test_the_cost_figures_name_the_records_they_count() -> None:
    settings = {"manual_seconds_per_record": 36}
    run = by_name(CostEffectiveness().compute(label_context(
        ["a"] * 10, ["a"] * 10, settings=settings, step_counts={"fit": 1, "predict": 1})))
    assert "for the 10 records of the test set" in run["manual_hours_saved"].explanation
    remaining = run["manual_hours_remaining"].explanation
    assert remaining.startswith("Hours of manual work still needed for the 10 records of the "
                                "test set: the records the model does not handle, at 36")
    evaluation = by_name(CostEffectiveness().compute(label_context(
        ["a"] * 10, ["a"] * 10, settings=settings, step_counts={"predict": 1})))
    assert "for the 10 records of the evaluated file" in \
        evaluation["manual_hours_saved"].explanation


def test_a_threshold_set_for_the_cost_figures_is_used_even_where_the_model_routes() -> None:
    """`auto_threshold` (or the `threshold` param) was silently ignored whenever the
    predictions had a `route` column: the cost figures kept the model's own routes."""
    ctx = label_context(["a"] * 4, ["a"] * 4, confidence=[0.9, 0.9, 0.6, 0.4],
                        settings={"auto_threshold": 0.5, "manual_seconds_per_record": 3600})
    ctx.predictions["route"] = ["auto"] + ["manual"] * 3
    results = by_name(CostEffectiveness().compute(ctx))
    assert results["automation_rate"].value == 0.75
    assert "records with confidence >= 0.5" in results["automation_rate"].explanation
    assert results["manual_hours_saved"].value == pytest.approx(3.0)
    assert by_name(CostEffectiveness(CostParams(threshold=0.95)).compute(ctx))[
        "automation_rate"].value == 0.0
    del ctx.settings["auto_threshold"]  # without one, the model's routes
    assert by_name(CostEffectiveness().compute(ctx))["automation_rate"].value == 0.25
    routes_only = label_context(["a"] * 4, ["a"] * 4, settings={"auto_threshold": 0.5})
    routes_only.predictions["route"] = ["auto"] + ["manual"] * 3
    rate = by_name(CostEffectiveness().compute(routes_only))["automation_rate"]
    assert rate.value == 0.25 and "threshold 0.5 set for the cost figures is not used" \
        in rate.explanation


def test_a_cost_threshold_chosen_on_the_test_records_is_called_optimistic() -> None:
    conf = list(np.linspace(0.99, 0.5, 40))
    ctx = label_context(["a"] * 40, ["a"] * 30 + ["b"] * 10, confidence=conf)
    rate = by_name(CostEffectiveness().compute(ctx))["automation_rate"]
    assert rate.value == 0.775  # 30 of the 31 most confident are right: 96.8% >= 95%
    assert "20 test records (chosen on the test records that measure it, so optimistic" \
        in rate.explanation


def test_a_scoring_speed_without_a_prediction_time_is_not_a_computed_figure() -> None:
    """It was `ok` with no value (the report's "computed" figures counted it)."""
    for timings in ({"fit": 1.0}, {"fit": 1.0, "predict": 0.0}):
        rate = by_name(Timings().compute(label_context(["a"], ["a"], timings=timings)))[
            "records_per_second"]
        assert rate.status == "skipped" and rate.value is None
        assert "No prediction time above 0" in rate.explanation


def test_permutation_importance_leaves_out_records_without_a_numeric_prediction() -> None:
    """One missing regression prediction made the RMSE, so every importance, NaN; yet the
    explanation named "the most influential input"."""
    from mlstat_core.components import AssessContext, ColumnRoles, Dataset
    from mlstat_core.tasks import TABULAR_REGRESSION

    class Doubling(StubModel):
        def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
            out = frame["a"].to_numpy(float) * 2.0
            out[::7] = np.nan  # no prediction for some records
            return pd.DataFrame({"prediction": out}, index=frame.index)

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100)})
    frame["y"] = 2 * frame["a"]
    data = Dataset(frame, ColumnRoles(target="y", features=["a", "b"]))
    model = Doubling()
    ctx = AssessContext(task=TABULAR_REGRESSION, model=model, train=data, test=data,
                        predictions=model.predict(frame), seed=0)
    result = PermutationImportance(PermutationParams(n_repeats=2)).compute(ctx)
    assert result.status == "ok" and result.value["a"] > 1 and result.value["b"] == 0.0
    assert result.details["baseline"] == 0.0
    ctx.test = data.subset([0])  # its one record has no prediction
    none = PermutationImportance().compute(ctx)
    assert none.status == "skipped" and "no numeric prediction" in none.explanation


def test_a_refit_whose_probabilities_moved_warns_though_every_label_agrees() -> None:
    """Same labels, confidences 0.05 apart: the share was 1 ("reproducible") without a word,
    though routing by a confidence threshold changes with such a training."""
    ctx = label_context(list("ab"), list("ab"), confidence=[0.9, 0.8])
    ctx.refit = lambda: pd.DataFrame({"prediction": list("ab"), "confidence": [0.85, 0.8]})
    result = RefitCheck().compute(ctx)
    assert result.value == 1.0
    assert result.details["max_confidence_difference"] == pytest.approx(0.05)
    assert "differ by up to 0.05" in result.details["warnings"][0]
    ctx.refit = lambda: pd.DataFrame({"prediction": list("ab"), "confidence": [0.9, 0.8]})
    assert "warnings" not in RefitCheck().compute(ctx).details


def test_provenance_warns_when_no_input_file_was_fingerprinted() -> None:
    """The figure said anyone can check that a rerun read the same data, with no fingerprint
    to check it by."""
    result = Provenance().compute(label_context(["a"], ["a"], config_hash="c" * 64))
    assert "No input file was fingerprinted" in result.details["warnings"][0]
    assert result.details["table"]["rows"][0] == ["data", "no input file recorded"]
    fine = Provenance().compute(label_context(["a"], ["a"], fingerprints={"b.csv": "ab" * 32}))
    assert "warnings" not in fine.details


def test_an_automation_rate_of_every_record_says_how_many_are_right() -> None:
    """Without routes or confidences every record counts as handled automatically: the
    hours "saved" are only worth the share of those that are right, which went unsaid."""
    ctx = label_context(list("aabb"), list("abbb"), settings={"manual_seconds_per_record": 10})
    rate = by_name(CostEffectiveness().compute(ctx))["automation_rate"]
    assert rate.value == 1.0
    assert rate.explanation.endswith("on the test records, 75.0% of those are correct.")
    from mlstat_core.tasks import TABULAR_REGRESSION

    numbers = label_context([1.0, 2.0], [1.1, 2.2], task=TABULAR_REGRESSION)
    numeric = by_name(CostEffectiveness().compute(numbers))["automation_rate"]
    assert "correct" not in numeric.explanation  # a number is never exactly right


def test_one_signed_list_for_the_whole_model_ranks_weights_of_either_sign() -> None:
    """A global list of signed weights (a linear model's coefficients) was ranked by the
    weight itself: the strongest negative input never showed among the most influential."""
    ctx = label_context(["a"], ["a"])
    ctx.model = StubModel(explanation={"features": {"income": 0.2, "age": -3.0, "id": 0.1}})
    result = InfluentialTerms(TermsParams(top=2)).compute(ctx)
    assert result.details["terms"]["all classes"] == [["age", -3.0], ["income", 0.2]]
    assert "either sign" in result.explanation and "towards each class" not in \
        result.explanation
