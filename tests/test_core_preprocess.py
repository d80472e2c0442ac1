"""Preprocessing steps: fitted before the model, saved with it, applied again at predict."""

from __future__ import annotations

import dataclasses
import json
import types

import pandas as pd
import pytest
from pydantic import Field

import mlstat_core
from mlstat_core import hookimpl
from mlstat_core.builtins.models import MajorityModel
from mlstat_core.components import ComponentSpec, NoParams, Params, Transform
from mlstat_core.errors import ConfigError, DataError, ModelError, PluginError
from mlstat_core.predict import predict_file
from mlstat_core.registry import PluginRecord, discover


class CapParams(Params):
    quantile: float = Field(0.9, gt=0, le=1)


class CapIncome(Transform):
    """Learns a cap on income from the training records and applies it everywhere."""

    def fit(self, train):
        self.cap = float(train.frame["income"].quantile(self.params.quantile))
        return self

    def transform(self, frame, roles):
        return frame.assign(income=frame["income"].clip(upper=self.cap))

    def save(self, directory):
        (directory / "cap.json").write_text(json.dumps({"cap": self.cap}))

    def load_state(self, directory):
        self.cap = json.loads((directory / "cap.json").read_text())["cap"]


class ForgetfulCap(CapIncome):
    """Learns its cap but saves nothing: loaded, it caps nothing."""

    def save(self, directory):
        pass

    def load_state(self, directory):
        self.cap = float("inf")


class PickledCap(CapIncome):
    def save(self, directory):
        (directory / "state.pkl").write_bytes(b"\x80\x04N.")


class NotATransform:
    def __init__(self, params):
        self.params = params

    def transform(self, frame, roles):
        return frame


class DropRecords(Transform):
    def transform(self, frame, roles):
        return frame.iloc[1:]


class ReturnsNothing(Transform):
    def transform(self, frame, roles):
        frame.assign(income=0)  # forgets to return it


class Misspelt(Transform):
    def transfrom(self, frame, roles):  # transform() itself is never written
        return frame


