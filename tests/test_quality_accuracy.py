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
    assert again["accuracy"].interval == first["accuracy"].interval
    reseeded = label_context(list(ctx.y_true), list(ctx.y_pred), seed=99)
    other = by_name(ClassificationAccuracy().compute(reseeded))
    assert other["accuracy"].value == pytest.approx(first["accuracy"].value)
    assert other["accuracy"].interval != first["accuracy"].interval


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
        "accuracy 99%")


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
