"""Tweet cleaning cases, idempotency, offline language identification, the transform."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from mlstat_twitter.normalise import TweetNormaliser, identify_language, split_hashtag
from mlstat_twitter.params import NormaliseParams, TransformParams
from mlstat_twitter.transforms import NormaliseTransform

from mlstat_core.components import ColumnRoles

CASES = [
    ("@bob Sooooo happy!!!! https://t.co/xyz", "_user_ soo happy _excl_ _excl_ _url_"),
    ("Vraiment?? Non!", "vraiment _quest_ _quest_ non _excl_"),
    (r'i\u2019m sorry\u002c \"so\" \ud83d\ude02', 'i\u2019m sorry, "so" _e1f602_'),
    ("#BlackFriday2017 deals", "black friday 2017 deals"),
    ("J'adore 😂😂 :)", "j'adore _e1f602_ _e1f602_ _smile_"),
    ("Thumbs 👍🏽 <3", "thumbs _e1f44d_ _heart_"),
    ("Grâce au #Github http via @user", "grâce au github _url_ via _user_"),
    ("so sad :( &amp; tired", "so sad _sad_ & tired"),
    ("#TrumpTransitionTeam@JimWebbUSA", "trump transition team _user_"),
    ("#alAmn#MosulOps#iraq", "al amn mosul ops iraq"),
    ("Super!:) ok?;-) :)😂 ^^^^",
     "super _excl_ _smile_ ok _quest_ _wink_ _smile_ _e1f602_ _smile_"),
    ("Ooooh Großspende &amp;amp; mehr", "ooh grosspende & mehr"),
    # a t.co link ends at its last letter or digit: what is glued to it is kept
    ("great https://t.co/abc#VisitBelgium!", "great _url_ visit belgium _excl_"),
    ("Stop TPP (https://t.co/vd7t22SVe7)!", "stop tpp ( _url_ ) _excl_"),
    # other links keep their query and fragment, not the marks that end a sentence
    ("see https://example.org/a?b=1#top! or www.x.be.", "see _url_ _excl_ or _url_ ."),
    ("(https://en.wikipedia.org/wiki/Gent_(stad))?", "( _url_ ) _quest_"),
    ("Awww.... so cute, see www.vrt.be.", "aww.. so cute, see _url_ ."),  # awww is no link
    # elongation cuts letters and marks, not digits nor an emoji token's hex digits
    ("Sooo nice 🌳 👄", "soo nice _e1f333_ _e1f444_"),
    ("1000 people in 2000!!!!", "1000 people in 2000 _excl_ _excl_"),
    # German quotes close with “ and ‘, which end a sentence after a link
    ("Lies „https://zeit.de/a“!", "lies „ _url_ “ _excl_"),
]


@pytest.mark.parametrize(("raw", "clean"), CASES)
def test_cleaning_cases(raw: str, clean: str) -> None:
    n = TweetNormaliser()
    assert n.one(raw) == clean
    assert n.one(clean) == clean  # idempotent: model and preprocess step may both clean


def test_cleaning_twice_changes_no_bundled_tweet() -> None:
    """The model cleans again after a twitter.normalise step: a second pass must be a no-op."""
    from mlstat_twitter.loaders import UmsabLoader
    from mlstat_twitter.params import UmsabParams

    texts = UmsabLoader(UmsabParams()).load(Path(".")).frame["text"].tolist()
    assert len(texts) == 9099  # every bundled UMSAB tweet, en + fr + de, all splits
    for params in (NormaliseParams(), NormaliseParams(elongation=1, numbers=True)):
        n = TweetNormaliser(params)
        changed = [t for t, once in zip(texts, n(texts), strict=True) if n.one(once) != once]
        assert changed == [], f"{len(changed)} tweets change when cleaned twice: {changed[:3]}"


def test_switches_and_missing() -> None:
    n = TweetNormaliser(NormaliseParams(hashtags="drop", emoji="drop", elongation=0,
                                        lowercase=False, numbers=True))
    assert n.one("Goooal #WorldCup 😂 in 90 minutes") == "Goooal in _num_ minutes"
    plain = TweetNormaliser(NormaliseParams(escapes=False, marks=False))
    assert plain.one("ok?! i\\u2019m") == "ok?! i\\u2019m"
    assert TweetNormaliser().one("a \\ud83d b") == "a b"  # a lone surrogate is dropped
    one = TweetNormaliser(NormaliseParams(elongation=1))
    assert one.one("Sooo good 👍 🇮🇪") == "so god _e1f44d_ _e1f1ee_ _e1f1ea_"
    numbers = TweetNormaliser(NormaliseParams(numbers=True))  # one number, one token
    assert numbers.one("1,000,000 views, 2.000.000,50 € or 3.5") == "_num_ views, _num_ € or _num_"
    assert TweetNormaliser().one("1,000,000 views") == "1,000,000 views"  # digits not cut
    assert n([None, float("nan"), "x"]) == ["", "", "x"]
    assert split_hashtag("blackfriday") == "blackfriday"
    assert split_hashtag("MakeAmericaGreatAgain") == "Make America Great Again"


def test_language_identification_on_known_sentences() -> None:
    texts = ["I really love this new phone, it is amazing",
             "Je suis vraiment très content de ce nouveau téléphone",
             "Ich bin heute sehr glücklich über das schöne Wetter",
             "Ik ben vandaag heel blij met het mooie weer",
             "@user 😂 http"]
    assert identify_language(texts, ["en", "fr", "de", "nl"]) == ["en", "fr", "de", "nl", "und"]


def test_transform_fills_language_and_keeps_records() -> None:
    frame = pd.DataFrame({"text": ["Wat een prachtige dag in Gent #ZonnigWeer",
                                   "What a lovely day"],
                          "language": [None, "en"]}, index=[5, 9])
    out = NormaliseTransform(TransformParams()).transform(frame, ColumnRoles(text=["text"]))
    assert out.index.equals(frame.index)
    assert list(out["language"]) == ["nl", "en"]
    assert out.loc[5, "text"] == "wat een prachtige dag in gent zonnig weer"
    without = frame.drop(columns="language")
    out = NormaliseTransform(TransformParams()).transform(without, ColumnRoles(text=["text"]))
    assert list(out["language"]) == ["nl", "en"]


def test_a_dutch_ij_stays_one_capital_in_a_split_hashtag() -> None:
    clean = TweetNormaliser()
    assert clean.one("#IJzerwake en #VisitIJsland") == "ijzerwake en visit ijsland"
    # an acronym before a capital word keeps its letters: AI Jobs, not A IJobs
    assert clean.one("#AIJobs #FBIJobs #BlackFriday2017") == "ai jobs fbi jobs black friday 2017"
