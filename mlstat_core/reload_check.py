"""A saved model, with its preprocessing steps, must predict after loading as it did before:
a step or a model whose ``save`` forgets fitted state would otherwise change every prediction
of ``mlstat predict`` without a word."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

RECORDS = 200
"""How many of the data set's records a run scores twice (before saving and after loading)."""


def sample(frame: pd.DataFrame, size: int = RECORDS) -> pd.DataFrame:
    """``size`` records spread evenly over ``frame`` (data sorted by class or id are covered
    from end to end, not only their first class)."""
    if len(frame) <= size:
        return frame
    return frame.iloc[np.unique(np.linspace(0, len(frame) - 1, size).astype(int))]


def _same(a: Any, b: Any) -> bool:
    """Two cells of a prediction frame agree: both missing, or equal."""
    missing_a, missing_b = pd.isna(a), pd.isna(b)
    if np.ndim(missing_a) or np.ndim(missing_b):  # a list in a cell: compare as text
        return str(a) == str(b)
    if missing_a or missing_b:
        return bool(missing_a and missing_b)
    return bool(a == b)


def changed_records(before: pd.DataFrame, after: pd.DataFrame) -> list[Any]:
    """Index labels of the records whose predictions differ between two frames of one model's
    output: numbers within float rounding (1e-6 relative, 1e-7 absolute), anything else
    exactly, a missing value only by another."""
    if list(before.columns) != list(after.columns) or not before.index.equals(after.index):
        return list(before.index)
    changed = np.zeros(len(before), dtype=bool)
    for column in before.columns:
        a, b = before[column], after[column]
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
            x = a.to_numpy(dtype=float, na_value=np.nan)
            y = b.to_numpy(dtype=float, na_value=np.nan)
            changed |= ~np.isclose(x, y, rtol=1e-6, atol=1e-7, equal_nan=True)
        else:
            changed |= ~np.array([_same(p, q) for p, q in zip(a, b, strict=True)], dtype=bool)
    return list(before.index[changed])
