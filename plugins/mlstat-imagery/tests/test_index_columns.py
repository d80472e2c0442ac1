"""Records to score need the band columns only: a forest trained on a scene computes the
spectral indices the records lack from their bands, as the loader computed them for training
(`mlstat predict` on a CSV of band values stopped with "lacks column(s) 'ndvi', ...", naming
neither the formulas nor that the loader had computed them)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlstat_imagery.features import INDEX_ROLES
from mlstat_imagery.models import ContextForestModel, IndexMismatchWarning, PixelForestModel
from mlstat_imagery.params import ContextForestParams, ImageryForestParams

from mlstat_core.components import Dataset
from mlstat_core.errors import DataError

INDICES = ["ndvi", "ndbi", "mndwi"]  # the loader's default indices
PIPELINE = """
[pipeline]
name = "crop-indices"
task = "raster_segmentation"
seed = 0

[loader]
component = "imagery.landsat_nc"
directory = "{crop}"
bands = ["10", "20", "30", "40", "50"]
indices = ["ndvi", "ndbi", "mndwi", "bu"]

[split]
component = "imagery.spatial_blocks"
block_size = 16
validation_size = 0.2

[model]
component = "imagery.random_forest"
n_estimators = 10

[[indicators]]
component = "core.classification_accuracy"

[output]
dir = "runs"
"""


def test_predict_computes_the_index_columns_a_csv_of_bands_lacks(crop_dir: Path,
                                                                 tmp_path: Path) -> None:
    from mlstat_core.engine import run
    from mlstat_core.predict import load_model, predict_file

    pipeline = tmp_path / "crop.toml"
    pipeline.write_text(PIPELINE.format(crop=crop_dir), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the crop's field points lie mostly off the crop
        result = run(pipeline, out=tmp_path / "runs")
    _, model, *_ = load_model(result.run_dir)
    assert model.roles.features == [f"band_{b}" for b in ["10", "20", "30", "40", "50"]]
    explained = model.global_explanation()["features"]
    assert {"ndvi", "ndbi", "mndwi", "bu"} <= set(explained)  # the forest still reads them

    from mlstat_imagery.loaders import LandsatNcLoader
    from mlstat_imagery.params import LandsatNcParams

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = LandsatNcLoader(LandsatNcParams(
            directory=str(crop_dir), bands=["10", "20", "30", "40", "50"],
            indices=["ndvi", "ndbi", "mndwi", "bu"])).load(crop_dir).frame
    full, bands = tmp_path / "full.csv", tmp_path / "bands.csv"
    frame.to_csv(full, index=False)
    frame.drop(columns=["ndvi", "ndbi", "mndwi", "bu"]).to_csv(bands, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IndexMismatchWarning)
        predict_file(result.run_dir, full, tmp_path / "full_out.csv")
        summary = predict_file(result.run_dir, bands, tmp_path / "bands_out.csv")
    assert summary.records == len(frame)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "bands_out.csv"),
                                  pd.read_csv(tmp_path / "full_out.csv"))

    no_band = tmp_path / "no_band.csv"
    frame.drop(columns=["band_40", "ndvi"]).to_csv(no_band, index=False)
    with pytest.raises(DataError, match=r"lacks column\(s\) 'band_40' that the model") as err:
        predict_file(result.run_dir, no_band, tmp_path / "no_band_out.csv")
    assert "ndvi" not in str(err.value).split(";")[0]


@pytest.mark.parametrize("model", [
    PixelForestModel(ImageryForestParams(n_estimators=10, threshold="argmax")),
    ContextForestModel(ContextForestParams(n_estimators=10, context_windows=[3], mixtures=0,
                                           threshold="argmax"))], ids=["pixel", "context"])
def test_records_without_index_columns_score_as_with_them(crop_dataset: Any, crop_split: Any,
                                                          model: Any) -> None:
    """The indices computed from the records' band columns are the loader's, bit for bit
    (negative bands counted as 0, nodata left empty), so the forest scores alike."""
    model.fit(crop_dataset.subset(crop_split.train))
    records = crop_dataset.subset(crop_split.test).frame
    assert all(c in INDEX_ROLES and c not in model.roles.features for c in INDICES)
    expected = model.predict(records)
    got = model.predict(records.drop(columns=INDICES[:2]))  # one index left as given
    pd.testing.assert_frame_equal(got, expected)
    assert np.array_equal(model.to_matrix(records.drop(columns=INDICES)),
                          model.to_matrix(records), equal_nan=True)


def test_index_columns_other_than_the_bands_are_warned(crop_dataset: Any,
                                                      crop_split: Any) -> None:
    """NDVI scaled by 10,000 (as some products store it) beside the bands: the records'
    values are scored as given, with a warning naming the index, the count and the
    formula."""
    model = PixelForestModel(ImageryForestParams(n_estimators=5, threshold="argmax"))
    model.fit(crop_dataset.subset(crop_split.train))
    records = crop_dataset.subset(crop_split.test).frame.copy()
    records["ndvi"] = records["ndvi"] * 10_000
    with pytest.warns(IndexMismatchWarning, match=rf"other than the index of their band "
                                                  rf"columns: ndvi in \d+ of the {len(records)} "
                                                  r"\(e\.g\. .* from the bands: \(NIR - red\) "
                                                  r"/ \(NIR \+ red\)\)\. .* leave the index "
                                                  r"columns out"):
        model.predict(records)


def test_a_forest_trained_on_a_table_still_asks_for_its_index_columns(crop_dataset: Any,
                                                                     crop_split: Any) -> None:
    """Trained on a table (no scene metadata: how its index columns were made is not
    known), the forest needs them in the records, as the core's message says."""
    train = crop_dataset.subset(crop_split.train)
    table = Dataset(train.frame, train.roles, "table")  # no metadata
    model = PixelForestModel(ImageryForestParams(n_estimators=5, threshold="argmax"))
    model.fit(table)
    assert model.roles.features == train.roles.features
    with pytest.raises(DataError, match=r"lacks column\(s\) 'ndvi'"):
        model.predict(crop_dataset.subset(crop_split.test).frame.drop(columns=["ndvi"]))


