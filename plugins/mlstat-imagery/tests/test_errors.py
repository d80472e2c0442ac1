"""Bad input gives one clear mlstat error, not a traceback from deep inside a library."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mlstat_imagery.loaders import LandsatNcLoader
from mlstat_imagery.params import LandsatNcParams
from pydantic import ValidationError

from mlstat_core.errors import DataError


def _copy(crop_dir: Path, target: Path) -> Path:
    shutil.copytree(crop_dir, target)
    return target


def test_missing_band_file(crop_dir: Path, tmp_path: Path) -> None:
    folder = _copy(crop_dir, tmp_path / "scene")
    (folder / "lsat7_2000_30.tif").unlink()
    with pytest.raises(DataError, match="lsat7_2000_30.tif"):
        LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)


def test_points_in_unreconcilable_crs(crop_dir: Path, tmp_path: Path) -> None:
    folder = _copy(crop_dir, tmp_path / "scene")
    # the coordinates are state plane metres, but the .prj now claims degrees (WGS 84)
    from pyproj import CRS

    (folder / "landsat96_points.prj").write_text(CRS.from_epsg(4326).to_wkt("WKT1_ESRI"))
    with pytest.raises(DataError, match="cannot be reconciled"):
        LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)


def test_points_without_crs(crop_dir: Path, tmp_path: Path) -> None:
    folder = _copy(crop_dir, tmp_path / "scene")
    (folder / "landsat96_points.prj").unlink()
    with pytest.raises(DataError, match="vector_crs"):
        LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    data = LandsatNcLoader(LandsatNcParams(directory=str(folder), vector_crs="EPSG:3358")
                           ).load(folder)
    assert data.metadata["counts"]["field_points_usable"] > 0


def test_label_class_that_does_not_exist(crop_dir: Path) -> None:
    classes = {1: "developed", 2: "agriculture", 3: "herbaceous", 4: "shrubland", 5: "forest"}
    with pytest.raises(DataError, match="do not exist in `classes`"):
        LandsatNcLoader(LandsatNcParams(directory=str(crop_dir), classes=classes)).load(crop_dir)
    with pytest.raises(ValidationError, match="positive_class"):
        LandsatNcParams(positive_class="urban")
