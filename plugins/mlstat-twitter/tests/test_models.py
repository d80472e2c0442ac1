"""Sentiment models: fit / predict / save / load, unseen languages, VADER, the stream index."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlstat_twitter.models import SentimentModel, VaderModel
from mlstat_twitter.params import IndexParams, SentimentParams, VaderParams

from mlstat_core.errors import ConfigError, DataError


def test_fit_predict_save_load_round_trip(fitted, small_parts, tmp_path: Path) -> None:
    _, _, test = small_parts
    predicted = fitted.predict(test.frame)
    assert predicted.index.equals(test.frame.index)
    assert set(predicted["prediction"]) <= {"negative", "neutral", "positive"}
    assert predicted["confidence"].between(0, 1).all()
    assert (predicted["prediction"] == test.y).mean() > 0.45  # well above chance (1/3)
    counts = np.asarray(fitted.state["confusion"])
    assert counts.shape == (3, 3) and counts.sum() == 200
    fitted.save(tmp_path / "model")
    assert not list((tmp_path / "model").rglob("*.pkl"))
    again = SentimentModel.load(tmp_path / "model")
    pd.testing.assert_frame_equal(again.predict(test.frame), predicted)
    assert again.state == fitted.state


def test_language_column_optional_and_unseen_language_routed(fitted) -> None:
    frame = pd.DataFrame({"text": ["I hate mondays so much", "Ik hou van dit weer, fantastisch"]})
    with pytest.warns(UserWarning, match="language\\(s\\) nl .* multilingual model"):
        out = fitted.predict(frame)
    assert list(out["language"]) == ["en", "nl"]
    assert list(out["language_seen"]) == [True, False]
    assert fitted.predict(frame.iloc[:0]).empty


def test_a_language_outside_the_expected_ones_is_named_and_reported(fitted) -> None:
    # identification is restricted to en, fr, de, nl; Spanish and Italian tweets were called
    # French and English (language_seen True), so scored without a word of warning
    frame = pd.DataFrame({"text": ["Qué día tan bonito, estoy muy feliz con mis amigos",
                                   "Che bella giornata, sono molto felice oggi",
                                   "Je suis vraiment très content de ce nouveau téléphone"]})
    with pytest.warns(UserWarning, match="language\\(s\\) es, it that the model"):
        out = fitted.predict(frame)
    assert list(out["language"]) == ["es", "it", "fr"]
    assert list(out["language_seen"]) == [False, False, True]


def test_a_model_without_the_language_feature_reports_other_languages(small_parts) -> None:
    # an English-only model (language_feature = false, as the index example) scored Dutch and
    # French tweets without a warning
    from conftest import FAST_BASE
    from mlstat_twitter.params import LanguageParams

    train, _, _ = small_parts
    english = train.subset(np.flatnonzero(train.frame["language"].to_numpy() == "en"))
    model = SentimentModel(SentimentParams(base_params=FAST_BASE, language_feature=False,
                                           language=LanguageParams(languages=["en"])))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(english)
    frame = pd.DataFrame({"text": ["Wat een prachtige dag vandaag, ik ben zo blij met het weer",
                                   "C'est vraiment nul, je déteste ça", "I love it", "😂"]})
    with pytest.warns(UserWarning, match="2 tweet\\(s\\) in language\\(s\\) fr, nl .* "
                                         "trained on en only"):
        out = model.predict(frame)
    assert list(out["language_seen"]) == [False, False, True, False]


def test_a_training_language_with_one_class_is_warned_about(small_parts) -> None:
    # 40 Dutch tweets, all positive, beside English and French: the model learnt "Dutch is
    # positive" (a neutral Dutch tweet scored positive, 0.85) without a word
    from conftest import FAST_BASE

    from mlstat_core.components import Dataset

    train, _, _ = small_parts
    dutch = pd.DataFrame({"text": [f"Wat een mooie dag in Gent nummer {i}, echt fantastisch"
                                   for i in range(40)], "label": "positive", "language": "nl",
                          "split": "train"})
    frame = pd.concat([train.frame, dutch], ignore_index=True)
    data = Dataset(frame, train.roles, "with-dutch")
    with pytest.warns(UserWarning, match="nl has no negative, neutral"):
        SentimentModel(SentimentParams(base_params=FAST_BASE)).fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every language has every class: silent
        SentimentModel(SentimentParams(base_params=FAST_BASE)).fit(train)
        SentimentModel(SentimentParams(base_params=FAST_BASE, language_feature=False)).fit(data)


def test_language_codes_of_new_data_are_read_as_the_loaders_read_them(fitted) -> None:
    # mlstat predict on a CSV whose language column says fr-BE, French or und (X's
    # undetermined): they were languages of their own, 'never seen', scored without the
    # language feature
    frame = pd.DataFrame({"text": ["C'est vraiment nul, je déteste ça", "J'adore ce film",
                                   "I really love this new phone", "I hate mondays"],
                          "language": ["fr-BE", "French", "und", " EN "]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no language is unseen
        out = fitted.predict(frame)
    assert list(out["language"]) == ["fr", "fr", "en", "en"]
    assert out["language_seen"].all()


def test_xs_lang_column_is_read_where_the_language_column_is_absent(fitted) -> None:
    # mlstat predict on a CSV of X's fields (lang, as the tweet loaders read it in training)
    # ignored the column and identified the languages anew: "ok" was scored as German
    frame = pd.DataFrame({"text": ["ok", "Merci beaucoup", "I love it"],
                          "lang": ["en", "fr-BE", "und"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no language is unseen
        out = fitted.predict(frame)
    assert list(out["language"]) == ["en", "fr", "en"]  # und: identified from the text
    assert fitted.predict(frame.drop(columns="lang"))["language"].iloc[0] != "en"
    # the language column, where there is one, comes first; a column set by name is the one
    both = frame.assign(language=["fr", "fr", "fr"])
    assert list(fitted.predict(both)["language"]) == ["fr", "fr", "fr"]
    from mlstat_twitter.models import languages_of

    assert list(languages_of(frame, "lng", ["en", "fr"], False, frame["text"])) == ["und"] * 3


def test_unknown_base_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        SentimentModel(SentimentParams(base="coding.nope"))
    with pytest.raises(ConfigError, match="base_params"):
        SentimentModel(SentimentParams(base_params={"C": -1}))


def test_vader_rules_and_calibrated(small_parts) -> None:
    train, val, test = small_parts
    english = test.subset(np.flatnonzero(test.frame["language"].to_numpy() == "en"))
    with pytest.warns(UserWarning, match="not English"):  # its validation tweets are en, fr
        rules = VaderModel(VaderParams()).fit(train, val)
    out = rules.predict(pd.DataFrame({"text": ["I love it, wonderful!", "Awful. I hate this",
                                               "The train leaves at 9"]}))
    assert list(out["prediction"]) == ["positive", "negative", "neutral"]
    assert (rules.predict(english.frame)["prediction"] == english.y).mean() > 0.45
    with pytest.raises(DataError, match="calibrate = true"):
        VaderModel(VaderParams()).fit(train.subset(np.arange(5)).__class__(
            train.frame.assign(label="joy"), train.roles))
    with pytest.warns(UserWarning, match="not English"):
        calibrated = VaderModel(VaderParams(calibrate=True)).fit(train, val)
    assert set(calibrated.predict(english.frame)["prediction"]) <= set(calibrated.classes_)


def test_vader_warns_about_tweets_that_are_not_english(small_parts) -> None:
    # VADER scored French and German tweets (mostly neutral) without a word
    train, val, _ = small_parts
    english = train.subset(np.flatnonzero(train.frame["language"].to_numpy() == "en"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rules = VaderModel(VaderParams()).fit(english)
        out = rules.predict(pd.DataFrame({"text": ["I love it, wonderful!", "😂"]}))
    assert list(out["language"]) == ["en", "und"]
    with pytest.warns(UserWarning, match="are in language\\(s\\) fr, not English"):
        VaderModel(VaderParams()).fit(train, val)  # the confusion matrix on French tweets
    frame = pd.DataFrame({"text": ["C'est vraiment nul, je déteste ça",
                                   "Das ist wirklich sehr schlecht", "I hate it"]})
    with pytest.warns(UserWarning, match="2 of 3 tweet\\(s\\) .* de, fr, not English"):
        out = rules.predict(frame)
    assert list(out["language"]) == ["fr", "de", "en"]


def test_stream_index_written(fitted, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    texts = ["I love this, great day!", "This is terrible, I hate it", "Meeting at noon"]
    n = 240
    stream = pd.DataFrame({
        "id": [str(i) for i in range(n)],
        "text": [texts[i % 3] + f" #{i}" for i in range(n)],
        "created_at": (pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
            np.sort(rng.integers(0, 45 * 24 * 3600, n)), unit="s")).astype(str),
    })
    stream.loc[n - 1, "created_at"] = "2024-04-20T10:00:00Z"   # a lonely month
    path = tmp_path / "stream.csv"
    stream.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = fitted.index_stream(path, tmp_path, {}, IndexParams(period="month", min_count=20,
                                                                    bootstrap=100))
    table = pd.read_csv(files[0])
    assert list(table["period"]) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert list(table["status"]) == ["ok", "ok", "too_few", "too_few"]
    ok = table[table["status"] == "ok"]
    assert (ok["index_low"] <= ok["index"]).all() and (ok["index"] <= ok["index_high"]).all()
    assert ok["share_positive"].add(ok["share_neutral"]).add(ok["share_negative"]).round(6) \
        .eq(1).all()


def test_language_augmented_features_blocks() -> None:
    from mlstat_twitter.augment import LanguageAugmented
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    text = make_pipeline(FunctionTransformer(lambda x: x["t"]), CountVectorizer())
    frame = pd.DataFrame({"t": ["good day", "bon jour", "good"], "lang": ["en", "fr", "de"]})
    aug = LanguageAugmented(text, "lang", scale=0.5).fit(frame)
    assert aug.languages_ == ["de", "en", "fr"]
    x = aug.transform(frame).toarray()
    shared = text.fit(frame).transform(frame).toarray()
    n = shared.shape[1]
    assert x.shape == (3, 4 * n)
    np.testing.assert_allclose(x[:, :n], shared)
    np.testing.assert_allclose(x[1, 3 * n:], 0.5 * shared[1])  # fr block of the French tweet
    assert x[1, n:3 * n].sum() == 0  # nothing in the de and en blocks
    unseen = aug.transform(pd.DataFrame({"t": ["good"], "lang": ["nl"]})).toarray()
    assert unseen[0, n:].sum() == 0  # a language not trained on: shared weights only


def test_language_augmented_model_round_trip(small_parts, tmp_path: Path) -> None:
    from conftest import FAST_BASE

    train, val, test = small_parts
    model = SentimentModel(SentimentParams(base_params=FAST_BASE, language_augment=0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train, val)
    assert model.state["language_augmented"] is True
    predicted = model.predict(test.frame)
    assert (predicted["prediction"] == test.y).mean() > 0.45
    names = model.base.estimator.named_steps["features"].get_feature_names_out()
    assert any(str(n).startswith("fr:") for n in names)
    model.save(tmp_path / "model")
    again = SentimentModel.load(tmp_path / "model")
    pd.testing.assert_frame_equal(again.predict(test.frame), predicted)
    # one language: nothing to augment, the plain base model
    english = train.subset(np.flatnonzero(train.frame["language"].to_numpy() == "en"))
    mono = SentimentModel(SentimentParams(base_params=FAST_BASE, language_augment=0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mono.fit(english, val)
    assert mono.state["language_augmented"] is False
    # the default multilingual model is augmented; language_augment = 0 shares every weight
    default = SentimentModel(SentimentParams(base_params=FAST_BASE))
    shared = SentimentModel(SentimentParams(base_params=FAST_BASE, language_augment=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default.fit(train, val)
        shared.fit(train, val)
    assert default.state["language_augmented"] is True
    assert shared.state["language_augmented"] is False


def test_augmentation_default_is_silent_for_a_base_without_it(small_parts) -> None:
    pytest.importorskip("torch")
    train, val, _ = small_parts
    base = {"epochs": 2, "dim": 8, "device": "cpu"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        default = SentimentModel(SentimentParams(base="coding.fasttext", base_params=base))
        default.fit(train, val)
    assert default.state["language_augmented"] is False
    assert not [w for w in caught if "language_augment" in str(w.message)]
    with pytest.warns(UserWarning, match="needs a scikit-learn base"):
        SentimentModel(SentimentParams(base="coding.fasttext", base_params=base,
                                       language_augment=1.0)).fit(train, val)


def _cp1252_stream(path: Path, n: int = 40) -> None:
    texts = ["Très bien – café parfait !", "Quelle journée affreuse… déçu",
             "Réunion à midi"]
    rows = [f"{i},{texts[i % 3]} {i},2024-01-0{1 + i % 5}T1{i % 10}:00:00Z" for i in range(n)]
    path.write_bytes(("id,text,created_at\n" + "\n".join(rows) + "\n").encode("cp1252"))


def test_a_cp1252_stream_of_the_loader_is_indexed(fitted, tmp_path: Path) -> None:
    """Loader stream -> Dataset.metadata -> the model's index, as in `mlstat run`."""
    from mlstat_twitter.loaders import UmsabLoader
    from mlstat_twitter.params import UmsabParams

    _cp1252_stream(tmp_path / "stream.csv")
    ds = UmsabLoader(UmsabParams(languages=["french"], stream="stream.csv",
                                 stream_encoding="cp1252")).load(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = fitted.write_outputs(tmp_path / "outputs", pd.DataFrame(), ds)
    table = pd.read_csv(files[0])
    assert list(table["n"]) == [40] and list(table["status"]) == ["ok"]
    assert pd.read_json(files[1], typ="series")["loading"]["encoding"] == "cp1252"
    # without it, the advice names the option a stream has
    ds = UmsabLoader(UmsabParams(languages=["french"], stream="stream.csv")).load(tmp_path)
    with pytest.raises(DataError, match=r"not valid utf-8 text .*set `stream_encoding` in "
                                        r"\[loader\]"):
        fitted.write_outputs(tmp_path / "again", pd.DataFrame(), ds)


def _small_stream(n: int = 120, **extra: list) -> pd.DataFrame:
    texts = ["I love this, great day!", "This is terrible, I hate it", "Meeting at noon"]
    return pd.DataFrame({"id": [str(i) for i in range(n)],
                         "text": [texts[i % 3] + f" #{i}" for i in range(n)],
                         "created_at": [f"2024-01-{1 + i % 28:02d}T10:00:00Z" for i in range(n)],
                         **extra})


def test_unseen_languages_are_in_the_index_outputs(fitted, tmp_path: Path) -> None:
    import json

    stream = _small_stream(language=["de" if i < 6 else "en" for i in range(120)])
    path = tmp_path / "stream.csv"
    stream.to_csv(path, index=False)
    with pytest.warns(UserWarning, match="not trained on"):
        files = fitted.index_stream(path, tmp_path, {}, IndexParams(period="month",
                                                                    bootstrap=50))
    scored = pd.read_csv(files[2], dtype={"id": str})
    assert scored["language_seen"].tolist() == [False] * 6 + [True] * 114
    notes = json.loads(files[1].read_text())["warnings"]
    assert any(n.startswith("6 tweet(s) in language(s) de that the model was not trained on")
               for n in notes)


def test_a_stream_whose_languages_differ_from_the_validation_tweets_is_warned_about(
        fitted, tmp_path: Path) -> None:
    # the confusion matrix pools English and French validation tweets (about half each); an
    # English-only stream was adjusted with it without a word
    import json

    shares = fitted.state["confusion_languages"]
    assert set(shares) == {"en", "fr"} and sum(shares.values()) == 200
    path = tmp_path / "stream.csv"
    _small_stream(language=["en"] * 120).to_csv(path, index=False)
    with pytest.warns(UserWarning, match=r"stream's languages \(en 100%\) differ from those of "
                                         r"the tweets the confusion matrix"):
        files = fitted.index_stream(path, tmp_path, {}, IndexParams(bootstrap=50))
    assert any("confusion_sample" in n and "languages" in n
               for n in json.loads(files[1].read_text())["warnings"])
    _small_stream(language=["en", "fr"] * 60).to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted.index_stream(path, tmp_path, {}, IndexParams(bootstrap=50))
    assert not [w for w in caught if "stream's languages" in str(w.message)]


def test_the_confusion_matrix_is_estimated_on_a_labelled_sample(fitted, tmp_path: Path) -> None:
    import json

    path = tmp_path / "stream.csv"
    _small_stream().to_csv(path, index=False)
    sample = tmp_path / "labelled.csv"
    labels = ["positive", "negative", "neutral"]
    _small_stream(12, sentiment=[labels[i % 3] for i in range(12)]).drop(
        columns="created_at").to_csv(sample, index=False)
    policy = {"confusion_sample": str(sample), "confusion_label": "sentiment"}
    with pytest.warns(UserWarning, match=r"labelled.csv is small \(4 labelled negative, 4 "
                                         r"labelled neutral and 4 labelled positive tweets, "
                                         r"under 30 per class\)"):
        files = fitted.index_stream(path, tmp_path, policy, IndexParams(period="month",
                                                                        bootstrap=50))
    meta = json.loads(files[1].read_text())
    assert meta["confusion_source"] == str(sample)
    assert np.asarray(meta["confusion"]).sum(axis=1).tolist() == [4, 4, 4]
    assert meta["confusion"] != fitted.state["confusion"]
    sample.write_text("id,text,sentiment\n1,I love it,positive\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="has no tweet labelled negative, neutral"):
        fitted.index_stream(path, tmp_path, policy, IndexParams(period="month", bootstrap=50))


def test_a_labelled_sample_with_unlabelled_tweets_warns_instead_of_crashing(
        fitted, tmp_path: Path) -> None:
    """A sample where coders left some labels empty: those tweets are left out of the matrix
    and counted in a warning, next to the labels that are no class of the model."""
    import json

    path = tmp_path / "stream.csv"
    _small_stream().to_csv(path, index=False)
    sample = tmp_path / "labelled.csv"
    labels = ["positive", "negative", "neutral", "", "Positive"]
    _small_stream(15, sentiment=[labels[i % 5] for i in range(15)]).drop(
        columns="created_at").to_csv(sample, index=False)
    policy = {"confusion_sample": str(sample), "confusion_label": "sentiment"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = fitted.index_stream(path, tmp_path, policy, IndexParams(period="month",
                                                                        bootstrap=50))
    messages = [str(w.message) for w in caught]
    assert any("3 tweet(s) without a label are ignored" in m for m in messages)
    assert any("labels Positive are not classes" in m for m in messages)
    meta = json.loads(files[1].read_text())
    assert np.asarray(meta["confusion"]).sum(axis=1).tolist() == [3, 3, 3]
    sample.write_text("id,text,sentiment\n1,I love it,\n2,meh,\n", encoding="utf-8")
    with pytest.raises(DataError, match="it has no labels"):
        fitted.index_stream(path, tmp_path, policy, IndexParams(period="month", bootstrap=50))


@pytest.mark.parametrize(("change", "columns", "message"), [
    ({"confusion_label": "lable"}, None,
     "no label column 'lable'.*set `confusion_label` in \\[loader\\]"),
    ({"id": "id_str"}, None, "has no id column 'id_str'"),
    ({}, {"sentiment": ["pos", "neg"] * 6}, r"none of its labels \(neg, pos\) is a class"),
])
def test_a_wrong_confusion_sample_is_refused_before_the_stream_is_scored(
        fitted, tmp_path: Path, monkeypatch, change: dict, columns: dict | None,
        message: str) -> None:
    """A sample without the label (or id) column asked for, or whose labels are no class of
    the model, is refused before minutes of scoring the stream, and nothing is written."""
    stream = _small_stream()
    stream["id_str"] = stream["id"]
    path = tmp_path / "stream.csv"
    stream.to_csv(path, index=False)
    sample = tmp_path / "labelled.csv"
    labels = ["positive", "negative", "neutral"]
    _small_stream(12, **(columns or {"sentiment": [labels[i % 3] for i in range(12)]})).drop(
        columns="created_at").to_csv(sample, index=False)

    def scored(frame: pd.DataFrame) -> None:
        raise AssertionError(f"{len(frame)} tweets scored before the sample was checked")

    monkeypatch.setattr(fitted, "_score", scored)
    out = tmp_path / "out"
    policy = {"confusion_sample": str(sample), "confusion_label": "sentiment", **change}
    with pytest.raises(DataError, match=message):
        fitted.index_stream(path, out, policy, IndexParams(bootstrap=50), name="week.csv")
    assert not out.exists()


def test_a_labelled_sample_of_the_loader_names_confusion_label(fitted, tmp_path: Path) -> None:
    """The label column of a pipeline's confusion sample is set with `confusion_label`, not
    the loader's own `label` (which the training file reads), and removing it means nothing."""
    path = tmp_path / "stream.csv"
    _small_stream().to_csv(path, index=False)
    sample = tmp_path / "labelled.csv"
    _small_stream(3, sentiment=["positive"] * 3).to_csv(sample, index=False)
    with pytest.raises(DataError) as caught:
        fitted.index_stream(path, tmp_path, {"confusion_sample": str(sample),
                                             "confusion_label": "lable"},
                            IndexParams(bootstrap=50))
    message = str(caught.value)
    assert "set `confusion_label` in [loader]" in message and "'sentiment'" in message
    assert "set `label`" not in message and "remove it" not in message


def test_a_language_with_few_labelled_tweets_says_how_many_of_which_class() -> None:
    from mlstat_twitter.models import own_matrices

    _own, why = own_matrices({"fr": [[20, 0, 0], [0, 40, 0], [0, 0, 40]],
                              "de": [[5, 0, 0], [0, 6, 0], [0, 0, 40]]},
                             ["negative", "neutral", "positive"], "validation")
    assert dict(why)["fr"].startswith("language fr: only 20 labelled negative tweets (under 30 "
                                      "per class) in the validation")
    assert dict(why)["de"].startswith("language de: only 5 labelled negative and 6 labelled "
                                      "neutral tweets (under 30")


def test_advice_on_languages_names_the_command_lines_options(fitted, tmp_path: Path) -> None:
    """Indexed by mlstat-twitter-index (its --encoding sets the stream's encoding), the
    warnings and errors on languages name its options, not the pipeline's settings."""
    import copy

    from mlstat_twitter.models import language_drift_note, language_mix_note

    periods = pd.Series(["2024-01"] * 50 + ["2024-02"] * 50)
    languages = pd.Series(["en"] * 50 + ["fr"] * 50)
    for confusion_by, advice, pipeline in (
            ("pooled", "pass --confusion-by language", "set [model.index] confusion_by = "
                                                       "'language'"),
            ("language", "give them with --confusion-sample", "give them as confusion_sample")):
        cli = language_drift_note(periods, languages, 10, confusion_by, cli=True)
        assert advice in cli and "[model.index]" not in cli and "confusion_sample" not in cli
        assert pipeline in language_drift_note(periods, languages, 10, confusion_by)
    mix = language_mix_note(pd.Series(["en"] * 10), {"en": 5, "fr": 5}, cli=True)
    assert "pass --confusion-by language" in mix and "with --confusion-sample" in mix
    assert "[model.index]" not in mix and "confusion_sample" not in mix
    # through the model, as mlstat-twitter-index calls it
    stream = _small_stream(language=["en"] * 60 + ["fr"] * 60)
    stream["created_at"] = [f"2024-0{1 + i // 60}-{1 + i % 28:02d}T10:00:00Z"
                            for i in range(120)]
    path = tmp_path / "stream.csv"
    stream.to_csv(path, index=False)
    policy = {"encoding_option": "--encoding"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted.index_stream(path, tmp_path, policy, IndexParams(period="month", bootstrap=50))
    moves = [str(w.message) for w in caught if "moves between periods" in str(w.message)]
    assert len(moves) == 1 and moves[0].endswith("; pass --confusion-by language (each "
                                                 "language's own matrix)")
    old = copy.copy(fitted)
    old.state = {k: v for k, v in fitted.state.items() if k != "confusion_by_language"}
    with pytest.raises(DataError) as refused:
        old.index_stream(path, tmp_path / "out", policy,
                         IndexParams(bootstrap=50, confusion_by="language"))
    message = str(refused.value)
    assert "with --confusion-sample" in message and "pass --confusion-by pooled" in message
    assert "confusion_sample" not in message and "confusion_by =" not in message


def test_labels_spelt_two_ways_are_refused_before_training(small_parts) -> None:
    """A second coder wrote 'Positive ': it would be a class of its own that the index does
    not count as positive. The fit stops before training and names both spellings."""
    train, val, _ = small_parts
    frame = val.frame.copy()
    target = val.roles.target
    first = frame.index[frame[target].astype(str) == "positive"][0]
    frame[target] = frame[target].astype(object)
    frame.loc[first, target] = "Positive "
    typo = type(val)(frame, val.roles, val.name)
    model = SentimentModel(SentimentParams(base_params={"max_iter": 50}))
    with pytest.raises(DataError, match="'Positive ' and 'positive' differ only in case"):
        model.fit(train, typo)
    assert not model.classes_


def test_macro_f1_by_language_takes_the_detected_language_where_the_data_give_none():
    """A labelled file without languages (an evaluation on the office's own sample): the
    languages the model found group the tweets; no group is named 'nan'."""
    from mlstat_twitter.indicators import MacroF1ByLanguage
    from mlstat_twitter.params import MacroF1Params

    from mlstat_core.components import AssessContext, ColumnRoles, Dataset
    from mlstat_core.tasks import TEXT_CLASSIFICATION

    labels = ["negative", "neutral", "positive"] * 20
    frame = pd.DataFrame({"text": ["t"] * 60, "label": labels, "language": [None] * 59 + ["fr"]})
    test = Dataset(frame, ColumnRoles(target="label", text=["text"]), "sample")
    predicted = pd.DataFrame({"prediction": labels[:30] + ["neutral"] * 30,
                              "language": ["en"] * 30 + ["de"] * 29 + [""]})
    ctx = AssessContext(task=TEXT_CLASSIFICATION, model=None, train=test.subset([]),
                        test=test, predictions=predicted)
    head, *languages = MacroF1ByLanguage(MacroF1Params(min_records=1)).compute(ctx)
    per = head.details["per_language"]
    assert set(per) == {"en", "de", "fr"} and per["en"]["records"] == 30
    assert per["de"]["records"] == 29 and per["fr"]["records"] == 1  # the data's own wins
    assert per["en"]["macro_f1"] == 1.0
    assert {r.name for r in languages} == {"macro_f1_en", "macro_f1_de", "macro_f1_fr"}


def test_macro_f1_of_a_language_with_few_test_tweets_has_an_interval():
    """Per-language macro-F1 came without an interval, so 25 German test tweets looked as
    sure as 870 French ones; a language too small to score was not named in the headline."""
    from mlstat_twitter.indicators import MacroF1ByLanguage, macro_f1
    from mlstat_twitter.params import MacroF1Params

    from mlstat_core.components import AssessContext, ColumnRoles, Dataset
    from mlstat_core.tasks import TEXT_CLASSIFICATION

    rng = np.random.default_rng(1)
    classes = np.array(["negative", "neutral", "positive"])
    truth = rng.choice(classes, 900)
    guess = np.where(rng.random(900) < 0.7, truth, rng.choice(classes, 900))
    wrong = np.arange(870, 895, 3)  # 9 of the 25 German tweets
    guess[wrong] = classes[(np.searchsorted(classes, truth[wrong]) + 1) % 3]
    language = ["fr"] * 870 + ["de"] * 25 + ["nl"] * 5
    frame = pd.DataFrame({"text": ["t"] * 900, "label": truth, "language": language})
    test = Dataset(frame, ColumnRoles(target="label", text=["text"]), "sample")
    ctx = AssessContext(task=TEXT_CLASSIFICATION, model=None, train=test.subset([]),
                        test=test, predictions=pd.DataFrame({"prediction": guess}))
    head, *languages = MacroF1ByLanguage(MacroF1Params()).compute(ctx)
    by = {r.name: r for r in languages}
    fr, de = by["macro_f1_fr"], by["macro_f1_de"]
    assert fr.interval[0] < fr.value < fr.interval[1] and de.interval[0] < de.value
    assert fr.interval[1] - fr.interval[0] < 0.15 < de.interval[1] - de.interval[0]
    assert "wide" in de.explanation and "wide" not in fr.explanation
    assert head.details["per_language"]["de"]["interval"] == list(de.interval)
    assert "fewer than 20 test tweets: nl" in head.explanation
    assert head.interval[0] < head.value < head.interval[1]
    assert macro_f1(truth[:870], guess[:870]) == fr.value
    again, *_ = MacroF1ByLanguage(MacroF1Params(bootstrap=0)).compute(ctx)
    assert again.details["per_language"]["de"]["interval"] is None


def test_the_index_adjusts_each_language_with_its_own_matrix(fitted, tmp_path: Path) -> None:
    """``confusion_by = "language"``: the model keeps its validation matrix per language (the
    pooled one is their sum); English and French tweets of the stream are adjusted with their
    own, German ones (no labelled tweet) with the pooled one, and the user is told; the
    warning on a mix of languages unlike validation's is not given, the mix no longer
    matters."""
    import json

    by_language = fitted.state["confusion_by_language"]
    assert set(by_language) == {"en", "fr"}
    assert np.sum([by_language["en"], by_language["fr"]], axis=0).tolist() == \
        fitted.state["confusion"]
    path = tmp_path / "stream.csv"
    _small_stream(language=["de" if i < 6 else "en" for i in range(120)]).to_csv(path,
                                                                              index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = fitted.index_stream(path, tmp_path, {}, IndexParams(
            period="month", bootstrap=50, confusion_by="language"))
    messages = [str(w.message) for w in caught]
    assert "language(s) de: no labelled tweets in the validation; their tweets are adjusted " \
           "with the pooled confusion matrix" in messages
    assert not [m for m in messages if "stream's languages" in m]
    meta = json.loads(files[1].read_text())
    assert meta["settings"]["confusion_by"] == "language"
    assert meta["confusion_by_language"] == {"en": by_language["en"]}
    assert [f.name for f in files] == ["sentiment_index.csv", "sentiment_index.json",
                                       "stream_predictions.csv",
                                       "sentiment_index_by_language.csv"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pooled = fitted.index_stream(path, tmp_path / "pooled", {},
                                     IndexParams(period="month", bootstrap=50))
    assert not pd.read_csv(files[0])["index"].equals(pd.read_csv(pooled[0])["index"])


def test_a_model_without_matrices_by_language_says_how_to_get_them(fitted, tmp_path: Path
                                                                    ) -> None:
    """A model saved before matrices were kept by language cannot adjust by language: one
    clear error that says what to do, and nothing written."""
    import copy

    old = copy.copy(fitted)
    old.state = {k: v for k, v in fitted.state.items() if k != "confusion_by_language"}
    path = tmp_path / "stream.csv"
    _small_stream(language=["en"] * 120).to_csv(path, index=False)
    out = tmp_path / "out"
    with pytest.raises(DataError, match="confusion_by = 'language' needs the confusion matrix "
                                        "of each language.*retrain it, give a labelled "
                                        "sample of the stream as confusion_sample"):
        old.index_stream(path, out, {}, IndexParams(bootstrap=50, confusion_by="language"))
    assert not out.exists() or not any(out.iterdir())
    # said before the stream is read and scored (minutes for a month of tweets)
    with pytest.raises(DataError, match="confusion_by = 'language' needs"):
        old.index_stream(tmp_path / "not-read.csv", out, {},
                         IndexParams(bootstrap=50, confusion_by="language"))


def test_a_mix_of_languages_that_moves_between_periods_is_warned_about(fitted, tmp_path: Path
                                                                       ) -> None:
    """English in January, French in February: with the pooled matrix a change of languages
    can read as a change of opinion; the warning names the move and the setting. A stream
    whose mix stays put, or an index by language, gets no such warning."""
    stream = _small_stream(language=["en"] * 60 + ["fr"] * 60)
    stream["created_at"] = [f"2024-0{1 + i // 60}-{1 + i % 28:02d}T10:00:00Z"
                            for i in range(120)]
    path = tmp_path / "stream.csv"
    stream.to_csv(path, index=False)

    def moves(params: IndexParams) -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted.index_stream(path, tmp_path, {}, params)
        return [str(w.message) for w in caught if "moves between periods" in str(w.message)]

    assert moves(IndexParams(period="month", bootstrap=50)) == [
        "the stream's mix of languages moves between periods (en 100% in 2024-01, 0% in "
        "2024-02): with one pooled confusion matrix, where the classifier errs differently by "
        "language, a change of languages reads as a change of opinion; set [model.index] "
        "confusion_by = 'language' (each language's own matrix)"]
    assert moves(IndexParams(period="month", bootstrap=50, confusion_by="language")) == []
    # by language, but neither language has labelled tweets enough for its own matrix: both
    # are adjusted with the pooled one, and the move still matters
    import copy

    thin = copy.copy(fitted)
    thin.state = {**fitted.state, "confusion_by_language": {
        lang: (np.asarray(m) // 10).tolist()
        for lang, m in fitted.state["confusion_by_language"].items()}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        thin.index_stream(path, tmp_path, {}, IndexParams(period="month", bootstrap=50,
                                                          confusion_by="language"))
    assert [str(w.message) for w in caught if "moves between periods" in str(w.message)] == [
        "the mix of the languages adjusted with the pooled matrix moves between periods (en "
        "100% in 2024-01, 0% in 2024-02): with one pooled confusion matrix, where the "
        "classifier errs differently by language, a change of languages reads as a change of "
        "opinion; label tweets of each of them (at least 30 per class) and give them as "
        "confusion_sample, so that each gets its own matrix"]
    stream["language"] = ["en", "fr"] * 60
    stream.to_csv(path, index=False)
    assert moves(IndexParams(period="month", bootstrap=50)) == []
    # by language, German (no labelled tweets: the pooled matrix) stays put beside English
    # and undetermined tweets (digits only) come in February: no labelling can give those a
    # matrix of their own, so no warning advises it
    february = np.arange(120) >= 60
    undetermined = february & (np.arange(120) % 6 == 1)
    stream["text"] = np.where(undetermined, [f"{i} {i + 1}" for i in range(120)],
                              stream["text"])
    stream["language"] = np.where(undetermined, "",
                                  np.where(np.arange(120) % 6 == 0, "de", "en"))
    stream.to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted.index_stream(path, tmp_path, {}, IndexParams(period="month", bootstrap=50,
                                                            confusion_by="language"))
    assert any("10 tweet(s) of undetermined language (und)" in str(w.message) for w in caught)
    assert moves(IndexParams(period="month", bootstrap=50, min_count=5,
                             confusion_by="language")) == []


def test_each_languages_index_is_written_and_adds_up_to_the_streams(
        fitted, small_parts, tmp_path: Path) -> None:
    """With confusion_by = "language" the index of each language is written too (English and
    French with their own matrices, German with the pooled one); where each language's shares
    are inside (0, 1) the stream's adjusted index is their average weighted by the tweets of
    each language, and the report plots one line per language."""
    from mlstat_twitter.indicators import SentimentIndexIndicator
    from mlstat_twitter.params import IndexIndicatorParams

    from mlstat_core.components import AssessContext
    from mlstat_core.tasks import TEXT_CLASSIFICATION

    test = small_parts[2].frame
    stream = pd.DataFrame({"id": [str(i) for i in range(len(test))],
                           "text": test["text"].to_numpy(),
                           "language": test["language"].to_numpy(),
                           "created_at": "2024-01-15T10:00:00Z"})
    path = tmp_path / "stream.csv"
    stream.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = fitted.index_stream(path, tmp_path, {}, IndexParams(
            period="month", min_count=1, bootstrap=50, confusion_by="language"))
    import json

    from mlstat_twitter.index import error_matrix

    whole = pd.read_csv(files[0])
    each = pd.read_csv(files[3]).set_index("language")
    matrices = json.loads(files[1].read_text())["confusion_by_language"]
    assert each["confusion"].to_dict() == {"en": "language", "fr": "language"}
    assert (whole["status"] == "ok").all() and (each["status"] == "ok").all()
    n = each["n"]
    assert n.sum() == whole["n"].iloc[0] > 150  # a few duplicates dropped
    # the stream's shares: the languages' plain solutions averaged by their tweets where that
    # is a valid set of shares, else their (clipped) maximum-likelihood shares averaged
    raw = each[[f"raw_share_{c}" for c in ("negative", "neutral", "positive")]].to_numpy()
    plain = sum(n[g] / n.sum() * np.linalg.solve(error_matrix(np.array(matrices[g])).T, raw[i])
                for i, g in enumerate(each.index))
    clipped = each[["share_negative", "share_neutral", "share_positive"]].to_numpy()
    expected = plain if (plain >= 0).all() else (n.to_numpy()[:, None] * clipped).sum(0) / n.sum()
    assert whole["index"].iloc[0] == pytest.approx(expected[2] - expected[0], abs=1e-9)
    ctx = AssessContext(task=TEXT_CLASSIFICATION, model=None, train=None, test=None,
                        predictions=pd.DataFrame(), outputs=files)
    latest = SentimentIndexIndicator(IndexIndicatorParams()).compute(ctx)[0]
    assert [plot.title for plot in latest.plots] == [
        "Sentiment index (share positive - share negative)",
        "Sentiment index by language (adjusted)"]
    assert [s["label"] for s in latest.plots[1].data["series"]] == [
        "en (language matrix)", "fr (language matrix)"]


def test_languages_adjusted_with_the_pooled_matrix_are_all_named(fitted) -> None:
    """Twelve languages without labelled tweets are named (eight, and how many more), and
    tweets of undetermined language are said to use the pooled matrix too."""
    langs = ["ar", "da", "el", "es", "fi", "it", "ja", "ko", "nl", "pl", "pt", "sv"]
    predicted = pd.DataFrame({"language": [*langs, "en", "und", "und"]})
    notes: list[str] = []
    own = fitted._own_matrices(fitted.state["confusion_by_language"], "validation", predicted,
                               notes)
    assert set(own) == {"en"}
    assert notes == [
        "language(s) ar, da, el, es, fi, it, ja, ko and 4 more: no labelled tweets in the "
        "validation; their tweets are adjusted with the pooled confusion matrix",
        "2 tweet(s) of undetermined language (und) are adjusted with the pooled confusion "
        "matrix"]


def test_an_index_by_language_is_not_left_beside_a_later_pooled_one(fitted, tmp_path: Path
                                                                     ) -> None:
    """`--output week.csv` by language, then pooled: the earlier week_by_language.csv would
    pass for the new index's; it is removed. Without adjustment the by-language file says no
    matrix was applied, and its plot is not called adjusted."""
    from mlstat_twitter.indicators import SentimentIndexIndicator
    from mlstat_twitter.params import IndexIndicatorParams

    from mlstat_core.components import AssessContext
    from mlstat_core.tasks import TEXT_CLASSIFICATION

    path = tmp_path / "stream.csv"
    _small_stream(language=["en", "fr"] * 60).to_csv(path, index=False)
    out = tmp_path / "out"
    out.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = fitted.index_stream(path, out, {}, IndexParams(
            period="month", bootstrap=50, adjust=False, confusion_by="language"),
            name="week.csv")
        assert set(pd.read_csv(raw[3])["confusion"]) == {"none"}
        ctx = AssessContext(task=TEXT_CLASSIFICATION, model=None, train=None, test=None,
                            predictions=pd.DataFrame(), outputs=raw)
        plot = SentimentIndexIndicator(IndexIndicatorParams(file="week.csv")).compute(ctx)[0] \
            .plots[1]
        assert plot.title == "Sentiment index by language (raw)"
        assert [s["label"] for s in plot.data["series"]] == ["en", "fr"]
        fitted.index_stream(path, out, {}, IndexParams(period="month", bootstrap=50),
                            name="week.csv")
    assert sorted(p.name for p in out.iterdir()) == ["week.csv", "week.json",
                                                     "week_predictions.csv"]
    # a file of that name that no earlier index wrote is the user's: left alone
    mine = out / "week_by_language.csv"
    mine.write_text("language,my counts\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted.index_stream(path, out, {}, IndexParams(period="month", bootstrap=50),
                            name="week.csv")
    assert mine.read_text() == "language,my counts\n"
    assert not [w for w in caught if "removed" in str(w.message)]


def test_the_language_plot_shows_the_languages_with_the_most_tweets(tmp_path: Path) -> None:
    """Ten languages: the plot keeps the eight with the most tweets (line styles repeat and a
    crowded plot is unreadable) and says so; a language never published is not a line."""
    from mlstat_twitter.indicators import _language_plot

    rows = [{"language": f"l{i}", "confusion": "pooled", "period": "2024-01",
             "start": "2024-01-01", "n": 100 - i, "status": "ok" if i != 3 else "too_few",
             "index": 0.1 * i / 10} for i in range(11)]
    path = tmp_path / "week_by_language.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    (plot,) = _language_plot(path, [path])
    assert plot.title == ("Sentiment index by language (adjusted): the 8 of 10 languages with "
                          "the most tweets")
    assert [s["label"].split()[0] for s in plot.data["series"]] == [
        "l0", "l1", "l2", "l4", "l5", "l6", "l7", "l8"]


@pytest.mark.parametrize(("rerun", "stops_at"), [
    ("pooled", "week.csv"),
    ("language", "week_predictions.csv"),
    ("language", "week_by_language.csv"),
    ("language", "week.csv"),
])
def test_an_interrupted_index_still_removes_the_earlier_by_language_file(
        fitted, tmp_path: Path, monkeypatch, rerun: str, stops_at: str) -> None:
    """An index by language, then a rerun interrupted while writing one of its files: the
    by-language file on disk stays on record (the JSON is written before it), so the next
    pooled index removes it instead of leaving it beside itself as its own."""
    import mlstat_twitter.models as models

    path = tmp_path / "stream.csv"
    _small_stream(language=["en", "fr"] * 60).to_csv(path, index=False)
    out = tmp_path / "out"
    out.mkdir()
    write = models.atomic_write_text

    def interrupted(target: Path, text: str) -> None:
        if Path(target).name == stops_at:
            raise KeyboardInterrupt
        write(target, text)

    def index(confusion_by: str) -> None:
        fitted.index_stream(path, out, {}, IndexParams(period="month", bootstrap=50,
                                                       confusion_by=confusion_by),
                            name="week.csv")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index("language")
        monkeypatch.setattr(models, "atomic_write_text", interrupted)
        with pytest.raises(KeyboardInterrupt):
            index(rerun)
        monkeypatch.setattr(models, "atomic_write_text", write)
        assert (out / "week_by_language.csv").exists()
        index("pooled")
    assert not (out / "week_by_language.csv").exists()
