"""The core's conformance suite on every editimpute component (as any plugin author runs it);
the survey loader reads the bundled sample, its params model's example."""

from mlstat_core.testing import plugin_checks

test_conformance = plugin_checks("editimpute")
