"""Score new records with a saved run's model, chunk by chunk (memory bounded by the chunk).

The model is rebuilt only through the registry (its component's class), from files whose
SHA-256 matches the run's manifest; the predictions equal those the run itself gave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mlstat_core.artifacts import RunFolder, read_json
from mlstat_core.components import Model
from mlstat_core.errors import DataError, PluginError
from mlstat_core.io import TableWriter, iter_table
from mlstat_core.registry import Registry, get_registry
from mlstat_core.sklearn_model import require_columns


@dataclass
class PredictSummary:
    """What ``mlstat predict`` did."""

    output: Path
    records: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    unseen_labels: dict[str, int] = field(default_factory=dict)
    drift: dict[str, Any] | None = None


def load_model(run_dir: str | Path, registry: Registry | None = None) -> tuple[RunFolder, Model]:
    """Open a run folder, check its model files' hashes, and rebuild the fitted model."""
    folder = RunFolder.open(run_dir)
    folder.verify()
    name = (folder.manifest.get("model") or {}).get("component")
    if not name:
        raise DataError(f"manifest of {folder.path} names no model component")
    registry = registry or get_registry()
    entry = registry.get("model", name)
    try:
        cls = entry.spec.load_factory()
    except ImportError as exc:
        raise PluginError(f"the run's model {name} cannot be imported: {exc}; install "
                          f"{entry.distribution} with its extras") from None
    return folder, cls.load(folder.model_dir)


def _output_frame(chunk: pd.DataFrame, predicted: pd.DataFrame, model: Model) -> pd.DataFrame:
    roles = model.roles
    out = pd.DataFrame(index=chunk.index)
    if roles is not None and roles.id and roles.id in chunk.columns:
        out["record_id"] = chunk[roles.id].to_numpy()
    else:
        out["record_id"] = chunk.index.to_numpy()
    return pd.concat([out, predicted.set_axis(chunk.index)], axis=1)


def predict_file(
    run_dir: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    chunk_size: int = 50_000,
    encoding: str = "utf-8",
    registry: Registry | None = None,
) -> PredictSummary:
    """Score ``input_path`` into ``output_path`` (CSV or Parquet) with the run's model."""
    import time

    from mlstat_core.engine import _parquet_safe

    start = time.perf_counter()
    folder, model = load_model(run_dir, registry)
    roles = model.roles
    needed = roles.input_columns() if roles else []
    classes = {str(c) for c in (model.classes_ or [])}
    unseen: dict[str, int] = {}
    drift = _drift_accumulator(folder)
    writer = TableWriter(output_path)
    rows = 0
    try:
        for chunk in iter_table(input_path, chunk_size, encoding=encoding):
            require_columns(chunk, needed, what=f"input {input_path}")
            predicted = model.predict(chunk)
            writer.write(_parquet_safe(_output_frame(chunk, predicted, model)))
            rows += len(chunk)
            if roles is not None and roles.target and roles.target in chunk.columns and classes:
                for label, count in chunk[roles.target].astype(str).value_counts().items():
                    if label not in classes:
                        unseen[label] = unseen.get(label, 0) + int(count)
            if drift is not None:
                drift.update(chunk)
        if rows == 0:
            raise DataError(f"input {input_path} has no records")
    except BaseException:
        writer.abort()
        raise
    writer.close()
    warnings = []
    if unseen:
        warnings.append(f"{sum(unseen.values())} record(s) carry {len(unseen)} label(s) the "
                        f"model never saw in training: {', '.join(sorted(unseen)[:10])}")
    drift_result = drift.result() if drift is not None else None
    if drift_result:
        warnings += list(drift_result.get("warnings", []))
    return PredictSummary(Path(output_path), rows, time.perf_counter() - start, warnings,
                          unseen, drift_result)


def _drift_accumulator(folder: RunFolder) -> Any:
    profile_path = folder.path / "profile.json"
    if not profile_path.is_file():
        return None
    try:
        from mlstat_core.quality.drift import DriftAccumulator
    except ImportError:
        return None
    return DriftAccumulator(read_json(profile_path))
