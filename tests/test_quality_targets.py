"""``[quality.targets]`` as a user writes them: ``mlstat validate`` refuses a target the report
could not judge with one line naming the target, and a run's report judges the others."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from mlstat_core.cli import main
from mlstat_core.config import load_config

OTHER_KEYS = {"manual_seconds_per_record": 20, "cost_per_hour": 35.0}


def validate(path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", str(path)])
    return result.exit_code, result.output


@pytest.mark.parametrize("target, message", [
    ("0.65", "must be a number, not text: write it without quotes (got '0.65')"),
    ({"minimum": 0.5}, "a target table takes `min` or `max`, not `minimum` "
                       "(got {'minimum': 0.5})"),
    ({"min": 0.5, "max": 0.52}, "a target is one threshold: write { min = x } (at least) or "
                                "{ max = x } (at most), not both"),
    ({}, "not an empty table"),
    ({"min": "0.5"}, "`min` must be a number, not text: write it without quotes"),
    ({"max": [1]}, "`max` must be a number"),
    (math.nan, "must be a finite number (got nan)"),
    (True, "must be a number or a table { min = x } or { max = x } (got True)"),
    ([0.5], "must be a number or a table { min = x } or { max = x } (got [0.5])"),
])
def test_a_target_the_report_cannot_judge_is_one_line_naming_it(write_pipeline, target,
                                                                 message):
    path = write_pipeline(quality={**OTHER_KEYS,
                                   "targets": {"accuracy": 0.65, "auto_coding_share": target}})
    code, output = validate(path)
    assert code == 2, output
    problems = [line for line in output.splitlines() if line.strip().startswith("- ")]
    assert len(problems) == 1, output
    assert "[quality.targets.auto_coding_share]" in problems[0]
    assert message in " ".join(output.split())
    # only the bad target and its value: not the whole [quality] table
    assert "manual_seconds_per_record" not in output and "accuracy': 0.65" not in output
    assert "Traceback" not in output


def test_numbers_and_one_bound_tables_are_valid_targets(write_pipeline):
    targets = {"accuracy": 0.65, "macro_f1": 1, "auto_coding_share": {"min": 0.5},
               "expected_calibration_error": {"max": 0.05}}
    config = load_config(write_pipeline(quality={**OTHER_KEYS, "targets": targets}))
    assert config.file.quality["targets"] == targets


def test_a_run_report_labels_its_intervals_and_judges_them(write_pipeline, tmp_path):
    """An 80% interval is called one, the interval is judged against the target, and a
    target naming no figure still has every headline key."""
    indicators = [{"component": "core.classification_accuracy", "confidence_level": 0.8}]
    path = write_pipeline(indicators=indicators,
                          quality={"targets": {"accuracy": 0.05, "acurracy": 0.6,
                                               "macro_f1_typo": {"min": 0.5}}})
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    run_dir = next((tmp_path / "runs").iterdir())
    report = json.loads((run_dir / "report.json").read_text("utf-8"))
    figures = {f["name"]: f for f in report["headline"]}
    accuracy = figures["accuracy"]
    assert accuracy["interval_level"] == 0.8
    assert accuracy["met"] is True and accuracy["interval_clears"] is True
    assert figures["acurracy"]["status"] == "missing" and figures["acurracy"]["better"] is None
    assert set(figures["acurracy"]) == set(accuracy)
    # a table target keeps the schema's number: it was stored as {"min": 0.5} and shown as
    # the Python text {'min': 0.5} in report.html
    assert figures["macro_f1_typo"]["target"] == 0.5
    assert figures["macro_f1_typo"]["comparison"] == ">="
    html = (run_dir / "report.html").read_text("utf-8")
    assert "80% interval [" in html and "95% interval" not in html
    assert "the whole interval clears the target" in html
