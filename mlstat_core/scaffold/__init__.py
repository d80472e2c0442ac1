"""``mlstat new-plugin``: write a complete, installable plugin package from templates.

The templates are package data (``template/``): ``__package__`` in a path becomes the Python
package name, ``.tmpl`` is dropped, ``gitignore`` becomes ``.gitignore``, and ``{{name}}``,
``{{package}}``, ``{{dist}}`` and ``{{description}}`` are filled in.
"""

from __future__ import annotations

import keyword
import re
import shutil
from pathlib import Path

from mlstat_core.errors import MlstatError
from mlstat_core.inputs import home_path

TEMPLATE_DIR = Path(__file__).parent / "template"
SAMPLE_DATA = Path(__file__).parent.parent / "testing" / "data" / "budget_uk_sample.csv"
RESERVED = {"core", "mlstat", "test", "tests"}


class ScaffoldError(MlstatError):
    """A plugin cannot be created with this name or in this folder."""


def check_name(name: str) -> str:
    """The plugin name if it is usable as entry point and component prefix, else an error."""
    if re.fullmatch(r"[a-z][a-z0-9_]*", name) and not keyword.iskeyword(name) \
            and name not in RESERVED:
        return name
    if keyword.iskeyword(name):
        raise ScaffoldError(f"plugin name {name!r} is a Python keyword, which cannot name a "
                            f"package; choose another (for example {name + '_plugin'!r})")
    fixed = re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_")
    hint = f" (for example {fixed!r})" if fixed and fixed != name and fixed[0].isalpha() \
        and fixed not in RESERVED else ""
    raise ScaffoldError(
        f"plugin name {name!r} is not usable: use lowercase letters, digits and _, starting "
        f"with a letter, and not one of {', '.join(sorted(RESERVED))}{hint}"
    )


def check_not_installed(name: str, dist: str) -> None:
    """Refuse a name an installed plugin already has (as entry-point name, or as distribution
    ``mlstat-<name>``): two distributions claiming one plugin name disable both."""
    from importlib import metadata

    for ep in metadata.entry_points(group="mlstat"):
        owner = getattr(ep, "dist", None)
        owner_name = owner.metadata["Name"] if owner is not None else None
        if ep.name == name or (owner_name or "").replace("_", "-").lower() == dist:
            taken = f"distribution {owner_name or ep.value}" + (
                f" {owner.version}" if owner is not None else "")
            raise ScaffoldError(
                f"plugin name {name!r} is taken: the installed {taken} declares the plugin "
                f"{ep.name!r}, and installing a second plugin of that name disables both; "
                f"choose another name (for example {name + '_2'!r}, or your organisation's "
                f"prefix: 'nso_{name}')")


def render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def create_plugin(name: str, directory: str | Path = ".", description: str | None = None,
                  force: bool = False) -> Path:
    """Write the package ``mlstat-<name>`` into ``directory``; return its folder."""
    name = check_name(name)
    text = (description or f"mlstat plugin {name}").replace('"', "'")
    if any(ord(c) < 32 for c in text):
        raise ScaffoldError("--description must be one line of text (no line breaks or tabs)")
    values = {
        "name": name,
        "package": f"mlstat_{name}",
        "dist": f"mlstat-{name.replace('_', '-')}",
        "description": text,
        # inside a TOML or Python string a backslash starts an escape: double it
        "description_quoted": text.replace("\\", "\\\\"),
    }
    if not force:  # --force regenerates on purpose, the author's own installed plugin too
        check_not_installed(name, values["dist"])
    target = home_path(directory) / values["dist"]
    if target.exists() and any(target.iterdir()) and not force:
        raise ScaffoldError(f"{target} exists and is not empty; choose another --dir or name, "
                            "or pass --force to write the template over it")
    for source in sorted(TEMPLATE_DIR.rglob("*")):
        if not source.is_file() or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(TEMPLATE_DIR).as_posix()
        relative = relative.replace("__package__", values["package"])
        relative = relative.removesuffix(".tmpl")
        if relative == "gitignore":
            relative = ".gitignore"
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render(source.read_text(encoding="utf-8"), values), encoding="utf-8")
    data = target / values["package"] / "data" / "households.csv"
    shutil.copyfile(SAMPLE_DATA, data)
    return target
