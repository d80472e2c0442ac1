"""Score new records with a saved run's model, through an execution engine.

The model is rebuilt only through the registry (its component's class), from files whose
SHA-256 matches the run's manifest. The built-in ``core.local`` engine reads the input in
chunks, so memory is bounded by the chunk size; other engines (``spark``) are plugins.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.artifacts import MANIFEST, PROFILE, RunFolder, model_files, read_json
from mlstat_core.components import Engine, Model
from mlstat_core.errors import (
    ConfigError,
    DataError,
    IntegrityError,
    ModelError,
    component_defect,
    listed,
    value_kind,
)
from mlstat_core.formats import CSV_SUFFIXES, DEFAULT_CHUNK_SIZE
from mlstat_core.io import (
    TableWriter,
    first_record,
    home_path,
    is_url,
    iter_table,
    option_hint,
    parquet_safe,
    quoted,
    separator_text,
)
from mlstat_core.registry import Registry, get_registry
from mlstat_core.requirements import changed_versions
from mlstat_core.sklearn_model import require_columns
from mlstat_core.tasks import TaskType

DEFAULT_ENGINE = "local"
OUTPUT_ID = "record_id"
"""The output's column of record ids; an input column of that name holds ids too."""


@dataclass
class PredictSummary:
    """What ``mlstat predict`` did. Its repr leaves out the per-column ``drift`` and the
    engine's ``details``, so that a notebook shows a summary in one short line."""

    output: Path
    records: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    unseen_labels: dict[str, int] = field(default_factory=dict)
    drift: dict[str, Any] | None = field(default=None, repr=False)
    engine: str = "core.local"
    details: dict[str, Any] = field(default_factory=dict, repr=False)
    notes: list[str] = field(default_factory=list)
    """What the user should know that is no problem (records numbered for want of ids)."""
    run: dict[str, Any] = field(default_factory=dict, repr=False)
    """The run whose model scored: ``run_id``, ``path`` and ``model_files`` (the SHA-256 of
    each model file and of the profile read with them, as the manifest records them), so
    that a scored file can be traced back."""


@dataclass
class ScoringJob:
    """Everything an engine needs to score a file with a run's model."""

    folder: RunFolder
    model: Model
    model_factory: str
    """``module:attr`` of the model class, resolved through the registry on the driver."""
    input: str
    output: Path
    chunk_size: int = DEFAULT_CHUNK_SIZE
    encoding: str = "utf-8"
    step_factories: list[tuple[str, str, Any]] = field(default_factory=list)
    """Preprocessing steps as (component, ``module:attr``, params class), in order."""
    id_column: str | None = None
    """Column of the input that identifies records (default: the model's id column)."""
    probabilities: bool = True
    """Write the ``proba_<class>`` columns (off: leaner output for production volumes)."""
    output_url: str | None = None
    """The output as given when it is a URL (``s3://...``), which ``output`` cannot hold."""
    sep: str | None = None
    """Field separator of a CSV input (None: ',' or tab for ``.tsv``)."""
    model_name: str = "the model"
    """The model's component (``plugin.name (distribution dist)``), for messages."""
    task: TaskType | None = None
    """The run's task type: its predictions are checked against it (None: not checked)."""
    cli: bool = False
    """Messages name the command's options (``--encoding``), not the arguments of
    :func:`predict_file` (``encoding=``)."""
    na_values: list[str] = field(default_factory=list)
    """Missing-value codes of a CSV or Excel input, as the trained loader read them."""
    decimal: str = "."
    """Decimal mark of a CSV or Excel input, as the trained loader read it."""
    sheet: str | int | None = None
    """Sheet of an Excel input (None: the first)."""
    keep_default_na: bool = True
    """Whether pandas' missing-value words (``NA``, ``null``...) are missing, as the trained
    loader read them (False: only empty cells and ``na_values``)."""

    @property
    def input_columns(self) -> list[str]:
        return self.model.roles.input_columns() if self.model.roles else []

    def read_dtypes(self) -> dict[str, Any]:
        """Columns to read as text in every chunk: the id column (``007`` stays ``007``) and
        the input columns the model learned as text (a chunk of ``1, 2, 3`` from a column of
        ``1, 2, 3, X`` is still text), so predictions never depend on the chunk size."""
        return read_dtypes(self.model, self.id_column)

    def model_files(self) -> dict[str, tuple[bytes, str]]:
        """The model folder's files as ``name -> (bytes, sha256)``, for engines that ship the
        model to workers instead of reading a shared file system."""
        files: dict[str, tuple[bytes, str]] = {}
        for relative, digest in self.folder.manifest.get("files", {}).items():
            if relative.startswith("model/"):
                data = (self.folder.path / relative).read_bytes()
                if hashlib.sha256(data).hexdigest() != digest:  # changed since load_model
                    raise IntegrityError(
                        f"{self.folder.path / relative} changed while it was being scored "
                        f"(it no longer matches the SHA-256 in {self.folder.path / MANIFEST}); "
                        "do not use this run folder: rerun the pipeline")
                files[relative.removeprefix("model/")] = (data, digest)
        return files


