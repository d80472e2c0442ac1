"""Conformance check of a preprocessing step (``Transform``): fitted on sample records, it keeps
every record, saves safely, and loaded into a new instance transforms as before. A step that
forgets state in ``save`` would change every later ``mlstat predict`` without a word."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from mlstat_core.components import ComponentSpec


def check_transform(suite: Any, spec: ComponentSpec, task: str) -> str | None:
    """Fit, transform, save, load into a fresh instance, transform again: same frame."""
    import pandas as pd

    from mlstat_core.testing.checks import _is_pickle
    from mlstat_core.testing.samples import sample_split

    train, test = sample_split(suite.dataset(task))
    step = suite.build(spec)
    step.fit(train)
    before = step.transform(test.frame.copy(), test.roles)
    if len(before) != len(test) or not before.index.equals(test.frame.index):
        raise suite.fail(spec, f"transform() of {len(test)} records returned {len(before)} "
                         "rows or another index", "keep every record and its index")
    with tempfile.TemporaryDirectory(prefix="mlstat-conformance-") as tmp:
        directory = Path(tmp)
        step.save(directory)
        unsafe = [p.name for p in directory.rglob("*") if p.is_file() and _is_pickle(p)]
        if unsafe:
            raise suite.fail(spec, f"save() wrote pickle files {unsafe}",
                             "save what fit() learned as JSON, skops or safetensors")
        loaded = suite.build(spec)
        loaded.load_state(directory)
        after = loaded.transform(test.frame.copy(), test.roles)
    try:
        pd.testing.assert_frame_equal(after, before, check_exact=False, rtol=1e-6)
    except AssertionError as exc:
        raise suite.fail(spec, "loaded into a new instance, it transforms differently "
                         f"({str(exc).splitlines()[0]})",
                         "save() everything fit() learns and read it back in load_state(): "
                         "mlstat predict applies the loaded step") from exc
    return f"{len(test)} records"
