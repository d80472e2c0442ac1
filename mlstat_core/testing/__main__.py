"""``python -m mlstat_core.testing TARGET ...``: run conformance checks and print a table."""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import sys
from collections.abc import Callable

from mlstat_core.registry import Registry, discover
from mlstat_core.testing.checks import (
    OPTIONS_FUNCTION,
    Check,
    check_component,
    check_plugin,
    run_checks,
)

DESCRIPTION = f"""\
Run mlstat's conformance checks on installed plugins, or on single components, and print one
line per check (PASSED, FAILED with the fix, or SKIPPED with the reason).

A TARGET is one of:
  PLUGIN              an installed plugin, by the name `mlstat plugins` lists (e.g. coding)
  PLUGIN.COMPONENT    one component of an installed plugin (e.g. core.majority)
  PACKAGE.MODULE      a plugin module not installed yet, by its import name
                      (e.g. mlstat_households.plugin); it must be importable

Params examples, data sets, the data folder and skipped checks come from the plugin module's
{OPTIONS_FUNCTION}() function, if it has one: pytest's plugin_checks() reads the same one.
"""

EPILOG = """\
exit status: 0 when no check failed, 1 when some did, 2 for a bad command line.
See docs/plugin-authors.md, section "Run the conformance suite"."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mlstat_core.testing", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="+", metavar="TARGET",
                        help="PLUGIN, PLUGIN.COMPONENT or PACKAGE.MODULE (see above)")
    return parser


def _plugin_module(name: str) -> bool:
    """Whether ``name`` imports as a module with mlstat hooks (a ValueError if it fails to)."""
    try:
        if importlib.util.find_spec(name) is None:
            return False
    except (ImportError, ValueError):
        return False
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        raise ValueError(f"importing module {name!r} failed ({type(exc).__name__}: {exc}). "
                         "Fix: correct the module, or install what it needs") from None
    if not any(attr.startswith("mlstat_") for attr in dir(module)):
        raise ValueError(f"module {name!r} defines no mlstat hook (mlstat_models, ...), so it "
                         "is no plugin module. Fix: give the module that holds the hooks, "
                         "usually PACKAGE.plugin")
    return True


def checks_for(target: str, registry: Registry) -> Callable[[], list[Check]]:
    """How to build the checks of one target; a ValueError saying what is wrong and the fix."""
    plugins = sorted(registry.plugins)
    if target in registry.plugins:
        return lambda: check_plugin(target, registry=registry)
    prefix = target.split(".", 1)[0]
    if "." in target and prefix in registry.plugins:
        if any(c.full_name == target for c in registry.find()):
            return lambda: check_component(target, registry=registry)
        names = sorted(c.full_name for c in registry.find() if c.plugin == prefix)
        close = difflib.get_close_matches(target, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        reason = registry.plugin_failure(target)
        raise ValueError(f"plugin {prefix!r} has no component {target!r}{hint}"
                         + (f": {reason}" if reason else "")
                         + f". Fix: give one of {', '.join(names) or 'its components'}, or "
                         f"{prefix!r} to check them all.")
    if "." in target and _plugin_module(target):
        return lambda: check_plugin(target)
    close = difflib.get_close_matches(prefix, plugins, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    what = (f"{target!r} is neither a component ({prefix!r} is no installed plugin{hint}) nor "
            "an importable module" if "." in target
            else f"no plugin named {target!r} is installed{hint}")
    raise ValueError(f"{what}. Fix: give an installed plugin ({', '.join(plugins)}), "
                     "PLUGIN.COMPONENT, or a plugin module's import name; install a plugin "
                     "with pip install (pip install -e . in its folder)")


def main(argv: list[str] | None = None) -> int:
    """Run the checks of every target; the exit status says whether any failed."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    registry = discover()
    try:
        builders = [checks_for(target, registry) for target in args.targets]
    except ValueError as exc:
        print(f"python -m mlstat_core.testing: error: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for build in builders:
        for result in run_checks(build()):
            print(result, flush=True)
            failed += result.status == "failed"
    print(f"{failed} check(s) failed" if failed else "all checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
