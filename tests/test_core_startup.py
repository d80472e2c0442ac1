"""Discovery and the CLI's start-up import no model code (torch, torchgeo, sklearn, ...)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "torchgeo", "sklearn", "pandas", "pyspark", "lightning", "skops")

PROBE = """
import json, sys
from click.testing import CliRunner
from mlstat_core.cli import main
runner = CliRunner()
assert runner.invoke(main, ["--help"]).exit_code == 0
after_help = sorted(m for m in {heavy!r} if m in sys.modules)
assert runner.invoke(main, ["plugins", "--json"]).exit_code == 0
after_plugins = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps([after_help, after_plugins]))
"""


def test_help_and_plugins_import_no_heavy_module():
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    after_help, after_plugins = json.loads(proc.stdout)
    assert after_help == []
    assert after_plugins == [], "plugin discovery imported model code"


def test_every_installed_plugin_is_discovered_and_loaded():
    from importlib import metadata

    from mlstat_core.registry import discover

    registry = discover()
    installed = {ep.name for ep in metadata.entry_points(group="mlstat")}
    loaded = {name for name, r in registry.plugins.items() if r.status == "loaded"}
    assert installed <= loaded, {n: registry.plugins[n].error for n in installed - loaded}
    assert all(not r.problems for r in registry.plugins.values())


def test_python_dash_m_runs_the_mlstat_command():
    """``python -m mlstat_core`` is the ``mlstat`` command where its script is not on PATH."""
    from mlstat_core import __version__

    done = subprocess.run([sys.executable, "-m", "mlstat_core", "--version"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert __version__ in done.stdout
