"""`mlstat validate` names a missing scene folder, band file, label or point file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mlstat_imagery.loaders import BUNDLED

from mlstat_core.config import load_config
from mlstat_core.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "imagery-landsat-nc.toml"


def issues(*overrides: str) -> dict[str, tuple[str, str | None]]:
    with pytest.raises(ConfigError) as info:
        load_config(EXAMPLE, list(overrides), cli=True)
    return {i.field: (i.message, i.suggestion) for i in info.value.issues}


def test_a_wrong_scene_folder_fails_validation_naming_the_field():
    found = issues("loader.directory=scenes/nc")
    assert list(found) == ["loader.directory"]  # its files are not named again
    assert str(EXAMPLE.parent / "scenes" / "nc") in found["loader.directory"][0]


def test_band_files_labels_and_points_within_the_scene_folder(tmp_path):
    scene = tmp_path / "scene"
    shutil.copytree(BUNDLED, scene)
    load_config(EXAMPLE, [f"loader.directory={scene.as_posix()}"])
    (scene / "lsat7_2000_30.tif").unlink()
    (scene / "landsat96_points.shp").rename(scene / "landsat96_point.shp")
    found = issues(f"loader.directory={scene.as_posix()}",
                   "loader.labels=labelled.tif")
    assert str(scene / "lsat7_2000_30.tif") in found["loader.band_pattern"][0]
    assert "band '30'" in found["loader.band_pattern"][0]
    assert found["loader.points"][1] == "landsat96_point.shp"
    assert str(scene / "labelled.tif") in found["loader.labels"][0]
