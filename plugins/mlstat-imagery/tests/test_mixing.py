"""Synthetically mixed training data (Okujeni et al. 2013) in the context forest: the mixing
rule, no leakage between threshold folds, the option off, and data without land cover."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlstat_imagery.features import feature_stack, spectral_index
from mlstat_imagery.fraction import FractionForest
from mlstat_imagery.mixing import FeatureRecipe, MixtureSource, mixed_features
from mlstat_imagery.models import ContextForestModel, PixelForestModel
from mlstat_imagery.params import ContextForestParams, ImageryForestParams, LandsatNcParams

from mlstat_core.errors import DataError

BANDS = ["30", "40", "50"]
ROLES = {"red": "30", "nir": "40", "swir1": "50"}
INDICES = ["ndvi", "ndbi", "bu"]
BASE = ["band_30", "band_40", "band_50", *INDICES]
RECIPE = FeatureRecipe(BANDS, ROLES, INDICES, [3], BASE + [f"{c}_mean3" for c in BASE])


def feature_matrix(own: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Feature rows (pixel's bands and indices, then the 3x3-mean ones) from (n, bands)."""
    return np.hstack([feature_stack(b.T, BANDS, ROLES, INDICES).T for b in (own, mean)])


def test_bands_mix_linearly_and_indices_are_recomputed() -> None:
    urban = np.array([[200.0, 180.0, 250.0]])
    grass = np.array([[10.0, 60.0, 30.0]])
    pure = np.stack([urban, urban + 5])  # (band sets, n, bands): own bands, 3x3 means
    partner = np.stack([grass, grass - 5])
    out = mixed_features(pure, partner, np.array([0.3]), RECIPE)[0]
    for k, mixed in enumerate([0.3 * urban + 0.7 * grass, 0.3 * (urban + 5) + 0.7 * (grass - 5)]):
        offset = k * len(BASE)
        np.testing.assert_allclose(out[offset:offset + 3], mixed[0], rtol=1e-6)
        by_role = {r: mixed[:, BANDS.index(b)] for r, b in ROLES.items()}
        for i, name in enumerate(INDICES):
            assert out[offset + 3 + i] == pytest.approx(spectral_index(name, by_role)[0], 1e-6)
    # indices are not linear: mixing the pure pixels' NDVI would give another value
    ndvi = [spectral_index("ndvi", {"red": p[:, 0], "nir": p[:, 1]})[0] for p in (urban, grass)]
    assert abs(out[3] - (0.3 * ndvi[0] + 0.7 * ndvi[1])) > 0.05


