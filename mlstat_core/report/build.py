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

REPORT_SCHEMA_VERSION = "1.0"
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
RUN_FIELDS = ("run_id", "name", "task", "status", "error", "started_at", "finished_at", "seed",
              "components", "warnings")
STATUSES = ("ok", "skipped", "failed")


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
    return entry


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
    is better); a table ``{min = x}`` or ``{max = x}`` says it explicitly."""
    if isinstance(target, dict):
        if _number(target.get("min")) is not None:
            return ">=", float(target["min"])
        if _number(target.get("max")) is not None:
            return "<=", float(target["max"])
        return None
    if _number(target) is None:
        return None
    return ("<=" if better == "lower" else ">="), float(target)


def headline_figures(entries: list[dict[str, Any]], targets: dict[str, Any]) -> list[dict]:
    """First-screen figures: every headline result and every result with a target, each with
    its target and whether it is met (None when it cannot be judged)."""
    first: dict[str, dict[str, Any]] = {}
    for entry in entries:
        first.setdefault(entry["name"], entry)
    rank = {d: i for i, d in enumerate(DIMENSIONS)}
    flagged = sorted((e for e in entries if e.get("headline")),
                     key=lambda e: rank.get(e.get("dimension"), len(rank)))
    names = [e["name"] for e in flagged]
    names += [n for n in targets if n not in names]
    figures = []
    for name in dict.fromkeys(names):
        entry = first.get(name)
        figure: dict[str, Any] = {"name": name, "target": clean_json(targets.get(name)),
                                  "comparison": None, "met": None}
        if entry is None:
            figure.update(dimension=None, value=None, interval=None, status="missing",
                          explanation="No indicator of this run produced this figure.")
            figures.append(figure)
            continue
        figure.update(dimension=entry["dimension"], value=entry.get("value"),
                      interval=entry.get("interval"), status=entry["status"],
                      explanation=entry.get("explanation", ""), better=entry.get("better"))
        rule = _target_rule(targets.get(name), entry.get("better")) if name in targets else None
        value = _number(entry.get("value"))
        if rule is not None:
            figure["comparison"], figure["target"] = rule
            if value is not None and entry["status"] == "ok":
                figure["met"] = value >= rule[1] if rule[0] == ">=" else value <= rule[1]
        figures.append(figure)
    return figures


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
    by_status = {s: sum(1 for e in entries if e["status"] == s) for s in STATUSES}
    by_dimension = {d: sum(1 for e in entries if e["dimension"] == d) for d in DIMENSIONS}
    judged = [f for f in headline if f["met"] is not None]
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "generated_at": now_iso(),
        "run": clean_json({k: manifest.get(k) for k in RUN_FIELDS}),
        "environment": clean_json(manifest.get("environment") or {}),
        "settings": settings,
        "dimensions": list(DIMENSIONS),
        "summary": {
            "results": len(entries), "by_status": by_status, "by_dimension": by_dimension,
            "targets": len(targets),
            "targets_met": sum(1 for f in judged if f["met"]),
            "targets_not_met": sum(1 for f in judged if not f["met"]),
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
    manifest = RunFolder.open(run_dir).manifest
    if not (run_dir / REPORT_JSON).is_file():
        status = manifest.get("status")
        error = manifest.get("error")
        why = f"; it failed with: {error}" if error else ""
        fix = "fix that and rerun the pipeline" if error else "rerun the pipeline"
        raise DataError(
            f"run folder {run_dir} has no {REPORT_JSON} (run status {status!r}{why}): its "
            f"quality was never assessed; {fix}")
    return manifest, load_report(run_dir / REPORT_JSON)


def rebuild_report(run_dir: Path, settings: dict[str, Any] | None = None) -> list[Path]:
    """Rebuild ``report.json`` and ``report.html`` of a run folder from its report.json and
    manifest.json (with the run's own settings unless others are given)."""
    from mlstat_core.artifacts import RunFolder

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
