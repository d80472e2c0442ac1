"""Run one indicator so that its failure is reported, never fatal to the run."""

from __future__ import annotations

from collections.abc import Callable

from mlstat_core.components import AssessContext, Indicator, IndicatorResult


def run_indicator(
    build: Callable[[], Indicator] | Indicator, name: str, dimension: str, ctx: AssessContext
) -> list[IndicatorResult]:
    """Compute an indicator (or build then compute it); on error return one failed result."""
    try:
        indicator = build if isinstance(build, Indicator) else build()
        produced = indicator.compute(ctx)
    except Exception as exc:  # an indicator that fails must not fail the run
        return [IndicatorResult(name=name, dimension=dimension, status="failed",
                                error=f"{type(exc).__name__}: {exc}",
                                explanation="This indicator failed; the others are unaffected.")]
    results = produced if isinstance(produced, list) else [produced]
    for result in results:
        result.details.setdefault("indicator", name)
    return results
