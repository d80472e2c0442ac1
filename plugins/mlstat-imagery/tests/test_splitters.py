"""Spatial blocks: no block shared between train, validation and test; field points in test."""

from __future__ import annotations

from typing import Any

import numpy as np
from mlstat_imagery.params import SpatialBlockParams
from mlstat_imagery.splitters import SpatialBlockSplitter, block_ids


def test_no_shared_blocks(crop_dataset: Any, crop_split: Any) -> None:
    frame = crop_dataset.frame
    labelled = (frame["source"] == "labelled_pixel").to_numpy()

    def blocks(positions: np.ndarray) -> set[int]:
        keep = positions[labelled[positions]]
        return set(block_ids(frame["row"].to_numpy()[keep], frame["col"].to_numpy()[keep],
                             16).tolist())

    train, val, test = blocks(crop_split.train), blocks(crop_split.validation), \
        blocks(crop_split.test)
    assert train and val and test
    assert not train & test and not train & val and not val & test
    field = np.nonzero(~labelled)[0]
    assert set(field) <= set(crop_split.test)
    assert not set(field) & set(crop_split.train)


def test_seeded(crop_dataset: Any) -> None:
    splitter = SpatialBlockSplitter(SpatialBlockParams(block_size=16))
    a, b = splitter.split(crop_dataset, 3)[0], splitter.split(crop_dataset, 3)[0]
    assert np.array_equal(a.train, b.train) and np.array_equal(a.test, b.test)
