"""Loaders: survey microdata with variable metadata, and the bundled UK budget data.

What the Dataset carries for the rest of the pipeline (``metadata``):

- ``variables``: {name: VariableInfo as dict} for every variable to edit and impute;
- ``edit_rules``: the loader's edit rules (the model adds its own);
- ``decimal``: the file's decimal mark, which the model reads new records with;
- when errors were injected: ``truth`` (the clean values, same index), ``injected_mask``
  (True for each damaged cell), ``injected_kind`` (the kind of error per cell) and
  ``injection`` (a summary). The core's ``imputation_accuracy`` indicator reads ``truth``.
"""

from __future__ import annotations

import datetime
import json
import re
import unicodedata
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from mlstat_core.builtins.loaders import DECIMAL_COMMA, check_ids, check_weights
from mlstat_core.components import ColumnRoles, Dataset, Loader
from mlstat_core.errors import ConfigError, DataError, MlstatError
from mlstat_core.excel import chosen_sheet
from mlstat_core.io import (
    decimal_commas,
    loader_setting,
    read_table,
    require_table_columns,
    resolve_path,
    separator_hint,
    table_format,
    thousands_commas,
)
from mlstat_editimpute.inject import check_injected, inject_errors
from mlstat_editimpute.metadata import (
    VariableInfo,
    default_info,
    numeric_frame,
    plain_numbers,
    point_in_comma_file,
    read_metadata,
    sheet_names,
)
from mlstat_editimpute.params import BudgetParams, SurveyParams
from mlstat_editimpute.rules import RuleSet, closest_name

DATA_DIR = Path(__file__).parent / "data"


def build_dataset(frame: pd.DataFrame, path: Path, infos: dict[str, VariableInfo],
                  variables: list[str], params: SurveyParams | BudgetParams,
                  id_col: str | None = None, weights: str | None = None,
                  sources: list[Path] | None = None) -> Dataset:
    """Check the table against its metadata and rules, inject errors, wrap as a Dataset."""
    if frame.empty:
        raise DataError(f"data set {path} has no records")
    numeric = numeric_frame(frame, variables, what=f"data set {path.name}", infos=infos,
                            decimal=getattr(params, "decimal", "."))
    for v in variables:
        if numeric[v].isna().all():
            where = ("the loader's `variables`" if params_variables(params) else
                     "the metadata (or list the variables to edit in the loader's "
                     "`variables`)" if v in infos else "the data, or list the variables to "
                     "edit in the loader's `variables`")
            raise DataError(f"variable {v!r} of {path} has no value at all (every record is "
                            f"missing); it cannot be edited or imputed: drop it from {where}")
        infos.setdefault(v, default_info(v, numeric[v]))
    frame = frame.copy()
    frame[variables] = numeric
    roles = ColumnRoles(id=id_col, features=list(variables), weights=weights)
    if id_col:
        check_ids(frame, id_col, path)  # present, filled in and unique, as core.table checks
    if weights:
        check_weights(frame, roles, path)  # numbers, present, >= 0, not all 0: as core.table
    rules = RuleSet.parse(list(params.rules))
    rules.check_variables(list(frame.columns), where=f"data set {path.name}")
    frame = frame.reset_index(drop=True)
    metadata: dict = {"variables": {v: infos[v].as_dict() for v in variables},
                      "edit_rules": list(params.rules),
                      "decimal": getattr(params, "decimal", ".")}
    if params.inject:
        specs = [s.model_dump() for s in params.inject]
        inj = inject_errors(frame[variables], specs, seed=params.inject_seed)
        frame[variables] = inj.frame
        metadata.update(truth=inj.truth, injected_mask=inj.mask, injected_kind=inj.kinds,
                        injection={"seed": params.inject_seed, "specs": specs,
                                   "cells": inj.summary})
    return Dataset(frame=frame, roles=roles, name=path.stem, sources=sources or [path],
                   metadata=metadata)


def params_variables(params: SurveyParams | BudgetParams) -> list[str]:
    """The variables the loader's params name (none for the bundled data)."""
    return list(getattr(params, "variables", []) or [])


