"""What an office gets from `pip install` of a wheel or sdist: the licence text with every
distribution (EUPL-1.2 art. 5), and sdists that hold their tests (so that packagers can run
them), and wheels that hold every file of their packages. `make test-min` (by hand, not in
CI) installs the core, coding, editimpute and twitter from wheels and tests those installed
copies."""

from __future__ import annotations

import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import build_distribution

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = [ROOT, *sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))]


def pyproject(project: Path) -> dict:
    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_every_distribution_ships_its_licence(project: Path) -> None:
    meta = pyproject(project)["project"]
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


def package_files(project: Path) -> dict[str, set[str]]:
    """Each package of ``project`` (its ``packages.find`` include patterns) and the files under
    it, relative to the project, without bytecode."""
    patterns = pyproject(project)["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.rstrip("*") for p in patterns}
    return {name: {f.relative_to(project).as_posix() for f in (project / name).rglob("*")
                   if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc"}
            for name in packages}


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_every_file_of_a_package_is_in_its_wheel(project: Path, tmp_path: Path) -> None:
    """An office installs wheels, not the source tree: a data file, template or module left
    out of ``package-data`` works in the editable install of ``make test`` and fails after
    ``pip install``. The wheel is built from a copy, so the source tree gets no build/."""
    packages = package_files(project)
    meta = pyproject(project)["project"]
    for name in {"pyproject.toml", "MANIFEST.in", meta["readme"], *meta["license-files"],
                 *(f for files in packages.values() for f in files)}:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(project / name, tmp_path / name)
    wheel = build_distribution(tmp_path, "wheel")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    for name, files in packages.items():
        assert files, f"no files found under {name}"
        assert sorted(files - shipped) == [], f"{wheel.name} lacks files of {name}"
