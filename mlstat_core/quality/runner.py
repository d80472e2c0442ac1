"""Running one indicator so that its failure is recorded, never raised: a broken indicator
must not cost the run its other quality figures."""

from __future__ import annotations

import json
import math
import numbers
import time
import traceback
import warnings
from typing import Any

from mlstat_core.components import DIMENSIONS, AssessContext, Indicator, IndicatorResult

MAX_TRACEBACK = 4000


def _failed(name: str, dimension: str, error: str, **details: Any) -> IndicatorResult:
    return IndicatorResult(
        name=name, dimension=dimension if dimension in DIMENSIONS else "accuracy",
        status="failed", error=error,
        explanation="This indicator could not be computed; the other indicators were.",
        details={"indicator": name, **details})


def run_indicator(
    indicator: Any, name: str, dimension: str, ctx: AssessContext
) -> list[IndicatorResult]:
    """Compute one indicator; its results, or one ``status="failed"`` result with the error.

    ``indicator`` is an :class:`Indicator`, or a callable with no arguments that builds one
    (then an error while building is recorded the same way). ``name`` is the component's
    full name (``plugin.component``) and ``dimension`` the one its
    spec declares. Each result's ``details["indicator"]`` records the component that produced
    it; warnings raised while computing are kept in ``details["warnings"]``.
    """
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if isinstance(indicator, type) or (
                    not isinstance(indicator, Indicator) and not hasattr(indicator, "compute")):
                indicator = indicator()
            produced = indicator.compute(ctx)
        except Exception as exc:
            tb = traceback.format_exc()
            return [_failed(name, dimension, f"{type(exc).__name__}: {exc}",
                            traceback=tb[-MAX_TRACEBACK:],
                            seconds=time.perf_counter() - start)]
    seconds = time.perf_counter() - start
    results = produced if isinstance(produced, list | tuple) else [produced]
    bad = [r for r in results if not isinstance(r, IndicatorResult)]
    if bad:
        return [_failed(name, dimension,
                        f"compute() returned {type(bad[0]).__name__}, not IndicatorResult")]
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    out: list[IndicatorResult] = []
    for result in results:
        if result.dimension not in DIMENSIONS:
            out.append(_failed(name, dimension,
                               f"result {result.name!r} has dimension {result.dimension!r}, "
                               f"not one of {', '.join(DIMENSIONS)}"))
            continue
        result.details = dict(result.details or {})
        result.details.setdefault("indicator", name)
        result.details.setdefault("seconds", round(seconds, 4))
        if messages:  # beside the indicator's own warnings, never instead of them
            own = result.details.get("warnings")
            own = list(own) if isinstance(own, list) else [str(own)] if own else []
            result.details["warnings"] = own + [m for m in messages[:10] if m not in own]
        if result.status == "ok" and not_finite(result.value):
            out.append(_failed(name, dimension, f"result {result.name!r} has the value "
                               f"{float(result.value)}, which is no figure; return "
                               "status='skipped' with the reason when a figure cannot be "
                               "computed"))
            continue
        problem = json_problem(result)
        if problem:
            out.append(_failed(name, dimension, f"result {result.name!r} cannot be written to "
                               f"report.json: {problem}; give plain values (numbers, text, "
                               "lists, dicts) in its value and details"))
            continue
        out.append(result)
    return out


def not_finite(value: Any) -> bool:
    """Whether ``value`` is a NaN or infinite number (plain or numpy), which report.json would
    show as an empty figure or could not hold at all."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and not math.isfinite(float(value))


def json_problem(result: IndicatorResult) -> str | None:
    """Why the result cannot go into ``report.json`` (numpy and pandas values, NaN and paths
    are converted on the way), or None when it can."""
    from mlstat_core.report.build import entry_from_result

    try:
        json.dumps(entry_from_result(result), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return str(exc)
    except Exception as exc:  # a value whose conversion itself fails (deepcopy, __eq__)
        return f"{type(exc).__name__}: {exc}"
    return None


def refuse_name_clashes(results: list[IndicatorResult]) -> list[IndicatorResult]:
    """Each figure name once: a result whose name an earlier result of the run already has
    (a plugin's ``accuracy`` beside the core's) becomes a failed result naming both
    indicators, so that the report, ``RunResult.metric`` and ``mlstat compare`` cannot each
    pick another of the two. Failed results (named by their component) are kept as they are."""
    first: dict[str, str] = {}
    out: list[IndicatorResult] = []
    for result in results:
        producer = str((result.details or {}).get("indicator") or result.name)
        if result.status == "failed":
            out.append(result)
            continue
        if result.name in first:
            earlier = first[result.name]
            by = "it already produced" if earlier == producer else \
                f"indicator {earlier} already produced"
            out.append(_failed(producer, result.dimension,
                               f"its result {result.name!r} has the name of a figure {by} "
                               f"in this run; give the figure a name of its own (such as "
                               f"'{producer.split('.')[0]}_{result.name}')",
                               figure=result.name))
            continue
        first[result.name] = producer
        out.append(result)
    return out
