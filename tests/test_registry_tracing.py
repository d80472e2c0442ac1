"""Hook tracing: with MLSTAT_TRACE_HOOKS=1 every hook call is printed, failures included."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import fixture_points

from mlstat_core.hookspecs import COMPONENT_HOOKS
from mlstat_core.registry import Tracer, discover

pytestmark = pytest.mark.usefixtures("isolated_plugins")


def test_every_component_hook_call_at_discovery_is_traced(monkeypatch):
    lines: list[str] = []
    registry = discover(tracer=Tracer(lines.append),
                        entry_points=fixture_points(monkeypatch, "good", "bad"))
    text = "\n".join(lines)
    for hook in ("mlstat_loaders", "mlstat_splitters", "mlstat_models", "mlstat_indicators"):
        assert f"[mlstat hook] {hook}() <- core: [" in text
    assert "mlstat_models() <- fixgood: ['model:tree']" in text
    assert "mlstat_loaders() <- fixbad: raised RuntimeError: boom in mlstat_loaders" in text
    assert all(line.startswith("[mlstat hook] ") and line.endswith(" ms)") for line in lines)
    core_hooks = [line for line in lines if "<- core:" in line]
    implemented = [h for h in [*COMPONENT_HOOKS.values(), "mlstat_tasks"]
                   if any(i.plugin_name == "core"
                          for i in getattr(registry.pm.hook, h).get_hookimpls())]
    assert len(core_hooks) == len(implemented) >= 4


def test_lifecycle_hooks_are_traced_with_their_arguments(monkeypatch):
    lines: list[str] = []
    registry = discover(tracer=Tracer(lines.append),
                        entry_points=fixture_points(monkeypatch, "good"))
    lines.clear()
    registry.notify("mlstat_run_started", run="run-42")
    assert lines == [lines[0]]
    assert lines[0].startswith("[mlstat hook] mlstat_run_started(run='run-42') <- fixgood: None")


def test_direct_plugin_manager_calls_are_traced_too(monkeypatch):
    lines: list[str] = []
    registry = discover(tracer=Tracer(lines.append),
                        entry_points=fixture_points(monkeypatch, "good"))
    lines.clear()
    registry.pm.hook.mlstat_run_started(run="r")
    assert any("mlstat_run_started(run='r') -> ['fixgood']" in line for line in lines)
    assert any("mlstat_run_started finished" in line for line in lines)


def test_the_environment_variable_turns_tracing_on_and_writes_to_stderr(monkeypatch, capsys):
    monkeypatch.setenv("MLSTAT_TRACE_HOOKS", "1")
    discover(entry_points=[])
    assert "[mlstat hook] mlstat_models() <- core:" in capsys.readouterr().err
    monkeypatch.setenv("MLSTAT_TRACE_HOOKS", "0")
    discover(entry_points=[])
    assert "[mlstat hook]" not in capsys.readouterr().err


def test_long_arguments_are_shortened():
    lines: list[str] = []
    Tracer(lines.append).call("mlstat_run_finished", "p", {"result": "x" * 1000}, None)
    assert len(lines[0]) < 200 and "..." in lines[0]


def test_cli_trace_hooks_option_traces_discovery():
    proc = subprocess.run(
        [sys.executable, "-m", "mlstat_core.cli", "--trace-hooks", "plugins", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "[mlstat hook] mlstat_models() <- core:" in proc.stderr
