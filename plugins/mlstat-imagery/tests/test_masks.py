"""Band files and label rasters that mark missing pixels with a GDAL mask (an internal mask,
as JPEG-compressed or gdalwarp'd GeoTIFFs carry, or an alpha band) instead of a nodata value:
the masked pixels are nodata, not the 0 torchgeo mosaics in their place."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mlstat_imagery.loaders import LandsatNcLoader
from mlstat_imagery.params import LandsatNcParams
from mlstat_imagery.scene import declares_nodata, label_raster_pixels, read_window

HOLE = (slice(50, 70), slice(50, 70))  # holds labelled pixels of the crop
LABELS = "landsat96_labelled_pixels.tif"


def _mask(path: Path, hole: tuple[slice, slice]) -> None:
    """Drop the file's nodata value and mask ``hole`` with an internal mask."""
    import rasterio

    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "r+") as dst:
        dst.nodata = None
        mask = np.full((dst.height, dst.width), 255, dtype=np.uint8)
        mask[hole] = 0
        dst.write_mask(mask)


def _without_nodata(folder: Path) -> None:
    import rasterio

    for path in folder.glob("lsat7_2000_*.tif"):
        with rasterio.open(path, "r+") as dst:
            dst.nodata = None


@pytest.fixture(scope="module")
def scenes(crop_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """The crop without nodata values: as is, and with band 30 masked over ``HOLE`` (the
    other bands keep their values there, so nothing is 0 in every band)."""
    plain = tmp_path_factory.mktemp("unmasked")
    shutil.copytree(crop_dir, plain, dirs_exist_ok=True)
    _without_nodata(plain)
    masked = tmp_path_factory.mktemp("masked")
    shutil.copytree(plain, masked, dirs_exist_ok=True)
    _mask(masked / "lsat7_2000_30.tif", HOLE)
    load = [LandsatNcLoader(LandsatNcParams(directory=str(d))).load(d) for d in (plain, masked)]
    return load[0], load[1]


def _info(dataset: Any) -> Any:
    from mlstat_imagery.scene import SceneInfo

    return SceneInfo.from_dict(dataset.metadata["scene"])


def test_a_masked_band_is_listed_and_counts_as_declaring_nodata(scenes: tuple[Any, Any]
                                                                ) -> None:
    plain, masked = (_info(d) for d in scenes)
    assert plain.masked == [] and not declares_nodata(plain)
    assert masked.masked == ["30"] and declares_nodata(masked)


def test_masked_pixels_read_as_nodata_in_their_band_only(scenes: tuple[Any, Any]) -> None:
    plain, masked = (_info(d) for d in scenes)
    window = read_window(masked, 40, 40, 40, 40)
    band = masked.bands.index("30")
    hole = np.zeros((40, 40), dtype=bool)
    hole[10:30, 10:30] = True  # HOLE in the window's coordinates
    assert np.isnan(window[band][hole]).all()
    assert np.isfinite(window[band][~hole]).all()
    others = [i for i in range(len(masked.bands)) if i != band]
    assert np.isfinite(window[others]).all()
    # outside the mask the values are those of the unmasked files
    unmasked = read_window(plain, 40, 40, 40, 40)[band]
    np.testing.assert_array_equal(window[band][~hole], unmasked[~hole])


def test_labelled_pixels_under_the_mask_are_not_trained_on(scenes: tuple[Any, Any]) -> None:
    plain, masked = scenes
    frame = plain.frame[plain.frame["source"] == "labelled_pixel"]
    under = (frame["row"].between(50, 69) & frame["col"].between(50, 69)).sum()
    assert under > 0  # the hole holds labelled pixels
    counts = masked.metadata["counts"]
    assert counts["labelled_pixels_on_nodata"] == under
    assert plain.metadata["counts"]["labelled_pixels_on_nodata"] == 0
    kept = masked.frame
    assert not (kept["row"].between(50, 69) & kept["col"].between(50, 69)).any()


def test_a_masked_label_raster_gives_no_labels_under_its_mask(
        scenes: tuple[Any, Any], tmp_path: Path) -> None:
    plain = scenes[0]
    source = Path(_info(plain).directory) / LABELS
    for warped in (False, True):
        path = tmp_path / f"labels_{warped}.tif"
        shutil.copy(source, path)
        _mask(path, HOLE)
        if warped:  # another grid (shifted by half a pixel): read through a WarpedVRT
            import rasterio
            from affine import Affine

            with rasterio.open(path, "r+") as dst:
                t = dst.transform
                dst.transform = t @ Affine.translation(0.5, 0)
        rows, cols, _ = label_raster_pixels(path, _info(plain), 1e-6, [])
        inside = (rows >= 50) & (rows < 70) & (cols >= 50) & (cols < 70)
        assert not inside.any(), f"warped={warped}"
        rows_all, _, _ = label_raster_pixels(source, _info(plain), 1e-6, [])
        assert len(rows) < len(rows_all)


def _per_band_mask(path: Path, hole: tuple[slice, slice]) -> None:
    """A mask of band 1 alone (a ``.msk`` file whose flags say "per band"), no nodata."""
    import rasterio

    with rasterio.open(path, "r+") as dst:
        dst.nodata = None
        height, width = dst.height, dst.width
    mask = np.full((height, width), 255, dtype=np.uint8)
    mask[hole] = 0
    with rasterio.open(f"{path}.msk", "w", driver="GTiff", width=width, height=height,
                       count=1, dtype="uint8") as msk:
        msk.write(mask, 1)
        msk.update_tags(INTERNAL_MASK_FLAGS_1="0")


def test_a_mask_of_one_band_and_a_band_in_another_crs_are_read(
        scenes: tuple[Any, Any], tmp_path: Path) -> None:
    import warnings

    import rasterio
    from mlstat_imagery.scene import open_scene
    from rasterio.warp import reproject

    plain = _info(scenes[0])
    folder = tmp_path / "scene"
    shutil.copytree(plain.directory, folder)
    _per_band_mask(folder / "lsat7_2000_30.tif", HOLE)
    # band 40 in another CRS (the same points in EPSG:3358, shifted by a whole pixel so that
    # its grid differs), masked over the same ground: read through a warped view
    path = folder / "lsat7_2000_40.tif"
    with rasterio.open(path) as src:
        data, profile = src.read(1), src.profile
    profile.update(crs="EPSG:3358", transform=profile["transform"] * profile["transform"].
                   translation(1, 0), nodata=None)
    profile.pop("blockxsize", None), profile.pop("blockysize", None)
    moved = np.zeros_like(data)
    reproject(data, moved, src_transform=src.transform, src_crs=src.crs,
              dst_transform=profile["transform"], dst_crs=profile["crs"])
    path.unlink()
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **profile) as dst:
        dst.write(moved, 1)
        mask = np.full(moved.shape, 255, dtype=np.uint8)
        mask[50:70, 49:69] = 0  # HOLE, one column to the left in this grid
        dst.write_mask(mask)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the note on band 40's CRS
        info = open_scene(folder, "lsat7_2000_{band}.tif", plain.bands)
    assert sorted(info.masked) == ["30", "40"]
    window = read_window(info, 40, 40, 40, 40)
    hole = np.zeros((40, 40), dtype=bool)
    hole[10:30, 10:30] = True
    for band in ("30", "40"):
        values = window[info.bands.index(band)]
        assert np.isnan(values[hole]).all(), band
        assert np.isfinite(values[~hole]).mean() > 0.95, band  # not the whole band lost


