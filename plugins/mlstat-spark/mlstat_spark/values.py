"""Where a CSV value Spark could not read lies: its column and data row, as the local engine
names them.

Spark reads a local CSV file with the column types pandas gives its first records (see
``SparkEngine.read``), in ``FAILFAST`` mode: a later value that does not fit its column's type
(``abc`` in a column of numbers) fails the job with the record's values only. On that failure,
and only then, the driver reads the file again with pandas, chunk by chunk (memory bounded by
the chunk size), up to the first value that does not fit, so that the message names the
column, examples and the data row, counting from 1 as the local engine does.
"""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from mlstat_core.errors import DataError

SPARK_SCAN_SECONDS = 60.0
"""How long the driver looks for the value on a failure before giving the record only."""

WHAT = {"long": "whole numbers", "double": "numbers", "boolean": "true or false"}
"""What Spark reads a column of each kind as, for messages."""

_LONG = re.compile(r"[+-]?\d+")
_DOUBLE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?"
                     r"|[+-]?(NaN|Inf|Infinity)")
_INF = re.compile(r"[+-]?Inf")
_INT64 = 2 ** 63

JAVA_SPACE = "".join(chr(code) for code in range(33))
"""What Java's ``String.trim`` removes around a value (spaces, tabs, control characters):
Spark's CSV reader reads a number with ``Double.parseDouble``, which trims them, but a whole
number (``Long.parseLong``) or ``true`` and ``false`` as written (checked with Spark 4:
``" 45"`` and ``"true "`` fail in columns of whole numbers and of true or false, ``" 45"``
and ``" 4.5 "`` read as numbers, ``" Inf"`` does not)."""

NA_WORDS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})
"""The words ``pandas.read_csv`` reads as missing by default (its documented ``na_values``
defaults), which the local engine reads as missing and Spark does not."""


def fits(text: str, kind: str) -> bool:
    """Whether Spark's CSV reader reads ``text`` as a value of ``kind`` (``long``,
    ``double``, ``boolean``): digits for whole numbers (within 64 bits, no spaces around
    them), a decimal number (spaces around it allowed), ``NaN`` or ``Inf`` for numbers,
    ``true`` or ``false`` in any case (no spaces around them)."""
    if kind == "long":
        return bool(_LONG.fullmatch(text)) and -_INT64 <= int(text) < _INT64
    if kind == "double":
        value = text.strip(JAVA_SPACE)
        return bool(_DOUBLE.fullmatch(value)) and (value == text or not _INF.fullmatch(value))
    if kind == "boolean":
        return text.lower() in ("true", "false")
    return True


def padded(text: str, kind: str) -> bool:
    """Whether ``text`` is a value of ``kind`` with spaces around it that Spark does not
    remove (see :data:`JAVA_SPACE`): ``" 45"`` in a column of whole numbers."""
    return not fits(text, kind) and text != text.strip() and fits(text.strip(), kind)


def unfit(series: pd.Series, kind: str) -> pd.Series:
    """Which values of ``series`` (text as written in the file; empty fields missing) Spark
    cannot read as ``kind`` (see :func:`fits`), with vectorised string matching."""
    present = series.notna()
    text = series.where(present, "0").astype(str)
    if kind == "boolean":
        fitting = text.str.lower().isin(["true", "false"])
    elif kind == "long":
        fitting = text.str.fullmatch(_LONG.pattern).astype(bool)
        long = fitting & (text.str.len() > 18)  # beyond 64 bits, perhaps
        if long.any():
            fitting[long] = [fits(v, kind) for v in text[long]]
    elif kind == "double":
        trimmed = text.str.strip(JAVA_SPACE)
        fitting = trimmed.str.fullmatch(_DOUBLE.pattern).astype(bool) & \
            ~((trimmed != text) & trimmed.str.fullmatch(_INF.pattern).astype(bool))
    else:
        return pd.Series(False, index=series.index)
    return present & ~fitting


