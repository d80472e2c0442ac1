"""What a loader, a splitter, a model and an indicator are.

Hook implementations return :class:`ComponentSpec` objects; the registry imports a spec's
``factory`` only when the component is first used, so this module stays light: no pandas,
no scikit-learn, no torch at import time.
"""

from __future__ import annotations

import functools
import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, TypeAdapter

# the input-path markers of params, part of the contract (see mlstat_core.inputs)
from mlstat_core.inputs import InputFile as InputFile
from mlstat_core.inputs import InputFolder as InputFolder
from mlstat_core.inputs import InputPath as InputPath
from mlstat_core.inputs import InputRef as InputRef
from mlstat_core.inputs import marked_inputs, marker_problems

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlstat_core.errors import ConfigIssue
    from mlstat_core.tasks import TaskType

Kind = Literal["loader", "splitter", "transform", "model", "indicator", "engine"]
KINDS: tuple[str, ...] = ("loader", "splitter", "transform", "model", "indicator", "engine")
STATE_FILE = "state.json"
"""The JSON file in a model folder that :meth:`Model.write_state` writes."""

Dimension = Literal[
    "accuracy", "explainability", "reproducibility", "timeliness", "cost_effectiveness"
]
DIMENSIONS: tuple[str, ...] = (
    "accuracy",
    "explainability",
    "reproducibility",
    "timeliness",
    "cost_effectiveness",
)


class Params(BaseModel):
    """Base of every component's params model: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    def check(self, registry: Any, task: TaskType | None = None) -> list[ConfigIssue]:
        """Checks that need other components (a base model named in these params, say) or
        the pipeline's task (a split that needs classes), run by ``mlstat validate`` and
        before every run. Return one issue per problem, its ``file`` left empty and its
        ``field`` relative to the component's section; none by default."""
        return []

    def input_paths(self) -> list[InputRef]:
        """The input files and folders these params name, which ``mlstat validate`` (and
        every run, before anything is read) checks exist: by default the value of each field
        marked :class:`InputPath` (``InputFile``, ``InputFolder``), in nested params too. A
        component that derives more paths (one file per band from a pattern) extends the
        list: ``super().input_paths() + [InputRef("band_pattern", name, InputPath(...))]``."""
        return marked_inputs(self)

    def input_issues(self, base_dir: Path, how: Callable[[str, str], str | None] | None = None
                     ) -> list[ConfigIssue]:
        """Checks of what the input files hold (``core.table`` reads its file's header for
        the columns it names), run by ``mlstat validate`` and before every run once the
        paths of :meth:`input_paths` are found fine; relative paths start at ``base_dir``
        (the pipeline file's folder). ``how(option, example)`` says how the user sets a
        reading option (by default :func:`~mlstat_core.io.loader_setting`, the pipeline
        file's setting; ``mlstat evaluate`` passes its ``--set``). Return one issue per
        problem, its ``file`` left empty and its ``field`` relative to the component's
        section; none by default. Not run by :meth:`check`, which reads no file."""
        return []


class NoParams(Params):
    """For components that take no parameters."""


def known_encoding(name: str) -> str:
    """``name`` if Python knows the text encoding ('utf-8', 'cp1250', 'latin-1'), else a
    ValueError that says what to give."""
    import codecs

    try:
        codecs.lookup(name)
    except LookupError:
        raise ValueError(f"unknown text encoding {name!r}; give one such as 'utf-8', "
                         "'cp1250' or 'latin-1'") from None
    return name


Encoding = Annotated[str, AfterValidator(known_encoding)]
"""A params field holding a text encoding, checked when the pipeline file is validated."""


