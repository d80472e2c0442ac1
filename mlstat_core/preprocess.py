"""A model behind its preprocessing steps: fitted, applied, saved and loaded as one.

The engine wraps the pipeline's model in :class:`Preprocessed` when the pipeline file lists
``[[preprocess]]`` steps. The model's own files stay where they would be; the steps are saved
under ``preprocess/`` with ``preprocess.json`` naming their components, which are rebuilt
through the registry (never from a path stored in a file).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd

from mlstat_core.artifacts import read_json, write_json
from mlstat_core.components import Dataset, Model, Transform
from mlstat_core.errors import DataError, component_defect

STEPS_FILE = "preprocess.json"
STEPS_DIR = "preprocess"


def _import(factory: str) -> Any:
    import importlib

    module_name, _, attr = factory.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _checked(name: str, step: Transform, frame: pd.DataFrame, roles: Any) -> pd.DataFrame:
    """Apply one step and hold it to the contract: a DataFrame of the same records, with the
    same index (a breach is a defect of the step's code)."""
    out = step.transform(frame, roles)
    if not isinstance(out, pd.DataFrame):
        raise component_defect(DataError(
            f"preprocessing step {name}: transform() returned "
            f"{'None' if out is None else 'a ' + type(out).__name__}, not a DataFrame; a "
            "transform must return the records it was given, as a pandas DataFrame with "
            "their index"))
    if len(out) != len(frame) or not out.index.equals(frame.index):
        raise component_defect(DataError(
            f"preprocessing step {name} changed the records it was given; a transform must "
            "keep every record and its index"))
    return out


class Preprocessed(Model):
    """Applies transforms in order, then the inner model; looks like the inner model."""

    def __init__(self, steps: list[tuple[str, Transform]], inner: Model) -> None:
        super().__init__(inner.params, inner.task)
        self.steps = steps
        self.inner = inner
        inner.preprocessor = self.apply

    @property
    def roles(self):  # type: ignore[override]
        """The inner model's roles less the input columns the steps make: new records carry
        the raw columns only (an edit rule may name a variable a step derives)."""
        roles = self.inner.roles
        if roles is None or not self.made_columns:
            return roles
        made = set(self.made_columns)
        return dataclasses.replace(
            roles, **{name: [c for c in getattr(roles, name) if c not in made]
                      for name in ("features", "text", "auxiliary")})

    @roles.setter
    def roles(self, value) -> None:
        if hasattr(self, "inner"):
            self.inner.roles = value

    @property
    def classes_(self):  # type: ignore[override]
        return self.inner.classes_

    @classes_.setter
    def classes_(self, value) -> None:
        if hasattr(self, "inner"):
            self.inner.classes_ = value

    def apply(self, frame: pd.DataFrame, roles=None) -> pd.DataFrame:
        roles = roles or self.inner.roles
        for name, step in self.steps:
            frame = _checked(name, step, frame, roles)
        return frame

    def _applied(self, dataset: Dataset | None) -> Dataset | None:
        if dataset is None:
            return None
        return Dataset(self.apply(dataset.frame, dataset.roles), dataset.roles, dataset.name,
                       dataset.sources, dataset.metadata)

    def fit(self, train: Dataset, validation: Dataset | None = None) -> Preprocessed:
        from mlstat_core.sklearn_model import text_columns_of

        self.text_columns = text_columns_of(train.frame, train.roles.input_columns())
        current = train
        for _name, step in self.steps:
            step.fit(current)
            current = Dataset(_checked(_name, step, current.frame, current.roles),
                              current.roles, current.name, current.sources, current.metadata)
        self.inner.seed = self.seed
        self.inner.made_columns = [c for c in current.frame.columns
                                   if c not in train.frame.columns]
        self.inner.fit(current, self._applied(validation))
        inner_inputs = self.inner.roles.input_columns() if self.inner.roles else []
        self.made_columns = [c for c in inner_inputs if c not in train.frame.columns]
        return self

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        from mlstat_core.sklearn_model import require_frame

        require_frame(frame)  # before the steps, which would fail on it less clearly
        return self.inner.predict(self.apply(frame))

    def first_lossy_step(self, reloaded: Preprocessed, frame: pd.DataFrame) -> str | None:
        """The first step whose loaded copy (in ``reloaded``) transforms ``frame`` otherwise
        than this fitted one (its save or load_state loses state), or None."""
        roles = self.inner.roles
        for (name, step), (_, loaded) in zip(self.steps, reloaded.steps, strict=True):
            out = _checked(name, step, frame, roles)
            try:
                pd.testing.assert_frame_equal(_checked(name, loaded, frame, roles), out,
                                              check_exact=False, rtol=1e-6)
            except AssertionError:
                return name
            frame = out
        return None

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        self.inner.save(directory)
        names = []
        for i, (name, step) in enumerate(self.steps):
            step_dir = directory / STEPS_DIR / str(i)
            step_dir.mkdir(parents=True, exist_ok=True)
            write_json(step_dir / "params.json", step.params.model_dump(mode="json"))
            step.save(step_dir)
            names.append(name)
        write_json(directory / STEPS_FILE, {"steps": names, "text_columns": self.text_columns,
                                            "made_columns": self.made_columns})

    @classmethod
    def load(cls, directory: Path) -> Model:  # pragma: no cover - use load_fitted
        raise NotImplementedError("use mlstat_core.preprocess.load_fitted")

    def write_outputs(self, directory: Path, predictions: pd.DataFrame,
                      test: Dataset) -> list[Path]:
        return self.inner.write_outputs(directory, predictions, test)

    def explain(self, frame: pd.DataFrame, top: int = 5) -> pd.DataFrame | None:
        return self.inner.explain(self.apply(frame), top)

    def global_explanation(self) -> dict[str, Any] | None:
        return self.inner.global_explanation()

    def batch_dependence(self) -> str | None:
        return self.inner.batch_dependence()


def _damaged(path: Path, problem: str) -> DataError:
    return DataError(f"the run folder is damaged: {path} {problem}; rerun the pipeline")


def _read(path: Path) -> Any:
    if not path.is_file():
        raise _damaged(path, "is missing")
    try:
        return read_json(path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _damaged(path, f"is not valid JSON ({exc})") from None


def _steps_file(directory: Path) -> dict[str, Any]:
    """``preprocess.json``, checked: an object with a list of step names (empty when the
    model has no steps)."""
    path = Path(directory) / STEPS_FILE
    if not path.is_file():
        return {"steps": []}
    data = _read(path)
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise _damaged(path, "does not hold a list of step names under `steps`")
    return data


def step_names(directory: Path) -> list[str]:
    """Component names of the preprocessing steps saved with a model (empty when none)."""
    return list(_steps_file(directory)["steps"])


def load_fitted(directory: Path, model_factory: str, step_factories: list[tuple[str, str, Any]]
                ) -> Model:
    """Rebuild a saved model and its steps from factories resolved through the registry.

    ``step_factories`` holds ``(name, "module:attr", params class)`` per step, in order.
    """
    directory = Path(directory)
    model = _import(model_factory).load(directory)
    if not step_factories:
        return model
    steps: list[tuple[str, Transform]] = []
    for i, (name, factory, params_type) in enumerate(step_factories):
        step_dir = directory / STEPS_DIR / str(i)
        params = params_type.model_validate(_read(step_dir / "params.json"))
        step = _import(factory)(params)
        step.load_state(step_dir)
        steps.append((name, step))
    wrapped = Preprocessed(steps, model)
    wrapped.seed = model.seed
    saved = _steps_file(directory)
    text = saved.get("text_columns")
    wrapped.text_columns = [str(c) for c in text] if isinstance(text, list) else None
    made = saved.get("made_columns")  # absent in folders saved before it was kept
    wrapped.made_columns = [str(c) for c in made] if isinstance(made, list) else []
    return wrapped