def test_an_index_left_empty_is_computed_from_the_bands(crop_dataset: Any,
                                                        crop_split: Any) -> None:
    """An index column present but empty (the whole column, or some records) left those
    records without a class, with a message asking for valid band values although their
    bands were valid. The empty cells now get the index of the record's bands; an infinite
    index is refused with the advice to leave it empty, which now works."""
    model = PixelForestModel(ImageryForestParams(n_estimators=5, threshold="argmax"))
    model.fit(crop_dataset.subset(crop_split.train))
    records = crop_dataset.subset(crop_split.test).frame.copy()
    expected = model.predict(records)
    blank = records.copy()
    blank["ndvi"] = np.nan  # the whole column empty
    blank.loc[blank.index[:5], "ndbi"] = np.nan  # some records' ndbi empty
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no records without a class, no mismatch
        got = model.predict(blank)
    pd.testing.assert_frame_equal(got, expected)
    assert got["prediction"].notna().all()

    infinite = records.copy()
    infinite.loc[infinite.index[2], "ndvi"] = np.inf
    with pytest.raises(DataError, match=r"column 'ndvi' holds 1 infinite value\(s\) \(first at "
                                        r".*\); correct them, or leave them empty: the model "
                                        r"computes an empty ndvi from the record's band "
                                        r"columns \(\(NIR - red\) / \(NIR \+ red\)\)"):
        model.predict(infinite)
    infinite.loc[infinite.index[2], "ndvi"] = np.nan  # the advice followed
    pd.testing.assert_frame_equal(model.predict(infinite), expected)


def test_records_without_a_class_are_asked_for_the_values_they_lack(crop_dataset: Any,
                                                                   crop_split: Any) -> None:
    """A forest trained on a table cannot compute an index: a record whose index is empty
    gets no class, and the message asks for valid band and index values (it asked for
    valid band values only); a forest trained on a scene asks for band values."""
    train = crop_dataset.subset(crop_split.train)
    records = crop_dataset.subset(crop_split.test).frame.copy()
    records.loc[records.index[0], "ndvi"] = np.nan
    table = PixelForestModel(ImageryForestParams(n_estimators=5, threshold="argmax"))
    table.fit(Dataset(train.frame, train.roles, "table"))
    with pytest.warns(UserWarning, match=r"^1 of the .* give them valid band and index values"):
        assert table.predict(records)["prediction"].isna().sum() == 1
    scene = PixelForestModel(ImageryForestParams(n_estimators=5, threshold="argmax"))
    scene.fit(train)
    records.loc[records.index[0], "band_30"] = np.nan
    with pytest.warns(UserWarning, match=r"^1 of the .* give them valid band values, or"):
        assert scene.predict(records)["prediction"].isna().sum() == 1
