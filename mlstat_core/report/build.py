"""Assemble indicator results and run facts into the report document and write it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from mlstat_core.artifacts import to_jsonable, write_json
from mlstat_core.components import DIMENSIONS, IndicatorResult

REPORT_SCHEMA_VERSION = "1.0"


def build_report(
    results: list[IndicatorResult], manifest: dict[str, Any], settings: dict[str, Any]
) -> dict[str, Any]:
    """The report document: run facts plus one entry per indicator, grouped by dimension."""
    entries = [to_jsonable(asdict(r)) for r in results]
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "run": {k: manifest.get(k) for k in ("run_id", "name", "task", "status", "started_at",
                                             "finished_at", "seed", "components")},
        "settings": to_jsonable(settings),
        "dimensions": list(DIMENSIONS),
        "indicators": entries,
    }


def write_report(run_dir: Path, report: dict[str, Any]) -> list[Path]:
    """Write ``report.json`` (and the HTML report) into the run folder; returns the files."""
    run_dir = Path(run_dir)
    written = [write_json(run_dir / "report.json", report)]
    return written
