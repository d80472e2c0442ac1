"""A lifecycle hook that raises is a run warning, as docs/hooks.md says: in the result, the
manifest and report.json of a finished run, in the manifest of a failed one, and one line
from ``mlstat run``."""

from __future__ import annotations

import json
import types

import pytest
from contract_fakes import bad_registry, cli_run, pipeline, write_data

import mlstat_core
from mlstat_core import hookimpl
from mlstat_core.artifacts import RunFolder
from mlstat_core.errors import PluginError
from mlstat_core.registry import PluginRecord


def failing_tracker() -> types.ModuleType:
    module = types.ModuleType("tracker")

    @hookimpl
    def mlstat_run_finished(run, result):
        raise RuntimeError("tracking server unreachable")

    @hookimpl
    def mlstat_run_failed(run, error):
        raise ConnectionError("audit log down")

    module.__dict__.update(mlstat_run_finished=mlstat_run_finished,
                           mlstat_run_failed=mlstat_run_failed)
    return module


def registry():
    found = bad_registry()
    found.register(failing_tracker(), "tracker", PluginRecord("tracker", "tracker", "trk"))
    return found


def test_a_failing_run_finished_hook_is_recorded_as_a_run_warning(tmp_path):
    result = mlstat_core.run(pipeline(write_data(tmp_path)), out=tmp_path / "runs",
                             registry=registry())
    assert result.status == "succeeded"
    [warning] = [w for w in result.warnings if "mlstat_run_finished" in w]
    assert "plugin tracker (distribution trk)" in warning
    assert "RuntimeError: tracking server unreachable" in warning
    folder = RunFolder.open(result.run_dir)
    assert warning in folder.manifest["warnings"]
    assert folder.manifest["status"] == "succeeded"
    report = json.loads((result.run_dir / "report.json").read_text())
    assert warning in report["run"]["warnings"]
    folder.verify()  # the rewritten report is fingerprinted again
    from mlstat_core.artifacts import sha256_file

    assert folder.manifest["files"]["report.json"] == sha256_file(result.run_dir / "report.json")


def test_a_failing_run_failed_hook_is_recorded_in_the_failed_run(tmp_path):
    with pytest.raises(PluginError) as caught:
        mlstat_core.run(pipeline(write_data(tmp_path), "bad.fitfails"), out=tmp_path / "runs",
                        registry=registry())
    [folder] = (tmp_path / "runs").iterdir()
    manifest = RunFolder.open(folder).manifest
    assert manifest["status"] == "failed"
    [warning] = manifest["warnings"]
    assert "mlstat_run_failed raised ConnectionError: audit log down" in warning
    assert caught.value.run_warnings == [warning]


def test_mlstat_run_prints_the_hook_warning_as_one_line(tmp_path, monkeypatch):
    out = cli_run(tmp_path, "bad.fitfails", registry(), monkeypatch)
    assert out.exit_code == 3  # the model's defect (bad.fitfails)
    lines = [line for line in out.output.splitlines() if "audit log down" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: plugin tracker")
    assert "Traceback" not in out.output
