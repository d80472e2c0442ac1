"""Shared fixtures of the core's tests: the real UK budget data, pipeline files in tmp, and
the fixture plugin distributions of ``fixtures/dists/<scenario>/``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import tomli_w

ROOT = Path(__file__).resolve().parents[1]
BUDGET = ROOT / "examples" / "data" / "budget_uk.csv"
DISTS = Path(__file__).parent / "fixtures" / "dists"
"""Real ``.dist-info`` folders (METADATA, entry_points.txt) next to their packages."""


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


@pytest.fixture
def isolated_plugins(monkeypatch):
    """No plugin selection or tracing from the environment; the fixture plugins' modules are
    forgotten afterwards, so each test imports them afresh."""
    for variable in ("MLSTAT_DISABLE_PLUGINS", "MLSTAT_PLUGINS", "MLSTAT_TRACE_HOOKS"):
        monkeypatch.delenv(variable, raising=False)
    yield
    for name in [m for m in sys.modules if m.startswith("mlstat_fixture_")]:
        del sys.modules[name]


def fixture_points(monkeypatch, *scenarios: str) -> list[metadata.EntryPoint]:
    """Put fixture scenarios on sys.path; return their ``mlstat`` entry points."""
    points = []
    for scenario in scenarios:
        folder = str(DISTS / scenario)
        monkeypatch.syspath_prepend(folder)
        for dist in metadata.distributions(path=[folder]):
            points += [ep for ep in dist.entry_points if ep.group == "mlstat"]
    return points


def build_distribution(project: Path, kind: str) -> Path:
    """Build ``project`` (a folder with a pyproject.toml) as a ``"sdist"`` or ``"wheel"``
    into its ``dist/`` with setuptools, in a fresh process, and return the file."""
    proc = subprocess.run(
        [sys.executable, "-c",
         f"import setuptools.build_meta as b; print(b.build_{kind}('dist'))"],
        cwd=project, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return project / "dist" / proc.stdout.strip().splitlines()[-1]
