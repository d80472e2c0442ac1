"""What a plugin distribution declares it needs, read from its installed metadata.

Used to name the extra to install when a module is missing, and to record in each run the
versions of the libraries behind the plugins it used.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement


def normalise(name: str) -> str:
    """A distribution or module name in one spelling (``Fast_USE.x`` -> ``fast-use-x``)."""
    return name.replace("_", "-").replace(".", "-").lower()


def requirements(distribution: str | None) -> list[Requirement]:
    """The requirements ``distribution`` declares (extras' included); none when it is not
    installed. Lines that do not parse are left out."""
    if not distribution:
        return []
    try:
        lines = metadata.distribution(distribution).requires or []
    except metadata.PackageNotFoundError:
        return []
    parsed = []
    for line in lines:
        try:
            parsed.append(Requirement(line))
        except InvalidRequirement:
            continue
    return parsed


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def changed_versions(environment: object) -> list[str]:
    """``name recorded -> installed`` for each distribution a run's manifest recorded (its
    ``environment``: plugins, mlstat-core among them, and packages) whose installed version
    differs or is absent, and Python when its minor version differs."""
    if not isinstance(environment, dict):
        return []
    recorded: dict[str, str] = {}
    for group in ("plugins", "packages"):
        table = environment.get(group)
        if isinstance(table, dict):
            recorded.update({str(k): str(v) for k, v in table.items() if v})
    changes = []
    made_with = str(environment.get("python") or "")
    running = ".".join(map(str, sys.version_info[:2]))
    if made_with and ".".join(made_with.split(".")[:2]) != running:
        changes.append(f"Python {made_with} -> {platform.python_version()}")
    for name, version in recorded.items():
        now = installed_version(name)
        if now != version:
            changes.append(f"{name} {version} -> {now or 'not installed'}")
    return changes


def extras(distribution: str | None) -> list[str]:
    """The extras ``distribution`` declares (``Provides-Extra``); none when not installed."""
    if not distribution:
        return []
    try:
        return list(metadata.distribution(distribution).metadata.get_all("Provides-Extra") or [])
    except metadata.PackageNotFoundError:
        return []


def _needs(req: Requirement, extra: str) -> bool:
    """Whether installing ``extra`` ("" for none) brings ``req``."""
    return req.marker is None or req.marker.evaluate({"extra": extra})


def declared_extras(distribution: str | None, module: str) -> tuple[list[str], list[str]]:
    """The extras of ``distribution`` that require ``module``, and every extra it declares;
    none that require it when the distribution requires it without any extra too
    (``mlstat-coding`` of mlstat-twitter, also in its ``torch`` extra as
    ``mlstat-coding[torch]``: installing that extra is not the fix)."""
    declared = extras(distribution)
    wanted = normalise(module)
    named = [req for req in requirements(distribution) if normalise(req.name) == wanted]
    if any(_needs(req, "") for req in named):
        return [], declared
    providing = [e for req in named if req.marker is not None
                 for e in declared if _needs(req, e)]
    return list(dict.fromkeys(providing)), declared


DEVELOPMENT_EXTRAS = frozenset({"test", "tests", "testing", "dev", "docs", "lint"})


def absent_extras(distribution: str | None) -> dict[str, list[str]]:
    """Extra -> its requirements that are not installed, for the extras of ``distribution``
    (development extras and ``all`` left out) that lack something."""
    optional = [req for req in requirements(distribution) if not _needs(req, "")
                and installed_version(req.name) is None]
    found = {extra: [req.name for req in optional if _needs(req, extra)]
             for extra in extras(distribution)
             if extra not in DEVELOPMENT_EXTRAS and extra != "all"}
    return {extra: lacking for extra, lacking in found.items() if lacking}


def absent_requirements(distribution: str | None) -> list[str]:
    """The unconditional requirements of ``distribution`` that are not installed."""
    return [req.name for req in requirements(distribution)
            if _needs(req, "") and installed_version(req.name) is None]


def installed_requirements(distribution: str | None) -> dict[str, str]:
    """Every requirement of ``distribution`` that is installed here, with its version: what a
    run of the plugin may have used (optional extras included, development extras not)."""
    runtime = ["", *(e for e in extras(distribution) if e not in DEVELOPMENT_EXTRAS)]
    found: dict[str, str] = {}
    for req in requirements(distribution):
        version = installed_version(req.name) if any(_needs(req, e) for e in runtime) else None
        if version is not None:
            found[normalise(req.name)] = version
    return found
