"""Records on nodata pixels get no class, as on the map.

A pixel with nodata in any band is never classified: the map writes it as nodata (-1), and
a record scored on such a pixel (the scene's nodata value or a missing value in its band or
index columns, or, for models that read the scene, nodata there) gets a missing
prediction, confidence and probabilities, which the core's prediction contract allows for
a record a model cannot score. A warning counts those records.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mlstat_imagery.features import band_column


def nodata_as_missing(matrix: np.ndarray, columns: list[str],
                      nodata: Mapping[str, float | None]) -> np.ndarray:
    """``matrix`` (records, ``columns``) with each band column's nodata value (``nodata``:
    band name -> value, as the scene declares it) replaced by NaN."""
    out = matrix
    for band, value in nodata.items():
        name = band_column(band)
        if value is None or name not in columns:
            continue
        k = columns.index(name)
        hit = matrix[:, k] == np.asarray(value, dtype=matrix.dtype)
        if hit.any():
            out = out.copy() if out is matrix else out
            out[hit, k] = np.nan
    return out


def without_class(predicted: pd.DataFrame, unscored: np.ndarray, where: str,
                  fix: str = "leave them out before scoring") -> pd.DataFrame:
    """``predicted`` with no class for the ``unscored`` records: prediction, confidence and
    every ``proba_<class>`` missing; a warning says how many, where the nodata is (``where``)
    and what to do (``fix``)."""
    count = int(np.count_nonzero(unscored))
    if not count:
        return predicted
    out = predicted.copy()
    out["prediction"] = out["prediction"].astype(object)
    out.loc[unscored, "prediction"] = None
    scores = [c for c in out.columns if c == "confidence" or str(c).startswith("proba_")]
    out.loc[unscored, scores] = np.nan
    warnings.warn(
        f"{count:,} of the {len(out):,} records scored together lie on pixels with nodata "
        f"{where}: they get no class (prediction, confidence and probabilities left empty), "
        f"as the map leaves such pixels nodata (-1); {fix}", stacklevel=3)
    return out


def missing_rows(values: Any) -> np.ndarray:
    """Which rows of a (records, values) array hold a NaN."""
    return np.isnan(np.asarray(values, dtype=np.float64)).any(axis=1)
