"""Components that break the plugin contract in one way each, registered as the plugin
``bad`` of distribution ``mlstat-bad``: what the engine and ``mlstat predict`` must catch."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd

from mlstat_core import hookimpl
from mlstat_core.builtins.models import LogisticRegressionModel
from mlstat_core.builtins.params import LogisticParams
from mlstat_core.components import (
    ColumnRoles,
    ComponentSpec,
    Dataset,
    Indicator,
    IndicatorResult,
    Loader,
    Model,
    NoParams,
    Params,
)
from mlstat_core.inputs import InputFile
from mlstat_core.registry import PluginRecord, discover

MODULE = "contract_fakes"


def small_frame(n: int = 80, seed: int = 0) -> pd.DataFrame:
    """id, two numeric features and a two-class target; ``code`` repeats the target, so a
    model that predicts ``code`` is right exactly when rows meet their own records."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"id": [f"r{i:03d}" for i in range(n)], "a": rng.normal(size=n),
                          "b": rng.normal(size=n)})
    frame["y"] = np.where(frame["a"] + rng.normal(0, 0.3, n) > 0, "yes", "no")
    frame["code"] = frame["y"]
    return frame


class Echo(Model):
    """Predicts the ``code`` column of each record (so every prediction is right)."""

    def fit(self, train, validation=None):
        self.roles = train.roles
        self.classes_ = sorted(train.y.unique().tolist())
        return self

    def predict(self, frame):
        return pd.DataFrame({"prediction": frame["code"].to_numpy(),
                             "confidence": np.ones(len(frame))}, index=frame.index)

    def save(self, directory):
        self.write_state(directory)

    @classmethod
    def load(cls, directory):
        model, _ = cls.read_state(directory, NoParams)
        return model


class Unroled(Echo):
    """A hand-written fit that sets neither ``roles`` nor ``classes_``."""

    def fit(self, train, validation=None):
        return self


class Strange(Echo):
    """Leaves some records without a prediction and gives others a label never trained on."""

    def predict(self, frame):
        out = super().predict(frame)
        a = frame["a"].to_numpy()
        out["prediction"] = out["prediction"].astype(object)
        out.loc[a > 1, "prediction"] = None
        out.loc[a < -1, "prediction"] = "maybe"
        return out


class Mutates(Echo):
    """Adds a column to the frame it is given."""

    def predict(self, frame):
        frame["scored"] = 1
        return super().predict(frame)


class Reordered(Echo):
    """Right index, rows in another order (as after a sort)."""

    def predict(self, frame):
        return super().predict(frame).iloc[::-1]


class ResetIndex(Echo):
    def predict(self, frame):
        return super().predict(frame).reset_index(drop=True)


class ShortByOne(Echo):
    def predict(self, frame):
        return super().predict(frame).iloc[:-1]


class NdArray(Echo):
    def predict(self, frame):
        return super().predict(frame)["prediction"].to_numpy()


class NoConfidence(Echo):
    def predict(self, frame):
        return super().predict(frame).rename(columns={"confidence": "score"})


class Percent(Echo):
    def predict(self, frame):
        return super().predict(frame).assign(confidence=100.0)


class NoFiles(Echo):
    def save(self, directory):
        Path(directory).mkdir(parents=True, exist_ok=True)


class Pickler(Echo):
    def save(self, directory):
        super().save(directory)
        (Path(directory) / "model.pkl").write_bytes(b"\x80\x04N.")


class Outside(Echo):
    """Writes part of its state beside its model folder, into the run folder."""

    def save(self, directory):
        super().save(directory)
        (Path(directory).parent / "extra.json").write_text(json.dumps({"x": 1}))


class Tree(LogisticRegressionModel):
    """A decision tree whose files need a type it does not trust."""

    def classifier(self):
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(max_depth=2, random_state=0)


class Forgetful(Echo):
    """Learns to answer the other class for some records but does not save it."""

    flip = False

    def fit(self, train, validation=None):
        self.flip = True
        return super().fit(train, validation)

    def predict(self, frame):
        out = super().predict(frame)
        if self.flip:
            out.loc[frame["a"].to_numpy() > 1, "prediction"] = "no"
        return out


class Noisy(Echo):
    """Draws its confidences anew at every call (MC dropout, say)."""

    def predict(self, frame):
        out = super().predict(frame)
        out["confidence"] = np.random.default_rng().uniform(0.5, 1.0, len(frame))
        return out


class FitFails(Echo):
    def fit(self, train, validation=None):
        raise ValueError("Input contains NaN")


class PredictFails(Echo):
    """Fits and saves; raises when scoring records whose ``a`` is above 100."""

    def predict(self, frame):
        if (frame["a"] > 100).any():
            raise ZeroDivisionError("float division by zero")
        return super().predict(frame)


class LateBad(Echo):
    """Fine in the run; confidences of 5 for records whose ``a`` is above 100."""

    def predict(self, frame):
        out = super().predict(frame)
        out.loc[(frame["a"] > 100).to_numpy(), "confidence"] = 5.0
        return out


class PathParams(Params):
    path: str
    target: str = "label"


class FrameLoader(Loader):
    """Returns a DataFrame instead of a Dataset."""

    def load(self, base_dir):
        return pd.read_csv(Path(base_dir) / self.params.path)


class MissingFileLoader(Loader):
    def load(self, base_dir):
        with open(Path(base_dir) / "nowhere" / self.params.path) as handle:
            return handle.read()