def read_survey(path: Path, p: SurveyParams, infos: dict[str, VariableInfo] | None = None
                ) -> pd.DataFrame:
    """The microdata file, read with the loader's options; the id column, and every column
    carried through unedited where the variables are known (the loader's, else the
    metadata's), as text, so that ids such as ``00017`` and codes such as ``01`` keep their
    leading zeros in ``edited.csv`` (an Excel column of dates is left to pandas, written as
    dates). A declared column (id, weights, variables) missing from a CSV file whose header
    holds another separator gets the ``sep`` to set."""
    declared = [c for c in (p.id, p.weights) if c] + list(p.variables)
    fmt = table_format(path, p.format)
    head = None if fmt == "parquet" else _head(path, p, fmt)  # a Parquet column is typed
    frame = read_table(path, format=p.format, encoding=p.encoding, sep=p.sep, sheet=p.sheet,
                       dtype=text_columns(head, p, infos or {}),
                       na_values=list(p.na_values), decimal=p.decimal,
                       columns=None if fmt == "excel" else declared)
    if fmt == "excel":  # a title above the header: say so, not only which columns lack
        try:
            require_table_columns(frame, declared, path)
        except DataError as exc:
            raise DataError(f"{exc}{separator_advice(path, p, frame)}") from None
    if head is not None:
        check_unique_columns(frame, path, list(head.iloc[0]) if len(head) else [])
    return frame


HEAD_ERRORS = (OSError, ValueError, ImportError, zipfile.BadZipFile, MlstatError)
"""What reading a file's header (CSV) or sheet (Excel) first can raise (a missing file or
sheet, a wrong encoding, not a workbook, no reader for .xls): the read proper reports it."""


def _head(path: Path, p: SurveyParams, fmt: str) -> pd.DataFrame | None:
    """A CSV or Excel file's header as written, as row 0 (before pandas renames a name it
    meets twice): a CSV file's header as text; an Excel sheet whole, as pandas reads cells
    (a date as a date), so that a column of dates is found however many of its first cells
    are blank. None where it cannot be read."""
    try:
        if fmt == "excel":
            sheet = chosen_sheet(p.sheet, sheet_names(path, p.format))
            return pd.read_excel(path, sheet_name=sheet, header=None)
        sep = p.sep or ("\t" if path.suffix.lower() == ".tsv" else ",")
        return pd.read_csv(path, encoding=p.encoding, sep=sep, header=None, nrows=1, dtype=str,
                           keep_default_na=False)
    except HEAD_ERRORS:
        return None


def _is_time(value: object) -> bool:
    return isinstance(value, datetime.date | datetime.time)


def date_columns(head: pd.DataFrame) -> set[str]:
    """The columns of an Excel sheet (``head``, header as row 0) whose filled cells are all
    dates or times: left to pandas, which writes them as it did (``2024-01-05``)."""
    out = set()
    for k in head.columns:
        cells = head[k].iloc[1:].dropna()
        if len(cells) and all(map(_is_time, cells)) and not pd.isna(head[k].iloc[0]):
            out.add(str(head[k].iloc[0]))
    return out


def text_columns(head: pd.DataFrame | None, p: SurveyParams, infos: dict[str, VariableInfo]
                 ) -> dict[str, type] | None:
    """The columns to read as text: the id, and, where the variables to edit are known before
    reading (the loader's ``variables``, else the metadata's), every column of the header
    (``head``'s first row; None: a Parquet file, or one that cannot be read) that is neither
    one of them, nor the weights, nor named by the loader's edit rules, nor a column of dates:
    carried through unedited, it is written back as it was read (``000000007``, not ``7``)."""
    out: dict[str, type] = {p.id: str} if p.id else {}
    numeric = set(p.variables) or set(infos)
    if not numeric or head is None or not len(head):
        return out or None
    try:
        ruled = set(RuleSet.parse(list(p.rules)).variables) if p.rules else set()
    except ConfigError:  # the rules' own check reports it
        return out or None
    keep = numeric | ruled | {p.weights} | date_columns(head)
    for name in (str(c) for c in head.iloc[0] if not pd.isna(c)):  # as written, without BOM
        if unicodedata.normalize("NFC", name.lstrip("\ufeff").strip()) not in keep:
            out.update({name: str, name.lstrip("\ufeff"): str})
    return out or None


def check_unique_columns(frame: pd.DataFrame, path: Path, written: list[object]) -> None:
    """A CSV or Excel header (``written``: its cells as written) that names a column twice:
    pandas reads the second ``income`` as ``income.1``, and the rules and the metadata would
    silently take the first. Looked at only when a name looks like pandas' renaming, so that
    real names such as ``q1`` beside ``q1.1`` or ``income`` beside ``income.2023`` are read."""
    names = set(map(str, frame.columns))
    if not any(twin and twin.group(1) in names for twin in
               (re.fullmatch(r"(.+)\.[1-9]\d*", str(c)) for c in frame.columns)):
        return
    header = [None if pd.isna(c) or not str(c).strip() else unicodedata.normalize("NFC", str(c))
              for c in written]  # blank header cells are no name
    for i, name in enumerate(header):
        if name is not None and name in header[:i]:
            second = str(frame.columns[i]) if len(header) == len(frame.columns) else f"{name}.1"
            raise DataError(f"{path} has more than one column named {name!r} (the second read "
                            f"as {second!r}), so which one to edit cannot be told: give each "
                            "column its own name")


