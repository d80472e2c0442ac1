"""The built-in table loader: CSV, Parquet or Excel, with column roles."""

from __future__ import annotations

import difflib
import json
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlstat_core.builtins.params import TableParams
from mlstat_core.components import ColumnRoles, Dataset, Loader
from mlstat_core.errors import DataError
from mlstat_core.io import (
    first_record,
    plain,
    quoted,
    read_table,
    require_table_columns,
    resolve_path,
    separator_hint,
    table_format,
    table_header,
)

if TYPE_CHECKING:
    from mlstat_core.errors import ConfigIssue

CATEGORICAL = "categorical"
"""The key of a Dataset's ``metadata`` that lists the input columns its loader read as
categories (`categorical`): the engine profiles them as categories for the drift check."""


def code_columns(dataset: Dataset) -> list[str]:
    """The columns the loader read as codes (``metadata[CATEGORICAL]``, core.table's
    `categorical`), as written in [loader]; none when the loader lists none."""
    declared = dataset.metadata.get(CATEGORICAL)
    return [str(c) for c in declared] if isinstance(declared, list | tuple) else []


def check_ids(frame: pd.DataFrame, column: str, path: Path) -> None:
    """Every record has an id and no id is used twice."""
    missing = frame[column].isna()
    if missing.all():
        raise DataError(f"id column {column!r} of {path} is empty; fill it with an identifier "
                        "per record, or remove `id` to number records by row")
    if missing.any():
        raise DataError(
            f"id column {column!r} of {path} has {int(missing.sum())} missing value(s) (first "
            f"at {first_record(frame, missing, None)}); give every record an id")
    duplicated = frame[column].duplicated()
    if duplicated.any():
        dup = plain(frame.loc[duplicated, column].iloc[0])
        raise DataError(f"id column {column!r} of {path} is not unique: {quoted(dup)} is used "
                        f"{int((frame[column] == dup).sum())} times; give every record its own id")


def check_weights(frame: pd.DataFrame, roles: ColumnRoles, path: Path) -> None:
    """Weights are numbers, present, not negative and not all zero."""
    column = roles.weights
    assert column is not None
    raw = frame[column]
    numbers = pd.to_numeric(raw, errors="coerce")
    fix = f"correct column {column!r} of {path}, or remove `weights` from [loader]"
    problems = [
        (numbers.isna() & raw.notna(), "value(s) that are not numbers"),
        (raw.isna(), "missing value(s)"),
        (numbers < 0, "negative value(s)"),
    ]
    for mask, what in problems:
        if mask.any():
            example = "" if what.startswith("missing") else f"{quoted(raw[mask].iloc[0])} "
            raise DataError(
                f"weights column {column!r} has {int(mask.sum())} {what} (first: {example}at "
                f"{first_record(frame, mask, roles.id)}); a weight must be a number >= 0: {fix}")
    if not (numbers > 0).any():
        raise DataError(f"weights column {column!r} is zero for every record, so no record "
                        f"counts: {fix}")


def check_groups(frame: pd.DataFrame, roles: ColumnRoles, path: Path) -> None:
    column = roles.groups
    assert column is not None
    missing = frame[column].isna()
    if missing.any():
        raise DataError(
            f"groups column {column!r} of {path} has {int(missing.sum())} missing value(s) "
            f"(first at {first_record(frame, missing, roles.id)}); give every record a group, "
            "or drop those records")


def table_dataset(frame, roles: ColumnRoles, path: Path, dropna_target: bool) -> Dataset:
    """Check a table against its declared roles and wrap it as a Dataset."""
    require_table_columns(frame, roles.all_columns(), path)
    if roles.target and dropna_target:
        missing = frame[roles.target].isna()
        if missing.any():
            warnings.warn(f"{int(missing.sum())} record(s) of {path} have no value in the target "
                          f"column {roles.target!r} (first at "
                          f"{first_record(frame, missing, roles.id)}) and are left out "
                          "(dropna_target); fill them in to use them", stacklevel=2)
            frame = frame[~missing]
    if frame.empty:
        raise DataError(f"data set {path} has no records" +
                        (" with a target value" if roles.target else ""))
    frame = frame.reset_index(drop=True)
    if roles.id:
        check_ids(frame, roles.id, path)
    if roles.weights:
        check_weights(frame, roles, path)
    if roles.groups:
        check_groups(frame, roles, path)
    for role in ("weights", "groups"):
        column = getattr(roles, role)
        if column and column in roles.input_columns():
            warnings.warn(f"column {column!r} is the {role} column and also an input of the "
                          "model; remove it from `features` unless that is intended",
                          stacklevel=2)
    return Dataset(frame=frame, roles=roles, name=path.stem, sources=[path])


