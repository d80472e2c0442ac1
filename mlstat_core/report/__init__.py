"""The quality report of a run: ``report.json`` (versioned schema) and ``report.html``."""

from __future__ import annotations

from mlstat_core.report.build import REPORT_SCHEMA_VERSION, build_report, write_report

__all__ = ["REPORT_SCHEMA_VERSION", "build_report", "write_report"]
