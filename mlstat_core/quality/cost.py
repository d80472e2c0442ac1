"""Cost-effectiveness: how much manual work the model takes off people, in hours and money.

Reads the pipeline's ``[quality]`` settings ``manual_seconds_per_record`` (time a person needs
per record), ``cost_per_hour`` (with optional ``currency``), ``records_per_cycle`` (records of
one production cycle; default: the test records) and ``auto_threshold`` (a fixed confidence
threshold; default: the one reaching ``target_accuracy``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.components import AssessContext, Indicator, IndicatorResult
from mlstat_core.errors import MlstatError
from mlstat_core.quality.accuracy import (
    auto_coding_threshold,
    labelled_pairs,
    skipped,
    target_accuracy,
)
from mlstat_core.quality.params import CostParams
from mlstat_core.tasks import is_classification


def automatic_share(ctx: AssessContext, params: CostParams) -> tuple[float, str]:
    """Share of records handled without a person, and how it was determined."""
    predictions = ctx.predictions
    n = len(predictions)
    if n == 0:
        return 0.0, "there are no test records"
    threshold = params.threshold
    if threshold is None and ctx.settings.get("auto_threshold") is not None:
        threshold = float(ctx.settings["auto_threshold"])
    confident = "confidence" in predictions.columns
    unused = "" if threshold is None or confident else \
        f" (the threshold {threshold:g} set for the cost figures is not used: the " \
        "predictions have no confidence column)"
    if "route" in predictions.columns and not (confident and threshold is not None):
        auto = predictions["route"].astype(str) == "auto"
        return float(auto.mean()), ("records the model routed to automatic processing "
                                    "(route = 'auto')" + unused + _correct_share(ctx, auto))
    if confident:
        conf = predictions["confidence"].to_numpy(float)
        how = f"records with confidence >= {threshold:g}" if threshold is not None else ""
        if threshold is not None and "route" in predictions.columns:
            how += " (the threshold set for the cost figures, not the model's own routes)"
        if threshold is None:
            target = target_accuracy(ctx, params.target_accuracy)
            chosen = auto_coding_threshold(ctx, target, params.min_records)
            threshold = chosen["threshold"]
            if threshold is None:
                return 0.0, (f"no confidence threshold reaches the target accuracy {target:.0%} "
                             f"on at least {params.min_records} {chosen['chosen_on']} records")
            how = (f"records with confidence >= {threshold:.3f}, the threshold reaching "
                   f"{target:.0%} accuracy on at least {params.min_records} "
                   f"{chosen['chosen_on']} records")
            if chosen["chosen_on"] == "test":
                how += (" (chosen on the test records that measure it, so optimistic: set "
                        "validation_size in [split])")
        auto = pd.Series(conf >= threshold, index=predictions.index)
        return float(auto.mean()), how + _correct_share(ctx, auto)
    if "edit_pass" in predictions.columns or ctx.test.metadata.get("edit_pass") is not None:
        from mlstat_core.quality.imputation import edit_pass

        passes = edit_pass(ctx)
        if passes is not None and len(passes):
            return float(passes.mean()), "completed records that pass every edit rule" + unused
    everything = pd.Series(True, index=predictions.index)
    return 1.0, ("every record is processed by the model (no routing to people)" + unused
                 + _correct_share(ctx, everything))


def _correct_share(ctx: AssessContext, auto: pd.Series) -> str:
    """How many of the test records handled automatically are right, where the test records
    carry their true labels (the share saved is only worth what those are worth); nothing
    for numeric predictions, which are never exactly right."""
    try:
        if not is_classification(ctx.task):
            return ""
        y_true, y_pred = labelled_pairs(ctx)
    except (MlstatError, KeyError):  # no labels or predictions to compare: nothing to add
        return ""
    mine = auto.reindex(y_true.index, fill_value=False).to_numpy(bool)
    if not mine.any():
        return ""
    right = float(np.mean(y_true.to_numpy()[mine] == y_pred.to_numpy()[mine]))
    return f"; on the test records, {right:.1%} of those are correct"


class CostEffectiveness(Indicator):
    """Share handled automatically, manual hours and cost saved per production cycle."""

    params: CostParams

    def __init__(self, params: CostParams | None = None) -> None:
        super().__init__(params or CostParams())

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        s = ctx.settings
        share, how = automatic_share(ctx, self.params)
        records = s.get("records_per_cycle") or len(ctx.test)
        records = float(records)
        evaluated = bool(ctx.step_counts) and not ctx.step_counts.get("fit")  # mlstat evaluate
        scope = ("per production cycle of " if s.get("records_per_cycle") else "for the ") + \
            f"{records:,.0f} records" + ("" if s.get("records_per_cycle") else
                                         " of the evaluated file" if evaluated else
                                         " of the test set")
        results = [IndicatorResult(
            "automation_rate", "cost_effectiveness", share,
            explanation=f"Share of records handled without a person: {how}.",
            details={"better": "higher", "how": how}, headline=True)]
        seconds = s.get("manual_seconds_per_record")
        if seconds is None:
            results.append(skipped(
                "manual_hours_saved", "cost_effectiveness",
                "Set manual_seconds_per_record in the pipeline's [quality] table to see the "
                "manual workload saved."))
            return results
        seconds = float(seconds)
        saved = records * share * seconds / 3600
        remaining = records * (1 - share) * seconds / 3600
        facts: dict[str, Any] = {"records": records, "manual_seconds_per_record": seconds,
                                 "automation_rate": share}
        results.append(IndicatorResult(
            "manual_hours_saved", "cost_effectiveness", saved,
            explanation=f"Hours of manual work saved {scope}, at {seconds:g} seconds a record.",
            details={**facts, "better": "higher", "remaining_manual_hours": remaining},
            headline=True))
        results.append(IndicatorResult(
            "manual_hours_remaining", "cost_effectiveness", remaining,
            explanation=f"Hours of manual work still needed {scope}: the records the model "
                        f"does not handle, at {seconds:g} seconds a record.",
            details={**facts, "better": "lower"}))
        rate = s.get("cost_per_hour")
        if rate is not None:
            currency = str(s.get("currency", "") or "").strip()
            money = f"{float(rate):g} {currency}" if currency else \
                f"{float(rate):g} (currency not set: name it with `currency` in the " \
                "pipeline's [quality] table)"
            results.append(IndicatorResult(
                "cost_saved", "cost_effectiveness", saved * float(rate),
                explanation=f"Cost of the manual work saved {scope}, at {money} an hour (staff "
                            "cost only; not counting building and running the model).",
                details={**facts, "cost_per_hour": float(rate), "currency": currency,
                         "better": "higher"},
                headline=True))
        return results
