"""A ``[quality] targets`` entry naming no figure is matched against figure names only: the
result standing for a failed indicator carries the component's name, which is no figure."""

from __future__ import annotations

from contract_fakes import bad_registry, pipeline, write_data

import mlstat_core
from mlstat_core.components import IndicatorResult
from mlstat_core.engine import unmatched_targets


def test_targets_are_matched_against_figures_not_failed_components():
    failed = IndicatorResult("nso.min_recall", "accuracy", status="failed", error="boom",
                             details={"indicator": "nso.min_recall"})
    ok = IndicatorResult("accuracy", "accuracy", 0.9, details={"indicator": "core.acc"})
    [warning] = unmatched_targets({"targets": {"min_class_recall": 0.5}}, [failed, ok])
    assert "nso.min_recall" not in warning
    assert "figures of this run: accuracy" in warning
    [warning] = unmatched_targets({"targets": {"acuracy": 0.5}}, [failed, ok])
    assert "did you mean 'accuracy'?" in warning


def test_a_failed_indicator_in_a_run_is_not_suggested(tmp_path):
    cfg = pipeline(write_data(tmp_path), indicators=["bad.fails"],
                   quality={"targets": {"fails_rate": 0.5}})
    result = mlstat_core.run(cfg, out=tmp_path / "runs", registry=bad_registry())
    [warning] = [w for w in result.warnings if w.startswith("quality: target")]
    assert "bad.fails" not in warning
