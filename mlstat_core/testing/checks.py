"""The conformance checks: does a plugin's loader, model and indicator honour the contract?

Each check is a named, lazy :class:`Check`; :func:`check_plugin` and :func:`check_component`
return lists of them, so a test suite can run each as its own test (see
:func:`mlstat_core.testing.plugin_checks`). A failing check says which component, plugin and
distribution broke which rule, and how to fix it.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ValidationError

from mlstat_core import hookspecs
from mlstat_core.components import (
    KIND_BASES,
    ComponentSpec,
    Model,
    Params,
)
from mlstat_core.errors import ConfigIssue, validation_text
from mlstat_core.registry import (
    FactoryError,
    PluginRecord,
    RegisteredComponent,
    Registry,
    discover,
    load_factory,
)
from mlstat_core.tasks import BUILTIN_TASKS, TaskType

HEAVY_MODULES: tuple[str, ...] = (
    "pandas", "sklearn", "scipy", "torch", "torchvision", "torchgeo", "lightning",
    "pytorch_lightning", "pyspark", "tensorflow", "transformers", "matplotlib", "skops",
)
"""Libraries a plugin's ``plugin.py`` (and its hooks) must not import: discovery stays fast."""

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".npy")


class ConformanceError(AssertionError):
    """A component or plugin breaks the contract (raised by a failing :class:`Check`)."""


class CheckFailed(Exception):
    """Raised inside a check: the contract is broken; the message says how to fix it."""


class CheckSkipped(Exception):
    """Raised inside a check: it does not apply (no sample data, an earlier step failed)."""


@dataclass
class CheckResult:
    """The outcome of one check."""

    id: str
    status: str  # passed | failed | skipped
    message: str = ""
    seconds: float = 0.0
    error: BaseException | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def __str__(self) -> str:
        text = f"{self.status.upper():7} {self.id}"
        return f"{text}: {self.message}" if self.message else text


@dataclass
class Check:
    """One named conformance check; ``run()`` reports, calling it raises on failure."""

    id: str
    plugin: str
    component: str | None
    name: str
    func: Callable[[], str | None] = field(repr=False)

    def run(self) -> CheckResult:
        start = time.perf_counter()
        try:
            note = self.func()
        except CheckSkipped as exc:
            return CheckResult(self.id, "skipped", str(exc), time.perf_counter() - start)
        except CheckFailed as exc:
            return CheckResult(self.id, "failed", str(exc), time.perf_counter() - start,
                               exc.__cause__ or exc)
        except Exception as exc:  # an unexpected error is a failure with its cause shown
            message = f"{self.where()}: {self.name} raised {type(exc).__name__}: {exc}"
            return CheckResult(self.id, "failed", message, time.perf_counter() - start, exc)
        return CheckResult(self.id, "passed", note or "", time.perf_counter() - start)

    def where(self) -> str:
        return self.component or self.plugin

    def __call__(self) -> None:
        """Run the check the pytest way: raise on failure, ``pytest.skip`` when skipped."""
        __tracebackhide__ = True
        result = self.run()
        if result.status == "failed":
            raise ConformanceError(result.message) from result.error
        if result.status == "skipped":
            try:
                import pytest
            except ImportError:  # pragma: no cover - outside pytest a skip is a pass
                return
            pytest.skip(result.message)


# --- shared state of one suite ---------------------------------------------------------------


