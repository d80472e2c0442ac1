"""``mlstat new-plugin``: a name an installed plugin has is refused, and the package it writes
is publishable as it stands (a licence, and an sdist whose tests find their example pipeline)."""

from __future__ import annotations

import tarfile
import tomllib

import pytest
from click.testing import CliRunner
from conftest import DISTS, build_distribution

from mlstat_core.scaffold import ScaffoldError, create_plugin
from mlstat_core.scaffold.command import new_plugin_command


def test_the_name_of_an_installed_plugin_is_refused_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(DISTS / "good"))  # installs plugin "fixgood"
    with pytest.raises(ScaffoldError) as info:
        create_plugin("fixgood", tmp_path)
    message = str(info.value)
    assert "mlstat-fixture-good" in message and "disables both" in message
    assert "choose another name" in message
    assert not (tmp_path / "mlstat-fixgood").exists()
    result = CliRunner().invoke(new_plugin_command, ["fixgood", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "taken" in result.output
    create_plugin("fixgood_2", tmp_path)  # the suggested name is free
    create_plugin("fixgood", tmp_path, force=True)  # on purpose: the author regenerates
    assert (tmp_path / "mlstat-fixgood" / "pyproject.toml").is_file()


def test_the_package_declares_a_licence(tmp_path):
    target = create_plugin("lic", tmp_path)
    project = tomllib.loads((target / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license-files"] == ["LICENSE"]
    assert "choose a licence" in (target / "LICENSE").read_text(encoding="utf-8")


def test_the_sdist_holds_the_example_pipeline_the_tests_run(tmp_path):
    target = create_plugin("sdistcheck", tmp_path)
    (target / "examples" / "runs" / "old-run").mkdir(parents=True)  # a local run: left out
    (target / "examples" / "runs" / "old-run" / "manifest.json").write_text("{}")
    sdist = build_distribution(target, "sdist")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"examples/pipeline.toml", "tests/test_pipeline.py", "tests/test_conformance.py",
            "LICENSE", "mlstat_sdistcheck/data/households.csv"} <= names
    assert not any(n.startswith("examples/runs") for n in names)
