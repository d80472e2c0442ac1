"""Render the hook reference (docs/hooks.md) from the hook specifications' docstrings.

``python -m mlstat_core.testing.hookdoc > docs/hooks.md``; a test fails when the file is out of
date or a hook has no docstring.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from mlstat_core import hookspecs

HEADER = """# Hook reference

Generated from `mlstat_core/hookspecs.py` by `python -m mlstat_core.testing.hookdoc`; do not
edit by hand. Contract version {version}.

A plugin implements any of these hooks in the module its `mlstat` entry point names, each
decorated with `@mlstat_core.hookimpl`. Component hooks only declare (they return
`ComponentSpec` objects and must not import heavy libraries); lifecycle hooks follow a run and
their failures are reported as warnings, never fail the run. Set `MLSTAT_TRACE_HOOKS=1` (or
`mlstat --trace-hooks ...`) to see every call.
"""


def hook_specs() -> list[tuple[str, Callable[..., Any]]]:
    """The hook specifications, in source order."""
    marker = f"{hookspecs.PROJECT}_spec"
    found = [(name, obj) for name, obj in vars(hookspecs).items()
             if callable(obj) and hasattr(obj, marker)]
    return sorted(found, key=lambda item: inspect.getsourcelines(item[1])[1])


def to_markdown(text: str) -> str:
    """Docstrings use reST roles and double backticks; the page is Markdown."""
    text = re.sub(r":\w+:`~?([\w.]+)`", lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)
    return text.replace("``", "`")


def undocumented() -> list[str]:
    return [name for name, func in hook_specs() if not (func.__doc__ or "").strip()]


def render() -> str:
    kinds = {hook: kind for kind, hook in hookspecs.COMPONENT_HOOKS.items()}
    parts = [HEADER.format(version=hookspecs.CONTRACT_VERSION)]
    for group, wanted in (("Component hooks", True), ("Lifecycle hooks", False)):
        parts.append(f"## {group}\n")
        for name, func in hook_specs():
            if (name in kinds or name == "mlstat_tasks") != wanted:
                continue
            signature = str(inspect.signature(func)).replace("'", "")
            opts = getattr(func, f"{hookspecs.PROJECT}_spec") or {}
            flags = [k for k in ("firstresult", "historic") if opts.get(k)]
            parts.append(f"### `{name}{signature}`\n")
            if name in kinds:
                parts.append(f"Declares components of kind `{kinds[name]}`.\n")
            if flags:
                parts.append(f"Options: {', '.join(flags)}.\n")
            parts.append(to_markdown(inspect.cleandoc(func.__doc__ or "(undocumented)")) + "\n")
    return "\n".join(parts).rstrip() + "\n"


def main() -> None:
    print(render(), end="")


if __name__ == "__main__":
    main()