NUMBER_SHARE = 0.9
"""A text column whose values are numbers at least this often (as written, or with a decimal
comma) is taken for a numeric column spoiled by a few codes: the loader warns."""

EXAMPLES = 3
"""How many of the values that are not numbers a warning shows."""

DECIMAL_COMMA = r"[+-]?\d*,\d+"
"""A number written with a decimal comma (``0,4272``), as a table may hold it as text."""

CODE_LENGTH = 12
"""Longest value offered as a missing-value code (``..``, ``n/a``, ``refused``); a longer one
is an error in the data, not a code."""


def spoiled_numbers(series: pd.Series, column: str, options: bool = True) -> str | None:
    """A warning for a column read as text (so the model takes it for categories) although at
    least :data:`NUMBER_SHARE` of its values are numbers; None for any other column. Without
    ``options`` (a Parquet file: its types are its own) the fix is to store numbers."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    # values as written (a blank cell of spaces is shown and declared as such), read as
    # numbers without their surrounding spaces
    counts = series.dropna().map(str).value_counts(sort=False)
    stripped = pd.Series(counts.index).str.strip()
    number = pd.to_numeric(stripped, errors="coerce").notna().to_numpy()
    comma = stripped.str.fullmatch(DECIMAL_COMMA).to_numpy() & ~number
    total, bad = int(counts.sum()), int(counts[~number].sum())
    if not bad or counts[number | comma].sum() < NUMBER_SHARE * total:
        return None
    shown = ", ".join(quoted(v) for v in counts.index[~number][:EXAMPLES])
    fixes = ["store the column as numbers in the file (missing-value codes as missing)"]
    if options:
        fixes = reading_fixes(counts, number, comma)
    return (f"column {column!r} holds numbers, but {bad:,} of its {total:,} values "
            f"{'is' if bad == 1 else 'are'} not a number as written (e.g. {shown}), so the "
            f"model takes the column for categories, not numbers: {'; '.join(fixes)}")


def reading_fixes(counts: pd.Series, number: np.ndarray, comma: np.ndarray) -> list[str]:
    """The loader settings that read the values that are not numbers (``counts`` of each
    value; ``number``: a number as written, ``comma``: with a decimal comma)."""
    fixes = []
    if comma.any():
        fixes.append(f"{int(counts[comma].sum()):,} have a decimal comma: set decimal = \",\" "
                     "in [loader] (and `sep` to the file's own)")
    others = list(counts.index[~number & ~comma])
    codes = [c for c in others if len(c) <= CODE_LENGTH][:EXAMPLES]
    if codes:
        fixes.append(f"declare missing-value codes with na_values = "
                     f"{json.dumps(codes, ensure_ascii=False)} in [loader], or correct the values")
    elif others:
        fixes.append("correct the values that are not numbers, or leave them empty")
    return fixes


LEADING_ZERO = r"[+-]?0\d"
"""A value written with a leading zero (``01``, ``007``): a code, whose zeros are part of it."""

BOOLEAN_TEXT = {"true": True, "false": False}


def typed_target(series: pd.Series, kind: str, decimal: str = ".") -> pd.Series:
    """The target read as text, typed as the pipeline asks: ``text`` as written; ``number``
    as numbers (a value that is not one is a ``DataError``); ``auto`` as numbers where every
    value is one, unless a value has a leading zero (``01`` and ``1`` are different codes,
    and ``007`` is not 7). True/false labels become booleans, as a CSV reader makes them;
    missing values stay missing."""
    if kind == "text" or not (pd.api.types.is_object_dtype(series)
                              or pd.api.types.is_string_dtype(series)):
        return series
    values = series.dropna().astype(str).str.strip()
    if kind == "auto" and values.str.match(LEADING_ZERO).any():
        return series
    if kind == "auto" and len(values) and values.str.lower().isin(BOOLEAN_TEXT).all():
        typed = values.str.lower().map(BOOLEAN_TEXT)
        return typed.astype(bool) if len(values) == len(series) else \
            typed.reindex(series.index).astype(object)
    written = values.str.replace(decimal, ".", regex=False) if decimal != "." else values
    numbers = pd.to_numeric(written, errors="coerce")
    if numbers.isna().any():
        if kind == "number":
            bad = values[numbers.isna()]
            raise DataError(f"target column {series.name!r} is to be read as numbers "
                            f"(target_type = \"number\"), but {len(bad):,} value(s) are not "
                            f"(e.g. {quoted(bad.iloc[0])} at data row {int(bad.index[0]) + 1}); "
                            "correct them, or set target_type to \"text\" or \"auto\"")
        return series  # labels, not numbers
    return pd.to_numeric(written.reindex(series.index)) if len(values) else series


ROLES = ("id", "target", "weights", "groups", "text", "features", "categorical")
"""The settings of [loader] that name columns, in the order a message names them."""


def declared_columns(params: TableParams) -> dict[str, str]:
    """Each column [loader] names, with the first setting (:data:`ROLES`) that names it."""
    declared: dict[str, str] = {}
    for role in ROLES:
        value = getattr(params, role)
        for column in value if isinstance(value, list) else [value] if value else []:
            declared.setdefault(column, role)
    return declared


def require_declared(frame: pd.DataFrame, params: TableParams, path: Path) -> None:
    """Every column [loader] names is in ``frame``: a DataError otherwise, with the
    separator to set when the header looks like another one's, else the closest column
    name to each missing one (a misspelling: ``age_haed`` for ``age_head``)."""
    declared = declared_columns(params)
    missing, hint, closest = missing_declared(params, path, list(frame.columns))
    if not missing:
        return
    if not hint:
        guesses = [f"{near!r} for {c!r} (`{declared[c]}`)" for c, near in closest.items()
                   if near]
        hint = f"; it has {listed_columns(list(frame.columns))}" + (
            f"; did you mean {', '.join(guesses)}? Correct the name(s) in [loader]"
            if guesses else "")
    raise DataError(lacks_text(path, missing) + hint)


def missing_declared(params: TableParams, path: Path, columns: list[Any],
                     skip: Iterable[str] = (),
                     how: Callable[[str, str], str | None] | None = None
                     ) -> tuple[list[str], str, dict[str, str | None]]:
    """The columns [loader] names that ``columns`` (the header of the file at ``path``)
    lack, those in ``skip`` left out; the separator hint when the CSV header looks separated
    by another separator (:func:`~mlstat_core.io.separator_hint`, ``how`` setting it; else
    empty); and, without such a hint, the closest column to each missing one (None when
    none is close). The one rule of the loader's read and of the header check."""
    skipped = set(skip)
    missing = [c for c in declared_columns(params) if c not in columns and c not in skipped]
    if not missing:
        return [], "", {}
    hint = separator_hint(path, params.encoding, params.sep, pd.DataFrame(columns=columns),
                          how) if table_format(path, params.format) == "csv" else ""
    closest = {} if hint else {c: closest_column(c, columns) for c in missing}
    return missing, hint, closest


