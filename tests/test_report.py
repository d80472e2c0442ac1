"""The report: versioned JSON, self-contained HTML, rebuilding from a run folder, comparing."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_quality_context import budget_context, imputation_context

from mlstat_core.artifacts import RunFolder
from mlstat_core.components import DIMENSIONS, IndicatorResult, Plot
from mlstat_core.errors import DataError
from mlstat_core.quality.runner import run_indicator
from mlstat_core.quality.specs import INDICATORS
from mlstat_core.report import REPORT_SCHEMA_VERSION, build_report, write_report
from mlstat_core.report.build import (
    HEADLINE_KEYS,
    load_report,
    rebuild_report,
    result_from_entry,
)
from mlstat_core.report.commands import compare_command, report_command
from mlstat_core.report.compare import comparison, render_comparison_html
from mlstat_core.report.html import render_report_html

SETTINGS = {"manual_seconds_per_record": 30, "cost_per_hour": 40.0,
            "targets": {"accuracy": 0.5, "macro_f1": 0.9, "expected_calibration_error": 0.2,
                        "automation_rate": {"min": 0.2}, "records_per_second": {"max": 1.0},
                        "never_computed": 1}}
EVIL = "<script>alert('x')</script>"


def all_results(ctx, task: str = "tabular_classification") -> list[IndicatorResult]:
    results: list[IndicatorResult] = []
    for spec in INDICATORS:
        if spec.default and spec.serves(task):
            results += run_indicator(spec.load_factory()(spec.params()), f"core.{spec.name}",
                                     spec.dimension, ctx)
    return results


def plugin_results() -> list[IndicatorResult]:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
           '<rect width="40" height="20" fill="teal"/><script>alert(1)</script></svg>')
    return [
        IndicatorResult(f"plugin {EVIL}", "explainability", 3.5,
                        explanation=f"explains {EVIL}", details={"note": EVIL},
                        plots=[Plot(f"ready {EVIL}", "custom", svg=svg),
                               Plot("broken", "heatmap", data={"values": [1, 2, 3]})]),
        IndicatorResult("plugin.broken", "accuracy", status="failed",
                        error=f"ValueError: {EVIL}"),
    ]


@pytest.fixture(scope="module")
def report() -> dict:
    ctx = budget_context(settings=SETTINGS, timings={"fit": 0.2, "predict": 0.01})
    results = all_results(ctx) + plugin_results()
    manifest = {"run_id": "budget-1", "name": f"budget {EVIL}",
                "task": "tabular_classification", "status": "succeeded", "seed": 0,
                "environment": {"python": "3.12"}}
    return build_report(results, manifest, SETTINGS)


@pytest.fixture(scope="module")
def html(report) -> str:
    return render_report_html(report)


# --- report.json -------------------------------------------------------------------------------


def test_document_shape(report) -> None:
    assert report["schema_version"] == REPORT_SCHEMA_VERSION
    assert report["dimensions"] == list(DIMENSIONS)
    assert report["run"]["run_id"] == "budget-1"
    names = [e["name"] for e in report["indicators"]]
    assert {"accuracy", "confusion_matrix", "auto_coding_share", "refit_identical_share",
            "fit_seconds", "automation_rate", "provenance"} <= set(names)
    entry = next(e for e in report["indicators"] if e["name"] == "accuracy")
    assert set(entry) >= {"name", "indicator", "dimension", "value", "interval",
                          "explanation", "status", "error", "headline", "better", "details",
                          "plots"}
    assert entry["indicator"] == "core.classification_accuracy"
    assert report["summary"]["by_status"]["failed"] == 1
    json.dumps(report, allow_nan=False)  # strict JSON


def test_targets_are_judged_in_the_right_direction(report) -> None:
    figures = {f["name"]: f for f in report["headline"]}
    accuracy = figures["accuracy"]
    assert accuracy["comparison"] == ">=" and accuracy["met"] is (accuracy["value"] >= 0.5)
    assert figures["macro_f1"]["met"] is False
    ece = figures["expected_calibration_error"]  # lower is better: a plain number is a maximum
    assert ece["comparison"] == "<=" and ece["met"] is True
    assert figures["automation_rate"]["comparison"] == ">="
    assert figures["records_per_second"]["comparison"] == "<="
    assert figures["records_per_second"]["met"] is False
    assert figures["never_computed"]["status"] == "missing"
    assert figures["never_computed"]["met"] is None
    assert report["summary"]["targets"] == 6
    assert report["summary"]["targets_not_met"] >= 2


def test_nan_and_infinity_become_null() -> None:
    doc = build_report([IndicatorResult("a", "accuracy", float("nan"), (float("-inf"), 1.0))],
                       {}, {})
    assert doc["indicators"][0]["value"] is None
    assert doc["indicators"][0]["interval"] == [None, 1.0]


def test_entries_round_trip_to_results(report) -> None:
    entry = next(e for e in report["indicators"] if e["name"] == "confusion_matrix")
    result = result_from_entry(entry)
    assert result.plots[0].kind == "heatmap"
    assert result.details["matrix"] == entry["details"]["matrix"]


def headline_of(results: list[IndicatorResult], targets: dict) -> tuple[dict, dict, str]:
    """The headline figures by name, the summary and the first screen's HTML of a report."""
    doc = build_report(results, {}, {"targets": targets})
    page = render_report_html(doc)
    first = page.split('<section id="headline">', 1)[1].split("</section>", 1)[0]
    return {f["name"]: f for f in doc["headline"]}, doc["summary"], first


def row_of(first_screen: str, name: str) -> str:
    return next(r for r in first_screen.split("<tr>")
                if r.startswith(f'<th scope="row">{name}<'))


def test_a_target_met_by_the_estimate_only_says_the_interval_does_not_clear_it() -> None:
    higher, lower = {"better": "higher"}, {"better": "lower"}
    figures, summary, first = headline_of([
        IndicatorResult("accuracy", "accuracy", 0.658, (0.605, 0.711), details=higher),
        IndicatorResult("macro_f1", "accuracy", 0.7, (0.66, 0.74), details=higher),
        IndicatorResult("ece", "accuracy", 0.04, (0.02, 0.06), details=lower),
        IndicatorResult("kappa", "accuracy", 0.7, details=higher),
    ], {"accuracy": 0.65, "macro_f1": 0.65, "ece": 0.05, "kappa": 0.6})
    assert figures["accuracy"]["met"] is True and figures["accuracy"]["interval_clears"] is False
    assert figures["macro_f1"]["met"] is True and figures["macro_f1"]["interval_clears"] is True
    assert figures["ece"]["comparison"] == "<=" and figures["ece"]["interval_clears"] is False
    assert figures["kappa"]["met"] is True and figures["kappa"]["interval_clears"] is None
    assert summary["targets_met"] == 4 and summary["targets_not_met"] == 0
    assert summary["targets_met_by_interval"] == 1
    assert summary["targets_met_estimate_only"] == 2
    row = row_of(first, "accuracy")
    assert "met (estimate only)" in row and "the interval does not clear the target" in row
    assert "the whole interval clears the target" in row_of(first, "macro_f1")
    kappa = row_of(first, "kappa")
    assert "no interval: judged on the estimate" in kappa
    # met without an interval: its own badge, not the green one of an interval that clears
    assert '<span class="badge met-no-interval">met (no interval)</span>' in kappa
    assert 'class="badge met"' not in kappa and 'class="badge met"' in row_of(first, "macro_f1")
    assert ("1</strong> of 4 targets met by the whole interval; 2 more met by the estimate "
            "only (the interval does not clear the target), 1 met without an interval (judged "
            "on the estimate)") in first


