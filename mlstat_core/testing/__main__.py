"""``python -m mlstat_core.testing PLUGIN [PLUGIN.COMPONENT ...]``: run conformance checks."""

from __future__ import annotations

import sys

from mlstat_core.registry import discover
from mlstat_core.testing.checks import check_component, check_plugin, run_checks


def main(argv: list[str] | None = None) -> int:
    targets = list(sys.argv[1:] if argv is None else argv)
    if not targets:
        print("usage: python -m mlstat_core.testing PLUGIN|PLUGIN.COMPONENT ...", file=sys.stderr)
        return 2
    registry = discover()
    failed = 0
    for target in targets:
        checks = (check_component(target, registry=registry) if "." in target
                  else check_plugin(target, registry=registry))
        for result in run_checks(checks):
            print(result)
            failed += result.status == "failed"
    print(f"{failed} check(s) failed" if failed else "all checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
