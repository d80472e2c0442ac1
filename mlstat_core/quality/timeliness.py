"""Timeliness indicators: how long fitting and prediction take, and how much memory."""

from __future__ import annotations

from mlstat_core.components import AssessContext, Indicator, IndicatorResult
from mlstat_core.quality.accuracy import skipped


class Timings(Indicator):
    """Fit seconds, prediction throughput and peak memory of this run."""

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        total_fit = ctx.timings.get("fit")
        fits = max(ctx.step_counts.get("fit", 1), 1)
        fit = total_fit / fits if total_fit is not None else None
        predict = ctx.timings.get("predict")
        rate = len(ctx.test) / predict if predict else None
        steps = {k: float(v) for k, v in ctx.timings.items()}
        once = "Wall-clock seconds to train the model once" + (
            f": the mean of {fits} trainings (one per fold and the final model on every "
            f"record), {total_fit:.3g} s in all." if fits > 1 else ".")
        trained = IndicatorResult(
            "fit_seconds", "timeliness", fit, explanation=once,
            details={"better": "lower", "steps": steps, "fits": fits,
                     "train_records": len(ctx.train)})
        if fit is None:  # an evaluation scores a saved model: no training to time
            trained = skipped("fit_seconds", "timeliness",
                              "Nothing was trained here (a saved model was scored): see the "
                              "figure in the run that trained it.")
        scored = IndicatorResult(
            "records_per_second", "timeliness", rate,
            explanation="Test records scored per second by the run's engine (the default "
                        "scores in one process); divide a production volume by it for the "
                        "scoring time.",
            details={"better": "higher", "test_records": len(ctx.test),
                     "predict_seconds": predict}, headline=True)
        if rate is None:  # a figure without a value is not computed, whatever its status
            scored = skipped("records_per_second", "timeliness",
                             "No prediction time above 0 was recorded for this run, so the "
                             "scoring speed is unknown.")
        memory = IndicatorResult(
            "peak_memory_mb", "timeliness", ctx.peak_memory_mb,
            explanation="Peak memory of the process up to assessment, in MiB: what a "
                        "production machine must offer (for `mlstat run`, the run's; in a "
                        "Python session, the largest of everything run before in it).",
            details={"better": "lower"})
        if ctx.peak_memory_mb is None:
            memory = skipped("peak_memory_mb", "timeliness",
                             "The memory of the process was not measured for this assessment.")
        return [trained, scored, memory]
