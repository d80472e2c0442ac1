"""Which records a run's model learnt from, kept as 64-bit hashes (8 bytes a record, never
the values), so that an evaluation on a file holding some of them says so.

A run saves ``training_records.npz``: the sorted hashes of the records it learnt from
(training and validation, or all records when cross-validated), of their values (the
model's input columns and the target) and of their ids with those values. ``mlstat evaluate``
hashes the labelled file's records the same way and counts those found: by id and values
where both have ids, else by values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.components import ColumnRoles

TRAINING_RECORDS = "training_records.npz"


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each value in one form whatever the file it came from: numbers (whole
    or not, nullable, booleans) as float64, so that a record's 20 hashes alike whether its
    column was read as 20 or 20.0 (a column of whole numbers in one file, with a 20.5 in the
    other); dates as ISO text (``2024-01-05``: what a CSV holds where Excel holds a date);
    missing text as NaN."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            out[column] = values.astype("float64")
        elif pd.api.types.is_datetime64_any_dtype(values):
            text = values.dt.strftime("%Y-%m-%dT%H:%M:%S").str.removesuffix("T00:00:00")
            out[column] = text.astype(object).where(values.notna(), np.nan)
        else:
            out[column] = values.astype(object).where(values.notna(), np.nan)
    return pd.DataFrame(out, index=frame.index)


def _hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of ``frame``'s :func:`canonical` values (values that cannot be
    hashed as text)."""
    keys = canonical(frame)
    try:
        return pd.util.hash_pandas_object(keys, index=False).to_numpy()
    except TypeError:  # lists or dicts in cells
        return pd.util.hash_pandas_object(keys.astype(str), index=False).to_numpy()


def record_keys(frame: pd.DataFrame, roles: ColumnRoles | None) -> dict[str, np.ndarray]:
    """The hashes of the records' values (the roles' input columns and target that
    ``frame`` has) and of their ids with them (empty without an id column): an id alone
    is no proof, since offices reuse household ids from one survey cycle to the next."""
    empty = np.array([], dtype=np.uint64)
    if roles is None:
        return {"ids": empty, "values": empty}
    columns = [c for c in [*roles.input_columns(), roles.target] if c and c in frame.columns]
    if not columns:
        return {"ids": empty, "values": empty}
    values = frame[columns]
    has_id = bool(roles.id) and roles.id in frame.columns
    with_id = values.assign(**{"\x00id": frame[roles.id].astype(str)}) if has_id else None
    return {"ids": _hashes(with_id) if with_id is not None else empty,
            "values": _hashes(values)}


def save(path: Path, frame: pd.DataFrame, roles: ColumnRoles | None) -> None:
    """Write the sorted hashes of ``frame``'s records to ``path``."""
    keys = record_keys(frame, roles)
    np.savez_compressed(path, **{k: np.unique(v) for k, v in keys.items()})


def overlap(path: Path, frame: pd.DataFrame, roles: ColumnRoles | None
            ) -> tuple[str, int] | None:
    """How many records of ``frame`` the run learnt from, and by what they were found
    (``ids``, or ``values`` where the run or the file has no ids); None where the run kept
    no record of its training records (made before they were kept)."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as saved:
        learnt: dict[str, Any] = {k: saved[k] for k in saved.files}
    keys = record_keys(frame, roles)
    by = "ids" if len(learnt.get("ids", [])) and len(keys["ids"]) else "values"
    known = learnt.get(by, np.array([], dtype=np.uint64))
    return by, int(np.isin(keys[by], known).sum()) if len(known) else 0
