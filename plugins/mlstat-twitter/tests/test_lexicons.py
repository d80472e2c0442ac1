"""Lexicon polarity tokens: French, German and emoji lexicons read from their wheels, negation,
German endings, and models that keep the lexicons they were trained with."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from mlstat_twitter import lexicons
from mlstat_twitter.lexicons import (
    default_lexicons,
    emoji_score,
    lexicon_tokens,
    word_polarities,
    word_score,
)
from mlstat_twitter.models import SentimentModel

from mlstat_core.errors import ModelError

ALL = default_lexicons()


def test_lexicons_load_from_their_wheels_without_importing_textblob() -> None:
    import sys

    assert len(word_polarities("pattern-fr")) > 3000
    assert len(word_polarities("polarity-de")) > 5000
    assert len(word_polarities("pattern-nl")) > 2500
    assert word_polarities("pattern-fr")["magnifique"] > 0 > word_polarities("pattern-fr")[
        "horrible"]
    assert "textblob" not in sys.modules and "nltk" not in sys.modules


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("Un film magnifique, vraiment génial", "fr", "pos"),
    ("Quel service horrible et nul", "fr", "neg"),
    ("Ce n'est pas génial", "fr", "neg"),  # negation flips the next words
    ("C'est le plus beau jour de ma vie", "fr", "pos"),  # plus alone is "more"
    ("Ce n'est plus beau", "fr", "neg"),  # ne ... plus
    ("Pas de souci. Magnifique !", "fr", "pos"),  # a mark ends the negation
    ("Nicht schlecht. Super schön!", "de", "pos"),
    ("Das war eine schöne und gute Zeit", "de", "pos"),  # schöne -> schön
    ("Das Essen war nicht gut", "de", "neg"),
    ("Ein schrecklicher Tag", "de", "neg"),
    ("Wat een mooie dag", "nl", "pos"),  # mooie -> mooi
    ("Een grote, leuke stad", "nl", "pos"),  # grote -> groot
    ("Dat was echt niet leuk", "nl", "neg"),
    ("De saaiste film ooit", "nl", "neg"),  # saaiste -> saai
])
def test_word_scores_have_the_right_sign(text: str, language: str, expected: str) -> None:
    score, found = word_score(text, language)
    assert found >= 1
    assert (score > 0) == (expected == "pos")
    assert f"_lex_{expected}_" in lexicon_tokens(text, language, ALL)


def test_no_lexicon_word_gives_a_neutral_token_and_other_languages_none() -> None:
    assert word_score("Le train part à 9 heures", "fr")[1] == 0
    assert lexicon_tokens("Le train part à 9 heures", "fr", ALL).split() == ["_lex_neu_"]
    assert lexicon_tokens("Mi piace questo tempo", "it", ALL) == ""  # no Italian lexicon
    assert lexicon_tokens(None, "fr", ALL).split() == ["_lex_neu_"]


def test_emoji_tokens_for_every_language_and_escaped_emoji() -> None:
    assert emoji_score("super 😍😍")[0] > 0 and emoji_score("😡")[0] < 0
    assert "_emo_pos_" in lexicon_tokens("Ik hou van dit weer 😍", "nl", ALL)
    assert "_emo_neg_" in lexicon_tokens("Das Wetter \\ud83d\\ude21", "de", ALL)
    assert "_emo_" not in lexicon_tokens("no emoji here", "en", ALL)
    assert "_emo_" not in lexicon_tokens("super 😍", "fr", ["pattern-fr"])


def test_missing_lexicon_package_names_the_install(monkeypatch) -> None:
    monkeypatch.setitem(lexicons._SOURCES, "pattern-fr",
                        ("textblob-fr", "no_such_package_xyz", "fr-sentiment.xml"))
    lexicons.word_polarities.cache_clear()
    try:
        with pytest.raises(ModelError,
                           match=r"pip install textblob-fr.*lexicon = false in \[model\]"):
            word_polarities("pattern-fr")
    finally:
        monkeypatch.undo()
        lexicons.word_polarities.cache_clear()


def test_model_records_its_lexicons_and_an_old_model_keeps_vader_only(
        fitted, small_parts, tmp_path: Path) -> None:
    _, _, test = small_parts
    assert fitted.state["lexicons"] == ALL
    french = pd.DataFrame({"text": ["Un film magnifique"], "language": ["fr"]})
    assert "_lex_pos_" in fitted.prepared(french)["__tweet__"].iloc[0]
    fitted.save(tmp_path / "model")
    state_file = next(p for p in (tmp_path / "model").glob("*.json")
                      if "lexicons" in p.read_text(encoding="utf-8"))
    saved = json.loads(state_file.read_text(encoding="utf-8"))
    del saved["state"]["lexicons"]  # as written before the French, German and emoji lexicons
    state_file.write_text(json.dumps(saved), encoding="utf-8")
    old = SentimentModel.load(tmp_path / "model")
    assert old.lexicons() == ["vader"]
    assert "_lex_" not in old.prepared(french)["__tweet__"].iloc[0]
    english = pd.DataFrame({"text": ["I love it"], "language": ["en"]})
    assert "_lex_pos_" in old.prepared(english)["__tweet__"].iloc[0]


def test_cleaned_text_scores_like_raw_text() -> None:
    from mlstat_twitter.normalise import TweetNormaliser
    from mlstat_twitter.params import NormaliseParams

    clean = TweetNormaliser(NormaliseParams())
    for text, language in (("Das ist scheiße!!! 😡 @user http", "de"),
                           ("Ce n'est pas génial 😍 #Paris", "fr")):
        cleaned = clean([text])[0]
        assert "_e1f" in cleaned and "ß" not in cleaned  # emoji tokens, case folding
        assert lexicon_tokens(cleaned, language, ALL) == lexicon_tokens(text, language, ALL)
        assert "_emo_" in lexicon_tokens(cleaned, language, ALL)
        assert word_score(cleaned, language) == word_score(text, language)
        assert word_score(cleaned, language)[1] == 1  # scheiße / scheisse, génial


@pytest.mark.parametrize(("word", "language", "base"), [
    ("schöne", "de", "schön"), ("grote", "nl", "groot"), ("dikke", "nl", "dik"),
    ("lieve", "nl", "lief"), ("mooiste", "nl", "mooi"), ("slechtere", "nl", "slecht"),
])
def test_base_forms_undo_inflection(word: str, language: str, base: str) -> None:
    from mlstat_twitter.lexicons import base_forms

    assert base in base_forms(word, language)
    assert base in word_polarities(lexicons.LANGUAGE_LEXICONS[language])


def test_a_model_scored_by_another_version_of_the_tweet_cleaning_says_so(
        fitted, small_parts, tmp_path: Path, monkeypatch) -> None:
    """The tweet cleaning changed (100,000 had been cut to 100,00): a model trained before
    scored such tweets otherwise, without a word. It now keeps how its cleaning treated a set
    of probe tweets and warns where the installed cleaning differs, or keeps no sample."""
    import warnings

    from mlstat_twitter import normalise

    from mlstat_core.cleaning import CleaningChangedWarning

    _, _, test = small_parts
    fitted.save(tmp_path / "model")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CleaningChangedWarning)
        SentimentModel.load(tmp_path / "model").predict(test.frame.head(5))
    monkeypatch.setattr(normalise, "USER_TOKEN", "@user")  # rules of another version
    with pytest.warns(CleaningChangedWarning, match="another version of the tweet cleaning of "
                      "mlstat-twitter .*for example '.@BarackObama sent over 100,000 jobs"):
        SentimentModel.load(tmp_path / "model").predict(test.frame.head(5))
    older = SentimentModel.load(tmp_path / "model")
    del older.state["cleaning"]  # saved before samples were kept: its base model kept none
    del older.base.extra_state["cleaning"]
    with pytest.warns(CleaningChangedWarning) as caught:
        older.predict(test.frame.head(5))
    assert [str(w.message)[:56] for w in caught  # one warning, of the tweet cleaning
            if w.category is CleaningChangedWarning] == [
        "this model keeps no sample of the tweet cleaning of mlst"]


def test_the_normalise_step_checks_its_cleaning_when_loaded(tmp_path: Path,
                                                            monkeypatch) -> None:
    """twitter.normalise as a [[preprocess]] step cleans new tweets with the installed
    rules: a step saved by another version says so when it is loaded."""
    import warnings

    from mlstat_twitter import normalise
    from mlstat_twitter.transforms import CLEANING_FILE, NormaliseTransform

    from mlstat_core.cleaning import CleaningChangedWarning

    NormaliseTransform().save(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CleaningChangedWarning)
        NormaliseTransform().load_state(tmp_path)
    monkeypatch.setattr(normalise, "USER_TOKEN", "@user")
    with pytest.warns(CleaningChangedWarning, match=r"tweet cleaning of mlstat-twitter "
                      r"\(twitter.normalise\) than the installed one"):
        NormaliseTransform().load_state(tmp_path)
    (tmp_path / CLEANING_FILE).unlink()
    with pytest.warns(CleaningChangedWarning, match="keeps no sample"):
        NormaliseTransform().load_state(tmp_path)
