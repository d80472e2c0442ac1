"""Which records a run's model learnt from, kept as 64-bit hashes (8 bytes a record, never
the values), so that an evaluation on a file holding some of them says so.

A run saves ``training_records.npz``: the sorted hashes of the records it learnt from
(training and validation, or all records when cross-validated), of their values (the
model's input columns and the target) and of their ids with those values. ``mlstat evaluate``
hashes the labelled file's records the same way and counts those found: by id and values
where both have ids, else by values.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.components import ColumnRoles
from mlstat_core.io import as_text, whole_code_text

TRAINING_RECORDS = "training_records.npz"


MISSING = "\x00missing"
"""What every kind of missing value (NaN, None, pd.NA, NaT) is hashed as."""


def canonical(frame: pd.DataFrame, codes: Iterable[str] = ()) -> pd.DataFrame:
    """``frame`` with each cell in one text form whatever its column's type, which depends on
    the file's other records (a column of whole numbers, or with a 20.5; a code column of
    111 alone, or beside A12; booleans with a gap, read as objects): numbers, booleans and
    text that reads as a number as the float's text (``20.0``, ``1.0``), dates as
    ``2024-01-05`` or ``2024-01-05 10:30:00`` (what a CSV holds where Excel holds a date),
    other text as it is, and every missing value alike. The columns of ``codes`` (core.table's
    `categorical`, read as text whatever the file) as the models read them: the code as
    written (``011`` is not ``11``), ``11.0`` as ``11``."""
    out = {}
    coded = set(codes)
    for column in frame.columns:
        values = frame[column]
        if column in coded:
            text = whole_code_text(as_text(values))
        elif pd.api.types.is_datetime64_any_dtype(values):
            text = values.dt.strftime("%Y-%m-%d %H:%M:%S").str.removesuffix(" 00:00:00")
        else:
            plain = values.astype(object) if isinstance(values.dtype, pd.CategoricalDtype) \
                else values
            numbers = pd.to_numeric(plain, errors="coerce") \
                if not pd.api.types.is_bool_dtype(plain) else plain.astype("float64")
            numbers = pd.Series(numbers, index=values.index).astype("float64")
            text = plain.astype(object).where(numbers.isna(), numbers.astype(str))
        out[column] = text.astype(object).where(values.notna(), MISSING).astype(str)
    return pd.DataFrame(out, index=frame.index)


def _hashes(frame: pd.DataFrame, codes: Iterable[str] = ()) -> np.ndarray:
    """One 64-bit hash per row of ``frame``'s :func:`canonical` cells."""
    return pd.util.hash_pandas_object(canonical(frame, codes), index=False).to_numpy()


def record_keys(frame: pd.DataFrame, roles: ColumnRoles | None, codes: Iterable[str] = ()
                ) -> dict[str, np.ndarray]:
    """The hashes of the records' values (the roles' input columns and target that
    ``frame`` has; ``codes``: see :func:`canonical`) and of their ids with them (empty
    without an id column): an id alone is no proof, since offices reuse household ids from
    one survey cycle to the next."""
    empty = np.array([], dtype=np.uint64)
    if roles is None:
        return {"ids": empty, "values": empty}
    columns = [c for c in [*roles.input_columns(), roles.target] if c and c in frame.columns]
    if not columns:
        return {"ids": empty, "values": empty}
    values = _hashes(frame[columns], codes)
    if not (roles.id and roles.id in frame.columns):
        return {"ids": empty, "values": values}
    ids = frame[roles.id].astype(str).to_numpy()
    both = pd.DataFrame({"values": values, "id": ids})
    return {"ids": pd.util.hash_pandas_object(both, index=False).to_numpy(), "values": values}


def save(path: Path, frame: pd.DataFrame, roles: ColumnRoles | None,
         codes: Iterable[str] = ()) -> None:
    """Write the sorted hashes of ``frame``'s records to ``path``."""
    keys = record_keys(frame, roles, codes)
    np.savez_compressed(path, **{k: np.unique(v) for k, v in keys.items()})


def overlap(path: Path, frame: pd.DataFrame, roles: ColumnRoles | None,
            codes: Iterable[str] = ()) -> tuple[str, int] | None:
    """How many records of ``frame`` the run learnt from, and by what they were found
    (``ids``, or ``values`` where the run or the file has no ids); None where the run kept
    no record of its training records (made before they were kept)."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as saved:
        learnt: dict[str, Any] = {k: saved[k] for k in saved.files}
    keys = record_keys(frame, roles, codes)
    by = "ids" if len(learnt.get("ids", [])) and len(keys["ids"]) else "values"
    known = learnt.get(by, np.array([], dtype=np.uint64))
    return by, int(np.isin(keys[by], known).sum()) if len(known) else 0