class IncomeBand(Transform):
    """Derives a column the raw records lack."""

    def transform(self, frame, roles):
        return frame.assign(income_band=(frame["income"] // 100).astype(float))


class ReadsBand(MajorityModel):
    """Reads the derived column beside the loader's inputs, naming it in its roles (as an
    edit model names a variable only a rule reads)."""

    def fit(self, train, validation=None):
        super().fit(train, validation)
        self.roles = dataclasses.replace(train.roles,
                                         auxiliary=[*train.roles.auxiliary, "income_band"])
        return self

    def predict(self, frame):
        assert "income_band" in frame.columns, "the step's column reaches the model"
        return super().predict(frame)


def transforms_module() -> types.ModuleType:
    module = types.ModuleType("prep")
    module.CapIncome, module.DropRecords = CapIncome, DropRecords
    module.IncomeBand, module.ReadsBand = IncomeBand, ReadsBand
    module.ForgetfulCap, module.PickledCap = ForgetfulCap, PickledCap
    module.NotATransform = NotATransform
    module.ReturnsNothing, module.Misspelt = ReturnsNothing, Misspelt

    @hookimpl
    def mlstat_transforms():
        return [ComponentSpec("cap_income", "transform", f"{__name__}:CapIncome", CapParams,
                              description="Cap income at a training quantile."),
                ComponentSpec("forgetful_cap", "transform", f"{__name__}:ForgetfulCap",
                              CapParams, description="Forgets its cap when saved."),
                ComponentSpec("pickled_cap", "transform", f"{__name__}:PickledCap",
                              CapParams, description="Saves a pickle."),
                ComponentSpec("not_a_transform", "transform", f"{__name__}:NotATransform",
                              description="Not a Transform."),
                ComponentSpec("drop", "transform", f"{__name__}:DropRecords",
                              description="Drops a record (breaks the contract)."),
                ComponentSpec("returns_nothing", "transform", f"{__name__}:ReturnsNothing",
                              description="Returns None (breaks the contract)."),
                ComponentSpec("misspelt", "transform", f"{__name__}:Misspelt",
                              description="Misspells transform()."),
                ComponentSpec("income_band", "transform", f"{__name__}:IncomeBand",
                              description="Derives income_band.")]

    @hookimpl
    def mlstat_models():
        return [ComponentSpec("reads_band", "model", f"{__name__}:ReadsBand", NoParams,
                              ("tabular_classification",), "Reads income_band.")]

    module.mlstat_transforms, module.mlstat_models = mlstat_transforms, mlstat_models
    return module


def registry_with_transforms():
    module = transforms_module()
    registry = discover(entry_points=[])
    registry.register(module, "prep", PluginRecord("prep", "prep"))
    return registry


def test_a_fitted_step_is_saved_and_applied_by_predict(write_pipeline, tmp_path, budget_csv):
    registry = registry_with_transforms()
    path = write_pipeline(preprocess=[{"component": "prep.cap_income", "quantile": 0.5}])
    result = mlstat_core.run(path, registry=registry)
    assert result.manifest["model"]["preprocess"] == ["prep.cap_income"]
    assert (result.run_dir / "model" / "preprocess" / "0" / "cap.json").is_file()
    cap = json.loads((result.run_dir / "model" / "preprocess" / "0" / "cap.json").read_text())
    train_income = pd.read_csv(budget_csv)["income"]
    assert cap["cap"] < train_income.max()  # learned from data, not a constant
    predict_file(result.run_dir, budget_csv, tmp_path / "p.parquet", registry=registry)
    scored = pd.read_parquet(tmp_path / "p.parquet")
    merged = result.predictions.merge(scored, on="record_id")
    assert (merged["confidence_x"] - merged["confidence_y"]).abs().max() < 1e-12
    # the step matters: without it, some predictions differ
    plain = mlstat_core.run(write_pipeline(), registry=registry)
    assert not plain.predictions["confidence"].equals(result.predictions["confidence"])


def test_a_step_that_drops_records_is_refused(write_pipeline):
    registry = registry_with_transforms()
    with pytest.raises(DataError, match="must keep every record"):
        mlstat_core.run(write_pipeline(preprocess=[{"component": "prep.drop"}]),
                        registry=registry)


def test_a_step_that_returns_no_frame_is_named_as_a_defect_of_its_code(write_pipeline):
    """It used to be blamed on the model ("model ... raised TypeError: object of type
    'NoneType' has no len()"), in another plugin, with the exit code of a user's mistake."""
    registry = registry_with_transforms()
    with pytest.raises(DataError) as info:
        mlstat_core.run(write_pipeline(preprocess=[{"component": "prep.returns_nothing"}]),
                        registry=registry)
    assert str(info.value).startswith("preprocessing step prep.returns_nothing: transform() "
                                      "returned None, not a DataFrame")
    assert info.value.exit_code == 3
    with pytest.raises(DataError, match="must keep every record") as info:
        mlstat_core.run(write_pipeline(preprocess=[{"component": "prep.drop"}]),
                        registry=registry)
    assert info.value.exit_code == 3


def test_a_step_without_transform_is_refused_before_the_run(write_pipeline, tmp_path):
    """The base class's transform() used to pass validation and fail at fit with a bare
    NotImplementedError blamed on the model."""
    with pytest.raises(ConfigError) as info:
        mlstat_core.run(write_pipeline(preprocess=[{"component": "prep.misspelt"}]),
                        out=tmp_path / "runs", registry=registry_with_transforms())
    assert "its factory class Misspelt does not implement transform" in str(info.value)
    assert not (tmp_path / "runs").exists()


def test_a_step_that_forgets_its_state_when_saved_fails_the_run_naming_it(write_pipeline):
    """Loaded, it would change mlstat predict's answers without a word."""
    registry = registry_with_transforms()
    path = write_pipeline(preprocess=[{"component": "prep.cap_income", "quantile": 0.5},
                                      {"component": "prep.forgetful_cap", "quantile": 0.3}])
    with pytest.raises(ModelError) as info:
        mlstat_core.run(path, registry=registry)
    assert "predicts differently once loaded" in str(info.value)
    assert "preprocessing step prep.forgetful_cap: its save() or load_state()" in str(info.value)


def test_a_steps_defects_are_blamed_on_the_step_not_the_model(write_pipeline):
    registry = registry_with_transforms()
    path = write_pipeline(preprocess=[{"component": "prep.cap_income"},
                                      {"component": "prep.pickled_cap"}])
    with pytest.raises(ModelError) as info:
        mlstat_core.run(path, registry=registry)
    assert str(info.value).startswith("preprocessing step prep.pickled_cap: save() wrote "
                                      "pickle file(s) preprocess/1/state.pkl")
    path = write_pipeline(preprocess=[{"component": "prep.not_a_transform"}])
    with pytest.raises(PluginError) as info:
        mlstat_core.run(path, registry=registry)
    assert "transform prep.not_a_transform built a NotATransform, which lacks fit(), " \
           "save(), load_state()" in str(info.value)


def test_the_conformance_suite_checks_that_a_step_loads_back_as_it_was_saved():
    from mlstat_core.testing import check_plugin, run_checks

    found = {r.id: r for r in run_checks(check_plugin(transforms_module(), name="prep"))}
    task = "tabular_classification"
    assert found[f"prep.cap_income-round_trip-{task}"].status == "passed"
    forgetful = found[f"prep.forgetful_cap-round_trip-{task}"]
    assert forgetful.status == "failed"
    assert "loaded into a new instance, it transforms differently" in forgetful.message
    assert "save() wrote pickle files ['state.pkl']" \
        in found[f"prep.pickled_cap-round_trip-{task}"].message
    assert "keep every record" in found[f"prep.drop-round_trip-{task}"].message
    assert "not a subclass of Transform" in found["prep.not_a_transform-factory"].message


def test_unknown_step_is_a_config_error(write_pipeline):
    with pytest.raises(ConfigError, match=r"preprocess\[0\].component"):
        mlstat_core.run(write_pipeline(preprocess=[{"component": "prep.nothing"}]))


def test_the_inner_model_can_prepare_raw_records_it_scores_itself(write_pipeline, budget_csv):
    registry = registry_with_transforms()
    path = write_pipeline(preprocess=[{"component": "prep.cap_income", "quantile": 0.5}])
    result = mlstat_core.run(path, registry=registry)
    inner = result.model.inner
    raw = pd.read_csv(budget_csv).head(20).assign(income=10_000)
    prepared = inner.prepare(raw)
    assert prepared["income"].max() < 10_000
    pd.testing.assert_frame_equal(inner.predict(prepared), result.model.predict(raw))


def test_new_records_need_not_carry_a_column_a_step_makes(write_pipeline, tmp_path, budget_csv):
    """The model names the column a step derives among its inputs; new records carry the raw
    columns, and `mlstat predict` makes it as training did (it required it in the input)."""
    registry = registry_with_transforms()
    path = write_pipeline(preprocess=[{"component": "prep.income_band"}],
                          model={"component": "prep.reads_band"})
    result = mlstat_core.run(path, registry=registry)
    assert "income_band" in result.model.inner.roles.auxiliary
    assert "income_band" not in result.model.roles.input_columns()
    assert "income" in result.model.roles.input_columns()
    summary = predict_file(result.run_dir, budget_csv, tmp_path / "p.csv", registry=registry)
    assert summary.records == len(pd.read_csv(budget_csv))
    assert len(pd.read_csv(tmp_path / "p.csv")) == summary.records