def test_the_targets_box_says_when_no_target_is_met_by_its_interval() -> None:
    """2 of 2 met, one by the estimate only and one without interval: none by an interval."""
    higher = {"better": "higher"}
    _, summary, first = headline_of([
        IndicatorResult("accuracy", "accuracy", 0.924, (0.915, 0.935), details=higher),
        IndicatorResult("autocoding_share", "accuracy", 0.951, details=higher),
    ], {"accuracy": 0.92, "autocoding_share": 0.85})
    assert summary["targets_met_by_interval"] == 0
    assert ("0</strong> of 2 targets met by the whole interval; 1 more met by the estimate "
            "only (the interval does not clear the target), 1 met without an interval") in first
    assert "met (no interval)" in row_of(first, "autocoding_share")
    assert ".badge.met-no-interval{" in render_report_html(build_report([], {}, {}))


def test_interval_clears_is_null_when_the_target_cannot_be_judged() -> None:
    figures, summary, _ = headline_of([
        IndicatorResult("accuracy", "accuracy", 0.4, (0.3, 0.5), details={"better": "higher"}),
        IndicatorResult("kappa", "accuracy", status="skipped", interval=(0.1, 0.9)),
    ], {"accuracy": 0.65, "kappa": 0.5})
    assert figures["accuracy"]["met"] is False and figures["accuracy"]["interval_clears"] is False
    assert figures["kappa"]["met"] is None and figures["kappa"]["interval_clears"] is None
    assert summary["targets_met_by_interval"] == summary["targets_met_estimate_only"] == 0


def test_targets_that_cannot_be_judged_are_counted_and_said() -> None:
    """A misspelt figure and a skipped one: the summary accounts for every target set."""
    _, summary, first = headline_of([
        IndicatorResult("accuracy", "accuracy", 0.4, (0.3, 0.5), details={"better": "higher"}),
        IndicatorResult("kappa", "accuracy", status="skipped", interval=(0.1, 0.9)),
    ], {"accuracy": 0.65, "kappa": 0.5, "acurracy": 0.9})
    assert (summary["targets"], summary["targets_not_met"], summary["targets_not_judged"]) == \
        (3, 1, 2)
    assert "1 not met, 2 cannot be judged (no such figure, or no number to judge: its " \
        "indicator skipped or failed)" in " ".join(first.split())


def test_a_target_with_both_bounds_is_never_half_judged() -> None:
    """Validation refuses it; a report rebuilt from an older run must not judge `min` alone."""
    figures, summary, first = headline_of(
        [IndicatorResult("share", "accuracy", 0.549, details={"better": "higher"})],
        {"share": {"min": 0.5, "max": 0.52}})
    assert figures["share"]["met"] is None and figures["share"]["comparison"] is None
    assert summary["targets_met"] == 0
    assert "cannot judge" in row_of(first, "share")


def test_each_interval_is_labelled_with_its_own_level() -> None:
    ctx = budget_context()
    spec = next(s for s in INDICATORS if s.name == "classification_accuracy")
    results = run_indicator(spec.load_factory()(spec.params(confidence_level=0.8)),
                            "core.classification_accuracy", "accuracy", ctx)
    results.append(IndicatorResult("plain", "accuracy", 0.5, (0.4, 0.6), headline=True))
    doc = build_report(results, {}, {})
    entries = {e["name"]: e for e in doc["indicators"]}
    assert entries["accuracy"]["interval_level"] == 0.8
    assert entries["plain"]["interval_level"] == 0.95  # the default when details do not say
    assert entries["per_class"]["interval_level"] is None  # no interval
    figures = {f["name"]: f for f in doc["headline"]}
    assert figures["accuracy"]["interval_level"] == 0.8
    page = render_report_html(doc)
    first, rest = page.split('<section id="dimension-accuracy"', 1)
    assert "80% [" in row_of(first, "accuracy") and "95% [" in row_of(first, "plain")
    assert rest.count("80% interval [") == 5  # accuracy, macro_f1, weighted_f1, kappa, mcc
    assert rest.count("95% interval [") == 1  # plain
    assert "95% interval</th>" not in page


def test_every_headline_figure_has_every_documented_key(report) -> None:
    schema = (Path(__file__).resolve().parents[1] / "docs" / "report-schema.md").read_text()
    table = schema.split("### `headline[]` figure", 1)[1].split("\n\n", 3)[2]
    documented = set(re.findall(r"`(\w+)`", "\n".join(
        line.split("|")[1] for line in table.splitlines()[2:])))
    assert documented == set(HEADLINE_KEYS)
    for figure in report["headline"]:
        assert set(figure) == documented, figure["name"]
    missing = next(f for f in report["headline"] if f["name"] == "never_computed")
    assert missing["better"] is None and missing["interval_clears"] is None


def test_a_report_of_schema_1_0_still_loads_and_renders(tmp_path, report) -> None:
    old = json.loads(json.dumps(report))
    old["schema_version"] = "1.0"
    for item in old["headline"] + old["indicators"]:
        item.pop("interval_level", None)
        item.pop("interval_clears", None)
    run_dir = make_run(tmp_path, report)
    (run_dir / "report.json").write_text(json.dumps(old))
    assert load_report(run_dir / "report.json")["schema_version"] == "1.0"
    assert "95% interval [" in render_report_html(old)
    # a 1.0 report judged the estimate only: a met target keeps its plain badge
    assert any(h.get("met") for h in old["headline"])
    assert "met (no interval)" not in render_report_html(old)
    rebuild_report(run_dir)
    assert load_report(run_dir / "report.json")["schema_version"] == REPORT_SCHEMA_VERSION


# --- report.html -------------------------------------------------------------------------------


