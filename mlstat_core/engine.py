"""Runs a pipeline: load -> split -> fit -> predict -> assess -> persist.

The engine only talks to components through the contract in :mod:`mlstat_core.components`;
no plugin is special-cased here. Every run writes one folder (see :mod:`mlstat_core.artifacts`);
a run that fails leaves ``manifest.json`` with status ``failed`` and the error.
"""

from __future__ import annotations

import difflib
import signal
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core import reload_check
from mlstat_core.artifacts import (
    MODEL_DIR,
    PREDICTIONS,
    TEST_PART,
    TRAIN_PART,
    RunFolder,
    atomic_write_text,
    environment,
    now_iso,
    records_fingerprint,
    sha256_file,
)
from mlstat_core.builtins.loaders import code_columns
from mlstat_core.components import (
    AssessContext,
    Dataset,
    IndicatorResult,
    Model,
    Split,
)
from mlstat_core.config import PipelineConfig, ResolvedComponent, load_config
from mlstat_core.errors import (
    COMPONENT_DEFECT,
    DataError,
    FigureError,
    MlstatError,
    ModelError,
    PluginError,
    component_defect,
    listed,
    user_message,
)
from mlstat_core.inputs import home_path, marked_inputs
from mlstat_core.io import parquet_safe, quoted
from mlstat_core.registry import Registry, get_registry
from mlstat_core.tasks import TaskType

STEPS = ("load", "split", "fit", "predict", "outputs", "assess", "persist")
Progress = Callable[[str, str], None]
"""Called as progress(step, message) when a step starts ("") and when it ends."""
TRACEBACK_FILE = "traceback.txt"
"""Where a run keeps the full traceback of an unexpected error in component code."""
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
"""Model files refused at the persist step: safe formats only (skops, safetensors, JSON)."""


@dataclass
class RunInfo:
    """What lifecycle hooks receive about a run."""

    run_id: str
    run_dir: Path
    config: PipelineConfig


@dataclass
class RunResult:
    """The outcome of a run: where it is, its figures and its predictions. Its repr leaves
    out the bulky fields (indicators, predictions, manifest, model), so that a notebook
    shows a result in one line."""

    run_id: str
    run_dir: Path
    status: str
    indicators: list[IndicatorResult] = field(repr=False)
    predictions: pd.DataFrame = field(repr=False)
    manifest: dict[str, Any] = field(repr=False)
    model: Model | None = field(default=None, repr=False)
    warnings: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, Any]:
        """Scalar figures by indicator name (failed indicators are left out)."""
        return {r.name: r.value for r in self.indicators
                if r.status == "ok" and isinstance(r.value, int | float | str)}

    def metric(self, name: str) -> Any:
        """The value of the scalar figure ``name`` (as in :attr:`metrics`). A figure the run
        lacks, skipped, failed or not a single value is a :class:`FigureError` (a KeyError
        too) that says why and lists the run's figures."""
        figures = self.metrics
        if isinstance(name, str) and name in figures:
            return figures[name]
        raise FigureError(self._no_figure(name, figures))

    def _no_figure(self, name: Any, figures: dict[str, Any]) -> str:
        known = ", ".join(map(repr, figures)) or "none"
        found = next((r for r in self.indicators if r.name == name), None)
        if found is not None and found.status != "ok":
            why = found.error or found.explanation
            return (f"figure {name!r} of run {self.run_id} is {found.status}"
                    + (f": {why}" if why else ""))
        if found is not None:
            return (f"figure {name!r} of run {self.run_id} is not a single value: read it, with "
                    f"its details, from result.indicators (its scalar figures: {known})")
        named = [r.name for r in self.indicators
                 if name in {(indicator := str((r.details or {}).get("indicator"))),
                             indicator.rpartition(".")[2]}]  # with or without its plugin
        named = [n for n in named if n in figures] or named
        if named:
            return (f"{name!r} is an indicator, not a figure: give one of its figures "
                    f"({', '.join(map(repr, named))})")
        close = difflib.get_close_matches(str(name), list(figures), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        return f"run {self.run_id} has no figure {name!r}{hint} (its figures: {known})"


def _peak_memory_mb() -> float | None:
    """Peak resident memory of this process in MiB (2^20 bytes; the ``_mb`` of the name is
    kept for reports written before), None where the platform cannot say."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024.0  # bytes on macOS


def check_task_data(dataset: Dataset, config: PipelineConfig) -> None:
    """The data contract of the task type: required roles set, columns usable."""
    task = config.task
    if task.needs_target and not dataset.roles.target:
        raise DataError(f"task {task.name!r} needs a target column; set `target` in [loader] "
                        f"of {config.source}")
    if not dataset.roles.input_columns():
        raise DataError(f"the data set has no input columns; set `features` or `text` in "
                        f"[loader] of {config.source}")
    if task.needs_target and dataset.roles.target:
        check_target_values(dataset, config)
    if task.needs_target and "classification" in task.tags:
        n_classes = dataset.y.nunique(dropna=True)
        if n_classes < 2:
            raise DataError(
                f"target column {dataset.roles.target!r} has a single class "
                f"({quoted(dataset.y.dropna().iloc[0])}); classification needs at least two")


def _where(dataset: Dataset, mask: pd.Series) -> str:
    from mlstat_core.io import first_record

    return first_record(dataset.frame, mask, dataset.roles.id)


def check_target_values(dataset: Dataset, config: PipelineConfig) -> None:
    """A supervised task needs a known target for every record, and a classification task
    needs class labels, not measurements."""
    y, column = dataset.y, dataset.roles.target
    missing = y.isna()
    if missing.any():
        fix = (f"set `dropna_target = true` in [loader] of {config.source} to drop those "
               "records, or fill them in"
               if "dropna_target" in type(config.loader.params).model_fields
               else "drop those records or fill them in")
        raise DataError(
            f"target column {column!r} has {int(missing.sum())} missing value(s) (first at "
            f"{_where(dataset, missing)}) and a model cannot learn from them; {fix}")
    if "classification" in config.task.tags and pd.api.types.is_float_dtype(y):
        fractional = (y % 1) != 0
        if fractional.any():
            example = float(y[fractional].iloc[0])
            raise DataError(
                f"target column {column!r} holds continuous numbers (e.g. {example:g} at "
                f"{_where(dataset, fractional)}), but task {config.task.name!r} predicts "
                f"classes; use task 'tabular_regression' with a regression model, or make "
                "the target class labels" + (
                    " (codes such as 1.10 are read as text with target_type = \"text\" in "
                    "[loader])" if "target_type" in type(config.loader.params).model_fields
                    else ""))
    if "classification" in config.task.tags and pd.api.types.is_numeric_dtype(y) \
            and not pd.api.types.is_bool_dtype(y):
        # whole numbers of many values (an age, an amount): a measurement taken for classes
        counts = y.value_counts()
        small = int((counts < 5).sum())
        if len(counts) > 20 and small:
            warnings.warn(
                f"target column {column!r} holds {len(counts):,} distinct numbers ({small:,} "
                f"of them on fewer than 5 records), and task {config.task.name!r} takes each "
                "number for a class of its own: if it is a measurement (an age, an amount), "
                "use task 'tabular_regression' with a regression model such as "
                "core.random_forest_regressor; if the numbers are codes, ignore this",
                stacklevel=2)


def prediction_frame(dataset: Dataset, positions: np.ndarray, predicted: pd.DataFrame,
                     split: Split | None = None, model_name: str = "the model",
                     fold: int | None = None) -> pd.DataFrame:
    """Predictions with the record id, the true value (when known), the part of the records
    each one is in (``split``: ``test``, or ``train`` for a record ``split`` also trains on;
    all ``test`` without a split, as in an evaluation) and, in a cross-validated run, its
    ``fold``; the model's rows are matched to the records by index, never by position."""
    from mlstat_core.predict import aligned

    part = dataset.frame.iloc[positions]
    id_col = dataset.roles.id
    frame = pd.DataFrame(index=part.index)
    frame["record_id"] = part[id_col].to_numpy() if id_col else part.index.to_numpy()
    if dataset.roles.target:
        frame["true"] = part[dataset.roles.target].to_numpy()
    learnt = np.isin(positions, split.train) if split is not None \
        else np.zeros(len(part), dtype=bool)
    frame["split"] = np.where(learnt, TRAIN_PART, TEST_PART)
    if fold is not None:
        frame["fold"] = fold
    return pd.concat([frame, aligned(predicted, part.index, model_name)], axis=1)


# --- unexpected errors in component code -----------------------------------------------------


def write_traceback(path: Path, exc: BaseException) -> Path | None:
    """Write the full traceback of ``exc`` to ``path``; None when it cannot be written."""
    text = "".join(traceback.format_exception(exc))
    try:
        atomic_write_text(path, text)
    except OSError:
        return None
    return path


def temporary_traceback(exc: BaseException) -> Path | None:
    """Keep a traceback in a new file of the temporary folder (``mlstat predict``, which must
    not write into the run folder)."""
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - the file outlives this call
            "w", prefix="mlstat-traceback-", suffix=".txt", delete=False, encoding="utf-8")
    except OSError:
        return None
    with handle:
        handle.write("".join(traceback.format_exception(exc)))
    return Path(handle.name)


