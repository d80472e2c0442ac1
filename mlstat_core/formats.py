"""File formats of tables by suffix, and the chunk tables are scored in: a light module (no
pandas), shared by the readers in :mod:`mlstat_core.io`, the command line and the params that
validate a path before anything is read."""

from __future__ import annotations

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
FORMATS = ("csv", "parquet", "excel")

DEFAULT_CHUNK_SIZE = 50_000
"""Records read and scored per chunk by default ([predict] chunk_size, ``--chunk-size``,
``predict_file``, a ScoringJob, :func:`mlstat_core.io.iter_table`)."""