def test_html_has_the_five_dimension_sections_and_the_plots(html) -> None:
    for dimension in DIMENSIONS:
        assert f'id="dimension-{dimension}"' in html
    assert 'id="headline"' in html
    kinds = re.findall(r'<figure class="plot" data-kind="(\w+)"', html)
    assert {"heatmap", "line", "bar"} <= set(kinds)
    assert html.count("<svg") >= 4
    assert "not met" in html and ">met<" in html


def test_html_is_self_contained(html) -> None:
    assert "<script" not in html and "<link" not in html
    for ref in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert ref.startswith(("#", "data:")), ref
    assert "url(http" not in html


def test_html_escapes_every_text(html) -> None:
    assert EVIL not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    # a plugin's ready SVG is an image, so its script cannot run
    assert "data:image/svg+xml;base64," in html
    assert "could not be drawn" in html  # the malformed plot, not a crash


def test_svg_ids_are_unique_across_plots(html) -> None:
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_imputation_report_shows_distributions() -> None:
    ctx = imputation_context()
    doc = build_report(all_results(ctx, "tabular_imputation"), {"task": "tabular_imputation"},
                       {"targets": {"edit_rule_pass_rate": 0.95}})
    page = render_report_html(doc)
    assert page.count('data-kind="hist"') == 2
    figures = {f["name"]: f for f in doc["headline"]}
    assert figures["edit_rule_pass_rate"]["met"] is False
    assert "imputation_nrmse" in figures


# --- run folders: write, rebuild, errors ----------------------------------------------------------


def make_run(tmp_path: Path, report: dict, name: str = "budget") -> Path:
    run = RunFolder.create(tmp_path, name, task="tabular_classification", seed=0)
    run.finish("succeeded")
    files = write_report(run.path, report)
    assert [f.name for f in files] == ["report.json", "report.html"]
    return run.path


def test_write_and_rebuild(tmp_path, report) -> None:
    run_dir = make_run(tmp_path, report)
    (run_dir / "report.html").unlink()
    files = rebuild_report(run_dir)
    assert all(f.is_file() for f in files)
    rebuilt = load_report(run_dir / "report.json")
    assert rebuilt["run"]["run_id"] == run_dir.name  # run facts from the manifest
    assert len(rebuilt["indicators"]) == len(report["indicators"])
    assert rebuilt["headline"] == report["headline"]


def test_report_command(tmp_path, report) -> None:
    run_dir = make_run(tmp_path, report)
    outcome = CliRunner().invoke(report_command, [str(run_dir)])
    assert outcome.exit_code == 0, outcome.output
    assert "report.html" in outcome.output


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "nowhere", "does not exist"),
    (lambda p: p, "not a run folder"),
    (lambda p: (p / "file.txt").write_text("x") and p / "file.txt", "not a run folder"),
])
def test_bad_run_folders_are_data_errors(tmp_path, make, message) -> None:
    with pytest.raises(DataError, match=message):
        rebuild_report(make(tmp_path))


