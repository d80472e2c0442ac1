"""The HTML report renders in a real browser (headless Chromium): no console errors, the five
dimension sections and the plots are there, and a screenshot is taken.

Needs the Debian package ``chromium``; skipped only when no Chromium is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_quality_context import budget_context
from test_report import SETTINGS, all_results

from mlstat_core.components import DIMENSIONS
from mlstat_core.report import build_report, write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]

pytestmark = pytest.mark.browser


def chromium() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")


def run_browser(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("run")
    ctx = budget_context(settings=SETTINGS, timings={"fit": 0.2, "predict": 0.01})
    report = build_report(all_results(ctx), {"run_id": "browser-check", "name": "budget",
                                             "task": "tabular_classification"}, SETTINGS)
    write_report(run_dir, report)
    return run_dir / "report.html"


def test_report_renders_without_console_errors(report_file, tmp_path) -> None:
    binary = chromium()
    done = run_browser(binary, tmp_path / "profile", "--dump-dom", report_file.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    dom = done.stdout
    for dimension in DIMENSIONS:
        assert f'id="dimension-{dimension}"' in dom
    assert 'id="headline"' in dom
    kinds = set(re.findall(r'data-kind="(\w+)"', dom))
    assert {"heatmap", "line", "bar"} <= kinds
    assert dom.count("<svg") >= 4


def test_report_screenshot(report_file, tmp_path) -> None:
    binary = chromium()
    shot = tmp_path / "report.png"
    done = run_browser(binary, tmp_path / "profile", f"--screenshot={shot}",
                       "--window-size=1280,2400", report_file.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000
