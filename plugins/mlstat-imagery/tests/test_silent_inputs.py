"""Inputs that a run read silently in a way the user did not mean (a review by an INEGI
methodologist): fill that is not the declared nodata, bands read in file order, a GeoPackage's
first layer, bands sent below 0 by scale and offset, duplicate field points, bands on
different grids. Each is now warned about (or refused) with what to do."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import write_crop
from mlstat_imagery.loaders import BUNDLED, LandsatNcLoader
from mlstat_imagery.params import LandsatNcParams
from test_own_inputs import _stack

from mlstat_core.errors import DataError

BANDS = ["10", "20", "30", "40", "50"]
pytestmark = pytest.mark.filterwarnings(  # most field points lie off the small crop
    "ignore::mlstat_imagery.loaders.UnusableFieldPointsWarning")


def _rewrite(path: Path, change: Any, **profile_changes: Any) -> None:
    """Write ``path`` again with ``change(data)`` applied and its profile updated."""
    import rasterio

    with rasterio.open(path) as src:
        data, profile = src.read(1), src.profile.copy()
    change(data)
    profile.update(**profile_changes)
    path.unlink()
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def _map(data: Any, tmp_path: Path) -> dict[str, Any]:
    from mlstat_imagery.mapping import write_scene_map
    from mlstat_imagery.scene import SceneInfo

    info = SceneInfo.from_dict(data.metadata["scene"])
    return write_scene_map(info, lambda r, c, h, w: np.full((2, h, w), 0.5), ["a", "b"], "a",
                           tmp_path / "map.tif")


@pytest.mark.parametrize(("value", "nodata", "declared"), [
    (0, -99999.0, "the band files declare nodata -99999, not this value"),
    (-99999, None, "no band file declares a nodata value")])
def test_fill_that_is_not_the_declared_nodata_is_warned_and_counted(
        crop_dir: Path, tmp_path: Path, value: float, nodata: float | None,
        declared: str) -> None:
    """Bands declaring nodata -99999 with the fill rewritten as 0, or the -99999 fill kept
    and the nodata tag removed: the fill was classified and counted as land (885 usable
    points instead of 752, built-up area +22%) and `zero_fill_pixels` said 0, silently."""
    from mlstat_imagery.scene import ZeroFillWarning

    folder = shutil.copytree(crop_dir, tmp_path / "scene")
    for band in BANDS:
        _rewrite(folder / f"lsat7_2000_{band}.tif",
                 lambda d: d.__setitem__((slice(None), slice(0, 20)), value), nodata=nodata)
    with pytest.warns(ZeroFillWarning, match=rf"labelled pixel\(s\) and \d+ field point\(s\) "
                                             rf"lie on pixels that are {value} in every band, "
                                             rf"and {declared}: .*gdal_edit\.py -a_nodata "
                                             rf"{value} FILE"):
        data = LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    height = data.metadata["scene"]["height"]
    with pytest.warns(ZeroFillWarning, match=rf"^{20 * height:,} mapped pixel\(s\) .* are "
                                             rf"{value} in every band, and {declared}"):
        summary = _map(data, tmp_path)
    assert summary["zero_fill_pixels"] == 20 * height
    assert summary["fill_values"] == {str(value): 20 * height}


def test_a_scene_without_fill_gives_no_fill_warning(crop_dataset: Any, tmp_path: Path) -> None:
    import warnings

    from mlstat_imagery.scene import ZeroFillWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", ZeroFillWarning)
        summary = _map(crop_dataset, tmp_path)
    assert summary["zero_fill_pixels"] == 0 and summary["fill_values"] == {}


def test_bands_read_in_file_order_are_warned(crop_dir: Path, tmp_path: Path) -> None:
    """A stack whose band descriptions match none of `bands`, or with more bands than listed,
    was read in file order silently."""
    from mlstat_imagery.scene import BandOrderWarning

    folder = shutil.copytree(crop_dir, tmp_path / "scene")
    _stack(crop_dir, folder / "named.tif", BANDS[::-1], [f"B{b}" for b in BANDS[::-1]])
    _stack(crop_dir, folder / "six.tif", [*BANDS, "70"], [""] * 6)
    _stack(crop_dir, folder / "plain.tif", BANDS, [""] * 5)
    params = {"directory": str(folder), "bands": BANDS, "indices": ["ndvi"]}
    with pytest.warns(BandOrderWarning, match=r"named\.tif names its 5 bands B50, B40, B30, "
                                              r"B20, B10, and `bands` lists 10, 20, 30, 40, "
                                              r"50: the first 5 of the file's bands were taken "
                                              r"in file order .* list in `bands` the file's "
                                              r"band names"):
        LandsatNcLoader(LandsatNcParams(band_pattern="named.tif", **params)).load(folder)
    with pytest.warns(BandOrderWarning, match=r"six\.tif holds 6 bands \(unnamed\), .* taken "
                                              r"in file order .* or name its bands"):
        LandsatNcLoader(LandsatNcParams(band_pattern="six.tif", **params)).load(folder)
    import warnings

    with warnings.catch_warnings():  # as many unnamed bands as listed: file order, documented
        warnings.simplefilter("error", BandOrderWarning)
        LandsatNcLoader(LandsatNcParams(band_pattern="plain.tif", **params)).load(folder)


def test_a_geopackage_of_several_layers_needs_its_layer(crop_dir: Path, tmp_path: Path) -> None:
    """A GeoPackage with the field points in its second layer: the first layer was read as the
    points, silently, and the loader had no option to choose."""
    import geopandas as gpd

    folder = shutil.copytree(crop_dir, tmp_path / "scene")
    points = gpd.read_file(folder / "landsat96_points.shp")
    path = folder / "field.gpkg"
    points.iloc[:10].to_file(path, layer="pilot", driver="GPKG")
    points.to_file(path, layer="survey", driver="GPKG")
    base = {"directory": str(folder), "points": "field.gpkg"}
    with pytest.raises(DataError, match=r"points file .*field\.gpkg has 2 layers \(pilot, "
                                        r"survey\): set `points_layer` in \[loader\]"):
        LandsatNcLoader(LandsatNcParams(**base)).load(folder)
    with pytest.raises(DataError, match=r"has no layer 'fieldwork' \(`points_layer` in "
                                        r"\[loader\]\); its layers are pilot, survey"):
        LandsatNcLoader(LandsatNcParams(**base, points_layer="fieldwork")).load(folder)
    data = LandsatNcLoader(LandsatNcParams(**base, points_layer="survey")).load(folder)
    assert data.metadata["counts"]["field_points_total"] == len(points)


def test_no_field_point_of_built_up_gives_no_figure_for_it(tmp_path: Path) -> None:
    """A field sample without a built-up point: the report gave a built-up area of 0 [0, 0],
    and the producer's accuracy failed with a message meant for plugin developers."""
    from mlstat_imagery.indicators import FieldValidation
    from test_indicators import field_context

    from mlstat_core.quality.runner import run_indicator

    ctx = field_context(tmp_path, ["other"] * 6, ["built_up"] + ["other"] * 5)
    results = {r.name: r for r in run_indicator(FieldValidation(), "imagery.field_validation",
                                                "accuracy", ctx)}
    for name in ("built_up_area_km2", "built_up_producers_accuracy"):
        assert results[name].status == "skipped", name
        assert results[name].value is None
        assert "None of the 6 usable field points is built_up" in results[name].explanation
    assert results["built_up_users_accuracy"].status == "ok"
    assert any("none of the 6 usable field points is built_up" in w
               for w in results["field_overall_accuracy"].details["warnings"])