def label(component: str, distribution: str | None) -> str:
    """``plugin.name (distribution dist)``, or the name alone when the distribution is not
    known."""
    return f"{component} (distribution {distribution})" if distribution else component


def component_failure(exc: BaseException, step: str, who: str, distribution: str | None,
                      kept: Path | None, advice: str | None = None) -> PluginError:
    """One message for an unexpected error raised by a component's code: the step, the
    component and its distribution, the exception, where the full traceback is kept, and
    what to do (``advice`` when the caller knows a likelier cause than a defect)."""
    lines = str(exc).strip().splitlines()
    text = lines[0][:300] if lines else ""
    where = f"; full traceback in {kept}" if kept else ""
    if isinstance(exc, MemoryError):
        advice = ("The data did not fit in memory: score in smaller chunks (--chunk-size), "
                  "use a sample, or a machine with more memory")
    elif advice is None:
        advice = ("This is an error in that component's code or in data it does not handle; "
                  "report it to its authors with the traceback")
    failure = PluginError(
        f"step {step}: {label(who, distribution)} raised {type(exc).__name__}"
        + (f": {text}" if text else "") + f"{where}. {advice}")
    failure.exit_code = COMPONENT_DEFECT  # not the user's mistake: a scheduler alerts apart
    return failure


Culprit = Callable[[BaseException], tuple[str, str | None]]
"""Who raised an exception: ``(what component, its distribution)``."""


