"""Runs a pipeline: load -> split -> fit -> predict -> assess -> persist.

The engine only talks to components through the contract in :mod:`mlstat_core.components`;
no plugin is special-cased here. Every run writes one folder (see :mod:`mlstat_core.artifacts`);
a run that fails leaves ``manifest.json`` with status ``failed`` and the error.
"""

from __future__ import annotations

import difflib
import resource
import signal
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.artifacts import (
    MODEL_DIR,
    RunFolder,
    atomic_write_text,
    environment,
    now_iso,
    sha256_file,
)
from mlstat_core.components import (
    AssessContext,
    Dataset,
    IndicatorResult,
    Model,
    Split,
)
from mlstat_core.config import PipelineConfig, load_config
from mlstat_core.errors import DataError, MlstatError
from mlstat_core.io import parquet_safe
from mlstat_core.registry import Registry, get_registry

STEPS = ("load", "split", "fit", "predict", "outputs", "assess", "persist")
Progress = Callable[[str, str], None]
"""Called as progress(step, message) when a step starts ("") and when it ends."""


@dataclass
class RunInfo:
    """What lifecycle hooks receive about a run."""

    run_id: str
    run_dir: Path
    config: PipelineConfig


@dataclass
class RunResult:
    """The outcome of a run: where it is, its figures and its predictions."""

    run_id: str
    run_dir: Path
    status: str
    indicators: list[IndicatorResult]
    predictions: pd.DataFrame
    manifest: dict[str, Any]
    model: Model | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, Any]:
        """Scalar figures by indicator name (failed indicators are left out)."""
        return {r.name: r.value for r in self.indicators
                if r.status == "ok" and isinstance(r.value, int | float | str)}

    def metric(self, name: str) -> Any:
        return self.metrics[name]


def _peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


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
                f"({dataset.y.dropna().iloc[0]!r}); classification needs at least two")


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
                "the target class labels")


def prediction_frame(dataset: Dataset, positions: np.ndarray, predicted: pd.DataFrame,
                     split_name: str) -> pd.DataFrame:
    """Predictions with the record id, the true value (when known) and the split name."""
    part = dataset.frame.iloc[positions]
    id_col = dataset.roles.id
    frame = pd.DataFrame(index=part.index)
    frame["record_id"] = part[id_col].to_numpy() if id_col else part.index.to_numpy()
    if dataset.roles.target:
        frame["true"] = part[dataset.roles.target].to_numpy()
    frame["split"] = split_name
    predicted = predicted.set_axis(part.index)
    return pd.concat([frame, predicted], axis=1)


DEVELOPER_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
"""Warnings that libraries address to developers; a run does not report them."""


