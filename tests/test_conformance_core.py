"""The core's own plugin passes the conformance suite it offers to plugin authors."""

from __future__ import annotations

from mlstat_core.testing import plugin_checks
from mlstat_core.testing.samples import SAMPLES

test_core_conforms = plugin_checks(
    "core",
    examples={
        "core.table": {"path": str(SAMPLES["tabular_classification"].path), "target": "children"},
        "core.hierarchical_accuracy": {"levels": [1, 2]},
    },
)
