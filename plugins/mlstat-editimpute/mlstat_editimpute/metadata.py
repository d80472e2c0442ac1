"""Variable metadata: type, unit, allowed range, whether a variable may be imputed, and its
reliability weight for error localisation; read from a CSV, Parquet, Excel or JSON file."""

from __future__ import annotations

import csv
import json
import math
import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.builtins.loaders import DECIMAL_COMMA
from mlstat_core.errors import DataError
from mlstat_core.excel import sheet_names as workbook_sheets
from mlstat_core.io import (
    THOUSANDS_COMMA,
    THOUSANDS_POINT,
    first_record,
    not_settable,
    read_table,
    table_format,
)

TYPES = ("numeric", "integer", "categorical")


@dataclass
class VariableInfo:
    """What the survey knows about one variable before looking at the data."""

    name: str
    type: str = "numeric"
    unit: str = ""
    min: float | None = None
    max: float | None = None
    imputable: bool = True
    weight: float = 1.0
    description: str = ""
    guessed: bool = False
    """The type was guessed from the data, not declared: it makes no hard edit (a variable
    declared ``integer`` must hold whole numbers; one that happens to is not held to it)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "y", "t"):
        return True
    if text in ("false", "no", "0", "n", "f"):
        return False
    raise DataError(f"{where}: {value!r} is not true or false")


def _number(value: Any, where: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        comma = isinstance(value, str) and re.search(r"\d,\d", value)
        raise DataError(f"{where}: {value!r} is not a number" + (
            "; write it with '.' as the decimal mark and without thousands separators (0.5, "
            "1000)" if comma else "")) from None
    return None if math.isnan(number) else number


def _weight(value: Any, where: str) -> float:
    """A metadata reliability weight: 1 for a blank cell; DataError for one not above 0."""
    weight = _number(value, where)
    if weight is None:
        return 1.0
    if weight <= 0:
        raise DataError(f"{where}: weight {weight:g} is not positive; give a weight above 0 "
                        "(higher: less likely to be changed), or leave the cell blank for 1")
    return weight


SEPARATORS = (",", ";", "\t", "|")
"""Separators a metadata CSV may use; the one in use is sniffed from the file."""


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise DataError(f"metadata file {path} does not exist; check the loader's `metadata` "
                        "path (relative paths are resolved against the pipeline file's folder)")
    if not path.is_file():
        raise DataError(f"metadata path {path} is a folder, not a file")
    if path.stat().st_size == 0:
        raise DataError(f"metadata file {path} is empty")


def sniff_separator(path: Path, encoding: str = "utf-8") -> str:
    """The separator of a metadata CSV: the one that splits its header into a ``variable``
    column, else what :class:`csv.Sniffer` finds, else a comma."""
    encoding = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") \
        else encoding
    with path.open(encoding=encoding, errors="replace") as handle:
        sample = handle.read(20_000)
    header = sample.splitlines()[0] if sample else ""
    for sep in SEPARATORS:
        if "variable" in (c.strip().strip('"').strip().lower() for c in header.split(sep)):
            return sep
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        return ","


def _json_frame(path: Path, encoding: str) -> pd.DataFrame:
    """A JSON metadata file, in the data's ``encoding`` (UTF-8 with or without a byte order
    mark, as Windows Notepad saves it): a list of objects, or an object of objects keyed by
    variable name."""
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        raw = json.loads(path.read_bytes().decode(codec))
    except UnicodeDecodeError:
        raise DataError(f"metadata file {path} is not valid {encoding} text; save it as UTF-8 "
                        "or set the loader's `encoding` (for example encoding = \"cp1250\")"
                        ) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"metadata file {path} is not valid JSON: {exc}") from None
    entries = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else [raw]
    if not all(isinstance(e, dict) for e in entries):
        raise DataError(f"metadata file {path} must hold a list of objects (one per variable, "
                        'with "variable", "type", "min", ...) or an object of such objects '
                        "keyed by variable name")
    records = raw if isinstance(raw, list) else [{"variable": k, **v} for k, v in raw.items()]
    return pd.DataFrame(records)


def _frame(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    _check_exists(path)
    if path.suffix.lower() == ".json":
        return _json_frame(path, encoding)
    if table_format(path) == "csv":
        return read_table(path, sep=sniff_separator(path, encoding), encoding=encoding,
                          how=lambda option, example: f"set the loader's `encoding` (for "
                          f"example encoding = \"{example}\")" if option == "encoding"
                          else None)
    return read_table(path, how=not_settable)


COLUMNS = ("variable", "type", "unit", "min", "max", "imputable", "weight", "description")
"""The columns a metadata table may have; others are ignored."""
EDITING_COLUMNS = ("type", "min", "max", "imputable", "weight")
"""The metadata columns that change what editing may do."""


VARIANTS = {
    "minimum": "min", "minval": "min", "minvalue": "min", "mins": "min",
    "maximum": "max", "maxval": "max", "maxvalue": "max", "maxs": "max", "maxes": "max",
    "types": "type", "imputeable": "imputable", "imputables": "imputable",
    "weights": "weight",
}
"""Other spellings of the metadata columns that change editing (compared in lower case,
without spaces, ``_`` or ``-``): a column so named is refused, as its values would be
silently ignored. Only clear variants: an ordinary extra column (``domain``, ``median``,
``table``) is no misspelling and is ignored, as any other."""


def _variant(name: str) -> str | None:
    """The editing column ``name`` (a column name in lower case) is a clear variant of
    (``maximum``, ``imputeable``, ``types``, ``max_``), or None."""
    if name in COLUMNS:
        return None
    key = re.sub(r"[\s_-]+", "", name)
    return key if key in EDITING_COLUMNS else VARIANTS.get(key)


def _read_columns(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``frame`` with its column names in lower case, without surrounding spaces (a SAS
    export's ``MIN``, ``MAX``, ``IMPUTABLE``). A column named as a clear variant of one that
    changes editing (:data:`VARIANTS`: ``maximum``, ``imputeable``) is refused: its values
    would be silently ignored; other columns (notes, labels, ``domain``) are ignored."""
    names = [str(c).strip().lower() for c in frame.columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DataError(f"metadata file {path} has more than one column named {twice[0]!r} "
                        "(ignoring case); keep one")
    for name in names:
        meant = _variant(name)
        if meant:
            raise DataError(f"metadata file {path} has a column {name!r}, which is not read: "
                            f"did you mean {meant!r}? The columns read are "
                            f"{', '.join(COLUMNS)}: rename it, or remove it if it means "
                            "something else")
    return frame.set_axis(names, axis=1)


def sheet_names(path: Path, declared: str | None = None) -> list[str]:
    """The sheets of an Excel workbook (none for a file of another format; ``declared``: the
    format a loader's ``format`` names)."""
    if declared is None and path.suffix.lower() == ".json" or \
            table_format(path, declared) != "excel":
        return []
    return list(map(str, workbook_sheets(path)))


def _other_sheets(path: Path) -> str:
    """``; it was read from the first ...`` for an Excel workbook of several sheets (the
    metadata's sheet cannot be chosen); else empty."""
    names = sheet_names(path)
    if len(names) < 2:
        return ""
    return (f"; it was read from the first of the workbook's sheets "
            f"({', '.join(map(repr, names))}): put the metadata on the first sheet")


def read_metadata(path: Path, encoding: str = "utf-8") -> dict[str, VariableInfo]:
    """Read a metadata table with a ``variable`` column and optional ``type``, ``unit``,
    ``min``, ``max``, ``imputable``, ``weight`` and ``description`` columns (a CSV may be
    separated by commas, semicolons, tabs or bars; it is in the data's ``encoding``)."""
    frame = _read_columns(_frame(path, encoding), path)
    if "variable" not in frame.columns:
        columns = list(map(str, frame.columns))
        seps = [name for sep, name in ((";", "';'"), ("\t", "tab")) if sep in columns[0]]
        hint = (f"; its header looks {seps[0]}-separated but names no 'variable' column"
                if len(columns) == 1 and seps else _other_sheets(path))
        raise DataError(f"metadata file {path} needs a 'variable' column; it has "
                        f"{', '.join(columns)}{hint}")
    out: dict[str, VariableInfo] = {}
    for i, row in frame.iterrows():
        if row.isna().all():  # a blank line between blocks of a hand-written file
            continue
        if pd.isna(row["variable"]) or not str(row["variable"]).strip():
            raise DataError(f"{path} row {int(i) + 2}: the variable name is blank; fill it in "
                            "or delete the row")
        name = unicodedata.normalize("NFC", str(row["variable"]).strip())  # as data columns
        where = f"{path} row {int(i) + 2} ({name})"
        if name in out:
            raise DataError(f"{where}: variable {name!r} is described twice; keep one row")
        kind = row.get("type")
        kind = "numeric" if kind is None or pd.isna(kind) or not str(kind).strip() \
            else str(kind).strip().lower()  # a blank type: a measurement, as no type column
        if kind not in TYPES:
            raise DataError(f"{where}: type {kind!r} is not one of {', '.join(TYPES)}")
        info = VariableInfo(
            name=name, type=kind,
            unit="" if pd.isna(row.get("unit", "")) else str(row.get("unit", "")),
            min=_number(row.get("min"), where), max=_number(row.get("max"), where),
            imputable=_bool(row.get("imputable", True), where),
            weight=_weight(row.get("weight"), where),
            description="" if pd.isna(row.get("description", "")) else
            str(row.get("description", "")))
        if info.min is not None and info.max is not None and info.min > info.max:
            raise DataError(f"{where}: min {info.min} is above max {info.max}")
        out[name] = info
    return out


def _kind(info: VariableInfo | dict[str, Any] | None) -> str:
    if isinstance(info, VariableInfo):
        return info.type
    return str((info or {}).get("type") or "numeric")


def point_in_comma_file(series: pd.Series, every: bool = False) -> str | None:
    """A value such as ``1.300`` (or ``1.300,50``) of a column read as text with ``decimal =
    ","``: shaped as a number with ``.`` between thousands, which read as a decimal point
    would make 1.300 1.3 (a date ``01.02.2020``, a code ``01.1.1`` or ``1.2`` is not); with
    ``every``, only where every value of the column is a number so read (a column that is
    not declared, which is otherwise left out of editing); None for any other column. A value
    with a decimal comma is preferred: it shows the point is between thousands."""
    if pd.api.types.is_numeric_dtype(series):
        return None
    values = series.dropna().astype(str).str.strip()
    grouped = values[values.str.fullmatch(THOUSANDS_POINT)]
    if grouped.empty or every and pd.to_numeric(
            values.str.replace(".", "", regex=False).str.replace(",", ".", regex=False),
            errors="coerce").isna().any():
        return None
    commas = grouped[grouped.str.contains(",", regex=False)]
    return str((commas if len(commas) else grouped).iloc[0])


def numeric_frame(frame: pd.DataFrame, variables: list[str], what: str = "data",
                  infos: dict[str, Any] | None = None, decimal: str = ".",
                  new_records: bool = False) -> pd.DataFrame:
    """The variables as float columns; DataError naming the column for text in a number
    (``infos``: the variables' metadata, to explain that categories must be numeric codes).
    With ``decimal = ","`` a column read as text (a code such as ``-`` among its numbers)
    has its numbers' decimal commas read as pandas reads them in a column of numbers only,
    so that the code, not ``0,4``, is named. With ``new_records`` (a saved model scoring a
    file that ``mlstat predict --decimal`` may have read with another mark) a value such as
    ``1,300``, 1.3 or 1300 by the mark, is refused rather than read as 1.3."""
    missing = [v for v in variables if v not in frame.columns]
    if missing:
        raise DataError(f"the {what} lacks variable(s) {', '.join(map(repr, missing))}; it has "
                        f"{', '.join(map(repr, list(frame.columns)[:30]))}")
    out = {}
    for v in variables:
        col = frame[v]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            if decimal == ",":
                example = point_in_comma_file(col)
                if example is not None:  # read as a decimal point, 1.300 would be 1.3
                    raise DataError(
                        f"column {v!r} of the {what} holds {example!r}, a number written with "
                        "'.' where the data's decimal mark is ',': a '.' between thousands "
                        "(1.300 for 1300) or a decimal point, which cannot be told apart; "
                        "save the column without thousands separators, with ',' as its only "
                        "decimal mark" + ("; or, if '.' is this file's decimal mark, score it "
                                          "with `mlstat predict --decimal .`"
                                          if new_records else ""))
                text = col.astype(str).str.strip()
                ambiguous = col.notna() & text.str.fullmatch(THOUSANDS_COMMA)
                if new_records and ambiguous.any():
                    value = text[ambiguous].iloc[0]
                    raise DataError(
                        f"column {v!r} of the {what} holds {value!r}, which is "
                        f"{float(value.replace(',', '.')):g} with the decimal comma the model "
                        f"was trained with and {float(value.replace(',', '')):g} with ',' "
                        "between thousands: save the column without thousands separators")
                col = with_decimal_points(col)
            converted = pd.to_numeric(col, errors="coerce")
            bad = col.notna() & converted.isna()
            # the file's data row (records keep their row as index label in chunks and splits)
            where = f"first at {first_record(frame, bad, None, by_label=True)}" \
                if bad.any() else ""
            if bad.any() and _kind((infos or {}).get(v)) == "categorical":
                shown = list(dict.fromkeys(col[bad].astype(str)))[:2]
                codes = ", ".join(f"{i} = {c}" for i, c in enumerate(shown, 1))
                fix = ("the model was trained on numeric codes: write the column in the file "
                       "with the codes it was trained with" if new_records else
                       f"categorical variables must be numeric codes (e.g. {codes}): recode "
                       f"the column, or leave {v!r} out of the metadata (or the loader's "
                       "`variables`)")
                raise DataError(
                    f"categorical variable {v!r} of the {what} holds text such as "
                    f"{shown[0]!r} ({int(bad.sum())} value(s), {where}); {fix}")
            formatted = _formatted_numbers(col[bad])
            if formatted is not None:
                raise DataError(
                    f"column {v!r} of the {what} holds numbers written with a currency sign, "
                    f"spaces or separators between digits (such as {formatted!r}, "
                    f"{int(bad.sum())} value(s), {where}), read as text: store them as plain "
                    "numbers "
                    "(1234.5) in the file")
            shown = list(dict.fromkeys(col[bad].astype(str)))[:2]
            if len(shown) > 1 and bad.sum() > 0.5 * col.notna().sum():
                codes = ", ".join(f"{i} = {c}" for i, c in enumerate(shown, 1))
                fix = (f"write {v!r} in the file as the numbers the model was trained with, "
                       f"or retrain the model without {v!r}" if new_records else
                       f"recode the column as numeric codes (e.g. {codes}) and declare it "
                       f"categorical in the metadata, or leave {v!r} out of the metadata, the "
                       "loader's `variables` and the edit rules")
                raise DataError(  # categories, not missing-value codes
                    f"column {v!r} of the {what} holds text such as {shown[0]!r} and "
                    f"{shown[1]!r} in {int(bad.sum())} of its {int(col.notna().sum())} "
                    f"values ({where}); editing works on numbers: {fix}")
            if bad.any():
                first = col[bad].iloc[0]
                raise DataError(
                    f"column {v!r} of the {what} should be numeric but holds text such as "
                    f"{first!r} ({int(bad.sum())} value(s), {where}); "
                    + _missing_code_fix(first, new_records))
            col = converted
        out[v] = col.astype(float)
    return pd.DataFrame(out, index=frame.index)


def with_decimal_points(col: pd.Series) -> pd.Series:
    """A text column with its numbers' decimal commas (``1,5``) made points, as pandas reads
    them in a column of numbers only; other values (codes such as ``-``) as they are."""
    text = col.astype(str).str.strip()
    return col.mask(col.notna() & text.str.fullmatch(DECIMAL_COMMA),
                    text.str.replace(",", ".", regex=False))


def as_numbers(col: pd.Series, decimal: str = ".") -> np.ndarray:
    """A column's values as floats read with the ``decimal`` mark (``1,5`` is 1.5 with
    ``","``); NaN where a value is not a number."""
    if decimal == "," and not pd.api.types.is_numeric_dtype(col):
        col = with_decimal_points(col)
    return pd.to_numeric(col, errors="coerce").to_numpy(float)


def _missing_code_fix(code: Any, new_records: bool) -> str:
    """How to mend text in a numeric column, ``code`` perhaps meaning missing: when training,
    the loader's ``na_values``; when a saved model scores new records (``mlstat predict``
    applies the training loader's ``na_values`` and has no option to add one), blanking it in
    the file, or retraining with it in ``na_values``."""
    listed = f"na_values = [{json.dumps(str(code))}]"
    if new_records:
        return (f"fix or blank these values in the file before scoring it, or, if {code!r} "
                "is a code for a missing value, retrain the model with it in the loader's "
                f"`na_values` ({listed}), which predict applies too")
    return (f"fix or blank these values, or, if {code!r} is a code for a missing value, list "
            f"it in the loader's `na_values` ({listed})")


_NUMBER_DRESS = r"[\s\u00a0\u202f'\u2019,\u00a3$\u20ac\u00a5]"
"""What dresses a number as text: spaces (also no-break), apostrophes and commas between
digits, currency signs (``£1 300``, ``1'300``, ``$1,300.50``)."""


def plain_numbers(text: pd.Series) -> pd.Series:
    """``text`` with spaces, separators and currency signs removed, as numbers (NaN where
    that is not a number)."""
    return pd.to_numeric(text.astype(str).str.strip().str.replace(_NUMBER_DRESS, "",
                                                                  regex=True), errors="coerce")


def _formatted_numbers(bad: pd.Series) -> str | None:
    """A value of ``bad`` (text that is not a number) when most of them are numbers once
    spaces, separators and currency signs are removed: numbers formatted for reading, not
    missing-value codes; else None."""
    text = bad.astype(str).str.strip()
    numbers = plain_numbers(text).notna() & text.str.contains(_NUMBER_DRESS, regex=True)
    return str(text[numbers].iloc[0]) if len(text) and numbers.mean() > 0.5 else None


def default_info(name: str, values: pd.Series) -> VariableInfo:
    """Metadata guessed from the data when the survey gives none (``guessed``: its type makes
    no hard edit)."""
    observed = values.dropna()
    integer = bool(len(observed)) and bool(np.all(np.mod(observed, 1) == 0))
    return VariableInfo(name=name, type="integer" if integer else "numeric", guessed=True)
