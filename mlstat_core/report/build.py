"""Assemble indicator results and run facts into the report document and write it.

The document (``report.json``) follows a versioned schema described in
``docs/report-schema.md``; ``report.html`` is rendered from the same document, so rebuilding a
report from a run folder (``mlstat report RUN_DIR``) needs nothing but the folder.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from mlstat_core.artifacts import atomic_write_text, now_iso, to_jsonable, write_json
from mlstat_core.components import DIMENSIONS, IndicatorResult, Plot
from mlstat_core.errors import DataError

REPORT_SCHEMA_VERSION = "1.2"
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
RUN_FIELDS = ("run_id", "name", "description", "task", "status", "error", "started_at",
              "finished_at", "seed", "components", "warnings")
STATUSES = ("ok", "skipped", "failed")


def evaluated(manifest: dict[str, Any]) -> dict[str, Any]:
    """``{"evaluates": ...}`` for an evaluation (the run whose model it assessed, and that
    model's file hashes); empty for a run."""
    found = manifest.get("evaluates")
    if not isinstance(found, dict):
        return {}
    kept = {k: found.get(k) for k in ("run_id", "run_dir", "model_files")}
    if found.get("read_in_training"):  # the labelled files it scored that the run learnt from
        kept["read_in_training"] = found["read_in_training"]
    return {"evaluates": kept}
DEFAULT_INTERVAL_LEVEL = 0.95
"""Level of an interval whose indicator does not say (``details.confidence_level``)."""
HEADLINE_KEYS = ("name", "dimension", "value", "interval", "interval_level", "status",
                 "explanation", "better", "target", "comparison", "met", "interval_clears")
"""Every key of a ``headline`` figure, in this order (null where unknown)."""


def clean_json(value: Any) -> Any:
    """JSON-able copy of ``value``: numpy values converted, NaN and infinities as null."""
    value = to_jsonable(value)
    if isinstance(value, dict):
        return {k: clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def entry_from_result(result: IndicatorResult) -> dict[str, Any]:
    """One ``indicators`` entry of the report: the result's fields, JSON-able, plus the
    component that produced it and which direction is better."""
    entry = clean_json(asdict(result))
    details = entry.get("details") or {}
    entry["indicator"] = details.get("indicator")
    entry["better"] = details.get("better") if details.get("better") in ("higher", "lower") \
        else None
    entry["interval_level"] = interval_level(entry.get("interval"), details)
    return entry


def interval_level(interval: Any, details: dict[str, Any]) -> float | None:
    """Level of ``interval`` (0.8 for an 80% interval): the indicator's
    ``details.confidence_level``, else the default 0.95; None without an interval."""
    if not isinstance(interval, list | tuple) or len(interval) != 2:
        return None
    level = _number(details.get("confidence_level"))
    return level if level is not None and 0 < level < 1 else DEFAULT_INTERVAL_LEVEL


def result_from_entry(entry: dict[str, Any]) -> IndicatorResult:
    """Rebuild an :class:`IndicatorResult` from a report entry (for ``mlstat report``)."""
    known = {f.name for f in fields(IndicatorResult)}
    data = {k: v for k, v in entry.items() if k in known}
    plot_fields = {f.name for f in fields(Plot)}
    data["plots"] = [Plot(**{k: v for k, v in p.items() if k in plot_fields})
                     for p in data.get("plots") or []]
    if data.get("interval") is not None:
        data["interval"] = tuple(data["interval"])
    return IndicatorResult(**data)


def _target_rule(target: Any, better: str | None) -> tuple[str, float] | None:
    """(comparison, threshold) of a target: a number means "at least" (or "at most" when lower
    is better); a table ``{min = x}`` or ``{max = x}`` says it explicitly. None for anything
    else (validation refuses it; a table with both bounds is never half-judged)."""
    if isinstance(target, dict):
        if len(target) != 1:
            return None
        bound = _number(target.get("min", target.get("max")))
        if bound is None:
            return None
        return (">=" if "min" in target else "<="), bound
    if _number(target) is None:
        return None
    return ("<=" if better == "lower" else ">="), float(target)


def _meets(value: float | None, rule: tuple[str, float]) -> bool | None:
    """Whether ``value`` is on the right side of the rule's threshold (None: no value)."""
    if value is None:
        return None
    return value >= rule[1] if rule[0] == ">=" else value <= rule[1]


def _interval_clears(interval: Any, rule: tuple[str, float]) -> bool | None:
    """Whether the whole interval is on the right side of the threshold: its lower end for
    "at least", its upper end for "at most" (None without an interval)."""
    if not isinstance(interval, list | tuple) or len(interval) != 2:
        return None
    return _meets(_number(interval[0] if rule[0] == ">=" else interval[1]), rule)


def _missing_figure(name: str, target: Any) -> dict[str, Any]:
    """The headline figure of a name no result has (a target naming no figure of the run)."""
    figure: dict[str, Any] = dict.fromkeys(HEADLINE_KEYS)
    figure.update(name=name, target=clean_json(target), status="missing",
                  explanation="No indicator of this run produced this figure.")
    rule = _target_rule(target, None) if isinstance(target, dict) else None
    if rule:  # a table {min = x}: its threshold, as for a figure it has (both bounds, which
        figure["comparison"], figure["target"] = rule  # validation refuses, stay unjudged)
    return figure


def _judged_figure(entry: dict[str, Any], targets: dict[str, Any]) -> dict[str, Any]:
    """The headline figure of a result, judged against its target when it has one."""
    name = entry["name"]
    figure = _missing_figure(name, targets.get(name))
    figure.update({k: entry.get(k) for k in ("dimension", "value", "interval",
                                              "interval_level", "status", "better")},
                  explanation=entry.get("explanation", ""))
    rule = _target_rule(targets.get(name), entry.get("better")) if name in targets else None
    if rule is None:
        return figure
    figure["comparison"], figure["target"] = rule
    if entry["status"] == "ok" and _number(entry.get("value")) is not None:
        figure["met"] = _meets(_number(entry.get("value")), rule)
        figure["interval_clears"] = _interval_clears(entry.get("interval"), rule)
    return figure


def headline_figures(entries: list[dict[str, Any]], targets: dict[str, Any]) -> list[dict]:
    """First-screen figures: every headline result and every result with a target, each with
    its target, whether the estimate meets it and whether the whole interval does (None when
    it cannot be judged)."""
    first: dict[str, dict[str, Any]] = {}
    for entry in entries:
        first.setdefault(entry["name"], entry)
    rank = {d: i for i, d in enumerate(DIMENSIONS)}
    flagged = sorted((e for e in entries if e.get("headline")),
                     key=lambda e: rank.get(e.get("dimension"), len(rank)))
    names = [e["name"] for e in flagged]
    names += [n for n in targets if n not in names]
    return [_judged_figure(first[name], targets) if name in first
            else _missing_figure(name, targets.get(name)) for name in dict.fromkeys(names)]


def target_summary(headline: list[dict[str, Any]]) -> dict[str, int]:
    """Counts of the judged targets: met, not met, and of those met, how many by the whole
    interval and how many by the estimate only (the interval does not clear the target); and
    the targets that cannot be judged (no figure of that name, or its indicator failed)."""
    judged = [f for f in headline if f["met"] is not None]
    met = [f for f in judged if f["met"]]
    return {"targets_met": len(met), "targets_not_met": len(judged) - len(met),
            "targets_not_judged": sum(1 for f in headline
                                      if f["target"] is not None and f["met"] is None),
            "targets_met_by_interval": sum(1 for f in met if f["interval_clears"] is True),
            "targets_met_estimate_only": sum(1 for f in met if f["interval_clears"] is False)}


def status_counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Results per status: every status of ``STATUSES``, and any other status a result has
    (an indicator breaking the contract), so that it is counted, never lost."""
    counts = {s: 0 for s in STATUSES}
    for entry in entries:
        status = str(entry.get("status"))
        counts[status] = counts.get(status, 0) + 1
    return counts


def status_problem(status: Any) -> str | None:
    """Why a result's ``status`` is not one the report knows, or None when it is one (for
    whatever checks results: the runner, the conformance suite)."""
    if status in STATUSES:
        return None
    return (f"status {status!r} is not one of {', '.join(STATUSES)}: give a figure that "
            "computed status 'ok' and put what it warns of in details['warnings'] (or its "
            "explanation)")


def build_report(
    results: list[IndicatorResult], manifest: dict[str, Any], settings: dict[str, Any]
) -> dict[str, Any]:
    """The report document: run facts, first-screen figures against the targets in
    ``settings["targets"]``, and one entry per indicator result."""
    entries = [entry_from_result(r) for r in results]
    settings = clean_json(dict(settings or {}))
    targets = settings.get("targets") or {}
    if not isinstance(targets, dict):
        targets = {}
    headline = headline_figures(entries, targets)
    by_status = status_counts(entries)
    by_dimension = {d: sum(1 for e in entries if e["dimension"] == d) for d in DIMENSIONS}
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "generated_at": now_iso(),
        "run": clean_json({k: manifest.get(k) for k in RUN_FIELDS} | evaluated(manifest)),
        "environment": clean_json(manifest.get("environment") or {}),
        "settings": settings,
        "dimensions": list(DIMENSIONS),
        "summary": {
            "results": len(entries), "by_status": by_status, "by_dimension": by_dimension,
            "targets": len(targets), **target_summary(headline),
        },
        "headline": headline,
        "indicators": entries,
    }


def write_report(run_dir: Path, report: dict[str, Any]) -> list[Path]:
    """Write ``report.json`` and ``report.html`` into the run folder; returns the files."""
    from mlstat_core.report.html import render_report_html

    run_dir = Path(run_dir)
    written = [write_json(run_dir / REPORT_JSON, report)]
    written.append(atomic_write_text(run_dir / REPORT_HTML, render_report_html(report)))
    return written


def load_report(path: Path) -> dict[str, Any]:
    """Read and check a ``report.json`` (DataError when it is not one this version reads)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(report, dict) or "indicators" not in report:
        raise DataError(f"{path} is not an mlstat report (no `indicators`)")
    version = str(report.get("schema_version", ""))
    if version.split(".")[0] != REPORT_SCHEMA_VERSION.split(".")[0]:
        raise DataError(f"{path} has report schema {version!r}; this mlstat reads "
                        f"{REPORT_SCHEMA_VERSION.split('.')[0]}.x; upgrade mlstat-core")
    return report


def open_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest and report of a run folder, or a DataError saying what is wrong."""
    from mlstat_core.artifacts import RunFolder

    run_dir = Path(run_dir)
    folder = RunFolder.open(run_dir)
    manifest = folder.manifest
    again = "run mlstat evaluate again" if "evaluates" in manifest else "rerun the pipeline"
    # a report written before the run failed or was stopped says 'succeeded'
    folder.require_succeeded("it has no report to stand by", again)
    if not (run_dir / REPORT_JSON).is_file():
        raise DataError(f"run folder {run_dir} has no {REPORT_JSON}: the report was deleted "
                        f"after the run; {again}")
    return manifest, load_report(run_dir / REPORT_JSON)


def rebuild_report(run_dir: Path, settings: dict[str, Any] | None = None) -> list[Path]:
    """Rebuild ``report.json`` and ``report.html`` of a run folder from its report.json and
    manifest.json (with the run's own settings unless others are given)."""
    from mlstat_core.artifacts import RunFolder

    # an edited report.json would otherwise come out rebuilt and fingerprinted as original
    RunFolder.open(run_dir).check_files("report.json")
    manifest, old = open_run(run_dir)
    results = [result_from_entry(e) for e in old["indicators"]]
    report = build_report(results, manifest, settings if settings is not None
                          else old.get("settings") or {})
    written = write_report(Path(run_dir), report)
    folder = RunFolder.open(run_dir)
    recorded = folder.manifest.get("files") or {}
    names = [p.name for p in written if p.name in recorded]
    if names:  # keep the manifest's fingerprints true to the rewritten files
        for name in names:
            folder.record(name)
        folder.save_manifest()
    return written
