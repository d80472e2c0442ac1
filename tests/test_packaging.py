"""What an office gets from `pip install` of a wheel or sdist: the licence text with every
distribution (EUPL-1.2 art. 5), and sdists that hold their tests (so that packagers can run
them). `make test-min` installs the core, coding, editimpute and twitter from wheels and
tests those installed copies."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = [ROOT, *sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))]


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_every_distribution_ships_its_licence(project: Path) -> None:
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["license"] == "EUPL-1.2"
    files = meta.get("license-files", [])
    assert "LICENSE" in files
    for name in files:
        assert (project / name).is_file(), name
    assert (project / "LICENSE").read_text(encoding="utf-8").startswith(
        "EUROPEAN UNION PUBLIC LICENCE v. 1.2")


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_every_sdist_holds_its_licence_and_tests(project: Path) -> None:
    lines = (project / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
    assert "include LICENSE README.md" in lines and "graft tests" in lines
    assert (project / "tests" / "conftest.py").is_file()
