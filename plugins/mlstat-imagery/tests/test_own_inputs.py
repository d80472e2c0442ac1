"""A user's own scene and reference data, laid out otherwise than the bundled example: the
loader reads what the pipeline names, or stops with one error naming the problem and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from mlstat_imagery.loaders import BUNDLED, LandsatNcLoader, SceneLoader
from mlstat_imagery.params import LANDSAT7_ROLES, LandsatNcParams, SceneParams
from pydantic import ValidationError

from mlstat_core.errors import DataError

BANDS = ["10", "20", "30", "40", "50"]
pytestmark = pytest.mark.filterwarnings(  # most field points lie off the small crop
    "ignore::mlstat_imagery.loaders.UnusableFieldPointsWarning")


def _copy(crop_dir: Path, target: Path) -> Path:
    shutil.copytree(crop_dir, target)
    return target


def test_a_scene_is_read_from_its_named_files_not_from_subfolders(crop_dir: Path,
                                                                  tmp_path: Path) -> None:
    """torchgeo searched the scene folder's subfolders too: an older, larger scene of the same
    file names kept in a subfolder was mosaicked in, and the grid became the other scene's."""
    folder = _copy(crop_dir, tmp_path / "scene")
    (folder / "old").mkdir()
    for band in BANDS:
        shutil.copy(BUNDLED / f"lsat7_2000_{band}.tif", folder / "old")
    data = LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    scene = data.metadata["scene"]
    assert (scene["width"], scene["height"]) == (96, 96)
    assert data.metadata["counts"]["field_points_outside_scene"] > 900


def test_band_files_in_a_subfolder_of_the_scene_folder(crop_dir: Path, crop_dataset: object,
                                                       tmp_path: Path) -> None:
    """`band_pattern = "bands/lsat7_2000_{band}.tif"` passed `mlstat validate` and then stopped
    the run: torchgeo could not index the scene (Dataset not found)."""
    folder = _copy(crop_dir, tmp_path / "scene")
    (folder / "bands").mkdir()
    for band in BANDS:
        (folder / f"lsat7_2000_{band}.tif").rename(folder / "bands" / f"lsat7_2000_{band}.tif")
    data = LandsatNcLoader(LandsatNcParams(directory=str(folder),
                                           band_pattern="bands/lsat7_2000_{band}.tif")
                           ).load(folder)
    expected = crop_dataset.frame  # type: ignore[attr-defined]
    assert np.array_equal(data.frame["band_40"], expected["band_40"])
    # {band} in a folder name passed validation and then failed inside torchgeo
    for pattern in ("{band}/scene.tif", "x{band}/s_{band}.tif", "a\\{band}\\s.tif"):
        with pytest.raises(ValidationError, match="in a folder name"):
            LandsatNcParams(directory=str(folder), band_pattern=pattern)


def _stack(crop_dir: Path, path: Path, bands: list[str], names: list[str]) -> None:
    """The crop's ``bands`` in one file, in that order, each named (described) by ``names``."""
    import rasterio

    arrays = []
    for band in bands:
        with rasterio.open(crop_dir / f"lsat7_2000_{band}.tif") as src:
            arrays.append(src.read(1))
            profile = src.profile.copy()
    profile.update(count=len(bands))
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.stack(arrays))
        dst.descriptions = tuple(names)


