"""The core's conformance suite on every coding component (as any plugin author runs it)."""

import importlib.util

from mlstat_core.testing import plugin_checks

test_conformance = plugin_checks("coding", examples={
    # the bundled data, read through the generic loader (paths are relative to the package)
    "coding.text_table": {"path": "data/ecoicop_pl.csv", "text": ["product"],
                          "code": "category"},
    # the fastText-style model needs the optional extra `mlstat-coding[torch]`
}, skip=[] if importlib.util.find_spec("torch") else ["coding.fasttext-*-text_classification"])
