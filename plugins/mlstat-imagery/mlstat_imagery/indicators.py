"""Validation of the map against the field reference points: the INEGI question.

Sample-based figures (confusion matrix, Cohen's kappa) come from the points alone; the
area-weighted accuracies and the error-adjusted built-up area need the mapped area of each
class, which the indicator takes from the model's whole-scene map (models of this plugin make
it in ``write_outputs``, before the indicators run, and this indicator reads its summary).
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from mlstat_core.components import AssessContext, Indicator, IndicatorResult, Plot
from mlstat_core.errors import DataError
from mlstat_imagery.loaders import CHANGE_NOTE, FIELD
from mlstat_imagery.mapping import PREVIEW_FILE, SUMMARY_FILE, png_base64
from mlstat_imagery.params import FieldValidationParams
from mlstat_imagery.validation import (
    cohen_kappa,
    confusion_matrix,
    overall_accuracy,
    producers_accuracy,
    sampling_gaps,
    stratified_estimates,
    users_accuracy,
    z_value,
)

DIMENSION = "accuracy"


def _interval(value: float, half: float, upper: float | None = None) -> tuple[float, float]:
    """``value`` plus or minus ``half``, within 0 and ``upper`` (1 for an accuracy)."""
    high = value + half
    return (max(0.0, value - half), high if upper is None else min(upper, high))


def _nodata_km2(summary: dict[str, Any]) -> float:
    """Area of the scene's pixels without data (no class, so no estimate), in km²."""
    return summary.get("nodata_pixels", 0) * summary["pixel_area_m2"] / 1e6


def _coverage(total_km2: float, summary: dict[str, Any]) -> str:
    """The part of the scene the area estimate covers, when nodata pixels leave some out: the
    estimate is of the area with data, not of the whole scene."""
    nodata = _nodata_km2(summary)
    if nodata <= 0:
        return ""
    return (f" The estimate covers the {total_km2:.1f} km² of the scene with data in every "
            f"band; the {nodata:.1f} km² of nodata pixels ({summary['nodata_pixels']:,}) have "
            "no map class and are not estimated.")


def _unmapped_classes(classes: list[Any], y_true: Any) -> list[Any]:
    """Field classes the model does not have (no training pixel of them), with a warning (in
    the figures' details): the map never shows them, so each of their points is an omission
    error, counted in the error matrix (a column with no row of its own), not a failure."""
    counts = Counter(y_true)
    unmapped = sorted((c for c in counts if c not in classes), key=str)
    if unmapped:
        listed = ", ".join(f"{c!s} ({counts[c]:,} point{'s' if counts[c] > 1 else ''})"
                           for c in unmapped)
        warnings.warn(f"field class(es) {listed} are not among the model's classes "
                      f"({', '.join(map(str, classes))}): no training pixel has them, so the "
                      "map never shows them and every such point counts as an error; add "
                      "training labels of them, or merge them into another class in "
                      "`classes`", stacklevel=2)
    return unmapped


def _unavailable(matrix: Any, k: int, positive: Any, classes: list[Any]) -> dict[str, str]:
    """Result name -> why the field sample cannot give that figure: no field point of the
    built-up class (its producer's accuracy and area), no point where the map shows it (its
    user's accuracy), too few classes for kappa. A warning says what the sample lacks."""
    out: dict[str, str] = {}
    n = int(matrix.sum())
    if not matrix[:, k].sum():
        out[f"{positive}_producers_accuracy"] = out[f"{positive}_area_km2"] = (
            f"None of the {n:,} usable field points is {positive} on the ground, so the sample "
            f"says nothing about how much {positive} land the map misses: its producer's "
            "accuracy and error-adjusted area cannot be estimated. Add field points of "
            f"{positive} (a sample stratified by map class gives each class points).")
        warnings.warn(f"none of the {n:,} usable field points is {positive}: the producer's "
                      f"accuracy and area of {positive} are not available, and the overall "
                      f"accuracy and its interval rest on the other classes alone "
                      f"({', '.join(str(c) for c in classes if c != positive)}); add field "
                      f"points of {positive}", stacklevel=3)
    if not matrix[k].sum():
        out[f"{positive}_users_accuracy"] = (
            f"The map shows {positive} at none of the {n:,} usable field points, so the sample "
            f"cannot tell how much of the map's {positive} is right: its user's accuracy "
            f"cannot be estimated. Add field points where the map shows {positive}.")
    if not math.isfinite(cohen_kappa(matrix)):
        out["field_kappa"] = ("Kappa is undefined on this sample: the field points and the "
                              "map at them hold one class only.")
    return out


