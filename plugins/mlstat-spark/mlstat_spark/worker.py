"""What runs on Spark's Python workers: the model, shipped as bytes and loaded once per worker.

The model's files travel inside the function Spark ships to executors (no broadcast variable,
no shared file system), so the same code works on classic clusters and on Spark Connect
(Databricks serverless), where there is no ``sparkContext``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.errors import IntegrityError

ROW_COLUMN = "__mlstat_row"
_LOADED: dict[str, Any] = {}


MODEL_PREFIX = "mlstat-model-"


def model_folder() -> Path:
    """A new temporary folder for the model's files, named after this machine and process
    (``mlstat-model-<host>.<pid>-<random>``), after removing those that workers of this
    machine left when they were killed while loading a model (a job interrupted or a worker
    killed for memory then: its ``finally`` never ran), about the model's size each."""
    from mlstat_core.io import host_tag

    host = host_tag()
    sweep_model_folders(Path(tempfile.gettempdir()), host)
    return Path(tempfile.mkdtemp(prefix=f"{MODEL_PREFIX}{host}.{os.getpid()}-"))


def sweep_model_folders(base: Path, host: str) -> None:
    """Remove the model folders of ``host`` whose process is no longer running (only names
    of ``model_folder``'s pattern; those of running workers and other machines stay)."""
    from mlstat_core.io import dead_process_leftovers

    name = rf"{re.escape(MODEL_PREFIX)}{re.escape(host)}\.(\d+)-[^/]+"
    for folder in dead_process_leftovers(base, f"{MODEL_PREFIX}{host}.*", name):
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def load_shipped_model(files: dict[str, tuple[bytes, str]], factory: str,
                       steps: list[tuple[str, str, Any]] | None = None) -> Any:
    """Rebuild the model from its files' bytes after checking each SHA-256; cached per worker."""
    key = hashlib.sha256("".join(sorted(d for _, d in files.values())).encode()).hexdigest()
    if key in _LOADED:
        return _LOADED[key]
    directory = model_folder()
    try:
        for name, (data, digest) in files.items():
            if hashlib.sha256(data).hexdigest() != digest:
                raise IntegrityError(f"model file {name} changed in transit (SHA-256 mismatch)")
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        from mlstat_core.preprocess import load_fitted

        model = load_fitted(directory, factory, steps or [])
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    _LOADED[key] = model
    return model


def _as_kind(values: pd.Series, kind: str) -> pd.Series:
    """One column in the type its kind declares; columns already of that type are kept, and
    numpy integers and booleans (which hold no missing values) stay numpy, as the local
    engine writes them: a file read back with pandas then has the same dtypes (``int64``, not
    ``Int64``) whichever engine wrote it."""
    dtype = values.dtype
    numpy = isinstance(dtype, np.dtype)
    if kind == "double":
        return values if dtype == "float64" else \
            pd.to_numeric(values, errors="coerce").astype("float64")
    if kind == "long":
        if numpy and dtype.kind in "iu" and dtype != "uint64":
            return values if dtype == "int64" else values.astype("int64")
        return values if dtype == "Int64" else \
            pd.to_numeric(values, errors="coerce").astype("Int64")
    if kind == "boolean":
        return values if dtype == "boolean" or (numpy and dtype.kind == "b") \
            else values.astype("boolean")
    return values if isinstance(dtype, pd.StringDtype) else values.astype("string")


def conform(frame: pd.DataFrame, columns: list[str], kinds: dict[str, str]) -> pd.DataFrame:
    """Give a partition's predictions the column order and types of the declared schema
    (columns the partition lacks are null)."""
    missing = pd.Series(None, index=frame.index, dtype=object)
    return pd.DataFrame({c: _as_kind(frame[c] if c in frame.columns else missing, kinds[c])
                         for c in columns}, index=frame.index, copy=False)


_ARROW_TYPES = {"long": "int64", "double": "float64", "boolean": "bool_", "string": "string"}

# what a writing scorer returns to the driver: one row per partition, with the JSON state of
# its drift counts (empty without a drift profile)
WRITTEN_SCHEMA = "part long, rows long, drift string"


def arrow_schema(columns: list[str], kinds: dict[str, str]) -> Any:
    """The pyarrow schema of the declared output columns (the one every part file gets)."""
    import pyarrow as pa

    return pa.schema([(c, getattr(pa, _ARROW_TYPES[kinds[c]])()) for c in columns])


