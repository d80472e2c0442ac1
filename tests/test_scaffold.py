"""``mlstat new-plugin`` writes a plugin that installs, is discovered, passes its tests and runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlstat_core.scaffold import ScaffoldError, create_plugin
from mlstat_core.scaffold.command import new_plugin_command

BIN = Path(sys.executable).parent


def test_a_plugin_package_is_written_complete(tmp_path):
    target = create_plugin("demo_plugin", tmp_path, description="A demo.")
    assert target == tmp_path / "mlstat-demo-plugin"
    files = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    assert {"pyproject.toml", "README.md", ".gitignore", "examples/pipeline.toml",
            "mlstat_demo_plugin/plugin.py", "mlstat_demo_plugin/loaders.py",
            "mlstat_demo_plugin/models.py", "mlstat_demo_plugin/indicators.py",
            "mlstat_demo_plugin/data/households.csv", "tests/test_conformance.py",
            "tests/test_pipeline.py"} <= files
    for file in target.rglob("*"):
        if file.is_file() and file.suffix != ".csv":
            assert "{{" not in file.read_text(encoding="utf-8"), file
    project = tomllib.loads((target / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "mlstat-demo-plugin"
    assert "mlstat-core>=0.1,<0.2" in project["project"]["dependencies"]
    assert project["project"]["entry-points"]["mlstat"] == {
        "demo_plugin": "mlstat_demo_plugin.plugin"}
    for file in target.rglob("*.py"):
        compile(file.read_text(encoding="utf-8"), str(file), "exec")


@pytest.mark.skipif(shutil.which("ruff", path=str(BIN)) is None, reason="ruff not installed")
def test_the_generated_code_is_ruff_clean(tmp_path):
    target = create_plugin("lint", tmp_path)
    proc = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=target, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("name, why", [
    ("Bad-Name", "not usable"), ("core", "not usable"), ("1abc", "not usable"),
    ("class", "Python keyword"), ("my.plugin", "not usable"), ("", "not usable")])
def test_unusable_names_are_refused(tmp_path, name, why):
    with pytest.raises(ScaffoldError, match=why):
        create_plugin(name, tmp_path)


def test_a_description_with_backslashes_stays_valid_toml_and_python(tmp_path):
    import ast
    import tomllib

    target = create_plugin("winpath", tmp_path, description=r"Reads C:\data\hh.csv")
    project = tomllib.loads((target / "pyproject.toml").read_text())["project"]
    assert project["description"] == r"Reads C:\data\hh.csv"
    first = (target / "mlstat_winpath" / "__init__.py").read_text().splitlines()[0]
    assert ast.literal_eval(first) == r"Reads C:\data\hh.csv"
    with pytest.raises(ScaffoldError, match="one line"):
        create_plugin("twolines", tmp_path, description="first\nsecond")


def test_a_non_empty_folder_is_not_overwritten(tmp_path):
    create_plugin("twice", tmp_path)
    with pytest.raises(ScaffoldError, match="not empty"):
        create_plugin("twice", tmp_path)
    create_plugin("twice", tmp_path, force=True)


def test_the_command(tmp_path):
    runner = CliRunner()
    result = runner.invoke(new_plugin_command, ["demo", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "pip install -e" in result.output
    assert (tmp_path / "mlstat-demo" / "mlstat_demo" / "plugin.py").is_file()
    again = runner.invoke(new_plugin_command, ["Demo-X", "--dir", str(tmp_path)])
    assert again.exit_code == 2 and "for example 'demo_x'" in again.output


def test_the_mlstat_command_offers_new_plugin():
    from mlstat_core.cli import main

    result = CliRunner().invoke(main, ["new-plugin", "--help"])
    assert result.exit_code == 0 and "--dir" in result.output


def _run(args: list[str], cwd: Path | None = None, timeout: int = 300) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLSTAT_PLUGINS", "MLSTAT_DISABLE_PLUGINS", "PYTHONPATH")}
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.slow
def test_scaffold_install_discover_test_and_run(tmp_path):
    """The whole path an author takes, in this environment, uninstalled afterwards."""
    name = "scaffoldcheck"
    target = create_plugin(name, tmp_path)
    python = sys.executable
    _run([python, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index",
          "-q", "-e", str(target)])
    try:
        listed = json.loads(_run([str(BIN / "mlstat"), "plugins", "--json"]))
        record = next(r for r in listed if r["name"] == name)
        assert record["status"] == "loaded", record
        assert record["distribution"] == "mlstat-scaffoldcheck"
        assert record["requires_core"] == "<0.2,>=0.1"
        assert sorted(record["components"]) == [
            "indicator:class_share_gap", "loader:households", "model:tree"]
        assert record["problems"] == []

        out = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=target)
        assert " passed" in out and "failed" not in out
        out = _run([python, "-m", "mlstat_core.testing", name], cwd=tmp_path)
        assert out.rstrip().endswith("all checks passed")

        _run([str(BIN / "mlstat"), "run", str(target / "examples" / "pipeline.toml"),
              "--out", str(tmp_path / "runs")])
        manifests = list((tmp_path / "runs").glob("*/manifest.json"))
        assert len(manifests) == 1
        manifest = json.loads(manifests[0].read_text(encoding="utf-8"))
        assert manifest["status"] == "succeeded"
    finally:
        _run([python, "-m", "pip", "uninstall", "-y", "-q", "mlstat-scaffoldcheck"])