def separator_advice(path: Path, p: SurveyParams, frame: pd.DataFrame) -> str:
    """``; its header ... seems separated by ';': set the loader's `sep` ...`` when a CSV file
    was read as one column because its separator is another; ``; most of its columns have no
    name ...`` when the header is not on the first row (a title above it, as in a published
    Excel table); the sheets of a workbook of several read from its first; else empty."""
    sheets = sheet_names(path, p.format) if p.sheet is None else []
    if len(sheets) > 1:
        return (f"; it was read from the first of the workbook's sheets "
                f"({', '.join(map(repr, sheets))}): {loader_setting('sheet', sheets[1])}")
    unnamed = [c for c in map(str, frame.columns) if c.startswith("Unnamed: ")]
    if len(unnamed) > len(frame.columns) / 2:
        return (f"; most of its columns have no name ({', '.join(map(repr, unnamed[:2]))}, "
                "...): its header seems not to be on the first row; delete the rows above it "
                "(a title) so that the column names come first")
    if len(frame.columns) != 1 or table_format(path, p.format) != "csv":
        return ""
    return separator_hint(path, p.encoding, p.sep, frame)


def comma_decimal(series: pd.Series, every: bool = False) -> str | None:
    """A value such as ``0,5`` of a column read as text whose values are mostly (with
    ``every``: all) numbers once their decimal commas are points (the others codes such as
    ``-``); None for any other column."""
    if pd.api.types.is_numeric_dtype(series):
        return None
    values = series.dropna().astype(str).str.strip()
    commas = values[values.str.fullmatch(DECIMAL_COMMA)]
    points = pd.to_numeric(values.str.replace(",", ".", regex=False), errors="coerce")
    share = points.notna().all() if every else points.notna().mean() > 0.5
    return str(commas.iloc[0]) if len(commas) and share else None


def check_decimal_mark(frame: pd.DataFrame, path: Path, p: SurveyParams,
                       columns: list[str], every: bool = False) -> None:
    """Numbers read as text because of their marks: with a decimal comma, say to set the
    loader's ``decimal``; with ``,`` between thousands (``1,300``, which ``decimal = ","``
    would read as 1.3) or, with ``decimal = ","``, a ``.`` between thousands (``1.300``),
    say to remove the thousands separators. ``columns`` are read as numbers where most of
    their values are; with ``every`` (columns not declared, else left out of editing) only
    where all are, and the message says how to leave them out."""
    leave = ("; if the column is not to be edited, name the variables to edit in the "
             "loader's `variables`" if every else "")
    for column in (c for c in columns if c in frame.columns):
        if p.decimal == ",":
            example = point_in_comma_file(frame[column], every)
            if example is not None and "," in example:
                raise DataError(
                    f"column {column!r} of {path} holds numbers written with '.' between "
                    f"thousands (such as {example!r}), which decimal = \",\" does not read: "
                    "save the column without thousands separators (1300,50, not 1.300,50)"
                    f"{leave}")
            if example is not None:
                raise DataError(
                    f"column {column!r} of {path} holds numbers written with '.' (such as "
                    f"{example!r}), which decimal = \",\" does not read: a '.' between "
                    "thousands (1.300 for 1300) or a decimal point, which the file alone "
                    "cannot tell apart; save the column without thousands separators, with "
                    f"',' as its only decimal mark{leave}")
            continue
        example = comma_decimal(frame[column], every)
        if example is None:
            continue
        values = frame[column].dropna().astype(str).str.strip()
        commas = values[values.str.contains(",", regex=False)]
        if not decimal_commas(commas) and thousands_commas(commas):
            raise DataError(
                f"column {column!r} of {path} holds numbers with ',' between thousands (such "
                f"as {example!r}) or with a decimal comma, which the file alone cannot tell "
                "apart, read as text: remove the thousands separators (1300, not 1,300); if "
                f"',' is the decimal mark, {loader_setting('decimal', ',')}{leave}")
        raise DataError(f"column {column!r} of {path} holds numbers written with a decimal "
                        f"comma (such as {example!r}), read as text: "
                        f"{loader_setting('decimal', ',')}{leave}")


