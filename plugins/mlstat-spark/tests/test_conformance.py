"""The core's conformance suite on the Spark engine (discovery, light import, spec, params);
no Spark session is started."""

from mlstat_core.testing import plugin_checks

test_conformance = plugin_checks("spark")
