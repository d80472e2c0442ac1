"""Reading and writing tables (CSV, Parquet, Excel), whole or in bounded chunks.

Every failure a user can cause (missing file, empty file, wrong encoding, unknown format,
corrupt Parquet) becomes one :class:`~mlstat_core.errors.DataError` naming the file and the fix.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.errors import DataError, write_failure
from mlstat_core.excel import excel_failure, iter_sheet, read_sheet
from mlstat_core.formats import (
    CSV_SUFFIXES,
    DEFAULT_CHUNK_SIZE,
    EXCEL_SUFFIXES,
    FORMATS,
    PARQUET_SUFFIXES,
)
from mlstat_core.inputs import home_path, is_url, resolve_path  # noqa: F401 (re-exported: one rule for loaders and validation)


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


def _text(value: Any) -> Any:
    """One value as text (``1`` for a whole number); a missing one (None, NaN, NaT, pandas'
    ``pd.NA`` of nullable Int64, Float64 and boolean columns) stays missing, no category
    ``"<NA>"``: ``pd.NA`` and NaT as NaN, the missing value of a text column read from a CSV
    (scikit-learn before 1.5 fails on ``pd.NA`` in an object column). Identity tests, not
    ``pd.isna``, for speed (a million values a column)."""
    if value is None or isinstance(value, str):
        return value
    if value is pd.NA or value is pd.NaT:
        return np.nan
    if isinstance(value, float | np.floating):
        if value != value:  # NaN
            return value
        if float(value).is_integer():
            return str(int(value))
    elif isinstance(value, np.datetime64 | np.timedelta64) and np.isnat(value):
        return np.nan
    return str(value.item() if isinstance(value, np.generic) else value)


def is_text(series: pd.Series) -> bool:
    """Whether every value present in ``series`` is a string (and at least one is present,
    or the dtype itself is a string dtype)."""
    if pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series):
        return True
    return pd.api.types.is_object_dtype(series) \
        and pd.api.types.infer_dtype(series, skipna=True) == "string"


def as_text(series: pd.Series) -> pd.Series:
    """``series`` as text the way a CSV reader gives it: ``1`` (not ``1.0``) for a whole
    number, missing values left missing; a column of text is returned as it is."""
    if is_text(series) or (pd.api.types.is_object_dtype(series) and series.isna().all()):
        return series
    return series.astype(object).map(_text)


WHOLE_CODE = re.compile(r"\s*([+-]?\d+)\.0+\s*")
"""A code written as a decimal with a zero fraction (``11.0``, as a CSV file exported from a
column of codes with gaps holds it): the code ``11``."""


def whole_code_text(series: pd.Series) -> pd.Series:
    """``series`` (text) with each code written as a decimal with a zero fraction (``11.0``,
    ``0110.00``) as the whole number written before its point (``11``, ``0110``), so that a
    file exported with decimals and one without give the same categories; other values, and
    missing ones, as they are. The one rule for codes (core.table's `categorical`) that the
    core's models and the drift check both apply."""
    found = {value: match.group(1) for value in series.dropna().unique()
             if isinstance(value, str) and (match := WHOLE_CODE.fullmatch(value))}
    return series.replace(found) if found else series


def with_dtypes(frame: pd.DataFrame, dtype: dict[str, Any] | None) -> pd.DataFrame:
    """``frame`` with the columns of ``dtype`` (those present) cast: ``str`` means text
    (:func:`as_text`), anything else goes to ``astype``."""
    out = frame
    for column, kind in (dtype or {}).items():
        if column not in frame.columns:
            continue
        cast = as_text(frame[column]) if kind in (str, "str") else frame[column].astype(kind)
        if cast is not frame[column]:
            out = out.copy() if out is frame else out
            out[column] = cast
    return out


def exact_integer_text(frame: pd.DataFrame, columns: Callable[[list[str]], Any],
                       dtype: dict[str, Any] | None) -> pd.DataFrame:
    """``frame``, read from Parquet, with each integer column that ``dtype`` reads as text
    and that has a gap taken again from ``columns`` (Arrow columns by name: the batch or
    table it came from), exactly: pandas turns such a column into float64, which keeps only
    16 digits, so 19-digit ids became one rounded id. Cast by :func:`with_dtypes` after."""
    import pyarrow as pa

    wanted = [c for c, kind in (dtype or {}).items()
              if kind in (str, "str") and c in frame.columns
              and frame[c].dtype == np.float64]  # integers with a gap, or floats
    if not wanted:
        return frame
    out = frame
    for name, column in zip(wanted, columns(wanted), strict=True):
        if pa.types.is_integer(column.type):
            out = out.copy() if out is frame else out
            out[name] = pd.Series(column.to_pylist(), index=frame.index, dtype=object)
    return out


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (np.int64(4) -> 4), for messages."""
    return value.item() if hasattr(value, "item") else value


QUOTE_LIMIT = 40
"""Most characters of a data value a message quotes: cells may hold free text or personal
details, and warnings and errors reach the report and the manifest."""


def quoted(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """A data value as a message quotes it: its ``repr``, text cut to ``limit`` characters."""
    value = plain(value)
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}…"
    return repr(value)


def first_record(frame: pd.DataFrame, mask: pd.Series | np.ndarray, id_column: str | None,
                 *, by_label: bool = False) -> str:
    """Where the first flagged record is: its id when the table has one, else its row
    counting from 1. With ``by_label`` the row comes from the record's index label, not its
    position in ``frame``: mlstat's readers number the records of a file from 0 chunk after
    chunk (and a split keeps them), so a record of the third chunk gets its row in the file;
    a label that is not a whole number is named as it is."""
    position = int(np.asarray(mask).nonzero()[0][0])
    if id_column and id_column in frame.columns and pd.notna(frame[id_column].iloc[position]):
        return f"record id {quoted(frame[id_column].iloc[position])}"
    if not by_label:
        return f"data row {position + 1:,}"
    label = plain(frame.index[position])
    if isinstance(label, int) and not isinstance(label, bool) and label >= 0:
        return f"data row {label + 1:,}"
    return f"index label {quoted(label)}"


DECIMAL_COMMA = r"\s*[-+]?(\d{1,3}(\.\d{3})+|\d*),\d+\s*"
"""A number written with a decimal comma (``0,4272``, ``-1.234,5``)."""


THOUSANDS_COMMA = r"\s*[-+]?[1-9]\d{0,2}(,\d{3})+\s*"
"""A number that may be written with ``,`` between thousands (``1,234``, ``12,500``; not
``0,125``, a decimal comma), or else with a decimal comma before three digits: the text alone
cannot tell."""

THOUSANDS_POINT = r"\s*[-+]?\d{1,3}(\.\d{3})+(,\d+)?\s*"
"""A number that may be written with ``.`` between thousands (``1.300``, ``1.300,50``)."""


def decimal_commas(values: pd.Series) -> bool:
    """Whether most of ``values`` (text that is not a number) are numbers written with a
    decimal comma (a file read with ``.`` as the decimal mark that uses ``,``), not counting
    values that may as well have ``,`` between thousands (``1,234``)."""
    text = values.astype(str)
    decimal = text.str.fullmatch(DECIMAL_COMMA) & ~text.str.fullmatch(THOUSANDS_COMMA)
    return bool(decimal.mean() > 0.5)


def thousands_commas(values: pd.Series) -> bool:
    """Whether most of ``values`` look like numbers with ``,`` between thousands (or a
    decimal comma followed by three digits: the file alone cannot tell)."""
    return bool(values.astype(str).str.fullmatch(THOUSANDS_COMMA).mean() > 0.5)


def table_format(path: Path, declared: str | None = None,
                 setting: str = "set the loader's `format`",
                 suffixes: str = ".csv, .tsv, .parquet or an Excel suffix (.xlsx)") -> str:
    """The format of ``path`` (declared, or from its suffix); the error names ``suffixes``
    (the ones that fit where the file is used) and the ``setting`` that declares it."""
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
        f"cannot tell the format of {path} from its suffix {suffix!r}; use {suffixes}"
        + (f", or {setting}" if setting else "")
    )


def _check_file(path: Path, relative_to: str = "the pipeline file's folder, or the working "
                                               "folder for a pipeline given as a dict"
                ) -> None:
    if not path.exists():
        raise DataError(f"data file {path} does not exist; check the path (relative paths are "
                        f"resolved against {relative_to})")
    if path.is_dir():
        raise DataError(f"data path {path} is a folder, not a file")
    if not path.is_file():  # a pipe or a device reads forever or not at all: never opened
        raise DataError(f"data path {path} is not a plain file (a pipe, socket or device); "
                        "give a file saved on disk")
    if path.stat().st_size == 0:
        raise DataError(f"data file {path} is empty")


def _csv_sep(path: Path, sep: str | None) -> str | None:
    if sep:
        return sep
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _trailing_blank_lines(path: Path) -> int:
    """How many blank lines end the file after its last record's line break."""
    with open(path, "rb") as handle:
        handle.seek(max(handle.seek(0, 2) - 4096, 0))
        tail = handle.read()
    ending = tail[len(tail.rstrip(b"\r\n")):]
    return max(ending.count(b"\n") - 1, 0)


def warn_if_cut_short(path: Path, encoding: str, last: pd.DataFrame | None) -> None:
    """Warn when the CSV file's last record (the last row of ``last``) ends in an empty field
    and the file in no line break: it was most likely cut short, copied while still being
    written, and that record was read with missing values."""
    if last is None or not len(last) or not pd.isna(last.iloc[-1, -1]):
        return
    if not _ends_without_line_break(path, encoding):
        return
    row = last.iloc[-1]
    warnings.warn(f"the last record of {path} ends in an empty field ({int(row.notna().sum())} "
                  f"of {len(row)} fields filled) and the file in no line break: it looks cut "
                  "short (copied while still being written?); check the file", stacklevel=3)


def header_fields(path: Path, encoding: str, sep: str | None) -> list[str] | None:
    """A CSV file's header fields as written (pandas renames a name it meets twice); None
    where it cannot be read (the read proper reports why)."""
    try:
        head = pd.read_csv(path, encoding=encoding, sep=_csv_sep(path, sep), header=None,
                           nrows=1, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError,
            ValueError):
        return None
    return [str(v) for v in head.iloc[0]] if len(head) else None


def table_header(path: Path, format: str | None = None, encoding: str = "utf-8",
                 sep: str | None = None, sheet: str | int | None = None) -> list[Any] | None:
    """The column names of a table file, read from its header alone, as the loader names
    them: a CSV file's first line (pandas with ``nrows=0``: a name written twice is
    ``score.1`` the second time, an empty one ``Unnamed: 0``), a Parquet file's schema (its
    footer; the columns pandas makes the index left out), an Excel sheet's first row (pandas
    with ``nrows=0`` too). Names are in Unicode NFC, as
    :func:`nfc_columns` gives them. None where the header cannot be read so (an unknown
    format, an encoding that does not fit, a damaged file, a sheet the workbook lacks): the
    read proper says why."""
    try:
        fmt = table_format(path, format)
        if fmt == "csv":  # named as pandas names them (a name met twice: score.1; an
            # empty one, as DataFrame.to_csv writes the index's: Unnamed: 0)
            names: list[Any] = list(pd.read_csv(
                path, encoding=encoding, sep=_csv_sep(path, sep), nrows=0).columns)
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            names = list(pq.read_schema(path).empty_table().to_pandas().columns)
        else:
            names = list(read_sheet(path, sheet, not_settable, nrows=0).columns)
    except Exception:  # noqa: BLE001 - unreadable here: the loader's read reports it
        return None
    return [unicodedata.normalize("NFC", n) if isinstance(n, str) else n for n in names]


def warn_if_named_twice(path: Path, header: list[str] | None) -> None:
    """Warn when a CSV header names a column twice: pandas reads the second as ``name.1``,
    and a model that reads ``name`` reads the first, whichever holds the values meant."""
    named = [h for h in header or [] if h.strip()]
    twice = sorted({h for h in named if named.count(h) > 1})
    if twice:
        shown = ", ".join(f"{h!r} (the second read as {h + '.1'!r})" for h in twice[:5])
        warnings.warn(f"{path} names column(s) {shown} more than once: what reads such a "
                      "column by its name reads the first; rename or remove the others",
                      stacklevel=3)


@dataclass(frozen=True)
class ShortRecords:
    """Records of a CSV file with fewer fields than its header names (:func:`short_records`):
    how many, the header's named fields, and the first such record, tidied for a message."""

    count: int
    named: int
    first: str


def short_records(path: Path, encoding: str, sep: str | None,
                  header: list[str]) -> ShortRecords | None:
    """The records of a CSV file with fewer fields than its ``header`` names (up to its last
    named field: a trailing separator adds an unnamed one); None when there are none.
    pyarrow's parser counts them (about 0.1 s a million records); blank lines, which pandas
    skips, and a last record :func:`warn_if_cut_short` reports are left out; where pyarrow
    cannot read the file as pandas did, None (no check)."""
    import pyarrow as pa
    import pyarrow.csv as pc

    named = max((i + 1 for i, h in enumerate(header) if h.strip()), default=0)
    short: list[str] = []

    def handler(row: Any) -> str:
        if row.actual_columns < named and row.text.strip():
            short.append(row.text)
        return "skip"

    try:  # the header is read as a record (a quoted line break in a name stays in it)
        reader = pc.open_csv(
            str(path), read_options=pc.ReadOptions(encoding=encoding, use_threads=False,
                                                   autogenerate_column_names=True),
            parse_options=pc.ParseOptions(delimiter=_csv_sep(path, sep),
                                          newlines_in_values=True,
                                          invalid_row_handler=handler),
            convert_options=pc.ConvertOptions(include_columns=["f0"],
                                              column_types={"f0": pa.string()}))
        for _batch in reader:
            pass
    except Exception:  # noqa: BLE001 - pyarrow reads otherwise than pandas: no check
        return None
    if short and _ends_without_line_break(path, encoding) \
            and short[-1].strip() == _last_line(path, encoding):
        short.pop()  # cut short: warn_if_cut_short says so
    return ShortRecords(len(short), named, " ".join(short[0].split())[:80]) if short else None


SHORT_RECORD_CAUSES = ("check those lines (cut short, written with another field separator, "
                       "or a line break in a text not in quotes)")


def warn_if_short_records(path: Path, encoding: str, sep: str | None,
                          header: list[str]) -> None:
    """Warn when records of a CSV file have fewer fields than its ``header`` names
    (:func:`short_records`): pandas reads their missing fields as empty without a word, so
    that a record cut short or written with another separator (``a;b;c`` in a ``,`` file)
    is read from missing values."""
    found = short_records(path, encoding, sep, header)
    if found:
        warnings.warn(f"{found.count:,} record(s) of {path} have fewer fields than its "
                      f"header's {found.named} (the first: {found.first!r}): their missing "
                      f"fields were read as empty; {SHORT_RECORD_CAUSES}", stacklevel=3)


def check_csv_records(path: Path, encoding: str, sep: str | None,
                      header: list[str] | None) -> None:
    """The warnings on a CSV file's records once it is read: a column named twice, records
    with fewer fields than the header (``header``: :func:`header_fields`)."""
    warn_if_named_twice(path, header)
    if header and len(header) > 1:
        warn_if_short_records(path, encoding, sep, header)


def _tail_text(path: Path, encoding: str) -> str | None:
    """The file's last 4 KiB or so, decoded (whole characters of UTF-16 and UTF-32); None for
    an encoding Python does not know."""
    with open(path, "rb") as handle:
        start = max(handle.seek(0, 2) - 4096, 0)
        handle.seek(start - start % 4)
        tail = handle.read()
    try:
        return tail.decode(encoding, errors="replace")
    except LookupError:
        return None


def _last_line(path: Path, encoding: str) -> str:
    """The file's last line (decoded, stripped; empty where it cannot be decoded)."""
    lines = (_tail_text(path, encoding) or "").splitlines()
    return lines[-1].strip() if lines else ""


def _ends_without_line_break(path: Path, encoding: str) -> bool:
    """Whether the file's text (decoded: UTF-16 ends in two bytes) ends without a line end."""
    text = _tail_text(path, encoding)
    return bool(text) and not text.endswith(("\n", "\r"))


def _without_trailing_rows(chunks: Iterable[pd.DataFrame], count: int
                           ) -> Iterator[pd.DataFrame]:
    """The chunks without the final ``count`` rows (read ahead by as many rows)."""
    pending: list[pd.DataFrame] = []
    for chunk in chunks:
        pending.append(chunk)
        while len(pending) > 1 and sum(map(len, pending[1:])) >= count:
            yield pending.pop(0)
    rest = [chunk for chunk in pending if len(chunk)]
    if rest:
        last = pd.concat(rest) if len(rest) > 1 else rest[0]
        if len(last) > count:
            yield last.iloc[:len(last) - count]


def read_table(
    path: str | Path,
    *,
    format: str | None = None,
    encoding: str = "utf-8",
    sep: str | None = None,
    sheet: str | int | None = None,
    columns: list[str] | None = None,
    dtype: dict[str, str] | None = None,
    how: Callable[[str, str], str | None] | None = None,
    na_values: list[str] | None = None,
    decimal: str = ".",
    keep_default_na: bool = True,
) -> pd.DataFrame:
    """Read a whole table; raise DataError with the file and the fix for every user mistake.

    ``how(option, example)`` says how the caller's user sets ``encoding`` or ``sep`` (None:
    they cannot, the file must be saved otherwise); by default the loader's settings of those
    names (:func:`loader_setting`). ``na_values`` (values that mean missing, besides pandas'
    own) and ``decimal`` (the decimal mark) apply to CSV and Excel files, whose cells are
    text; a Parquet file's columns carry their types, so it refuses them. Without
    ``keep_default_na`` only empty cells and ``na_values`` are missing, not pandas' words
    (``NA``, ``null``, ``None``...). ``dtype`` applies to every format (a Parquet column
    named ``str`` is cast as a CSV's would be read: ``111.0`` -> ``"111"``). A missing
    declared column of a CSV file whose header holds another separator gets the ``sep`` to
    use."""
    how = how or loader_setting
    path = Path(path)
    _check_file(path)
    fmt = table_format(path, format)
    _check_encoding(encoding)
    if fmt == "parquet" and (na_values or decimal != "."):
        raise DataError(f"{path} is a Parquet file, whose columns carry their own types: "
                        "`na_values` and `decimal` apply to CSV and Excel files only; remove "
                        "them")
    options = {**missing_options(na_values, keep_default_na), "decimal": decimal,
               "dtype": dtype}
    try:
        if fmt == "csv":
            options["dtype"] = _as_written(path, encoding, sep, dtype)
            frame = pd.read_csv(path, encoding=encoding, sep=_csv_sep(path, sep), **options)
            warn_if_utf8_read_as(path, encoding, how("encoding", "utf-8"))
            warn_if_cut_short(path, encoding, frame)
            check_csv_records(path, encoding, sep, header_fields(path, encoding, sep))
        elif fmt == "parquet":  # its columns carry types; those named in dtype are cast as
            # a CSV's would be read (codes 111.0 of a float column with gaps -> "111")
            import pyarrow.parquet as pq

            frame = pd.read_parquet(path)
            frame = with_dtypes(exact_integer_text(
                frame, lambda names: pq.read_table(path, columns=names).columns, dtype), dtype)
        else:
            frame = read_sheet(path, sheet, how, **options)
    except UnicodeDecodeError as exc:
        where = undecodable_where(path, encoding, exc) if fmt == "csv" else exc.reason
        advice = how("encoding", "cp1250")
        raise DataError(f"{path} is not valid {encoding} text ({where}); save it as UTF-8"
                        + (f" or {advice}" if advice else "")) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path} has no columns") from None
    except pd.errors.ParserError as exc:
        used = _csv_sep(path, sep) or ","
        raise malformed_csv(path, exc, encoding, used, lambda s: how("sep", s) or (
            f"save it with '{separator_text(used)}' between fields")) from None
    except Exception as exc:
        failure = unreadable(path, fmt, exc)
        if failure is None:
            raise
        raise failure from None
    frame = nfc_columns(frame)
    missing = [c for c in columns or [] if c not in frame.columns]
    hint = separator_hint(path, encoding, sep, frame, how) if missing and fmt == "csv" else ""
    if hint:
        raise DataError(f"{path} lacks declared column(s) {', '.join(map(repr, missing))}"
                        f"{hint}")
    require_table_columns(frame, columns or [], path)
    return frame