def test_duplicate_field_points_are_warned_with_their_count(crop_dir: Path,
                                                            tmp_path: Path) -> None:
    """Field points copied twice (identical geometry and code) counted twice, silently."""
    import geopandas as gpd
    import pandas as pd
    from mlstat_imagery.loaders import DuplicatePointsWarning

    folder = shutil.copytree(crop_dir, tmp_path / "scene")
    points = gpd.read_file(folder / "landsat96_points.shp")
    doubled = gpd.GeoDataFrame(pd.concat([points, points.iloc[[3, 7, 7]]], ignore_index=True),
                               crs=points.crs)
    doubled.to_file(folder / "landsat96_points.shp")
    n = len(points)
    with pytest.warns(DuplicatePointsWarning, match=rf"^3 of the {n + 3:,} field points of "
                                                    rf"landsat96_points\.shp repeat the "
                                                    rf"coordinates and class code of an "
                                                    rf"earlier point \(e\.g\. pt_{n} repeats "
                                                    rf"pt_3\): each is kept"):
        data = LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    assert data.metadata["counts"]["field_points_duplicated"] == 3


def test_a_band_sent_below_0_by_scale_and_offset_is_warned(crop_dir: Path) -> None:
    """scale = 0.0000275 and offset = -0.2 (Collection 2 Level-2) on digital numbers up to 255:
    every band read below 0, every index was clipped to 0, and the run gave normal-looking
    figures."""
    from mlstat_imagery.loaders import BandRangeWarning

    params = LandsatNcParams(directory=str(crop_dir), scale=0.0000275, offset=-0.2)
    with pytest.warns(BandRangeWarning, match=r"^band 10 reads -0\.19\d* to -0\.19\d*; band 20 "
                                              r"reads .* at all [\d,]+ labelled pixels and "
                                              r"field points with data \(after scale 2\.75e-05 "
                                              r"and offset -0\.2\)"):
        LandsatNcLoader(params).load(crop_dir)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", BandRangeWarning)
        LandsatNcLoader(LandsatNcParams(directory=str(crop_dir), scale=0.0001)).load(crop_dir)


