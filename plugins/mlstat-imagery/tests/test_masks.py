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


def test_a_mask_of_one_band_and_of_a_smaller_file_on_the_grid_are_read(
        scenes: tuple[Any, Any], tmp_path: Path) -> None:
    import rasterio
    from mlstat_imagery.scene import open_scene
    from rasterio.windows import Window

    plain = _info(scenes[0])
    folder = tmp_path / "scene"
    shutil.copytree(plain.directory, folder)
    _per_band_mask(folder / "lsat7_2000_30.tif", HOLE)
    # band 40 cut to rows 5-95 and columns 3-90 of the scene (whole pixels), its band's mask
    # over HOLE: outside the file is no data, inside the mask is
    path = folder / "lsat7_2000_40.tif"
    with rasterio.open(path) as src:
        cut = Window(3, 5, 87, 90)
        data, profile = src.read(1, window=cut), src.profile
        profile.update(width=87, height=90, transform=src.window_transform(cut), nodata=None)
    profile.pop("blockxsize", None), profile.pop("blockysize", None)
    path.unlink()
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    _per_band_mask(path, (slice(45, 65), slice(47, 67)))  # HOLE in the file's rows, columns
    info = open_scene(folder, "lsat7_2000_{band}.tif", plain.bands)
    assert sorted(info.masked) == ["30", "40"]
    window = read_window(info, 0, 0, 96, 96)
    hole = np.zeros((96, 96), dtype=bool)
    hole[HOLE] = True
    assert np.isnan(window[info.bands.index("30")][hole]).all()
    assert np.isfinite(window[info.bands.index("30")][~hole]).all()
    band = window[info.bands.index("40")]
    outside = np.ones((96, 96), dtype=bool)
    outside[5:95, 3:90] = False
    assert np.isnan(band[hole | outside]).all()
    np.testing.assert_array_equal(band[~(hole | outside)],
                                  read_window(plain, 0, 0, 96, 96)[plain.bands.index("40")][
                                      ~(hole | outside)])


@pytest.mark.parametrize("shift", [0.7, "crs"])
def test_a_masked_band_file_off_the_scene_grid_is_refused_with_the_fix(
        scenes: tuple[Any, Any], tmp_path: Path, shift: Any) -> None:
    import rasterio
    from affine import Affine
    from mlstat_imagery.scene import open_scene

    from mlstat_core.errors import DataError

    plain = _info(scenes[0])
    folder = tmp_path / "scene"
    shutil.copytree(plain.directory, folder)
    path = folder / "lsat7_2000_40.tif"
    _mask(path, HOLE)
    with rasterio.open(path, "r+") as dst:
        if shift == "crs":
            dst.crs = "EPSG:3358"  # the same place, another CRS: resampled by torchgeo
        else:
            dst.transform = dst.transform @ Affine.translation(shift, 0)
    left, bottom, right, top = plain.bounds
    with pytest.raises(DataError, match=r"lsat7_2000_40.tif marks missing pixels with a GDAL "
                                        r"mask .* not on the scene's grid .* gdalwarp -t_srs "
                                        r"EPSG:32119 -tr 28.5 28.5 -te "
                                        + " ".join(map(repr, (left, bottom, right, top)))):
        open_scene(folder, "lsat7_2000_{band}.tif", plain.bands)


def test_label_rasters_with_an_alpha_band_or_nodata_and_a_mask(
        scenes: tuple[Any, Any], tmp_path: Path) -> None:
    import rasterio
    from affine import Affine

    from mlstat_core.errors import DataError

    info = _info(scenes[0])
    with rasterio.open(Path(info.directory) / LABELS) as src:
        labels, profile = src.read(1), src.profile
    inside = (slice(50, 70), slice(50, 70))
    for shift in (0.0, 0.5):  # on the scene's grid, and on another one
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
        band_mask = tmp_path / f"band_mask_{shift}.tif"
        with rasterio.open(band_mask, "w", driver="GTiff", width=profile["width"],
                           height=profile["height"], count=1, dtype="uint8",
                           crs=profile["crs"], transform=transform) as dst:
            dst.write(np.where(labels > 0, labels, 0).astype("uint8"), 1)
        _per_band_mask(band_mask, inside)
        for path in (alpha, both, band_mask):
            if shift and path is not alpha:  # the warp would honour the nodata alone, or
                # ignore a band's mask: refused, with the two steps that work
                with pytest.raises(DataError, match=f"label raster .*{path.name} marks "
                                                    "unlabelled pixels with a GDAL mask .* "
                                                    "in two steps.*--outfile=FILLED.tif.* "
                                                    "-srcnodata V FILLED.tif OUT.tif"):
                    label_raster_pixels(path, info, 1e-6, [])
                continue
            rows, cols, _ = label_raster_pixels(path, info, 1e-6, [])
            hit = (rows >= 50) & (rows < 70) & (cols >= 50) & (cols < 70)
            assert len(rows) > 150 and not hit.any(), (path.name, int(hit.sum()))
