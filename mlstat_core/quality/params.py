"""Params models of the built-in indicators: pydantic only, so declaring them stays light."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from mlstat_core.components import Params

DEFAULT_MIN_RECORDS = 20
"""Fewest records a confidence threshold must code automatically to count; the auto-coding
and the cost indicators share it, so their figures agree."""


class ClassificationParams(Params):
    bootstrap: int = Field(
        1000, ge=0, le=100_000,
        description="bootstrap repetitions for the intervals (0: no intervals)")
    confidence_level: float = Field(0.95, gt=0.5, lt=1, description="level of the intervals")
    top_k: list[int] = Field(
        default_factory=lambda: [3, 5],
        description="k of the top-k accuracies (only k below the number of classes is shown)")
    calibration_bins: int = Field(10, ge=2, le=100, description="bins of the reliability curve")


class RegressionParams(Params):
    bootstrap: int = Field(1000, ge=0, le=100_000,
                           description="bootstrap repetitions for the bias interval (0: none)")
    confidence_level: float = Field(0.95, gt=0.5, lt=1, description="level of the interval")


class AutoCodingParams(Params):
    target_accuracy: float | None = Field(
        None, gt=0, le=1,
        description="accuracy the automatically coded records must reach; default: the "
                    "[quality] setting target_accuracy, else 0.95")
    min_records: int = Field(
        DEFAULT_MIN_RECORDS, ge=1,
        description="fewest records a threshold must code automatically to count")


class HierarchyParams(Params):
    levels: list[int] = Field(
        default_factory=list,
        description="code prefix lengths, one per level (for example [1, 2, 3, 4])")
    parents: str | None = Field(
        None, description="CSV file with columns `code` and `parent` (instead of levels)")

    @model_validator(mode="after")
    def _one_way(self) -> HierarchyParams:
        if not self.levels and not self.parents:
            raise ValueError("set `levels` (code prefix lengths) or `parents` (a CSV file)")
        if any(level < 1 for level in self.levels):
            raise ValueError("every level must be a prefix length of at least 1")
        return self


class ImputationParams(Params):
    variables: list[str] = Field(
        default_factory=list,
        description="variables to assess; empty means every numeric variable with imputed cells")
    bootstrap: int = Field(1000, ge=0, le=100_000,
                           description="bootstrap repetitions for the bias intervals")
    confidence_level: float = Field(0.95, gt=0.5, lt=1, description="level of the intervals")
    max_plots: int = Field(6, ge=0, description="variables shown as imputed-vs-true histograms")


class PermutationParams(Params):
    n_repeats: int = Field(5, ge=1, le=100, description="shuffles per input column")
    max_records: int = Field(2000, ge=10, description="test records used (a seeded subsample)")
    max_features: int = Field(50, ge=1, description="input columns assessed (first ones)")


class TermsParams(Params):
    top: int = Field(10, ge=1, le=100, description="terms shown per class")
    max_classes: int = Field(30, ge=1, description="classes shown")


class RecordExplanationParams(Params):
    records: int = Field(5, ge=1, le=100, description="test records explained")
    top: int = Field(5, ge=1, le=50, description="inputs shown per record")


class RefitParams(Params):
    refit: bool = Field(True, description="train a second time with the same seed and compare")


class CostParams(Params):
    threshold: float | None = Field(
        None, ge=0, le=1,
        description="confidence above which a record is coded automatically; default: the "
                    "threshold reaching target_accuracy (as in the auto-coding curve)")
    target_accuracy: float | None = Field(None, gt=0, le=1,
                                          description="as for the auto-coding indicator")
    min_records: int = Field(
        DEFAULT_MIN_RECORDS, ge=1,
        description="fewest records the chosen threshold must code automatically (as for the "
                    "auto-coding indicator, whose default is the same)")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _threshold(value: Any, what: str) -> float:
    """``value`` as a finite number, or a ValueError saying what ``what`` must be (pydantic's
    message adds the value given)."""
    if isinstance(value, str):
        raise ValueError(f"{what}must be a number, not text: write it without quotes")
    if not _is_number(value):
        raise ValueError(f"{what}must be a number or a table {{ min = x }} or {{ max = x }}")
    if not math.isfinite(value):
        raise ValueError(f"{what}must be a finite number")
    return float(value)


def check_target(value: Any) -> float | dict[str, float]:
    """One ``[quality.targets]`` value as the report judges it: a number, or a table with
    exactly one of ``min`` / ``max``; anything else is a ValueError saying what to write."""
    if not isinstance(value, dict):
        return _threshold(value, "")
    unknown = sorted(set(value) - {"min", "max"})
    if unknown:
        raise ValueError(f"a target table takes `min` or `max`, not `{'`, `'.join(unknown)}`")
    if len(value) != 1:
        how = "not both" if value else "not an empty table"
        raise ValueError(f"a target is one threshold: write {{ min = x }} (at least) or "
                         f"{{ max = x }} (at most), {how}")
    [(bound, number)] = value.items()
    if not _is_number(number) and not isinstance(number, str):
        raise ValueError(f"`{bound}` must be a number")
    return {bound: _threshold(number, f"`{bound}` ")}


Target = Annotated[float | dict[str, float], BeforeValidator(check_target)]


class QualitySettings(Params):
    """The pipeline's ``[quality]`` table: settings read by several indicators (and the
    report). Unknown keys are errors, so a typo is caught by ``mlstat validate``."""

    targets: dict[str, Target] = Field(
        default_factory=dict,
        description="value each named figure must reach: a number (at least, or at most when "
                    "lower is better) or a table {min = x} / {max = x}")
    target_accuracy: float | None = Field(
        None, gt=0, le=1, description="accuracy automatically coded records must reach "
                                      "(default 0.95)")
    auto_threshold: float | None = Field(
        None, ge=0, le=1, description="fixed confidence threshold for the cost figures")
    manual_seconds_per_record: float | None = Field(
        None, ge=0, description="time a person needs to code or edit one record")
    cost_per_hour: float | None = Field(None, ge=0, description="staff cost of that person")
    currency: str = Field("", description="currency of cost_per_hour")
    records_per_cycle: float | None = Field(
        None, gt=0, description="records of one production cycle (default: the test set)")
