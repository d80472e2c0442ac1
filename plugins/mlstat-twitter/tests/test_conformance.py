"""The conformance suite of mlstat_core, with the plugin's own data where the core's samples
do not apply."""

from __future__ import annotations

from pathlib import Path

from mlstat_twitter.loaders import UmsabLoader
from mlstat_twitter.params import UmsabParams

from mlstat_core.testing import plugin_checks

_UMSAB = UmsabLoader(UmsabParams(languages=["german"])).load(Path("."))

test_conformance = plugin_checks(
    "twitter",
    examples={
        "twitter.tweets": {"path": "umsab_en_sample.csv", "label": "label",
                           "require_timestamp": False},
        # the core's text sample is product names coded to ECOICOP, not sentiment: VADER's
        # rules cannot give those labels, its calibrated mode can
        "twitter.vader": {"calibrate": True},
        "twitter.sentiment": {"base_params": {"C": 3.0, "char_ngrams": [2, 4],
                                              "max_iter": 200}},
    },
    # twitter.predefined needs the benchmark's split column
    datasets={"splitter": _UMSAB},
    data_dir=str(Path(__file__).parent / "data"),
)