def lacks_text(path: Path, missing: list[str]) -> str:
    """``<path> lacks declared column(s) 'a', 'b'``."""
    return f"{path} lacks declared column(s) {', '.join(map(repr, missing))}"


def closest_column(name: str, columns: Iterable[Any]) -> str | None:
    """The column whose name is closest to ``name`` (same letters in another case, else
    difflib's closest match), or None when none is close."""
    names = [str(c) for c in columns]
    folded = {c.casefold(): c for c in names}
    if name.casefold() in folded:
        return folded[name.casefold()]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.7)
    return close[0] if close else None


def listed_columns(columns: list[Any], limit: int = 30) -> str:
    """Column names for a message: the first ``limit``, then how many more."""
    shown = ", ".join(map(repr, columns[:limit]))
    return shown + (f" and {len(columns) - limit:,} more" if len(columns) > limit else "")


def categorical_problems(params: TableParams, features: list[str] | None
                         ) -> dict[str, tuple[str, str | None]]:
    """Each name of `categorical` that is no input column of the model, with the problem and
    the closest input's name (None when none is close). ``features`` are the inputs the
    model reads besides `text`; None where they are not known without the file (`features`
    empty: every column the other settings do not name), so that only the settings are
    compared."""
    roles = {getattr(params, role): role for role in ("groups", "weights", "id", "target")
             if getattr(params, role)}
    found: dict[str, tuple[str, str | None]] = {}
    for column in dict.fromkeys(params.categorical):
        role = roles.get(column)
        if column in params.text:
            found[column] = (
                f"column {column!r} is in both `categorical` and `text`: codes are read as "
                "categories, free text as words; list it in one of them", None)
        elif features is not None and column in features:
            continue
        elif role in ("id", "target"):
            if role == "id":
                keep = "an id is read as text already"
            elif params.target_type == "text":
                keep = "target_type = \"text\" reads the target's codes as written already"
            else:
                keep = "set target_type = \"text\" to read the target's codes as written"
            found[column] = (f"column {column!r} is the {role}, not an input of the model: "
                             f"`categorical` names inputs; remove it ({keep})", None)
        elif role is not None:
            listing = "list it in `features` too" if params.features else \
                "list every input column in `features`, this one included (`features` " \
                "empty reads every other column, but not this one)"
            found[column] = (
                f"column {column!r} is the {role} column, which the model reads only when "
                f"`features` lists it: {listing}, or remove it from `categorical`", None)
        elif features is not None:
            near = closest_column(column, features)
            found[column] = (
                f"column {column!r} of `categorical` is not an input of the model: `features` "
                f"lists {listed_columns(features)}; add it to `features`, or correct the name",
                near)
    return found