def test_a_multiband_file_is_read_by_its_band_names(crop_dir: Path, crop_dataset: object,
                                                    tmp_path: Path) -> None:
    """A stack whose bands are named in another order than `bands` lists them was read in file
    order: each band's values under another band's name (NDVI of the wrong sign), silently."""
    folder = _copy(crop_dir, tmp_path / "scene")
    _stack(crop_dir, folder / "scene.tif", BANDS[::-1], [f"B{b}" for b in BANDS[::-1]])
    named = [f"b{b}" for b in BANDS]  # the file's names, regardless of case
    roles = {role: f"b{band}" for role, band in LANDSAT7_ROLES.items() if band in BANDS}
    params = LandsatNcParams(directory=str(folder), band_pattern="scene.tif", bands=named,
                             band_roles=roles, indices=["ndvi", "ndbi"])
    data = LandsatNcLoader(params).load(folder)
    expected = crop_dataset.frame.set_index("record_id")  # type: ignore[attr-defined]
    got = data.frame.set_index("record_id")
    assert len(got) == len(expected)
    for band in BANDS:
        assert np.array_equal(got[f"band_b{band}"], expected.loc[got.index, f"band_{band}"])
    assert np.allclose(got["ndvi"], expected.loc[got.index, "ndvi"])
    assert data.metadata["scene"]["nodata"] == dict.fromkeys(named, -99999.0)

    # names some of the file's bands but not all: refused, not read in file order
    params = LandsatNcParams(directory=str(folder), band_pattern="scene.tif",
                             bands=[*named[:4], "B70"], band_roles=roles, indices=["ndvi"])
    with pytest.raises(DataError, match=r"scene\.tif names its bands B50, B40, B30, B20, B10, "
                                        r"and `bands` lists B70, which it does not name"):
        LandsatNcLoader(params).load(folder)
    # names that match none of the file's: file order, and no more bands than the file has
    params = LandsatNcParams(directory=str(folder), band_pattern="scene.tif",
                             bands=[*BANDS, "70"], indices=["ndvi"])
    with pytest.raises(DataError, match=r"scene\.tif has 5 band\(s\) and `bands` lists 6, read "
                                        r"in file order: list at most 5 in `bands`"):
        LandsatNcLoader(params).load(folder)


def test_a_class_coded_0_is_refused_when_labels_mark_unlabelled_with_0(crop_dir: Path) -> None:
    """Classes {0: rural, 1: urban} with a label raster (or polygons): every rural training
    pixel was dropped as unlabelled and the model learnt built-up alone, silently."""
    base = {"directory": str(crop_dir), "band_pattern": "lsat7_2000_{band}.tif",
            "bands": BANDS, "classes": {0: "rural", 1: "urban"}, "positive_class": "urban",
            "points": "landsat96_points.shp"}
    with pytest.raises(ValidationError, match=r"classes has code\(s\) 0 = 'rural', but in "
                                              r"`labels` 0 and below mark unlabelled pixels"):
        SceneParams(**base, labels="landsat96_labelled_pixels.tif")
    assert SceneParams(**base).classes[0] == "rural"  # points alone may use 0


def test_points_without_geometry_are_named(crop_dir: Path, tmp_path: Path) -> None:
    """A CSV of field points (lon/lat columns) stopped with AttributeError: 'DataFrame' object
    has no attribute 'crs'."""
    folder = _copy(crop_dir, tmp_path / "scene")
    (folder / "points.csv").write_text("id,lon,lat\n1,-78.64,35.78\n5,-78.70,35.80\n")
    params = SceneParams(directory=str(folder), band_pattern="lsat7_2000_{band}.tif",
                         bands=BANDS, classes={1: "developed", 5: "forest"},
                         indices=[], labels="landsat96_labelled_pixels.tif",
                         points="points.csv")
    with pytest.raises(DataError, match=r"points file .*points\.csv has no geometry \(columns: "
                                        r"id, lon, lat\): give points as a vector file with "
                                        r"its CRS"):
        SceneLoader(params).load(folder)


