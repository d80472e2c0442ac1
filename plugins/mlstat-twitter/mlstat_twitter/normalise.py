"""Tweet cleaning and offline language identification.

Cleaning is pure Python (standard library) and **idempotent**: cleaning a cleaned tweet changes
nothing, so the model's own cleaning and a ``twitter.normalise`` preprocessing step may both be
applied. Steps, each switchable through :class:`~mlstat_twitter.params.NormaliseParams`, in
an order chosen so that no step uncovers work for an earlier one:

0. literal JSON escapes decoded (``i\\u2019m`` -> ``i’m``: 8% of UMSAB's English tweets) and
   HTML entities (``&amp;amp;`` -> ``&``) until none is left;
1. URLs (and the bare ``http`` left by UMSAB's masking) -> ``_url_``, a hashtag or mark glued
   to one kept (``https://t.co/2hGT23JyGz#FidelCastro``); ``@mentions`` -> ``_user_``;
   hashtags and mentions written together (``#alAmn#MosulOps``, ``#a@b``) are separated first;
2. hashtags split on case and digits (``#BlackFriday2017`` -> ``black friday 2017``; the Dutch
   ``IJ`` is one capital: ``#VisitIJsland`` -> ``visit ijsland``); an
   all-lowercase hashtag cannot be split without a dictionary and is kept as one word;
3. emoji -> one word token per emoji (``_e1f602_``, skin tones and joiners dropped);
4. character elongation cut (``soooo`` -> ``soo``, ``Oooo`` -> ``Oo``, ``!!!!`` -> ``!!``;
   digits and emoji tokens stay whole: ``2000``, ``_e1f333_``);
5. ``!`` and ``?`` -> ``_excl_``, ``_quest_`` (word tokens that a model's own cleaning keeps);
6. common emoticons -> ``_smile_``, ``_sad_``, ``_wink_``, ``_laugh_``, ``_heart_`` (after the
   marks and emoji, so ``great!:)`` and ``:)😂`` are found in one pass);
7. case folding (elongation cut again where folding lengthened a word: ``ß`` -> ``ss``),
   optional ``_num_`` for numbers, white space collapsed.

Language identification uses py3langid, whose model ships inside its wheel (nothing is
downloaded); it is restricted to the languages a pipeline expects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from mlstat_core.errors import DataError
from mlstat_twitter.params import NormaliseParams

URL_TOKEN = "_url_"
USER_TOKEN = "_user_"
UNKNOWN_LANGUAGE = "und"

# a t.co link ends at its last letter or digit (X writes ``https://t.co/`` + 10 of them), so
# a hashtag or mark glued to it stays; any other link runs to the next space (a ``#fragment``
# or ``?query`` is its own), less trailing marks (:func:`_url_and_tail`); ``www.`` starts a
# link only as a word of its own followed by a name (``Awww.... so cute`` has none)
_URL_RE = re.compile(r"https?://t\.co/[a-z0-9]*|https?://\S+|(?<!\w)www\.(?=\w)\S+"
                     r"|\bhttps?\b(?!\w)", re.IGNORECASE)
_URL_TAIL = ".,:;!?)]>…'\"‘’“”»"  # the German „…“ and ‚…‘ close with “ and ‘
_USER_RE = re.compile(r"(?<![\w@])@+\w+")
_HASHTAG_RE = re.compile(r"(?<![\w#])#+(\w+)")
# the Dutch IJ is one capital where no capital precedes it (IJsland; AIJobs is AI Jobs; the
# ambiguous NOSIJzer splits as "nosi jzer", the price of keeping acronyms whole)
_CAMEL_RE = re.compile(r"(?<![A-ZÀ-ÖØ-Þ])IJ[a-zß-ÿ]+"
                       r"|[A-ZÀ-ÖØ-Þ]+(?=[A-ZÀ-ÖØ-Þ][a-zß-ÿ])|[A-ZÀ-ÖØ-Þ]?[a-zß-ÿ]+|[A-ZÀ-ÖØ-Þ]+"
                       r"|\d+|[^\W\d_]+")
# an emoji token is matched whole so that its hex digits are never cut (``_e1f333_``)
_ELONG_RES = {n: re.compile(r"_e[0-9a-f]+_|(\D)\1{" + str(n) + r",}", re.IGNORECASE)
              for n in (1, 2, 3)}
_CHAIN_RE = re.compile(r"(?<![\w#@])[#@]+\w+(?:[#@]+\w+)+")
_CHAIN_JOIN_RE = re.compile(r"(?<=\w)(?=[#@])")
_ENTITIES = (("&gt;", ">"), ("&lt;", "<"))
_NUMBER_RE = re.compile(r"(?<!\w)\d+(?:[.,]\d+)*(?!\w)")  # 1,000,000 and 2.000,50 are one
_SPACE_RE = re.compile(r"\s+")
_ESCAPE_RE = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|\\u([0-9a-f]{4})|\\(\")",
                        re.IGNORECASE)
_MARKS = (("!", " _excl_ "), ("?", " _quest_ "))
_EMOJI_RANGES = (
    (0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2300, 0x23FF), (0x2B00, 0x2BFF),
    (0x2190, 0x21FF), (0x3030, 0x303D), (0x3297, 0x3299),
)
_EMOJI_SILENT = {0x200D, 0xFE0F, 0xFE0E, 0x20E3} | set(range(0x1F3FB, 0x1F400))
_EMOTICONS = [
    (re.compile(r"(?<!\S)(?:<3+|&lt;3+)(?!\S)"), "_heart_"),
    (re.compile(r"(?<!\S)(?:[:=]-?\)+|\(+-?[:=]|\^_*\^)(?!\S)"), "_smile_"),
    (re.compile(r"(?<!\S)(?:[:=]-?D+|xD+|XD+)(?!\S)"), "_laugh_"),
    (re.compile(r"(?<!\S)(?:;-?\)+|;-?D)(?!\S)"), "_wink_"),
    (re.compile(r"(?<!\S)(?:[:=]'?-?\(+|\)+-?[:=]|:/|:-/)(?!\S)"), "_sad_"),
]


def _unescape(match: re.Match) -> str:
    high, low, single, quote = match.groups()
    if quote:
        return quote
    if single:
        code = int(single, 16)
        return "" if 0xD800 <= code <= 0xDFFF else chr(code)  # a lone surrogate: dropped
    return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + int(low, 16) - 0xDC00)


def decode_escapes(text: str) -> str:
    """Literal JSON escapes left in a text (``i\\u2019m``, ``\\ud83d\\ude02``, ``\\"``)
    -> the characters (``i’m``, the emoji, ``"``)."""
    return _ESCAPE_RE.sub(_unescape, text) if "\\" in text else text


def is_emoji(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _EMOJI_RANGES)


def split_hashtag(tag: str) -> str:
    """``BlackFriday2017`` -> ``Black Friday 2017``; ``blackfriday`` stays as it is."""
    parts = _CAMEL_RE.findall(tag.replace("_", " "))
    return " ".join(parts) if parts else tag


def _emoji_tokens(text: str, keep: bool) -> str:
    if not any(ord(c) >= 0x2190 for c in text):
        return text
    out: list[str] = []
    for char in text:
        code = ord(char)
        if code in _EMOJI_SILENT:
            continue
        if code >= 0x2190 and is_emoji(char):
            out.append(f" _e{code:x}_ " if keep else " ")
        else:
            out.append(char)
    return "".join(out)


def _decode(s: str, escapes: bool) -> str:
    """JSON escapes (when ``escapes``), then HTML entities, until none is left."""
    for _ in range(4):
        before = s
        if escapes:
            s = decode_escapes(s)
        while "&amp;" in s:
            s = s.replace("&amp;", "&")
        for entity, char in _ENTITIES:
            s = s.replace(entity, char)
        if s == before:
            break
    return s


def _url_and_tail(match: re.Match) -> str:
    """``_url_`` for a link, and the marks that end a sentence after it (``.,:;!?)…``, quotes)
    kept: ``(see https://example.org/a)!`` ends in ``) !``; a ``)`` that closes a ``(`` in
    the link (``https://en.wikipedia.org/wiki/Gent_(stad)``) is the link's."""
    url = match.group(0)
    end, opened, closed = len(url), url.count("("), url.count(")")
    while end and url[end - 1] in _URL_TAIL and (url[end - 1] != ")" or closed > opened):
        if url[end - 1] == ")":
            closed -= 1
        end -= 1
    return f" {URL_TOKEN} {url[end:]}"


def _cut_elongation(s: str, n: int) -> str:
    """Runs longer than ``n`` of one character (any case) cut to their first ``n``; emoji
    tokens (``_e1f333_``, ``_e1f44d_``) are left whole."""
    if not n:
        return s
    return _ELONG_RES[n].sub(lambda m: m.group(0)[:n] if m.group(1) else m.group(0), s)


TWEET_PROBES = (
    ".@BarackObama sent over 100,000 jobs to #MexicoAndChina http://t.co/x1",
    "Castrohttps://t.co/abc#FidelCastro is dead", "Awww.... sooooo GOOOOD!!! 😍😍 :-)",
    "i\\u2019m @user_1 at www.example.com?? #MondayMotivation #a#b", "RT @x: 3-1 (4-5-1):",
    "Très bien!!! c'est génial 👍🏽", "Das ist sooo schlecht... #EpicFail @DB_Bahn 12.000",
)
"""Tweets that exercise every cleaning step (links, mentions, hashtags, emoji, emoticons,
elongation, marks, escapes, numbers): a model keeps how they were cleaned when it trained
(:func:`mlstat_core.cleaning.cleaning_sample`) and warns where they are cleaned otherwise
when it scores (another version of this plugin)."""
TWEET_CLEANING_CHANGES = ("the cleaning changed on 2026-11-30 (numbers such as 100,000, a "
                          "link glued to a word or hashtag), so a model trained before then "
                          "scores such tweets otherwise")


class TweetNormaliser:
    """Callable that cleans tweets according to :class:`NormaliseParams`."""

    def __init__(self, params: NormaliseParams | dict | None = None) -> None:
        self.params = params = NormaliseParams.model_validate(params or {})

    def one(self, text: object) -> str:
        """Clean one tweet; missing values (None, NaN) become the empty string."""
        if text is None or (isinstance(text, float) and text != text):
            return ""
        p = self.params
        s = _decode(str(text), p.escapes)
        s = self._tags(s)
        s = _emoji_tokens(s, p.emoji == "token")
        s = _cut_elongation(s, p.elongation)
        if p.marks:
            for mark, token in _MARKS:
                s = s.replace(mark, token)
        if p.emoji == "token":
            for pattern, token in _EMOTICONS:
                s = pattern.sub(f" {token} ", s)
        if p.lowercase:
            folded = s.casefold()
            s = _cut_elongation(folded, p.elongation) if len(folded) != len(s) else folded
        if p.numbers:
            s = _NUMBER_RE.sub("_num_", s)  # no spaces added: "(4-5-1):" is no emoticon
        return _SPACE_RE.sub(" ", s).strip()

    def _tags(self, s: str) -> str:
        """Links, mentions and hashtags (``#a#b`` and ``#a@b`` separated first)."""
        p = self.params
        if p.users or p.hashtags != "keep":
            s = _CHAIN_RE.sub(lambda m: _CHAIN_JOIN_RE.sub(" ", m.group(0)), s)
        if p.urls:
            s = _URL_RE.sub(_url_and_tail, s)
        if p.users:
            s = _USER_RE.sub(f" {USER_TOKEN} ", s)
        if p.hashtags == "split":
            s = _HASHTAG_RE.sub(lambda m: f" {self._hashtag_words(m.group(1))} ", s)
        elif p.hashtags == "drop":
            s = _HASHTAG_RE.sub(" ", s)
        return s

    def _hashtag_words(self, tag: str) -> str:
        """A split hashtag; a word ``http`` in it becomes ``_url_`` as a bare one would."""
        words = split_hashtag(tag)
        return _URL_RE.sub(f" {URL_TOKEN} ", words) if self.params.urls else words

    def __call__(self, texts: Iterable[object]) -> list[str]:
        """Clean many tweets; each distinct text is cleaned once."""
        cache: dict[object, str] = {}
        out = []
        for t in texts:
            key = t if isinstance(t, str) else repr(t)
            cleaned = cache.get(key)
            if cleaned is None:
                cleaned = cache[key] = self.one(t)
            out.append(cleaned)
        return out


# --- language identification ------------------------------------------------------------

_TOKEN_RE = re.compile(r"_(?:url|user|num|smile|sad|wink|laugh|heart|excl|quest|e[0-9a-f]+)_")


@lru_cache(maxsize=8)
def _identifier(languages: tuple[str, ...]):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    unknown = sorted(set(languages) - set(identifier.nb_classes))
    if unknown:  # a py3langid older than the codes the params accept
        raise DataError(f"the installed py3langid cannot identify {', '.join(unknown)}; "
                        "remove them from [model.language] languages or upgrade py3langid")
    if languages:
        identifier.set_languages(list(languages))
    return identifier


OTHER_LANGUAGE_CONFIDENCE = 0.9
"""How sure the unrestricted identifier must be of a language outside the expected ones to
name it rather than the closest expected one: a Spanish tweet is ``es``, reported as a
language the model never saw, not silently scored as French. (On UMSAB's 2,610 English,
French and German test tweets, none is named another language this surely.)"""


def identify_language(texts: Iterable[object], languages: Iterable[str] = ()) -> list[str]:
    """ISO 639-1 code of each text (``und`` for texts with no words), offline (py3langid):
    one of ``languages`` (all the identifier knows when empty), unless the text is at least
    :data:`OTHER_LANGUAGE_CONFIDENCE` surely in another language, which is then named."""
    wanted = tuple(sorted(set(languages)))
    identifier = _identifier(wanted)
    anywhere = _identifier(()) if wanted else None
    cleaner = TweetNormaliser(NormaliseParams(lowercase=False))
    out: list[str] = []
    cache: dict[str, str] = {}
    for text in texts:
        cleaned = _TOKEN_RE.sub(" ", cleaner.one(text)).strip()
        if not any(c.isalpha() for c in cleaned):
            out.append(UNKNOWN_LANGUAGE)
            continue
        code = cache.get(cleaned)
        if code is None:
            other, sure = anywhere.classify(cleaned) if anywhere else (None, 0.0)
            code = cache[cleaned] = str(
                other if other not in identifier.nb_classes and sure >= OTHER_LANGUAGE_CONFIDENCE
                else identifier.classify(cleaned)[0])
        out.append(code)
    return out