class BuggyLoader(Loader):
    """A bug in the plugin's own code."""

    def load(self, base_dir):
        rows = 0
        return pd.read_csv(Path(base_dir) / self.params.path).iloc[: 10 // rows]


class BadRoleLoader(Loader):
    """Names a column of its own choosing that the data lacks: a defect of the plugin."""

    def load(self, base_dir):
        frame = pd.read_csv(Path(base_dir) / self.params.path)
        return Dataset(frame, ColumnRoles(id="id", target="labl", features=["a", "b"]))


class ConfigRoleLoader(Loader):
    """Takes the target from the pipeline file unchecked: a user's typo reaches the roles."""

    def load(self, base_dir):
        frame = pd.read_csv(Path(base_dir) / self.params.path)
        return Dataset(frame, ColumnRoles(id="id", target=self.params.target, features=["a"]))


class EmptyLoader(Loader):
    """Keeps no record of its file (a filter that matched none, say)."""

    def load(self, base_dir):
        path = Path(base_dir) / self.params.path
        frame = pd.read_csv(path).iloc[:0]
        return Dataset(frame, ColumnRoles(id="id", target="y", features=["a", "b"]),
                       sources=[path])


class SourcelessParams(Params):
    path: InputFile


class SourcelessLoader(Loader):
    """Reads its input file but lists no sources: the run cannot fingerprint it."""

    params_type = SourcelessParams

    def load(self, base_dir):
        frame = pd.read_csv(Path(base_dir) / self.params.path)
        return Dataset(frame, ColumnRoles(id="id", target="y", features=["a", "b", "code"]))


class NotJson(Indicator):
    def compute(self, ctx):
        return [IndicatorResult("plain", "accuracy", 1.0, explanation="fine"),
                IndicatorResult("odd", "accuracy", 0.5, explanation="an object in details",
                                details={"thing": object()})]


class Shadows(Indicator):
    """A figure named like the core's ``accuracy``."""

    def compute(self, ctx):
        return IndicatorResult("accuracy", "accuracy", -0.042, explanation="its own accuracy")


class Fails(Indicator):
    def compute(self, ctx):
        raise ValueError("threshold table missing")


MODELS = (Echo, Unroled, Strange, Mutates, Reordered, ResetIndex, ShortByOne, NdArray, NoConfidence,
          Percent, NoFiles, Pickler, Outside, Tree, Forgetful, Noisy, FitFails, PredictFails,
          LateBad)
LOADERS = (FrameLoader, MissingFileLoader, BuggyLoader, BadRoleLoader, ConfigRoleLoader,
           SourcelessLoader, EmptyLoader)
INDICATORS = (NotJson, Fails, Shadows)
TASK = ("tabular_classification",)


def plugin_module() -> types.ModuleType:
    module = types.ModuleType("bad_plugin")

    @hookimpl
    def mlstat_models():
        return [ComponentSpec(c.__name__.lower(), "model", f"{MODULE}:{c.__name__}",
                              LogisticParams if c is Tree else NoParams, tasks=TASK,
                              description="a model that breaks the contract")
                for c in MODELS]

    @hookimpl
    def mlstat_loaders():
        return [ComponentSpec(c.__name__.lower(), "loader", f"{MODULE}:{c.__name__}",
                              getattr(c, "params_type", PathParams), tasks=TASK,
                              description="a broken loader")
                for c in LOADERS]

    @hookimpl
    def mlstat_indicators():
        return [ComponentSpec(c.__name__.lower(), "indicator", f"{MODULE}:{c.__name__}",
                              tasks=TASK, dimension="accuracy", description="an indicator")
                for c in INDICATORS]

    module.__dict__.update(mlstat_models=mlstat_models, mlstat_loaders=mlstat_loaders,
                           mlstat_indicators=mlstat_indicators)
    return module


def bad_registry():
    """The core's components and the plugin ``bad`` (distribution ``mlstat-bad``)."""
    sys.modules.setdefault(MODULE, sys.modules[__name__])
    registry = discover(entry_points=[])
    registry.register(plugin_module(), "bad", PluginRecord("bad", "bad_plugin", "mlstat-bad"))
    return registry


def pipeline(data: Path, model: str = "bad.echo", **sections) -> dict:
    base = {
        "pipeline": {"name": "contract", "task": "tabular_classification", "seed": 0},
        "loader": {"component": "core.table", "path": str(data), "target": "y", "id": "id",
                   "features": ["a", "b", "code"]},
        "split": {"component": "core.holdout", "test_size": 0.25},
        "model": {"component": model},
        "indicators": ["core.classification_accuracy"],
    }
    base.update(sections)
    return base


def cli_run(tmp_path: Path, model: str, registry, monkeypatch):
    """``mlstat run`` on the contract pipeline with ``model``, the plugins of ``registry``;
    the click result (exit code, output)."""
    import tomli_w
    from click.testing import CliRunner

    from mlstat_core import cli

    path = tmp_path / "p.toml"
    path.write_text(tomli_w.dumps(pipeline(write_data(tmp_path), model,
                                           output={"dir": str(tmp_path / "runs")})))
    monkeypatch.setattr("mlstat_core.registry.get_registry", lambda strict=False: registry)
    return CliRunner().invoke(cli.main, ["run", str(path)])


def write_data(folder: Path, n: int = 80, sep: str = ",") -> Path:
    path = folder / "small.csv"
    small_frame(n).to_csv(path, index=False, sep=sep)
    return path
