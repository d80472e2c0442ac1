"""Random forest and CNN on a crop of the real scene: fit, predict, save, load, map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from mlstat_imagery.cnn import CnnModel
from mlstat_imagery.models import PixelForestModel
from mlstat_imagery.params import CnnParams, ImageryForestParams


@pytest.fixture(scope="module")
def forest(crop_dataset: Any, crop_split: Any) -> PixelForestModel:
    model = PixelForestModel(ImageryForestParams(n_estimators=20), "raster_segmentation")
    model.seed = 0
    return model.fit(crop_dataset.subset(crop_split.train))


def test_forest_round_trip(forest: PixelForestModel, crop_dataset: Any, crop_split: Any,
                           tmp_path: Path) -> None:
    test = crop_dataset.subset(crop_split.test).frame
    before = forest.predict(test)
    assert {"prediction", "confidence"} <= set(before.columns)
    forest.save(tmp_path / "model")
    after = PixelForestModel.load(tmp_path / "model").predict(test)
    pd.testing.assert_frame_equal(before, after)


def test_map_geotiff_has_scene_grid(forest: PixelForestModel, crop_dataset: Any,
                                    tmp_path: Path) -> None:
    import rasterio

    files = forest.write_outputs(tmp_path / "outputs", pd.DataFrame(), crop_dataset)
    names = {f.name for f in files}
    assert {"map.tif", "map_preview.png", "map_summary.json"} <= names
    scene = crop_dataset.metadata["scene"]
    with rasterio.open(tmp_path / "outputs" / "map.tif") as src:
        assert src.crs.to_epsg() == 32119
        assert tuple(src.transform)[:6] == pytest.approx(tuple(scene["transform"]))
        assert (src.height, src.width, src.count) == (96, 96, 2)
        klass, proba = src.read(1), src.read(2)
    valid = klass != -1
    assert set(np.unique(klass[valid])) <= {1.0, 2.0}
    assert ((proba[valid] >= 0) & (proba[valid] <= 1)).all()
    # the map agrees with predict() at the pixels of the data set
    frame = crop_dataset.frame
    predicted = forest.predict(frame)["prediction"].to_numpy()
    mapped = klass[frame["row"], frame["col"]]
    assert np.mean(np.array(forest.classes_)[mapped.astype(int) - 1] == predicted) == 1.0


def test_the_map_files_depend_on_the_model_alone(forest: PixelForestModel, crop_dataset: Any,
                                                tmp_path: Path) -> None:
    """Two maps of one model are byte-identical (no timing in map_summary.json), so the
    outputs' hashes show a reproduced run."""
    first = forest.write_outputs(tmp_path / "a", pd.DataFrame(), crop_dataset)
    second = forest.write_outputs(tmp_path / "b", pd.DataFrame(), crop_dataset)
    assert [f.name for f in first] == [f.name for f in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_tiles_give_the_same_map(forest: PixelForestModel, crop_dataset: Any) -> None:
    from mlstat_imagery.scene import SceneInfo

    info = SceneInfo.from_dict(crop_dataset.metadata["scene"])
    jobs = forest.estimator.n_jobs
    with forest.for_mapping():  # map_jobs = -1: every core
        whole = forest.scene_probabilities(info, 0, 0, 96, 96)
        part = forest.scene_probabilities(info, 40, 24, 30, 50)
    np.testing.assert_allclose(whole[:, 40:70, 24:74], part)
    # mapping on every core gives the map of one core, and leaves the model as it was
    forest.params.map_jobs = 1
    try:
        with forest.for_mapping():
            np.testing.assert_allclose(forest.scene_probabilities(info, 0, 0, 96, 96), whole,
                                       atol=1e-6)
    finally:
        forest.params.map_jobs = -1
    assert forest.estimator.n_jobs == jobs


def test_cnn_one_epoch_cpu(crop_dataset: Any, crop_split: Any, tmp_path: Path) -> None:
    model = CnnModel(CnnParams(epochs=1, width=4, patch_size=32, device="cpu", tile_size=64,
                               overlap=8), "raster_segmentation")
    model.fit(crop_dataset.subset(crop_split.train), crop_dataset.subset(crop_split.validation))
    assert model.state["device"] == "cpu"
    test = crop_dataset.subset(crop_split.test).frame
    predicted = model.predict(test)
    assert len(predicted) == len(test)
    assert set(predicted["prediction"]) <= set(model.classes_)
    model.save(tmp_path / "cnn")
    assert (tmp_path / "cnn" / "weights.safetensors").is_file()
    again = CnnModel.load(tmp_path / "cnn").predict(test)
    np.testing.assert_allclose(predicted["confidence"], again["confidence"], atol=1e-6)
    # a model trained with device = "cuda" still maps on a machine without a GPU
    state_file = tmp_path / "cnn" / "state.json"
    state = json.loads(state_file.read_text())
    state["params"]["device"] = "cuda"
    state_file.write_text(json.dumps(state))
    import torch

    with mock.patch.object(torch.cuda, "is_available", return_value=False):
        loaded = CnnModel.load(tmp_path / "cnn")
        assert next(loaded.net.parameters()).device.type == "cpu"
        np.testing.assert_allclose(loaded.predict(test)["confidence"], again["confidence"],
                                   atol=1e-6)


def test_context_forest_threshold_tiles_and_round_trip(crop_dataset: Any, crop_split: Any,
                                                       tmp_path: Path) -> None:
    from mlstat_imagery.models import ContextForestModel
    from mlstat_imagery.params import ContextForestParams
    from mlstat_imagery.scene import SceneInfo

    model = ContextForestModel(ContextForestParams(n_estimators=20, context_windows=[3, 7],
                                                   cv_block_size=16))
    model.fit(crop_dataset.subset(crop_split.train), crop_dataset.subset(crop_split.validation))
    rule = model.threshold()
    assert rule is not None and 0 < rule["value"] < 1 and rule["positive"] == "built_up"
    assert len(model.extra_state["columns"]) == 3 * len(crop_dataset.roles.features)
    # a tile read with its margin gives the same features as the whole crop
    info = SceneInfo.from_dict(crop_dataset.metadata["scene"])
    whole = model.scene_probabilities(info, 0, 0, 96, 96)
    part = model.scene_probabilities(info, 40, 24, 30, 50)
    np.testing.assert_allclose(whole[:, 40:70, 24:74], part)
    # predictions follow the threshold, and the map agrees with them
    frame = crop_dataset.frame
    predicted = model.predict(frame)
    proba = predicted["proba_built_up"].to_numpy()
    assert ((proba >= rule["value"]) == (predicted["prediction"] == "built_up")).all()
    files = model.write_outputs(tmp_path / "out", pd.DataFrame(), crop_dataset)
    import rasterio

    with rasterio.open(files[0]) as src:
        klass = src.read(1)
    mapped = np.array(model.classes_)[klass[frame["row"], frame["col"]].astype(int) - 1]
    assert (mapped == predicted["prediction"].to_numpy()).all()
    model.save(tmp_path / "model")
    again = ContextForestModel.load(tmp_path / "model")
    pd.testing.assert_frame_equal(predicted, again.predict(frame))
    assert again.threshold() == rule


@pytest.mark.parametrize("weight", [None, [1.0, 2.0, 5.0]])
def test_the_gpu_loss_is_torch_cross_entropy_over_labelled_pixels(weight: Any) -> None:
    """The loss a GPU trains with (plain reductions, reproducible) gives the value and the
    gradients of torch's CrossEntropyLoss with ignore_index, which the CPU trains with."""
    import torch
    from mlstat_imagery.cnn import IGNORE, masked_cross_entropy

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 3, 16, 16, generator=g, requires_grad=True)
    target = torch.randint(-1, 3, (4, 16, 16), generator=g)
    assert (target == IGNORE).any()
    w = None if weight is None else torch.tensor(weight)
    expected = torch.nn.CrossEntropyLoss(weight=w, ignore_index=IGNORE)(logits, target)
    got = masked_cross_entropy(w)(logits, target)
    assert float(got) == pytest.approx(float(expected), rel=1e-6)
    (g1,) = torch.autograd.grad(expected, logits)
    (g2,) = torch.autograd.grad(got, logits)
    torch.testing.assert_close(g1, g2)
    assert float(g2[target.unsqueeze(1).expand_as(g2) == IGNORE].abs().max()) == 0.0


def test_cnn_training_does_not_depend_on_the_machines_threads(crop_dataset: Any,
                                                              crop_split: Any,
                                                              tmp_path: Path) -> None:
    """torch's CPU kernels sum in an order that depends on the number of threads: the CNN
    trains on a fixed number (param `threads`), so a machine with more cores gives the same
    model and figures, and the same model files (no timing in them), so that their hashes
    in the manifest show a reproduced model."""
    import torch

    def weights(threads: int) -> dict:
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)  # as the machine (or OMP_NUM_THREADS) sets it
        try:
            model = CnnModel(CnnParams(epochs=2, width=4, patch_size=32, device="cpu",
                                       tile_size=64, overlap=8), "raster_segmentation")
            model.fit(crop_dataset.subset(crop_split.train),
                      crop_dataset.subset(crop_split.validation))
            assert torch.get_num_threads() == threads  # restored
            model.save(tmp_path / str(threads))
            return model.net.state_dict()
        finally:
            torch.set_num_threads(previous)

    one, two = weights(1), weights(2)
    for name, tensor in one.items():
        assert torch.equal(tensor, two[name]), name
    files = sorted(p.name for p in (tmp_path / "1").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "2").iterdir())
    for name in files:
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name
