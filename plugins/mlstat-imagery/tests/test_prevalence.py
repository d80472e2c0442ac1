"""The 'cv' threshold chosen for the scene's built-up share: the adjusted count recovers a
known share, the weights move kappa's best threshold, and the context forest uses both."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pytest
from mlstat_imagery.models import ContextForestModel, PixelForestModel
from mlstat_imagery.params import ContextForestParams, ImageryForestParams
from mlstat_imagery.prevalence import adjusted_count, prevalence_weights
from mlstat_imagery.validation import best_threshold
from test_mixing import fit, small_params

from mlstat_core.errors import DataError


def scores(rng: np.random.Generator, positive: np.ndarray) -> np.ndarray:
    """Overlapping class-conditional scores, the same in training and scene."""
    return np.where(positive, rng.beta(4, 2, len(positive)), rng.beta(2, 4, len(positive)))


def test_adjusted_count_recovers_a_known_share() -> None:
    rng = np.random.default_rng(0)
    truth = rng.random(20_000) < 0.5  # training records: half positive
    trained = scores(rng, truth)
    scene = [scores(rng, rng.random(50_000) < 0.15) for _ in range(3)]  # 15% positive
    share = adjusted_count(scene, trained, truth, threshold=0.5)
    assert share["prevalence"] == pytest.approx(0.15, abs=0.01)
    assert share["share_at_threshold"] > 0.2  # the plain count is biased towards 0.5
    everything = adjusted_count([np.ones(10)], trained, truth, threshold=0.5)
    assert everything["prevalence"] == 0.99  # clipped: kappa needs both classes
    with pytest.raises(DataError, match="do not separate"):
        adjusted_count(scene, trained, truth, threshold=1.01)


def test_weights_give_the_share_and_move_the_threshold() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random(20_000) < 0.5
    p = scores(rng, truth)
    weights = prevalence_weights(truth, 0.15)
    assert weights[truth].sum() / weights.sum() == pytest.approx(0.15)
    assert best_threshold(p, truth, weight=np.ones(len(p))) == best_threshold(p, truth)
    plain, _ = best_threshold(p, truth)
    rare, _ = best_threshold(p, truth, weight=weights)
    common, _ = best_threshold(p, truth, weight=prevalence_weights(truth, 0.85))
    assert common < plain - 0.05 and rare > plain + 0.05  # a rarer class: a higher cut
    with pytest.raises(DataError, match="weights"):
        best_threshold(p, truth, weight=weights[:-1])


def test_context_forest_chooses_the_threshold_for_the_scene(mixed_data: tuple[Any, Any]
                                                            ) -> None:
    data, split = mixed_data
    scene = fit(ContextForestModel(small_params()), data, split).threshold()
    training = fit(ContextForestModel(small_params(threshold_prevalence="training")),
                   data, split).threshold()
    assert "prevalence" not in training
    share = scene["prevalence"]
    assert share["source"] == "scene" and share["scene_pixels"] == 96 * 96  # all: no nodata
    assert share["unweighted_threshold"] == training["value"]
    assert share["unweighted_kappa"] == training["kappa"]
    assert 0.01 <= share["estimate"] <= 0.99 and share["estimate"] != share["training_share"]
    assert "built-up share" in scene["method"]
    # the weighted kappa's best threshold on the same records is the one chosen
    assert scene["value"] != training["value"]


def test_without_a_scene_default_falls_back_explicit_fails(mixed_data: tuple[Any, Any]
                                                           ) -> None:
    data, split = mixed_data
    meta = {k: v for k, v in data.metadata.items() if k not in ("scene", "features")}
    bare = dataclasses.replace(data, metadata=meta)

    def forest(**extra: Any) -> PixelForestModel:
        return PixelForestModel(ImageryForestParams(n_estimators=20, threshold="cv",
                                                    cv_block_size=16, **extra))

    with pytest.warns(UserWarning, match="training pixels' built-up share"):
        model = fit(forest(), bare, split)
    assert "prevalence" not in model.threshold()
    assert model.extra_state["threshold_prevalence_skipped"]
    with pytest.raises(DataError, match="threshold_prevalence = 'scene' cannot be used"):
        fit(forest(threshold_prevalence="scene"), bare, split)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        fit(forest(threshold_prevalence="training"), bare, split)


def test_context_forest_default_is_scene() -> None:
    assert ContextForestParams().threshold_prevalence == "scene"


def test_threshold_weights_must_be_usable() -> None:
    p, truth = np.array([0.2, 0.4, 0.6, 0.8]), np.array([False, False, True, True])
    for bad in ([0, 0, 0, 0], [np.nan, 1, 1, 1], [1, -1, 1, 1], [1, 1, 0, 0]):
        with pytest.raises(DataError, match="finite, not negative"):
            best_threshold(p, truth, weight=np.array(bad, dtype=float))


def test_a_large_scene_is_sampled_in_windows(mixed_data: tuple[Any, Any], monkeypatch) -> None:
    import mlstat_imagery.models as models

    data, split = mixed_data
    model = fit(ContextForestModel(small_params()), data, split)
    pixels = model._scene_sample()
    monkeypatch.setattr(models, "PIXEL_SAMPLE_LIMIT", 100)  # the 96 x 96 scene counts as large
    monkeypatch.setattr(models, "SCENE_SAMPLE", 2_000)
    calls: list[tuple[int, ...]] = []
    stack = model._stack
    monkeypatch.setattr(model, "_stack", lambda *a: calls.append(a[1:]) or stack(*a))
    windows = model._scene_sample()
    assert len(calls) == -(-2_000 // models.SAMPLE_WINDOW ** 2)  # one read per window
    assert all(h == w == models.SAMPLE_WINDOW for *_, h, w in calls)
    assert windows.shape == (len(calls) * models.SAMPLE_WINDOW ** 2, pixels.shape[1])
    # every window row is a scene pixel's features: found among the pixel-by-pixel sample
    known = {tuple(np.round(row, 4)) for row in pixels}
    assert all(tuple(np.round(row, 4)) in known for row in windows[:50])
    bands = model.extra_state["scene"]["files"]
    moved = {**model.extra_state["scene"], "files": {b: f"/nowhere/{b}.tif" for b in bands}}
    monkeypatch.setitem(model.extra_state, "scene", moved)
    with pytest.raises(DataError, match="needs the scene it was trained on"):
        model._scene_sample()


def test_threshold_prevalence_with_another_threshold_warns(mixed_data: tuple[Any, Any]
                                                           ) -> None:
    data, split = mixed_data
    with pytest.warns(UserWarning, match="applies to threshold = 'cv' only"):
        fit(ContextForestModel(small_params(threshold="argmax",
                                            threshold_prevalence="training")), data, split)