def test_run_without_report_or_with_a_future_schema(tmp_path, report) -> None:
    run = RunFolder.create(tmp_path, "failed")
    run.finish("failed", error="boom")
    with pytest.raises(DataError, match="did not succeed .*boom.*fix that and rerun"):
        rebuild_report(run.path)
    done = RunFolder.create(tmp_path, "reportless")
    done.finish("succeeded")
    with pytest.raises(DataError, match="no report.json: the report was deleted after the run"):
        rebuild_report(done.path)
    run_dir = make_run(tmp_path, report, "future")
    doc = json.loads((run_dir / "report.json").read_text())
    doc["schema_version"] = "2.0"
    (run_dir / "report.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match="schema"):
        rebuild_report(run_dir)


# --- compare -----------------------------------------------------------------------------------


def test_compare_runs_side_by_side(tmp_path, report) -> None:
    worse = json.loads(json.dumps(report))
    for entry in worse["indicators"]:
        if entry["name"] == "accuracy":
            entry["value"], entry["interval"] = 0.1, [0.07, 0.14]  # apart from the other's
    a, b = make_run(tmp_path, report, "good"), make_run(tmp_path, worse, "bad")
    table = comparison([a, b])
    rows = {r["name"]: r for r in table["rows"]}
    assert rows["accuracy"]["values"][1] == 0.1
    assert rows["accuracy"]["best"] == 0
    assert rows["fit_seconds"]["best"] is None  # equal values: no best
    facts = {f[0]: f[1:] for f in table["facts"]}
    assert facts["seed"] == ["0", "0"]  # seed 0 is a fact, not a missing value
    assert "model" in facts  # which model each run used
    page = render_comparison_html(table)
    assert a.name in page and 'class="num best"' in page
    # the best cell is said in words (not only bold and green), and each row says which
    # direction is better
    accuracy = next(r for r in page.split("<tr>") if r.startswith('<th scope="row">accuracy<'))
    assert accuracy.startswith('<th scope="row">accuracy<div class="meta">higher is better</div>')
    assert re.search(r'<td class="num best">[^<]+<span class="visually-hidden"> \(best\)</span>'
                     r'<div class="meta">\[0.559, 0.652\]</div></td><td class="num">0.100'
                     r'<div class="meta">\[0.070, 0.140\]</div></td>', accuracy)
    # the judgement under the figure's name: the intervals are apart (no predictions here)
    assert f'<div class="meta">best: {a.name}, better than {b.name} (95% intervals apart)' \
        in accuracy
    assert page.count("(best)") == sum(r["best"] is not None for r in table["rows"])
    assert ".visually-hidden{" in page
    ece = next(r for r in page.split("<tr>")
               if r.startswith('<th scope="row">expected_calibration_error<'))
    assert "lower is better" in ece

    # a rerun that reads alike ties with the first run for the best: said, none named best
    again = make_run(tmp_path, report, "again")
    tied = {r["name"]: r for r in comparison([a, again, b])["rows"]}["accuracy"]
    assert tied["best"] is None and tied["leader"] is None
    assert tied["verdict"] == f"{a.name} and {again.name} read alike, at the best value: no " \
        "run is named best"

    out = tmp_path / "compare.html"
    outcome = CliRunner().invoke(compare_command, [str(a), str(b), "--html", str(out)])
    assert outcome.exit_code == 0, outcome.output
    assert "accuracy" in outcome.output and out.is_file()


def test_compare_of_runs_of_different_tasks_warns_and_names_no_best(tmp_path, report) -> None:
    other = json.loads(json.dumps(report))
    other["run"]["task"] = "tabular_regression"
    for entry in other["indicators"]:
        if entry["name"] == "accuracy":
            entry["value"], entry["interval"] = 0.1, [0.07, 0.14]  # apart from the other's
    a, b = make_run(tmp_path, report, "one"), make_run(tmp_path, other, "two")
    table = comparison([a, b])
    assert table["warnings"] and "serve different tasks" in table["warnings"][0]
    assert all(row["best"] is None for row in table["rows"])
    outcome = CliRunner().invoke(compare_command, [str(a), str(b)])
    assert "warning: the runs serve different tasks" in " ".join(outcome.output.split())
    assert "serve different tasks" in render_comparison_html(table)
    assert comparison([a, make_run(tmp_path, report, "three")])["warnings"] == []


def test_compare_of_runs_tested_on_different_records_warns_and_names_no_best(tmp_path,
                                                                             report) -> None:
    import pandas as pd

    from mlstat_core.artifacts import records_fingerprint

    worse = json.loads(json.dumps(report))
    for entry in worse["indicators"]:
        if entry["name"] == "accuracy":
            entry["value"], entry["interval"] = 0.1, [0.07, 0.14]  # apart from the other's
    a, b = make_run(tmp_path, report, "cycle1"), make_run(tmp_path, worse, "cycle2")
    test = pd.DataFrame({"text": ["mleko", "chleb", "ser"], "code": ["1", "2", "3"]})
    for run, frame in ((a, test), (b, test.iloc[::-1])):  # same records, another order
        RunFolder.open(run).update(test_records=records_fingerprint(frame, by_row=False))
    # the identity columns only: features a loader adds do not make records different
    assert records_fingerprint(test, ["code"]) == records_fingerprint(
        test.assign(extra=[[1], [2], [3]]), ["code"])
    assert records_fingerprint(test.assign(cells=[[1], {"a": 2}, None]))["count"] == 3
    assert comparison([a, b])["warnings"] == []
    assert {r["name"]: r for r in comparison([a, b])["rows"]}["accuracy"]["best"] == 0
    RunFolder.open(b).update(test_records=records_fingerprint(test.iloc[:2], by_row=False))
    table = comparison([a, b])
    assert "tested on different records (3, 2 test records" in table["warnings"][0]
    assert all(row["best"] is None for row in table["rows"])


def test_compare_does_not_rank_figures_made_with_different_quality_settings(tmp_path,
                                                                          report) -> None:
    other = json.loads(json.dumps(report))
    other["settings"] = {**(report.get("settings") or {}), "target_accuracy": 0.7,
                         "targets": {"accuracy": 0.5}}
    for entry in other["indicators"]:
        if entry["name"] in ("accuracy", "automation_rate"):
            entry["value"], entry["interval"] = 0.1, [0.07, 0.14]  # apart from the other's
    a, b = make_run(tmp_path, report, "strict"), make_run(tmp_path, other, "lenient")
    table = comparison([a, b])
    assert len(table["warnings"]) == 1 and "target_accuracy: 0.95, 0.7" in table["warnings"][0]
    rows = {r["name"]: r for r in table["rows"]}
    assert rows["automation_rate"]["best"] is None  # made with another threshold
    assert rows["accuracy"]["best"] == 0  # a target differs, the figure does not depend on it
    # runs of different tasks: nothing is ranked, whatever the settings
    other["run"]["task"] = "tabular_regression"
    c = make_run(tmp_path, other, "regression")
    assert all(r["best"] is None for r in comparison([a, c])["rows"])


def test_compare_counts_a_default_written_out_as_no_difference(tmp_path, report) -> None:
    explicit = json.loads(json.dumps(report))
    explicit["settings"] = {**(report.get("settings") or {}), "target_accuracy": 0.95,
                            "currency": ""}  # both the defaults, written out
    a, b = make_run(tmp_path, report, "implicit"), make_run(tmp_path, explicit, "explicit")
    assert comparison([a, b])["warnings"] == []


def test_compare_lists_the_pipeline_settings_in_which_runs_differ(tmp_path, report) -> None:
    a, b = make_run(tmp_path, report, "c-half"), make_run(tmp_path, report, "c-one")
    common = ('[pipeline]\nname = "{name}"\nseed = 0\n[model]\ncomponent = "core.x"\n'
              'C = {c}\nngrams = [1, {n}]\nkeep = true\n[quality]\ncurrency = "{cur}"\n')
    (a / "config.toml").write_text(common.format(name="a", c=0.5, n=2, cur="EUR"))
    (b / "config.toml").write_text(common.format(name="b", c=1, n=3, cur="PLN"))
    facts = {f[0]: f[1:] for f in comparison([a, b])["facts"]}
    # the name and [quality] (warned about on its own) are not listed; model keys first
    assert facts["settings that differ"] == ["model.C = 0.5; model.ngrams = [1, 2]",
                                             "model.C = 1; model.ngrams = [1, 3]"]
    (b / "config.toml").write_text(common.format(name="b", c=0.5, n=2, cur="EUR")
                                   + "[split]\ntest_size = 0.2\n")
    facts = {f[0]: f[1:] for f in comparison([a, b])["facts"]}
    assert facts["settings that differ"] == ["split.test_size = —", "split.test_size = 0.2"]
    (b / "config.toml").write_text(common.format(name="b", c=0.5, n=2, cur="EUR"))
    assert "settings that differ" not in {f[0] for f in comparison([a, b])["facts"]}
    # where the run went and its seed (a fact row) are no causes; an indicator's param is
    (a / "config.toml").write_text(common.format(name="a", c=0.5, n=2, cur="EUR")
                                   + '[output]\ndir = "one"\n[[indicators]]\n'
                                     'component = "core.acc"\ntop_k = [3]\n')
    (b / "config.toml").write_text(common.format(name="b", c=0.5, n=2, cur="EUR").replace(
        "seed = 0", "seed = 1") + '[output]\ndir = "two"\n[[indicators]]\n'
                                  'component = "core.acc"\ntop_k = [5]\n')
    facts = {f[0]: f[1:] for f in comparison([a, b])["facts"]}
    assert facts["settings that differ"] == ["indicators[core.acc].top_k = [3]",
                                             "indicators[core.acc].top_k = [5]"]
    (b / "config.toml").write_text("not [toml")  # unreadable: no row rather than a guess
    assert "settings that differ" not in {f[0] for f in comparison([a, b])["facts"]}


def _trained(run: Path, model: bytes, data_dir: str, versions: dict[str, str]) -> None:
    """Give a test run folder a model file, an input file and software versions."""
    folder = RunFolder.open(run)
    (run / "model").mkdir(exist_ok=True)
    (run / "model" / "estimator.skops").write_bytes(model)
    folder.record("model/estimator.skops")
    folder.update(inputs={f"/{data_dir}/records.csv": "ab" * 32},
                  environment={"python": "3.11.9", "packages": versions})


def test_compare_tells_a_run_reproduced_exactly_and_the_software_that_differs(
        tmp_path, report) -> None:
    """An auditor reruns a published pipeline in another folder: equal fingerprints show the
    same data and the same model; a version that differs is named."""
    a, b = make_run(tmp_path, report, "published"), make_run(tmp_path, report, "rerun")
    config = '[pipeline]\nname = "x"\n[loader]\ncomponent = "core.table"\npath = "{}"\n'
    (a / "config.toml").write_text(config.format("/office/records.csv"))
    (b / "config.toml").write_text(config.format("/office/records.csv"))
    _trained(a, b"weights", "office", {"scikit-learn": "1.7.2", "numpy": "2.3.0"})
    _trained(b, b"weights", "home/auditor", {"scikit-learn": "1.7.2", "numpy": "2.3.0"})
    table = comparison([a, b])
    facts = {f[0]: f[1:] for f in table["facts"]}
    data, model = facts["data read (sha256)"], facts["model files (sha256)"]
    assert data[0] == data[1] != "—" and model[0] == model[1] != "—"  # paths do not count
    assert "software that differs" not in facts
    assert table["notes"] == ["the runs read the same data with the same settings and seed "
                              "and wrote identical model files: the training was reproduced "
                              "exactly"]
    outcome = CliRunner().invoke(compare_command, [str(a), str(b)])
    assert "note: the runs read the same data" in " ".join(outcome.output.split())
    assert "The runs read the same data" in render_comparison_html(table)

    _trained(b, b"other weights", "home/auditor", {"scikit-learn": "1.8.0", "numpy": "2.3.0"})
    table = comparison([a, b])
    facts = {f[0]: f[1:] for f in table["facts"]}
    assert facts["model files (sha256)"][0] != facts["model files (sha256)"][1]
    assert facts["software that differs"] == ["scikit-learn 1.7.2", "scikit-learn 1.8.0"]
    assert table["notes"] == []
    _trained(b, b"weights", "home/auditor", {"scikit-learn": "1.8.0", "numpy": "2.3.0"})
    assert comparison([a, b])["notes"][0].endswith(", with other software versions")
    # a library only one run recorded (an older mlstat recorded fewer) is no difference
    _trained(b, b"weights", "home/auditor", {"scikit-learn": "1.7.2", "numpy": "2.3.0",
                                             "click": "8.3.0"})
    assert "software that differs" not in {f[0] for f in comparison([a, b])["facts"]}
    # the data read from another folder: the same data, so still reproduced
    (b / "config.toml").write_text(config.format("/home/auditor/records.csv"))
    assert "(only where the files lie differs)" in comparison([a, b])["notes"][0]
    (b / "config.toml").write_text(config.format("/office/records.csv") + "seed = 3\n")
    assert comparison([a, b])["notes"] == []  # another setting: not a reproduction


def test_compare_refuses_a_run_compared_with_itself_or_its_copy(tmp_path, report) -> None:
    """Given the same folder twice, or a copied run folder, compare said the training was
    reproduced exactly; nothing was rerun."""
    from mlstat_core.cli import main

    a = make_run(tmp_path, report, "published")
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    for pair, said in (([a, a], "are the same folder"),
                       ([a, tmp_path / ".." / tmp_path.name / a.name], "are the same folder"),
                       ([a, copy], "are the same run")):
        with pytest.raises(DataError, match=said):
            comparison(pair)
        outcome = CliRunner().invoke(main, ["compare", *map(str, pair)])
        assert outcome.exit_code == 2 and said in " ".join(outcome.output.split())
        assert "Traceback" not in outcome.output and "reproduced" not in outcome.output
    b = make_run(tmp_path, report, "rerun")
    assert len(comparison([a, b])["runs"]) == 2  # two runs are compared as before


def test_compare_html_never_replaces_a_run_file_or_a_data_file(tmp_path, report) -> None:
    a, b = make_run(tmp_path, report, "one"), make_run(tmp_path, report, "two")
    manifest = (a / "manifest.json").read_bytes()
    data = tmp_path / "records.csv"
    data.write_text("id,x\n1,2\n")
    for target, said in ((a / "manifest.json", "does not end in .html"),
                         (a / "compare.html", "inside the run folder"),
                         (data, "does not end in .html")):
        outcome = CliRunner().invoke(compare_command, [str(a), str(b), "--html", str(target)])
        assert outcome.exit_code == 2 and said in " ".join(outcome.output.split()), target
    assert (a / "manifest.json").read_bytes() == manifest and data.read_text() == "id,x\n1,2\n"
    assert not (a / "compare.html").exists()


def test_compare_needs_two_real_runs(tmp_path, report) -> None:
    outcome = CliRunner().invoke(compare_command, [str(tmp_path)])
    assert outcome.exit_code == 2 and "at least two" in outcome.output
    with pytest.raises(DataError, match="not a run folder"):
        comparison([make_run(tmp_path, report), tmp_path])


def test_plugin_png_is_embedded(tmp_path) -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 20).decode()
    doc = build_report([IndicatorResult("map", "accuracy", 1.0, plots=[
        Plot("map", "raster", png_base64=png)])], {}, {})
    assert "data:image/png;base64," in render_report_html(doc)


