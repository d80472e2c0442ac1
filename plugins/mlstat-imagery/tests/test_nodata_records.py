"""Records scored on nodata pixels get no class, as the map leaves them (nodata, -1)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlstat_imagery.cnn import CnnModel
from mlstat_imagery.loaders import LandsatNcLoader
from mlstat_imagery.models import ContextForestModel, PixelForestModel
from mlstat_imagery.params import (
    CnnParams,
    ContextForestParams,
    ImageryForestParams,
    LandsatNcParams,
)

from mlstat_core.predict import check_predictions, predict_checked
from mlstat_core.registry import get_registry

NODATA = -99999.0
HOLE = (slice(10, 30), slice(10, 30))  # pixels with nodata in band 30


@pytest.fixture(scope="module")
def holed(crop_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """The crop with nodata in band 30 over 20 x 20 pixels, its data set, and records to
    score: two valid pixels, then pixels whose band values are the scene's nodata value, are
    empty, or are valid but lie on the hole."""
    import rasterio

    folder = tmp_path_factory.mktemp("holed")
    shutil.copytree(crop_dir, folder, dirs_exist_ok=True)
    with rasterio.open(folder / "lsat7_2000_30.tif", "r+") as dst:
        assert dst.nodata == NODATA
        data = dst.read(1)
        data[HOLE] = dst.nodata
        dst.write(data, 1)
    dataset = LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    frame = dataset.frame
    valid = frame.iloc[:2].copy()
    on_nodata = frame.iloc[[2]].assign(row=15, col=15, band_30=NODATA)
    empty = frame.iloc[[3]].copy()
    empty[list(dataset.roles.features)] = np.nan
    copied = frame.iloc[[4]].assign(row=20, col=20)  # valid values, nodata in the scene
    records = pd.concat([valid, on_nodata, empty, copied], ignore_index=True)
    records["record_id"] = ["a", "b", "nodata", "empty", "hole"]
    return dataset, records


def _labelled(dataset: Any) -> Any:
    return dataset.subset(np.nonzero((dataset.frame["source"] == "labelled_pixel")
                                     .to_numpy())[0])


def _check(predicted: pd.DataFrame, unscored: list[bool]) -> None:
    check_predictions(predicted, get_registry().tasks["raster_segmentation"])
    missing = predicted["prediction"].isna().to_numpy()
    assert missing.tolist() == unscored
    assert predicted.loc[missing, ["confidence", "proba_built_up", "proba_other"]] \
        .isna().all().all()
    assert predicted.loc[~missing, "confidence"].between(0, 1).all()


def test_the_pixel_forest_gives_no_class_to_nodata_band_values(holed: tuple[Any, Any]
                                                                ) -> None:
    dataset, records = holed
    model = PixelForestModel(ImageryForestParams(n_estimators=10), "raster_segmentation")
    model.fit(_labelled(dataset))
    with pytest.warns(UserWarning, match=r"2 of the 5 records scored together lie on pixels "
                                         r"with nodata in their band or index columns"):
        predicted = model.predict(records)
    # without context windows it reads the columns only: the copied values are scored
    _check(predicted, [False, False, True, True, False])


def test_the_context_forest_gives_no_class_to_nodata_pixels(holed: tuple[Any, Any]) -> None:
    dataset, records = holed
    model = ContextForestModel(ContextForestParams(n_estimators=10, cv_block_size=16))
    model.fit(_labelled(dataset))
    with pytest.warns(UserWarning, match=r"3 of the 5 records .* or in the scene at their "
                                         r"row/col"):
        predicted = model.predict(records)
    _check(predicted, [False, False, True, True, True])


def test_the_cnn_gives_no_class_to_nodata_pixels(holed: tuple[Any, Any]) -> None:
    dataset, records = holed
    model = CnnModel(CnnParams(epochs=1, width=4, patch_size=32, device="cpu", tile_size=64,
                               overlap=8), "raster_segmentation")
    model.fit(_labelled(dataset))
    with pytest.warns(UserWarning, match=r"2 of the 5 records .* in the scene at their "
                                         r"row/col"):
        predicted = model.predict(records)
    # the CNN reads the scene by row/col, not the records' band columns
    _check(predicted, [False, False, True, False, True])
    # so new records need their position only (it asked for the bands and indices too)
    assert model.roles.input_columns() == ["row", "col"]
    with pytest.warns(UserWarning, match="2 of the 5 records"):
        located = predict_checked(model, records[["record_id", "row", "col"]], "records")
    pd.testing.assert_frame_equal(located, predicted)