def locate_unfit_value(path: str | Path, kinds: dict[str, str], *, what: str,
                       numeric_inputs: set[str], model_columns: set[str], chunk_size: int,
                       encoding: str = "utf-8", sep: str | None = None,
                       dtype: dict[str, Any] | None = None, typed_from: int = 10_000,
                       seconds: float = SPARK_SCAN_SECONDS) -> DataError | None:
    """The error for the first value of a local CSV file that does not fit the type Spark
    reads its column as (``kinds``: column -> ``long``, ``double``, ``boolean`` or
    ``string``), naming the column, examples, the data row and the fix; for a file pandas
    finds records of the wrong length in, that; None when nothing is found within
    ``seconds`` (the caller keeps Spark's own account of the record).

    ``numeric_inputs``: the columns the model learned as numbers (their message is the local
    engine's); ``model_columns``: every column the model reads; ``typed_from``: how many first
    records the column types came from. The file is read as text, chunk by chunk
    (``chunk_size`` records, as the local engine reads it: a count of values is the chunk's)."""
    from mlstat_core.io import SHORT_RECORD_CAUSES, header_fields, iter_table, short_records

    typed = [c for c, k in kinds.items() if k in WHAT]
    if not typed:
        return None
    deadline = time.monotonic() + seconds
    as_text = {**(dtype or {}), **dict.fromkeys(typed, str)}
    with warnings.catch_warnings():  # the read's own warnings are the local engine's
        warnings.simplefilter("ignore")
        try:
            for chunk in iter_table(path, chunk_size, encoding=encoding, sep=sep,
                                    dtype=as_text, keep_default_na=False):
                for column in typed:
                    if column not in chunk.columns:
                        continue
                    bad = unfit(chunk[column], kinds[column])
                    if bad.any():
                        return unfit_error(chunk[column], bad, kinds[column], what=what,
                                           numeric=column in numeric_inputs,
                                           read=column in model_columns, typed_from=typed_from)
                if time.monotonic() > deadline:
                    return None
        except DataError as exc:  # records pandas cannot split either: its message names them
            return DataError(str(exc) if str(path) in str(exc) else f"{what}: {exc}")
    header = header_fields(path, encoding, sep)
    found = short_records(path, encoding, sep, header) if header and len(header) > 1 else None
    if found:
        return DataError(
            f"{what}: {found.count:,} record(s) have fewer fields than the header's "
            f"{found.named} (the first: {found.first!r}), which Spark refuses; "
            f"{SHORT_RECORD_CAUSES}, or score the file with the local engine, which reads the "
            "missing fields as empty")
    return None


SPARK_DECIMAL_COMMA = ("score the file with the local engine (--decimal ','; Spark's CSV "
                       "reader has no decimal comma), or give the input as Parquet with these "
                       "columns as numbers")
"""How to read numbers written with a decimal comma when Spark reads the file."""


def unfit_error(series: pd.Series, bad: pd.Series, kind: str, *, what: str, numeric: bool,
                read: bool, typed_from: int) -> DataError:
    """One message for the values of ``series`` flagged ``bad``: the local engine's words
    for a column the model learned as numbers (``mlstat_core.sklearn_model``'s
    ``non_numeric_error``), with the fix that works on Spark."""
    from mlstat_core.io import first_record, quoted
    from mlstat_core.sklearn_model import CORRECT_OR_EMPTY, comma_advice, non_numeric_error

    column = series.name
    values = series[bad]
    words = [v for v in values.unique()[:20] if str(v).strip() in NA_WORDS]
    spaces = [v for v in values.unique()[:20] if padded(str(v), kind)]
    spaces_only = bool(spaces) and len(spaces) == len(values.unique()[:20])
    whole = kind == "long" and pd.to_numeric(values, errors="coerce").notna().all()
    if kind != "boolean" and (comma := comma_advice(values, SPARK_DECIMAL_COMMA)):
        fix = comma
    elif words:
        fix = (f"Spark reads only empty fields as missing, not {quoted(words[0])} (the local "
               "engine reads pandas' missing-value words too): leave them empty, or give the "
               "input as Parquet")
    elif spaces_only:
        fix = ("Spark's CSV reader does not remove spaces before or after true or false"
               if kind == "boolean" else "Spark's CSV reader does not remove spaces before or "
               "after whole numbers (the local engine reads them as numbers)")
        fix += ": remove the spaces, or give the input as Parquet"
    elif whole:
        fix = (f"its first {typed_from:,} records hold whole numbers only, so Spark reads the "
               "column as whole numbers (the local engine types each chunk apart): give the "
               "input as Parquet, or score it with the local engine")
    elif not read:
        fix = (f"the model does not read this column, but Spark reads every record with the "
               f"types of the first {typed_from:,} ({WHAT[kind]} here): drop the column or "
               "correct its values, give the input as Parquet, or score it with the local "
               "engine")
    else:
        fix = CORRECT_OR_EMPTY
    if numeric and kind != "boolean":
        # 1.5 is no whole number; ' 45' is one that Spark cannot read
        problem = (f"Spark cannot read as {WHAT[kind]}" if spaces_only else
                   f"are not {WHAT[kind] if whole else 'numbers'}")
        return non_numeric_error(series.to_frame(), str(column), bad.to_numpy(), what, fix,
                                 problem=problem)
    examples = ", ".join(quoted(v) for v in values.unique()[:3])
    where = f"first at {first_record(series.to_frame(), bad.to_numpy(), None, by_label=True)}"
    return DataError(f"{what}: column {column!r} was read as {WHAT[kind]} (from its first "
                     f"{typed_from:,} records) but has {int(bad.sum()):,} value(s) that are "
                     f"not, e.g. {examples} ({where}); {fix}")
