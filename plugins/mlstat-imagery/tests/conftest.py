"""Fixtures: a small crop of the real Landsat scene (96 x 96 pixels around Raleigh's edge,
both built-up and other labelled pixels) written to tmp, so model tests stay fast."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mlstat_imagery.loaders import BUNDLED  # noqa: E402

CROP = (224, 288, 96, 96)  # row0, col0, height, width
BANDS = ["10", "20", "30", "40", "50", "70"]


def write_crop(source: Path, target: Path, crs: Any = None,
               crop: tuple[int, int, int, int] = CROP) -> None:
    import rasterio
    from rasterio.windows import Window, transform

    row0, col0, h, w = crop
    window = Window(col0, row0, w, h)
    with rasterio.open(source) as src:
        data = src.read(window=window)
        profile = src.profile.copy()
        profile.update(width=w, height=h, transform=transform(window, src.transform))
        profile.pop("blockxsize", None)
        profile.pop("blockysize", None)
        profile["tiled"] = False
        if crs is not None:
            profile["crs"] = crs
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(data)


@pytest.fixture(scope="session")
def crop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crop")
    for band in BANDS:
        write_crop(BUNDLED / f"lsat7_2000_{band}.tif", folder / f"lsat7_2000_{band}.tif")
    write_crop(BUNDLED / "landsat96_labelled_pixels.tif", folder / "landsat96_labelled_pixels.tif")
    for suffix in (".shp", ".shx", ".dbf", ".prj"):
        shutil.copy(BUNDLED / f"landsat96_points{suffix}", folder / f"landsat96_points{suffix}")
    return folder


@pytest.fixture(scope="session")
def crop_dataset(crop_dir: Path) -> Any:
    from mlstat_imagery.loaders import LandsatNcLoader
    from mlstat_imagery.params import LandsatNcParams

    return LandsatNcLoader(LandsatNcParams(directory=str(crop_dir))).load(crop_dir)


@pytest.fixture(scope="session")
def crop_split(crop_dataset: Any) -> Any:
    from mlstat_imagery.params import SpatialBlockParams
    from mlstat_imagery.splitters import SpatialBlockSplitter

    params = SpatialBlockParams(block_size=16, validation_size=0.2, test_size=0.2)
    return SpatialBlockSplitter(params).split(crop_dataset, 0)[0]


MIXED_CROP = (272, 320, 96, 96)  # developed, vegetated and water training pixels


@pytest.fixture(scope="module")
def mixed_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """A crop whose training pixels hold built-up and vegetated land, and its split."""
    from mlstat_imagery.loaders import LandsatNcLoader
    from mlstat_imagery.params import LandsatNcParams, SpatialBlockParams
    from mlstat_imagery.splitters import SpatialBlockSplitter

    folder = tmp_path_factory.mktemp("mixed_crop")
    for name in [f"lsat7_2000_{b}.tif" for b in BANDS] + ["landsat96_labelled_pixels.tif"]:
        write_crop(BUNDLED / name, folder / name, crop=MIXED_CROP)
    for suffix in (".shp", ".shx", ".dbf", ".prj"):
        shutil.copy(BUNDLED / f"landsat96_points{suffix}", folder / f"landsat96_points{suffix}")
    data = LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    split = SpatialBlockSplitter(SpatialBlockParams(block_size=16, validation_size=0.2)
                                 ).split(data, 0)[0]
    return data, split