def test_zero_fill_without_declared_nodata_is_warned(crop_dir: Path, tmp_path: Path) -> None:
    """Bands that declare no nodata, with the fill around the image stored as 0 in every band
    (Sentinel-2 tiles, many exports): the fill was trained on and mapped as land, silently."""
    import rasterio
    from mlstat_imagery.loaders import ZeroFillWarning

    folder = _copy(crop_dir, tmp_path / "scene")
    for band in BANDS:
        path = folder / f"lsat7_2000_{band}.tif"
        with rasterio.open(path) as src:
            data, profile = src.read(1), src.profile.copy()
        data[:, :20] = 0  # the left edge is fill
        profile.update(nodata=None)
        path.unlink()
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data, 1)
    with pytest.warns(ZeroFillWarning, match=r"^\d+ labelled pixel\(s\) and \d+ field point\(s\) "
                                             r"lie on pixels that are 0 in every band, and no "
                                             r"band file declares a nodata value: .*"
                                             r"gdal_edit\.py -a_nodata 0"):
        data = LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    # the map: fill with no record on it was classified and counted in the areas silently
    from mlstat_imagery.mapping import write_scene_map
    from mlstat_imagery.scene import SceneInfo

    info = SceneInfo.from_dict(data.metadata["scene"])
    with pytest.warns(ZeroFillWarning, match=rf"^{20 * info.height:,} mapped pixel\(s\) .* are 0 "
                                             r"in every band, and no band file declares"):
        summary = write_scene_map(info, lambda r, c, h, w: np.full((2, h, w), 0.5), ["a", "b"],
                                  "a", tmp_path / "map.tif")
    assert summary["zero_fill_pixels"] == 20 * info.height


def test_areas_are_in_km2_whatever_the_unit_of_the_scene_crs(crop_dataset: object) -> None:
    """A scene in US survey feet (EPSG:2264, NC State Plane) gave its pixel area in ft² and
    the built-up area 10.8 times too large, labelled km²."""
    from mlstat_imagery.scene import SceneInfo
    from pyproj import CRS

    metres = SceneInfo.from_dict(crop_dataset.metadata["scene"])  # type: ignore[attr-defined]
    feet = SceneInfo.from_dict(metres.as_dict())
    foot = 1200 / 3937  # the US survey foot in metres
    a, b, c, d, e, f = metres.transform
    feet.transform = [a / foot, b, c / foot, d, e / foot, f / foot]
    feet.crs_wkt, feet.epsg = CRS.from_epsg(2264).to_wkt(), 2264
    assert metres.pixel_area == pytest.approx(28.5 * 28.5)
    assert feet.pixel_area == pytest.approx(metres.pixel_area)


def test_a_scene_in_degrees_is_refused(crop_dir: Path, tmp_path: Path) -> None:
    """A scene in EPSG:4326 (a common export) mapped areas of about 1e-9 km²: pixels of
    degrees were taken for square metres."""
    import rasterio
    from rasterio.transform import from_origin

    folder = _copy(crop_dir, tmp_path / "scene")
    for band in BANDS:
        path = folder / f"lsat7_2000_{band}.tif"
        with rasterio.open(path) as src:
            data, profile = src.read(1), src.profile.copy()
        profile.update(crs="EPSG:4326", transform=from_origin(-78.70, 35.80, 3e-4, 3e-4))
        path.unlink()
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data, 1)
    with pytest.raises(DataError, match=r"lsat7_2000_10\.tif is in a geographic CRS "
                                        r"\(EPSG:4326, degrees .*reproject the bands to a "
                                        r"projected CRS in metres"):
        LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)


def test_label_codes_that_are_not_whole_numbers_are_refused(crop_dir: Path,
                                                            tmp_path: Path) -> None:
    """A label raster resampled bilinearly holds blends of neighbouring codes (developed 1 and
    forest 5 -> 3.2): they were rounded to another class (herbaceous), silently."""
    import rasterio

    folder = _copy(crop_dir, tmp_path / "scene")
    path = folder / "landsat96_labelled_pixels.tif"
    with rasterio.open(path, "r+") as dst:
        codes = dst.read(1)
        rows, cols = np.nonzero(codes == 1)
        codes[rows[:12], cols[:12]] = 3.2
        dst.write(codes, 1)
    with pytest.raises(DataError, match=r"landsat96_labelled_pixels\.tif has 12 labelled "
                                        r"pixel\(s\) whose class code is not a whole number "
                                        r"\(3\.2\): .*gdalwarp -r near"):
        LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)