@pytest.mark.parametrize("case", ["cropped first band", "coarser first band"])
def test_bands_on_different_grids_are_warned(crop_dir: Path, tmp_path: Path, case: str) -> None:
    """The scene took the first band file's extent and pixel size: a cropped first band shrank
    the scene silently, a coarser one mapped the whole scene at its pixel size with a note."""
    import rasterio
    from mlstat_imagery.scene import GridWarning, open_scene
    from rasterio.windows import Window

    folder = shutil.copytree(crop_dir, tmp_path / "scene")
    path = folder / "lsat7_2000_10.tif"
    with rasterio.open(path) as src:
        if case == "cropped first band":
            window = Window(0, 0, 50, src.height)
            data, profile = src.read(1, window=window), src.profile.copy()
            profile.update(width=50, transform=src.window_transform(window))
        else:
            data, profile = src.read(1)[::2, ::2], src.profile.copy()
            profile.update(width=data.shape[1], height=data.shape[0],
                           transform=src.transform * src.transform.scale(2, 2))
    path.unlink()
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    shown = "covers x" if case == "cropped first band" else "has pixels of 28.5 x 28.5"
    with pytest.warns(GridWarning, match=rf"^the band files are not on one grid: band 20 "
                                         rf"\(lsat7_2000_20\.tif\) {shown}.*, while band 10 "
                                         r"\(lsat7_2000_10\.tif\), whose extent and pixel size "
                                         r"the scene takes"):
        open_scene(folder, "lsat7_2000_{band}.tif", BANDS)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", GridWarning)
        open_scene(crop_dir, "lsat7_2000_{band}.tif", BANDS)


