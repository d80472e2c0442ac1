"""What a plugin distribution declares it needs, read from its installed metadata.

Used to name the extra to install when a module is missing, and to record in each run the
versions of the libraries behind the plugins it used.
"""

from __future__ import annotations

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


def declared_extras(distribution: str | None, module: str) -> tuple[list[str], list[str]]:
    """The extras of ``distribution`` that require ``module``, and every extra it declares."""
    if not distribution:
        return [], []
    try:
        declared = metadata.distribution(distribution).metadata.get_all("Provides-Extra") or []
    except metadata.PackageNotFoundError:
        return [], []
    wanted = normalise(module)
    providing: list[str] = []
    for req in requirements(distribution):
        if normalise(req.name) != wanted or req.marker is None:
            continue
        providing += [e for e in declared if req.marker.evaluate({"extra": e})]
    return list(dict.fromkeys(providing)), list(declared)


DEVELOPMENT_EXTRAS = frozenset({"test", "tests", "testing", "dev", "docs", "lint"})


def absent_extras(distribution: str | None) -> dict[str, list[str]]:
    """Extra -> its requirements that are not installed, for the extras of ``distribution``
    (development extras and ``all`` left out) that lack something."""
    try:
        declared = metadata.distribution(distribution).metadata.get_all("Provides-Extra") \
            if distribution else []
    except metadata.PackageNotFoundError:
        return {}
    found: dict[str, list[str]] = {}
    for extra in declared or []:
        if extra in DEVELOPMENT_EXTRAS or extra == "all":
            continue
        lacking = [req.name for req in requirements(distribution)
                   if req.marker is not None and req.marker.evaluate({"extra": extra})
                   and not req.marker.evaluate({"extra": ""})
                   and installed_version(req.name) is None]
        if lacking:
            found[extra] = lacking
    return found


def absent_requirements(distribution: str | None) -> list[str]:
    """The unconditional requirements of ``distribution`` that are not installed."""
    return [req.name for req in requirements(distribution)
            if (req.marker is None or req.marker.evaluate({"extra": ""}))
            and installed_version(req.name) is None]




def installed_requirements(distribution: str | None) -> dict[str, str]:
    """Every requirement of ``distribution`` that is installed here, with its version: what a
    run of the plugin may have used (optional extras included, development extras not)."""
    try:
        declared = metadata.distribution(distribution).metadata.get_all("Provides-Extra") \
            if distribution else []
    except metadata.PackageNotFoundError:
        return {}
    runtime = [""] + [e for e in declared or [] if e not in DEVELOPMENT_EXTRAS]
    found: dict[str, str] = {}
    for req in requirements(distribution):
        if req.marker is not None and not any(req.marker.evaluate({"extra": e})
                                              for e in runtime):
            continue
        version = installed_version(req.name)
        if version is not None:
            found[normalise(req.name)] = version
    return found
