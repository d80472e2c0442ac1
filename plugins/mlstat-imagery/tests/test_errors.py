"""Bad input gives one clear mlstat error, not a traceback from deep inside a library."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
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


def _rewrite_vector(folder: Path, name: str, edit: object) -> None:
    """Rewrite the shapefile ``name`` in ``folder`` (from the bundled one) after ``edit``."""
    import geopandas as gpd
    from mlstat_imagery.loaders import BUNDLED

    frame = gpd.read_file(BUNDLED / name)
    edit(frame)  # type: ignore[operator]
    frame.to_file(folder / name)


def test_blank_class_codes_of_points_are_counted(crop_dir: Path, tmp_path: Path) -> None:
    folder = _copy(crop_dir, tmp_path / "scene")
    _rewrite_vector(folder, "landsat96_points.shp",
                    lambda f: f.__setitem__("id", f["id"].astype(float).mask(f.index < 20)))
    with pytest.raises(DataError, match=r"^20 of the 1,000 points of landsat96_points\.shp "
                                        r"have a blank class code \(attribute 'id', set by "
                                        r"`points_field` in \[loader\]\): give each of them "
                                        r"its class code, or delete them"):
        LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)


def test_a_missing_class_attribute_names_the_setting(crop_dir: Path, tmp_path: Path) -> None:
    folder = _copy(crop_dir, tmp_path / "scene")
    _rewrite_vector(folder, "landsat96_points.shp",
                    lambda f: f.rename(columns={"id": "cls"}, inplace=True))
    with pytest.raises(DataError, match=r"have no attribute 'id' \(`points_field` in "
                                        r"\[loader\]\); they have cls.*: set `points_field` "
                                        r"to the attribute that holds the class codes"):
        LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    data = LandsatNcLoader(LandsatNcParams(directory=str(folder), points_field="cls")
                           ).load(folder)
    assert data.metadata["counts"]["field_points_total"] == 1000


def test_point_class_codes_that_are_not_whole_numbers_are_refused(crop_dir: Path,
                                                                  tmp_path: Path) -> None:
    """A code of 1.5 was read as class 1 (developed), 2.7 as 2: points silently relabelled."""
    folder = _copy(crop_dir, tmp_path / "scene")

    def fractional(frame: object) -> None:
        codes = frame["id"].astype(float)  # type: ignore[index]
        codes[[3, 7]] = [1.5, 2.7]
        frame["id"] = codes  # type: ignore[index]

    _rewrite_vector(folder, "landsat96_points.shp", fractional)
    with pytest.raises(DataError, match=r"^landsat96_points\.shp has class code\(s\) 1\.5, 2\.7 "
                                        r"in 'id' \(the `points_field` attribute\) that are not "
                                        r"whole numbers: .*set `points_field`"):
        LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    # text codes: whole numbers are read, a fraction or a class name is refused
    _rewrite_vector(folder, "landsat96_points.shp",
                    lambda f: f.__setitem__("id", f["id"].astype(str).mask(f.index == 5, "2.5")))
    with pytest.raises(DataError, match=r"class code\(s\) '2\.5' in 'id' .* not whole numbers"):
        LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    _rewrite_vector(folder, "landsat96_points.shp",
                    lambda f: f.__setitem__("id", f["id"].astype(str)))
    data = LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    points = data.frame[data.frame["source"] == "field_point"]
    assert len(points) and points["class_code"].dtype.kind == "i"


def test_polygon_class_codes_name_labels_field(crop_dir: Path, tmp_path: Path) -> None:
    folder = _copy(crop_dir, tmp_path / "scene")
    polygons = "landsat96_polygons.shp"
    _rewrite_vector(folder, polygons, lambda f: None)
    params = {"directory": str(folder), "labels": polygons}
    with pytest.raises(DataError, match=r"no attribute 'klass' \(`labels_field` in "):
        LandsatNcLoader(LandsatNcParams(**params, labels_field="klass")).load(folder)
    with pytest.raises(DataError, match=r"'developed'.* not whole numbers: .*`labels_field`"):
        LandsatNcLoader(LandsatNcParams(**params, labels_field="label")).load(folder)


def test_bands_on_other_crs_and_resolution_are_resampled_and_said(crop_dir: Path,
                                                                  tmp_path: Path) -> None:
    import numpy as np
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    folder = _copy(crop_dir, tmp_path / "scene")
    coarse = folder / "lsat7_2000_50.tif"  # half the resolution
    with rasterio.open(coarse) as src:
        data = src.read(1)[::2, ::2]
        profile = src.profile.copy()
        profile.update(width=data.shape[1], height=data.shape[0],
                       transform=src.transform @ rasterio.Affine.scale(2))
    with rasterio.open(coarse, "w", **profile) as dst:
        dst.write(data, 1)
    utm = folder / "lsat7_2000_40.tif"  # another CRS (UTM 17N)
    with rasterio.open(utm) as src:
        t, w, h = calculate_default_transform(src.crs, "EPSG:32617", src.width, src.height,
                                              *src.bounds)
        profile = src.profile.copy()
        profile.update(crs="EPSG:32617", transform=t, width=w, height=h)
        out = np.full((h, w), src.nodata, dtype=src.dtypes[0])
        reproject(rasterio.band(src, 1), out, dst_transform=t, dst_crs="EPSG:32617",
                  resampling=Resampling.nearest, dst_nodata=src.nodata)
    with rasterio.open(utm, "w", **profile) as dst:
        dst.write(out, 1)
    data = LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    notes = " ".join(data.metadata["notes"])
    assert "band 40" in notes and "EPSG:32617" in notes and "resampled" in notes
    assert "band 50" in notes and "resolution 57" in notes
    assert data.metadata["scene"]["width"] == 96  # the grid of the first band
    assert data.metadata["counts"]["labelled_pixels_usable"] > 300


def test_nodata_pixels_are_never_classified(crop_dir: Path, tmp_path: Path) -> None:
    import json

    import numpy as np
    import pandas as pd
    import rasterio
    from mlstat_imagery.models import ContextForestModel
    from mlstat_imagery.params import ContextForestParams

    folder = _copy(crop_dir, tmp_path / "scene")
    band = folder / "lsat7_2000_30.tif"
    with rasterio.open(band, "r+") as dst:
        data = dst.read(1)
        data[10:30, 10:30] = dst.nodata
        dst.write(data, 1)
    dataset = LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    frame = dataset.frame
    assert not ((frame["row"].between(10, 29)) & (frame["col"].between(10, 29))).any()
    labelled = np.nonzero((frame["source"] == "labelled_pixel").to_numpy())[0]
    model = ContextForestModel(ContextForestParams(n_estimators=10, cv_block_size=16))
    model.fit(dataset.subset(labelled))
    files = model.write_outputs(tmp_path / "out", pd.DataFrame(), dataset)
    with rasterio.open(files[0]) as src:
        klass = src.read(1)
    assert (klass[10:30, 10:30] == -1).all()
    summary = json.loads((tmp_path / "out" / "map_summary.json").read_text())
    assert summary["nodata_pixels"] >= 400
    assert sum(summary["class_pixels"].values()) + summary["nodata_pixels"] == 96 * 96


def test_points_outside_the_raster_are_counted(crop_dataset: object) -> None:
    counts = crop_dataset.metadata["counts"]  # type: ignore[attr-defined]
    assert counts["field_points_total"] == 1000
    assert counts["field_points_outside_scene"] > 900  # the crop covers a small area
    assert counts["field_points_outside_scene"] + counts["field_points_on_nodata"] \
        + counts["field_points_usable"] == counts["field_points_total"]


def test_raster_smaller_than_the_patch(crop_dataset: object, crop_split: object) -> None:
    from mlstat_imagery.cnn import CnnModel
    from mlstat_imagery.params import CnnParams

    model = CnnModel(CnnParams(epochs=1, patch_size=128, device="cpu"))
    train = crop_dataset.subset(crop_split.train)  # type: ignore[attr-defined]
    with pytest.raises(DataError, match="smaller than patch_size"):
        model.fit(train)
    with pytest.raises(ValidationError, match="multiple of 4"):
        CnnParams(patch_size=30)


def _context_forest(dataset: object, split: object) -> object:
    from mlstat_imagery.models import ContextForestModel
    from mlstat_imagery.params import ContextForestParams

    model = ContextForestModel(ContextForestParams(n_estimators=5, threshold="argmax"))
    return model.fit(dataset.subset(split.train))


def test_records_outside_the_scene_are_one_clear_error(crop_dataset: object,
                                                       crop_split: object) -> None:
    from mlstat_imagery.scene import SceneInfo, pixel_positions

    model = _context_forest(crop_dataset, crop_split)
    frame = crop_dataset.frame.head(20).copy()
    frame.loc[frame.index[3:5], "row"] = 1036  # the crop has 96 x 96 pixels
    with pytest.raises(DataError, match=r"^2 of the 20 records scored together lie outside "
                                        r"the scene .*\(e\.g\. row 1036, col \d+; the scene "
                                        r"has 96 rows x 96 columns"):
        model.predict(frame)
    frame.loc[frame.index[3:5], "row"] = -1
    with pytest.raises(DataError, match="2 of the 20 records .* outside the scene"):
        model.predict(frame)
    # the CNN places records with the same check; a position that is no pixel is named too
    info = SceneInfo.from_dict(crop_dataset.metadata["scene"])
    frame["row"] = frame["row"].astype(float)
    frame.loc[frame.index[3:5], "row"] = [np.nan, 2.5]
    with pytest.raises(DataError, match=r"2 of the 20 .* no whole-number pixel position "
                                        r"\(e\.g\. row nan"):
        pixel_positions(frame, info)
    rows, cols = pixel_positions(crop_dataset.frame, info)
    assert rows.dtype == cols.dtype == np.int64


def test_a_saved_model_whose_scene_is_gone_names_the_folder(crop_dir: Path, crop_split: object,
                                                            tmp_path: Path) -> None:
    from mlstat_imagery.models import ContextForestModel

    scene = _copy(crop_dir, tmp_path / "cycle1")
    dataset = LandsatNcLoader(LandsatNcParams(directory=str(scene))).load(scene)
    _context_forest(dataset, crop_split).save(tmp_path / "model")
    shutil.rmtree(scene)  # the run copied to another machine, or the scene moved
    model = ContextForestModel.load(tmp_path / "model")
    with pytest.raises(DataError, match=rf"needs the scene it was trained on in {scene}, and "
                                        r"lsat7_2000_10\.tif.* are no longer there: it reads "
                                        r"each pixel's neighbourhood .* put the scene back"):
        model.predict(dataset.frame.head(5))


# --- band files that are not georeferenced rasters: one error naming the file ------------------


def _band_error(folder: Path) -> str:
    with pytest.raises(DataError) as caught:
        LandsatNcLoader(LandsatNcParams(directory=str(folder))).load(folder)
    return str(caught.value)


def test_a_band_file_that_is_text_is_named(crop_dir: Path, tmp_path: Path) -> None:
    folder = _copy(crop_dir, tmp_path / "scene")
    (folder / "lsat7_2000_20.tif").write_text("not an image\n")
    message = _band_error(folder)
    assert message.startswith(f"band file {folder / 'lsat7_2000_20.tif'} is not a raster "
                              "(it holds text)")
    assert "`band_pattern`" in message and "torchgeo" not in message
    (folder / "lsat7_2000_20.tif").write_bytes(b"")
    assert "lsat7_2000_20.tif is empty (0 bytes)" in _band_error(folder)


def test_a_truncated_band_file_is_named(crop_dir: Path, tmp_path: Path) -> None:
    import rasterio.shutil

    folder = _copy(crop_dir, tmp_path / "scene")
    band = folder / "lsat7_2000_40.tif"
    data = band.read_bytes()
    band.write_bytes(data[: len(data) // 2])  # a copy cut short: the header is lost here
    message = _band_error(folder)
    assert message.startswith(f"band file {band} is truncated or damaged")
    assert "copy or download it again" in message
    # a cloud-optimised GeoTIFF keeps its header first: the pixels are what is cut off
    rasterio.shutil.copy(crop_dir / "lsat7_2000_40.tif", band, driver="COG")
    data = band.read_bytes()
    band.write_bytes(data[: len(data) - 2000])
    message = _band_error(folder)
    assert message.startswith(f"band file {band} is truncated or damaged: its last block "
                              "cannot be read")


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_a_band_file_without_georeferencing_is_named(crop_dir: Path, tmp_path: Path) -> None:
    import rasterio

    folder = _copy(crop_dir, tmp_path / "scene")
    band = folder / "lsat7_2000_10.tif"
    with rasterio.open(band) as src:
        data = src.read(1)
    png = (data - data.min()).clip(0, 255).astype("uint8")
    with rasterio.open(band, "w", driver="PNG", width=png.shape[1], height=png.shape[0],
                       count=1, dtype="uint8") as dst:  # a PNG named .tif
        dst.write(png, 1)
    message = _band_error(folder)
    assert message.startswith(f"band file {band} has no georeferencing (a plain PNG image")
    assert "GeoTIFF" in message and "SRC_METHOD" not in message


def test_a_band_file_without_crs_is_named(crop_dir: Path, tmp_path: Path) -> None:
    import rasterio

    folder = _copy(crop_dir, tmp_path / "scene")
    band = folder / "lsat7_2000_50.tif"
    with rasterio.open(band) as src:
        data, profile = src.read(), src.profile.copy()
    profile.pop("crs")
    with rasterio.open(band, "w", **profile) as dst:
        dst.write(data)
    assert _band_error(folder).startswith(f"band file {band} has no CRS; give it one")


# --- vector_crs: checked when the file is validated -------------------------------------------


@pytest.mark.parametrize(("value", "hint"), [
    ("EPSG:99999", "(EPSG has no CRS 99999)"),
    ("EPSG 3358", '(did you mean "EPSG:3358"?)'),
    ("state plane", ""),
])
def test_an_unknown_vector_crs_is_a_config_error(value: str, hint: str) -> None:
    from mlstat_core.config import load_config
    from mlstat_core.errors import ConfigError

    example = Path(__file__).resolve().parents[3] / "examples" / "imagery-landsat-nc.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(example, overrides=[f"loader.vector_crs={value}"])
    (issue,) = caught.value.issues
    assert issue.field == "loader.vector_crs"
    assert issue.message.startswith(f"not a CRS that PROJ knows{' ' + hint if hint else ''};")
    assert '"EPSG:4326"' in issue.message
    assert LandsatNcParams(vector_crs="epsg:3358").vector_crs == "epsg:3358"  # PROJ's spelling