def test_cv_threshold_with_built_up_in_one_block_says_what_to_change(
        crop_dataset: object) -> None:
    """Every built-up training pixel in one cv block (one polygon on a small scene): the run
    stopped with "choosing a threshold needs records of both classes", which named neither
    the cause nor a setting."""
    from mlstat_imagery.models import ContextForestModel
    from mlstat_imagery.params import ContextForestParams
    from mlstat_imagery.splitters import block_ids

    frame = crop_dataset.frame  # type: ignore[attr-defined]
    labelled = (frame["source"] == "labelled_pixel").to_numpy()
    blocks = block_ids(frame["row"].to_numpy(), frame["col"].to_numpy(), 16)
    built_up = labelled & (frame["label"] == "built_up").to_numpy()
    keep = labelled & (~built_up | (blocks == blocks[built_up][0]))  # built-up in one block
    assert len(np.unique(blocks[keep & built_up])) == 1 and (keep & ~built_up).any()
    model = ContextForestModel(ContextForestParams(n_estimators=5, cv_block_size=16))
    with pytest.raises(DataError, match=r"the 'cv' threshold found no fold that holds out "
                                        r"pixels of both classes while training on both: the "
                                        r"built-up training pixels lie in 1 and the others in "
                                        r"\d+ of the 16-pixel blocks; set a smaller "
                                        r"`cv_block_size`"):
        model.fit(crop_dataset.subset(np.nonzero(keep)[0]))  # type: ignore[attr-defined]


def test_points_without_coordinates_and_single_part_multipoints(crop_dir: Path,
                                                                 crop_dataset: object,
                                                                 tmp_path: Path) -> None:
    """Points with an empty geometry stopped with TypeError ('<' not supported between
    float and str); points saved as single-part multipoints were refused."""
    import geopandas as gpd
    from shapely.geometry import MultiPoint

    folder = _copy(crop_dir, tmp_path / "scene")
    points = gpd.read_file(BUNDLED / "landsat96_points.shp")
    blank = points.copy()
    blank.loc[[3, 8], "geometry"] = None
    blank.to_file(folder / "blank.gpkg")
    with pytest.raises(DataError, match=r"^2 of the 1,000 points of blank\.gpkg have no "
                                        r"coordinates \(an empty geometry\): give each of "
                                        r"them its coordinates, or delete them"):
        LandsatNcLoader(LandsatNcParams(directory=str(folder), points="blank.gpkg")).load(folder)
    multi = points.copy()
    multi["geometry"] = [MultiPoint([p]) for p in points.geometry]
    multi.to_file(folder / "multi.gpkg")
    data = LandsatNcLoader(LandsatNcParams(directory=str(folder), points="multi.gpkg")
                           ).load(folder)
    got, expected = (d.frame[d.frame["source"] == "field_point"]  # type: ignore[attr-defined]
                     for d in (data, crop_dataset))
    assert len(got) == len(expected) > 0
    assert np.array_equal(got["row"], expected["row"]) and np.array_equal(got["col"],
                                                                          expected["col"])


def test_the_bundled_scene_note_is_not_said_of_a_users_own_files(crop_dir: Path,
                                                                  tmp_path: Path) -> None:
    """A copy of the example pointed at one's own files (`imagery.landsat_nc` with another
    `band_pattern` and `points`) told the report that the field points were labelled in 1996
    and the imagery is from 2000."""
    folder = _copy(crop_dir, tmp_path / "scene")
    for band in BANDS:
        (folder / f"lsat7_2000_{band}.tif").rename(folder / f"scene_B{band}.tif")
    for suffix in (".shp", ".shx", ".dbf", ".prj"):
        (folder / f"landsat96_points{suffix}").rename(folder / f"field{suffix}")
    own = LandsatNcLoader(LandsatNcParams(directory=str(folder), band_pattern="scene_B{band}.tif",
                                          points="field.shp")).load(folder)
    assert not any("1996" in note for note in own.metadata["notes"])
    bundled_copy = LandsatNcLoader(LandsatNcParams(directory=str(crop_dir))).load(crop_dir)
    assert any("1996" in note for note in bundled_copy.metadata["notes"])


