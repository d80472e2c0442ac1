"""Accuracy indicators: the figures match their definitions and known values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    f1_score,
    matthews_corrcoef,
)
from test_quality_context import budget_context, label_context

from mlstat_core.quality import stats
from mlstat_core.quality.accuracy import (
    AutoCoding,
    ClassificationAccuracy,
    HierarchicalAccuracy,
    RegressionAccuracy,
    code_chains,
)
from mlstat_core.quality.params import (
    AutoCodingParams,
    ClassificationParams,
    HierarchyParams,
    RegressionParams,
)


def by_name(results):
    return {r.name: r for r in results}


def test_confusion_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 4, 500)
    y_pred = np.where(rng.random(500) < 0.6, y_true, rng.integers(0, 4, 500))
    got = stats.confusion_metrics(stats.confusion(y_true, y_pred, 4))
    assert got["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert got["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert got["weighted_f1"] == pytest.approx(f1_score(y_true, y_pred, average="weighted"))
    assert got["cohen_kappa"] == pytest.approx(cohen_kappa_score(y_true, y_pred))
    assert got["mcc"] == pytest.approx(matthews_corrcoef(y_true, y_pred))


def test_kappa_of_a_known_confusion() -> None:
    # rows true a/b, columns predicted a/b: [[20, 5], [10, 15]]
    # observed agreement 0.7, chance agreement (25*30 + 25*20)/50^2 = 0.5, kappa 0.4
    y_true = ["a"] * 25 + ["b"] * 25
    y_pred = ["a"] * 20 + ["b"] * 5 + ["a"] * 10 + ["b"] * 15
    results = by_name(ClassificationAccuracy().compute(label_context(y_true, y_pred)))
    assert results["accuracy"].value == pytest.approx(0.7)
    assert results["cohen_kappa"].value == pytest.approx(0.4)
    assert results["confusion_matrix"].details["matrix"] == [[20, 5], [10, 15]]
    per_class = {row[0]: row for row in results["per_class"].details["table"]["rows"]}
    assert per_class["a"][1] == pytest.approx(20 / 30)  # precision
    assert per_class["a"][2] == pytest.approx(20 / 25)  # recall
    assert per_class["b"][4] == 25  # support


def test_kappa_and_mcc_of_one_class_are_not_reported_as_zero() -> None:
    """An audit sample of one code, all predicted right: agreement is perfect, but kappa and
    MCC are 0/0, which a report of 0 ("no better than chance") would misstate."""
    results = by_name(ClassificationAccuracy().compute(label_context(["a"] * 30, ["a"] * 30)))
    assert results["accuracy"].value == 1.0
    for name in ("cohen_kappa", "mcc"):
        assert results[name].status == "skipped" and results[name].value is None
        assert results[name].explanation.startswith("Undefined: every")
    # one true class, predictions of two: kappa is 0 (defined), MCC is not
    results = by_name(ClassificationAccuracy().compute(
        label_context(["a"] * 30, ["a"] * 20 + ["b"] * 10)))
    assert results["cohen_kappa"].value == pytest.approx(0.0)
    assert results["mcc"].status == "skipped"
    assert "test record is of one class" in results["mcc"].explanation


def test_bootstrap_interval_contains_the_estimate_and_is_seeded() -> None:
    ctx = budget_context()
    first = by_name(ClassificationAccuracy().compute(ctx))
    for name in ("accuracy", "macro_f1", "weighted_f1", "cohen_kappa", "mcc"):
        low, high = first[name].interval
        assert low <= first[name].value <= high
        assert high - low > 0
    again = by_name(ClassificationAccuracy().compute(ctx))
    assert again["macro_f1"].interval == first["macro_f1"].interval
    reseeded = label_context(list(ctx.y_true), list(ctx.y_pred), seed=99)
    other = by_name(ClassificationAccuracy().compute(reseeded))
    assert other["macro_f1"].value == pytest.approx(first["macro_f1"].value)
    assert other["macro_f1"].interval != first["macro_f1"].interval
    # the accuracy, a share of records, has the Wilson interval: no draw, no seed
    assert other["accuracy"].interval == first["accuracy"].interval
    assert first["accuracy"].details["interval_method"] == "Wilson score"


def test_a_small_test_set_without_errors_does_not_clear_a_target_by_its_interval() -> None:
    """30 records, all right: the accuracy is 1, but 30 records cannot show that it is above
    0.95. A percentile bootstrap gave [1, 1], so the report said the whole interval cleared a
    0.95 target; the Wilson interval reaches down to 0.886 (below it)."""
    from mlstat_core.report import build_report

    labels = ["a"] * 15 + ["b"] * 15
    results = ClassificationAccuracy().compute(label_context(labels, labels))
    found = by_name(results)
    low, high = found["accuracy"].interval
    assert high == 1.0 and low == pytest.approx(0.8865, abs=1e-4)
    for name in ("macro_f1", "weighted_f1", "cohen_kappa", "mcc"):  # every replicate is 1
        assert found[name].value == 1.0 and found[name].interval is None
        assert "No test record is wrong" in found[name].explanation
    report = build_report(results, {"run_id": "r"}, {"targets": {"accuracy": 0.95,
                                                                 "macro_f1": 0.95}})
    figures = {f["name"]: f for f in report["headline"]}
    assert figures["accuracy"]["met"] is True and figures["accuracy"]["interval_clears"] is False
    assert figures["macro_f1"]["met"] is True and figures["macro_f1"]["interval_clears"] is None
    assert report["summary"]["targets_met_by_interval"] == 0


def test_the_accuracy_interval_is_wilson_at_the_asked_level() -> None:
    from mlstat_core.quality.params import ClassificationParams
    from mlstat_core.quality.stats import wilson_interval

    y_true = ["a"] * 20 + ["b"] * 20
    y_pred = ["a"] * 17 + ["b"] * 3 + ["b"] * 19 + ["a"]
    for level in (0.8, 0.95):
        got = by_name(ClassificationAccuracy(ClassificationParams(confidence_level=level))
                      .compute(label_context(y_true, y_pred)))["accuracy"]
        assert got.interval == pytest.approx(wilson_interval(36, 40, level))
        assert got.details["confidence_level"] == level
    low, high = wilson_interval(36, 40, 0.95)
    assert 0.75 < low < 0.9 < high < 0.97
    # no record right, or every one: the ends are exactly 0 and 1, not float noise
    assert wilson_interval(0, 12)[0] == 0.0 and wilson_interval(12, 12)[1] == 1.0


def test_with_survey_weights_the_accuracy_says_it_counts_records_and_gives_the_weighted_share(
) -> None:
    y_true = ["a"] * 6 + ["b"] * 4
    y_pred = ["a"] * 6 + ["a"] * 4  # the b records, weighted 10 each, are all wrong
    ctx = label_context(y_true, y_pred)
    ctx.test.frame["w"] = [1.0] * 6 + [10.0] * 4
    ctx.test.roles.weights = "w"
    accuracy = by_name(ClassificationAccuracy().compute(ctx))["accuracy"]
    assert accuracy.value == pytest.approx(0.6)
    assert accuracy.details["weighted_accuracy"] == pytest.approx(6 / 46)
    assert "survey weights ('w') are not applied" in accuracy.explanation
    unweighted = by_name(ClassificationAccuracy().compute(label_context(y_true, y_pred)))
    assert "weighted_accuracy" not in unweighted["accuracy"].details
    assert "survey weights" not in unweighted["accuracy"].explanation


def test_bootstrap_interval_narrows_with_more_records() -> None:
    small = by_name(ClassificationAccuracy().compute(
        label_context(["a"] * 20 + ["b"] * 20, ["a"] * 15 + ["b"] * 25)))
    large = by_name(ClassificationAccuracy().compute(
        label_context(["a"] * 2000 + ["b"] * 2000, ["a"] * 1500 + ["b"] * 2500)))
    width = lambda r: r["accuracy"].interval[1] - r["accuracy"].interval[0]  # noqa: E731
    assert small["accuracy"].value == pytest.approx(large["accuracy"].value)
    assert width(large) < width(small) / 5


def test_no_bootstrap_means_no_interval() -> None:
    results = by_name(ClassificationAccuracy(ClassificationParams(bootstrap=0)).compute(
        label_context(["a", "b"], ["a", "a"])))
    assert results["accuracy"].interval is None


def test_real_model_figures_match_scikit_learn() -> None:
    ctx = budget_context()
    results = by_name(ClassificationAccuracy().compute(ctx))
    y_true = ctx.y_true.astype(str)
    y_pred = ctx.y_pred.astype(str)
    assert results["accuracy"].value == pytest.approx(accuracy_score(y_true, y_pred))
    assert results["accuracy"].headline and results["macro_f1"].headline
    assert results["per_class"].plots[0].kind == "bar"
    assert results["confusion_matrix"].plots[0].kind == "heatmap"
    assert results["expected_calibration_error"].plots[0].kind == "line"
    # two classes: no top-k beyond top-1
    assert not [n for n in results if n.startswith("top_")]


def test_labels_read_as_float_match_integer_predictions() -> None:
    results = by_name(ClassificationAccuracy().compute(
        label_context([1.0, 2.0, 2.0, 1.0], [1, 2, 2, 2])))
    assert results["accuracy"].value == pytest.approx(0.75)


def test_top_k_accuracy_from_probabilities() -> None:
    classes = ["a", "b", "c", "d"]
    # true class ranked 1st, 2nd, 3rd and 4th
    proba = np.array([[0.7, 0.1, 0.1, 0.1],
                      [0.1, 0.6, 0.3, 0.0],
                      [0.5, 0.3, 0.2, 0.0],
                      [0.4, 0.3, 0.2, 0.1]])
    ctx = label_context(["a", "c", "c", "d"], ["a", "b", "a", "a"], proba=proba,
                        classes=classes)
    results = by_name(ClassificationAccuracy(ClassificationParams(top_k=[2, 3])).compute(ctx))
    assert results["accuracy"].value == pytest.approx(0.25)
    assert results["top_2_accuracy"].value == pytest.approx(0.5)
    assert results["top_3_accuracy"].value == pytest.approx(0.75)


def test_top_k_accuracy_shares_the_places_among_tied_classes() -> None:
    """A model that cannot tell 5 classes apart (0.2 each, as core.majority gives between
    equally frequent classes) has the true class among its 3 best 3 times in 5, not always."""
    classes = list("abcde")
    truth = list("abcde") * 20
    ctx = label_context(truth, ["a"] * 100, proba=np.full((100, 5), 0.2), classes=classes)
    results = by_name(ClassificationAccuracy(ClassificationParams(top_k=[1, 3])).compute(ctx))
    assert results["top_3_accuracy"].value == pytest.approx(0.6)
    assert results["top_1_accuracy"].value == pytest.approx(0.2)


def test_top_k_is_skipped_without_probabilities() -> None:
    results = by_name(ClassificationAccuracy().compute(
        label_context(["a", "b", "c"], ["a", "b", "b"])))
    assert results["top_k_accuracy"].status == "skipped"
    assert results["expected_calibration_error"].status == "skipped"


def test_calibration_is_skipped_when_no_record_has_a_confidence() -> None:
    """A confidence column of blanks is no evidence of calibration, not an ECE of 0."""
    results = by_name(ClassificationAccuracy().compute(
        label_context(["a", "b"] * 5, ["a"] * 10, confidence=[float("nan")] * 10)))
    ece = results["expected_calibration_error"]
    assert ece.status == "skipped" and ece.value is None
    assert "No test record has a confidence" in ece.explanation


def test_ece_of_perfectly_calibrated_confidences_is_near_zero() -> None:
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.3, 1.0, 100_000)
    correct = rng.random(100_000) < confidence
    assert stats.calibration(confidence, correct)["ece"] < 0.01


def test_ece_of_overconfident_model() -> None:
    # says 0.9 every time, right half of the time
    y_true = ["a", "b"] * 50
    y_pred = ["a"] * 100
    results = by_name(ClassificationAccuracy().compute(
        label_context(y_true, y_pred, confidence=[0.9] * 100)))
    ece = results["expected_calibration_error"]
    assert ece.value == pytest.approx(0.4)
    assert ece.details["better"] == "lower"


# --- automatic coding --------------------------------------------------------------------------


def test_auto_coding_curve_by_hand() -> None:
    curve = stats.auto_coding_curve(np.array([0.9, 0.8, 0.8, 0.6, 0.5]),
                                    np.array([1, 1, 0, 1, 0]))
    assert curve["threshold"].tolist() == [0.9, 0.8, 0.6, 0.5]
    assert curve["share"].tolist() == pytest.approx([0.2, 0.6, 0.8, 1.0])
    assert curve["accuracy"].tolist() == pytest.approx([1.0, 2 / 3, 0.75, 0.6])
    at = stats.threshold_for_target(curve, 0.75)
    assert curve["threshold"][at] == 0.6
    assert stats.threshold_for_target(curve, 0.99, min_records=2) is None


def test_auto_coding_indicator_reaches_the_target() -> None:
    y_true = ["a"] * 60 + ["b"] * 40
    confidence = np.linspace(0.99, 0.5, 100).tolist()
    # the 50 most confident predictions are right, the others half right
    y_pred = y_true[:50] + [t if i % 2 else "x" for i, t in enumerate(y_true[50:])]
    ctx = label_context(y_true, y_pred, confidence=confidence,
                        settings={"target_accuracy": 0.9})
    results = by_name(AutoCoding(AutoCodingParams(min_records=1)).compute(ctx))
    share = results["auto_coding_share"]
    assert share.headline
    assert share.details["target_accuracy"] == 0.9
    # accuracy stays >= 0.9 down to record m where (50 + (m-50)/2)/m >= 0.9: m = 62
    assert share.value == pytest.approx(0.62)
    assert results["auto_coding_accuracy"].value >= 0.9
    assert share.details["threshold_chosen_on"] == "test"
    # chosen on the records that measure it: both figures say they are optimistic
    for result in results.values():
        assert "chosen on the test records that measure it: the figures are optimistic" \
            in result.explanation
    assert share.plots[0].kind == "line"
    assert share.interval[0] <= share.value <= share.interval[1]


def test_auto_coding_params_override_settings_and_unreachable_target() -> None:
    ctx = label_context(["a", "b"] * 20, ["a"] * 40, confidence=[0.8] * 40,
                        settings={"target_accuracy": 0.4})
    assert by_name(AutoCoding().compute(ctx))["auto_coding_share"].value == 1.0
    strict = by_name(AutoCoding(AutoCodingParams(target_accuracy=0.99)).compute(ctx))
    assert strict["auto_coding_share"].value == 0.0
    assert strict["auto_coding_share"].details["threshold"] is None
    assert strict["auto_coding_accuracy"].status == "skipped"
    # the skipped figure says why, not what it would have measured
    assert strict["auto_coding_accuracy"].explanation.startswith(
        "No test record is coded automatically: no confidence threshold reaches the target "
        "accuracy 99% on at least 20 test records")


def test_no_threshold_is_said_to_reach_the_target_only_on_records_enough() -> None:
    """The budget example's curve reaches 100% accuracy on its single most confident record;
    that is no threshold (20 records at least), and the explanation says so, so that the
    table of the curve does not contradict it."""
    ctx = label_context(["a"] * 40, ["a"] + ["b"] * 39, confidence=np.linspace(0.99, 0.6, 40))
    result = by_name(AutoCoding().compute(ctx))["auto_coding_share"]
    assert result.value == 0 and result.details["table"]["rows"][0][2] == 1.0
    assert result.explanation.startswith("No confidence threshold reaches the target accuracy "
                                         "95% on at least 20 test records")


def test_auto_coding_chooses_the_threshold_on_validation_records() -> None:
    ctx = budget_context(validation=True, settings={"target_accuracy": 0.6})
    share = by_name(AutoCoding().compute(ctx))["auto_coding_share"]
    assert share.details["threshold_chosen_on"] == "validation"
    threshold = share.details["threshold"]
    assert share.value == pytest.approx(float((ctx.predictions["confidence"] >= threshold).mean()))


def test_auto_coding_without_confidence_is_skipped() -> None:
    [result] = AutoCoding().compute(label_context(["a"], ["a"]))
    assert result.status == "skipped"


# --- hierarchy, regression ---------------------------------------------------------------------


def test_hierarchical_accuracy_by_prefix() -> None:
    ctx = label_context(["0111", "0112", "0121", "0211"], ["0111", "0111", "0111", "0111"])
    result = HierarchicalAccuracy(HierarchyParams(levels=[1, 2, 3, 4])).compute(ctx)
    assert result.value == {"1 characters": 1.0, "2 characters": 0.75,
                            "3 characters": 0.5, "4 characters": 0.25}


def test_hierarchical_accuracy_by_parent_table(tmp_path) -> None:
    table = pd.DataFrame({"code": ["01", "01.1", "01.1.1", "01.1.2", "01.2", "02", "02.1"],
                          "parent": [None, "01", "01.1", "01.1", "01", None, "02"]})
    table.to_csv(tmp_path / "parents.csv", index=False)
    assert code_chains(table)["01.1.2"] == ["01", "01.1", "01.1.2"]
    ctx = label_context(["01.1.1", "01.1.2", "01.2", "02.1"],
                        ["01.1.1", "01.1.1", "01.1.1", "01.1.1"],
                        settings={"base_dir": str(tmp_path)})
    result = HierarchicalAccuracy(HierarchyParams(parents="parents.csv")).compute(ctx)
    assert list(result.value.values()) == [0.75, 0.5, 0.25]


def test_hierarchy_params_need_levels_or_parents() -> None:
    with pytest.raises(ValueError, match="levels"):
        HierarchyParams()


def test_regression_accuracy() -> None:
    ctx = label_context([1.0, 2.0, 3.0, 4.0], [1.5, 2.5, 3.5, 4.5])
    results = by_name(RegressionAccuracy().compute(ctx))
    assert results["rmse"].value == pytest.approx(0.5)
    assert results["mae"].value == pytest.approx(0.5)
    assert results["bias"].value == pytest.approx(0.5)
    assert results["r_squared"].value == pytest.approx(1 - 1.0 / 5.0)


def test_r_squared_of_a_constant_truth_is_not_available_rather_than_a_blank_figure() -> None:
    results = by_name(RegressionAccuracy().compute(label_context([2.0] * 4, [1.5, 2.5, 2, 2])))
    assert results["r_squared"].status == "skipped" and results["r_squared"].value is None
    assert results["r_squared"].explanation.startswith("Undefined: every test record")
    assert results["rmse"].status == "ok" and results["rmse"].details["nrmse"] is None


def test_regression_bias_interval_is_a_percentile_bootstrap_at_the_asked_level() -> None:
    """Eight errors: the normal interval (1.96 sd / sqrt n) excluded 0 where a bootstrap
    does not read it so firmly; the interval follows the level asked for."""
    from scipy.stats import bootstrap

    errors = np.array([.5, -.2, .9, .1, 1.2, -.4, .3, .8])
    ctx = label_context(list(np.zeros(8)), list(errors))
    for level in (0.95, 0.8):
        bias = by_name(RegressionAccuracy(RegressionParams(bootstrap=4000, confidence_level=level))
                       .compute(ctx))["bias"]
        reference = bootstrap((errors,), np.mean, confidence_level=level, n_resamples=4000,
                              method="percentile", random_state=0).confidence_interval
        assert bias.interval == pytest.approx((reference.low, reference.high), abs=0.03)
        assert bias.details["confidence_level"] == level


def test_with_many_classes_the_per_class_plot_shows_the_weakest_and_says_so() -> None:
    from mlstat_core.quality.accuracy import MAX_CLASSES_SHOWN

    classes = [f"c{i:02d}" for i in range(MAX_CLASSES_SHOWN + 5)]
    truth = [c for c in classes for _ in range(4)]
    predicted = list(truth)
    predicted[0:4] = ["c01"] * 4  # c00 never recognised: F1 0, the weakest
    per_class = by_name(ClassificationAccuracy(ClassificationParams(bootstrap=0)).compute(
        label_context(truth, predicted)))["per_class"]
    [plot] = per_class.plots
    assert "c00" in plot.data["labels"] and len(plot.data["labels"]) == MAX_CLASSES_SHOWN
    assert f"weakest of {len(classes)} classes" in plot.title
    assert len(per_class.details["table"]["rows"]) == len(classes)


def test_labels_compare_alike_as_int_float_or_floats_in_an_object_column() -> None:
    """A model may give float labels in an object column; 1.0 there is still the label 1,
    and a missing label stays missing."""
    from mlstat_core.quality.accuracy import label_strings

    def labels(values: pd.Series) -> list[str | None]:
        return [v if isinstance(v, str) else None for v in label_strings(values)]

    expected = ["1", "2", None]
    assert labels(pd.Series([1, 2, None], dtype="Int64")) == expected
    assert labels(pd.Series([1.0, 2.0, np.nan])) == expected
    assert labels(pd.Series([1.0, 2.0, None], dtype=object)) == expected
    assert labels(pd.Series([1.5, "a", True], dtype=object)) == ["1.5", "a", "True"]


def test_per_class_figures_that_are_zero_over_zero_are_blank_not_zero() -> None:
    """A class the model never predicts has no precision (0 would read "every prediction of
    it is wrong"); a class only predicted, never true, has no recall."""
    y_true = ["a"] * 6 + ["b"] * 4
    y_pred = ["a"] * 5 + ["c"] + ["a"] * 4  # b never predicted; c never true
    result = by_name(ClassificationAccuracy().compute(label_context(y_true, y_pred)))
    per_class = result["per_class"]
    rows = {row[0]: row for row in per_class.details["table"]["rows"]}
    assert rows["a"][1:4] == pytest.approx([5 / 9, 5 / 6, 2 * 5 / 15])
    assert rows["b"][1] is None and rows["b"][2] == 0.0 and rows["b"][4] == 4
    assert rows["c"][1] == 0.0 and rows["c"][2] is None and rows["c"][4] == 0
    assert per_class.value["b"] == 0.0 and per_class.value["c"] == 0.0
    assert "never predicts ('b')" in per_class.explanation
    assert "no test record is of ('c')" in per_class.explanation
    series = per_class.plots[0].data["series"]
    assert series["precision"][1] is None and series["recall"][2] is None
    clean = by_name(ClassificationAccuracy().compute(label_context(["a", "b"], ["a", "b"])))
    assert "blank" not in clean["per_class"].explanation


def test_a_true_class_the_model_never_learned_counts_as_errors_and_is_said() -> None:
    # "c" is only in the test records: the model (trained on a, b) can only get them wrong
    y_true = ["a"] * 4 + ["b"] * 4 + ["c"] * 2
    y_pred = ["a"] * 4 + ["b"] * 4 + ["a", "b"]
    results = by_name(ClassificationAccuracy().compute(
        label_context(y_true, y_pred, classes=["a", "b"])))
    assert results["accuracy"].value == pytest.approx(0.8)
    assert results["confusion_matrix"].details["labels"] == ["a", "b", "c"]
    per_class = {row[0]: row for row in results["per_class"].details["table"]["rows"]}
    assert per_class["c"][2] == 0.0 and per_class["c"][4] == 2  # recall 0 of its 2 records
    said = "the model does not know 1 class(es) of the test records ('c'"
    assert said in results["per_class"].explanation.lower()
    assert any(said in w for w in results["accuracy"].details["warnings"])


def test_a_class_learned_but_not_predicted_is_not_called_unknown() -> None:
    results = by_name(ClassificationAccuracy().compute(
        label_context(["a", "b", "c"], ["a", "b", "a"], classes=["a", "b", "c"])))
    assert "does not know" not in results["per_class"].explanation
    assert not any("does not know" in w for w in results["accuracy"].details["warnings"])


def test_records_without_a_prediction_are_errors_but_no_class_of_their_own() -> None:
    """Two of 100 records unscored (a model may leave a record without a class): they lower
    the accuracy and their classes' recall, but "<none>" is no class to average F1 over: it
    took macro F1 from 0.99 to 0.66 and was named the weakest class."""
    y_true = ["a"] * 50 + ["b"] * 50
    y_pred = ["a"] * 49 + [None] + ["b"] * 49 + [None]
    results = by_name(ClassificationAccuracy().compute(label_context(y_true, y_pred)))
    assert results["accuracy"].value == pytest.approx(0.98)
    as_errors = ["a"] * 49 + ["<none>"] + ["b"] * 49 + ["<none>"]
    macro = f1_score(y_true, as_errors, labels=["a", "b"], average="macro")
    assert results["macro_f1"].value == pytest.approx(macro)
    low, high = results["macro_f1"].interval
    assert 0.9 < low <= macro <= high
    per_class = results["per_class"]
    assert set(per_class.value) == {"a", "b"}
    rows = {row[0]: row for row in per_class.details["table"]["rows"]}
    assert rows["a"][2] == pytest.approx(49 / 50) and rows["a"][4] == 50
    assert "2 test record(s) got no prediction" in per_class.explanation
    assert "<none>" not in per_class.explanation
    # the confusion matrix keeps the records, in a column of their own
    assert results["confusion_matrix"].details["labels"] == ["<none>", "a", "b"]


def test_a_record_without_probabilities_is_never_among_the_top_k() -> None:
    """Half the records unscored (every probability missing): they offer a coder no
    suggestion, so they count 0 in top-k accuracy, not k/K as if all classes were tied."""
    classes = list("abcde")
    proba = np.tile([0.6, 0.1, 0.1, 0.1, 0.1], (10, 1))
    proba[5:] = np.nan
    ctx = label_context(["b"] * 10, ["a"] * 5 + [None] * 5, proba=proba, classes=classes)
    results = by_name(ClassificationAccuracy().compute(ctx))
    # scored: "a" ahead of "b", tied with c, d, e for the 2 places left: 2/4 each
    assert results["top_3_accuracy"].value == pytest.approx(5 * 0.5 / 10)
    assert results["accuracy"].value == 0.0


def test_a_test_set_too_small_to_judge_the_model_by_is_warned_of() -> None:
    twelve = by_name(ClassificationAccuracy().compute(
        label_context(["a"] * 6 + ["b"] * 6, ["a"] * 5 + ["b"] * 7)))["accuracy"]
    low, high = twelve.interval
    assert high - low > 0.2
    [warning] = twelve.details["warnings"]
    assert warning.startswith("only 12 test records: the accuracy's 95% interval is ")
    large = by_name(ClassificationAccuracy().compute(
        label_context(["a"] * 300 + ["b"] * 300, ["a"] * 250 + ["b"] * 350)))["accuracy"]
    assert "warnings" not in large.details


def test_a_model_stating_its_classes_as_an_array_is_checked_too() -> None:
    """scikit-learn style models state ``classes_`` as a numpy array, which has no truth
    value: the unknown-class check must not fail the whole indicator on it."""
    from mlstat_core.quality.accuracy import classes_unknown_to_model

    ctx = label_context(["a", "b", "c"], ["a", "b", "a"], classes=["a", "b"])
    ctx.model.classes_ = np.array(["a", "b"])
    assert classes_unknown_to_model(ctx, pd.Series(["a", "b", "c"])) == {"c": 1}