def warn_left_out(frame: pd.DataFrame, path: Path, p: SurveyParams, columns: list[str]
                  ) -> None:
    """Warn of each of ``columns`` (text columns, not declared) that holds mostly numbers
    (``020 7946 0001``, ``£1 300``, a code ``.`` among numbers, ``3,5``): it is left out of
    editing, as any text column, but may be a variable read wrongly; the warning says why it
    is text and how to leave it out without a word (naming the `variables`)."""
    for column in columns:
        if not plain_numbers(frame[column].dropna()).notna().mean() > 0.5:
            continue
        try:
            check_decimal_mark(frame, path, p, [column])
            numeric_frame(frame, [column], what=f"data set {path.name}", decimal=p.decimal)
            reason = f"column {column!r} of the data set {path.name} holds numbers read as text"
        except DataError as exc:
            reason = str(exc)
        warnings.warn(f"{reason}; as it is, {column!r} is left out of editing: if it is not "
                      "to be edited, name the variables to edit in the loader's `variables`",
                      UserWarning, stacklevel=3)


def survey_variables(frame: pd.DataFrame, path: Path, p: SurveyParams,
                     infos: dict[str, VariableInfo]) -> list[str]:
    """The variables to edit: the loader's, else the metadata's, else every numeric column
    that is not the id or the weights."""
    named = {c for c in (p.id, p.weights) if c}
    if p.variables:
        check_decimal_mark(frame, path, p, list(p.variables))
        _check_metadata_names(frame, path, list(p.variables), infos)
        return list(p.variables)
    if infos:
        absent = [v for v in infos if v not in frame.columns]
        if absent:
            hints = [f"{v!r} (did you mean {close!r}?)" if close else repr(v)
                     for v in absent for close in [closest_name(v, list(map(str, frame)))]]
            raise DataError(f"the metadata names variable(s) {', '.join(hints)} that {path} "
                            "lacks" + separator_advice(path, p, frame))
        check_decimal_mark(frame, path, p, list(infos))
        return [v for v in infos if v not in named]
    undeclared = [c for c in frame.columns if c not in named]
    check_decimal_mark(frame, path, p, undeclared, every=True)
    variables = [c for c in undeclared if pd.api.types.is_numeric_dtype(frame[c])]
    warn_left_out(frame, path, p, [c for c in undeclared if c not in variables])
    warn_identifiers(frame, path, variables, p.id)
    if not variables:
        raise DataError(f"{path} has no numeric column to edit" + (
            separator_advice(path, p, frame) or "; name the variables in the loader's "
            "`variables`, or give a `metadata` file"))
    return variables


MIN_ID_RECORDS = 10
"""Records from which a column can look like an identifier (fewer are unique by chance)."""
ID_TOKENS = frozenset({"id", "ident", "identifier", "key", "serial", "seqn"})
"""Words of a column name (split at ``_``, other non-letters and CamelCase) that name an
identifier wherever they stand (``id``, ``hh_id``, ``HouseholdID``, ``serial``)."""
ID_LAST_WORDS = frozenset({"no", "nr", "num", "number"})
"""Words that name an identifier as a name's last word only (``case_no``, ``hh_nr``), never
first (``no_rooms``, ``nr_rooms``, ``num_employees``)."""
ID_COMPOUNDS = frozenset({"hhid", "hid", "caseid", "persid", "personid", "pid", "respid",
                          "recid", "uid", "idno", "serialno", "recno", "pidp", "hidp",
                          "caseno", "hhnum", "recordid", "rowid", "obsid"})
"""Words that are an identifier's name written as one (``caseid``, ``HHID``, ``pidp``)."""
RECORD = "record"
"""A word that names an identifier as the whole name or before an identifier's last word
(``record``, ``record_no``, ``record_id``), not otherwise (``record_count``,
``medical_record``)."""


