"""The HTML report renders in a real browser (headless Chromium): no console errors, the five
dimension sections and the plots are there, and a screenshot is taken.

Needs the Debian package ``chromium``; skipped only when no Chromium is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_quality_context import budget_context
from test_report import SETTINGS, all_results

from mlstat_core.components import DIMENSIONS, IndicatorResult, Plot
from mlstat_core.report import build_report, write_report
from mlstat_core.report.compare import render_comparison_html

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


# --- layout: measured in a copy of the page with a measuring script (the report has none) -----

MEASURE = """<script>
addEventListener("load", () => {
  const view = document.documentElement.clientWidth;
  // a table folded in a closed <details> (a heat map's values) is not on screen; opened, a
  // wide one scrolls sideways in its own box
  const overflowing = [...document.querySelectorAll("table")].filter(t => {
    if (t.closest("details:not([open])")) return false;
    const card = t.closest("article, section, main");
    return t.getBoundingClientRect().right > card.getBoundingClientRect().right + 1;
  }).map(t => t.textContent.slice(0, 40));
  const texts = [...document.querySelectorAll("svg text")].map(
    t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a).filter(x => x > 0);
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({view, page: document.documentElement.scrollWidth,
                                    overflowing, smallest_text: Math.min(...texts)});
  document.body.append(out);
});
</script>"""


def measure(binary: str, page: Path, width: int, profile: Path) -> dict:
    """Lay ``page`` out at ``width`` pixels: viewport and page width, tables running out of
    their card, and the smallest text of a plot in screen pixels."""
    probe = page.with_name(f"probe-{page.name}")
    probe.write_text(page.read_text("utf-8").replace("</body>", MEASURE + "</body>"), "utf-8")
    done = run_browser(binary, profile, f"--window-size={width},2000",
                       "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stdout[-2000:]
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def wide_report(tmp_path_factory) -> Path:
    """A report with what ran off screen: long hashes, a 30-class heatmap, a headline table,
    a warning; and a comparison page of two runs with long names."""
    folder = tmp_path_factory.mktemp("wide")
    sha = "0f3edc8" + "a1b2c3d4" * 7 + "9"
    path = ("/home/statistician/projects/ml_in_official_statistics/mlstat/plugins/"
            "mlstat_coding/mlstat_coding/data/ecoicop_codes")
    classes = [f"{c:02d}.1.1 food item" for c in range(30)]
    extra = [
        IndicatorResult("provenance", "reproducibility", details={"table": {
            "columns": ["item", "value"],
            "rows": [[f"data: {path}_{i}.csv", sha] for i in range(3)]}}),
        IndicatorResult("confusion", "accuracy", plots=[Plot("confusion", "heatmap", data={
            "values": [[(i * j) % 7 for j in range(30)] for i in range(30)],
            "x_labels": classes, "y_labels": classes})]),
    ]
    ctx = budget_context(settings=SETTINGS, timings={"fit": 0.2, "predict": 0.01})
    report = build_report(all_results(ctx) + extra, {
        "run_id": "coding-ecoicop-20261129-212619-231279", "name": "wide",
        "warnings": ["load: 248 of the 1,000 field points cannot be used " + sha]}, SETTINGS)
    write_report(folder, report)
    label = "coding-ecoicop-20261129-212619-231279"
    table = {"runs": [{"dir": "a", "label": label}, {"dir": "b", "label": label + "x"}],
             "facts": [["started_at", "2026-11-29T21:26:19+00:00", "2026-11-29T21:26:19+00:00"]],
             "rows": [{"name": "accuracy", "dimension": "accuracy", "values": [0.9, 0.8],
                       "best": 0}], "warnings": ["the runs serve different tasks"]}
    (folder / "compare.html").write_text(render_comparison_html(table), "utf-8")
    return folder


@pytest.mark.parametrize("width", [390, 1280])
def test_nothing_runs_off_screen_and_plot_text_stays_readable(wide_report, tmp_path,
                                                               width) -> None:
    binary = chromium()
    seen = measure(binary, wide_report / "report.html", width, tmp_path / "profile")
    assert seen["page"] <= seen["view"], seen  # wide tables scroll in their box, not the page
    if width >= 1280:
        assert seen["overflowing"] == [], seen  # long paths and hashes break inside their card
    assert seen["smallest_text"] >= 7, seen  # plot tick labels are not shrunk to 3-4 px
    compared = measure(binary, wide_report / "compare.html", width, tmp_path / "profile")
    assert compared["page"] <= compared["view"], compared