class _Suite:
    """What the checks of one ``check_plugin`` call share: registry, options, fitted models."""

    def __init__(
        self,
        registry: Registry,
        plugin: str,
        record: PluginRecord,
        module: ModuleType | None,
        examples: Mapping[str, Mapping[str, Any]] | None,
        datasets: Mapping[str, Any] | None,
        data_dir: str | Path | None,
        skip: Iterable[str],
    ) -> None:
        self.registry = registry
        self.plugin = plugin
        self.record = record
        self.module = module
        self.examples = dict(examples or {})
        self.datasets = dict(datasets or {})
        self.data_dir = Path(data_dir) if data_dir else None
        self.skip = list(skip)
        self.fitted: dict[tuple[str, str], Any] = {}
        self.checks: list[Check] = []
        self.declaration: Callable[[], str | None] | None = None  # conformance_options' check

    # -- naming ------------------------------------------------------------------------

    def full_name(self, spec: ComponentSpec) -> str:
        safe = re.sub(r"[^\w]", "_", str(spec.name)) or "_"
        return f"{self.plugin}.{safe}"

    def where(self, spec: ComponentSpec | None = None) -> str:
        dist = self.record.distribution or "unknown: not installed with pip"
        if spec is None:
            return f"plugin {self.plugin!r} (distribution {dist})"
        return f"{spec.kind} {self.full_name(spec)} (plugin {self.plugin!r}, distribution {dist})"

    def add(self, name: str, func: Callable[[], str | None], spec: ComponentSpec | None = None,
            task: str | None = None) -> None:
        component = self.full_name(spec) if spec is not None else None
        check_id = f"{component or self.plugin}-{name}" + (f"-{task}" if task else "")
        if any(fnmatch.fnmatchcase(check_id, p) or p == name for p in self.skip):
            def func() -> str | None:
                raise CheckSkipped("skipped by the caller (skip=...)")
        self.checks.append(Check(check_id, self.plugin, component, name, func))

    # -- helpers the checks use ----------------------------------------------------------

    def fail(self, spec: ComponentSpec | None, what: str, fix: str) -> CheckFailed:
        return CheckFailed(f"{self.where(spec)}: {what}. Fix: {fix}")

    def task_type(self, name: str) -> TaskType:
        if name in self.registry.tasks:
            return self.registry.tasks[name]
        return {t.name: t for t in BUILTIN_TASKS}[name]

    def dataset(self, task: str) -> Any:
        if task in self.datasets:
            return self.datasets[task]
        from mlstat_core.testing.samples import sample_dataset

        return sample_dataset(task)

    def has_data(self, task: str) -> bool:
        from mlstat_core.testing.samples import SAMPLES

        return task in self.datasets or task in SAMPLES

    def params(self, spec: ComponentSpec) -> BaseModel:
        """Params to build with: the caller's examples, else the defaults, else Field examples."""
        model = spec.params
        for key in (self.full_name(spec), spec.name):
            if key in self.examples:
                try:
                    return model.model_validate(dict(self.examples[key]))
                except ValidationError as exc:
                    raise self.fail(spec, f"the example params {dict(self.examples[key])!r} are "
                                    f"invalid: {_first_errors(exc)}",
                                    "correct the example or the params model") from None
        try:
            return model()
        except ValidationError as exc:
            errors, why = exc.errors(), _first_errors(exc)
            missing = [".".join(map(str, e["loc"])) for e in errors if e["type"] == "missing"]
            if any(e["loc"] and e["type"] != "missing" for e in errors):
                raise self.fail(spec, f"its params model {model.__name__} rejects its own "
                                f"defaults: {_first_errors(exc)}",
                                "give every field a default that passes its own constraints") \
                    from None
        extra = model.model_config.get("json_schema_extra")
        declared = extra.get("examples") if isinstance(extra, dict) else None
        if declared:
            try:
                return model.model_validate(declared[0])
            except ValidationError as exc:
                raise self.fail(spec, f"the example {declared[0]!r} of {model.__name__} is "
                                f"invalid: {_first_errors(exc)}", "correct the example") from None
        if not missing:
            raise self.fail(
                spec, f"{model.__name__}() is not valid without arguments ({why}) "
                "and declares no example",
                f"declare one with model_config = ConfigDict(json_schema_extra={{'examples': "
                f"[{{...}}]}}) or return examples={{'{self.full_name(spec)}': {{...}}}} from "
                f"{OPTIONS_FUNCTION}() in the plugin module")
        example = {}
        for name, info in model.model_fields.items():
            if info.is_required():
                if not info.examples:
                    raise self.fail(
                        spec, f"params {', '.join(missing)} are required and "
                        f"{model.__name__}.{name} has no example",
                        f"declare one with Field(..., examples=[...]) or return "
                        f"examples={{'{self.full_name(spec)}': {{...}}}} from "
                        f"{OPTIONS_FUNCTION}() in the plugin module")
                example[info.alias or name] = info.examples[0]
        try:
            return model.model_validate(example)
        except ValidationError as exc:
            raise self.fail(spec, f"the Field examples {example!r} of {model.__name__} are "
                            f"invalid: {_first_errors(exc)}",
                            "make each Field example a valid value") from None

    def build(self, spec: ComponentSpec, **kwargs: Any) -> Any:
        entry = RegisteredComponent(self.plugin, self.record.distribution, spec)
        component = entry.build(self.params(spec), **kwargs)
        base = KIND_BASES.get(spec.kind)
        if base is not None and not isinstance(component, base):
            raise self.fail(spec, f"its factory built a {type(component).__name__}, which is not "
                            f"a {base.__module__}.{base.__name__}",
                            f"subclass {base.__name__} (or SklearnModel for scikit-learn models)")
        return component

    def base_dir(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir
        file = getattr(self.module, "__file__", None)
        return Path(file).parent if file else Path.cwd()


def _first_errors(exc: ValidationError, n: int = 3) -> str:
    parts = []
    for err in exc.errors()[:n]:
        loc = ".".join(str(p) for p in err["loc"]) or "(model)"
        parts.append(f"{loc}: {validation_text(err)}")
    return "; ".join(parts)


# --- plugin-level checks --------------------------------------------------------------------


def _check_discovery(suite: _Suite) -> str | None:
    record = suite.record
    if record.status != "loaded":
        raise suite.fail(None, f"it did not load ({record.status}): {record.error}",
                         "see the message; `mlstat plugins` lists every plugin's status")
    own = [c for c in suite.registry.conflicts.values()
           if f" {suite.plugin}." in c or c.startswith(f"{suite.plugin}.")]
    if record.problems or own:
        raise suite.fail(None, "discovery found problems: "
                         + " | ".join(record.problems + own).rstrip("."),
                         "correct the hooks named above")
    return f"{len(record.components)} component(s)"


_LIGHT_SCRIPT = r"""
import importlib, json, sys, traceback

heavy = set(sys.argv[3].split(","))
first = {}

class Watch:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in heavy and top not in first:
            frames = [f for f in traceback.extract_stack()[:-1]
                      if "importlib" not in f.filename and not f.filename.startswith("<")]
            first[top] = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        return None

sys.meta_path.insert(0, Watch())
from mlstat_core.registry import PluginRecord, Registry
module = importlib.import_module(sys.argv[1])
registry = Registry()
registry.register(module, sys.argv[2], PluginRecord(sys.argv[2], sys.argv[1]))
found = sorted(t for t in heavy if t in sys.modules)
print(json.dumps({t: first.get(t, "?") for t in found}))
"""


def _check_light_import(suite: _Suite) -> str | None:
    if suite.module is None:
        raise CheckSkipped("the plugin module is not loaded")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.pop("MLSTAT_TRACE_HOOKS", None)
    proc = subprocess.run(
        [sys.executable, "-c", _LIGHT_SCRIPT, suite.module.__name__, suite.plugin,
         ",".join(HEAVY_MODULES)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    if proc.returncode != 0:
        raise suite.fail(None, f"importing {suite.module.__name__} and calling its hooks failed "
                         f"in a fresh interpreter: {proc.stderr.strip()[-600:]}",
                         "make the plugin module importable on its own")
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    if found:
        where = ", ".join(f"{name} (first imported at {at})" for name, at in found.items())
        raise suite.fail(None, f"discovery (importing {suite.module.__name__} and calling its "
                         f"hooks) imports heavy libraries: {where}",
                         "import them inside the component classes' methods or in the modules "
                         "that factories name, never in plugin.py or params modules")
    return None


# --- component checks -----------------------------------------------------------------------


def _check_spec(suite: _Suite, spec: ComponentSpec, kind: str) -> str | None:
    problems = spec.problems()
    if spec.kind != kind:
        problems.append(f"it is returned by {hookspecs.COMPONENT_HOOKS[kind]} but has kind "
                        f"{spec.kind!r}")
    for task in spec.tasks if not isinstance(spec.tasks, str) else ():
        if task not in suite.registry.tasks:
            problems.append(f"task {task!r} is unknown (declare it with the mlstat_tasks hook)")
    if problems:
        raise suite.fail(spec, "its ComponentSpec is incomplete: " + "; ".join(problems),
                         f"complete the ComponentSpec in {suite.record.module}")
    return None


def _check_params(suite: _Suite, spec: ComponentSpec) -> str | None:
    model = spec.params
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise suite.fail(spec, f"params {model!r} is not a pydantic model class",
                         "subclass mlstat_core.components.Params")
    try:
        model.model_json_schema()
    except Exception as exc:
        raise suite.fail(spec, f"{model.__name__} has no JSON schema ({exc})",
                         "use plain field types (numbers, strings, lists, Literal)") from exc
    params = suite.params(spec)
    dumped = params.model_dump(mode="json")
    try:
        again = model.model_validate(json.loads(json.dumps(dumped)))
    except (ValidationError, TypeError) as exc:
        raise suite.fail(spec, f"{model.__name__} does not survive a JSON round trip "
                         f"({exc}); run folders store params as JSON",
                         "use JSON-friendly field types") from exc
    if again != params:
        raise suite.fail(spec, f"{model.__name__} changes value in a JSON round trip "
                         f"({params!r} -> {again!r})", "use JSON-friendly field types")
    try:
        model.model_validate({**dumped, "__mlstat_unknown_param__": 1})
    except ValidationError:
        return _check_params_check(suite, spec, params)
    raise suite.fail(spec, f"{model.__name__} accepts unknown keys, so a typo in a pipeline "
                     "file would be silently ignored",
                     "subclass mlstat_core.components.Params (extra='forbid')")


def _check_params_check(suite: _Suite, spec: ComponentSpec, params: BaseModel) -> str | None:
    """``Params.check`` runs for every task the component serves (and for no task) without
    raising, and returns a list of ConfigIssue: ``mlstat validate`` relies on both."""
    if not isinstance(params, Params):
        return None
    known = [t for t in spec.tasks if t in suite.registry.tasks]
    for task in [None, *(suite.task_type(t) for t in known)]:
        where = f"for task {task.name!r}" if task else "without a task"
        try:
            issues = params.check(suite.registry, task)
        except Exception as exc:
            raise suite.fail(spec, f"{type(params).__name__}.check raised {type(exc).__name__}: "
                             f"{exc} ({where}, on the params {params.model_dump(mode='json')})",
                             "return ConfigIssues for problems; never raise") from None
        if not isinstance(issues, list | tuple) or \
                any(not isinstance(i, ConfigIssue) for i in issues):
            raise suite.fail(spec, f"{type(params).__name__}.check returned {issues!r} "
                             f"({where}), not a list of ConfigIssue",
                             "return [] or a list of mlstat_core.errors.ConfigIssue")
    return None


def _check_factory(suite: _Suite, spec: ComponentSpec) -> str | None:
    if not isinstance(spec.factory, str) or spec.factory.count(":") != 1:
        raise suite.fail(spec, f"factory {spec.factory!r} is not a 'module:attr' string",
                         "name the class as 'package.module:ClassName'")
    try:
        obj = load_factory(spec, suite.full_name(spec), suite.plugin, suite.record.distribution)
    except FactoryError as exc:
        raise suite.fail(spec, exc.what, exc.fix) from None
    if not callable(obj):
        raise suite.fail(spec, f"factory {spec.factory!r} is not callable",
                         "point it at a class or a function")
    base = KIND_BASES.get(spec.kind)
    if base is not None and isinstance(obj, type) and not issubclass(obj, base):
        raise suite.fail(spec, f"factory {spec.factory!r} is not a subclass of {base.__name__}",
                         f"subclass mlstat_core.components.{base.__name__}")
    return None


def _check_load(suite: _Suite, spec: ComponentSpec) -> str | None:
    import pandas as pd

    from mlstat_core.components import Dataset

    loader = suite.build(spec)
    dataset = loader.load(suite.base_dir())
    if not isinstance(dataset, Dataset):
        raise suite.fail(spec, f"load() returned {type(dataset).__name__}, not a Dataset",
                         "return mlstat_core.components.Dataset(frame, roles, sources=[...])")
    if not isinstance(dataset.frame, pd.DataFrame) or dataset.frame.empty:
        raise suite.fail(spec, "load() returned no records", "return a non-empty pandas frame")
    missing = [c for c in dataset.roles.all_columns() if c not in dataset.frame.columns]
    if missing:
        raise suite.fail(spec, f"its roles name column(s) {missing} that the frame lacks",
                         "set roles only to columns the frame has")
    absent = [str(p) for p in dataset.sources if not Path(p).is_file()]
    if absent:
        raise suite.fail(spec, f"sources {absent} are not files (runs fingerprint them)",
                         "list the files the loader read in Dataset.sources")
    for task in spec.tasks:
        if task in suite.registry.tasks and suite.task_type(task).needs_target \
                and not dataset.roles.target:
            raise suite.fail(spec, f"it serves {task}, which needs a target, but set none",
                             "set ColumnRoles.target")
    return f"{len(dataset)} records, {len(dataset.frame.columns)} columns"


def _check_split(suite: _Suite, spec: ComponentSpec) -> str | None:
    import numpy as np

    from mlstat_core.components import Split

    if "splitter" in suite.datasets:
        dataset = suite.datasets["splitter"]
    else:
        dataset = suite.dataset("tabular_classification")
        dataset.roles.groups = "age"  # so group splitters have groups to keep together
    splitter = suite.build(spec)
    splits = splitter.split(dataset, 0)
    if not isinstance(splits, list) or not splits:
        raise suite.fail(spec, f"split() returned {splits!r}", "return a non-empty list of Split")
    n = len(dataset)
    for s in splits:
        if not isinstance(s, Split):
            raise suite.fail(spec, f"split() returned a {type(s).__name__}", "return Split objects")
        parts = [np.asarray(s.train), np.asarray(s.test)]
        if s.validation is not None:
            parts.append(np.asarray(s.validation))
        if not len(parts[0]) or not len(parts[1]):
            raise suite.fail(spec, f"split {s.name!r} has an empty train or test part",
                             "give both parts records")
        joined = np.concatenate(parts)
        if joined.min() < 0 or joined.max() >= n:
            raise suite.fail(spec, f"split {s.name!r} has positions outside 0..{n - 1}",
                             "return row positions of the data set")
        in_sample = np.array_equal(parts[0], parts[1]) and len(parts) == 2
        if not in_sample and len(np.unique(joined)) != len(joined):
            raise suite.fail(spec, f"split {s.name!r} shares records between its parts",
                             "return disjoint row positions (or train == test for an "
                             "in-sample assessment)")
    again = splitter.split(dataset, 0)
    if any(not np.array_equal(a.test, b.test) for a, b in zip(splits, again, strict=False)):
        raise suite.fail(spec, "two splits with seed 0 differ", "derive randomness from seed")
    return f"{len(splits)} split(s)"


def _input_frame(dataset: Any) -> Any:
    """The test records as a model sees them at prediction time: without the target."""
    frame = dataset.frame
    target = dataset.roles.target
    return frame.drop(columns=[target]) if target and target in frame.columns else frame.copy()


def _fit(suite: _Suite, spec: ComponentSpec, task: str) -> tuple[Model, Any, Any, Any]:
    from mlstat_core.testing.samples import sample_split

    model = suite.build(spec, task=task)
    model.seed = 0
    train, test = sample_split(suite.dataset(task))
    fitted = model.fit(train)
    if fitted is None:
        raise suite.fail(spec, "fit() returned None", "return self from fit()")
    inputs = _input_frame(test)
    before = inputs.copy()
    predictions = model.predict(inputs)
    import pandas as pd

    if not before.equals(inputs):
        raise suite.fail(spec, "predict() changed the frame it was given",
                         "work on a copy of the input frame")
    if not isinstance(predictions, pd.DataFrame):
        raise suite.fail(spec, f"predict() returned {type(predictions).__name__}",
                         "return a pandas DataFrame")
    return model, train, test, predictions


def _fitted(suite: _Suite, spec: ComponentSpec, task: str) -> tuple[Model, Any, Any, Any]:
    key = (suite.full_name(spec), task)
    if key not in suite.fitted:
        try:
            suite.fitted[key] = _fit(suite, spec, task)
        except Exception as exc:
            suite.fitted[key] = exc
    value = suite.fitted[key]
    if isinstance(value, BaseException):
        raise value
    return value


def _fitted_or_skip(suite: _Suite, spec: ComponentSpec, task: str) -> tuple[Any, ...]:
    try:
        return _fitted(suite, spec, task)
    except Exception:
        raise CheckSkipped(f"fitting failed; see {suite.full_name(spec)}-fit_predict-{task}") \
            from None


def _check_fit_predict(suite: _Suite, spec: ComponentSpec, task: str) -> str | None:
    import pandas as pd

    model, train, test, predictions = _fitted(suite, spec, task)
    task_type = suite.task_type(task)
    if len(predictions) != len(test) or not predictions.index.equals(test.frame.index):
        raise suite.fail(spec, f"predict() of {len(test)} records returned {len(predictions)} "
                         "rows or another index", "return one row per input record, with the "
                         "input's index (pandas in, pandas out)")
    missing = [c for c in task_type.prediction_columns if c not in predictions.columns]
    if missing:
        raise suite.fail(spec, f"predictions lack column(s) {missing} that task {task} requires",
                         f"return columns {list(task_type.prediction_columns)} (for classifiers "
                         "see mlstat_core.sklearn_model.classification_frame)")
    if "classification" in task_type.tags and "prediction" in predictions.columns:
        known = set(train.y.astype(str))
        unknown = sorted(set(predictions["prediction"].astype(str)) - known)
        if unknown:
            raise suite.fail(spec, f"it predicts labels never seen in training: {unknown[:5]}",
                             "predict only classes of the training target")
        if "confidence" in predictions.columns:
            conf = pd.to_numeric(predictions["confidence"], errors="coerce")
            if conf.isna().any() or (conf < 0).any() or (conf > 1).any():
                raise suite.fail(spec, "confidence is not a number in [0, 1] for every record",
                                 "return the predicted class's probability")
    if predictions["prediction"].isna().any() if "prediction" in predictions.columns else False:
        raise suite.fail(spec, "some predictions are missing", "predict every record")
    return f"{len(predictions)} predictions on {len(train)} training records"


def _check_partition(suite: _Suite, spec: ComponentSpec, task: str) -> str | None:
    import pandas as pd

    model, _, test, predictions = _fitted_or_skip(suite, spec, task)
    inputs = _input_frame(test)
    part = inputs.iloc[3:10]
    note = None
    try:
        pd.testing.assert_frame_equal(model.predict(part), predictions.iloc[3:10],
                                      check_exact=False, rtol=1e-6, check_dtype=False)
    except AssertionError as exc:
        declared = model.batch_dependence()
        if not declared:
            raise suite.fail(spec, f"predicting 7 records alone differs from predicting them "
                             f"with the others ({str(exc).splitlines()[0]})",
                             "make predict() a function of each record (Spark scores partition "
                             "by partition), or, where the method needs the batch, say why in "
                             "Model.batch_dependence() so that mlstat predict warns") from exc
        note = f"depends on the batch, as declared: {declared}"
    empty = model.predict(inputs.iloc[:0])
    if not isinstance(empty, pd.DataFrame) or len(empty) != 0 or \
            any(c not in empty.columns for c in suite.task_type(task).prediction_columns):
        raise suite.fail(spec, "predict() of an empty partition does not return an empty frame "
                         "with the prediction columns", "handle zero records (Spark partitions "
                         "can be empty)")
    return note


def _is_pickle(path: Path) -> bool:
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return True
    with open(path, "rb") as handle:
        head = handle.read(2)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _check_save_load(suite: _Suite, spec: ComponentSpec, task: str) -> str | None:
    import pandas as pd

    model, _, test, predictions = _fitted_or_skip(suite, spec, task)
    with tempfile.TemporaryDirectory(prefix="mlstat-conformance-") as tmp:
        directory = Path(tmp) / "model"
        directory.mkdir()
        model.save(directory)
        files = [p for p in directory.rglob("*") if p.is_file()]
        stray = [p.name for p in Path(tmp).rglob("*") if p.is_file() and directory not in p.parents]
        if stray:
            raise suite.fail(spec, f"save() wrote outside the directory it is given: {stray[:3]}",
                             "write every file into that directory (mlstat run refuses a model "
                             "that writes elsewhere in its run folder)")
        if not files:
            raise suite.fail(spec, "save() wrote no file", "write the fitted state into the "
                             "directory it is given")
        unsafe = [p.name for p in files if _is_pickle(p)]
        if unsafe:
            raise suite.fail(spec, f"save() wrote pickle files {unsafe}",
                             "save with skops (SklearnModel does), safetensors or JSON")
        from mlstat_core.errors import IntegrityError

        try:
            loaded = type(model).load(directory)
        except IntegrityError as exc:
            raise suite.fail(spec, f"load() refused the saved files: {exc}",
                             f"list the types in {type(model).__name__}.trusted_types (they "
                             "must be types your own code wrote)") from exc
        again = loaded.predict(_input_frame(test))
    try:
        pd.testing.assert_frame_equal(again, predictions, check_exact=False, rtol=1e-6,
                                      check_dtype=False)
    except AssertionError as exc:
        raise suite.fail(spec, f"the reloaded model predicts differently "
                         f"({str(exc).splitlines()[0]})",
                         "save everything predict() needs, and rebuild it in load()") from exc
    return f"{len(files)} file(s)"


def _check_deterministic(suite: _Suite, spec: ComponentSpec, task: str) -> str | None:
    import pandas as pd

    _, train, test, predictions = _fitted_or_skip(suite, spec, task)
    model = suite.build(spec, task=task)
    model.seed = 0
    model.fit(train)
    try:
        pd.testing.assert_frame_equal(model.predict(_input_frame(test)), predictions,
                                      check_exact=False, rtol=1e-6, check_dtype=False)
    except AssertionError as exc:
        raise suite.fail(spec, "two fits with seed 0 predict differently",
                         "derive every random state from self.seed (set by the engine)") from exc
    return None


def _assess_context(suite: _Suite, task: str) -> Any:
    key = ("__reference__", task)
    if key not in suite.fitted:
        suite.fitted[key] = _new_assess_context(suite, task)
    return suite.fitted[key]


def _new_assess_context(suite: _Suite, task: str) -> Any:
    import hashlib

    from mlstat_core.artifacts import environment, sha256_file
    from mlstat_core.components import AssessContext
    from mlstat_core.testing.reference import reference_model
    from mlstat_core.testing.samples import sample_split

    train, test = sample_split(suite.dataset(task))
    timings: dict[str, float] = {}

    def fit_predict() -> tuple[Model, Any]:
        model = reference_model(task)
        model.seed = 0
        start = time.perf_counter()
        model.fit(train)
        timings["fit"] = time.perf_counter() - start
        start = time.perf_counter()
        predictions = model.predict(_input_frame(test))
        timings["predict"] = time.perf_counter() - start
        return model, predictions

    model, predictions = fit_predict()
    return AssessContext(
        task=suite.task_type(task), model=model, train=train, test=test,
        predictions=predictions, seed=0, timings=dict(timings),
        fingerprints={str(p): sha256_file(p) for p in train.sources if Path(p).is_file()},
        config_hash=hashlib.sha256(b"mlstat conformance").hexdigest(),
        environment=environment(), settings={},
        refit=lambda: fit_predict()[1],
    )


def _check_compute(suite: _Suite, spec: ComponentSpec, task: str) -> str | None:
    from mlstat_core.artifacts import to_jsonable
    from mlstat_core.components import IndicatorResult, Plot
    from mlstat_core.report.build import status_problem

    indicator = suite.build(spec)
    results = indicator.compute(_assess_context(suite, task))
    results = [results] if isinstance(results, IndicatorResult) else results
    if not isinstance(results, list) or not results:
        raise suite.fail(spec, f"compute() returned {results!r}",
                         "return an IndicatorResult or a non-empty list of them")
    for r in results:
        if not isinstance(r, IndicatorResult):
            raise suite.fail(spec, f"compute() returned a {type(r).__name__}",
                             "return mlstat_core.components.IndicatorResult objects")
        if not r.name or not isinstance(r.name, str):
            raise suite.fail(spec, "a result has no name", "name every IndicatorResult")
        if r.dimension != spec.dimension:
            raise suite.fail(spec, f"result {r.name!r} has dimension {r.dimension!r}, the spec "
                             f"declares {spec.dimension!r}", "use the spec's dimension")
        if not r.explanation:
            raise suite.fail(spec, f"result {r.name!r} has no explanation",
                             "say in one plain sentence what the figure means")
        problem = status_problem(r.status)
        if problem:
            raise suite.fail(spec, f"result {r.name!r} has {problem.split(':')[0]}",
                             problem.split(": ", 1)[1])
        if any(not isinstance(p, Plot) for p in r.plots):
            raise suite.fail(spec, f"result {r.name!r} has plots that are not Plot objects",
                             "use mlstat_core.components.Plot")
        for plot in r.plots:
            problem = _plot_problem(plot)
            if problem:
                raise suite.fail(spec, f"result {r.name!r}: plot {plot.title!r} cannot be "
                                 f"drawn ({problem})", "give its data in the layout docs/"
                                 "report-schema.md (Plots) describes for its kind")
        try:
            json.dumps(to_jsonable({"value": r.value, "interval": r.interval,
                                    "details": r.details}), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise suite.fail(spec, f"result {r.name!r} is not JSON-serialisable ({exc})",
                             "use numbers, strings, lists and dicts in value and details") \
                from exc
    return ", ".join(r.name for r in results)


def _plot_problem(plot: Any) -> str | None:
    """Why the report cannot draw ``plot`` (what report.html would say), or None."""
    from mlstat_core.artifacts import to_jsonable
    from mlstat_core.report.plots import DRAW_ERRORS, plot_body

    try:
        plot_body(to_jsonable(plot.__dict__), "check")
    except DRAW_ERRORS as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# --- building suites ------------------------------------------------------------------------


def _component_checks(suite: _Suite, spec: ComponentSpec, kind: str) -> None:
    suite.add("spec", lambda: _check_spec(suite, spec, kind), spec)
    suite.add("params", lambda: _check_params(suite, spec), spec)
    suite.add("factory", lambda: _check_factory(suite, spec), spec)
    if kind == "loader":
        suite.add("load", lambda: _check_load(suite, spec), spec)
    elif kind == "splitter":
        suite.add("split", lambda: _check_split(suite, spec), spec)
    elif kind == "transform":
        from mlstat_core.testing.transforms import check_transform

        tasks = spec.tasks or ("tabular_classification",)
        data = [t for t in tasks if suite.has_data(t)]
        if not data:
            def no_sample() -> str | None:
                raise CheckSkipped(f"no sample data set for task(s) {', '.join(tasks)}; "
                                   f"return datasets={{task: Dataset(...)}} from "
                                   f"{OPTIONS_FUNCTION}() to check it")
            suite.add("round_trip", no_sample, spec)
        for task in data[:1]:  # one sample data set is enough for a step
            suite.add("round_trip", lambda t=task: check_transform(suite, spec, t), spec, task)
    elif kind in ("model", "indicator"):
        tasks = [t for t in (spec.tasks or ("tabular_classification",)) if suite.has_data(t)]
        if not tasks:
            declared = ", ".join(spec.tasks)

            def no_data() -> str | None:
                raise CheckSkipped(f"no sample data set for task(s) {declared}; return "
                                   f"datasets={{task: Dataset(...)}} from "
                                   f"{OPTIONS_FUNCTION}() to check them")
            suite.add("fit_predict" if kind == "model" else "compute", no_data, spec)
            return
        for task in tasks:
            if kind == "model":
                suite.add("fit_predict", lambda t=task: _check_fit_predict(suite, spec, t),
                          spec, task)
                suite.add("partition", lambda t=task: _check_partition(suite, spec, t),
                          spec, task)
                suite.add("save_load", lambda t=task: _check_save_load(suite, spec, t),
                          spec, task)
                suite.add("deterministic",
                          lambda t=task: _check_deterministic(suite, spec, t), spec, task)
            else:
                suite.add("compute", lambda t=task: _check_compute(suite, spec, t), spec, task)


def _raw_specs(registry: Registry, plugin: str) -> list[tuple[str, Any]]:
    """Every spec the plugin's hooks return, complete or not (the registry skips bad ones)."""
    scratch = PluginRecord(plugin, "")
    found: list[tuple[str, Any]] = []
    for kind, hook_name in hookspecs.COMPONENT_HOOKS.items():
        for spec in registry._call_plugin_hook(plugin, hook_name, scratch, trace=False):
            found.append((kind, spec))
    return found


def _module_name(module: ModuleType) -> str:
    from importlib import metadata

    for ep in metadata.entry_points(group="mlstat"):
        if ep.value == module.__name__:
            return ep.name
    parts = module.__name__.split(".")
    return parts[-2] if len(parts) > 1 and parts[-1] == "plugin" else parts[-1]


def _check_example_keys(suite: _Suite) -> str | None:
    """Every key of ``examples`` names one of the plugin's components: a key that names none
    would be ignored, and the component checked with other params than the caller meant."""
    names = {n for _kind, spec in _raw_specs(suite.registry, suite.plugin)
             if isinstance(spec, ComponentSpec) for n in (spec.name, suite.full_name(spec))}
    unknown = sorted(k for k in suite.examples if k not in names)
    if unknown:
        close = {k: difflib.get_close_matches(k, sorted(names), n=1) for k in unknown}
        hints = "; ".join(f"{k!r}" + (f" (did you mean {c[0]!r}?)" if c else "")
                          for k, c in close.items())
        raise suite.fail(None, f"examples= names no component of the plugin: {hints}",
                         "key examples by component name, e.g. "
                         f"'{suite.plugin}.<component>' or '<component>'")
    return f"{len(suite.examples)} example(s), each for a component"


OPTIONS_FUNCTION = "conformance_options"
"""The optional function of a plugin module that declares its own suite options."""
OPTION_NAMES = ("examples", "datasets", "data_dir", "skip")


def declared_options(module: ModuleType) -> dict[str, Any]:
    """The suite options a plugin module declares in ``conformance_options()`` ({} if none).

    Raises :class:`CheckFailed` when the declaration is broken. A relative ``data_dir`` is
    taken from the module's folder, so the options mean the same from any working folder.
    """
    func = getattr(module, OPTIONS_FUNCTION, None)
    if func is None:
        return {}
    where = f"{module.__name__}.{OPTIONS_FUNCTION}"
    fix = (f"make {OPTIONS_FUNCTION}() return a dict with some of the keys "
           f"{', '.join(OPTION_NAMES)} (the options of check_plugin)")
    if not callable(func):
        raise CheckFailed(f"{where} is a {type(func).__name__}, not a function. Fix: {fix}")
    try:
        options = func()
    except Exception as exc:
        raise CheckFailed(f"{where}() raised {type(exc).__name__}: {exc}. Fix: correct it; "
                          "import what it needs inside the function") from exc
    if not isinstance(options, Mapping):
        raise CheckFailed(f"{where}() returned {type(options).__name__}, not a dict. Fix: {fix}")
    unknown = sorted(str(k) for k in options if k not in OPTION_NAMES)
    if unknown:
        named = [k + "".join(f" (did you mean {c!r}?)" for c in
                             difflib.get_close_matches(k, OPTION_NAMES, n=1)) for k in unknown]
        raise CheckFailed(f"{where}() returned unknown option(s) {', '.join(named)}. "
                          f"Fix: {fix}")
    options = dict(options)
    file = getattr(module, "__file__", None)
    if options.get("data_dir") is not None and file:
        options["data_dir"] = Path(file).parent / Path(options["data_dir"])
    return options


def _merged_options(declared: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's options over the plugin's declared ones: examples and datasets by key,
    skip patterns joined, the caller's data_dir first."""
    return {
        "examples": {**(declared.get("examples") or {}), **(given.get("examples") or {})},
        "datasets": {**(declared.get("datasets") or {}), **(given.get("datasets") or {})},
        "data_dir": given.get("data_dir") or declared.get("data_dir"),
        "skip": [*(declared.get("skip") or ()), *(given.get("skip") or ())],
    }


def _with_declared(registry: Registry, name: str, record: PluginRecord,
                   module: ModuleType | None, options: dict[str, Any]) -> _Suite:
    """A suite with the plugin's declared options; a broken declaration fails its own check."""
    declared: dict[str, Any] = {}
    problem: CheckFailed | None = None
    if module is not None:
        try:
            declared = declared_options(module)
        except CheckFailed as exc:
            problem = exc
    suite = _Suite(registry, name, record, module, **_merged_options(declared, options))
    if module is not None and getattr(module, OPTIONS_FUNCTION, None) is not None:
        def check_declaration() -> str | None:
            """The declaration works (its options are in use by the suite's other checks)."""
            if problem is not None:
                raise CheckFailed(f"{suite.where()}: {problem}") from problem.__cause__
            what = {"examples": "example(s)", "datasets": "data set(s)",
                    "skip": "skip pattern(s)"}
            parts = [f"{len(v)} {what[k]}" for k, v in declared.items() if k in what and v]
            if declared.get("data_dir") is not None:
                parts.append(f"data_dir {declared['data_dir']}")
            return "declares " + ", ".join(parts) if parts else "declares no option"
        suite.declaration = check_declaration
    return suite


def _suite_for(
    plugin: str | ModuleType,
    registry: Registry | None,
    options: dict[str, Any],
) -> _Suite:
    module: ModuleType | None = None
    if isinstance(plugin, ModuleType) or (
        isinstance(plugin, str) and "." in plugin and registry is None
    ):
        module = plugin if isinstance(plugin, ModuleType) else importlib.import_module(plugin)
        name = options.pop("name", None) or _module_name(module)
        registry = Registry()
        record = PluginRecord(name, module.__name__)
        try:
            registry.register(module, name, record)
        except Exception as exc:
            record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"
        return _with_declared(registry, name, record, module, options)
    registry = registry if registry is not None else discover()
    name = str(plugin)
    record = registry.plugins.get(name)
    if record is None:
        known = ", ".join(sorted(registry.plugins))
        record = PluginRecord(name, "?", status="failed",
                              error=f"no plugin named {name!r} is installed (known: {known}); "
                                    "pip install it (pip install -e . for your own)")
    module = registry.pm.get_plugin(name) if record.status == "loaded" else None
    return _with_declared(registry, name, record, module, options)


def check_plugin(
    plugin: str | ModuleType,
    *,
    examples: Mapping[str, Mapping[str, Any]] | None = None,
    datasets: Mapping[str, Any] | None = None,
    data_dir: str | Path | None = None,
    skip: Iterable[str] = (),
    registry: Registry | None = None,
    name: str | None = None,
) -> list[Check]:
    """The conformance checks of one plugin, lazily: call each or ``run()`` it.

    ``plugin`` is an installed plugin's name (its entry-point name), its module, or the module's
    dotted name (to check a plugin before installing it; ``name`` then sets its plugin name).
    ``examples`` maps component names to params for components with required params;
    ``datasets`` maps task types to :class:`~mlstat_core.components.Dataset` objects for tasks
    without a built-in sample; ``data_dir`` is where loaders resolve relative paths (default:
    the plugin module's folder); ``skip`` lists check ids or names (shell patterns allowed).
    The plugin module's ``conformance_options()``, if it has one, declares the same options
    (so that ``python -m mlstat_core.testing`` uses them too); options given here add to them
    (examples and datasets by key, skip patterns) and take precedence.
    """
    options = {"examples": examples, "datasets": datasets, "data_dir": data_dir, "skip": skip}
    if name:
        options["name"] = name
    suite = _suite_for(plugin, registry, options)
    suite.add("discovery", lambda: _check_discovery(suite))
    if suite.declaration is not None:
        suite.add(OPTIONS_FUNCTION, suite.declaration)
    if suite.module is None:
        return suite.checks
    suite.add("light_import", lambda: _check_light_import(suite))
    suite.add("examples", lambda: _check_example_keys(suite))
    for kind, spec in _raw_specs(suite.registry, suite.plugin):
        if not isinstance(spec, ComponentSpec):
            def not_a_spec(value: Any = spec, k: str = kind) -> str | None:
                raise suite.fail(None, f"{hookspecs.COMPONENT_HOOKS[k]} returned {value!r}",
                                 "return mlstat_core.components.ComponentSpec objects")
            suite.add(f"{kind}_hook", not_a_spec)
            continue
        _component_checks(suite, spec, kind)
    return suite.checks


def check_component(
    full_name: str,
    *,
    examples: Mapping[str, Mapping[str, Any]] | None = None,
    datasets: Mapping[str, Any] | None = None,
    data_dir: str | Path | None = None,
    skip: Iterable[str] = (),
    registry: Registry | None = None,
) -> list[Check]:
    """The conformance checks of one registered component, ``plugin.component``."""
    registry = registry if registry is not None else discover()
    plugin = full_name.split(".", 1)[0]
    options = {"examples": examples, "datasets": datasets, "data_dir": data_dir, "skip": skip}
    suite = _suite_for(plugin, registry, options)
    if suite.declaration is not None:
        suite.add(OPTIONS_FUNCTION, suite.declaration)
    found = [c for c in registry.find() if c.full_name == full_name]
    if not found:
        import difflib

        close = difflib.get_close_matches(full_name, [c.full_name for c in registry.find()], n=1)
        kind = next((c.kind for c in registry.find() if close and c.full_name == close[0]), None)
        message = registry.unknown_message(kind or "component", full_name)

        def unknown() -> str | None:
            raise CheckFailed(message)
        suite.add("exists", unknown)
        return suite.checks
    _component_checks(suite, found[0].spec, found[0].kind)
    return suite.checks


def run_checks(checks: Iterable[Check]) -> list[CheckResult]:
    """Run checks in order and return their results (never raises)."""
    return [check.run() for check in checks]


def assert_conforms(target: str | ModuleType, **options: Any) -> list[CheckResult]:
    """Run every check of a plugin (or of ``plugin.component``); raise listing all failures."""
    is_component = isinstance(target, str) and "." in target and \
        target.split(".", 1)[0] in discover().plugins and "registry" not in options
    checks = check_component(target, **options) if is_component else \
        check_plugin(target, **options)
    results = run_checks(checks)
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise ConformanceError(f"{len(failed)} of {len(results)} conformance checks failed:\n"
                               + "\n".join(f"  - {r.id}: {r.message}" for r in failed))
    return results
