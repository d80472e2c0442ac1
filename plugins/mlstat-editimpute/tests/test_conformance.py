"""The core's conformance suite on every editimpute component (as any plugin author runs it)."""

from mlstat_core.testing import plugin_checks

test_conformance = plugin_checks("editimpute", examples={
    # the bundled data, read through the generic survey loader (paths relative to the package)
    "editimpute.survey": {"path": "data/budget_uk.csv",
                          "metadata": "data/budget_uk_metadata.csv"},
})
