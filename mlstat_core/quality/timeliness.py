"""Timeliness indicators: how long fitting and prediction take, and how much memory."""

from __future__ import annotations

from mlstat_core.components import AssessContext, Indicator, IndicatorResult


class Timings(Indicator):
    """Fit seconds, prediction throughput and peak memory of this run."""

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        fit = ctx.timings.get("fit")
        predict = ctx.timings.get("predict")
        rate = len(ctx.test) / predict if predict else None
        steps = {k: float(v) for k, v in ctx.timings.items()}
        return [
            IndicatorResult("fit_seconds", "timeliness", fit,
                            explanation="Wall-clock seconds to train the model once.",
                            details={"better": "lower", "steps": steps,
                                     "train_records": len(ctx.train)}),
            IndicatorResult("records_per_second", "timeliness", rate,
                            explanation="Test records scored per second in one process; "
                                        "divide a production volume by it for the scoring time.",
                            details={"better": "higher", "test_records": len(ctx.test),
                                     "predict_seconds": predict}, headline=True),
            IndicatorResult("peak_memory_mb", "timeliness", ctx.peak_memory_mb,
                            explanation="Peak memory of the run in MiB: what a production "
                                        "machine must offer.",
                            details={"better": "lower"},
                            status="ok" if ctx.peak_memory_mb is not None else "skipped"),
        ]
