"""The plugin through the core engine, as a user runs it (skipped while the engine is absent)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
from mlstat_coding.hierarchy import Hierarchy

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_digit_codes_have_one_level_per_digit():
    h = Hierarchy(separator="")
    assert h.ancestors("2512") == ["2", "25", "251", "2512"]
    assert h.at_level("2512", 2) == "25"


def test_occupations_example_runs_end_to_end(tmp_path):
    engine = pytest.importorskip("mlstat_core.engine")
    shutil.copytree(EXAMPLES / "data", tmp_path / "data")
    shutil.copy(EXAMPLES / "coding-occupations.toml", tmp_path / "pipeline.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = engine.run(tmp_path / "pipeline.toml", out=tmp_path / "runs")
    assert result.status == "succeeded"
    # three records per code: scikit-learn's warning is kept with the run, with its step
    kept = [w for w in result.manifest["warnings"] if "unique classes" in w]
    assert kept and kept[0].startswith("fit: ") and kept == [
        w for w in result.warnings if "unique classes" in w]
    names = {r.name for r in result.indicators}
    assert {"level_accuracy_1", "autocoding_share", "unseen_codes"} <= names
    assert {"route", "reason", "top_codes"} <= set(result.predictions.columns)
    queue = pd.read_csv(result.run_dir / "outputs" / "manual_queue.csv", dtype=str)
    assert len(queue) == (result.predictions["route"] == "manual").sum()
    assert "outputs/manual_queue.csv" in result.manifest["files"]
    from mlstat_coding.queue import main

    code = main([str(result.run_dir), "--input", str(tmp_path / "data" / "occupations.csv"),
                 "--output", str(tmp_path / "queue.csv"), "--id", "id", "--all"])
    assert code == 0
    assert len(pd.read_csv(tmp_path / "queue.csv")) == 74