def test_label_rasters_with_an_alpha_band_or_nodata_and_a_mask(
        scenes: tuple[Any, Any], tmp_path: Path) -> None:
    import rasterio
    from affine import Affine

    info = _info(scenes[0])
    with rasterio.open(Path(info.directory) / LABELS) as src:
        labels, profile = src.read(1), src.profile
    inside = (slice(50, 70), slice(50, 70))
    for shift in (0.0, 0.5):  # on the scene's grid, and on another one (warped)
        transform = profile["transform"] @ Affine.translation(shift, 0)
        alpha = tmp_path / f"alpha_{shift}.tif"
        with rasterio.open(alpha, "w", driver="GTiff", width=profile["width"],
                           height=profile["height"], count=2, dtype="uint8",
                           crs=profile["crs"], transform=transform, alpha="YES") as dst:
            dst.write(np.where(labels > 0, labels, 0).astype("uint8"), 1)
            opacity = np.full(labels.shape, 255, dtype=np.uint8)
            opacity[inside] = 0
            dst.write(opacity, 2)
        both = tmp_path / f"both_{shift}.tif"
        shutil.copy(Path(info.directory) / LABELS, both)
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(both, "r+") as dst:
            assert dst.nodata is not None  # the bundled labels declare nodata
            mask = np.full(labels.shape, 255, dtype=np.uint8)
            mask[inside] = 0
            dst.write_mask(mask)
            dst.transform = transform
        for path in (alpha, both):
            rows, cols, _ = label_raster_pixels(path, info, 1e-6, [])
            hit = (rows >= 50) & (rows < 70) & (cols >= 50) & (cols < 70)
            assert len(rows) > 150 and not hit.any(), (path.name, int(hit.sum()))