def test_records_from_another_scene_scored_by_the_context_forest_are_warned(
        crop_dataset: Any, crop_split: Any) -> None:
    """`mlstat predict` with the context forest on records whose band values differ from the
    stored scene's at their row/col mixed two scenes silently: the records' own bands with the
    stored scene's neighbourhood means."""
    import warnings

    from mlstat_imagery.models import ContextForestModel, OtherSceneWarning
    from mlstat_imagery.params import ContextForestParams

    model = ContextForestModel(ContextForestParams(n_estimators=10, mixtures=0,
                                                   cv_block_size=16, threshold="argmax"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", OtherSceneWarning)  # training records: same scene
        model.fit(crop_dataset.subset(crop_split.train))
        frame = crop_dataset.frame.iloc[:40].copy()
        model.predict(frame)
    frame.loc[frame.index[:10], "band_40"] *= 1.5  # another date's near infrared
    with pytest.warns(OtherSceneWarning, match=r"^10 of the 40 records with data \(25\.0%\) "
                                               r"have band values other than the stored "
                                               r"scene's at their row/col"):
        model.predict(frame)


def test_the_map_preview_has_a_legend_of_band_1_values(crop_dataset: Any,
                                                       tmp_path: Path) -> None:
    """map.tif's band 1 holds 1..k in the model's class order, not the configured codes, and
    only GDAL tags said which: the preview now shows the values and names in a legend."""
    from mlstat_imagery.mapping import LEGEND_ROW, POSITIVE_COLOUR, write_preview
    from PIL import Image

    _map(crop_dataset, tmp_path)
    preview = write_preview(tmp_path / "map.tif", tmp_path / "map.png", ["a", "b"], "a")
    image = np.asarray(Image.open(preview).convert("RGB"))
    height = crop_dataset.metadata["scene"]["height"]
    assert image.shape[0] == height + 3 * LEGEND_ROW + 4  # a, b and nodata
    swatch = image[height + 2 + 8, 8]  # the first line's colour: class 1 = a, built-up
    assert tuple(swatch) == POSITIVE_COLOUR


def test_grey_pixels_of_an_rgb_image_are_no_fill_but_a_typical_fill_value_is() -> None:
    """R = G = B on grey roofs and roads: with fewer than four bands only a typical fill
    value held by every band is taken for fill; 255 (white) not pixel by pixel: it depends on
    the pixel's row (the next test). From four bands any value held by every band is."""
    from types import SimpleNamespace

    from mlstat_imagery import fill

    info = SimpleNamespace(scale=1.0, offset=0.0)
    rgb = np.array([[[128.0, 0.0, 30.0, 255.0]], [[128.0, 0.0, 31.0, 255.0]],
                    [[128.0, 0.0, 32.0, 255.0]]])
    found = fill.constant_values(rgb, info)
    assert np.isnan(found[0, 0]) and found[0, 1] == 0.0 and np.isnan(found[0, 2])
    assert np.isnan(found[0, 3])
    five = np.repeat(rgb[:1], 5, axis=0)
    assert (fill.constant_values(five, info) == five[0]).all()


RGB_SIDE = 40
COLLAR = 4  # columns of white fill on the left of the RGB scene
ROOF = (slice(18, 24), slice(18, 24))  # white roofs inside the image


def _rgb_scene(folder: Path) -> None:
    """A 40 x 40 8-bit RGB scene (UTM 14N, 30 m) whose image has a white collar (255 in every
    band, no nodata tag) on its left and white roofs inside; labels: built-up on the roofs,
    other on the collar and elsewhere."""
    import rasterio
    from rasterio.transform import from_origin

    folder.mkdir()
    rng = np.random.default_rng(3)
    image = rng.integers(40, 200, size=(3, RGB_SIDE, RGB_SIDE)).astype(np.uint8)
    image[:, :, :COLLAR] = 255
    image[:, ROOF[0], ROOF[1]] = 255
    labels = np.zeros((RGB_SIDE, RGB_SIDE), dtype=np.uint8)
    labels[ROOF] = 1
    labels[2:6, :COLLAR] = 2  # 16 labelled pixels on the collar
    labels[30:34, 10:30] = 2
    profile = {"driver": "GTiff", "width": RGB_SIDE, "height": RGB_SIDE, "count": 1,
               "dtype": "uint8", "crs": "EPSG:32614",
               "transform": from_origin(500_000, 2_100_000, 30, 30)}
    for i, band in enumerate(["red", "green", "blue"]):
        with rasterio.open(folder / f"rgb_{band}.tif", "w", **profile) as dst:
            dst.write(image[i], 1)
    with rasterio.open(folder / "labels.tif", "w", **{**profile, "nodata": 0}) as dst:
        dst.write(labels, 1)


def test_white_in_an_rgb_scene_is_fill_only_in_a_run_from_the_scene_edge(tmp_path: Path
                                                                        ) -> None:
    """255 was a typical fill value whatever its place: every white roof or cloud of an 8-bit
    RGB scene was counted in zero_fill_pixels and its training pixels warned of as fill, with
    the advice to declare 255 nodata, which would leave them unmapped. Now the white collar
    that reaches the scene's edge is counted and warned of, the roofs are data."""
    import warnings

    from mlstat_imagery.loaders import SceneLoader
    from mlstat_imagery.params import SceneParams
    from mlstat_imagery.scene import ZeroFillWarning

    folder = tmp_path / "rgb"
    _rgb_scene(folder)
    params = SceneParams(directory=str(folder), band_pattern="rgb_{band}.tif",
                         bands=["red", "green", "blue"], indices=[], labels="labels.tif",
                         classes={1: "developed", 2: "other"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = SceneLoader(params).load(folder)
    fills = [str(w.message) for w in caught if issubclass(w.category, ZeroFillWarning)]
    assert len(fills) == 1 and fills[0].startswith(
        "16 labelled pixel(s) and 0 field point(s) lie on pixels that are 255 in every band")
    with pytest.warns(ZeroFillWarning, match=rf"^{COLLAR * RGB_SIDE:,} mapped pixel\(s\) "):
        summary = _map(data, tmp_path)
    assert summary["fill_values"] == {"255": COLLAR * RGB_SIDE}  # the 36 roof pixels: data


def test_a_white_run_counts_as_fill_from_either_edge_through_nodata() -> None:
    """Tile by tile (as the map reads the scene): a run of 255 reaching the right edge, or the
    left edge across nodata pixels, is fill; one that stops short of both edges is not."""
    from types import SimpleNamespace

    from mlstat_imagery import fill

    w, n = 255.0, np.nan
    row = np.array([[w, n, w, 9, w, w, 9, w, w, w],   # 2 from the left, 3 from the right
                    [9, w, w, w, w, w, w, w, w, 9],   # neither edge: none
                    [w, w, w, w, w, w, w, w, w, w]])  # the whole row: 10
    bands = np.repeat(row[None], 3, axis=0).astype(np.float32)
    valid = ~np.isnan(bands).any(axis=0)
    info = SimpleNamespace(scale=1.0, offset=0.0, width=10, height=3)
    for size in (1, 3, 4, 10):
        runs = fill.EdgeRuns(info)
        for col0 in range(0, 10, size):
            runs.add(bands[:, :, col0:col0 + size], valid[:, col0:col0 + size], col0)
        assert runs.counts == {w: 15}, size


def _rgb_params(folder: Path) -> Any:
    from mlstat_imagery.params import SceneParams

    return SceneParams(directory=str(folder), band_pattern="rgb_{band}.tif",
                       bands=["red", "green", "blue"], indices=[], labels="labels.tif",
                       classes={1: "developed", 2: "other"})


def test_a_white_collar_is_advised_a_mask_from_the_edges_not_nodata_255(tmp_path: Path
                                                                       ) -> None:
    """The white collar of an RGB scene was warned of with `gdal_edit.py -a_nodata 255`,
    which turns every white roof into nodata as well (the roofs' 36 labelled pixels then lie
    on nodata, none trained on). The advice is now a mask grown from the scene's edges
    (GDAL's nearblack -white -setmask), and a band file masked so (a mask of the file, no
    nodata value, as nearblack writes it) reads its collar as nodata and its roofs as data."""
    import warnings

    import rasterio
    from mlstat_imagery.loaders import SceneLoader
    from mlstat_imagery.scene import SceneInfo, ZeroFillWarning, read_window

    folder = tmp_path / "rgb"
    _rgb_scene(folder)
    advice = (r"do not declare 255 nodata, which would also make every white roof and cloud "
              r"inside the image nodata: mask the collar from the scene's edges inward "
              r"\(GDAL: nearblack -white -setmask -o OUT\.tif FILE, ")
    with pytest.warns(ZeroFillWarning, match=advice) as caught:
        data = SceneLoader(_rgb_params(folder)).load(folder)
    with pytest.warns(ZeroFillWarning, match=advice) as mapped:
        _map(data, tmp_path)
    assert not any("a_nodata" in str(w.message) for w in [*caught, *mapped])

    # the advice followed: the collar (the runs of 255 from the left edge) masked per dataset
    collar = np.zeros((RGB_SIDE, RGB_SIDE), dtype=bool)
    collar[:, :COLLAR] = True
    for band in ["red", "green", "blue"]:
        with rasterio.open(folder / f"rgb_{band}.tif", "r+") as dst:
            dst.write_mask(np.where(collar, 0, 255).astype(np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ZeroFillWarning)
        masked = SceneLoader(_rgb_params(folder)).load(folder)
        summary = _map(masked, tmp_path / "masked")
    assert masked.metadata["scene"]["masked"] == ["red", "green", "blue"]
    frame = masked.frame
    on_roofs = (frame["row"].between(18, 23) & frame["col"].between(18, 23)).sum()
    assert on_roofs == 36 and (frame["col"] >= COLLAR).all()
    assert summary["fill_values"] == {}
    info = SceneInfo.from_dict(masked.metadata["scene"])
    bands = read_window(info, 0, 0, RGB_SIDE, RGB_SIDE)
    assert (np.isnan(bands).all(axis=0) == collar).all()  # the roofs read 255


@pytest.mark.parametrize("tile", [16, 64])
def test_the_map_and_the_loader_take_the_same_white_pixels_for_fill(tmp_path: Path,
                                                                    tile: int) -> None:
    """The map followed a run of 255 through mapped pixels only: one white collar pixel left
    unmapped (the model gave it no probability) broke the run, and the collar pixels beyond
    it were not counted, while the loader took them for fill. Both now follow one rule (the
    run through pixels holding 255 in every band, or nodata); the map counts the mapped ones."""
    import warnings

    from mlstat_imagery import fill
    from mlstat_imagery.loaders import SceneLoader
    from mlstat_imagery.mapping import write_scene_map
    from mlstat_imagery.scene import SceneInfo

    folder = tmp_path / "rgb"
    _rgb_scene(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = SceneLoader(_rgb_params(folder)).load(folder)
    info = SceneInfo.from_dict(data.metadata["scene"])

    def probabilities(row0: int, col0: int, h: int, w: int) -> np.ndarray:
        out = np.full((2, h, w), 0.5)
        if col0 <= 1 < col0 + w:
            out[:, :, 1 - col0] = np.nan  # column 1, inside the collar: unmapped
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = write_scene_map(info, probabilities, ["a", "b"], "a", tmp_path / "map.tif",
                                  tile_size=tile)
    rows, cols = np.indices((RGB_SIDE, RGB_SIDE)).reshape(2, -1)
    taken = fill.on_edge_runs(info, rows, cols, 255.0)
    assert taken.sum() == COLLAR * RGB_SIDE  # the collar, not the roofs
    mapped = cols != 1
    assert summary["fill_values"] == {"255": int((taken & mapped).sum())}
    assert summary["fill_values"] == {"255": (COLLAR - 1) * RGB_SIDE}


def _open_band_files() -> list[str]:
    """The .tif files this process holds open (Linux)."""
    names = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.endswith(".tif"):
                names.append(Path(target).name)
    return names


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd (Linux)")
def test_a_band_file_replaced_between_two_runs_of_one_process_is_read_anew(tmp_path):
    """The indexed scene was cached by folder and band names only: a notebook's second run
    on a corrected scene (the file replaced in place) read the old pixels and recorded the
    new file's hash; and the band files stayed open after the run (locked on Windows)."""
    import rasterio
    from mlstat_imagery.scene import open_scene, read_window, release_scene_files

    bands = ["10", "20"]
    for band in bands:
        write_crop(BUNDLED / f"lsat7_2000_{band}.tif", tmp_path / f"lsat7_2000_{band}.tif")
    first = tmp_path / "lsat7_2000_10.tif"
    info = open_scene(tmp_path, "lsat7_2000_{band}.tif", bands)
    before = read_window(info, 10, 10, 20, 20)[0]
    release_scene_files()
    assert _open_band_files() == []
    with rasterio.open(first) as src:
        profile, data = src.profile, src.read()
    with rasterio.open(tmp_path / "new.tif", "w", **profile) as dst:
        dst.write(data // 2)
    os.replace(tmp_path / "new.tif", first)  # a corrected scene put in place
    info = open_scene(tmp_path, "lsat7_2000_{band}.tif", bands)
    after = read_window(info, 10, 10, 20, 20)[0]
    release_scene_files()
    np.testing.assert_array_equal(after, before // 2)
    assert _open_band_files() == []


def test_the_bundled_scene_is_saved_by_name_and_found_where_the_plugin_is_installed(
        tmp_path, monkeypatch):
    """A model trained on the bundled scene stored the absolute path of the plugin's folder
    on the training machine: scored where the plugin is installed elsewhere (a server, or
    Linux after a Windows desktop) it asked for a folder that cannot exist there."""
    from mlstat_imagery import scene
    from mlstat_imagery.scene import SceneInfo, open_scene, read_window, require_scene_files

    trained = open_scene(BUNDLED, "lsat7_2000_{band}.tif", ["10", "20"])
    saved = trained.as_dict()
    assert saved["directory"] == "bundled:landsat_nc"
    assert saved["files"]["20"] == "bundled:landsat_nc/lsat7_2000_20.tif"
    elsewhere = tmp_path / "site-packages" / "landsat_nc"  # the plugin installed elsewhere
    shutil.copytree(BUNDLED, elsewhere)
    monkeypatch.setattr(scene, "BUNDLED_SCENE", elsewhere)
    loaded = SceneInfo.from_dict(saved)
    assert loaded.files["20"] == str(elsewhere / "lsat7_2000_20.tif")
    require_scene_files(loaded)
    np.testing.assert_array_equal(read_window(loaded, 5, 5, 8, 8),
                                  read_window(trained, 5, 5, 8, 8))
    scene.release_scene_files()
    # saved before the mark, by another install: its absolute path, here on Windows
    gone = "C:\\Users\\ana\\venv\\Lib\\site-packages\\mlstat_imagery\\data\\landsat_nc"
    before = {**saved, "directory": gone,
              "files": {b: f"{gone}\\{Path(f).name}" for b, f in saved["files"].items()}}
    assert SceneInfo.from_dict(before).files == loaded.files
    own = open_scene(elsewhere, "lsat7_2000_{band}.tif", ["10"])  # a user's scene: its path
    monkeypatch.setattr(scene, "BUNDLED_SCENE", BUNDLED)
    assert own.as_dict()["directory"] == str(elsewhere)
    scene.release_scene_files()
