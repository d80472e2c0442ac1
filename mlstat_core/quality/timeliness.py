"""Timeliness indicators: how long fitting and prediction take."""

from __future__ import annotations

from mlstat_core.components import AssessContext, Indicator, IndicatorResult


class Timings(Indicator):
    """Fit seconds and prediction throughput of this run."""

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        fit = ctx.timings.get("fit")
        predict = ctx.timings.get("predict")
        rate = len(ctx.test) / predict if predict else None
        return [
            IndicatorResult("fit_seconds", "timeliness", fit,
                            explanation="Wall-clock seconds to train the model."),
            IndicatorResult("records_per_second", "timeliness", rate,
                            explanation="Test records scored per second, one process."),
        ]
