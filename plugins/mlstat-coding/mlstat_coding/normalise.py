"""Text normalisation for coding: the same cleaning at training and at prediction time.

Pure Python (standard library only). Speed comes from working on the distinct texts of a batch
(product names repeat a lot), from ``str.translate`` tables and from compiled regular
expressions; per-record work is a handful of C-level string operations.

Steps, each switchable through :class:`~mlstat_coding.params.NormaliseParams`:

1. Unicode NFKC (full-width digits, ligatures, non-breaking spaces; ``1½`` is read ``1 1⁄2``);
2. words that mix Latin and Cyrillic letters are written in one script (always, whatever the
   params): in Cyrillic when typed with Latin look-alikes (``Mлeкo`` with Latin M, e, o), else in
   Latin as a Serbian reads them (``Šećер`` -> ``Šećer``, ``Вoda`` -> ``Voda``); a Cyrillic ``х``
   between two numbers (``6х1,5л``) is the sign ``x``;
3. Serbian Cyrillic -> Gaj's Latin (``Млеко`` and ``Mleko``, ``ЉУТО`` and ``LJUTO`` become the same
   text);
4. case folding;
5. numbers with units (``46 g``, ``0,5l``, ``500ml``, ``1,5 kg``, ``1/2 kg``, ``1,5 litra``,
   ``200 gramów``) -> a canonical amount and a unit-class token (``500ml _vol_``,
   ``46g _mass_``), bare numbers -> ``_num_`` (or kept / dropped);
6. optional removal of diacritics (``ł`` -> ``l``, ``č`` -> ``c``);
7. punctuation -> spaces, per-language stop words, short tokens.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from mlstat_coding.params import NormaliseParams

_CYR = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Ђ": "Đ", "Е": "E", "Ж": "Ž", "З": "Z",
    "И": "I", "Ј": "J", "К": "K", "Л": "L", "Љ": "Lj", "М": "M", "Н": "N", "Њ": "Nj", "О": "O",
    "П": "P", "Р": "R", "С": "S", "Т": "T", "Ћ": "Ć", "У": "U", "Ф": "F", "Х": "H", "Ц": "C",
    "Ч": "Č", "Џ": "Dž", "Ш": "Š",
}
CYRILLIC_TO_LATIN = str.maketrans({**_CYR, **{k.lower(): v.lower() for k, v in _CYR.items()}})
"""Serbian Cyrillic to Latin (Gaj's alphabet), as a ``str.translate`` table."""

# letters that do not decompose under NFKD; đ is written dj without diacritics (Djordje,
# djevreci), as Serbian and Croatian texts typed in ASCII and passports write it
_NO_DECOMPOSE = str.maketrans({"ł": "l", "Ł": "L", "đ": "dj", "Đ": "Dj", "ø": "o", "Ø": "O",
                               "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE"})
_COMBINING = re.compile(r"[\u0300-\u036f]")

# Latin and Serbian Cyrillic letters that look the same (capitals A B C E H J K M O P T X, small
# a c e j o p x y, and k, near enough to к). A word holding both scripts is a typist's mix
_LOOK_ALIKES = "AАBВCСEЕHНJЈKКMМOОPРTТXХaаcсeеjјkкoоpрxхyу"
_LATIN_LOOK_ALIKES, _CYRILLIC_LOOK_ALIKES = frozenset(_LOOK_ALIKES[0::2]), frozenset(
    _LOOK_ALIKES[1::2])
_LATIN_TO_CYRILLIC = str.maketrans(_LOOK_ALIKES[0::2], _LOOK_ALIKES[1::2])
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"  # ASCII, Latin-1 and Extended-A/B letters
_ANY_CYRILLIC = "\u0400-\u04ff"
_ANY_CYRILLIC_RE = re.compile(f"[{_ANY_CYRILLIC}]")
_LETTERS = r"[^\W\d_]"
_MIXED = rf"[{_LATIN}][{_ANY_CYRILLIC}]|[{_ANY_CYRILLIC}][{_LATIN}]"  # a Latin letter by a Cyrillic
_MIXED_RE = re.compile(_MIXED)
_LETTER_RE = re.compile(_LETTERS)
_LETTERS_RE = re.compile(_LETTERS + "*")
_LATIN_LETTER_RE = re.compile(f"[{_LATIN}]")
_CYRILLIC_TIMES_RE = re.compile(r"(\d\s*)[хХ](?=\s*\d)")  # 6х1,5л: х is the sign x

# unit -> (class token, factor to the base unit, base unit)
UNITS: dict[str, tuple[str, float, str]] = {
    "mg": ("_mass_", 0.001, "g"), "g": ("_mass_", 1, "g"), "gr": ("_mass_", 1, "g"),
    "dag": ("_mass_", 10, "g"), "dkg": ("_mass_", 10, "g"), "kg": ("_mass_", 1000, "g"),
    "ml": ("_vol_", 1, "ml"), "cl": ("_vol_", 10, "ml"), "dl": ("_vol_", 100, "ml"),
    "l": ("_vol_", 1000, "ml"), "ltr": ("_vol_", 1000, "ml"), "litr": ("_vol_", 1000, "ml"),
    "szt": ("_count_", 1, "szt"), "pcs": ("_count_", 1, "szt"), "kom": ("_count_", 1, "szt"),
    "x": ("_count_", 1, "x"), "×": ("_count_", 1, "x"),
}
# the unit words as Polish and Serbian write them after a number (1 litr, 2 litry, 5 litrów;
# 1 litar, 2 litra, 5 litara), also Polish typed without diacritics (litrow); deka is 10 g
_UNIT_WORDS = {
    "g": "gram grama gramy gramów gramow",
    "dag": "deka dekagram dekagrama dekagramy dekagramów dekagramow",
    "kg": "kilo kilogram kilograma kilogramy kilogramów kilogramow",
    "ml": "mililitr mililitra mililitry mililitrów mililitrow mililitar mililitara",
    "l": "litra litry litrów litrow litar litara",
}
UNITS.update({word: UNITS[unit] for unit, words in _UNIT_WORDS.items() for word in words.split()})
# and in Serbian Cyrillic, met when transliterate is off (with it on they are Latin by then)
_LATIN_TO_SERBIAN = str.maketrans({v.lower(): k.lower() for k, v in _CYR.items() if len(v) == 1})
UNITS.update({unit.translate(_LATIN_TO_SERBIAN): UNITS[unit] for unit in [
    "mg", "g", "gr", "dag", "kg", "ml", "cl", "dl", "l", "kom", "gram", "grama", "deka", "kilo",
    "kilogram", "kilograma", "mililitar", "mililitra", "mililitara", "litar", "litra", "litara"]})
# an amount: 1,5 or 500, or a half or quarter of a unit (1/2, 1/4, 3/4, 1 1/2; also 1⁄2, what
# NFKC makes of ½; not 2/3 kg, a size grade of 2 to 3 kg); not the tail of a number (5 of 1,5).
# (?=\d) first lets the search skip to digits (three times faster than the look-behinds first)
# The unit is the whole word after the amount, looked up in UNITS by _unit_sub (an amount before
# a word that is no unit is left as it is): an alternation of all the unit words was twice slower
_UNIT_RE = re.compile(
    r"(?=\d)(?<!\d)(?<!\d[.,])(?:(?:(\d{1,2})\s+)?([13])[/\u2044]([24])|(\d+(?:[.,]\d+)?))\s*("
    + "|".join([r"[^\W\d_]+", *(re.escape(u) for u in UNITS if not u.isalpha())])
    + r")(?![^\W\d_])")
# a digit before a vulgar fraction (1½ kg): NFKC writes ½ as 1⁄2, and 1½ would read 11⁄2
_DIGIT_FRACTION_RE = re.compile(r"(\d)([\u00bc-\u00be\u2150-\u215e])")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?")
# the decimal point of a canonical amount (31.5g _mass_) is kept, other punctuation is a space
_AMOUNT_POINT = r"(?<!\d\.(?=\d+[a-z]+ _[a-z]+_ ))"
_PUNCT_RE = re.compile(r"[^\w\s]" + _AMOUNT_POINT)
_CYRILLIC_RE = re.compile("[" + "".join(sorted(_CYR)) + "".join(sorted(_CYR)).lower() + "]")
_DIGRAPH_RE = re.compile("[ЉЊЏ]")
_PUNCT_NUL_RE = re.compile(r"[^\w\s\0]" + _AMOUNT_POINT)  # NUL separates joined texts
_SPACE_RE = re.compile(r"\s+")


@lru_cache(maxsize=8)
def stop_words(language: str) -> frozenset[str]:
    """The bundled stop-word list of a language (``pl``, ``sr``, ``en``)."""
    text = resources.files("mlstat_coding.data").joinpath(f"stopwords_{language}.txt").read_text(
        encoding="utf-8")
    return frozenset(w.strip().lower() for w in text.splitlines()
                     if w.strip() and not w.startswith("#"))


def _format_amount(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _unit_sub(match: re.Match[str]) -> str:
    whole, numerator, denominator, number, unit = match.groups()
    found = UNITS.get(unit.lower())
    if found is None:  # a word, not a unit: 3 lody
        return match.group()
    token, factor, base = found
    before = ""
    if number is not None:
        amount = float(number.replace(",", "."))
    elif int(numerator) < int(denominator):  # 1/2 kg, 1 1/2 kg
        amount = int(whole or 0) + int(numerator) / int(denominator)
    else:  # 3/2 kg is no half: only the 2 kg is an amount, as before fractions were read
        before, amount = match.string[match.start():match.start(3)], int(denominator)
    return f"{before} {_format_amount(amount * factor)}{base} {token} "


def _one_script(word: str) -> str:
    """A word mixing Latin and Cyrillic letters in one script: in Cyrillic when all its Latin
    letters have Cyrillic look-alikes (``Mлeкo``, ``Cиp`` -> ``Млеко``, ``Сир``), in Latin when
    all its Cyrillic letters have Latin ones (``Mlekо`` with a Cyrillic о); when both hold, in
    the script of most of its letters (Cyrillic on a tie). Else left as it is.

    In Latin, the Cyrillic letters are read as Serbian (Gaj's Latin), not by their looks: a
    Cyrillic letter in a Latin word is most often a keyboard-layout slip, and ``Šećер`` is
    ``Šećer``, ``Вoda`` ``Voda``, ``Sirуp`` ``Sirup`` (а е о ј к м т read the same either way)."""
    latin = _LATIN_LETTER_RE.findall(word)
    cyrillic = _ANY_CYRILLIC_RE.findall(word)
    to_cyrillic = _LATIN_LOOK_ALIKES.issuperset(latin)
    to_latin = _CYRILLIC_LOOK_ALIKES.issuperset(cyrillic)
    if to_cyrillic and to_latin:
        to_cyrillic = len(cyrillic) >= len(latin)
    if to_cyrillic:
        return word.translate(_LATIN_TO_CYRILLIC)
    if to_latin:
        return word.translate(CYRILLIC_TO_LATIN)
    return word


def one_script(text: str) -> str:
    """Step 2: words mixing Latin and Cyrillic look-alikes in one script (``Mлeкo`` ->
    ``Млеко``), and a Cyrillic ``х`` between numbers as ``x`` (``6х1,5л`` -> ``6x1,5л``)."""
    if not _ANY_CYRILLIC_RE.search(text):
        return text
    if _MIXED_RE.search(text):  # the words holding a Latin letter by a Cyrillic one
        pieces, last = [], 0
        for match in _MIXED_RE.finditer(text):
            start = match.start()
            if start < last:  # in the word just written
                continue
            while start > last and _LETTER_RE.match(text, start - 1):
                start -= 1
            end = _LETTERS_RE.match(text, match.end()).end()
            pieces += (text[last:start], _one_script(text[start:end]))
            last = end
        text = "".join(pieces) + text[last:]
    return _CYRILLIC_TIMES_RE.sub(r"\1x", text)


def _digraph(match: re.Match[str]) -> str:
    """``LJ`` in a word written in capitals (``ЉУТО``, ``КОЊ``), else ``Lj``."""
    text, i = match.string, match.start()
    after = text[i + 1] if i + 1 < len(text) else ""
    before = text[i - 1] if i else ""
    latin = _CYR[match.group()]
    return latin.upper() if (after if after.isalpha() else before).isupper() else latin


def transliterate(text: str) -> str:
    """Serbian Cyrillic to Latin: ``Џем`` -> ``Džem``, ``ЉУТО`` -> ``LJUTO`` (as the same
    words are written in Latin, so that they match also without case folding)."""
    if _DIGRAPH_RE.search(text):
        text = _DIGRAPH_RE.sub(_digraph, text)
    return text.translate(CYRILLIC_TO_LATIN)


def strip_diacritics(text: str) -> str:
    """``Żółć ćma ł`` -> ``Zolc cma l``, ``Đevreci`` -> ``Djevreci``."""
    text = text.translate(_NO_DECOMPOSE)
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


CLEANING_PROBES = (
    "Wafelki Kinder Bueno White 2*19,5g", "Napój ryżowy trybulą 8,7 g", "Mleko 0,5l 3,2%",
    "Cukier wanilinowy 10 g", "Sok 1,5 litra", "Ser 1/2 kg", "Mąka 200 gramów", "Woda 6х1,5л",
    "Jogurt 500ml x 4", "Chleb 100,000 12 3.5", "Џем од шљива ЉУТО", "Mлeкo i Šećер",
    "ŻÓŁTY SER Đevreci", "ﬁlet ½ kg", "M&M's H&M 3M Coca-Cola!", "  kawa   (mielona)  ",
)
"""Texts that exercise every cleaning step (amounts with decimal commas and units, numbers,
both scripts, case, diacritics, NFKC, punctuation): a model keeps how they were cleaned when
it trained (:func:`mlstat_core.cleaning.cleaning_sample`) and warns where they are cleaned
otherwise when it scores (another version of this plugin)."""


CLEANING_CHANGES = ("the cleaning changed on 2026-11-30 (an amount with a decimal comma, "
                    "`8,7 g`, had been read as `8 7g`), so a model trained before then scores "
                    "such texts otherwise")
"""What changed in the cleaning before models kept their sample (see CLEANING_PROBES)."""


class Normaliser:
    """Callable that cleans texts according to :class:`NormaliseParams`."""

    def __init__(self, params: NormaliseParams | dict | None = None) -> None:
        self.params = params = NormaliseParams.model_validate(params or {})
        words: set[str] = set()
        for language in params.stop_words:
            words |= stop_words(language)
        if params.strip_diacritics:
            words |= {strip_diacritics(w) for w in words}
        self.stop = frozenset(words)

    def one(self, text: object) -> str:
        """Clean one text; missing values (None, NaN, pandas' NA and NaT) become the empty
        string."""
        if is_missing(text):
            return ""
        return self._tokens(self._clean(str(text), _PUNCT_RE))

    def _clean(self, s: str, punct: re.Pattern[str]) -> str:
        """Steps 1-6 and punctuation, on one text or on texts joined by NUL characters (no
        step matches across a NUL, so joined texts are cleaned exactly as one by one)."""
        p = self.params
        if p.nfkc:
            s = unicodedata.normalize("NFKC", _DIGIT_FRACTION_RE.sub(r"\1 \2", s))
        s = one_script(s)
        if p.transliterate and _CYRILLIC_RE.search(s):
            s = transliterate(s)
        if p.lowercase:
            s = s.casefold()
        if p.units:
            s = _UNIT_RE.sub(_unit_sub, s)
        if p.numbers != "keep":
            replacement = " _num_ " if p.numbers == "token" else " "
            s = _NUMBER_RE.sub(lambda m: replacement if not _is_amount(m, s) else m.group(0), s)
        if p.strip_diacritics:
            s = strip_diacritics(s)
        return punct.sub(" ", s)

    def _tokens(self, s: str) -> str:
        tokens = s.split()
        p = self.params
        if self.stop or p.min_token_length > 1:
            tokens = [t for t in tokens if t not in self.stop and
                      (len(t) >= p.min_token_length or t.isdigit())]
        return " ".join(tokens)

    def __call__(self, texts: Iterable[object]) -> list[str]:
        """Clean many texts; each distinct text is cleaned once, and the distinct texts are
        cleaned together as one NUL-joined string (the regular expressions run once)."""
        texts = list(texts)
        # other objects by type and repr: a missing value (None, NaN) is not the text "None"
        keys: list[object] = [t if isinstance(t, str) else (type(t), repr(t)) for t in texts]
        first: dict[object, object] = {}
        for k, t in zip(keys, texts, strict=True):
            first.setdefault(k, t)
        plain = [t for t in first.values() if isinstance(t, str) and "\0" not in t]
        cleaned: dict[object, str] = {}
        if plain:
            pieces = self._clean("\0".join(plain), _PUNCT_NUL_RE).split("\0")
            cleaned = dict(zip(plain, map(self._tokens, pieces), strict=True))
        for k, t in first.items():
            if k not in cleaned:  # missing values, other objects, texts holding a NUL
                cleaned[k] = self.one(t)
        return [cleaned[k] for k in keys]


def is_missing(value: object) -> bool:
    """None, or a value unequal to itself: NaN of any float type, NaT, and pandas' NA (a
    ``string`` column of a Parquet file), whose comparison has no truth value."""
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        return bool(value != value)
    except TypeError:
        return True


def _is_amount(match: re.Match[str], text: str) -> bool:
    """True when the number is part of a canonical amount produced by the unit step."""
    end = match.end()
    return end < len(text) and text[end].isalpha()


# the normaliser's own tokens (_mass_, _vol_, _count_ after an amount; _num_ for a number)
_PLACEHOLDER_RE = re.compile(r"(?<!\w)_(?:mass|vol|count|num)_(?!\w)")
_LETTER_RUN_RE = re.compile(r"[^\W\d_]+")


def longest_word(text: str) -> int:
    """The letters of the longest word of a normalised text, numbers, amounts (``500ml``),
    units (``kg``, ``l``, ``szt``, ``x``, ``litra``) and the normaliser's tokens (``_vol_``)
    not counting: 0 for ``12``, ``1 kg`` or ``1500ml _vol_``, 1 for ``n a``, 2 for ``7 up``.
    A word is a run of letters, so ``4move`` counts 4."""
    if not text:
        return 0
    if "_" in text:
        text = _PLACEHOLDER_RE.sub(" ", text)
    return max((len(w) for w in _LETTER_RUN_RE.findall(text) if w.casefold() not in UNITS),
               default=0)


def normalise(text: object, params: NormaliseParams | dict | None = None) -> str:
    """Clean one text with the given (or default) params."""
    return Normaliser(params).one(text)