@contextmanager
def blame(step: str, who: str | Culprit, distribution: str | None,
          keep: Callable[[BaseException], Path | None], advice: str | None = None
          ) -> Iterator[None]:
    """Turn an unexpected exception of component code into one :class:`PluginError` (see
    :func:`component_failure`); ``who`` names the component (or finds it from the
    exception), ``keep`` writes the traceback and says where. A user's mistake (an
    MlstatError, a file that cannot be read or written) passes through unchanged."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, MlstatError) or user_message(exc) is not None:
            raise
        name, origin = who(exc) if callable(who) else (who, distribution)
        raise component_failure(exc, step, name, origin, keep(exc), advice) from exc


def _module_of(factory: str) -> str:
    return factory.partition(":")[0]


DEVELOPER_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
"""Warnings that libraries address to developers; a run does not report them."""


class Runner:
    """One run of one pipeline, step by step."""

    def __init__(self, config: PipelineConfig, out: str | Path | None, registry: Registry,
                 progress: Progress | None) -> None:
        self.config = config
        self.registry = registry
        self.progress = progress or (lambda step, message: None)
        out_dir = home_path(out if out is not None else config.file.output.dir)
        base = Path.cwd() if out is not None else config.base_dir
        self.out_dir = (out_dir if out_dir.is_absolute() else base / out_dir).resolve()
        self.timings: dict[str, float] = {}
        self.step_counts: dict[str, int] = {}
        self.warnings: list[str] = []
        self.hook_warnings: list[str] = []
        self.folder: RunFolder | None = None
        self._persisted_warnings = 0

    def step(self, name: str, fn: Callable[[], Any], describe: Callable[[Any], str],
             component: ResolvedComponent | None = None) -> Any:
        """Run one step, timed, its warnings kept with the run (:meth:`recording`). An
        unexpected exception is one PluginError naming the step and ``component`` (see
        :meth:`blamed`)."""
        self.progress(name, "")
        start = time.perf_counter()
        with self.blamed(name, component), self.recording(name):
            value = fn()
        seconds = time.perf_counter() - start
        self.timings[name] = self.timings.get(name, 0.0) + seconds
        self.step_counts[name] = self.step_counts.get(name, 0) + 1
        message = describe(value)
        self.progress(name, f"{message} ({seconds:.2f} s)")
        self.notify("mlstat_step_finished", run=self.info, step=name, seconds=seconds,
                    details={"message": message})
        return value

    @contextmanager
    def recording(self, step: str) -> Iterator[None]:
        """Keep the warnings raised inside with the run (manifest, summary), each once, as
        ``<step>: <message>``, instead of printing them as Python warnings. Python's warning
        filters are process-wide, so only a run in the main thread records them; a run in
        another thread leaves its warnings to Python."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        self.keep_warnings(step, caught)

    def keep_warnings(self, step: str, caught: list[warnings.WarningMessage]) -> None:
        """Keep ``caught`` warnings with the run, each once, as ``<step>: <message>``."""
        for w in caught:
            if issubclass(w.category, DEVELOPER_WARNINGS + self.ignored_warnings):
                continue  # a library's notice to its developers, not about this run's data
            text = f"{step}: {w.message}"
            if text not in self.warnings:
                self.warnings.append(text)

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a lifecycle hook; a failing implementation becomes a run warning."""
        found = self.registry.notify(hook_name, **kwargs)
        self.warnings += found
        self.hook_warnings += found

    def blamed(self, step: str, component: ResolvedComponent | None
               ) -> AbstractContextManager[None]:
        """:func:`blame` for a run: the traceback goes to the run folder's traceback.txt
        (listed in the manifest). With preprocessing steps, a transform whose module is in
        the traceback is named rather than the model."""
        def who(exc: BaseException) -> tuple[str, str | None]:
            culprit = self._culprit(exc, component)
            if culprit is None:
                return "mlstat-core", None
            return f"{culprit.entry.kind} {culprit.name}", culprit.entry.distribution

        return blame(step, who, None, self._keep_traceback)

    @property
    def model_label(self) -> str:
        """The model's component and distribution, as messages about it name them."""
        return label(self.config.model.name, self.config.model.entry.distribution)

    def _culprit(self, exc: BaseException, component: ResolvedComponent | None
                 ) -> ResolvedComponent | None:
        if component is None or component is not self.config.model or not self.config.preprocess:
            return component
        modules = {frame.f_globals.get("__name__")
                   for frame, _ in traceback.walk_tb(exc.__traceback__)}
        steps = [p for p in self.config.preprocess
                 if _module_of(p.entry.spec.factory) in modules]
        return steps[-1] if steps else component

    def _keep_traceback(self, exc: BaseException) -> Path | None:
        folder = self.folder
        if folder is None:
            return temporary_traceback(exc)
        path = write_traceback(folder.path / TRACEBACK_FILE, exc)
        if path is not None:
            folder.record(TRACEBACK_FILE)
        return path

    def build_engine(self) -> Any:
        from mlstat_core.predict import build_engine

        predict = self.config.file.predict
        return build_engine(predict.engine, predict.options, self.registry)

    def new_model(self) -> Model:
        model = self.config.model.build(task=self.config.task.name)
        if self.config.preprocess:
            from mlstat_core.preprocess import Preprocessed

            model = Preprocessed([(p.name, _transform(p)) for p in self.config.preprocess],
                                 model)
        model.seed = self.config.seed
        return model

    folder_name_suffix = ""
    """Added to the pipeline's name in the run folder's name (``-evaluation``)."""
    ignored_warnings: tuple[type[Warning], ...] = ()
    """Warnings of these kinds are not the run's (an evaluation ignores TrainingDataWarning)."""

    def manifest_fields(self) -> dict[str, Any]:
        """What the manifest says of the run from its start: task, seed, components, the
        configuration's hash and source, and the software."""
        cfg = self.config
        components = {"loader": cfg.loader.name, "split": cfg.split.name,
                      "model": cfg.model.name,
                      "indicators": [i.name for i in cfg.indicators]}
        return dict(
            task=cfg.task.name, seed=cfg.seed,
            description=cfg.file.pipeline.description or None, components=components,
            config_sha256=cfg.config_hash(), source=cfg.source,
            base_dir=str(Path(cfg.base_dir).resolve()),
            environment=environment(self.registry.distributions_used(cfg.component_names())))

    def execute(self) -> RunResult:
        cfg = self.config
        folder = RunFolder.create(self.out_dir, cfg.name + self.folder_name_suffix,
                                  **self.manifest_fields())
        self.folder = folder
        self.info = RunInfo(folder.manifest["run_id"], folder.path, cfg)
        try:
            atomic_write_text(folder.path / "config.toml", cfg.to_toml())
            folder.record("config.toml")
            self.notify("mlstat_run_started", run=self.info)
            result = self._steps(folder)
        except BaseException as exc:
            message = failure_message(exc)
            from mlstat_core.report.build import REPORT_HTML, REPORT_JSON

            folder.forget(REPORT_JSON, REPORT_HTML)  # written before it failed: 'succeeded'
            folder.finish("failed", error=message, timings=self.timings,
                          warnings=self.warnings)
            self.notify("mlstat_run_failed", run=self.info, error=exc)
            folder.update(warnings=list(self.warnings))
            exc.run_warnings = list(self.hook_warnings)  # type: ignore[union-attr]
            exc.run_dir = folder.path  # type: ignore[union-attr]
            raise
        self.notify("mlstat_run_finished", run=self.info, result=result)
        if len(self.warnings) != self._persisted_warnings:
            self._record_late_warnings(folder, result.indicators)
        return result

    def _record_late_warnings(self, folder: RunFolder, results: list[IndicatorResult]) -> None:
        """Warnings raised after the persist step wrote the manifest and the report (by the
        hooks called when it and the run finished): written into both. The report's own
        warnings, raised again while it is rewritten, are kept as the persist step's."""
        folder.update(warnings=list(self.warnings))
        with self.recording("persist"):
            self._write_report(folder, results)
        folder.update(warnings=list(self.warnings))  # also saves the report's files' hashes

    def _steps(self, folder: RunFolder) -> RunResult:
        from mlstat_core.predict import batch_warning

        cfg = self.config
        dataset: Dataset = self.step("load", self._load,
                                     lambda d: f"{len(d):,} records from {d.name}", cfg.loader)
        with self.recording("load"):  # a warning on the target is the run's
            check_task_data(dataset, cfg)
        fingerprints = self._record_inputs(folder, dataset)
        scorer = self.build_engine()
        chunk = cfg.file.predict.chunk_size
        with self.blamed("split", cfg.split):
            splitter = cfg.split.build()
        splitter.task = cfg.task  # the splitter may depend on it (stratify classes only)
        splits: list[Split] = self.step(
            "split", lambda: splitter.split(dataset, cfg.seed),
            lambda s: ", ".join(f"{x.name}: {len(x.train):,} train / {len(x.test):,} test"
                                + (f" / {len(x.validation):,} validation"
                                   if x.validation is not None else "") for x in s[:3])
            + (" ..." if len(s) > 3 else ""), cfg.split)
        if not splits:
            raise DataError(f"{cfg.split.name} produced no split")
        self._splits = splits

        parts: list[pd.DataFrame] = []
        model: Model | None = None
        batched: str | None = None
        for number, split in enumerate(splits):
            with self.blamed("fit", cfg.model):
                model = self.new_model()
            train = dataset.subset(split.train)
            validation = dataset.subset(split.validation) if split.validation is not None \
                and len(split.validation) else None
            self.step("fit", lambda m=model, t=train, v=validation: self._fit(m, t, v),
                      lambda _m, t=train: f"{cfg.model.name} on {len(t):,} records", cfg.model)
            test = dataset.subset(split.test)
            predicted = self.step("predict",
                                  lambda m=model, t=test: self._predict(scorer, m, t, chunk),
                                  lambda p: f"{len(p):,} records", cfg.model)
            parts.append(prediction_frame(dataset, split.test, predicted, split,
                                          self.model_label,
                                          fold=number if len(splits) > 1 else None))
            batched = batched or batch_warning(  # the first split's, once per run
                model, scorer, len(test), chunk,
                self.registry.engine(cfg.file.predict.engine).full_name)
        predictions = pd.concat(parts)
        assert model is not None
        if batched:
            self.warnings.append(batched)
        unusable = unusable_labels(predictions, model, cfg.task, self.model_label)
        if unusable:
            self.warnings.append(unusable)
        if len(splits) > 1:  # cross-validated: the saved model learns from every record
            with self.blamed("fit", cfg.model):
                model = self.new_model()
            self.step("fit", lambda: self._fit(model, dataset, None),
                      lambda _m: f"final model on all {len(dataset):,} records", cfg.model)

        first = splits[0]
        test_positions = np.concatenate([s.test for s in splits])
        test = dataset.subset(test_positions)
        return self._assess_and_persist(
            folder, model, dataset, test, predictions, fingerprints,
            train=dataset.subset(first.train),
            validation=dataset.subset(first.validation) if first.validation is not None
            else None,
            held_out=len(splits) == 1,
            refit=self._refit_callable(dataset, first) if len(splits) == 1 else None)

    def test_records(self, test: Dataset) -> dict[str, Any]:
        """The test records' fingerprint (``mlstat compare`` ranks only runs tested on the
        same records): their identity is their id (else their row) and their target."""
        roles = test.roles
        return records_fingerprint(test.frame, [c for c in (roles.id, roles.target) if c],
                                   by_row=not roles.id)

    def _assess_and_persist(self, folder: RunFolder, model: Model, dataset: Dataset,
                            test: Dataset, predictions: pd.DataFrame,
                            fingerprints: dict[str, str], **context: Any) -> RunResult:
        """The steps after prediction: the test records' fingerprint, the model's outputs,
        the indicators (``context``: the AssessContext's train, validation, held_out and
        refit), then the run folder's files."""
        cfg = self.config
        folder.update(test_records=self.test_records(test))
        ordered = predictions.reset_index(drop=True).set_axis(test.frame.index)
        outputs = self.step("outputs", lambda: self._outputs(folder, model, predictions, test),
                            lambda files: f"{len(files)} file(s)", cfg.model)
        ctx = AssessContext(
            task=cfg.task, model=model, test=test, predictions=ordered,
            seed=cfg.seed, timings=dict(self.timings), step_counts=dict(self.step_counts),
            peak_memory_mb=_peak_memory_mb(),
            fingerprints=fingerprints, config_hash=cfg.config_hash(),
            environment=folder.manifest["environment"],
            settings={"base_dir": str(cfg.base_dir), **cfg.file.quality},
            outputs=outputs, **context)
        results = self.step(
            "assess", lambda: self._assess(ctx),
            lambda r: f"{sum(x.status == 'ok' for x in r)} of {len(r)} figures computed")
        self.warnings += unmatched_targets(cfg.file.quality, results)
        learnt = _learnt_from(dataset, context)
        self.step("persist", lambda: self._persist(folder, model, predictions, dataset, results,
                                                   learnt),
                  lambda _x: str(folder.path))
        return RunResult(folder.manifest["run_id"], folder.path, "succeeded", results,
                         predictions, folder.manifest, model, self.warnings)

    @staticmethod
    def _record_inputs(folder: RunFolder, dataset: Dataset) -> dict[str, str]:
        """Fingerprint the files the loader read (path: SHA-256) and write them, the column
        roles and the number of records into the manifest; return the fingerprints."""
        fingerprints = {str(p): sha256_file(p) for p in dataset.sources if Path(p).is_file()}
        folder.update(inputs=fingerprints, roles=dataset.roles.as_dict(), records=len(dataset))
        return fingerprints

    def _load(self) -> Dataset:
        """The loader's data set, held to the contract: a Dataset whose roles name columns
        of its frame."""
        cfg = self.config
        dataset = cfg.loader.build().load(cfg.base_dir)
        if not isinstance(dataset, Dataset):
            raise component_defect(PluginError(
                f"loader {label(cfg.loader.name, cfg.loader.entry.distribution)} "
                f"returned a {type(dataset).__name__}, not a mlstat_core.components.Dataset; "
                "its load() must return Dataset(frame, roles, name, sources)"))
        missing = [c for c in dataset.roles.all_columns() if c not in dataset.frame.columns]
        if missing:
            who = label(cfg.loader.name, cfg.loader.entry.distribution)
            has = ", ".join(map(repr, list(dataset.frame.columns)[:20]))
            problem = (f"loader {who} gives column role(s) to "
                       f"{', '.join(map(repr, missing))}, which the data lacks (it has {has})")
            if set(missing) & _strings_in(cfg.loader.params.model_dump(mode="json")):
                raise DataError(f"{problem}; check the column names in [loader] of "
                                f"{cfg.source}")
            raise component_defect(PluginError(
                f"{problem}, and the pipeline file names none of them: a defect of the loader; "
                f"report it to the authors of {cfg.loader.entry.distribution or 'its plugin'}"))
        given = [ref.value for ref in marked_inputs(cfg.loader.params)]
        if not len(dataset.frame):
            read = listed([str(s) for s in dataset.sources] or given, 3)
            raise DataError(
                f"loader {label(cfg.loader.name, cfg.loader.entry.distribution)} returned no "
                f"records{f' from {read}' if read else ''}: check that the input holds records "
                f"and that the settings in [loader] of {cfg.source} keep some")
        if given and not dataset.sources:
            self.warnings.append(
                f"load: loader {label(cfg.loader.name, cfg.loader.entry.distribution)} read "
                f"{listed(given, 3)} but listed no file in its Dataset's sources, so the run "
                "records no fingerprint of its input (provenance) and mlstat compare cannot "
                "tell whether runs read the same data; its load() should return "
                "Dataset(..., sources=[the files read])")
        return dataset

    def _predict(self, scorer: Any, model: Model, test: Dataset, chunk: int) -> pd.DataFrame:
        """The model's predictions of the test records, in their order and held to the task's
        contract (prediction columns, probabilities in [0, 1])."""
        from mlstat_core.predict import aligned, check_predictions

        name = self.model_label
        predicted = aligned(scorer.score_frame(model, test.frame, chunk), test.frame.index, name)
        check_predictions(predicted, self.config.task, name)
        return predicted

    def _outputs(self, folder: RunFolder, model: Model, predictions: pd.DataFrame,
                 test: Dataset) -> list[Path]:
        """The model's task-specific outputs (map, audit log, index), written before the
        indicators run so that they can assess them."""
        files = [Path(p) for p in model.write_outputs(folder.path / "outputs", predictions, test)]
        for path in files:
            folder.record(path.resolve().relative_to(folder.path.resolve()))
        return files

    def _fit(self, model: Model, train: Dataset, validation: Dataset | None) -> Model:
        """Fit the model; what a hand-written ``fit`` left unset and the engine knows is set
        from the training records: ``roles`` (``mlstat predict`` finds the id column by them)
        and, for classification, ``classes_`` (the labels seen in training)."""
        model.fit(train, validation)
        if getattr(model, "roles", None) is None:
            model.roles = train.roles
        if getattr(model, "classes_", None) is None and "classification" in \
                self.config.task.tags and train.roles.target:
            model.classes_ = sorted(pd.unique(train.y.dropna()).tolist(), key=str)
        return model

    def _refit_callable(self, dataset: Dataset, split: Split) -> Callable[[], pd.DataFrame]:
        def refit() -> pd.DataFrame:
            model = self.new_model()
            validation = dataset.subset(split.validation) if split.validation is not None \
                else None
            self._fit(model, dataset.subset(split.train), validation)
            test = dataset.subset(split.test)
            return model.predict(test.frame)

        return refit

    def _assess(self, ctx: AssessContext) -> list[IndicatorResult]:
        from mlstat_core.quality.runner import refuse_name_clashes, run_indicator

        results: list[IndicatorResult] = []
        for resolved in self.config.indicators:
            dimension = resolved.entry.spec.dimension or "accuracy"
            try:
                indicator = resolved.build()
            except Exception as exc:  # e.g. an optional extra is missing: report, go on
                error = str(exc) if isinstance(exc, MlstatError) \
                    else f"{type(exc).__name__}: {exc}"
                results.append(IndicatorResult(
                    name=resolved.name, dimension=dimension, status="failed", error=error,
                    explanation="This indicator could not be built; the others were computed.",
                    details={"indicator": resolved.name}))
                continue
            results += run_indicator(indicator, resolved.name, dimension, ctx)
        return refuse_name_clashes(results)

    def _save_trained(self, folder: RunFolder, model: Model, dataset: Dataset,
                      learnt: pd.DataFrame | None = None) -> None:
        """The model, the profile of its inputs in the records it learnt from (``learnt``,
        else every record; for drift checks) and those records' hashes (for ``mlstat
        evaluate``). The test records are left out of the profile: new data are compared
        with what the model learnt from, as the drift warning says."""
        self._save_model(folder, model, reload_check.sample(dataset.frame))
        profile = _training_profile(dataset, model,
                                    learnt if learnt is not None else dataset.frame)
        if profile is not None:
            from mlstat_core.artifacts import write_json

            write_json(folder.path / "profile.json", profile)
            folder.record("profile.json")
        if learnt is not None:
            from mlstat_core import training_records

            training_records.save(folder.path / training_records.TRAINING_RECORDS, learnt,
                                  model.roles or dataset.roles, code_columns(dataset))
            folder.record(training_records.TRAINING_RECORDS)

    def _persist(self, folder: RunFolder, model: Model, predictions: pd.DataFrame,
                 dataset: Dataset, results: list[IndicatorResult],
                 learnt: pd.DataFrame | None = None) -> None:
        self._save_trained(folder, model, dataset, learnt)
        if self.config.file.output.predictions:
            tmp = folder.path / f".{PREDICTIONS}.partial"
            parquet_safe(predictions).to_parquet(tmp, index=False)
            tmp.replace(folder.path / PREDICTIONS)
            folder.record(PREDICTIONS)
        folder.update(model={"component": self.config.model.name,
                             "preprocess": [p.name for p in self.config.preprocess],
                             "classes": model.classes_},
                      timings=self.timings, peak_memory_mb=_peak_memory_mb(),
                      warnings=list(self.warnings))
        self._persisted_warnings = len(self.warnings)
        finished = now_iso()  # the report shows the final status and time
        folder.manifest.update(status="succeeded", finished_at=finished)
        self._write_report(folder, results)
        folder.finish("succeeded", finished_at=finished)

    def _write_report(self, folder: RunFolder, results: list[IndicatorResult]) -> None:
        from mlstat_core.report import build_report, write_report

        report = build_report(results, folder.manifest, self.config.file.quality)
        for path in write_report(folder.path, report):
            folder.record(path.relative_to(folder.path))

    def _save_model(self, folder: RunFolder, model: Model, sample: pd.DataFrame) -> None:
        """Save the model under model/ and hold it to the contract: files only there, at
        least one, none a pickle, loadable by its own class (a type missing from
        ``trusted_types`` fails the run now, not ``mlstat predict`` later) and, loaded, it
        predicts ``sample`` as before saving."""
        cfg = self.config
        name = self.model_label
        model_dir = folder.path / MODEL_DIR
        before = _listing(folder.path)
        with self.blamed("persist", cfg.model):
            model.save(model_dir)
        stray = _written_outside(before, _listing(folder.path))
        if stray:
            shown = ", ".join(str(p) for p in stray[:3]) + (" ..." if len(stray) > 3 else "")
            raise component_defect(ModelError(
                f"model {name}: save() wrote {len(stray)} file(s) outside the model folder "
                f"{model_dir}: {shown}; save() must write only into the directory it is given "
                "(and load() read only from there)"))
        files = sorted(p for p in model_dir.rglob("*") if p.is_file()) \
            if model_dir.is_dir() else []
        if not files:
            raise component_defect(ModelError(
                f"model {name}: save() wrote no file under {model_dir}; it must write the "
                "fitted state into the directory it is given (Model.write_state and "
                "SklearnModel do)"))
        pickles = [p.relative_to(model_dir).as_posix() for p in files
                   if p.suffix.lower() in PICKLE_SUFFIXES]
        if pickles:
            name = self._writer_of(pickles[0])
            raise component_defect(ModelError(
                f"{name}: save() wrote pickle file(s) {', '.join(pickles[:5])}; "
                "safe formats only: skops, safetensors, JSON (SklearnModel saves with skops)"))
        folder.record_tree(MODEL_DIR)
        self._check_reloaded(model, self._load_back(model_dir), sample)

    def _writer_of(self, relative: str) -> str:
        """Who wrote a file of the model folder: a preprocessing step (``preprocess/<i>/``)
        or the model."""
        from mlstat_core.preprocess import STEPS_DIR

        parts = relative.split("/")
        if len(parts) > 2 and parts[0] == STEPS_DIR and parts[1].isdigit() \
                and int(parts[1]) < len(self.config.preprocess):
            step = self.config.preprocess[int(parts[1])]
            return f"preprocessing step {label(step.name, step.entry.distribution)}"
        return f"model {self.model_label}"

    def _check_reloaded(self, model: Model, reloaded: Model, sample: pd.DataFrame) -> None:
        """The loaded model (and steps) must predict ``sample`` as the fitted one does. A
        model whose own predictions change from one call to the next cannot be checked so:
        said in a warning. The predictions' own warnings are not the run's (they were given
        when the test records were scored)."""
        from mlstat_core.preprocess import Preprocessed

        if sample.empty:
            return
        with self.blamed("persist", self.config.model), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            given = sample.copy()
            before = model.predict(sample)
            if not given.equals(sample):  # else read as predictions that change by call
                raise component_defect(ModelError(
                    f"model {self.model_label}: predict() changed the frame it was given (a "
                    "column added, removed or overwritten), so the records a caller passes "
                    "are no longer as given; work on a copy in predict() (frame = "
                    "frame.copy())"))
            changed = reload_check.changed_records(before, reloaded.predict(sample))
            if changed and reload_check.changed_records(before, model.predict(sample)):
                self.warnings.append(
                    f"persist: {self.config.model.name} predicts the same records differently "
                    "from one call to the next, so the saved model could not be checked "
                    "against the fitted one; mlstat predict will not repeat the run's "
                    "predictions exactly")
                return
            step = model.first_lossy_step(reloaded, sample) if changed and isinstance(
                model, Preprocessed) and isinstance(reloaded, Preprocessed) else None
        if not changed:
            return
        who = (f"preprocessing step {step}: its save() or load_state()" if step else
               f"model {self.model_label}: its save() or load()")
        raise component_defect(ModelError(
            f"the saved model predicts differently once loaded ({len(changed)} of "
            f"{len(sample)} records checked, first at record {quoted(changed[0])}), so "
            f"mlstat predict would not give the run's predictions; {who} loses fitted "
            "state: save everything fit() learns and read it back"))

    def _load_back(self, model_dir: Path) -> Model:
        """Load the saved model once through its component's class, as ``mlstat predict``
        will; a model its own class cannot load fails the run, with the fix."""
        from mlstat_core.preprocess import load_fitted

        cfg = self.config
        factory = cfg.model.entry.spec.factory
        steps = [(p.name, p.entry.spec.factory, p.entry.spec.params) for p in cfg.preprocess]
        try:
            with self.blamed("persist", cfg.model):
                return load_fitted(model_dir, factory, steps)
        except MlstatError as exc:
            untrusted = getattr(exc, "untrusted_types", None)
            cls = factory.rpartition(":")[2] or factory
            why = (f"they hold type(s) its trusted_types do not list "
                   f"({', '.join(untrusted)})" if untrusted else str(exc))
            fix = (f"add {', '.join(map(repr, untrusted))} to {cls}.trusted_types (only types "
                   "your own model writes)" if untrusted
                   else f"make {cls}.load() read what {cls}.save() writes")
            raise ModelError(
                f"model {self.model_label}, class {factory.replace(':', '.')}, cannot load "
                f"the files it saved, so the run could not be used for prediction: {why}; "
                f"{fix}"
            ) from exc


