"""Loaders: survey microdata with variable metadata, and the bundled UK budget data.

What the Dataset carries for the rest of the pipeline (``metadata``):

- ``variables``: {name: VariableInfo as dict} for every variable to edit and impute;
- ``edit_rules``: the loader's edit rules (the model adds its own);
- when errors were injected: ``truth`` (the clean values, same index), ``injected_mask``
  (True for each damaged cell), ``injected_kind`` (the kind of error per cell) and
  ``injection`` (a summary). The core's ``imputation_accuracy`` indicator reads ``truth``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlstat_core.builtins.loaders import DECIMAL_COMMA, check_ids, check_weights
from mlstat_core.components import ColumnRoles, Dataset, Loader
from mlstat_core.errors import DataError
from mlstat_core.io import (
    loader_setting,
    read_table,
    resolve_path,
    separator_hint,
    table_format,
)
from mlstat_editimpute.inject import check_injected, inject_errors
from mlstat_editimpute.metadata import VariableInfo, default_info, numeric_frame, read_metadata
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
    numeric = numeric_frame(frame, variables, what=f"data set {path.name}", infos=infos)
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
                      "edit_rules": list(params.rules)}
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


def read_survey(path: Path, p: SurveyParams) -> pd.DataFrame:
    """The microdata file, read with the loader's options; the id column as text, so ids such
    as ``00017`` keep their leading zeros. A declared column (id, weights, variables) missing
    from a CSV file whose header holds another separator gets the ``sep`` to set."""
    named = [c for c in (p.id, p.weights) if c]
    return read_table(path, format=p.format, encoding=p.encoding, sep=p.sep, sheet=p.sheet,
                      dtype={p.id: str} if p.id else None, na_values=list(p.na_values),
                      decimal=p.decimal, columns=named + list(p.variables))


def separator_advice(path: Path, p: SurveyParams, frame: pd.DataFrame) -> str:
    """``; its header ... seems separated by ';': set the loader's `sep` ...`` when a CSV file
    was read as one column because its separator is another; else empty."""
    if len(frame.columns) != 1 or table_format(path, p.format) != "csv":
        return ""
    return separator_hint(path, p.encoding, p.sep, frame)


def comma_decimal(series: pd.Series) -> str | None:
    """A value such as ``0,5`` of a column read as text whose values are all numbers once
    their decimal commas are points; None for any other column."""
    if pd.api.types.is_numeric_dtype(series):
        return None
    values = series.dropna().astype(str).str.strip()
    commas = values[values.str.fullmatch(DECIMAL_COMMA)]
    points = pd.to_numeric(values.str.replace(",", ".", regex=False), errors="coerce")
    return str(commas.iloc[0]) if len(commas) and points.notna().all() else None


def check_decimal_mark(frame: pd.DataFrame, path: Path, p: SurveyParams,
                       columns: list[str]) -> None:
    """Numbers written with a decimal comma, read as text: say to set the loader's
    ``decimal``."""
    if p.decimal == ",":
        return
    for column in columns:
        example = comma_decimal(frame[column]) if column in frame.columns else None
        if example is not None:
            raise DataError(f"column {column!r} of {path} holds numbers written with a decimal "
                            f"comma (such as {example!r}), read as text: "
                            f"{loader_setting('decimal', ',')}")


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
    check_decimal_mark(frame, path, p, [c for c in frame.columns if c not in named])
    variables = [c for c in frame.columns if c not in named
                 and pd.api.types.is_numeric_dtype(frame[c])]
    if not variables:
        raise DataError(f"{path} has no numeric column to edit" + (
            separator_advice(path, p, frame) or "; name the variables in the loader's "
            "`variables`, or give a `metadata` file"))
    return variables


def _check_metadata_names(frame: pd.DataFrame, path: Path, variables: list[str],
                          infos: dict[str, VariableInfo]) -> None:
    """Warn of a variable to edit that the metadata lacks while it describes a name close to
    it that the data lacks (a typo: 'incme' for 'income'): its range, weight and ``imputable
    = false`` would otherwise be silently ignored. A warning, not an error: the metadata may
    describe other variables, edited elsewhere, one of them named like this one ('wfood'
    beside 'wfuel')."""
    import warnings

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
        frame = read_survey(path, p)
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
