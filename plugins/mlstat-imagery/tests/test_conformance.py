"""The core's conformance suite on every imagery component (as any plugin author runs it), on
the bundled Landsat scene that `conformance_options()` in `mlstat_imagery/plugin.py` declares:
the command line `python -m mlstat_core.testing imagery` checks the same."""

from mlstat_core.testing import plugin_checks

test_conformance = plugin_checks("imagery")