def test_mixtures_are_labelled_by_the_builtup_fraction() -> None:
    # built-up pixels have 100 in the first band, partners 0: the mixture's band is 100 f
    n = 40
    own = np.zeros((n, 3))
    own[:, 1:] = 50.0
    own[: n // 2, 0] = 100.0
    builtup = np.arange(n) < n // 2
    source = MixtureSource(feature_matrix(own, own), builtup, ~builtup, RECIPE, 2.0, 0.2,
                           np.random.default_rng(0))
    features, fraction = source.draw()
    assert len(fraction) == 2 * n
    np.testing.assert_allclose(features[:, 0] / 100.0, fraction, rtol=1e-5)
    labels = source.label(fraction)
    assert ((fraction >= 0.2) == labels).all()
    assert labels.any() and not labels.all()


def test_mixtures_use_only_the_given_rows_and_classes() -> None:
    n = 60
    own = np.full((n, 3), 10.0)
    builtup = np.arange(n) % 3 == 0
    partner = np.arange(n) % 3 == 1
    own[np.arange(n) % 3 == 2] = 5e5  # neither built-up nor a mixture class (water)
    rows = np.arange(30)
    own[30:] = 1e6  # outside the rows drawn from
    source = MixtureSource(feature_matrix(own, own), builtup, partner, RECIPE, 1.0, 0.2,
                           np.random.default_rng(1))
    features, fraction = source.draw(rows)
    assert len(fraction) == len(rows)
    assert (features[:, :3] == 10.0).all()
    assert len(source.draw(np.flatnonzero(partner))[1]) == 0  # no built-up pixel: none


def small_params(**extra: Any) -> ContextForestParams:
    return ContextForestParams(n_estimators=20, cv_block_size=16, **extra)


def fit(model: Any, data: Any, split: Any) -> Any:
    model.seed = 0
    return model.fit(data.subset(split.train), data.subset(split.validation))


def test_threshold_folds_mix_only_their_own_pixels(mixed_data: tuple[Any, Any],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    data, split = mixed_data
    calls: list[np.ndarray | None] = []
    draw = MixtureSource.draw

    def spy(self: MixtureSource, rows: Any = None) -> tuple[np.ndarray, np.ndarray]:
        calls.append(None if rows is None else np.asarray(rows))
        return draw(self, rows)

    monkeypatch.setattr(MixtureSource, "draw", spy)
    model = fit(ContextForestModel(small_params()), data, split)
    assert "mixtures" in model.extra_state and calls[0] is None  # the forest: all train pixels
    folds = calls[1:]
    assert len(folds) % 2 == 0 and len(folds) >= 4
    pool = len(split.train) + len(split.validation)
    held_all = []
    for fit_rows, held in zip(folds[::2], folds[1::2], strict=True):
        assert not set(fit_rows.tolist()) & set(held.tolist())  # no leakage between folds
        assert len(fit_rows) + len(held) == pool
        held_all += held.tolist()
    assert len(held_all) == len(set(held_all))
    assert "mixtures of held-out pixels only" in model.threshold()["method"]


def test_mixtures_off_is_the_plain_context_forest(mixed_data: tuple[Any, Any]) -> None:
    data, split = mixed_data
    plain = PixelForestModel(ImageryForestParams(
        n_estimators=20, context_windows=[3], min_samples_leaf=3, threshold="cv",
        cv_block_size=16))
    off = ContextForestModel(small_params(mixtures=0))
    on = ContextForestModel(small_params())
    frame = data.frame
    expected = fit(plain, data, split).predict(frame)
    pd.testing.assert_frame_equal(fit(off, data, split).predict(frame), expected)
    assert off.threshold() == plain.threshold() and "mixtures" not in off.extra_state
    mixed = fit(on, data, split).predict(frame)
    assert on.extra_state["mixtures"]["synthetic_pixels"] == len(split.train)
    assert not np.allclose(mixed["proba_built_up"], expected["proba_built_up"])


def without_land_cover(data: Any) -> Any:
    return dataclasses.replace(data, frame=data.frame.drop(columns="land_cover"))


def test_missing_land_cover_default_warns_explicit_fails(mixed_data: tuple[Any, Any]
                                                         ) -> None:
    data, split = mixed_data
    bare = without_land_cover(data)
    with pytest.warns(UserWarning, match="synthetic mixtures skipped.*land_cover"):
        model = fit(ContextForestModel(small_params()), bare, split)
    assert "mixtures" not in model.extra_state and model.extra_state["mixtures_skipped"]
    plain = fit(ContextForestModel(small_params(mixtures=0)), data, split)
    pd.testing.assert_frame_equal(model.predict(bare.frame), plain.predict(bare.frame))
    with pytest.raises(DataError, match="land_cover"):
        fit(ContextForestModel(small_params(mixtures=1.0)), bare, split)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # mixtures = 0: no warning
        fit(ContextForestModel(small_params(mixtures=0)), bare, split)


def test_mixture_classes_are_checked(mixed_data: tuple[Any, Any]) -> None:
    data, split = mixed_data
    with pytest.raises(DataError, match="not land-cover classes"):
        fit(ContextForestModel(small_params(mixture_classes=["forrest"])), data,
            split)
    with pytest.raises(DataError, match="built-up classes"):
        fit(ContextForestModel(small_params(mixture_classes=["developed", "forest"])),
            data, split)


def test_multiclass_skips_mixtures(crop_dir: Any) -> None:
    from mlstat_imagery.loaders import LandsatNcLoader
    from mlstat_imagery.params import SpatialBlockParams
    from mlstat_imagery.splitters import SpatialBlockSplitter

    data = LandsatNcLoader(LandsatNcParams(directory=str(crop_dir), mode="multiclass")
                           ).load(crop_dir)
    split = SpatialBlockSplitter(SpatialBlockParams(block_size=16, validation_size=0.2)
                                 ).split(data, 0)[0]
    with pytest.warns(UserWarning, match="binary task"):
        model = fit(ContextForestModel(small_params()), data, split)
    assert "mixtures" not in model.extra_state


def test_mixtures_are_reproducible_from_the_seed(mixed_data: tuple[Any, Any]) -> None:
    data, split = mixed_data
    frame = data.frame
    first = fit(ContextForestModel(small_params()), data, split).predict(frame)
    again = fit(ContextForestModel(small_params()), data, split).predict(frame)
    pd.testing.assert_frame_equal(first, again)


def test_fraction_forest_answers_as_a_two_class_classifier() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (300, 2))
    forest = FractionForest(30, labels=("other", "built_up"), random_state=0).fit(x, x[:, 0])
    assert list(forest.classes_) == ["built_up", "other"]  # sorted, as classifiers do
    proba = forest.predict_proba(np.array([[0.05, 0.5], [0.95, 0.5]]))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba[0, 0] < 0.2 and proba[1, 0] > 0.8  # P(built-up) is the estimated fraction
    with pytest.raises(ValueError, match=r"fractions in \[0, 1\]"):
        FractionForest(5).fit(x, x[:, 0] * 2)


def test_default_regresses_fractions_label_classifies(mixed_data: tuple[Any, Any],
                                                      tmp_path: Any) -> None:
    from sklearn.ensemble import RandomForestClassifier

    data, split = mixed_data
    frame = data.frame
    model = fit(ContextForestModel(small_params()), data, split)
    assert isinstance(model.estimator, FractionForest)
    assert model.extra_state["mixtures"]["target"] == "fraction"
    predicted = model.predict(frame)
    assert predicted["proba_built_up"].between(0, 1).all()
    assert 0 < model.threshold()["value"] < 1
    model.save(tmp_path / "m")  # the regression forest is a trusted type when loaded back
    pd.testing.assert_frame_equal(ContextForestModel.load(tmp_path / "m").predict(frame),
                                  predicted)
    label = fit(ContextForestModel(small_params(mixture_target="label")), data, split)
    assert isinstance(label.estimator, RandomForestClassifier)
    assert label.extra_state["mixtures"]["target"] == "label"
    assert not np.allclose(label.predict(frame)["proba_built_up"], predicted["proba_built_up"])


def test_class_weight_set_for_fractions_is_said_to_be_left_aside(mixed_data: tuple[Any, Any]
                                                                 ) -> None:
    data, split = mixed_data
    with pytest.warns(UserWarning, match="class_weight = 'balanced' is left aside"):
        fit(ContextForestModel(small_params(class_weight="balanced")), data, split)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the default, or a classification: silent
        fit(ContextForestModel(small_params()), data, split)
        fit(ContextForestModel(small_params(class_weight="balanced", mixture_target="label")),
            data, split)