def test_rebuild_keeps_the_manifest_fingerprints_true(tmp_path, report) -> None:
    from mlstat_core.artifacts import sha256_file

    run_dir = make_run(tmp_path, report)
    run = RunFolder.open(run_dir)
    run.record("report.json")
    run.save_manifest()
    rebuild_report(run_dir)
    files = RunFolder.open(run_dir).manifest["files"]
    assert files["report.json"] == sha256_file(run_dir / "report.json")


# --- what a reader sees: run facts, warnings, numbers, narrow screens -----------------------------


def header_of(page: str) -> str:
    """The report's header and first screen (everything before the first dimension)."""
    return page.split('<section id="dimension-accuracy"', 1)[0]


def test_run_warnings_are_a_labelled_block_on_the_first_screen() -> None:
    warnings = ["load: 248 of the 1,000 field points (24.8%) cannot be used: outside the image",
                f"dropped 1 tweet(s) without text {EVIL}"]
    doc = build_report([], {"run_id": "r", "warnings": warnings}, {})
    assert doc["run"]["warnings"] == warnings
    first = header_of(render_report_html(doc))
    assert first.count('<p class="warning"><strong class="label">warning</strong> ') == 2
    assert "load: 248 of the 1,000 field points (24.8%) cannot be used" in first
    assert "without text &lt;script&gt;" in first and EVIL not in first
    assert "p.warning{" in first  # styled, not body text
    assert 'class="warning"' not in header_of(render_report_html(build_report([], {}, {})))


