"""Spatially blocked splitting: neighbouring pixels are alike, so a random split of pixels
leaks; whole blocks go to train, validation or test, and the field points are always test."""

from __future__ import annotations

import numpy as np

from mlstat_core.components import Dataset, Split, Splitter
from mlstat_core.errors import DataError
from mlstat_imagery.params import SpatialBlockParams

FIELD = "field_point"


def block_ids(rows: np.ndarray, cols: np.ndarray, block_size: int) -> np.ndarray:
    """One integer per block of ``block_size`` x ``block_size`` pixels."""
    rows = np.asarray(rows, dtype=np.int64) // block_size
    cols = np.asarray(cols, dtype=np.int64) // block_size
    return rows * 1_000_003 + cols


class SpatialBlockSplitter(Splitter):
    def __init__(self, params: SpatialBlockParams | None = None) -> None:
        super().__init__(params if params is not None else SpatialBlockParams())

    def split(self, dataset: Dataset, seed: int) -> list[Split]:
        p: SpatialBlockParams = self.params
        frame = dataset.frame
        for column in ("row", "col"):
            if column not in frame.columns:
                raise DataError(f"spatial_blocks needs a {column!r} column (pixel position); "
                                "use an imagery loader")
        is_field = (frame["source"] == FIELD).to_numpy() if "source" in frame.columns \
            else np.zeros(len(frame), dtype=bool)
        labelled = np.nonzero(~is_field)[0]
        blocks = block_ids(frame["row"].to_numpy()[labelled], frame["col"].to_numpy()[labelled],
                           p.block_size)
        unique = np.unique(blocks)
        if len(unique) < 2:
            raise DataError(f"the labelled pixels fall in {len(unique)} block(s) of "
                            f"{p.block_size} pixels; use a smaller block_size")
        order = np.random.default_rng(seed).permutation(unique)
        n_test = int(round(len(order) * p.test_size))
        n_val = int(round(len(order) * p.validation_size))
        if p.validation_size > 0:
            n_val = max(n_val, 1)
        if n_test + n_val >= len(order):
            raise DataError(f"{len(order)} blocks cannot be shared between train, validation and"
                            " test; use a smaller block_size or smaller shares")
        test_blocks = set(order[:n_test].tolist())
        val_blocks = set(order[n_test:n_test + n_val].tolist())
        in_test = np.array([b in test_blocks for b in blocks], dtype=bool)
        in_val = np.array([b in val_blocks for b in blocks], dtype=bool)
        train = labelled[~in_test & ~in_val]
        validation = labelled[in_val]
        test = np.sort(np.concatenate([labelled[in_test], np.nonzero(is_field)[0]]))
        if not len(test):
            raise DataError("the test set is empty: the loader yielded no field points and "
                            "test_size is 0; set `points` in [loader] or test_size > 0")
        return [Split(train=train, test=test, validation=validation if len(validation) else None,
                      name="spatial_blocks")]
