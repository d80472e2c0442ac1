"""The core's own plugin passes the conformance suite it offers to plugin authors, with the
options its plugin module declares (as ``python -m mlstat_core.testing core`` reads them)."""

from __future__ import annotations

from mlstat_core.testing import plugin_checks

test_core_conforms = plugin_checks("core")
