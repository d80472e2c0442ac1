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

from mlstat_core.components import ColumnRoles, Dataset, Loader
from mlstat_core.errors import DataError
from mlstat_core.io import not_settable, read_table
from mlstat_editimpute.inject import inject_errors
from mlstat_editimpute.metadata import VariableInfo, default_info, numeric_frame, read_metadata
from mlstat_editimpute.params import BudgetParams, SurveyParams
from mlstat_editimpute.rules import RuleSet

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
            raise DataError(f"variable {v!r} of {path} has no value at all (every record is "
                            "missing); it cannot be edited or imputed: drop it from `variables`")
        infos.setdefault(v, default_info(v, numeric[v]))
    frame = frame.copy()
    frame[variables] = numeric
    if id_col and frame[id_col].duplicated().any():
        raise DataError(f"id column {id_col!r} of {path} is not unique")
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
    roles = ColumnRoles(id=id_col, features=list(variables), weights=weights)
    return Dataset(frame=frame, roles=roles, name=path.stem, sources=sources or [path],
                   metadata=metadata)


class SurveyLoader(Loader):
    """Survey microdata and its variable metadata."""

    params: SurveyParams

    def load(self, base_dir: Path) -> Dataset:
        p = self.params
        path = Path(p.path).expanduser()
        path = path if path.is_absolute() else base_dir / path
        frame = read_table(path, format=p.format, how=not_settable)  # no encoding, sep
        sources = [path]
        infos: dict[str, VariableInfo] = {}
        if p.metadata:
            meta_path = Path(p.metadata).expanduser()
            meta_path = meta_path if meta_path.is_absolute() else base_dir / meta_path
            infos = read_metadata(meta_path)
            sources.append(meta_path)
        named = {c for c in (p.id, p.weights) if c}
        if p.variables:
            variables = list(p.variables)
        elif infos:
            variables = [v for v in infos if v in frame.columns and v not in named]
            absent = [v for v in infos if v not in frame.columns]
            if absent:
                raise DataError(f"the metadata names variable(s) {absent} that {path} lacks")
        else:
            variables = [c for c in frame.columns if c not in named
                         and pd.api.types.is_numeric_dtype(frame[c])]
        for c in named:
            if c not in frame.columns:
                raise DataError(f"{path} lacks column {c!r}")
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