def test_a_misspelt_band_role_is_refused_by_validation() -> None:
    """`band_roles = {NIR = "B8"}` passed `mlstat validate`; the run then said that NDVI needs
    the nir band, which the user had given (as 'NIR')."""
    roles = {"red": "B4", "NIR": "B8", "swir": "B11"}
    with pytest.raises(ValidationError, match=r"band_roles has unknown role\(s\) 'NIR' \(did you "
                                              r"mean 'nir'\?\), 'swir' \(did you mean 'swir1' "
                                              r"or 'swir2'\?\); the roles are blue, green, red, "
                                              r"nir, swir1, swir2"):
        SceneParams(band_pattern="S2_{band}.tif", bands=["B4", "B8", "B11"], band_roles=roles,
                    classes={1: "developed"})
    params = SceneParams(band_pattern="S2_{band}.tif", bands=["B4", "B8", "B11"],
                         band_roles={"red": "B4", "nir": "B8", "swir1": "B11"},
                         classes={1: "developed"})
    assert params.band_roles["nir"] == "B8"


def test_stored_values_with_a_scale_and_offset_are_read_as_reflectance(
        crop_dir: Path, crop_dataset: object, tmp_path: Path) -> None:
    """Landsat Collection 2 Level-2 and recent Sentinel-2 store reflectance with an offset:
    the indices of the values as stored are not the published ones, and the docs could only
    say to convert the scene first. `scale` and `offset` read the stored values back."""
    import rasterio

    folder = _copy(crop_dir, tmp_path / "scene")
    for band in BANDS:  # stored = (value + 50) / 0.5, as a product with an offset stores it
        path = folder / f"lsat7_2000_{band}.tif"
        with rasterio.open(path) as src:
            data, profile = src.read(1).astype("float32"), src.profile.copy()
            nodata = src.nodata
        stored = np.where(data == nodata, nodata, (data + 50) / 0.5).astype("float32")
        profile.update(dtype="float32")
        path.unlink()
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(stored, 1)
    expected = crop_dataset.frame  # type: ignore[attr-defined]
    as_stored = LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder).frame
    assert not np.allclose(as_stored["ndvi"], expected["ndvi"], equal_nan=True)
    assert _scaling_warnings(folder, scale=0.5, offset=-50) == []  # the files declare none
    read = LandsatNcLoader(LandsatNcParams(directory=str(folder), scale=0.5, offset=-50)
                           ).load(folder).frame
    for column in ("band_40", "ndvi", "ndbi"):
        assert np.allclose(read[column], expected[column], equal_nan=True, atol=1e-4), column