def test_the_description_is_recorded_and_shown_under_the_title() -> None:
    doc = build_report([], {"name": "budget", "description": "Predict <children> (1 or 2)."},
                       {})
    assert doc["run"]["description"] == "Predict <children> (1 or 2)."
    assert ("<h1>Quality report: budget</h1><p class=\"description\">Predict &lt;children&gt; "
            "(1 or 2).</p>") in render_report_html(doc)
    old = build_report([], {"name": "budget"}, {})  # a run made before it was recorded
    assert old["run"]["description"] is None
    assert 'class="description"' not in render_report_html(old)


def test_a_run_records_its_pipeline_description(write_pipeline) -> None:
    import mlstat_core

    text = "UK Family Expenditure Survey 1980-82: predict the number of children (1 or 2)."
    run_dir = mlstat_core.run(write_pipeline(pipeline={
        "name": "described", "task": "tabular_classification", "seed": 0,
        "description": text})).run_dir
    assert json.loads((run_dir / "manifest.json").read_text())["description"] == text
    assert load_report(run_dir / "report.json")["run"]["description"] == text
    assert f'<p class="description">{text}</p>' in (run_dir / "report.html").read_text()


def test_the_indicator_list_is_a_comma_separated_list() -> None:
    doc = build_report([], {"components": {"loader": "core.table", "indicators": [
        "core.classification_accuracy", "core.timings"]}}, {})
    facts = header_of(render_report_html(doc))
    assert "loader: core.table · indicators: core.classification_accuracy, core.timings" \
        in facts
    assert "&quot;" not in facts and "[" not in facts.split("<nav", 1)[0].split("</h1>")[1]


@pytest.mark.parametrize("value, scale, shown", [
    (4.44089e-17, 0.0638, "0"),          # float noise in a column of 3-decimal values
    (1e-7, 2.5e6, "0"),                  # noise relative to the column's largest
    (0.000657895, 0.0638, "0.000658"),   # small: 3 significant digits, not 6.58e-04
    (-0.00010316, 0.76, "-0.000103"),    # a bias column
    (0.0638158, 0.0638, "0.064"),
    (219.96, 0.0, "220.0"),
    (48350.2, 0.0, "48,350"),
    (3e-9, 0.0, "3.00e-09"),             # tiny but not noise: scientific
    (61, 0.0, "61"),                     # a count is an integer
    (0.0, 0.0, "0"),
])
def test_numbers_are_formatted_by_one_rule(value, scale, shown) -> None:
    from mlstat_core.report.html import fmt_number

    assert fmt_number(value, scale) == shown


def test_a_table_column_shows_no_float_noise_or_scientific_notation() -> None:
    importance = {"age": 0.0638158, "wfood": 0.0361842, "wfuel": 0.000657895,
                  "wcloth": 4.44089e-17}
    bias = {"wfood": -0.00010316, "totexp": -0.0658328, "income": -0.76366}
    doc = build_report([IndicatorResult("permutation_importance", "explainability", importance),
                        IndicatorResult("imputation_bias_mean", "accuracy", bias)], {}, {})
    page = render_report_html(doc)
    cells = re.findall(r'<td class="num">([^<]*)</td>', page)
    assert cells == ["-0.000103", "-0.066", "-0.764", "0.064", "0.036", "0.000658", "0"]


def test_every_table_scrolls_sideways_and_long_tokens_break(html) -> None:
    """A narrow screen scrolls a wide table in its box, not the page; a SHA-256 breaks."""
    assert html.count("<table") == html.count('<div class="scroll"><table') > 3
    css = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert ".scroll{overflow-x:auto" in css and "td{overflow-wrap:anywhere}" in css
    assert "table.headline{min-width:" in css


def test_plots_keep_a_readable_size_in_a_scrolling_box(html) -> None:
    """On a narrow screen an SVG plot scrolls: it never shrinks below 3/4 of its width."""
    svgs = re.findall(r'<div class="plot-box"><svg class="plot" role="img" ([^>]*)>', html)
    assert svgs and len(svgs) == html.count('<svg class="plot"')
    for attributes in svgs:
        width_pt = float(re.search(r'\bwidth="([0-9.]+)pt"', attributes).group(1))
        min_px = int(re.search(r'style="min-width:(\d+)px"', attributes).group(1))
        assert min_px == round(width_pt * 4 / 3 * 0.75)
    assert ".plot-box{overflow-x:auto" in html


# --- compare: what the page says --------------------------------------------------------------


def with_figures(report: dict, **values: float | int) -> dict:
    """A copy of ``report`` with the given figures set (added when absent)."""
    doc = json.loads(json.dumps(report))
    entries = {e["name"]: e for e in doc["indicators"]}
    for name, value in values.items():
        if name not in entries:
            entries[name] = {"name": name, "dimension": "explainability", "status": "ok",
                             "better": None, "headline": False}
            doc["indicators"].append(entries[name])
        entries[name].update(value=value, status="ok")
    return doc


def test_compare_ranks_only_values_that_differ_as_shown(tmp_path, report) -> None:
    a = make_run(tmp_path, with_figures(report, fit_seconds=219.96, accuracy=0.9243,
                                        influential_terms=61, record_explanations=5), "a")
    b = make_run(tmp_path, with_figures(report, fit_seconds=220.04, accuracy=0.9241,
                                        influential_terms=58, record_explanations=5), "b")
    table = comparison([a, b])
    rows = {r["name"]: r for r in table["rows"]}
    assert rows["fit_seconds"]["best"] is None  # 220.0 and 220.0: nobody can see a difference
    assert rows["accuracy"]["best"] is None  # 0.924 and 0.924
    page = render_comparison_html(table)
    fit = next(r for r in page.split("<tr>") if r.startswith('<th scope="row">fit_seconds<'))
    assert fit.count('<td class="num">220.0</td>') == 2 and "best" not in fit
    terms = next(r for r in page.split("<tr>")
                 if r.startswith('<th scope="row">influential_terms<'))
    assert '<td class="num">61</td><td class="num">58</td>' in terms  # counts, not 61.000
    c = make_run(tmp_path, with_figures(report, fit_seconds=230.0), "c")
    fit = {r["name"]: r for r in comparison([a, c])["rows"]}["fit_seconds"]
    # a reads best, but one timing without an interval cannot tell the runs apart
    assert fit["leader"] == 0 and fit["best"] is None


