"""Reading and writing tables (CSV, Parquet, Excel), whole or in bounded chunks.

Every failure a user can cause (missing file, empty file, wrong encoding, unknown format,
corrupt Parquet) becomes one :class:`~mlstat_core.errors.DataError` naming the file and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from mlstat_core.errors import DataError

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
FORMATS = ("csv", "parquet", "excel")


def parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet needs one type per column: object columns get their natural type when they
    have one (integers stay integers), and become strings when their values are mixed."""
    out = frame.infer_objects()
    for column in out.columns:
        if out[column].dtype == object:
            kinds = {type(v) for v in out[column].dropna()}
            if len(kinds) > 1 or (kinds and not kinds <= {str}):
                out[column] = out[column].map(lambda v: v if v is None or isinstance(v, str)
                                              else str(v))
    return out


def is_url(path: str | Path) -> bool:
    """Whether ``path`` is a URL (``s3a://...``, ``file:///...``) rather than a local path."""
    return "://" in str(path)


def resolve_path(path: str | Path, base_dir: Path) -> Path:
    """A path from a pipeline file: ``~`` expanded, relative paths taken from ``base_dir``
    (the pipeline file's folder)."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else Path(base_dir) / candidate


def table_format(path: Path, declared: str | None = None,
                 setting: str = "set the loader's `format`") -> str:
    if declared:
        if declared not in FORMATS:
            raise DataError(f"format {declared!r} of {path} is not one of {', '.join(FORMATS)}")
        return declared
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    raise DataError(
        f"cannot tell the format of {path} from its suffix {suffix!r}; use .csv, .parquet or "
        f"an Excel suffix, or {setting}"
    )


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataError(f"data file {path} does not exist; check the path (relative paths are "
                        "resolved against the pipeline file's folder)")
    if path.is_dir():
        raise DataError(f"data path {path} is a folder, not a file")
    if path.stat().st_size == 0:
        raise DataError(f"data file {path} is empty")


def _csv_sep(path: Path, sep: str | None) -> str | None:
    if sep:
        return sep
    return "\t" if path.suffix.lower() == ".tsv" else ","


def read_table(
    path: str | Path,
    *,
    format: str | None = None,
    encoding: str = "utf-8",
    sep: str | None = None,
    sheet: str | int | None = None,
    columns: list[str] | None = None,
    dtype: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Read a whole table; raise DataError with the file and the fix for every user mistake."""
    path = Path(path)
    _check_file(path)
    fmt = table_format(path, format)
    _check_encoding(encoding)
    try:
        if fmt == "csv":
            frame = pd.read_csv(path, encoding=encoding, sep=_csv_sep(path, sep), dtype=dtype)
        elif fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=dtype)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not valid {encoding} text (byte {exc.start}: {exc.reason}); save it as "
            "UTF-8 or set the loader's `encoding` (for example encoding = \"cp1250\")"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path} has no columns") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{path} is not a well-formed CSV file: {exc}") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path} as {fmt}: {exc}") from None
    if columns is not None:
        require_table_columns(frame, columns, path)
    return frame


def _check_encoding(encoding: str) -> None:
    from mlstat_core.components import known_encoding

    try:
        known_encoding(encoding)
    except ValueError as exc:
        raise DataError(str(exc)) from None


def require_table_columns(frame: pd.DataFrame, columns: list[str], path: str | Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path} lacks declared column(s) {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, list(frame.columns)[:30]))}"
        )


def iter_table(
    path: str | Path,
    chunk_size: int = 50_000,
    *,
    format: str | None = None,
    encoding: str = "utf-8",
    sep: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield the table in chunks of at most ``chunk_size`` rows; memory is bounded by the
    chunk size, not the file size (Excel files are read whole: they are small by nature)."""
    path = Path(path)
    _check_file(path)
    fmt = table_format(path, format)
    _check_encoding(encoding)
    try:
        if fmt == "csv":
            reader = pd.read_csv(path, encoding=encoding, sep=_csv_sep(path, sep),
                                 chunksize=chunk_size)
            start = 0
            for chunk in reader:
                chunk.index = pd.RangeIndex(start, start + len(chunk))
                start += len(chunk)
                yield chunk
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            start = 0
            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
                chunk = batch.to_pandas()
                chunk.index = pd.RangeIndex(start, start + len(chunk))
                start += len(chunk)
                yield chunk
        else:
            yield read_table(path, format=fmt)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not valid {encoding} text (byte {exc.start}: {exc.reason}); save it as "
            "UTF-8 or pass the encoding option"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path} has no columns") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path} as {fmt}: {exc}") from None


def _typed(schema: Any) -> Any:
    """The schema with text for columns the first chunk left empty (all None, which pyarrow
    types as null): a later chunk's values must fit, and text is what such columns hold."""
    import pyarrow as pa

    return pa.schema([field.with_type(pa.string()) if pa.types.is_null(field.type) else field
                      for field in schema], metadata=schema.metadata)


class TableWriter:
    """Writes chunks to one CSV or Parquet file through a temporary file renamed at the end,
    so an interrupted run never leaves an output that looks complete."""

    def __init__(self, path: str | Path, format: str | None = None, *, schema: Any = None,
                 dictionary: bool = True) -> None:
        """``schema``: a pyarrow schema every Parquet chunk is converted to (default: the
        first chunk's); ``dictionary``: dictionary-encode Parquet columns."""
        self.path = Path(path)
        self.schema = schema
        self.dictionary = dictionary
        self.format = table_format(self.path, format, "name the output .csv or .parquet")
        if self.format == "excel":
            raise DataError(
                f"cannot write predictions to Excel ({self.path}); use .csv or .parquet")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.partial")
        self._writer = None
        self._rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.format == "csv":
            frame.to_csv(self.tmp, mode="a" if self._rows else "w", header=not self._rows,
                         index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.tmp, _typed(table.schema),
                                                use_dictionary=self.dictionary)
            self._writer.write_table(table.cast(self._writer.schema))
        self._rows += len(frame)

    def close(self) -> int:
        if self._writer is not None:
            self._writer.close()
        if not self.tmp.exists():  # no chunk at all: still write a valid empty file
            pd.DataFrame().to_csv(self.tmp, index=False) if self.format == "csv" \
                else pd.DataFrame().to_parquet(self.tmp)
        self.tmp.replace(self.path)
        return self._rows

    def abort(self) -> None:
        """Drop the partial file; quietly, as it runs while another error is on its way."""
        try:
            if self._writer is not None:
                self._writer.close()
            self.tmp.unlink(missing_ok=True)
        except OSError:
            pass