ARGUMENT_NAMES = {"run_dir": "RUN_DIR", "input_path": "--input", "output_path": "--output",
                  "chunk_size": "--chunk-size", "id_column": "--id-column",
                  "decimal": "--decimal"}
"""predict_file's arguments -> the ``mlstat predict`` options that give them."""


def argument_name(name: str, cli: bool = False) -> str:
    """An argument of :func:`predict_file` as its caller names it: the option of ``mlstat
    predict`` (``--output``) with ``cli``, else the argument (``output_path``)."""
    return ARGUMENT_NAMES.get(name, name) if cli else name


PATH_ARGUMENTS = {"run_dir": "the path of a run folder",
                  "input_path": "the path of a file of records (CSV, Parquet or Excel)",
                  "output_path": "the path of the file to write"}
"""What each path argument of :func:`predict_file` takes, for messages."""


def check_path_argument(value: Any, name: str, cli: bool = False) -> None:
    """``value`` is a path (str or os.PathLike); a DataFrame or anything else is one
    DataError naming the argument and what to give."""
    if isinstance(value, str | os.PathLike):
        return
    message = f"{argument_name(name, cli)} is {value_kind(value)}; give {PATH_ARGUMENTS[name]}"
    if isinstance(value, pd.DataFrame) and name == "input_path":
        message += (". To score a DataFrame in Python: "
                    "mlstat_core.load_model(run_dir).predict(frame)")
    raise DataError(message)