def test_a_scale_and_offset_declared_in_the_band_files_are_not_ignored(
        crop_dir: Path, tmp_path: Path) -> None:
    """Band files that declare a scale and offset (GDAL metadata, `gdal_edit.py -scale
    -offset`) were read as stored without a word, so NDVI was computed on stored numbers. The
    loader now says which settings read them as the files say (float32 rounding aside), is
    quiet once set so, and points out settings other than the files'; an offset alone is
    advised alone."""
    import rasterio

    folder = _copy(crop_dir, tmp_path / "scene")

    def declare(scale: float, offset: float) -> None:
        for band in BANDS:
            with rasterio.open(folder / f"lsat7_2000_{band}.tif", "r+") as dst:
                dst.scales, dst.offsets = (scale,), (offset,)

    declare(float(np.float32(0.0001)), -50.0)  # 9.9999997e-05, as netCDF carries it over
    (unset,) = _scaling_warnings(folder)
    assert unset.startswith("the band files declare a scale or offset for their stored values "
                            "(GDAL metadata; bands 10, 20, 30, 40, 50: scale 0.0001, offset "
                            "-50), and [loader] sets none")
    assert unset.endswith("set [loader] scale = 0.0001 and offset = -50 to read them as the "
                          "files say")
    assert _scaling_warnings(folder, scale=0.0001, offset=-50) == []
    (other,) = _scaling_warnings(folder, scale=0.25)
    assert other.startswith("the band files declare another scale or offset than [loader] "
                            "scale = 0.25, offset = 0 (bands 10, 20, 30, 40, 50: scale 0.0001,")
    declare(1.0, -0.2)
    (offset_only,) = _scaling_warnings(folder)
    assert offset_only.endswith("set [loader] offset = -0.2 to read them as the files say")
    declare(100 / 65534, 0.0)  # a netCDF packing scale: the advice, copied, is quiet
    (packed,) = _scaling_warnings(folder)
    assert packed.endswith("set [loader] scale = 0.001525925 to read them as the files say")
    assert _scaling_warnings(folder, scale=0.001525925) == []


def test_bands_stored_with_different_scales_get_no_single_advice(crop_dir: Path,
                                                                 tmp_path: Path) -> None:
    """Only band 50 declares a scale (a thermal band, say): one [loader] scale would put its
    scale on every band, and once set nothing warned. The warning says the bands differ and
    stays while they do."""
    import rasterio

    folder = _copy(crop_dir, tmp_path / "scene")
    with rasterio.open(folder / "lsat7_2000_50.tif", "r+") as dst:
        dst.scales, dst.offsets = (0.00341802,), (149.0,)
    for settings in ({}, {"scale": 0.00341802, "offset": 149.0}):
        (message,) = _scaling_warnings(folder, **settings)
        assert message.startswith(
            "the band files declare different scales or offsets for their stored values (GDAL "
            "metadata; bands 10, 20, 30, 40: scale 1, offset 0; band 50: scale 0.00341802, "
            "offset 149), which one [loader] scale and offset cannot read")


def _scaling_warnings(folder: Path, **settings: float) -> list[str]:
    """The StoredScalingWarning messages of loading the scene in ``folder``."""
    import warnings

    from mlstat_imagery.scene import StoredScalingWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LandsatNcLoader(LandsatNcParams(directory=str(folder), **settings)).load(folder)
    return [str(w.message) for w in caught if w.category is StoredScalingWarning]


def test_a_multiband_files_declared_scale_is_read_band_by_band(crop_dir: Path,
                                                               tmp_path: Path) -> None:
    """In a stack the scale and offset are declared per band, found by the band's name."""
    import warnings

    import rasterio
    from mlstat_imagery.scene import StoredScalingWarning

    folder = _copy(crop_dir, tmp_path / "scene")
    _stack(crop_dir, folder / "scene.tif", BANDS[::-1], [f"B{b}" for b in BANDS[::-1]])
    with rasterio.open(folder / "scene.tif", "r+") as dst:  # the file's last band is B10
        dst.scales, dst.offsets = (2, 2, 2, 2, 4), (0, 0, 0, 0, 0)
    named = [f"b{b}" for b in BANDS]
    roles = {role: f"b{band}" for role, band in LANDSAT7_ROLES.items() if band in BANDS}
    params = LandsatNcParams(directory=str(folder), band_pattern="scene.tif", bands=named,
                             band_roles=roles, indices=["ndvi"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LandsatNcLoader(params).load(folder)
    (message,) = [str(w.message) for w in caught if w.category is StoredScalingWarning]
    assert "(GDAL metadata; band b10: scale 4, offset 0; bands b20, b30, b40, b50: scale 2, " \
        "offset 0)" in message
