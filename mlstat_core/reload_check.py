"""A saved model, with its preprocessing steps, must predict after loading as it did before:
a step or a model whose ``save`` forgets fitted state would otherwise change every prediction
of ``mlstat predict`` without a word."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.components import Model

RECORDS = 200
"""How many of the data set's records a run scores twice (before saving and after loading)."""


def changed_records(before: pd.DataFrame, after: pd.DataFrame) -> list[Any]:
    """Index labels of the records whose predictions differ between two frames of one model's
    output: labels exactly, numbers within float rounding (1e-6 relative)."""
    if list(before.columns) != list(after.columns) or not before.index.equals(after.index):
        return list(before.index)
    changed = np.zeros(len(before), dtype=bool)
    for column in before.columns:
        a, b = before[column], after[column]
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            changed |= ~np.isclose(x, y, rtol=1e-6, atol=1e-9, equal_nan=True)
        else:
            changed |= ~((a == b) | (a.isna() & b.isna())).to_numpy(dtype=bool)
    return list(before.index[changed])


def lossy_step(model: Model, reloaded: Model, frame: pd.DataFrame) -> str | None:
    """The first preprocessing step whose output changes after loading (its save or
    load_state loses state), or None when every step agrees (or there are none)."""
    from mlstat_core.preprocess import Preprocessed, _checked

    if not isinstance(model, Preprocessed) or not isinstance(reloaded, Preprocessed):
        return None
    roles = model.inner.roles
    current = frame
    for (name, step), (_, loaded) in zip(model.steps, reloaded.steps, strict=True):
        out = _checked(name, step, current, roles)
        again = _checked(name, loaded, current, roles)
        if not out.equals(again):
            return name
        current = out
    return None