def name_words(name: str) -> list[str]:
    """The lower-case words of a column name, split at non-letters and where a lower-case
    letter meets a capital (``HouseholdID``: household, id; ``HHID``: hhid)."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(name))
    return [w for w in re.split(r"[^a-z]+", spaced.lower()) if w]


def named_as_identifier(name: str) -> bool:
    """Whether ``name`` is an identifier's (``hh_id``, ``caseid``, ``RespondentID``,
    ``case_no``, ``record``), never merely holding ``id`` or ``no`` inside a word or first
    (``rent_paid``, ``covid``, ``no_rooms``, ``record_count``)."""
    words = name_words(name)
    if not words:
        return False
    last = words[-1]
    if set(words) & (ID_TOKENS | ID_COMPOUNDS) or (len(words) > 1 and last in ID_LAST_WORDS):
        return True
    return words == [RECORD]


def numbers_the_records(numbers: np.ndarray) -> bool:
    """Whether ``numbers`` are exactly 0, 1, 2, ... or 1, 2, 3, ... in file order (a
    column of years 1981-2020 is not)."""
    return bool(numbers[0] in (0, 1) and np.all(np.diff(numbers) == 1))


def looks_like_identifier(name: str, values: pd.Series) -> bool:
    """Whether a numeric column holds a whole number in every record, different in each,
    and is named as an identifier or numbers the records from 0 or 1 in file order."""
    if len(values) < MIN_ID_RECORDS or values.isna().any() or pd.api.types.is_bool_dtype(values):
        return False
    numbers = values.to_numpy(float)
    if not (np.all(np.mod(numbers, 1) == 0) and values.is_unique):
        return False
    return named_as_identifier(name) or numbers_the_records(numbers)


def warn_identifiers(frame: pd.DataFrame, path: Path, variables: list[str],
                     id_column: str | None = None) -> None:
    """Warn of each variable found without metadata or ``variables`` that looks like an
    identifier (see :func:`looks_like_identifier`): it would be edited and imputed as a
    survey variable, and written without its leading zeros. With an ``id_column`` set, the
    fix is to name the variables to edit."""
    for column in variables:
        if not looks_like_identifier(column, frame[column]):
            continue
        fix = (f"name the variables to edit in the loader's `variables` (the id is already "
               f"{id_column!r})" if id_column else
               f"set the loader's `id = {json.dumps(str(column))}` (or name the variables to "
               "edit in `variables`)")
        warnings.warn(f"column {column!r} of {path.name} looks like an identifier (a whole "
                      "number, different in every record), and is edited as a survey "
                      f"variable: {fix}", UserWarning, stacklevel=3)


def _check_metadata_names(frame: pd.DataFrame, path: Path, variables: list[str],
                          infos: dict[str, VariableInfo]) -> None:
    """Warn of a variable to edit that the metadata lacks while it describes a name close to
    it that the data lacks (a typo: 'incme' for 'income'): its range, weight and ``imputable
    = false`` would otherwise be silently ignored. A warning, not an error: the metadata may
    describe other variables, edited elsewhere, one of them named like this one ('wfood'
    beside 'wfuel')."""
    stray = [v for v in infos if v not in frame.columns]
    for v in variables:
        close = closest_name(v, stray) if v not in infos else None
        if close:
            warnings.warn(f"variable {v!r} to edit has no entry in the metadata, which "
                          f"describes {close!r}, a name {path.name} lacks: if that is a typo, "
                          f"correct the metadata's variable name ({close!r} -> {v!r}); as it "
                          f"is, {v!r} is edited without its type, range, weight and whether "
                          "it may be imputed", UserWarning, stacklevel=2)


class SurveyLoader(Loader):
    """Survey microdata and its variable metadata."""

    params: SurveyParams

    def load(self, base_dir: Path) -> Dataset:
        p = self.params
        path = resolve_path(p.path, base_dir)
        sources = [path]
        infos: dict[str, VariableInfo] = {}
        if p.metadata:
            meta_path = resolve_path(p.metadata, base_dir)
            infos = read_metadata(meta_path, p.encoding)
            sources.append(meta_path)
            if p.inject and not p.variables:  # the variables are known: before reading data
                named = {c for c in (p.id, p.weights) if c}
                check_injected([s.model_dump() for s in p.inject],
                               [v for v in infos if v not in named],
                               f" (the variables of metadata file {meta_path.name})")
        frame = read_survey(path, p, infos)
        if p.weights:  # grossing weights run into thousands: 1.300 is not 1.3
            check_decimal_mark(frame, path, p, [p.weights])
        variables = survey_variables(frame, path, p, infos)
        return build_dataset(frame, path, infos, variables, p, p.id, p.weights, sources)


class BudgetUkLoader(Loader):
    """The bundled UK budget data (see data/DATA.md) with its metadata."""

    params: BudgetParams

    def __init__(self, params: BudgetParams | None = None) -> None:
        super().__init__(params or BudgetParams())

    def load(self, base_dir: Path) -> Dataset:
        path = DATA_DIR / "budget_uk.csv"
        meta = DATA_DIR / "budget_uk_metadata.csv"
        frame = read_table(path)
        infos = read_metadata(meta)
        return build_dataset(frame, path, infos, list(infos), self.params,
                             sources=[path, meta])
