"""The core's conformance suite on every twitter component (as any plugin author runs it), with
the plugin's own data where the core's samples do not apply, as `conformance_options()` in
`mlstat_twitter/plugin.py` declares: `python -m mlstat_core.testing twitter` checks the same."""

from mlstat_core.testing import plugin_checks

test_conformance = plugin_checks("twitter")
