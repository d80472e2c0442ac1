"""Params models of the Twitter components: light (pydantic only), so discovery stays fast."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from mlstat_core.components import Encoding, InputFolder, InputPath, Params
from mlstat_core.errors import ConfigError, ConfigIssue, MlstatError

UMSAB_LANGUAGES = ("english", "french", "german")
LANGUAGE_CODES = {"english": "en", "french": "fr", "german": "de", "dutch": "nl",
                  "spanish": "es", "italian": "it", "portuguese": "pt", "arabic": "ar",
                  "hindi": "hi"}
"""Language names (UMSAB's folder names) -> ISO 639-1 codes."""
BUNDLED = {"bundled:timeline": ("tweets_timeline", "tweets.csv")}
"""Tweet files the plugin ships, named instead of a path: name -> its path in
``mlstat_twitter/data`` (read by ``mlstat_twitter.loaders.resolve_path``)."""
BUNDLED_NAMES = tuple(BUNDLED)
"""The names of the bundled tweet files, which validation accepts instead of a path."""
TweetFile = Annotated[str, InputPath("file", names=BUNDLED_NAMES)]
"""A tweet file that must exist, or the name of a bundled one."""
_IDENTIFIABLE = (
    "ace af am an ar ary arz as az ba bcl be bg bn br bs ca crh cs cy da de dz el en eo es et "
    "eu ext fa fi fo fr fuv fy ga gcf gcr gd gl gom grc gu gug guw ha hbo he hi hr ht hu hy id "
    "ig is it ja jv ka kab kk kik km kn ko ku ky la lb lg lij ln lo lt ltg lv mg mk ml mn mr "
    "ms mt my ne nl nn no nso oc om or pa pcm pl ps pt qu ro ru rw sa sdh se si sk sl sn so sq "
    "sr st sv sw ta te tg th tk tl tr tt ug uk ur uz uzs vec vi vo wa wuu xh yo yue zh zu "
    "zxx")
IDENTIFIABLE = frozenset(_IDENTIFIABLE.split())
"""The codes py3langid's model answers (kept here so that validation does not load it)."""
ISO_639_2 = {"eng": "en", "fra": "fr", "fre": "fr", "deu": "de", "ger": "de", "nld": "nl",
             "dut": "nl", "spa": "es", "ita": "it", "por": "pt", "ara": "ar", "hin": "hi"}
"""Three-letter codes (ISO 639-2) of the languages in LANGUAGE_CODES -> their ISO 639-1 codes,
suggested for a three-letter code given where two letters are expected."""


def closest_language(value: str) -> str | None:
    """The language meant by a mistyped one: a name for a misspelt name (``englsh`` ->
    ``english``), the ISO 639-1 code for a three-letter code (``fra`` -> ``fr``) or a
    mistyped code (``enn`` -> ``en``); None when nothing is close."""
    import difflib

    given = value.strip().lower()
    if given in ISO_639_2:
        return ISO_639_2[given]
    close = difflib.get_close_matches(given, list(LANGUAGE_CODES), 1)
    if close:
        return close[0]
    close = difflib.get_close_matches(given, sorted(IDENTIFIABLE), 1)
    return close[0] if close else None


def language_code(value: str) -> str:
    """The ISO 639-1 code of a code or a known language name (``english`` -> ``en``); a
    ValueError naming the known codes for anything else."""
    given = value.strip().lower()
    code = LANGUAGE_CODES.get(given, given)
    if code in IDENTIFIABLE:
        return code
    close = closest_language(given)  # a mistyped name, a three-letter code
    hint = f" (did you mean {close!r}?)" if close else ""
    raise ValueError(f"unknown language {value!r}{hint}: give ISO 639-1 codes such as 'en', "
                     f"or the names {', '.join(LANGUAGE_CODES)}; the identifier knows "
                     f"{', '.join(sorted(IDENTIFIABLE))}")


class NormaliseParams(Params):
    """How a tweet is cleaned (see :mod:`mlstat_twitter.normalise`)."""

    escapes: bool = Field(True, description="decode literal JSON escapes left in the text "
                                            "(i\\u2019m -> i’m, \\ud83d\\ude02 -> the emoji)")
    users: bool = Field(True, description="replace @mentions by the token _user_")
    urls: bool = Field(True, description="replace links (and a bare 'http') by the token _url_")
    hashtags: Literal["split", "keep", "drop"] = Field(
        "split", description="#BlackFriday -> 'black friday' (split), kept as a word, or dropped")
    emoji: Literal["token", "drop"] = Field(
        "token", description="emoji and emoticons as word tokens (_e1f602_, _smile_) or dropped")
    elongation: int = Field(2, ge=0, le=3, description="characters repeated more than this "
                                                      "are cut to it (soooo -> soo); 0 = off")
    marks: bool = Field(True, description="'!' and '?' as word tokens _excl_ and _quest_ (a "
                                          "model's cleaning that drops punctuation keeps them)")
    lowercase: bool = Field(True, description="case folding")
    numbers: bool = Field(False, description="replace numbers by _num_")


class LanguageParams(Params):
    """Offline language identification (py3langid, model shipped inside its wheel)."""

    identify: bool = Field(True, description="fill missing values of the language column")
    languages: list[str] = Field(
        default_factory=lambda: ["en", "fr", "de", "nl"],
        description="ISO 639-1 codes the identifier chooses among (empty = all the "
                    "142 it knows); a tweet at least 90% surely in another language is named so, "
                    "and reported as a language the model never saw")
    column: str = Field("language", description="column holding the language code (where "
                                                "`language` is absent, X's `lang` is read)")

    @field_validator("languages")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        """Names (``english``, as the UMSAB loader takes) become codes; unknown codes fail
        here, in ``mlstat validate``, not in the identifier after training."""
        return list(dict.fromkeys(language_code(v) for v in value))


class TransformParams(Params):
    """The twitter.normalise preprocessing step."""

    normalise: NormaliseParams = Field(default_factory=NormaliseParams,
                                       description="text cleaning")
    language: LanguageParams = Field(default_factory=LanguageParams,
                                     description="language identification")


class _TweetLoaderCommon(Params):
    retweets: Literal["keep", "drop"] = Field(
        "drop", description="retweets repeat someone else's words: drop them (default) or keep")
    duplicates: Literal["keep", "drop"] = Field(
        "drop", description="exact duplicate texts (same text, same author): keep or drop")
    missing: Literal["drop", "error"] = Field(
        "drop", description="tweets without text or timestamp: drop with a warning, or stop")
    stream: TweetFile | None = Field(
        None, description="a tweet file to score and index after the run (X API v2 JSON or "
                          "JSONL, or CSV); relative to the pipeline file. The model's `index` "
                          "settings say how")
    stream_format: Literal["auto", "json", "jsonl", "csv"] = Field(
        "auto", description="format of the stream file")
    stream_retweets: Literal["keep", "drop"] = Field(
        "drop", description="retweets in the stream: dropped by default (not the author's words)")
    stream_duplicates: Literal["keep", "drop"] = Field(
        "drop", description="exact duplicates in the stream (same text, same author)")
    stream_text: str = Field("text", description="CSV stream: column of the tweet text")
    stream_created_at: str = Field("created_at",
                                   description="CSV stream: column of the timestamp")
    stream_id: str = Field("id", description="CSV stream: column of the tweet id")
    stream_author: str | None = Field(
        None, description="CSV stream: column of the tweet's author (default: the first "
                          "present of author, username, screen_name, user, author_id, ...)")
    stream_encoding: Encoding | None = Field(
        None, description="text encoding of the stream file (for example \"cp1252\"); by "
                          "default the loader's `encoding` (twitter.tweets), else utf-8")
    confusion_sample: TweetFile | None = Field(
        None, description="labelled tweets of the stream (a tweet file read like it, with a "
                          "label column): the index's confusion matrix is estimated on them "
                          "instead of the validation tweets; relative to the pipeline file")
    confusion_label: str = Field("label", description="column of the sentiment label in "
                                                      "`confusion_sample`")


class TweetsParams(_TweetLoaderCommon):
    """Tweets from an export: X API v2 JSON / JSON Lines, or CSV."""

    # a labelled sample the plugin ships, relative to the package (where the conformance suite
    # reads it)
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"path": "data/umsab_en_sample.csv", "label": "label"}]})

    path: TweetFile = Field(description="X API v2 JSON, JSON Lines, or CSV file; relative to "
                                        "the pipeline file. 'bundled:timeline' is the plugin's "
                                        "stream")
    format: Literal["auto", "json", "jsonl", "csv"] = Field("auto", description="file format")
    text: str = Field("text", description="CSV: column of the tweet text")
    created_at: str = Field("created_at", description="CSV: column of the timestamp")
    id: str = Field("id", description="CSV: column of the tweet id (id_str also recognised)")
    author: str | None = Field(
        None, description="CSV: column of the tweet's author (default: the first present of "
                          "author, username, screen_name, user, author_id, ...); exact "
                          "duplicates are the same text by the same author")
    label: str | None = Field(None, description="CSV: column of a sentiment label, if any")
    language: str | None = Field(None, description="CSV: column of the language code, if any")
    require_timestamp: bool | None = Field(
        None, description="a tweet without a timestamp is missing data (the index needs one); "
                          "by default (unset) only a labelled file may go without")
    encoding: Encoding = Field("utf-8", description="text encoding of the file (CSV, JSON "
                                                    "or JSON Lines; a UTF-8 BOM is ignored)")