@dataclass(frozen=True)
class ComponentSpec:
    """A component a plugin provides, declared without importing its code.

    ``factory`` is a ``"module:attr"`` string naming a class (or callable) that is called with
    the validated params object to build the component. ``tasks`` lists the task types it
    serves (empty means every task). ``dimension`` is required for indicators.
    """

    name: str
    kind: str
    factory: str
    params: type[BaseModel] = NoParams
    tasks: tuple[str, ...] = ()
    description: str = ""
    dimension: str | None = None
    default: bool = True
    """For indicators: computed when a pipeline file lists no indicators. A plugin's default
    indicators then join every such pipeline of their tasks: set ``default=False`` unless the
    indicator applies to every pipeline of those tasks."""

    def problems(self) -> list[str]:
        """What is incomplete or wrong in this spec (empty when it honours the contract)."""
        found: list[str] = []
        if not isinstance(self.name, str) or not self.name.isidentifier():
            found.append(f"name {self.name!r} is not an identifier (letters, digits, _)")
        if self.kind not in KINDS:
            found.append(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if not isinstance(self.factory, str) or self.factory.count(":") != 1:
            found.append(f"factory {self.factory!r} is not a 'module:attr' string")
        if not (isinstance(self.params, type) and issubclass(self.params, BaseModel)):
            found.append("params is not a pydantic model class")
        else:
            found += params_problems(self.params)
        if not self.description:
            found.append("description is empty")
        if isinstance(self.tasks, str):
            found.append("tasks must be a tuple of task names, not one string")
        if self.kind == "indicator" and self.dimension not in DIMENSIONS:
            found.append(f"indicator dimension {self.dimension!r} is not one of {DIMENSIONS}")
        return found

    def serves(self, task: str) -> bool:
        return not self.tasks or task in self.tasks

    def load_factory(self) -> Any:
        """Import and return the object named by ``factory`` (where heavy imports happen)."""
        module_name, _, attr = self.factory.partition(":")
        module = importlib.import_module(module_name)
        obj: Any = module
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj


def params_problems(model: type[BaseModel]) -> list[str]:
    """What makes a params model unfit: it accepts unknown keys (a typo in a pipeline file
    would be ignored), a field's own default is invalid (checked when every field has one;
    a model-level validator that asks for some value is not a fault), or an
    :class:`InputPath` is ``within`` a field the model lacks."""
    from pydantic import ValidationError

    from mlstat_core.errors import validation_text

    found: list[str] = []
    name = model.__name__
    if model.model_config.get("extra") != "forbid":
        found.append(f"params {name} accepts unknown keys, so a typo in a pipeline file "
                     "would be silently ignored: subclass mlstat_core.components.Params "
                     "(or set model_config = ConfigDict(extra='forbid'))")
    if all(not info.is_required() for info in model.model_fields.values()):
        try:
            model()
        except ValidationError as exc:
            bad = "; ".join(f"{'.'.join(map(str, e['loc']))}: {validation_text(e)} "
                            f"(default {e.get('input')!r})" for e in exc.errors() if e["loc"])
            if bad:
                found.append(f"params {name} rejects its own defaults ({bad}): give every "
                             "field a default that passes its constraints")
        except Exception as exc:  # a validator that raises something else than ValueError
            found.append(f"params {name}() fails with its defaults: {type(exc).__name__}: "
                         f"{exc}")
    found += _json_problems(model)
    found += marker_problems(model)
    return found


@functools.cache  # every discovery asks, for the same few dozen classes
def _json_problems(model: type[BaseModel]) -> tuple[str, ...]:
    """Params are written into config.toml and state.json: every field must be plain data."""
    try:
        model.model_json_schema()
        return ()
    except Exception:  # pydantic cannot describe (so not write) a field's type as JSON
        pass
    bad = []
    for field_name, info in model.model_fields.items():
        try:
            TypeAdapter(info.annotation).json_schema()
        except Exception:  # pydantic cannot describe (so not write) this type as JSON
            bad.append(f"{field_name} ({getattr(info.annotation, '__name__', info.annotation)})")
    if not bad:
        return ()
    return (f"params {model.__name__} has field(s) that cannot be written to a pipeline or "
            f"state file: {', '.join(bad)}; use plain data (numbers, text, lists, tables) and "
            "look up functions or objects by name inside the component",)


# --- data ---------------------------------------------------------------------------------


@dataclass
class ColumnRoles:
    """Which column plays which part; a task type says which roles must be set."""

    id: str | None = None
    target: str | None = None
    features: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    weights: str | None = None
    groups: str | None = None
    auxiliary: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("features", "text", "auxiliary"):  # one column named as a string
            if isinstance(getattr(self, name), str):
                setattr(self, name, [getattr(self, name)])

    def input_columns(self) -> list[str]:
        """Columns a model reads to predict (what new records must carry)."""
        return list(dict.fromkeys([*self.text, *self.features, *self.auxiliary]))

    def all_columns(self) -> list[str]:
        named = [self.id, self.target, self.weights, self.groups]
        return list(dict.fromkeys([c for c in named if c] + self.input_columns()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target": self.target,
            "features": list(self.features),
            "text": list(self.text),
            "weights": self.weights,
            "groups": self.groups,
            "auxiliary": list(self.auxiliary),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnRoles:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class Dataset:
    """What a loader yields: a table, the roles of its columns and the files it came from."""

    frame: pd.DataFrame
    roles: ColumnRoles
    name: str = "data"
    sources: list[Path] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.roles, dict):
            self.roles = ColumnRoles.from_dict(self.roles)
        if isinstance(self.sources, str | Path):  # one file (run folders fingerprint each)
            self.sources = [Path(self.sources)]

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def y(self) -> pd.Series:
        if not self.roles.target:
            raise KeyError("this dataset has no target column")
        return self.frame[self.roles.target]

    @property
    def X(self) -> pd.DataFrame:  # noqa: N802 - the usual name for the input matrix
        return self.frame[self.roles.input_columns()]

    @property
    def sample_weight(self) -> pd.Series | None:
        return self.frame[self.roles.weights] if self.roles.weights else None

    def subset(self, positions: np.ndarray | list[int]) -> Dataset:
        """The rows at these positions, with the same roles and provenance.

        Metadata values that are frames or series aligned with the records (the same index,
        such as true values kept for evaluation) are subset with them; others are shared."""
        frame = self.frame.iloc[positions]
        metadata = {}
        for key, value in self.metadata.items():
            index = getattr(value, "index", None)
            aligned = index is not None and hasattr(value, "iloc") \
                and index.equals(self.frame.index)
            metadata[key] = value.iloc[positions] if aligned else value
        return Dataset(frame=frame, roles=self.roles, name=self.name, sources=self.sources,
                       metadata=metadata)


@dataclass
class Split:
    """Row positions of one train / (validation) / test partition; ``name`` labels it in the
    run's progress (``holdout: 1,139 train / 380 test``). The ``split`` column of
    ``predictions.parquet`` names each record's part instead (``test``, or ``train`` for a
    test record ``train`` holds too), and ``fold`` the split's number when there are
    several."""

    train: np.ndarray
    test: np.ndarray
    validation: np.ndarray | None = None
    name: str = "holdout"


# --- components ---------------------------------------------------------------------------


class Component:
    """Every component is built from its validated params object."""

    def __init__(self, params: BaseModel | None = None) -> None:
        self.params = params if params is not None else NoParams()


class Loader(Component, ABC):
    """Reads a data set; relative paths are resolved against ``base_dir`` (the pipeline file's)."""

    @abstractmethod
    def load(self, base_dir: Path) -> Dataset: ...


class Splitter(Component, ABC):
    """Partitions a data set for honest assessment; one split for holdout, k for k-fold.

    The engine sets ``task`` before calling ``split``, so a splitter may depend on it (the
    built-in ones stratify only classification tasks); ``None`` when called on its own."""

    task: TaskType | None = None

    @abstractmethod
    def split(self, dataset: Dataset, seed: int) -> list[Split]: ...


class Transform(Component, ABC):
    """A preprocessing step applied to every partition before the model, at fit and predict.

    ``transform`` is a function of one pandas partition (the same records and index in and
    out; values changed, for example normalised text, and columns may be added), so it runs
    wherever the model runs. A
    transform that learns from data overrides ``fit`` and saves what it learned with
    ``save``/``load``; a stateless one needs neither.
    """

    def fit(self, train: Dataset) -> Transform:
        return self

    @abstractmethod
    def transform(self, frame: pd.DataFrame, roles: ColumnRoles) -> pd.DataFrame: ...

    def save(self, directory: Path) -> None:
        """Write what ``fit`` learned (safe formats only); nothing for stateless transforms."""

    def load_state(self, directory: Path) -> None:
        """Read back what :meth:`save` wrote."""


class Model(Component, ABC):
    """A learner with the scikit-learn shape, plus safe persistence.

    ``predict`` is a function of one partition of records (pandas in, pandas out, same index),
    so the same code scores in-process, in chunks, or on Spark. Its output carries the columns
    the task type names (for classification: ``prediction`` and ``confidence``) and may add
    ``proba_<class>`` columns and any columns of the plugin's own.
    """

    trusted_types: ClassVar[tuple[str, ...]] = ()
    """Fully qualified type names (beyond skops' defaults) this model's files may contain."""

    def __init__(self, params: BaseModel | None = None, task: str = "") -> None:
        super().__init__(params)
        self.task = task
        self.seed = 0
        """Set by the engine from the pipeline's seed before ``fit``."""
        self.roles: ColumnRoles | None = None
        self.classes_: list[Any] | None = None
        self.text_columns: list[str] | None = None
        """Input columns the model learned as text (categories): every engine reads them as
        text in each chunk, so a chunk of ``1, 2, 3`` from a column of ``1, 2, 3, X`` is
        scored as in training. Set by ``fit`` and saved with the model; None means none."""
        self.made_columns: list[str] = []
        """Columns of the records ``fit`` receives that the pipeline's preprocessing steps
        made (set by the engine before ``fit``): new records, and the ``test`` records of
        ``write_outputs``, come without them. A model that writes results back to the
        records' own columns refuses to train on them."""

    @abstractmethod
    def fit(self, train: Dataset, validation: Dataset | None = None) -> Model: ...

    @abstractmethod
    def predict(self, frame: pd.DataFrame) -> pd.DataFrame: ...

    @abstractmethod
    def save(self, directory: Path) -> None:
        """Write the fitted model into ``directory`` in safe formats only (skops, safetensors,
        JSON); never pickle."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path) -> Model:
        """Rebuild a fitted model from what :meth:`save` wrote."""

    def write_state(self, directory: Path, **fields: Any) -> None:
        """Write ``state.json``: what every model needs to be rebuilt (class, task, seed,
        params, roles, classes, text columns) plus the model's own JSON ``fields``."""
        from mlstat_core.artifacts import write_json

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_json(directory / STATE_FILE, {
            "class": f"{type(self).__module__}:{type(self).__qualname__}",
            "task": self.task,
            "seed": self.seed,
            "params": self.params.model_dump(mode="json"),
            "roles": self.roles.as_dict() if self.roles else None,
            "classes": self.classes_,
            "text_columns": self.text_columns,
            **fields,
        })

    @classmethod
    def read_state(cls, directory: Path, params_type: type[BaseModel],
                   defaults: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """A model rebuilt from ``state.json`` (params, task, seed, roles, classes, text
        columns) and the
        whole state, for the model's own fields. ``defaults`` fill params that files written
        by older versions lack."""
        from pydantic import ValidationError

        from mlstat_core.artifacts import read_json
        from mlstat_core.errors import IntegrityError, ModelError

        path = Path(directory) / STATE_FILE
        if not path.is_file():
            raise ModelError(f"model folder {directory} has no {STATE_FILE} (saved by an older "
                             "version of its plugin, or incomplete); fit the model again")
        state = read_json(path)
        saved = state.get("class") if isinstance(state, dict) else None
        here = f"{cls.__module__}:{cls.__qualname__}"
        if isinstance(saved, str) and saved.rsplit(":", 1)[-1] != cls.__qualname__:
            raise IntegrityError(f"{path} was written by {saved}, not {here}: the run folder's "
                                 "manifest names another model than the one saved; do not "
                                 "load it, rerun the pipeline")
        try:
            params = params_type.model_validate({**(defaults or {}), **state["params"]})
        except (ValidationError, KeyError, TypeError) as exc:
            raise IntegrityError(f"the params saved in {path} do not fit {here} "
                                 f"({str(exc).splitlines()[0]}): the run folder was changed or "
                                 "made by another model; do not load it, rerun the "
                                 "pipeline") from None
        model = cls(params, state.get("task", ""))
        model.seed = state.get("seed", 0)
        model.roles = ColumnRoles.from_dict(state["roles"]) if state.get("roles") else None
        model.classes_ = state.get("classes")
        text = state.get("text_columns")
        model.text_columns = [str(c) for c in text] if isinstance(text, list) else None
        return model, state

    preprocessor: Any = None
    """Set by the engine when the pipeline has ``[[preprocess]]`` steps: a function of a raw
    partition returning it preprocessed. See :meth:`prepare`."""

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The pipeline's preprocessing steps applied to raw records. ``predict`` receives
        records already prepared; a model that scores other raw records itself (in
        ``write_outputs``, say) passes them through ``prepare`` first."""
        return self.preprocessor(frame) if self.preprocessor is not None else frame

    def write_outputs(self, directory: Path, predictions: pd.DataFrame,
                      test: Dataset) -> list[Path]:
        """Write task-specific outputs of a run (an audit log, a manual coding queue, a map)
        into ``directory`` (the run folder's ``outputs/``); return the files written. The
        engine calls it after predicting and before the indicators, which find the files in
        ``AssessContext.outputs``, and fingerprints them in the manifest. ``predictions`` is
        the run's prediction frame (with ``record_id``); ``test`` the records it covers."""
        return []

    def explain(self, frame: pd.DataFrame, top: int = 5) -> pd.DataFrame | None:
        """Per-record explanation: for each record the ``top`` inputs that drove its prediction.

        Returns a frame with columns ``record``, ``feature``, ``contribution`` (one row per
        record and feature), or None when the model offers no per-record explanation.
        """
        return None

    def global_explanation(self) -> dict[str, Any] | None:
        """Model-level explanation (for example the most influential terms per class)."""
        return None

    def batch_dependence(self) -> str | None:
        """Why a record's prediction depends on the other records scored with it (and so on
        chunk sizes and partitions), with the setting that removes it; None (the default)
        when each record is scored on its own. ``mlstat predict`` warns when it applies."""
        return None


@dataclass
class Plot:
    """A figure for the report: drawn from ``data`` by the report for known ``kind``s
    (``heatmap``, ``line``, ``bar``, ``hist``), or given ready as an SVG or PNG (base64)."""

    title: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    svg: str | None = None
    png_base64: str | None = None


@dataclass
class IndicatorResult:
    """One quality figure with its QF4SA dimension and a plain-language explanation."""

    name: str
    dimension: str
    value: Any = None
    interval: tuple[float, float] | None = None
    explanation: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    plots: list[Plot] = field(default_factory=list)
    status: str = "ok"
    error: str | None = None
    headline: bool = False
    """Shown on the report's first screen."""


@dataclass
class AssessContext:
    """Everything an indicator may look at after a run has fitted and predicted."""

    task: TaskType
    model: Model
    train: Dataset
    test: Dataset
    predictions: pd.DataFrame
    validation: Dataset | None = None
    seed: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per step (``fit``, ``predict``, ...), summed over the times it ran."""
    step_counts: dict[str, int] = field(default_factory=dict)
    """How many times each step ran: ``fit`` once per fold and once more for the final model
    under cross-validation."""
    peak_memory_mb: float | None = None
    fingerprints: dict[str, str] = field(default_factory=dict)
    config_hash: str = ""
    environment: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    """The pipeline file's ``[quality]`` table (targets, manual_seconds_per_record, ...)."""
    held_out: bool = True
    """Whether ``model`` never saw the test records. False under cross-validation: the
    predictions are out-of-fold, but the saved model was refit on every record, so scoring
    it on ``test`` (or ``validation``) again would measure it on its training records."""
    refit: Any = None
    """Callable with no arguments: fits a fresh model with the same seed and returns its
    predictions on ``test`` (for the reproducibility check)."""
    outputs: list[Path] = field(default_factory=list)
    """Files the model wrote with ``write_outputs`` (a map, an audit log, an index) before
    assessment, so that indicators can assess them."""

    @property
    def y_true(self) -> pd.Series:
        return self.test.y

    @property
    def y_pred(self) -> pd.Series:
        return self.predictions["prediction"]


class Engine(Component, ABC):
    """Executes batch prediction: in-process (``core.local``), or on a cluster engine.

    An engine never needs to know the model: it only calls ``model.predict`` on pandas
    partitions, so any plugin's model runs on any engine.
    """

    @abstractmethod
    def score_frame(self, model: Model, frame: pd.DataFrame, chunk_size: int) -> pd.DataFrame:
        """Predictions for an in-memory frame (the predict step of ``mlstat run``)."""

    @abstractmethod
    def score_file(self, job: Any) -> Any:
        """Score a file or table described by a :class:`mlstat_core.predict.ScoringJob` and
        return a :class:`mlstat_core.predict.PredictSummary`."""


class Indicator(Component, ABC):
    """Computes quality figures for one QF4SA dimension from an :class:`AssessContext`."""

    @abstractmethod
    def compute(self, ctx: AssessContext) -> IndicatorResult | list[IndicatorResult]: ...


KIND_BASES: dict[str, type] = {
    "loader": Loader, "splitter": Splitter, "model": Model, "indicator": Indicator,
    "transform": Transform,
}
"""The class a component of each kind subclasses (engines are duck-typed)."""


def factory_class_problem(factory: type, kind: str, params: type[BaseModel] | None = None
                          ) -> tuple[str, str] | None:
    """What is wrong with a component class for its kind, and the fix: a component of
    another kind (a loader class named as a model's factory), methods of the contract left
    unimplemented (it could not be built), or a ``params_type`` (with which a model reads
    its saved params back) other than the spec's ``params``; None when it is fine. A class
    that follows the contract without subclassing its base is left to the conformance
    suite."""
    import inspect

    base = KIND_BASES.get(kind)
    other = next((b for k, b in KIND_BASES.items() if k != kind and issubclass(factory, b)),
                 None)
    if base is not None and other is not None and not issubclass(factory, base):
        return (f"its factory class {factory.__name__} is a {other.__name__}, not a "
                f"{base.__name__}",
                f"point the factory at the {kind} class, which subclasses "
                f"mlstat_core.components.{base.__name__}")
    if inspect.isabstract(factory):
        missing = ", ".join(sorted(getattr(factory, "__abstractmethods__", ())))
        return (f"its factory class {factory.__name__} does not implement {missing}, which "
                f"every {kind} must",
                f"implement {missing} (see the {kind} contract in docs/plugin-authors.md)")
    return params_type_problem(factory, params)


def params_type_problem(factory: type, params: type[BaseModel] | None
                        ) -> tuple[str, str] | None:
    """What is wrong, and the fix, when a model class's ``params_type`` (with which it reads
    its saved params back) is not ``params``, the spec's params class; None when it is or
    the class has none. A subclass is no better: its own settings are unknown keys to
    ``params_type``."""
    own = getattr(factory, "params_type", None)
    if params is not None and isinstance(own, type) and params is not own:
        if params is NoParams:
            fix = f"give params={own.__name__} in the component's ComponentSpec"
        elif own is NoParams:
            fix = f"set params_type = {params.__name__} in the class"
        else:
            fix = (f"name one class in both: params={own.__name__} in the ComponentSpec or "
                   f"params_type = {params.__name__} in the class")
        return (f"its factory class {factory.__name__} reads its params as "
                f"{own.__name__} (params_type, also used to load the saved model) but the "
                f"component's spec gives it {params.__name__}", fix)
    return None
