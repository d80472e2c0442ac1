"""Lifecycle hooks: a tracking plugin sees every step; a failing one cannot fail a run."""

from __future__ import annotations

import types

import pytest

import mlstat_core
from mlstat_core import hookimpl
from mlstat_core.errors import DataError
from mlstat_core.registry import PluginRecord, discover


def tracker_module(calls: list, fail: bool = False) -> types.ModuleType:
    module = types.ModuleType("tracker")

    @hookimpl
    def mlstat_run_started(run):
        calls.append(("started", run.run_id))

    @hookimpl
    def mlstat_step_finished(run, step, seconds, details):
        if fail:
            raise RuntimeError("tracking server unreachable")
        calls.append(("step", step))

    @hookimpl
    def mlstat_run_finished(run, result):
        calls.append(("finished", result.status))

    @hookimpl
    def mlstat_run_failed(run, error):
        calls.append(("failed", type(error).__name__))

    module.__dict__.update(mlstat_run_started=mlstat_run_started,
                           mlstat_step_finished=mlstat_step_finished,
                           mlstat_run_finished=mlstat_run_finished,
                           mlstat_run_failed=mlstat_run_failed)
    return module


def registry_with(module: types.ModuleType):
    registry = discover(entry_points=[])
    registry.register(module, "tracker", PluginRecord("tracker", "tracker"))
    return registry


def test_tracker_sees_start_each_step_and_finish(write_pipeline):
    calls: list = []
    result = mlstat_core.run(write_pipeline(), registry=registry_with(tracker_module(calls)))
    steps = [c[1] for c in calls if c[0] == "step"]
    assert steps == ["load", "split", "fit", "predict", "outputs", "assess", "persist"]
    assert calls[0] == ("started", result.run_id)
    assert calls[-1] == ("finished", "succeeded")


def test_failing_tracker_is_a_warning_not_a_failed_run(write_pipeline):
    calls: list = []
    result = mlstat_core.run(write_pipeline(),
                             registry=registry_with(tracker_module(calls, fail=True)))
    assert result.status == "succeeded"
    assert any("tracking server unreachable" in w for w in result.warnings)


def test_tracker_is_told_when_a_run_fails(write_pipeline, tmp_path):
    calls: list = []
    path = write_pipeline(loader={"component": "core.table", "path": "budget_uk.csv",
                                  "target": "children", "id": "age"})  # fails when read
    with pytest.raises(DataError):
        mlstat_core.run(path, registry=registry_with(tracker_module(calls)))
    assert calls[-1] == ("failed", "DataError")
