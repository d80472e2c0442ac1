"""Shared fixtures of the core's tests: the real UK budget data and pipeline files in tmp."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import tomli_w

ROOT = Path(__file__).resolve().parents[1]
BUDGET = ROOT / "examples" / "data" / "budget_uk.csv"


@pytest.fixture
def budget_csv(tmp_path: Path) -> Path:
    """A copy of the real UK budget survey table (1,519 households)."""
    target = tmp_path / "budget_uk.csv"
    shutil.copy(BUDGET, target)
    return target


def pipeline_dict(data_path: Path, **sections: Any) -> dict[str, Any]:
    """A valid core-only pipeline on the budget data; keyword sections replace defaults."""
    base: dict[str, Any] = {
        "pipeline": {"name": "test", "task": "tabular_classification", "seed": 0},
        "loader": {"component": "core.table", "path": str(data_path), "target": "children"},
        "split": {"component": "core.stratified", "test_size": 0.25},
        "model": {"component": "core.logistic_regression"},
        "indicators": ["core.classification_accuracy", "core.timings", "core.provenance"],
        "output": {"dir": "runs"},
    }
    base.update(sections)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def write_pipeline(tmp_path: Path, budget_csv: Path):
    """Write a pipeline TOML into tmp_path and return its path."""

    def write(name: str = "pipeline.toml", **sections: Any) -> Path:
        path = tmp_path / name
        path.write_text(tomli_w.dumps(pipeline_dict(budget_csv, **sections)), encoding="utf-8")
        return path

    return write
