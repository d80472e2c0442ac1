"""The core's conformance suite on every coding component (as any plugin author runs it), with
the options `conformance_options()` in `mlstat_coding/plugin.py` declares: the command line
`python -m mlstat_core.testing coding` checks the same."""

from mlstat_core.testing import plugin_checks

test_conformance = plugin_checks("coding")
