"""Which records a run's model learnt from, kept as 64-bit hashes (8 bytes a record, never
the values), so that an evaluation on a file holding some of them says so.

A run saves ``training_records.npz``: the sorted hashes of the ids of the records it learnt
from (training and validation, or all records when cross-validated) and of their values
(the model's input columns and the target). ``mlstat evaluate`` hashes the labelled file's
records the same way and counts those found: by id where both have ids, else by values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.artifacts import whole_numbers_as_integers
from mlstat_core.components import ColumnRoles

TRAINING_RECORDS = "training_records.npz"


def _hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of ``frame`` (whole numbers alike whether read as 1 or 1.0,
    values that cannot be hashed as text)."""
    keys = whole_numbers_as_integers(frame)
    try:
        return pd.util.hash_pandas_object(keys, index=False).to_numpy()
    except TypeError:  # lists or dicts in cells
        return pd.util.hash_pandas_object(keys.astype(str), index=False).to_numpy()


def record_keys(frame: pd.DataFrame, roles: ColumnRoles | None) -> dict[str, np.ndarray]:
    """The hashes of the records' ids (as text; empty without an id column) and of their
    values (the roles' input columns and target that ``frame`` has)."""
    empty = np.array([], dtype=np.uint64)
    if roles is None:
        return {"ids": empty, "values": empty}
    columns = [c for c in [*roles.input_columns(), roles.target] if c and c in frame.columns]
    ids = frame[roles.id].astype(str).to_frame() if roles.id and roles.id in frame.columns \
        else None
    return {"ids": _hashes(ids) if ids is not None else empty,
            "values": _hashes(frame[columns]) if columns else empty}


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
