"""The bundled scene: counts of usable field points as documented in DATA.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlstat_imagery.loaders import BUNDLED, FIELD, LABELLED, LandsatNcLoader
from mlstat_imagery.params import LandsatNcParams


@pytest.fixture(scope="module")
def landsat() -> object:
    return LandsatNcLoader(LandsatNcParams()).load(Path("."))


def test_default_bands_leave_752_usable_points(landsat: object) -> None:
    counts = landsat.metadata["counts"]
    assert counts["field_points_total"] == 1000
    assert counts["field_points_outside_scene"] == 115
    assert counts["field_points_usable"] == 752
    frame = landsat.frame
    assert (frame["source"] == FIELD).sum() == 752
    assert set(frame["label"]) == {"built_up", "other"}
    assert not frame[landsat.roles.features].isna().any().any()
    assert landsat.metadata["scene"]["epsg"] == 32119
    assert (landsat.metadata["scene"]["width"], landsat.metadata["scene"]["height"]) == (489, 443)
    assert any("same grid" in note for note in landsat.metadata["notes"])
    assert any("1996" in note for note in landsat.metadata["notes"])


def test_band_70_leaves_562_usable_points() -> None:
    data = LandsatNcLoader(LandsatNcParams(bands=["10", "20", "30", "40", "50", "70"],
                                           indices=["ndvi"])).load(Path("."))
    counts = data.metadata["counts"]
    assert counts["field_points_outside_scene"] + counts["field_points_on_nodata"] == 438
    assert counts["field_points_usable"] == 562


def test_training_pixels_near_field_points_are_dropped(landsat: object) -> None:
    frame = landsat.frame
    points = frame[frame["source"] == FIELD]
    pixels = frame[frame["source"] == LABELLED]
    taken = {(r + dr, c + dc) for r, c in zip(points["row"], points["col"], strict=True)
             for dr in (-1, 0, 1) for dc in (-1, 0, 1)}
    assert not any((r, c) in taken for r, c in zip(pixels["row"], pixels["col"], strict=True))


def test_multiclass_and_polygons() -> None:
    shp = BUNDLED  # the installed package's copy, not the source tree's
    data = LandsatNcLoader(LandsatNcParams(
        directory=str(shp), labels="landsat96_polygons.shp", mode="multiclass",
        indices=["ndvi", "ndwi"])).load(Path("."))
    pixels = data.frame[data.frame["source"] == LABELLED]
    assert len(pixels) > 100
    assert "developed" in set(pixels["label"])
    assert data.metadata["positive_label"] == "developed"


def test_a_home_relative_scene_folder_loads_as_the_core_checks_it(
        crop_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `mlstat validate` expands ~ in `directory` (mlstat_core.inputs); the run must too
    home = tmp_path / "home"
    home.mkdir()
    (home / "scene").symlink_to(crop_dir, target_is_directory=True)
    monkeypatch.setenv("HOME", str(home))
    from mlstat_imagery import loaders

    monkeypatch.setattr(loaders, "_ANNOUNCED", set())  # this test's warning stays its own
    params = LandsatNcParams(directory="~/scene", points="~/scene/landsat96_points.shp")
    with pytest.warns(UserWarning, match="cannot be used"):  # most points are off the crop
        data = LandsatNcLoader(params).load(tmp_path / "pipelines")
    assert data.metadata["counts"]["field_points_total"] == 1000
    assert data.name == "landsat_nc"


def test_the_notes_name_the_scene_crs_as_map_summary_does(landsat: object) -> None:
    notes = " ".join(landsat.metadata["notes"])
    assert "unnamed" not in notes
    assert "landsat96_points.shp declares EPSG:3358 and the scene EPSG:32119" in notes


def test_many_unusable_field_points_are_a_warning(crop_dir: Path) -> None:
    with pytest.warns(UserWarning, match=r"^(?P<n>\d+) of the 1,000 field points of "
                                         r"landsat96_points\.shp \(\d+\.\d%\) cannot be used: "
                                         r"\d+ \(\d+\.\d%\) outside the scene.* wrong CRS of "
                                         r"the points"):
        data = LandsatNcLoader(LandsatNcParams(directory=str(crop_dir))).load(crop_dir)
    assert data.metadata["counts"]["field_points_outside_scene"] > 900


def test_the_warning_is_for_a_sizeable_share_only() -> None:
    import warnings

    from mlstat_imagery.loaders import _warn_unusable_points

    counts = {"field_points_total": 1000, "field_points_outside_scene": 60,
              "field_points_on_nodata": 40, "field_points_usable": 900}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_unusable_points(counts, "points.shp")  # 10%: no warning
    counts.update(field_points_outside_scene=0, field_points_on_nodata=101,
                  field_points_usable=899)
    with pytest.warns(UserWarning, match=r"101 of the 1,000 .* \(10\.1%\) cannot be used: 101 "
                                         r"\(10\.1%\) on pixels without data .* rest on the "
                                         r"other 899 only\. Points on nodata usually mean a "
                                         r"band with gaps"):
        _warn_unusable_points(counts, "points.shp")


def test_the_unusable_points_warning_shows_once_and_every_run_records_it(
        crop_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the same points on the same scene again in one process (the conformance suite
    loads the bundled scene three times) printed the warning each time; a run records its
    warnings with "always", so each run's report must still get it."""
    import warnings

    from mlstat_imagery import loaders

    monkeypatch.setattr(loaders, "_ANNOUNCED", set())

    def shown(action: str) -> int:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter(action)
            for _ in range(2):
                LandsatNcLoader(LandsatNcParams(directory=str(crop_dir))).load(crop_dir)
        return sum("field points of landsat96_points.shp" in str(w.message) for w in caught)

    assert shown("ignore") == 0
    assert shown("default") == 1  # printed once, as Python's default promises
    assert shown("default") == 0  # and not again in this process
    assert shown("always") == 2  # what the engine records: once per run


def test_the_conformance_data_set_loads_without_the_warning(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's own data set is no check: the loaders' checks report the warning."""
    import warnings

    from mlstat_imagery import loaders
    from mlstat_imagery.plugin import conformance_options

    monkeypatch.setattr(loaders, "_ANNOUNCED", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        options = conformance_options()
    assert options["datasets"]["raster_segmentation"].metadata["counts"][
        "field_points_usable"] == 752
    assert not [w for w in caught if "field points of" in str(w.message)]