def separator_hint(path: Path, encoding: str, sep: str | None, frame: pd.DataFrame,
                   how: Callable[[str, str], str | None] | None = None) -> str:
    """``; its header '...' seems separated by ';', not ',': <how to set sep>`` (by default
    the loader's setting) when the CSV file's header holds the separator its first lines
    suggest; else empty."""
    how = how or loader_setting
    used = _csv_sep(path, sep) or ","
    likely = likely_separator(path, encoding, used)
    if likely is None or not any(likely in str(c) for c in frame.columns):
        return ""
    advice = how("sep", likely) or f"save it with '{separator_text(used)}' between fields"
    return (f"; its header {str(frame.columns[0])[:80]!r} seems separated by "
            f"'{separator_text(likely)}', not '{separator_text(used)}': {advice}")


def missing_options(na_values: list[str] | None, keep_default_na: bool) -> dict[str, Any]:
    """pandas' reading options for what is missing: ``na_values`` besides pandas' own words
    (``NA``, ``null``...), or without ``keep_default_na`` besides empty cells only."""
    if keep_default_na:
        return {"na_values": na_values or None}
    return {"na_values": [*(na_values or []), ""], "keep_default_na": False}


def nfc_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its column names in Unicode NFC, the form a pipeline file is typed in:
    ``dochód`` from a macOS export (NFD: ``o`` and a combining accent) is then the same
    column. Names that would collide are left as they are."""
    names = [unicodedata.normalize("NFC", c) if isinstance(c, str) else c
             for c in frame.columns]
    if names == list(frame.columns) or len(set(names)) < len(names):
        return frame
    return frame.set_axis(names, axis=1)


def _as_written(path: Path, encoding: str, sep: str | None, dtype: dict[str, Any] | None
                ) -> dict[str, Any] | None:
    """``dtype`` keyed by the file's own column names where they differ from the names asked
    for only in Unicode form (a macOS header in NFD): the types apply before
    :func:`nfc_columns` renames the columns. The header is read only when a name asked for is
    not ASCII."""
    if not dtype or all(str(k).isascii() for k in dtype):
        return dtype
    try:
        header = pd.read_csv(path, encoding=encoding, sep=_csv_sep(path, sep), nrows=0).columns
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError):
        return dtype  # the read itself reports it
    written = {unicodedata.normalize("NFC", c): c for c in header if isinstance(c, str)}
    return {written.get(unicodedata.normalize("NFC", str(k)), k): v for k, v in dtype.items()}


def _check_encoding(encoding: str) -> None:
    from mlstat_core.components import known_encoding

    try:
        known_encoding(encoding)
    except ValueError as exc:
        raise DataError(str(exc)) from None


UTF8_SAMPLE = 1 << 20
"""Bytes of a CSV file read to tell UTF-8 text read in another encoding."""


def warn_if_utf8_read_as(path: Path, encoding: str, fix: str | None) -> None:
    """Warn when a CSV file read in another encoding than UTF-8 (cp1250, the encoding a run
    was trained with) is valid UTF-8 holding letters beyond ASCII: text in a one-byte code
    page is almost never valid UTF-8 too (a Polish cp1250 file stops being so at its first
    ż), and UTF-8 read as cp1250 turns ó into Ăł without an error, so that every text with
    such letters is scored as another. ``fix``: how to read it as UTF-8 (None: not
    settable)."""
    import codecs

    if codecs.lookup(encoding).name.startswith("utf"):
        return
    with open(path, "rb") as handle:
        sample = handle.read(UTF8_SAMPLE)
    if sample.isascii():
        return
    try:  # a character cut at the sample's end is left out, not an error
        text = codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return
    letter = next((c for c in text if not c.isascii()), None)
    if letter is None:  # the only letter beyond ASCII was cut at the sample's end
        return
    shown = letter.encode("utf-8").decode(encoding, errors="replace")
    warnings.warn(f"{path} was read as {encoding}, but it is valid UTF-8 text (its first "
                  f"letter beyond ASCII, {letter!r}, reads as {shown!r} in {encoding}): if "
                  "it is UTF-8, its letters were read as others; "
                  + (fix or "save it in the encoding given"), stacklevel=3)


def require_table_columns(frame: pd.DataFrame, columns: list[str], path: str | Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path} lacks declared column(s) {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, list(frame.columns)[:30]))}"
        )


def iter_table(
    path: str | Path,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    format: str | None = None,
    encoding: str = "utf-8",
    sep: str | None = None,
    dtype: dict[str, Any] | None = None,
    cli: bool = False,
    na_values: list[str] | None = None,
    decimal: str = ".",
    sheet: str | int | None = None,
    keep_default_na: bool = True,
) -> Iterator[pd.DataFrame]:
    """Yield the table in chunks of at most ``chunk_size`` rows; memory is bounded by the
    chunk size, not the file size (an Excel workbook's ``sheet``, or its first, is read row
    by row too: see :func:`iter_sheet`).

    ``dtype`` maps columns to types (``str``: text, as :func:`as_text` writes it) so that
    every chunk has them the same, whatever values it happens to hold; absent columns are
    ignored. Relative paths are taken from the current folder (this reads ``mlstat
    predict``'s input). Messages name the options ``--encoding`` and ``--sep`` with ``cli``,
    else this function's arguments. ``na_values`` and ``decimal`` read values as the trained
    loader did (CSV and Excel; a Parquet file's columns carry their types)."""
    path = home_path(path)
    _check_file(path, "the current folder")
    fmt = table_format(path, format, "", ".csv, .tsv, .parquet or .xlsx")
    _check_encoding(encoding)
    start = 0
    one_column = False  # a file of one column, whose blank lines are records
    try:
        if fmt == "csv":
            warn_if_utf8_read_as(path, encoding, f"pass {option_hint('encoding', 'utf-8', cli)}")
            header = header_fields(path, encoding, sep)
            # a file of one column: a blank line is a record whose value is empty (a list of
            # product names with a gap), not a line to skip, so that no record is lost and
            # the records after it keep their numbers
            one_column = header is not None and len(header) == 1
            warn_if_named_twice(path, header)  # before scoring (a Spark job reads one chunk)
            last = None
            # closed when the caller stops early (a generator left after its first chunk)
            with pd.read_csv(path, encoding=encoding, sep=_csv_sep(path, sep),
                             chunksize=chunk_size,
                             dtype=_as_written(path, encoding, sep, _csv_dtype(dtype)),
                             skip_blank_lines=not one_column, decimal=decimal,
                             **missing_options(na_values, keep_default_na)) as reader:
                chunks = _without_trailing_rows(reader, _trailing_blank_lines(path)) \
                    if one_column else reader
                for chunk in chunks:
                    chunk.index = pd.RangeIndex(start, start + len(chunk))
                    start += len(chunk)
                    last = chunk.tail(1) if len(chunk) else last
                    yield with_dtypes(nfc_columns(chunk), dtype)
            warn_if_cut_short(path, encoding, last)
            if header and not one_column:
                warn_if_short_records(path, encoding, sep, header)
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            with pq.ParquetFile(path) as parquet:
                for batch in parquet.iter_batches(batch_size=chunk_size):
                    chunk = exact_integer_text(
                        batch.to_pandas(), lambda names, b=batch: [b.column(n) for n in names],
                        dtype)
                    chunk.index = pd.RangeIndex(start, start + len(chunk))
                    start += len(chunk)
                    yield with_dtypes(nfc_columns(chunk), dtype)
        else:
            for chunk in iter_sheet(
                    path, sheet, chunk_size,
                    lambda name, value: f"pass {option_hint(name, value, cli)}",
                    dtype=_csv_dtype(dtype), decimal=decimal,
                    **missing_options(na_values, keep_default_na)):
                chunk.index = pd.RangeIndex(start, start + len(chunk))
                start += len(chunk)
                yield with_dtypes(nfc_columns(chunk), dtype)
    except UnicodeDecodeError as exc:
        found = undecodable_line(path, encoding) if fmt == "csv" else None
        where = (f"{found[1]} on "
                 + chunk_of(path, found[0], chunk_size, encoding, _csv_sep(path, sep) or ",",
                            keep_blank=one_column)) \
            if found else f"{exc.reason} after record {start:,}" if start else exc.reason
        raise DataError(
            f"{path} is not valid {encoding} text ({where}); save it as UTF-8 or pass its "
            f"encoding (for example {option_hint('encoding', 'cp1250', cli)})"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path} has no columns") from None
    except pd.errors.ParserError as exc:
        raise malformed_csv(path, exc, encoding, _csv_sep(path, sep) or ",",
                            lambda s: f"pass {option_hint('sep', s, cli)}") from None
    except Exception as exc:
        failure = unreadable(path, fmt, exc)
        if failure is None:
            raise
        raise failure from None


def unreadable(path: Path, fmt: str, exc: Exception) -> DataError | None:
    """The user's error for a table that could not be read (a damaged workbook, an OS or
    value error of the reader), or None for a defect to raise as it is."""
    failure = excel_failure(path, exc) if fmt == "excel" else None
    if failure is None and isinstance(exc, OSError | ValueError):
        failure = DataError(f"cannot read {path} as {fmt}: {exc}")
    return failure


def loader_setting(option: str, example: str) -> str:
    """How a pipeline file sets a reading option of its loader (``encoding``, ``sep``)."""
    return f"set the loader's `{option}` (for example {option} = {json.dumps(example)})"


def not_settable(option: str, example: str) -> None:
    """For :func:`read_table`'s ``how`` where the user cannot set the option."""
    return None


def option_hint(name: str, value: str, cli: bool) -> str:
    """A reading option set to ``value`` as the caller's user writes it: ``--sep ';'`` on
    the command line (``cli``), ``sep=';'`` in Python."""
    if cli:
        import shlex

        return f"--{name.replace('_', '-')} {shlex.quote(separator_text(value))}"
    return f"{name}={value!r}"


def separator_text(sep: str) -> str:
    """A field separator as a user types it (a tab as ``\\t``)."""
    return "\\t" if sep == "\t" else sep


SNIFF_CHARS = 65_536
"""How much of a CSV file is read to guess its field separator."""


def likely_separator(path: Path, encoding: str, used: str) -> str | None:
    """The field separator (``;``, tab, ``|`` or ``,``) that the first lines of ``path``
    suggest, when it is not ``used``; None when they suggest ``used`` or nothing."""
    try:
        with path.open(encoding=encoding, errors="replace", newline="") as file:
            sample = file.read(SNIFF_CHARS)
    except (OSError, LookupError):
        return None
    if len(sample) == SNIFF_CHARS and "\n" in sample:
        sample = sample[:sample.rindex("\n")]  # whole lines only
    try:
        found = csv.Sniffer().sniff(sample, delimiters=";\t|,").delimiter
    except csv.Error:
        return None
    return found if found != used else None


def malformed_csv(path: Path, exc: Exception, encoding: str, used: str,
                  fix: Callable[[str], str]) -> DataError:
    """The error for a CSV file pandas cannot split into fields: when its first lines look
    separated by another separator than ``used``, the message says to use that one (``fix``
    says how: an option, an argument, a loader setting)."""
    detail = str(exc).strip().removeprefix("Error tokenizing data. C error: ")
    counted = re.search(r"in line (\d+),", detail)  # pandas counts rows, not lines
    found = row_lines(path, encoding, used, int(counted.group(1))) if counted else None
    if counted and found and found[0] != int(counted.group(1)):
        first, last, record = found
        span = f"line {first:,}" if first == last else f"lines {first:,}-{last:,}"
        detail = detail.replace(counted.group(0), f"in record {record:,} ({span} of the file),")
    likely = likely_separator(path, encoding, used)
    if likely is not None:
        return DataError(
            f"{path} is not a well-formed '{separator_text(used)}'-separated file ({detail}); "
            f"its first lines look '{separator_text(likely)}'-separated: {fix(likely)}")
    return DataError(f"{path} is not a well-formed CSV file ({detail}); check its quoting, "
                     f"and its field separator ('{separator_text(used)}' was used)")


def undecodable_line(path: Path, encoding: str) -> tuple[int, str] | None:
    """The first line of ``path`` (counting from 1) that is not ``encoding`` text, with the
    reason; None when every line decodes (or the file cannot be read). The readers' own
    errors say where in their buffer the bad byte was, not where in the file. A file named
    ``.gz`` is counted in its uncompressed lines."""
    import codecs
    import gzip

    number = 0
    opener = gzip.open if Path(path).suffix.lower() == ".gz" else open
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
        with opener(path, "rb") as file:
            for line in file:
                number += 1
                decoder.decode(line)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return max(number, 1), exc.reason
    except (OSError, LookupError, EOFError):  # gzip.BadGzipFile is an OSError
        return None
    return None


def undecodable_where(path: Path, encoding: str, exc: UnicodeDecodeError) -> str:
    """Where ``path`` stops being ``encoding`` text, for a message: the reason and the line
    (:func:`undecodable_line`), or the decoder's reason alone where no line is found."""
    found = undecodable_line(Path(path), encoding)
    return f"{found[1]} on line {found[0]:,}" if found else exc.reason


def csv_rows(path: Path, encoding: str, sep: str) -> Iterator[tuple[int, int, bool]]:
    """The first and last line (counting from 1) of each row of a CSV file, its header first,
    and whether it is a blank line: a quoted field may hold line breaks, so a record may take
    several lines. Bytes that are not ``encoding`` text read as replacement characters; a
    file named ``.gz`` is read uncompressed. For messages about a damaged file, which cannot
    count records by lines."""
    import gzip

    opener: Any = gzip.open if Path(path).suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding=encoding, errors="replace", newline="") as file:
        reader = csv.reader(file, delimiter=sep)
        last = 0
        for row in reader:
            first, last = last + 1, reader.line_num
            yield first, last, not row


SCAN_ERRORS = (OSError, csv.Error, LookupError, EOFError, TypeError)
"""What stops :func:`csv_rows` (TypeError: a separator of two or more characters, which
the csv module refuses): the message then counts one record a line."""


def chunk_of(path: Path, line: int, chunk_size: int, encoding: str = "utf-8",
             sep: str = ",", keep_blank: bool = False) -> str:
    """Where ``line`` of a CSV file with a header line is, for a message: ``line 1,200
    (record 600), in records 501 to 600`` (the record only where it is not the line's number
    less the header's; the last chunk ends with the file). Blank lines are no records, as
    the readers skip them, unless ``keep_blank`` (a file of one column, where a blank line
    is a record whose value is empty)."""
    import itertools

    record, first, end = max(line - 1, 1), None, None
    try:
        rows = enumerate((first, last) for first, last, blank in csv_rows(path, encoding, sep)
                         if keep_blank or not blank)  # 0: the header
        for number, (_, last) in rows:
            if last >= line:
                record = max(number, 1)
                break
        first = (record - 1) // chunk_size * chunk_size + 1
        end = record + sum(1 for _ in zip(range(record + 1, first + chunk_size), rows,
                                          strict=False))
    except SCAN_ERRORS:
        pass
    if first is None or end is None:  # unreadable: one record a line
        first = (record - 1) // chunk_size * chunk_size + 1
        end = first + chunk_size - 1
        with contextlib.suppress(OSError), path.open("rb") as file:
            end = min(end, sum(1 for _ in itertools.islice(file, first + chunk_size)) - 1)
        end = max(end, first)
    shown = f" (record {record:,})" if record != line - 1 else ""
    return f"line {line:,}{shown}, in records {first:,} to {end:,}"


def row_lines(path: Path, encoding: str, sep: str, row: int) -> tuple[int, int, int] | None:
    """The first and last line of row ``row`` of a CSV file (1: its header; blank lines
    count, as pandas counts rows in its errors) and its record number (blank lines do not
    count), or None where the file cannot be read so or is shorter."""
    records = -1  # the header is no record
    try:
        for number, (first, last, blank) in enumerate(csv_rows(path, encoding, sep), start=1):
            records += not blank
            if number == row:
                return first, last, records
    except SCAN_ERRORS:
        return None
    return None


def _csv_dtype(dtype: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the CSV and Excel readers are given: text columns read as text, so that ``007``
    stays ``007``."""
    return {c: str if k in (str, "str") else k for c, k in dtype.items()} if dtype else None


def _typed(schema: Any) -> Any:
    """The schema with text for columns the first chunk left empty (all None, which pyarrow
    types as null): a later chunk's values must fit, and text is what such columns hold.
    Text is ``string``, never ``large_string`` (pandas 3's text): the type Spark writes and
    pandas 2 gives, so that outputs of either engine or version concatenate as they are."""
    import pyarrow as pa

    def text(field: Any) -> Any:
        kind = field.type
        return field.with_type(pa.string()) \
            if pa.types.is_null(kind) or pa.types.is_large_string(kind) else field

    return pa.schema([text(field) for field in schema], metadata=schema.metadata)


PARTIAL = ".partial"


def host_tag() -> str:
    """This machine's name, as a file name part (pids mean something on one host only)."""
    import re
    import socket

    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())[:40] or "host"


def partial_path(path: Path) -> Path:
    """A hidden temporary name beside ``path`` that no other process uses:
    ``.NAME.<host>.<pid>-<random>.partial`` (two jobs writing one output never share it, on
    one machine or on several sharing the folder)."""
    import secrets

    return path.with_name(
        f".{path.name}.{host_tag()}.{os.getpid()}-{secrets.token_hex(4)}{PARTIAL}")


def dead_process_leftovers(folder: Path, glob_pattern: str, name: str) -> list[Path]:
    """The entries of ``folder`` matching ``glob_pattern`` whose whole name matches the regular
    expression ``name`` (its first group a process id) and whose process no longer runs on
    this machine: what killed jobs left. Symbolic links, this process's own entries and those
    of another user's live process are never returned; an unreadable folder gives none."""
    import re

    pattern = re.compile(name)
    try:
        candidates = list(folder.glob(glob_pattern))
    except OSError:
        return []
    found = []
    for candidate in candidates:
        match = pattern.fullmatch(candidate.name)
        if match is None or candidate.is_symlink() or int(match.group(1)) == os.getpid():
            continue
        if process_gone(int(match.group(1))):
            found.append(candidate)
    return found


WINDOWS = sys.platform == "win32"


def process_gone(pid: int) -> bool:
    """Whether no process ``pid`` runs on this machine; False where that cannot be told (a
    live process of another user, a number that is no pid). On Windows it asks the system
    (``OpenProcess``), never ``os.kill``, which there ends the process whatever the signal."""
    if WINDOWS:
        return _windows_process_gone(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # another user's live process, or no pid at all
        return False
    return False


def _windows_process_gone(pid: int) -> bool:
    """Windows: no process ``pid`` (OpenProcess fails with ERROR_INVALID_PARAMETER), or it
    has exited (its exit code is no longer STILL_ACTIVE); False where that cannot be told."""
    try:
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        kernel32.OpenProcess.restype = wintypes.HANDLE
        kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
        kernel32.GetExitCodeProcess.restype = wintypes.BOOL
        kernel32.GetExitCodeProcess.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
        kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 87  # type: ignore[attr-defined]
        try:
            code = wintypes.DWORD()
            return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) \
                and code.value != 259
        finally:
            kernel32.CloseHandle(handle)
    except Exception:  # noqa: BLE001 - cannot tell: the file stays
        return False


def sweep_partials(path: Path) -> None:
    """Remove the temporary files that killed processes of this machine left in the folder
    of ``path`` (their pid is no longer running), whatever output they were writing: only
    names of :func:`partial_path`'s pattern, never a file mlstat did not name so. Those of
    running jobs, and any written from another machine, stay."""
    import re

    host = host_tag()
    name = rf"\..+\.{re.escape(host)}\.(\d+)-[0-9a-f]{{8}}{re.escape(PARTIAL)}"
    for leftover in dead_process_leftovers(path.parent, f".*.{host}.*{PARTIAL}", name):
        if leftover.is_dir():
            continue
        try:
            leftover.unlink(missing_ok=True)
        except OSError:  # a folder we may read but not write: the write says so
            return


FORMULA_PATTERN = r"[=+\-@\t\r]"
"""What a spreadsheet takes for the start of a formula in a CSV cell."""


def formula_cells(frame: pd.DataFrame) -> tuple[int, Any]:
    """How many text cells of ``frame`` a spreadsheet opening it as CSV would take for a
    formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return; a number
    such as ``-5`` is a number), and the first of them (None when there is none)."""
    count, first = 0, None
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        try:
            starts = series.str.match(FORMULA_PATTERN)
        except AttributeError:  # no text in the column
            continue
        flagged = series[starts.fillna(False).astype(bool)]
        flagged = flagged[pd.to_numeric(flagged, errors="coerce").isna()]
        if len(flagged):
            count += len(flagged)
            first = flagged.iloc[0] if first is None else first
    return count, first


def formula_warning(count: int, example: Any, path: str | Path, safer: str) -> str:
    """The warning for CSV cells a spreadsheet may run as formulas: the file is written as
    is (the values are the data), so say how to open it safely."""
    return (f"{count:,} cell(s) of {path} begin with =, +, -, @ or a tab (e.g. "
            f"{quoted(example)}): a spreadsheet that opens this CSV may take them for formulas "
            f"and run them; import it as text, or write {safer}, whose cells stay text")


class TableWriter:
    """Writes chunks to one CSV or Parquet file through a temporary file renamed at the end,
    so an interrupted run never leaves an output that looks complete."""

    def __init__(self, path: str | Path, format: str | None = None, *, schema: Any = None,
                 dictionary: bool = True, make_folder: bool = True) -> None:
        """``schema``: a pyarrow schema every Parquet chunk is converted to (default: the
        first chunk's); ``dictionary``: dictionary-encode Parquet columns; ``make_folder``:
        create the folder ``path`` lies in (a Spark worker must not: its job's folder is gone
        when the job failed)."""
        self.path = home_path(path)
        self.schema = schema
        self.dictionary = dictionary
        self.format = table_format(self.path, format, "", ".csv or .parquet")
        if self.format == "excel":
            raise DataError(
                f"cannot write predictions to Excel ({self.path}); use .csv or .parquet")
        if make_folder:
            with self._failures():
                self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.parent.is_dir():
            raise DataError(f"the folder of {self.path} is gone (the job was abandoned)")
        sweep_partials(self.path)
        self.tmp = partial_path(self.path)
        self._writer = None
        self._rows = 0
        self._formulas: tuple[int, Any] = (0, None)
        self._written = False
        with self._failures():  # a folder that cannot be written to fails before any work
            self.tmp.touch(exist_ok=False)

    @contextlib.contextmanager
    def _failures(self) -> Iterator[None]:
        """A failed write (no permission, a read-only or full disk) as one error naming the
        output, not the hidden temporary file that was being written."""
        try:
            yield
        except OSError as exc:
            failure = write_failure(self.path, exc)
            if failure is None:
                raise
            raise failure from None

    def write(self, frame: pd.DataFrame) -> None:
        with self._failures():
            self._write(frame)
        self._written = True

    def _write(self, frame: pd.DataFrame) -> None:
        if self.format == "csv":
            count, first = formula_cells(frame)
            if count:
                self._formulas = (self._formulas[0] + count, self._formulas[1] or first)
            frame.to_csv(self.tmp, mode="a" if self._rows else "w", header=not self._rows,
                         index=False, sep=_csv_sep(self.path, None))
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.tmp, _typed(table.schema),
                                                use_dictionary=self.dictionary)
            try:
                cast = table.cast(self._writer.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                cast = self._widened(table)
            self._writer.write_table(cast)
        self._rows += len(frame)

    def _widened(self, table: Any) -> Any:
        """``table`` cast to the file's schema after the columns it cannot be cast to
        (``A3`` after integer ids) became text in the file so far: text wins, rewritten
        batch by batch (memory bounded)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        old = self._writer.schema
        fields = []
        for f in old:
            keep = f.name not in table.column_names
            if not keep:
                try:
                    table.column(f.name).cast(f.type)
                    keep = True
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    pass
            fields.append(f if keep else f.with_type(pa.string()))
        schema = pa.schema(fields, metadata=old.metadata)
        try:
            cast = table.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
            raise DataError(f"the records of {self.path} do not fit one Parquet schema: "
                            f"{exc}; write CSV instead") from None
        self._writer.close()
        widened = partial_path(self.path)
        writer = pq.ParquetWriter(widened, schema, use_dictionary=self.dictionary)
        try:
            for batch in pq.ParquetFile(self.tmp).iter_batches():
                writer.write_table(pa.Table.from_batches([batch]).cast(schema))
        except BaseException:
            writer.close()
            widened.unlink(missing_ok=True)
            raise
        self.tmp.unlink(missing_ok=True)
        self.tmp, self._writer = widened, writer
        return cast

    def close(self) -> int:
        """Finish the output: the partial file becomes ``path``; where that fails (a full
        disk, an output another program holds open on Windows) the partial file is removed
        and the error raised."""
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise
        if self._formulas[0]:
            warnings.warn(formula_warning(*self._formulas, self.path, "Parquet (.parquet)"),
                          stacklevel=2)
        return self._rows

    def _finish(self) -> None:
        with self._failures():
            if self._writer is not None:
                writer, self._writer = self._writer, None
                writer.close()
            if not self.tmp.exists() and self._written:
                raise DataError(f"the partial output {self.tmp} of {self._rows:,} record(s) "
                                f"vanished while it was written; {self.path} was not written: "
                                "check that nothing else cleans that folder, and run again")
            if not self._written:
                # no chunk at all: still write a valid empty file
                pd.DataFrame().to_csv(self.tmp, index=False) if self.format == "csv" \
                    else pd.DataFrame().to_parquet(self.tmp)
            self.tmp.replace(self.path)

    def abort(self) -> None:
        """Drop the partial file; quietly, as it runs while another error is on its way."""
        try:
            if self._writer is not None:
                self._writer.close()
            self.tmp.unlink(missing_ok=True)
        except OSError:
            pass
