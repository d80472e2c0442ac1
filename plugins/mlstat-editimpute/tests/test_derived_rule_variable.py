"""A variable an edit rule names that a preprocessing step derives: an edit of it could not
be written back to the records' own columns, so the run fails saying how to write the rule
(it failed with a KeyError in the model's outputs), and fails before the model trains (it
was refused only when the outputs were written, after fitting and predicting)."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pandas as pd
import pytest
from mlstat_editimpute.loaders import DATA_DIR

import mlstat_core
from mlstat_core import hookimpl
from mlstat_core.components import ComponentSpec, Params, Transform
from mlstat_core.errors import ConfigError
from mlstat_core.registry import PluginRecord, discover


class FoodAndFuel(Transform):
    """Derives the budget share of food and fuel together."""

    def fit(self, train):
        return self

    def transform(self, frame, roles):
        return frame.assign(wfoodfuel=frame["wfood"] + frame["wfuel"])

    def save(self, directory):
        pass

    def load_state(self, directory):
        pass


def _registry():
    module = types.ModuleType("prep")
    module.FoodAndFuel = FoodAndFuel

    @hookimpl
    def mlstat_transforms():
        return [ComponentSpec("food_and_fuel", "transform", f"{__name__}:FoodAndFuel", Params,
                              description="wfood + wfuel")]

    module.mlstat_transforms = mlstat_transforms
    registry = discover()
    registry.register(module, "prep", PluginRecord("prep", "prep"))
    return registry


PIPELINE = """
[pipeline]
name = "derived"
task = "tabular_imputation"
[loader]
component = "editimpute.survey"
path = {data}
variables = ["wfood", "wfuel", "income", "totexp"]
[split]
component = "core.insample"
[[preprocess]]
component = "prep.food_and_fuel"
[model]
component = "editimpute.pmm"
rules = ["ff: wfoodfuel <= 0.6"]
max_iter = 20
iterations = 1
"""


def test_a_rule_on_a_variable_a_step_derives_fails_the_run_saying_how_to_write_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlstat_editimpute.models as models

    def trains(*args, **kwargs):
        raise AssertionError("the model read its training data before refusing the rule")

    monkeypatch.setattr(models, "numeric_frame", trains)
    data = pd.read_csv(DATA_DIR / "budget_uk.csv").iloc[:400]
    data.to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "p.toml").write_text(PIPELINE.format(data=json.dumps("train.csv")))
    with pytest.raises(ConfigError) as info:
        mlstat_core.run(tmp_path / "p.toml", out=tmp_path / "runs", registry=_registry())
    assert "name 'wfoodfuel', which the records do not have" in str(info.value)
    assert "write the rule on the columns it is made from" in str(info.value)