def header_issues(params: TableParams, base_dir: Path, skip: Iterable[str] = (),
                  how: Callable[[str, str], str | None] | None = None) -> list[ConfigIssue]:
    """The columns [loader] names that the header of its file lacks (those in ``skip``, said
    otherwise already, left out), one issue each with the closest name in the header; one
    issue on `sep` instead when the header looks separated by another separator. Only the
    header is read (:func:`~mlstat_core.io.table_header`): a file that is missing, empty or
    cannot be read is left to the path check and to the loader, which say why. ``how``
    says how the user sets `sep` (:func:`~mlstat_core.io.separator_hint`'s; by default the
    pipeline file's setting)."""
    from mlstat_core.errors import ConfigIssue
    from mlstat_core.inputs import is_url

    if is_url(params.path):
        return []
    path = resolve_path(params.path, base_dir)
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return []
    except OSError:
        return []
    header = table_header(path, params.format, params.encoding, params.sep, params.sheet)
    if not header:
        return []
    missing, hint, closest = missing_declared(params, path, header, skip, how)
    if hint:
        return [ConfigIssue("", "sep", lacks_text(path, missing) + hint)]
    declared = declared_columns(params)
    return [ConfigIssue("", declared[column], f"column {column!r} is not in the header of "
                        f"{path}" + ("" if near else f"; its columns are {listed_columns(header)}"),
                        near) for column, near in closest.items()]


class TableLoader(Loader):
    """Loads one table and assigns column roles; every other column is a feature by default.

    The id column is read as text, so identifiers such as ``00123`` keep their leading zeros;
    so is a target with such codes (see :func:`typed_target`), and so are the `categorical`
    columns, codes written as numbers that the models then take for categories."""

    params: TableParams

    def load(self, base_dir: Path) -> Dataset:
        p = self.params
        path = resolve_path(p.path, base_dir)
        named = [c for c in (p.id, p.target, p.weights, p.groups) if c] + list(p.text)
        # the target: see typed_target; codes written as numbers are text as written (a
        # Parquet column of 11.0 with gaps gives "11": see mlstat_core.io.as_text)
        as_text = {c: str for c in (p.id, p.target, *p.categorical) if c}
        frame = read_table(path, format=p.format, encoding=p.encoding, sep=p.sep, sheet=p.sheet,
                           dtype=as_text or None, na_values=list(p.na_values),
                           decimal=p.decimal)
        require_declared(frame, p, path)
        if p.target and p.target in frame.columns:
            frame[p.target] = typed_target(frame[p.target], p.target_type, p.decimal)
        features = list(p.features) or [c for c in frame.columns if c not in named]
        problems = categorical_problems(p, features)
        if problems:
            raise DataError("; ".join(
                f"[loader] {message}" + (f" (did you mean {near!r}?)" if near else "")
                for message, near in problems.values()))
        roles = ColumnRoles(id=p.id, target=p.target, features=features, text=list(p.text),
                            weights=p.weights, groups=p.groups)
        dataset = table_dataset(frame, roles, path, p.dropna_target)
        # the engine profiles them as categories for the drift check, whatever their number
        dataset.metadata[CATEGORICAL] = list(dict.fromkeys(p.categorical))
        options = table_format(path, p.format) != "parquet"  # na_values, decimal apply
        for column in features:
            if column in p.categorical:
                continue  # read as categories, as asked
            message = spoiled_numbers(dataset.frame[column], column, options)
            if message:
                warnings.warn(message, stacklevel=2)
        return dataset