def test_compare_warnings_are_labelled_and_nothing_ranked_is_said(tmp_path, report) -> None:
    other = json.loads(json.dumps(report))
    other["run"]["task"] = "tabular_regression"
    a, b = make_run(tmp_path, report, "one"), make_run(tmp_path, other, "two")
    page = render_comparison_html(comparison([a, b]))
    assert '<p class="warning"><strong class="label">warning</strong> the runs serve' in page
    assert "p.warning{" in page
    assert "No run is ranked: see the warnings." in page and "Bold:" not in page
    worse = with_figures(report, accuracy=0.1)
    next(e for e in worse["indicators"] if e["name"] == "accuracy")["interval"] = [0.07, 0.14]
    ranked = render_comparison_html(comparison([a, make_run(tmp_path, worse, "worse")]))
    assert "Bold: the best run" in ranked and "No run is ranked" not in ranked
    assert 'class="warning"' not in ranked


# --- statuses, warnings, directions -------------------------------------------------------------


def test_an_unknown_status_is_counted_and_its_value_shown() -> None:
    """A plugin's status "warning" hid its value (0.462) and was counted nowhere."""
    from mlstat_core.report.build import status_problem

    doc = build_report([
        IndicatorResult("autocoding_accuracy", "accuracy", 0.462, status="warning",
                        explanation="Accuracy of the automatically coded records."),
        IndicatorResult("accuracy", "accuracy", 0.7, headline=True),
    ], {}, {})
    assert doc["summary"]["by_status"] == {"ok": 1, "skipped": 0, "failed": 0, "warning": 1}
    page = render_report_html(doc)
    article = page.split('id="result-1"', 1)[1].split("</article>", 1)[0]
    assert "<strong>0.462</strong>" in article
    assert "unknown status &#x27;warning&#x27;" in article and 'class="warning"' in article
    assert ".badge.unknown{" in page
    first = page.split('<section id="headline">', 1)[1].split("</section>", 1)[0]
    assert '1</strong> with an unknown status' in first and 'href="#result-1"' in first
    assert status_problem("warning") and status_problem("ok") is None


def test_warnings_of_a_result_are_shown_and_counted_on_the_first_screen() -> None:
    doc = build_report([
        IndicatorResult("accuracy", "accuracy", 0.7, details={"better": "higher"}),
        IndicatorResult("unseen_codes", "accuracy", 6, details={
            "better": "lower", "warnings": ["6 test records have codes never seen in training"]}),
    ], {}, {})
    page = render_report_html(doc)
    article = page.split('id="result-2"', 1)[1].split("</article>", 1)[0]
    assert "unseen_codes" in article
    assert ('<p class="warning"><strong class="label">warning</strong> 6 test records have '
            "codes never seen in training</p>") in article
    assert "&quot;warnings&quot;" not in article  # not only folded in the details
    first = page.split('<section id="headline">', 1)[1].split("</section>", 1)[0]
    assert '1</strong> with warnings: <a href="#result-2">unseen_codes</a>' in first


def test_the_direction_is_said_where_no_target_says_it() -> None:
    figures, _, first = headline_of([
        IndicatorResult("accuracy", "accuracy", 0.7, details={"better": "higher"},
                        headline=True),
        IndicatorResult("ece", "accuracy", 0.04, details={"better": "lower"}, headline=True),
        IndicatorResult("plain", "accuracy", 3, headline=True),
    ], {"ece": 0.05})
    assert "higher is better" in row_of(first, "accuracy")
    assert "is better" not in row_of(first, "ece")  # its target says "<= 0.050"
    assert "is better" not in row_of(first, "plain")
    page = render_report_html(build_report([IndicatorResult(
        "ece", "accuracy", 0.04, details={"better": "lower"})], {}, {}))
    assert '<span class="better">· lower is better</span>' in page


# --- accessibility -------------------------------------------------------------------------------


def test_every_plot_has_an_accessible_name_and_description(html) -> None:
    svgs = re.findall(r'<figure class="plot"[^>]*><div class="plot-box">(<svg.*?</svg>)'
                      r".*?<figcaption>(.*?)</figcaption>", html, re.S)
    assert len(svgs) >= 4
    for svg, caption in svgs:
        opening = svg.split(">", 1)[0]
        named = re.search(r'aria-labelledby="([^"]+)"', opening)
        described = re.search(r'aria-describedby="([^"]+)"', opening)
        assert named and described, opening
        title = re.search(rf'<title id="{named.group(1)}">(.*?)</title>', svg).group(1)
        assert title == caption
        desc = re.search(rf'<desc id="{described.group(1)}">(.*?)</desc>', svg).group(1)
        assert len(desc) > 20, desc


def test_the_confusion_matrix_counts_are_a_table_too(report, html) -> None:
    entry = next(e for e in report["indicators"] if e["name"] == "confusion_matrix")
    data = entry["plots"][0]["data"]
    article = html.split(">confusion_matrix <", 1)[1].split("</article>", 1)[0]
    table = article.split('<details class="plot-values">', 1)[1].split("</details>", 1)[0]
    assert "as a table</summary>" in table
    assert f"<caption>Rows: {data['y_title']}; columns: {data['x_title']}.</caption>" in table
    for label in data["x_labels"]:
        assert f'<th scope="col">{label}</th>' in table
    first_row = table.split(f'<th scope="row">{data["y_labels"][0]}</th>', 1)[1]
    first_row = first_row.split("</tr>", 1)[0]
    assert re.findall(r'<td class="num">([^<]*)</td>', first_row) == \
        [f"{v:,}" for v in data["values"][0]]
    assert "The values are listed in the table under the plot." in article


def test_heatmap_numbers_contrast_with_their_cell() -> None:
    """The text colour was chosen by value > max / 2 while the colours span min..max: white
    78 on light blue (1.78:1)."""
    from mlstat_core.report.plots import _heatmap, contrast

    fig = _heatmap({"values": [[60, 78], [100, 150]]})
    ax = fig.axes[0]
    image = ax.images[0]
    values = image.get_array()
    assert len(ax.texts) == 4
    for text in ax.texts:
        j, i = (round(c) for c in text.get_position())
        background = image.cmap(image.norm(values[i, j]))
        assert contrast(background, to_rgb(text.get_color())) >= 4.5, text.get_text()


def to_rgb(colour):
    from matplotlib.colors import to_rgb as rgb

    return rgb(colour)