def _without_figures(results: list[IndicatorResult], unavailable: dict[str, str]
                     ) -> list[IndicatorResult]:
    """``results`` with those named in ``unavailable`` reported as skipped, with the reason."""
    return [IndicatorResult(r.name, r.dimension, None, explanation=unavailable[r.name],
                            status="skipped", details={"points": r.details.get("points")}
                            if "points" in r.details else {})
            if r.name in unavailable else r for r in results]


class FieldValidation(Indicator):
    params: FieldValidationParams

    def __init__(self, params: FieldValidationParams | None = None) -> None:
        super().__init__(params or FieldValidationParams())

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        test = ctx.test
        metadata = test.metadata
        frame = test.frame
        if "source" in frame.columns:
            field = (frame["source"] == FIELD).to_numpy()
        else:
            field = [True] * len(frame)
        if not any(field):
            raise DataError("the test set has no field reference points; give the loader "
                            "`points`")
        y_true = test.y[field]
        y_pred = ctx.predictions["prediction"].to_numpy()[field]
        classes = list(ctx.model.classes_ or metadata.get("classes") or sorted(set(y_true)))
        unmapped = _unmapped_classes(classes, y_true)
        classes += unmapped
        positive = self.params.positive_class or metadata.get("positive_label", classes[0])
        if positive not in classes:
            raise DataError(f"class {positive!r} is not among the classes {classes}")
        k = classes.index(positive)
        matrix = confusion_matrix(list(y_pred), list(y_true), classes)
        n = int(matrix.sum())
        notes = list(dict.fromkeys([*metadata.get("notes", []), CHANGE_NOTE]
                                   if metadata.get("notes") else []))
        sample = {
            "points": n,
            "classes": [str(c) for c in classes],
            "matrix_map_rows_reference_columns": matrix.tolist(),
            "overall_accuracy_sample": overall_accuracy(matrix),
            "producers_accuracy_sample": producers_accuracy(matrix, k),
            "users_accuracy_sample": users_accuracy(matrix, k),
            "counts": metadata.get("counts", {}),
            "field_classes_not_mapped": unmapped,
            "notes": notes,
        }
        change = (" " + CHANGE_NOTE) if CHANGE_NOTE in notes else ""
        heat = Plot("Field points: map class (rows) against field class (columns)", "heatmap",
                    {"values": matrix.tolist(), "x_labels": [str(c) for c in classes],
                     "y_labels": [str(c) for c in classes], "x_title": "field (reference) class",
                     "y_title": "map class"})
        summary = self._map_summary(ctx)
        results: list[IndicatorResult] = []
        if summary is None:
            results.append(IndicatorResult(
                "field_overall_accuracy", DIMENSION, sample["overall_accuracy_sample"],
                explanation=f"Share of the {n} field points whose map class agrees with the "
                            "field class (sample counts; the model made no scene map, so no "
                            "area weighting)." + change,
                details=sample, plots=[heat], headline=True))
            ua, pa = sample["users_accuracy_sample"], sample["producers_accuracy_sample"]
            ua_i = pa_i = None
        else:
            z = z_value(self.params.confidence)
            mapped = [summary["class_pixels"].get(str(c), 0) for c in classes]
            est = stratified_estimates(matrix, mapped, summary["pixel_area_m2"] / 1e6, z=z)
            sample["sampling_gaps"] = sampling_gaps(matrix, mapped, classes)
            for gap in sample["sampling_gaps"]:  # in each figure's details['warnings']
                warnings.warn(gap, stacklevel=2)
            oa = est["overall_accuracy"]
            ua, pa = float(est["users_accuracy"][k]), float(est["producers_accuracy"][k])
            ua_i = _interval(ua, z * float(est["se_users_accuracy"][k]), upper=1.0)
            pa_i = _interval(pa, z * float(est["se_producers_accuracy"][k]), upper=1.0)
            plots = [heat]
            preview = Path(summary["folder"]) / PREVIEW_FILE
            if preview.is_file():
                plots.append(Plot(f"Map of {positive} (red), whole scene", "image",
                                  png_base64=png_base64(preview)))
            results.append(IndicatorResult(
                "field_overall_accuracy", DIMENSION, oa,
                interval=_interval(oa, z * est["se_overall_accuracy"], upper=1.0),
                explanation=f"Share of the scene's area mapped correctly, estimated from {n} "
                            "field points weighted by the mapped area of each class (Olofsson "
                            f"et al. 2014), with a {self.params.confidence:.0%} interval."
                            + change,
                details={**sample, "map": {k2: v for k2, v in summary.items()
                                           if k2 != "folder"}},
                plots=plots, headline=True))
            area = float(est["area"][k])
            half = float(est["area_half_width"][k])
            results.append(IndicatorResult(
                f"{positive}_area_km2", DIMENSION, area, interval=_interval(area, half),
                explanation=f"Error-adjusted area of {positive} in km² with a "
                            f"{self.params.confidence:.0%} interval: the mapped area corrected "
                            "by the errors seen at the field points (stratified estimator of "
                            f"Olofsson et al. 2014). The map itself shows "
                            f"{est['mapped_area'][k]:.1f} km² (naive count of "
                            f"{int(mapped[k]):,} pixels); a large gap means the map's errors do "
                            "not cancel out." + _coverage(est["total_area"], summary) + change,
                details={"mapped_pixels": int(mapped[k]),
                         "mapped_area_km2": float(est["mapped_area"][k]),
                         "mapped_area_ha": float(est["mapped_area"][k]) * 100,
                         "adjusted_area_ha": area * 100, "half_width_ha": half * 100,
                         "adjusted_area_km2": area, "half_width_km2": half,
                         "standard_error_km2": half / z,
                         "proportion": float(est["proportion"][k]),
                         "sampling_gaps": sample["sampling_gaps"],
                         "total_area_km2": float(est["total_area"]),
                         "nodata_area_km2": _nodata_km2(summary),
                         "all_classes": {str(c): {
                             "mapped_km2": float(est["mapped_area"][i]),
                             "adjusted_km2": float(est["area"][i]),
                             "half_width_km2": float(est["area_half_width"][i])}
                             for i, c in enumerate(classes)},
                         "confidence": self.params.confidence},
                headline=True))
        kappa = cohen_kappa(matrix)
        results.append(IndicatorResult(
            "field_kappa", DIMENSION, kappa,
            explanation="Cohen's kappa of map against field classes: agreement beyond what "
                        "chance would give (0 = chance, 1 = perfect). Reported for "
                        "comparison with earlier studies; the area-weighted accuracies are the "
                        "figures to publish.",
            details={"points": n}))
        results.append(IndicatorResult(
            f"{positive}_producers_accuracy", DIMENSION, pa, interval=pa_i,
            explanation=f"Producer's accuracy of {positive}: the share of {positive} land on the "
                        f"ground that the map shows as {positive} (1 - omission error)."
                        + change,
            details={"sample_based": sample["producers_accuracy_sample"]}))
        results.append(IndicatorResult(
            f"{positive}_users_accuracy", DIMENSION, ua, interval=ua_i,
            explanation=f"User's accuracy of {positive}: the share of the map's {positive} that "
                        f"is {positive} on the ground (1 - commission error).",
            details={"sample_based": sample["users_accuracy_sample"]}))
        results = _without_figures(results, _unavailable(matrix, k, positive, classes))
        for result in results:  # the report labels each interval with its level
            if result.interval is not None:
                result.details["confidence_level"] = self.params.confidence
        return results

    @staticmethod
    def _map_summary(ctx: AssessContext) -> dict[str, Any] | None:
        """The map the run wrote (``outputs/map_summary.json``, written before the
        indicators); a model that wrote none is asked to map the scene now."""
        for path in ctx.outputs:
            if Path(path).name == SUMMARY_FILE and Path(path).is_file():
                summary = json.loads(Path(path).read_text(encoding="utf-8"))
                summary["folder"] = str(Path(path).parent)
                return summary
        scene_map = getattr(ctx.model, "scene_map", None)
        if scene_map is None or "scene" not in ctx.test.metadata:
            return None
        return scene_map(ctx.test.metadata)
