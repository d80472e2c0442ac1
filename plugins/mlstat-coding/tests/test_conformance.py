"""The core's conformance suite on every coding component (as any plugin author runs it)."""

from mlstat_core.testing import plugin_checks

test_conformance = plugin_checks("coding", examples={
    # the bundled data, read through the generic loader (paths are relative to the package)
    "coding.text_table": {"path": "data/ecoicop_pl.csv", "text": ["product"],
                          "code": "category"},
})