def part_name(partition: int) -> str:
    return f"part-{partition:05d}.parquet"


def scored_partition(batch: pd.DataFrame, model: Any, id_column: str | None,
                     probabilities: bool = True, task: Any = None,
                     model_name: str = "the model") -> pd.DataFrame:
    """Predictions of one batch, as the local engine makes them: the model gets every column
    but the engine's row numbers (``ROW_COLUMN``), which become the index; ``id_column =
    ROW_COLUMN`` leads the output with them instead of the model's id column. The same
    checks as the local engine's (:func:`mlstat_core.predict.predict_checked`; ``task`` None
    leaves out the prediction columns' check)."""
    from mlstat_core.io import parquet_safe
    from mlstat_core.predict import output_frame, predict_checked

    rows = batch.pop(ROW_COLUMN) if ROW_COLUMN in batch.columns else None
    if rows is not None:
        batch.index = pd.Index(rows.to_numpy())
    predicted = predict_checked(model, batch, "the records", model_name, task)
    if id_column == ROW_COLUMN:
        batch = pd.DataFrame({ROW_COLUMN: batch.index.to_numpy()}, index=batch.index)
    return parquet_safe(output_frame(batch, predicted, model, id_column, probabilities))


def with_names(scorer: Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]],
               names: list[str]) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """``scorer`` reading partitions whose columns were renamed by position (see
    :func:`~mlstat_spark.engine.positional_names`): each partition gets its ``names`` back
    before it is scored."""

    def renamed(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        yield from scorer(batch.set_axis(names, axis=1) for batch in batches)

    return renamed


def make_scorer(
    files: Any, factory: str, id_column: str | None,
    columns: list[str], kinds: dict[str, str], steps: list[tuple[str, str, Any]] | None = None,
    probabilities: bool = True, write_to: str | None = None, dictionary: bool = False,
    drift_profile: dict[str, Any] | None = None, task: Any = None,
    model_name: str = "the model",
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The function handed to ``mapInPandas``: pandas partitions in, predictions out.

    ``files`` is the model's ``name -> (bytes, sha256)`` mapping, or a Spark broadcast of it
    (classic clusters: sent once per executor instead of with every task).

    With ``write_to`` (a folder every worker can reach), each partition writes its own
    predictions there with pyarrow, as ``part-NNNNN.parquet`` through a hidden temporary
    file, and hands Spark only a summary row (``WRITTEN_SCHEMA``): the predictions never
    cross into the JVM. With a ``drift_profile`` (the run's training profile) it also counts
    every record of the partition into the profile's bins, for the drift check."""

    def predictions(batches: Iterator[pd.DataFrame], drift: Any = None
                    ) -> Iterator[pd.DataFrame]:
        shipped = files.value if hasattr(files, "value") else files
        model = load_shipped_model(shipped, factory, steps)
        for batch in batches:
            if drift is not None:
                drift.update(batch)
            out = scored_partition(batch, model, id_column, probabilities, task, model_name)
            yield conform(out.reset_index(drop=True), columns, kinds)

    def written(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import json

        from pyspark import TaskContext

        from mlstat_core.io import TableWriter

        drift = None
        if drift_profile is not None:
            from mlstat_core.quality.drift import DriftAccumulator

            drift = DriftAccumulator(drift_profile)
        context = TaskContext.get()
        partition = context.partitionId() if context is not None else 0
        assert write_to is not None
        # not make_folder: a task still running when the job failed would make the driver's
        # removed temporary folder again, and leave it behind
        writer = TableWriter(Path(write_to) / part_name(partition), "parquet",
                             schema=arrow_schema(columns, kinds), dictionary=dictionary,
                             make_folder=False)
        rows = 0
        try:
            for frame in predictions(batches, drift):
                writer.write(frame)
                rows += len(frame)
        except BaseException:
            writer.abort()
            raise
        if rows:
            writer.close()
        else:  # an empty partition leaves no file (a file without columns would mislead)
            writer.abort()
        state = json.dumps(drift.state()) if drift is not None else ""
        yield pd.DataFrame({"part": [partition], "rows": [rows], "drift": [state]})

    return predictions if write_to is None else written