def check_chunk_size(chunk_size: Any, cli: bool = False) -> None:
    """Records scored at a time: a whole number of at least 1."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer) \
            or chunk_size < 1:
        raise DataError(f"{argument_name('chunk_size', cli)} is {chunk_size!r}; give the "
                        "number of records scored at a time, a whole number of at least 1")


def load_model(run_dir: str | Path, registry: Registry | None = None
               ) -> tuple[RunFolder, Model, str, list[tuple[str, str, Any]]]:
    """Open a run folder, check its model files' hashes, and rebuild the fitted model (with
    its preprocessing steps). Classes come from the registry, never from the files."""
    from mlstat_core.preprocess import load_fitted, step_names

    check_path_argument(run_dir, "run_dir")
    folder = RunFolder.open(run_dir)
    evaluated = folder.manifest.get("evaluates")
    if isinstance(evaluated, dict):
        raise DataError(f"{folder.path} is an evaluation of the run "
                        f"{evaluated.get('run_dir') or evaluated.get('run_id')} and holds no "
                        "model; give that run's folder")
    folder.verify()
    described = folder.manifest.get("model")
    name = described.get("component") if isinstance(described, dict) else None
    if not name or not isinstance(name, str):
        raise DataError(f"manifest of {folder.path} names no model component")
    registry = registry or get_registry()
    entries = [("model", name)] + [("transform", s) for s in step_names(folder.model_dir)]
    factories = []
    for kind, component in entries:
        if component not in registry.components.get(kind, {}):
            missing = missing_plugin(folder, kind, component, registry)
            if missing:
                raise ConfigError(missing)
        entry = registry.get(kind, component)
        entry.load_factory()  # one PluginError naming the component and the fix
        factories.append((component, entry.spec.factory, entry.spec.params))
    steps = factories[1:]
    from mlstat_core.engine import blame, temporary_traceback

    model_entry = registry.get("model", name)
    changes = changed_versions(folder.manifest.get("environment"))
    shown = listed(changes, VERSIONS_SHOWN)
    advice = "The model files pass their hash check but could not be read back: " + (
        f"the run was made with other versions than those installed ({shown}); install "
        "those versions, or rerun the pipeline" if changes else "if the run folder's files "
        "were changed after the run (and its manifest with them), rerun the pipeline; "
        "otherwise report it to the component's authors with the traceback")
    with blame("load", f"model {name}", model_entry.distribution, temporary_traceback,
               advice=advice):
        model = load_fitted(folder.model_dir, factories[0][1], steps)
    if changes:
        warnings.warn(f"run folder {folder.path} was made with other versions than those "
                      f"installed ({shown}): its model may score differently; rerun the "
                      "pipeline with the installed versions before relying on the scores",
                      VersionWarning, stacklevel=2)
    return folder, model, factories[0][1], steps


def missing_plugin(folder: RunFolder, kind: str, component: str, registry: Registry
                   ) -> str | None:
    """The message for a run whose component's plugin is not installed here at all: the
    distributions its manifest recorded that are missing, with the versions to install (None
    when the plugin is installed, so the registry's own message applies)."""
    from importlib import metadata

    plugin = component.split(".", 1)[0]
    if plugin in registry.plugins or any(r.name == plugin for r in registry.plugins.values()):
        return None
    recorded = (folder.manifest.get("environment") or {}).get("plugins") or {}
    absent = []
    for dist, version in recorded.items():
        try:
            metadata.version(dist)
        except metadata.PackageNotFoundError:
            absent.append(f"{dist}=={version}" if version else dist)
    made_with = (f"; the run was made with {', '.join(absent)}, not installed here: "
                 f"pip install {' '.join(repr(a) for a in absent)}" if absent else
                 "; install the plugin the run was made with")
    return (f"run folder {folder.path} needs the {kind} {component!r} of plugin {plugin!r}, "
            f"which is not installed{made_with} (`mlstat plugins` lists what is)")


VERSIONS_SHOWN = 4
"""Most changed library versions a message lists before it counts the rest."""


class VersionWarning(UserWarning):
    """A run folder's model is loaded with other library versions than it was made with."""


def read_dtypes(model: Model, id_column: str | None = None) -> dict[str, Any]:
    """``column -> str`` for the columns an input is read with as text: the id column (the
    one asked for, else the model's and ``record_id``, see :func:`id_column_of`), the model's
    ``text_columns`` (the raw input columns that held text in training; a model without the
    attribute has none) and the target when the model's classes are text (``0110`` stays
    ``0110`` when new labels are checked)."""
    columns = list(model.text_columns or [])
    roles = model.roles
    ident = id_column or (roles.id if roles is not None else None)
    if ident:
        columns.append(ident)
    inputs = roles.input_columns() if roles is not None else []
    if not id_column and OUTPUT_ID not in inputs:
        columns.append(OUTPUT_ID)
    classes = model.classes_ or []
    if roles is not None and roles.target and classes and all(isinstance(c, str)
                                                              for c in classes):
        columns.append(roles.target)
    return {column: str for column in columns}


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` is an mlstat run folder: its ``manifest.json`` is mlstat's (a
    ``run_id`` and a ``status``), not any file of that common name."""
    path = folder / MANIFEST
    if not path.is_file():
        return False
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return True  # damaged, but named like one: leave it alone
    return isinstance(manifest, dict) and "run_id" in manifest and "status" in manifest


def check_output(input_path: str | Path, output_path: str | Path, cli: bool = True) -> None:
    """Refuse an output that would destroy evidence: the input itself, or a file anywhere
    inside a run folder (a folder above it holds ``manifest.json``). Any other existing file
    is replaced, as scheduled jobs need. Messages name ``--output`` (the commands that call
    this), or with ``cli=False`` the arguments of :func:`predict_file`."""
    if is_url(output_path) or is_url(input_path):
        return
    output = home_path(output_path)
    source = home_path(input_path)
    same = output.resolve() == source.resolve()
    if not same and output.exists() and source.exists():
        same = os.path.samefile(output, source)
    named = argument_name("output_path", cli)
    if same:
        raise DataError(f"{named} {output_path} is the input file {input_path}: writing the "
                        "predictions would destroy the records; give another output file")
    folder = run_folder_around(output)
    if folder is not None:
        raise DataError(f"{named} {output_path} lies inside the run folder {folder}: "
                        "writing there would change the run's evidence; write the "
                        "predictions outside run folders")


def run_folder_around(path: str | Path) -> Path | None:
    """The run folder a path lies inside (a folder above it holds ``manifest.json``), or None:
    commands refuse to write there, so a run's evidence is never changed."""
    for folder in home_path(path).resolve().parents:
        if is_run_folder(folder):
            return folder
    return None


def build_engine(name: str, options: dict[str, Any] | None, registry: Registry) -> Engine:
    entry = registry.engine(name)
    return entry.build(entry.validate_params(options or {}, where=f"engine {entry.full_name}"))


def id_column_of(columns: Any, model: Model, requested: str | None = None) -> str | None:
    """The column that identifies records: the one asked for, else the model's id column
    when the input has it, else the input's ``record_id`` (the name the output gives ids, so
    it is never replaced by row numbers), else None (records are then numbered in input
    order: see :func:`numbering_note`)."""
    if requested:
        if requested not in columns:
            raise DataError(f"the input has no id column {requested!r}; it has "
                            f"{', '.join(map(repr, list(columns)[:20]))}")
        return requested
    roles = model.roles
    if roles is not None and roles.id and roles.id in columns:
        return roles.id
    return OUTPUT_ID if OUTPUT_ID in columns else None


def numbering_note(model: Model, cli: bool = True, column: str = OUTPUT_ID) -> str:
    """What the summary says when no id column was found and records were numbered in the
    output's ``column``; it names ``--id-column``, or with ``cli=False``
    :func:`predict_file`'s ``id_column``."""
    roles = model.roles
    looked = f"neither the model's id column {roles.id!r} nor {OUTPUT_ID!r}" \
        if roles is not None and roles.id and roles.id != OUTPUT_ID else f"no {OUTPUT_ID!r}"
    return (f"the input has {looked}, so the column {column!r} numbers the records 0, 1, 2, "
            f"... in input order; pass {argument_name('id_column', cli)} to keep an input "
            "column as their ids")


def aligned(predicted: Any, index: pd.Index, model_name: str = "the model") -> pd.DataFrame:
    """A model's predictions with one row per input record, in the input's order.

    The contract is one row per record *with the record's index label*; rows returned in
    another order (after a sort or a groupby) are put back in order by their labels. Anything
    else (not a DataFrame, another length, other or repeated labels) is a ModelError naming
    the model, since attaching such rows by position would give records others' predictions.
    """
    fix = ("return a pandas DataFrame with one row per input record and the input's index "
           "(pandas in, pandas out)")
    if not isinstance(predicted, pd.DataFrame):
        raise component_defect(ModelError(
            f"model {model_name}: predict() returned a "
            f"{type(predicted).__module__}.{type(predicted).__name__}, not a DataFrame; {fix}"))
    if predicted.index.equals(index):
        return predicted
    if len(predicted) != len(index):
        problem = f"{len(predicted):,} row(s) for {len(index):,} record(s)"
    elif predicted.index.has_duplicates:
        repeated = predicted.index[predicted.index.duplicated()][0]
        problem = f"rows with a repeated index label ({plain_label(repeated)!r})"
    elif index.has_duplicates:
        problem = ("rows in another order, and the input's index repeats labels, so they "
                   "cannot be put back in order")
    else:
        strange = predicted.index.difference(index)
        if len(strange):
            problem = (f"rows with index labels that are not the input's (e.g. "
                       f"{plain_label(strange[0])!r})")
        else:
            return predicted.reindex(index)
    raise component_defect(ModelError(f"model {model_name}: predict() returned {problem}; {fix}"))


def plain_label(value: Any) -> Any:
    """An index label as a plain Python value, for messages."""
    return value.item() if isinstance(value, np.generic) else value


PROBABILITY_SLACK = 1e-6
"""Rounding that a probability may show beyond [0, 1] (float32 softmax, say)."""


def check_predictions(predicted: pd.DataFrame, task: TaskType | None,
                      model_name: str = "the model") -> None:
    """Hold predictions to the task's contract: its prediction columns are there and, for a
    classification task, ``confidence`` and every ``proba_<class>`` are numbers in [0, 1]
    (missing values pass: a record a model cannot score). A ModelError names the model and
    the column otherwise, so that no run or output carries predictions nobody can use."""
    if task is None:
        return
    missing = [c for c in task.prediction_columns if c not in predicted.columns]
    if missing:
        has = ", ".join(map(repr, list(predicted.columns)[:12])) or "no columns"
        raise component_defect(ModelError(
            f"model {model_name}: predictions lack column(s) {', '.join(map(repr, missing))} "
            f"that task {task.name!r} requires (it returned {has}); return columns "
            f"{', '.join(map(repr, task.prediction_columns))} (for classifiers see "
            "mlstat_core.sklearn_model.classification_frame)"))
    if "classification" not in task.tags:
        return
    columns = [c for c in predicted.columns
               if c == "confidence" or str(c).startswith("proba_")]
    for column in columns:
        values = predicted[column]
        numbers = pd.to_numeric(values, errors="coerce") \
            if not pd.api.types.is_bool_dtype(values) else values.astype(float)
        bad = (numbers.isna() & values.notna()) | (numbers < -PROBABILITY_SLACK) \
            | (numbers > 1 + PROBABILITY_SLACK)
        if bad.any():
            example = plain_label(values[bad].iloc[0])
            raise component_defect(ModelError(
                f"model {model_name}: column {column!r} holds {int(bad.sum()):,} value(s) "
                f"that are not probabilities in [0, 1] (e.g. {quoted(example)} for "
                f"{first_record(predicted, bad, None, by_label=True)}); return "
                "probabilities, not percentages or scores"))


def output_frame(chunk: pd.DataFrame, predicted: pd.DataFrame, model: Model,
                 id_column: str | None = None, probabilities: bool = True,
                 model_name: str = "the model") -> pd.DataFrame:
    """Predictions of one partition, led by the record id (the id column or the row number);
    without the ``proba_<class>`` columns when ``probabilities`` is false. Rows are matched
    to records by index (see :func:`aligned`)."""
    predicted = aligned(predicted, chunk.index, model_name)
    column = id_column_of(chunk.columns, model, id_column)
    if not probabilities:
        predicted = predicted.loc[:, [not str(c).startswith("proba_")
                                      for c in predicted.columns]]
    out = pd.DataFrame(index=chunk.index)
    out[OUTPUT_ID] = chunk[column].to_numpy() if column else chunk.index.to_numpy()
    return pd.concat([out, predicted], axis=1)


SEPARATORS = (";", "\t", "|", ",")
"""Field separators a single column's name betrays when a file was read with another one."""


def predict_checked(model: Model, chunk: pd.DataFrame, what: str,
                    model_name: str = "the model", task: TaskType | None = None,
                    cli: bool = True, predict: Callable[[pd.DataFrame], Any] | None = None
                    ) -> pd.DataFrame:
    """One chunk's predictions held to the contract, as every scoring loop needs them: the
    trained columns are there (with a hint for a file read with the wrong separator), an
    unexpected error of the model is one PluginError, the rows are aligned to the chunk's and
    the task's prediction columns are checked (``task`` None: not checked). ``cli``: the
    separator hint names ``--sep`` (else ``sep=``). ``predict``: the model's own method where
    ``model.predict`` is this check (:func:`checked_model`)."""
    from mlstat_core.engine import blame, temporary_traceback

    columns = model.roles.input_columns() if model.roles else []
    require_input_columns(chunk, columns, what=what, cli=cli)
    with blame("predict", f"model {model_name}", None, temporary_traceback):
        predicted = aligned((predict or model.predict)(chunk), chunk.index, model_name)
    check_predictions(predicted, task, model_name)
    return predicted


def task_of(folder: RunFolder, registry: Registry | None = None) -> TaskType | None:
    """The task type a run served, as registered here (None where unknown)."""
    name = folder.manifest.get("task")
    return (registry or get_registry()).tasks.get(name) if isinstance(name, str) else None


def checked_model(model: Model, model_name: str, task: TaskType | None) -> Model:
    """The model whose ``predict(frame)`` is held to the contract as ``mlstat predict`` holds
    it (:func:`contract_predict`). A partial of a module function, not a closure, so that the
    model still pickles and a deep copy predicts with itself."""
    model.predict = functools.partial(contract_predict, model, model_name, task)  # type: ignore[method-assign]
    return model


def contract_predict(model: Model, model_name: str, task: TaskType | None,
                     frame: Any) -> pd.DataFrame:
    """``predict`` of a model from :func:`checked_model`: its class's own method, checked by
    :func:`predict_checked` (one row per record in the frame's order, the task's columns, the
    trained input columns named when missing). What is not a DataFrame goes to the class's
    method, which says what to pass."""
    own = functools.partial(type(model).predict, model)
    if not isinstance(frame, pd.DataFrame):
        return own(frame)
    return predict_checked(model, frame, "the frame given to predict()", model_name, task,
                           cli=False, predict=own)


def require_input_columns(chunk: pd.DataFrame, columns: list[str], what: str,
                          cli: bool = True) -> None:
    """The input has the columns the model was trained on; when it has a single column whose
    name holds a field separator, the message says to pass ``--sep`` (``sep=`` in Python,
    ``cli=False``)."""
    missing = [c for c in columns if c not in chunk.columns]
    if missing and len(chunk.columns) == 1:
        name = str(chunk.columns[0])
        found = next((s for s in SEPARATORS if s in name), None)
        if found is not None:
            shown = separator_text(found)
            option = option_hint("sep", found, cli)
            raise DataError(
                f"{what} lacks column(s) {', '.join(map(repr, missing))} that the model was "
                f"trained on; it has a single column {name[:80]!r}: it looks like a "
                f"'{shown}'-separated file: pass {option}")
    require_columns(chunk, columns, what=what)


def trained_loader(folder: RunFolder | str | Path) -> dict[str, Any]:
    """The ``[loader]`` table the run (a run folder, or its path) was trained with, from its
    ``config.toml``; empty when it cannot be read. Scoring commands read new files with its
    settings (``sep``, ``decimal``, ``na_values``, a plugin's stream policy)."""
    import tomllib

    path = folder.path if isinstance(folder, RunFolder) else Path(folder)
    try:
        config = tomllib.loads((path / "config.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    loader = config.get("loader")
    return loader if isinstance(loader, dict) else {}


def trained_separator(folder: RunFolder) -> str | None:
    """The ``sep`` of the loader the run was trained with, or None when it has none."""
    sep = trained_loader(folder).get("sep")
    return sep if isinstance(sep, str) and sep else None


def trained_values(folder: RunFolder) -> dict[str, Any]:
    """How the trained loader read values in text files, to read new files alike:
    ``na_values`` (missing-value codes such as ``..``), ``decimal`` (``,`` for decimal
    commas) and ``keep_default_na`` (whether ``NA`` or ``null`` are missing); the pandas
    defaults where it set none."""
    loader = trained_loader(folder)
    na_values = loader.get("na_values")
    decimal = loader.get("decimal")
    default_na = loader.get("keep_default_na")
    return {"na_values": [str(v) for v in na_values] if isinstance(na_values, list) else [],
            "decimal": decimal if isinstance(decimal, str) and len(decimal) == 1 else ".",
            "keep_default_na": default_na if isinstance(default_na, bool) else True}


def input_separator(input_path: str | Path, sep: str | None, folder: RunFolder) -> str | None:
    """The separator to read a CSV input with: the one given (``\\t`` means a tab), else the
    trained loader's for a file that is not ``.tsv``, else None (',' or tab by suffix)."""
    if sep:
        return "\t" if sep in ("\\t", "tab", "TAB") else sep
    if is_url(input_path) or Path(str(input_path)).suffix.lower() == ".tsv":
        return None
    return trained_separator(folder)


def input_encoding(encoding: str | None, folder: RunFolder) -> str:
    """The encoding to read a CSV input with: the one given, else the trained loader's
    ``encoding`` (a run trained on a Latin-1 file reads its new Latin-1 files alike), else
    UTF-8."""
    if encoding:
        return encoding
    trained = trained_loader(folder).get("encoding")
    return trained if isinstance(trained, str) and trained else "utf-8"


def input_sheet(sheet: str | int | None, folder: RunFolder) -> str | int | None:
    """The sheet to read an Excel input from: the one given (a name, or digits: see
    :func:`~mlstat_core.excel.read_sheet`), else the trained loader's ``sheet``, else None (the
    first)."""
    if sheet is not None:
        return sheet
    trained = trained_loader(folder).get("sheet")
    return trained if isinstance(trained, str | int) and not isinstance(trained, bool) else None


def unseen_labels(chunk: pd.DataFrame, model: Model) -> dict[str, int]:
    """Target values in new records that the model never saw in training (blank ones are
    missing, as a CSV reads them: a Parquet or Excel file keeps them as text)."""
    roles = model.roles
    known = list(model.classes_ or [])
    if roles is None or not roles.target or roles.target not in chunk.columns or not known:
        return {}
    values = chunk[roles.target].dropna()
    values = values[values.astype(str).str.strip() != ""]
    if all(isinstance(c, int | float) and not isinstance(c, bool) for c in known):
        numbers = pd.to_numeric(values, errors="coerce")  # 1.0 in a column with gaps is 1
        seen = numbers.isin(known)
        counts = values[~seen].astype(str).value_counts()
    else:
        classes = {str(c) for c in known}
        counts = values.astype(str).value_counts()
        counts = counts[[label not in classes for label in counts.index]]
    return {label: int(n) for label, n in counts.items()}


def predict_file(
    run_dir: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    encoding: str | None = None,
    engine: str = DEFAULT_ENGINE,
    engine_options: dict[str, Any] | None = None,
    registry: Registry | None = None,
    id_column: str | None = None,
    probabilities: bool = True,
    sep: str | None = None,
    cli: bool = False,
    sheet: str | int | None = None,
    decimal: str | None = None,
) -> PredictSummary:
    """Score ``input_path`` into ``output_path`` with the run's model on the chosen engine.

    ``probabilities=False`` leaves out the ``proba_<class>`` columns: one per class is most of
    the output of a model with many classes, and the coding models' ``top_codes`` and
    ``top_scores`` already carry the best candidates.

    ``encoding`` is the text encoding of a CSV input; by default the one of the loader the
    run was trained with (its ``encoding``), else UTF-8.
    ``sep`` is the field separator of a CSV input; by default the one of the loader the run
    was trained with (its ``sep``), else ',' (tab for ``.tsv``). ``sheet`` is the sheet of
    an Excel input (a name, or a number counting from 0); by default the trained loader's
    ``sheet``, else the first. ``decimal`` is the decimal mark of a CSV or Excel input's
    numbers written as text (``,`` for ``0,5``); by default the trained loader's ``decimal``,
    else ``.``. Unexpected errors of plugin
    code are one :class:`PluginError` naming the component, its distribution and a file
    with the full traceback. Messages name this function's arguments (``output_path``,
    ``sep=';'``, ``chunk_size``), or with ``cli`` the ``mlstat predict`` options
    (``--output``, ``--sep ';'``, ``--chunk-size``). ``input_path`` is a file: to score a
    DataFrame in Python, use ``mlstat_core.load_model(run_dir).predict(frame)``."""
    from mlstat_core.engine import blame, label, sigterm_as_interrupt, temporary_traceback

    registry = registry or get_registry()
    check_arguments(run_dir, input_path, output_path, chunk_size, cli)
    check_decimal(decimal, None, cli)
    check_output(input_path, output_path, cli)
    runner = build_engine(engine, engine_options, registry)
    folder, model, factory, steps = load_model(run_dir, registry)
    name = folder.manifest["model"]["component"]
    task = task_of(folder, registry)
    job = ScoringJob(folder, model, factory, str(input_path), home_path(output_path),
                     chunk_size, input_encoding(encoding, folder), steps, id_column,
                     probabilities,
                     str(output_path) if is_url(output_path) else None,
                     input_separator(input_path, sep, folder),
                     label(name, registry.get("model", name).distribution), task, cli,
                     **input_values(decimal, folder), sheet=input_sheet(sheet, folder))
    check_decimal(decimal, csv_separator(input_path, job.sep), cli)
    entry = registry.engine(engine)
    with sigterm_as_interrupt(), blame("predict", f"engine {entry.full_name}",
                                       entry.distribution, temporary_traceback):
        summary = runner.score_file(job)
    warning = batch_warning(model, runner, summary.records, chunk_size, summary.engine)
    if warning:
        summary.warnings.append(warning)
    summary.run = run_record(folder)
    return summary


def run_record(folder: RunFolder) -> dict[str, Any]:
    """What identifies the model that scored: the run's id, its folder and the SHA-256 of
    each file of its model and of the profile read with it (from the manifest, which
    ``load_model`` checked them against)."""
    return {"run_id": folder.manifest.get("run_id"), "path": str(folder.path.resolve()),
            "model_files": model_files(folder.manifest.get("files") or {})}


def check_decimal(decimal: Any, separator: str | None = None, cli: bool = False) -> None:
    """A decimal mark given for the input (None: the trained loader's) is one character,
    neither a digit nor the field ``separator`` of a CSV input (None: not a CSV input)."""
    if decimal is None:
        return
    named = argument_name("decimal", cli)
    if not isinstance(decimal, str) or len(decimal) != 1 or decimal.isdigit() \
            or decimal.isspace():
        raise DataError(f"{named} is {decimal!r}; give the one character that marks decimals "
                        "in the input, such as ',' for 0,5 (or '.')")
    if decimal == separator:
        raise DataError(f"{named} {decimal!r} is also the input's field separator; give the "
                        f"separator the file has (such as {option_hint('sep', ';', cli)})")


def csv_separator(input_path: str | Path, separator: str | None) -> str | None:
    """The field separator a CSV input is read with (see :func:`input_separator`); None for
    an input that is not CSV."""
    suffix = Path(str(input_path)).suffix.lower()
    if suffix not in CSV_SUFFIXES:
        return None
    return separator or ("\t" if suffix == ".tsv" else ",")


def input_values(decimal: str | None, folder: RunFolder) -> dict[str, Any]:
    """How values of the input are read (:func:`trained_values`), with the decimal mark
    given (None: the trained loader's)."""
    values = trained_values(folder)
    if decimal is not None:
        values["decimal"] = decimal
    return values


def check_arguments(run_dir: Any, input_path: Any, output_path: Any, chunk_size: Any,
                    cli: bool = False) -> None:
    """The arguments of :func:`predict_file` that name files, and the chunk size, checked
    before anything is read."""
    for name, value in (("run_dir", run_dir), ("input_path", input_path),
                        ("output_path", output_path)):
        check_path_argument(value, name, cli)
    check_chunk_size(chunk_size, cli)


def batch_warning(model: Model, engine: Engine, records: int, chunk_size: int,
                  engine_name: str) -> str | None:
    """The warning for a model whose predictions depend on the records scored together
    (``Model.batch_dependence()``) when its records were split into chunks or partitions;
    None when they were not. ``mlstat predict`` and the predict step of ``mlstat run``."""
    reason = model.batch_dependence()
    local = isinstance(engine, LocalEngine)
    if not reason or (local and records <= chunk_size):
        return None
    how = f"chunks of {chunk_size:,}" if local \
        else f"the partitions and batches of {engine_name}"
    return (f"the {records:,} records were scored in {how}, and this model's predictions "
            f"depend on the records scored together: {reason}")


class LocalEngine(Engine):
    """In-process scoring, chunk by chunk: memory is bounded by the chunk size."""

    def score_frame(self, model: Model, frame: pd.DataFrame, chunk_size: int) -> pd.DataFrame:
        if len(frame) <= chunk_size:
            return model.predict(frame)
        parts = [model.predict(frame.iloc[i:i + chunk_size])
                 for i in range(0, len(frame), chunk_size)]
        return pd.concat(parts)

    def score_file(self, job: ScoringJob) -> PredictSummary:
        if job.output_url:
            raise DataError(f"the local engine writes local files, not {job.output_url}: "
                            "give a path, or use an engine that writes URLs (spark)")
        if job.output.is_dir():
            raise DataError(f"output {job.output} is a folder; the local engine writes one "
                            "CSV or Parquet file: give a file name")
        start = time.perf_counter()
        model = job.model
        checks = ChunkChecks(job.folder, model, job.id_column)
        writer = TableWriter(job.output)
        try:
            for chunk in iter_table(job.input, job.chunk_size, encoding=job.encoding,
                                    sep=job.sep, dtype=job.read_dtypes(), cli=job.cli,
                                    na_values=job.na_values, decimal=job.decimal,
                                    sheet=job.sheet, keep_default_na=job.keep_default_na):
                predicted = predict_checked(model, chunk, f"input {job.input}",
                                            job.model_name, job.task, job.cli)
                writer.write(parquet_safe(output_frame(chunk, predicted, model,
                                                        job.id_column, job.probabilities,
                                                        job.model_name)))
                checks.update(chunk)
            if checks.records == 0:
                raise DataError(f"input {job.input} has no records")
        except BaseException:
            writer.abort()
            raise
        writer.close()
        summary = finish_summary(job, checks.records, time.perf_counter() - start,
                                 checks.unseen, checks.drift_result(), "core.local")
        summary.warnings += checks.ids.warnings(job.cli)
        if checks.numbered:
            summary.notes.append(numbering_note(model, job.cli))
        return summary


class ChunkChecks:
    """What a scoring loop learns from the chunks it reads, for its warnings: the labels the
    model never saw (``unseen``: label -> records), drift from the run's training profile,
    repeated and missing ids (``ids``), and whether the records were numbered for want of
    ids (``numbered``); ``records`` counts them. ``mlstat predict`` and the coding queue."""

    def __init__(self, folder: RunFolder, model: Model, id_column: str | None = None) -> None:
        self.model = model
        self.id_column = id_column
        self.unseen: dict[str, int] = {}
        self.drift = drift_accumulator(folder)
        self.ids = DuplicateIds()
        self.numbered = False
        self.records = 0

    def update(self, chunk: pd.DataFrame) -> str | None:
        """Count one chunk in; its id column (see :func:`id_column_of`), None when the
        records are numbered."""
        column = id_column_of(chunk.columns, self.model, self.id_column)
        if column:
            self.ids.update(chunk[column], column)
        self.numbered = column is None
        self.records += len(chunk)
        for label, count in unseen_labels(chunk, self.model).items():
            self.unseen[label] = self.unseen.get(label, 0) + count
        if self.drift is not None:
            self.drift.update(chunk)
        return column

    def drift_result(self) -> dict[str, Any] | None:
        """The drift check's figures and warnings; None for a run without a profile."""
        return self.drift.result() if self.drift is not None else None


class DuplicateIds:
    """Counts records whose id repeats an earlier record's, across chunks: 8 bytes (a 64-bit
    hash) per record kept, not the ids themselves; an example id for the warning. The hashes
    are kept in sorted runs of halving sizes (merged like a binary counter), so each chunk is
    checked against O(log n) runs and the whole input costs O(n log n), not O(n^2). Records
    without an id (missing or blank) are counted apart, with the first one's data row."""

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []
        self.repeated = 0
        self.example: Any = None
        self.column: str | None = None
        self.missing = 0
        self.first_missing: str | None = None

    def update(self, ids: pd.Series, column: str) -> None:
        """Add one chunk's ids (index: the records' numbers in the input, from 0); missing
        and blank ones are counted as missing, not as repeated."""
        self.column = column
        blank = ids.isna().to_numpy() | np.array(
            [isinstance(v, str) and not v.strip() for v in ids], dtype=bool)
        if blank.any():
            self.missing += int(blank.sum())
            if self.first_missing is None:
                self.first_missing = first_record(ids.to_frame(), blank, None, by_label=True)
            ids = ids[~blank]
        if ids.empty:
            return
        hashes = pd.util.hash_pandas_object(ids.astype(str), index=False).to_numpy()
        order = np.sort(hashes)
        repeated = np.r_[False, order[1:] == order[:-1]]
        for run in self.runs:
            position = np.minimum(np.searchsorted(run, order), len(run) - 1)
            repeated |= run[position] == order
        if repeated.any():
            self.repeated += int(repeated.sum())
            if self.example is None:
                wanted = set(order[repeated].tolist())
                self.example = ids[[h in wanted for h in hashes.tolist()]].iloc[0]
        fresh = order[~repeated]
        if not fresh.size:  # every id of the chunk was seen before: nothing to keep
            return
        while self.runs and len(self.runs[-1]) <= len(fresh):
            fresh = np.sort(np.concatenate([self.runs.pop(), fresh]))
        self.runs.append(fresh)

    def warning(self, cli: bool = True) -> str | None:
        """The warning for repeated ids (naming ``--id-column``, or ``id_column`` with
        ``cli=False``); None when no id repeats."""
        if not self.repeated:
            return None
        return (f"{self.repeated:,} record(s) repeat the id of an earlier record in column "
                f"{self.column!r} (e.g. {quoted(self.example)}): their predictions cannot be told "
                "apart by record_id; make the ids unique, or pass another "
                f"{argument_name('id_column', cli)}")

    def missing_warning(self, cli: bool = True, column: str = OUTPUT_ID) -> str | None:
        """The warning for records without an id (their output ``column`` is empty); None
        when every record has one."""
        if not self.missing:
            return None
        return (f"{self.missing:,} record(s) have no id in column {self.column!r} (first at "
                f"{self.first_missing}): their {column} is empty, so their predictions cannot "
                "be matched to them; give every record an id, or pass another "
                f"{argument_name('id_column', cli)}")

    def warnings(self, cli: bool = True, column: str = OUTPUT_ID) -> list[str]:
        """The warnings for repeated and missing ids (see :meth:`warning`)."""
        return [w for w in (self.warning(cli), self.missing_warning(cli, column)) if w]


def finish_summary(job: ScoringJob, rows: int, seconds: float, unseen: dict[str, int],
                   drift: dict[str, Any] | None, engine: str,
                   details: dict[str, Any] | None = None) -> PredictSummary:
    """The summary every engine returns, with warnings for unseen labels and drift."""
    return PredictSummary(job.output_url or job.output, rows, seconds,
                          scoring_warnings(unseen, drift), unseen, drift, engine, details or {})


def scoring_warnings(unseen: dict[str, int], drift: dict[str, Any] | None) -> list[str]:
    """The warnings of a scoring pass for labels the model never saw (``unseen``: label ->
    records, from :func:`unseen_labels`) and for drift from the training profile (``drift``:
    the result of :func:`drift_accumulator`'s accumulator)."""
    warnings = []
    if unseen:
        warnings.append(f"{sum(unseen.values())} record(s) carry {len(unseen)} label(s) the "
                        f"model never saw in training: {', '.join(sorted(unseen)[:10])}")
    if drift:
        warnings += list(drift.get("warnings", []))
    return warnings


def drift_accumulator(folder: RunFolder) -> Any:
    """A streaming drift check against the run's training profile, when it has one."""
    profile_path = folder.path / PROFILE
    if not profile_path.is_file():
        return None
    try:
        from mlstat_core.quality.drift import DriftAccumulator
    except ImportError:
        return None
    try:
        return DriftAccumulator(read_json(profile_path))
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise DataError(f"the run folder is damaged: {profile_path} is not a drift profile "
                        f"({exc}); rerun the pipeline") from None