class UmsabParams(_TweetLoaderCommon):
    """The UMSAB benchmark (bundled: English, French, German) or a folder of the same layout."""

    languages: list[Annotated[str, InputPath("folder", within="data_dir")]] = Field(
        default_factory=lambda: list(UMSAB_LANGUAGES),
        description="language folders to read (folders of `data_dir`, checked to exist)")
    data_dir: InputFolder | None = Field(None, description="folder with one sub-folder per "
                                                           "language (default: the bundled "
                                                           "copy); relative to the pipeline "
                                                           "file")
    label_names: list[str] = Field(default_factory=lambda: ["negative", "neutral", "positive"],
                                   description="names of labels 0, 1, 2")
    retweets: Literal["keep", "drop"] = Field("keep", description="UMSAB is curated: keep")
    duplicates: Literal["keep", "drop"] = Field("keep", description="UMSAB is curated: keep")

    @field_validator("languages")
    @classmethod
    def _some(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one language folder (english, french, german)")
        return value

    def check(self, registry: Any, task: Any = None) -> list[ConfigIssue]:
        """The bundled copy (no `data_dir`) has the folders english, french and german: a
        language code or a misspelt name is named with the folder meant. (The folders of a
        `data_dir` are checked as input paths.)"""
        if self.data_dir:
            return []
        names = {code: name for name, code in LANGUAGE_CODES.items() if name in UMSAB_LANGUAGES}
        issues = []
        for i, value in enumerate(self.languages):
            if value in UMSAB_LANGUAGES:
                continue
            close = closest_language(value) or ""
            meant = names.get(value.strip().lower()) or names.get(close) \
                or (close if close in UMSAB_LANGUAGES else None)
            issues.append(ConfigIssue("", f"languages[{i}]", (
                f"the bundled UMSAB has no language folder {value!r}; its folders are "
                f"{', '.join(UMSAB_LANGUAGES)} (names, not codes)"), meant))
        return issues


class PredefinedSplitParams(Params):
    column: str = Field("split", description="column naming each record's part")
    train: str = Field("train", description="value of training records")
    validation: str | None = Field("val", description="value of validation records")
    test: str = Field("test", description="value of test records")


class IndexParams(Params):
    """How the sentiment index of the loader's stream is computed."""

    period: Literal["day", "week", "month", "quarter", "year"] = Field(
        "week", description="length of a period of the index")
    min_count: int = Field(30, ge=1, description="periods with fewer tweets are left empty")
    adjust: bool = Field(True, description="correct shares for the classifier's confusion "
                                           "matrix (adjusted classify-and-count)")
    bootstrap: int = Field(500, ge=50, le=20000, description="bootstrap replicates")
    level: float = Field(0.95, gt=0.5, lt=1, description="confidence level of the intervals")
    timezone: str = Field("UTC", description="time zone in which days and weeks are counted")
    confusion_by: Literal["pooled", "language"] = Field(
        "pooled", description="one confusion matrix for all tweets, or each language's own "
                              "(tweets of a language with under 30 labelled tweets of a class "
                              "use the pooled one); 'language' where the classifier errs "
                              "differently by language and the mix of languages moves")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        import difflib
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            close = difflib.get_close_matches(value, sorted(zoneinfo.available_timezones()), 1)
            hint = f"; did you mean {close[0]!r}?" if close else " such as 'Europe/Brussels'"
            raise ValueError(f"unknown time zone {value!r}: give an IANA name{hint}") from None
        return value


def base_model_problem(entry: Any) -> str | None:
    """Why a registered model cannot be twitter.sentiment's base, or None when it can."""
    if entry.spec.serves("text_classification"):
        return None
    return (f"base model {entry.full_name} does not serve text_classification; use "
            "coding.tfidf_logreg, coding.linear_svm or coding.fasttext")


SCIKIT_BASE_DEFAULTS: dict[str, Any] = {
    "C": 3.0, "char_ngrams": [2, 5], "word_ngrams": [1, 2], "class_weight": "balanced",
    "sentence_encoder": "use-multilingual"}
"""The base params chosen for tweets (docs/twitter.md) of the scikit-learn bases."""

BASE_DEFAULTS: dict[str, dict[str, Any]] = {"coding.tfidf_logreg": SCIKIT_BASE_DEFAULTS,
                                            "coding.linear_svm": SCIKIT_BASE_DEFAULTS}
"""Each base model's defaults under ``base_params``; a base not named here has its own."""


class SentimentParams(Params):
    """twitter.sentiment: a coding text model behind tweet cleaning and a language feature."""

    base: str = Field("coding.tfidf_logreg",
                      description="registered text_classification model that does the learning "
                                  "(coding.tfidf_logreg, coding.linear_svm, coding.fasttext)")
    base_params: dict[str, Any] = Field(
        default_factory=lambda: dict(SCIKIT_BASE_DEFAULTS),
        description="params of the base model (checked against its own params model), laid "
                    "over its defaults: for coding.tfidf_logreg and coding.linear_svm those "
                    "shown, so a table that sets C keeps the sentence encoder "
                    "(sentence_encoder = \"none\" switches it off); other bases start from "
                    "their own defaults")
    normalise: NormaliseParams | None = Field(
        default_factory=NormaliseParams,
        description="tweet cleaning inside the model (also applied to the stream); "
                    "idempotent, so a twitter.normalise [[preprocess]] step may stay")
    language: LanguageParams = Field(default_factory=LanguageParams,
                                     description="language identification for missing codes")
    language_feature: bool = Field(True, description="give the model the language as a "
                                                     "feature (one model for all languages)")
    language_augment: float = Field(
        1.0, ge=0, le=4,
        description="feature augmentation by language: every n-gram feature once shared and "
                    "once per language (scaled by this), so one model learns shared and "
                    "per-language weights; 0 = off (one set of weights, 2-4x faster to "
                    "train). Default 1: in 5-fold cross-validation on UMSAB's train and val "
                    "it matched monolingual models (macro-F1 66.4 against 66.0) where the "
                    "shared model fell short (65.1). Needs language_feature, a "
                    "scikit-learn base (coding.tfidf_logreg, coding.linear_svm) and two or "
                    "more training languages; otherwise the plain model is trained")
    lexicon: bool = Field(
        True, description="add lexicon polarity tokens (_lex_pos_, _lex_neg_, _emo_pos_, ...): "
                          "VADER for English, pattern's adjectives for French and Dutch, the "
                          "German Polarity Lexicon for German, the Emoji Sentiment Ranking for "
                          "every language (all shipped in their wheels; see "
                          "mlstat_twitter.lexicons)")
    positive: str = Field("positive", description="label of positive tweets")
    negative: str = Field("negative", description="label of negative tweets")
    validation_share: float = Field(0.2, gt=0, lt=0.5, description="held out to estimate the "
                                    "confusion matrix when the split gives no validation set")
    index: IndexParams = Field(default_factory=IndexParams,
                               description="the sentiment index of the loader's stream")

    @model_validator(mode="after")
    def _over_base_defaults(self) -> SentimentParams:
        """``base_params`` as given, laid over the base's defaults (:data:`BASE_DEFAULTS`):
        a table naming C alone switched the sentence encoder off without a word, and a base
        without these params (coding.fasttext) was refused unless given a table."""
        given = self.base_params if "base_params" in self.model_fields_set else {}
        merged = {**BASE_DEFAULTS.get(self.base, {}), **given}
        if merged != self.base_params:
            self.__dict__["base_params"] = merged
        return self

    def check(self, registry: Any, task: Any = None) -> list[ConfigIssue]:
        """The base model exists, serves text classification and takes ``base_params``."""
        try:
            entry = registry.get("model", self.base)
        except MlstatError as exc:  # the registry's words: unknown (with a suggestion), a
            return [ConfigIssue("", "base", str(exc))]  # plugin that failed, a name twice
        problem = base_model_problem(entry)
        if problem:
            return [ConfigIssue("", "base", problem)]
        try:
            base = entry.validate_params(dict(self.base_params), "base_params")
        except ConfigError as exc:
            return exc.issues
        own = base.check(registry, task) if isinstance(base, Params) else []
        return [ConfigIssue(i.file, f"base_params.{i.field}", i.message, i.suggestion)
                for i in own]


class VaderParams(Params):
    """twitter.vader: the VADER lexicon (English)."""

    calibrate: bool = Field(False, description="learn class boundaries from VADER's four "
                                               "scores on the training data (any labels)")
    threshold: float = Field(0.05, ge=0, lt=1, description="compound score beyond +/- this "
                                                           "is positive / negative")
    positive: str = Field("positive", description="label of positive tweets")
    negative: str = Field("negative", description="label of negative tweets")
    neutral: str = Field("neutral", description="label of neutral tweets")
    index: IndexParams = Field(default_factory=IndexParams,
                               description="the sentiment index of the loader's stream")


class MacroF1Params(Params):
    column: str = Field("language", description="column of the test records to group by")
    min_records: int = Field(20, ge=1, description="groups with fewer test records are listed "
                                                   "but not scored")
    bootstrap: int = Field(1000, ge=0, le=20000,
                           description="bootstrap replicates of each language's macro-F1 "
                                       "interval (0 = no interval)")
    level: float = Field(0.95, gt=0.5, lt=1, description="confidence level of the intervals")


class IndexIndicatorParams(Params):
    file: str = Field("sentiment_index.csv", description="index file written by the model")