def test_series_are_told_apart_by_more_than_colour_and_contrast_with_white() -> None:
    from mlstat_core.report.plots import PALETTE, _bar, _hist, _line, contrast

    white = (1.0, 1.0, 1.0)
    assert all(contrast(to_rgb(c), white) >= 3 for c in PALETTE)
    x = [i / 100 for i in range(101)]
    lines = _line({"series": [{"label": "share", "x": x, "y": x},
                              {"label": "accuracy", "x": x, "y": x[::-1]}]}).axes[0].lines
    assert lines[0].get_linestyle() != lines[1].get_linestyle()
    assert lines[0].get_marker() != lines[1].get_marker()
    assert all(line.get_marker() not in (None, "None", "") for line in lines)  # 101 points too
    for line in lines:
        assert contrast(to_rgb(line.get_color()), white) >= 3
    patches = _hist({"series": {"true": [1, 2, 2, 3], "imputed": [2, 3, 3, 4]}}).axes[0].patches
    assert len({p.get_linestyle() for p in patches}) == 2
    for patch in patches:
        edge = patch.get_edgecolor()
        assert edge[3] == 1 and contrast(edge, white) >= 3
        assert not patch.get_fill() or patch.get_facecolor()[3] == 0 or \
            contrast(patch.get_facecolor(), white) >= 3
    bars = _bar({"labels": ["a", "b"], "series": {"x": [1, 2], "y": [2, 1]}}).axes[0].patches
    assert len({b.get_hatch() for b in bars}) == 2


def test_tables_have_scoped_headers_and_named_columns(html) -> None:
    assert re.findall(r"<th(?=[\s>])(?![^>]*\bscope=)[^>]*>", html) == []
    assert '<th scope="col"></th>' not in html
    first = html.split('<section id="headline">', 1)[1].split("</section>", 1)[0]
    assert first.count('<th scope="row">') == first.count("<tr>") - 1  # all rows but the head
    # a value that maps names to numbers: its first column named as its details say
    doc = build_report([
        IndicatorResult("mae", "accuracy", {"income": 3.5, "age": 1.0},
                        details={"value_keys": "variable"}),
        IndicatorResult("per_level", "accuracy", {"1": 0.9})], {}, {})
    page = render_report_html(doc)
    assert '<th scope="col">variable</th><th scope="col">value</th>' in page
    assert '<th scope="row">income</th><td class="num">3.500</td>' in page
    assert '<th scope="col">name</th><th scope="col">value</th>' in page
    assert "&quot;value_keys&quot;" not in page
    assert "tbody th[scope=row]{background:none;font-weight:400}" in page  # looks as before


def test_a_read_only_home_gets_matplotlib_a_config_folder_of_its_own(monkeypatch, tmp_path):
    """matplotlib complains on stderr at every run when it cannot write its config folder
    (a read-only HOME on a server); the report gives it one folder per user under the
    temporary folder, the same at every run, and keeps an MPLCONFIGDIR the user set."""
    import os

    from mlstat_core.report import plots

    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(plots.os, "access", lambda path, mode: False)
    plots.writable_matplotlib_config()
    first = os.environ["MPLCONFIGDIR"]
    assert Path(first).is_dir()
    monkeypatch.delenv("MPLCONFIGDIR")
    plots.writable_matplotlib_config()
    assert os.environ["MPLCONFIGDIR"] == first  # not a new folder at every run
    monkeypatch.setenv("MPLCONFIGDIR", "/mine")
    plots.writable_matplotlib_config()
    assert os.environ["MPLCONFIGDIR"] == "/mine"


def test_labels_read_as_float_in_one_run_and_as_integers_in_another_are_the_same_labels(
        write_pipeline, tmp_path, budget_csv) -> None:
    """A target column with one empty cell is read as float (1.0, 2.0): its run scores as
    the integer run does, and compare sees both tested on the same records, so it ranks."""
    from mlstat_core.engine import run

    with_gap = tmp_path / "with_gap.csv"
    with_gap.write_text(budget_csv.read_text(encoding="utf-8")
                        + "0.1,0.1,0.1,0.1,0.1,0.5,100,100,30,\n", encoding="utf-8")
    whole = run(write_pipeline("whole.toml"), out=tmp_path / "runs")
    gap = run(write_pipeline("gap.toml", loader={"component": "core.table",
                                                  "path": str(with_gap),
                                                  "target": "children"}),
              out=tmp_path / "runs")
    figures = [{r.name: r.value for r in result.indicators} for result in (whole, gap)]
    assert 0.5 < figures[0]["accuracy"] == figures[1]["accuracy"]
    assert figures[0]["macro_f1"] == figures[1]["macro_f1"]
    manifests = [RunFolder.open(r.run_dir).manifest for r in (whole, gap)]
    assert manifests[0]["test_records"] == manifests[1]["test_records"]
    table = comparison([whole.run_dir, gap.run_dir])
    assert not any("different records" in w for w in table["warnings"])


def test_a_records_fingerprint_reads_whole_floats_as_integers() -> None:
    import numpy as np
    import pandas as pd

    from mlstat_core.artifacts import records_fingerprint

    def fingerprint(values: list) -> str:
        return records_fingerprint(pd.DataFrame({"y": values}), ["y"])["sha256"]

    assert fingerprint([1, 2, 1]) == fingerprint([1.0, 2.0, 1.0])
    assert fingerprint([1.0, np.nan]) == fingerprint(pd.array([1, None], dtype="Int64"))
    assert fingerprint([1.5, 2.0]) != fingerprint([1.0, 2.0])


def test_the_first_screen_names_the_dimensions_the_run_did_not_assess(html) -> None:
    """A pipeline that lists only accuracy indicators (coding-occupations) assesses one
    QF4SA dimension of five: the first screen says which are missing, not only the
    sections at the end of the page."""
    ctx = budget_context()
    accuracy = [r for r in all_results(ctx) if r.dimension == "accuracy"]
    skipped = IndicatorResult("refit_identical_share", "reproducibility", None,
                              explanation="switched off", status="skipped")
    first = header_of(render_report_html(build_report(accuracy + [skipped], {"run_id": "r"},
                                                      {})))
    box = first.split("dimensions without a computed figure", 1)
    assert box[0].endswith("<div><strong>4</strong> of 5 ")
    for dimension in ("explainability", "reproducibility", "timeliness",
                      "cost_effectiveness"):
        assert f'<a href="#dimension-{dimension}">' in box[1].split("</div>", 1)[0]
    assert 'href="#dimension-accuracy"' not in box[1].split("</div>", 1)[0]
    assert "dimensions without a computed figure" not in header_of(html)


def test_a_value_between_two_gaps_is_marked_on_a_long_line() -> None:
    """A line of more than 30 points is marked every few points; a value with a gap (None) on
    each side draws no line, so without its own marker it did not show at all (a language
    published in one month between unpublished ones)."""
    from mlstat_core.report.plots import marked_points

    y: list[float | None] = [0.1] * 40
    y[6:9] = [None, 0.2, None]  # every third point is marked: 7 only as a lone value
    marked = marked_points(y)
    assert 7 in marked and 8 not in marked
    assert 40 in marked_points([*[0.1] * 39, None, 0.3])  # the last point, alone
    assert marked_points([0.1] * 10) == list(range(10))