def _transform(step: ResolvedComponent) -> Any:
    """A preprocessing step built and held to the Transform contract (else a wrong class
    fails in fit with an AttributeError blamed on the model)."""
    built = step.build()
    lacking = [m for m in ("fit", "transform", "save", "load_state")
               if not callable(getattr(built, m, None))]
    if lacking:
        raise PluginError(
            f"transform {label(step.name, step.entry.distribution)} built a "
            f"{type(built).__qualname__}, which lacks {', '.join(f'{m}()' for m in lacking)}: "
            "its factory must give a subclass of mlstat_core.components.Transform; report it "
            "to the plugin's authors")
    return built


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (SIGTERM): handled like Ctrl-C."""

    exit_code = 143  # 128 + SIGTERM, as shells report a process ended by it


def unusable_labels(predictions: pd.DataFrame, model: Model, task: TaskType,
                    name: str) -> str | None:
    """A warning when a classifier's test predictions hold missing values or labels that are
    not among the classes it was trained on (``classes_``): a hand-written ``predict`` that
    the contract check lets through, whose figures would otherwise look complete."""
    from mlstat_core.quality.accuracy import label_strings

    if "classification" not in task.tags or "prediction" not in predictions.columns:
        return None
    labels = label_strings(predictions["prediction"])  # 1.0 is 1, as the figures read it
    missing = int(labels.isna().sum())
    classes = getattr(model, "classes_", None)
    known = set(label_strings(pd.Series(list(classes), dtype=object)).dropna()) \
        if classes is not None else set()
    unknown = labels[labels.notna() & ~labels.isin(known)] if known else labels[:0]
    parts = ([f"{missing:,} got no prediction (the model could not score them)"]
             if missing else []) + (
        [f"{len(unknown):,} got labels it was never trained on "
         f"({listed(sorted(set(unknown)), 5)}): check its predict()"] if len(unknown) else [])
    if not parts:
        return None
    return (f"predict: of the {len(labels):,} test records of model {name}, "
            f"{'; '.join(parts)}; the figures count them as they are")


def failure_message(exc: BaseException) -> str:
    """What a failed run's manifest says about why."""
    if isinstance(exc, Interrupted):
        return "interrupted (SIGTERM)"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    if isinstance(exc, MlstatError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def unmatched_targets(quality: dict[str, Any], results: list[IndicatorResult]) -> list[str]:
    """Warnings for ``[quality] targets`` that name no figure of this run (a typo, say). Only
    figure names are suggested: the result that stands for a failed indicator carries the
    component's name, which no target can name."""
    targets = quality.get("targets")
    if not isinstance(targets, dict):
        return []
    produced = sorted({r.name for r in results if not _stands_for_component(r)})
    out = []
    for name in targets:
        if name in produced:
            continue
        close = difflib.get_close_matches(str(name), produced, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else \
            f"; figures of this run: {', '.join(produced[:12])}"
        out.append(f"quality: target {name!r} names no figure of this run{hint}")
    return out


def _stands_for_component(result: IndicatorResult) -> bool:
    """True for the result recorded in place of an indicator that failed (named after it)."""
    return result.status == "failed" and result.name == (result.details or {}).get("indicator")


def _listing(run_dir: Path) -> dict[Path, tuple[int, int]]:
    """Files of the run folder outside model/ (recursively) with their size and modification
    time: what a model's save() must leave alone. (The folder of runs around it is shared
    with other jobs, so what changes there cannot be laid at this model's door.)"""
    found: dict[Path, tuple[int, int]] = {}
    model_dir = run_dir / MODEL_DIR
    for path in run_dir.rglob("*"):
        if path in (model_dir, run_dir) or model_dir in path.parents:
            continue
        try:
            info = path.lstat()
        except OSError:
            continue
        found[path] = (info.st_size, info.st_mtime_ns) if not path.is_dir() else (0, 0)
    return found


def _strings_in(value: Any) -> set[str]:
    """Every string in a JSON-like value (the names a user's settings give)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return set().union(*(_strings_in(v) for v in value)) if value else set()
    return set()


def _written_outside(before: dict[Path, tuple[int, int]], after: dict[Path, tuple[int, int]]
                     ) -> list[Path]:
    """Entries new or changed between two listings."""
    changed = []
    for path, stamp in sorted(after.items()):
        if before.get(path) == stamp:
            continue
        if path.is_dir() and path in before:
            continue  # a folder's own time changes with its files, which are listed
        changed.append(path)
    return changed


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """In the main thread, SIGTERM stops the work like Ctrl-C (:class:`Interrupted`), so its
    clean-up runs (a run folder marked failed, a partial output removed); the previous
    handler is restored afterwards. Elsewhere (handlers are the main thread's) nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _learnt_from(dataset: Dataset, context: dict[str, Any]) -> pd.DataFrame:
    """The records the saved model learnt from: the training and validation records of a
    held-out split, every record when cross-validated (the final model is fitted on all)."""
    if not context.get("held_out", True):
        return dataset.frame
    parts = [d.frame for d in (context.get("train"), context.get("validation"))
             if d is not None and len(d)]
    return pd.concat(parts) if parts else dataset.frame.iloc[:0]


def _training_profile(dataset: Dataset, model: Model | None,
                      frame: pd.DataFrame) -> dict[str, Any] | None:
    """A compact profile of the training inputs (``frame``, records of ``dataset``), for
    drift checks at prediction time: the input columns of the fitted model's roles (a model
    may read columns the loader did not name as inputs, such as a variable only an edit rule
    names), else the data set's. The columns the loader read as categories (core.table's
    `categorical`, see :func:`~mlstat_core.builtins.loaders.code_columns`) are profiled as
    codes: categories, however many, ``11.0`` as ``11``."""
    try:
        from mlstat_core.quality.drift import build_profile
    except ImportError:
        return None
    roles = getattr(model, "roles", None) or dataset.roles
    columns = [c for c in roles.input_columns() if c in frame.columns]
    return build_profile(frame, columns,
                         codes=[c for c in code_columns(dataset) if c in columns])


def run(
    config: str | Path | dict[str, Any] | PipelineConfig,
    overrides: list[str] | str | None = None,
    out: str | Path | None = None,
    progress: Progress | None = None,
    registry: Registry | None = None,
    cli: bool = False,
) -> RunResult:
    """Validate and run a pipeline; return its result (raises MlstatError on user mistakes).

    ``overrides`` is a list of ``section.key=value`` strings (a single string is one);
    ``out`` the folder that receives the run folder. ``cli``: messages name the options of
    ``mlstat run`` (``--set``, ``--out``) rather than these arguments.

    In the main thread, SIGTERM stops the run like Ctrl-C (KeyboardInterrupt), so the run
    folder says "interrupted (SIGTERM)" instead of staying "running"; the previous handler is
    restored afterwards."""
    registry = registry or get_registry()
    check_out_argument(out, cli)
    with config_warnings() as caught:  # shown, if the run is refused before it starts
        resolved = load_config(config, overrides, registry, cli=cli)
        runner = Runner(resolved, out, registry, progress)
        check_out_dir(runner.out_dir, out, resolved.source, cli)
    runner.keep_warnings("config", caught)  # a setting --set replaced, a key left out
    with sigterm_as_interrupt():
        return runner.execute()


@contextmanager
def config_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """The warnings raised while a pipeline file is read, to keep with the run (its manifest,
    report and ``--json`` outcome said nothing of a model setting ``--set`` replaced). Shown
    as they come if reading fails, and left to Python outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield []
        return
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught
    except BaseException:
        for w in caught:  # the run never starts: nothing else would show them
            if not issubclass(w.category, DEVELOPER_WARNINGS):
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        raise


def check_out_argument(out: Any, cli: bool = False) -> None:
    """``out`` is None or a path (str or os.PathLike)."""
    import os

    from mlstat_core.errors import ConfigError

    if out is not None and not isinstance(out, str | os.PathLike):
        raise ConfigError(f"{'--out' if cli else 'out'} is a {type(out).__name__}; give the "
                          "path of a folder (str or pathlib.Path) that receives the run")


def check_out_dir(out_dir: Path, out: Any, source: str, cli: bool = False,
                  default: str | None = None) -> None:
    """Refuse, before the run starts, a folder for runs that is a file or lies under one, or
    that is or lies inside a run folder: a folder written there would change that run's
    evidence (``mlstat predict`` refuses an output there too). ``default`` says where the
    folder comes from when ``out`` is not given (the pipeline's ``[output] dir``)."""
    from mlstat_core.errors import ConfigError
    from mlstat_core.predict import is_run_folder, run_folder_around

    option = "--out DIR" if cli else "out="
    given = f"{'--out' if cli else 'out'} {out}" if out is not None \
        else f"{default or f'the [output] dir of {source}'} ({out_dir})"
    for folder in (out_dir, *out_dir.parents):
        if folder.is_dir():
            break
        if folder.exists():
            where = "is" if folder == out_dir else f"lies under {folder}, which is"
            raise ConfigError(f"{given} {where} a file, not a folder; give a folder (each "
                              "run gets a folder inside it)")
    inside = out_dir if is_run_folder(out_dir) else run_folder_around(out_dir)
    if inside is not None:
        raise ConfigError(f"{given} lies inside the run folder {inside}: writing there would "
                          "change a run's evidence; give a folder outside run folders"
                          + ("" if out is not None else f" with {option}"))