class Runner:
    """One run of one pipeline, step by step."""

    def __init__(self, config: PipelineConfig, out: str | Path | None, registry: Registry,
                 progress: Progress | None) -> None:
        self.config = config
        self.registry = registry
        self.progress = progress or (lambda step, message: None)
        out_dir = Path(out) if out is not None else Path(config.file.output.dir)
        base = Path.cwd() if out is not None else config.base_dir
        self.out_dir = (out_dir if out_dir.is_absolute() else base / out_dir).resolve()
        self.timings: dict[str, float] = {}
        self.warnings: list[str] = []

    def step(self, name: str, fn: Callable[[], Any], describe: Callable[[Any], str]) -> Any:
        """Run one step, timed; the warnings its code raises are kept with the run (manifest,
        summary), each once, instead of being printed as Python warnings. Python's warning
        filters are process-wide, so only a run in the main thread records them; a run in
        another thread leaves its warnings to Python."""
        self.progress(name, "")
        start = time.perf_counter()
        caught: list[warnings.WarningMessage] = []
        if threading.current_thread() is threading.main_thread():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = fn()
        else:
            value = fn()
        for w in caught:
            if issubclass(w.category, DEVELOPER_WARNINGS):
                continue  # a library's notice to its developers, not about this run's data
            text = f"{name}: {w.message}"
            if text not in self.warnings:
                self.warnings.append(text)
        seconds = time.perf_counter() - start
        self.timings[name] = self.timings.get(name, 0.0) + seconds
        message = describe(value)
        self.progress(name, f"{message} ({seconds:.2f} s)")
        self.warnings += self.registry.notify("mlstat_step_finished", run=self.info, step=name,
                                              seconds=seconds, details={"message": message})
        return value

    def build_engine(self) -> Any:
        from mlstat_core.predict import build_engine

        predict = self.config.file.predict
        return build_engine(predict.engine, predict.options, self.registry)

    def new_model(self) -> Model:
        model = self.config.model.build(task=self.config.task.name)
        if self.config.preprocess:
            from mlstat_core.preprocess import Preprocessed

            model = Preprocessed([(p.name, p.build()) for p in self.config.preprocess], model)
        model.seed = self.config.seed
        return model

    def execute(self) -> RunResult:
        cfg = self.config
        components = {"loader": cfg.loader.name, "split": cfg.split.name,
                      "model": cfg.model.name,
                      "indicators": [i.name for i in cfg.indicators]}
        folder = RunFolder.create(
            self.out_dir, cfg.name, task=cfg.task.name, seed=cfg.seed,
            components=components, config_sha256=cfg.config_hash(), source=cfg.source,
            environment=environment(self.registry.distributions_used(cfg.component_names())))
        self.folder = folder
        self.info = RunInfo(folder.manifest["run_id"], folder.path, cfg)
        atomic_write_text(folder.path / "config.toml", cfg.to_toml())
        folder.record("config.toml")
        self.warnings += self.registry.notify("mlstat_run_started", run=self.info)
        try:
            result = self._steps(folder)
        except BaseException as exc:
            message = failure_message(exc)
            folder.finish("failed", error=message, timings=self.timings)
            self.registry.notify("mlstat_run_failed", run=self.info, error=exc)
            raise
        self.registry.notify("mlstat_run_finished", run=self.info, result=result)
        return result

    def _steps(self, folder: RunFolder) -> RunResult:
        from mlstat_core.predict import batch_warning

        cfg = self.config
        loader = cfg.loader.build()
        dataset: Dataset = self.step("load", lambda: loader.load(cfg.base_dir),
                                     lambda d: f"{len(d):,} records from {d.name}")
        check_task_data(dataset, cfg)
        fingerprints = {str(p): sha256_file(p) for p in dataset.sources if Path(p).is_file()}
        folder.update(inputs=fingerprints, roles=dataset.roles.as_dict(),
                      records=len(dataset))
        scorer = self.build_engine()
        chunk = cfg.file.predict.chunk_size
        splitter = cfg.split.build()
        splitter.task = cfg.task  # the splitter may depend on it (stratify classes only)
        splits: list[Split] = self.step(
            "split", lambda: splitter.split(dataset, cfg.seed),
            lambda s: ", ".join(f"{x.name}: {len(x.train):,} train / {len(x.test):,} test"
                                + (f" / {len(x.validation):,} validation"
                                   if x.validation is not None else "") for x in s[:3])
            + (" ..." if len(s) > 3 else ""))
        if not splits:
            raise DataError(f"{cfg.split.name} produced no split")
        self._splits = splits

        parts: list[pd.DataFrame] = []
        model: Model | None = None
        batched: str | None = None
        for split in splits:
            model = self.new_model()
            train = dataset.subset(split.train)
            validation = dataset.subset(split.validation) if split.validation is not None \
                and len(split.validation) else None
            self.step("fit", lambda m=model, t=train, v=validation: m.fit(t, v),
                      lambda _m, t=train: f"{cfg.model.name} on {len(t):,} records")
            test = dataset.subset(split.test)
            predicted = self.step("predict",
                                  lambda m=model, t=test: scorer.score_frame(m, t.frame, chunk),
                                  lambda p: f"{len(p):,} records")
            parts.append(prediction_frame(dataset, split.test, predicted, split.name))
            batched = batched or batch_warning(  # the first split's, once per run
                model, scorer, len(test), chunk,
                self.registry.engine(cfg.file.predict.engine).full_name)
        predictions = pd.concat(parts)
        assert model is not None
        if batched:
            self.warnings.append(batched)
        if len(splits) > 1:  # cross-validated: the saved model learns from every record
            model = self.new_model()
            self.step("fit", lambda: model.fit(dataset, None),
                      lambda _m: f"final model on all {len(dataset):,} records")

        first = splits[0]
        test_positions = np.concatenate([s.test for s in splits])
        test = dataset.subset(test_positions)
        ordered = predictions.reset_index(drop=True).set_axis(test.frame.index)
        outputs = self.step("outputs", lambda: self._outputs(folder, model, predictions, test),
                            lambda files: f"{len(files)} file(s)")
        ctx = AssessContext(
            task=cfg.task, model=model, train=dataset.subset(first.train), test=test,
            predictions=ordered,
            validation=dataset.subset(first.validation) if first.validation is not None
            else None,
            seed=cfg.seed, timings=dict(self.timings), peak_memory_mb=_peak_memory_mb(),
            fingerprints=fingerprints, config_hash=cfg.config_hash(),
            environment=folder.manifest["environment"],
            settings={"base_dir": str(cfg.base_dir), **cfg.file.quality},
            refit=self._refit_callable(dataset, first) if len(splits) == 1 else None,
            outputs=outputs)
        results = self.step("assess", lambda: self._assess(ctx),
                            lambda r: f"{sum(x.status == 'ok' for x in r)} of {len(r)} indicators")
        self.warnings += unmatched_targets(cfg.file.quality, results)
        self.step("persist", lambda: self._persist(folder, model, predictions, dataset, results),
                  lambda _x: str(folder.path))
        return RunResult(folder.manifest["run_id"], folder.path, "succeeded", results,
                         predictions, folder.manifest, model, self.warnings)

    def _outputs(self, folder: RunFolder, model: Model, predictions: pd.DataFrame,
                 test: Dataset) -> list[Path]:
        """The model's task-specific outputs (map, audit log, index), written before the
        indicators run so that they can assess them."""
        files = [Path(p) for p in model.write_outputs(folder.path / "outputs", predictions, test)]
        for path in files:
            folder.record(path.resolve().relative_to(folder.path.resolve()))
        return files

    def _refit_callable(self, dataset: Dataset, split: Split) -> Callable[[], pd.DataFrame]:
        def refit() -> pd.DataFrame:
            model = self.new_model()
            validation = dataset.subset(split.validation) if split.validation is not None \
                else None
            model.fit(dataset.subset(split.train), validation)
            test = dataset.subset(split.test)
            return model.predict(test.frame)

        return refit

    def _assess(self, ctx: AssessContext) -> list[IndicatorResult]:
        from mlstat_core.quality.runner import run_indicator

        results: list[IndicatorResult] = []
        for resolved in self.config.indicators:
            dimension = resolved.entry.spec.dimension or "accuracy"
            try:
                indicator = resolved.build()
            except MlstatError as exc:  # e.g. an optional extra is missing: report, go on
                results.append(IndicatorResult(
                    name=resolved.name, dimension=dimension, status="failed", error=str(exc),
                    explanation="This indicator could not be built; the others were computed.",
                    details={"indicator": resolved.name}))
                continue
            results += run_indicator(indicator, resolved.name, dimension, ctx)
        return results

    def _persist(self, folder: RunFolder, model: Model, predictions: pd.DataFrame,
                 dataset: Dataset, results: list[IndicatorResult]) -> None:
        from mlstat_core.report import build_report, write_report

        model_dir = folder.path / MODEL_DIR
        model.save(model_dir)
        folder.record_tree(MODEL_DIR)
        profile = _training_profile(dataset)
        if profile is not None:
            from mlstat_core.artifacts import write_json

            write_json(folder.path / "profile.json", profile)
            folder.record("profile.json")
        if self.config.file.output.predictions:
            tmp = folder.path / ".predictions.parquet.partial"
            parquet_safe(predictions).to_parquet(tmp, index=False)
            tmp.replace(folder.path / "predictions.parquet")
            folder.record("predictions.parquet")
        folder.update(model={"component": self.config.model.name,
                             "preprocess": [p.name for p in self.config.preprocess],
                             "classes": model.classes_},
                      timings=self.timings, peak_memory_mb=_peak_memory_mb(),
                      warnings=self.warnings)
        finished = now_iso()  # the report shows the final status and time
        folder.manifest.update(status="succeeded", finished_at=finished)
        report = build_report(results, folder.manifest, self.config.file.quality)
        for path in write_report(folder.path, report):
            folder.record(path.relative_to(folder.path))
        folder.finish("succeeded", finished_at=finished)


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (SIGTERM): handled like Ctrl-C."""


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
    """Warnings for ``[quality] targets`` that name no figure of this run (a typo, say)."""
    targets = quality.get("targets")
    if not isinstance(targets, dict):
        return []
    produced = sorted({r.name for r in results})
    out = []
    for name in targets:
        if name in produced:
            continue
        close = difflib.get_close_matches(str(name), produced, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else \
            f"; figures of this run: {', '.join(produced[:12])}"
        out.append(f"quality: target {name!r} names no figure of this run{hint}")
    return out


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted()


def _training_profile(dataset: Dataset) -> dict[str, Any] | None:
    """A compact profile of the training inputs, for drift checks at prediction time."""
    try:
        from mlstat_core.quality.drift import build_profile
    except ImportError:
        return None
    return build_profile(dataset.frame, dataset.roles.input_columns())


def run(
    config: str | Path | dict[str, Any] | PipelineConfig,
    overrides: list[str] | None = None,
    out: str | Path | None = None,
    progress: Progress | None = None,
    registry: Registry | None = None,
) -> RunResult:
    """Validate and run a pipeline; return its result (raises MlstatError on user mistakes).

    In the main thread, SIGTERM stops the run like Ctrl-C (KeyboardInterrupt), so the run
    folder says "interrupted (SIGTERM)" instead of staying "running"; the previous handler is
    restored afterwards."""
    registry = registry or get_registry()
    resolved = load_config(config, overrides, registry)
    runner = Runner(resolved, out, registry, progress)
    if threading.current_thread() is not threading.main_thread():
        return runner.execute()  # signal handlers can only be set in the main thread
    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        return runner.execute()
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
