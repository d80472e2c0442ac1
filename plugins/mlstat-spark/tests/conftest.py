"""One Spark session for the whole test run (start-up costs 10-15 s), bound to 127.0.0.1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BUDGET = ROOT / "examples" / "data" / "budget_uk.csv"


@pytest.fixture(scope="session")
def spark_engine():
    from mlstat_spark.engine import SparkEngine
    from mlstat_spark.params import SparkParams

    engine = SparkEngine(SparkParams(master="local[2]"))
    _ = engine.session
    yield engine
    engine.session.stop()


@pytest.fixture
def budget_csv(tmp_path: Path) -> Path:
    target = tmp_path / "budget_uk.csv"
    shutil.copy(BUDGET, target)
    return target
