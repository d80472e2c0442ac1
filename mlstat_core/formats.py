"""File formats of tables by suffix: a light module (no pandas), shared by the readers in
:mod:`mlstat_core.io` and the params that validate a path before anything is read."""

from __future__ import annotations

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
FORMATS = ("csv", "parquet", "excel")
