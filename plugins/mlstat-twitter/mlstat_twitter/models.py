"""Sentiment models: a coding text model behind tweet cleaning (one model for all languages),
and the VADER lexicon baseline. Both estimate their confusion matrix on validation data and
store it, so that the sentiment index of a stream can be corrected for their errors.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlstat_coding.routing import UnreachableTargetWarning

from mlstat_core.artifacts import atomic_write_text, write_json
from mlstat_core.cleaning import check_cleaning_once, cleaning_sample, mark_cleaning_checked
from mlstat_core.components import ColumnRoles, Dataset, Model
from mlstat_core.errors import DataError, ModelError, listed
from mlstat_core.sklearn_model import classification_frame, require_columns
from mlstat_core.threads import limited_threads
from mlstat_twitter.augment import augmented_class
from mlstat_twitter.index import (
    confusion_counts,
    index_notes,
    indexes_by_language,
    period_of,
    sentiment_index,
    singular_reason,
)
from mlstat_twitter.lexicons import LEGACY_LEXICONS, default_lexicons, lexicon_tokens, vader_scores
from mlstat_twitter.loaders import LANGUAGE_COLUMNS, STREAM_KEY, language_codes, read_tweets
from mlstat_twitter.normalise import (
    TWEET_CLEANING_CHANGES,
    TWEET_PROBES,
    UNKNOWN_LANGUAGE,
    TweetNormaliser,
    identify_language,
)
from mlstat_twitter.params import (
    LanguageParams,
    SentimentParams,
    TweetsParams,
    VaderParams,
    base_model_problem,
)
from mlstat_twitter.textfiles import STREAM_OPTION, on_command_line

BASE_DIR = "base"
TEXT, LANG, LABEL = "__tweet__", "__language__", "__label__"
INDEX_FILE = "sentiment_index.csv"
INDEX_META = "sentiment_index.json"
INDEX_BY_LANGUAGE = "sentiment_index_by_language.csv"
STREAM_FILE = "stream_predictions.csv"


def _joined(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    if len(columns) == 1:
        return frame[columns[0]]
    parts = frame[columns].astype(object).where(frame[columns].notna(), "")
    return parts.astype(str).agg(" ".join, axis=1)


def languages_of(frame: pd.DataFrame, column: str, candidates: list[str],
                 identify: bool, texts: pd.Series) -> np.ndarray:
    """The language column where it is filled, read as the loaders read it (``nl-BE``,
    ``Dutch`` -> ``nl``; X's ``und``, ``qme``, ... missing); identified from the text where
    it is not. The default column ``language`` is, where absent, X's ``lang``, as the tweet
    loaders read a file (a CSV export of X's fields had its languages identified anew)."""
    if column == LANGUAGE_COLUMNS[0]:  # the default, and the column the loaders write
        column = next((c for c in LANGUAGE_COLUMNS if c in frame.columns), column)
    if column in frame.columns:
        codes = language_codes(frame[column])
        lang = np.array(codes.astype(object).where(codes.notna(), None).tolist(), dtype=object)
    else:
        lang = np.full(len(frame), None, dtype=object)
    missing = np.array([v is None or str(v).strip() == "" for v in lang], dtype=bool)
    if missing.any():
        if identify:
            lang[missing] = identify_language(texts.to_numpy()[missing].tolist(), candidates)
        else:
            lang[missing] = UNKNOWN_LANGUAGE
    return np.array([str(v).strip().lower() for v in lang], dtype=object)


def stratified_holdout(train: Dataset, share: float, seed: int) -> tuple[Dataset, Dataset]:
    from sklearn.model_selection import train_test_split

    positions = np.arange(len(train))
    y = train.y.astype(str).to_numpy()
    try:
        keep, hold = train_test_split(positions, test_size=share, random_state=seed, stratify=y)
    except ValueError:
        keep, hold = train_test_split(positions, test_size=share, random_state=seed)
    return train.subset(np.sort(keep)), train.subset(np.sort(hold))


SAMPLE_PER_CLASS = 30
"""Fewer labelled tweets of a class than this in a confusion sample earn a warning: the
error rates of the class are then known to about +/-0.18 (95%) or worse."""


def labelled_counts(few: list[tuple[str, int]]) -> str:
    """``20 labelled negative and 5 labelled neutral tweets``: how many of each class."""
    parts = [f"{n} labelled {c}" for c, n in few]
    text = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"{text} {'tweet' if [n for _c, n in few] == [1] else 'tweets'}"


def _stray_labels(labels: pd.Series, classes: list[str]) -> list[str]:
    text = labels.astype("string").str.strip()
    return sorted(set(text.dropna()) - set(classes) - {""})


def check_sample_labels(labels: pd.Series, classes: list[str], sample: str) -> None:
    """Refuse a labelled sample of the stream none of whose labels is a class of the model
    (checked before the stream is scored: nothing of it could be counted)."""
    known = set(classes)
    if any(str(label) in known for label in labels):
        return
    stray = _stray_labels(labels, classes)
    found = f"none of its labels ({', '.join(stray[:5])})" if stray else "it has no labels"
    raise DataError(f"confusion sample {sample}: {found} is a class of the model "
                    f"({', '.join(classes)}); label its tweets with these classes")


def sample_problems(counts: np.ndarray, classes: list[str], labels: pd.Series,
                    sample: str) -> list[str]:
    """Warnings on a labelled sample of the stream: labels that are no class of the model
    (an error when none is), classes it lacks, classes with few tweets."""
    text = labels.astype("string").str.strip()
    unlabelled = int((text.isna() | (text == "")).sum())
    stray = _stray_labels(labels, classes)
    if not counts.sum():
        check_sample_labels(labels, classes, sample)
    notes = [f"confusion sample {sample}: labels {', '.join(stray[:5])} are not classes of "
             "the model; their tweets are ignored"] if stray else []
    if unlabelled:
        notes.append(f"confusion sample {sample}: {unlabelled} tweet(s) without a label are "
                     "ignored")
    rows = counts.sum(axis=1)
    lacking = [c for c, n in zip(classes, rows, strict=True) if n == 0]
    if lacking:
        notes.append(f"confusion sample {sample} has no tweet labelled {', '.join(lacking)}: "
                     "that class is assumed always predicted right; label some")
    few = [(c, n) for c, n in zip(classes, rows, strict=True) if 0 < n < SAMPLE_PER_CLASS]
    if few:
        notes.append(f"confusion sample {sample} is small ({labelled_counts(few)}, "
                     f"under {SAMPLE_PER_CLASS} per class): the adjusted index is uncertain; "
                     "label more")
    return notes


def language_confusions(labels: pd.Series, predicted: pd.DataFrame, classes: list[str]
                        ) -> dict[str, list[list[int]]]:
    """Confusion counts per language (``predicted["language"]``) of labelled tweets."""
    lang = predicted["language"].astype(str).to_numpy()
    truth, guess = np.asarray(labels, dtype=object), predicted["prediction"].to_numpy()
    return {g: confusion_counts(truth[lang == g], guess[lang == g], classes).tolist()
            for g in sorted(set(lang))}


def own_matrices(by_language: dict[str, Any], classes: list[str], where: str
                 ) -> tuple[dict[str, np.ndarray], list[tuple[str, str]]]:
    """The languages whose labelled tweets give them their own confusion matrix (at least
    :data:`SAMPLE_PER_CLASS` of every class, and a matrix that can correct), and for each
    other language why its tweets are adjusted with the pooled matrix."""
    own: dict[str, np.ndarray] = {}
    why: list[tuple[str, str]] = []
    for lang, counts in sorted(by_language.items()):
        counts = np.asarray(counts, dtype=np.int64)
        if lang == UNKNOWN_LANGUAGE:
            continue
        rows = counts.sum(axis=1)
        thin = [(c, n) for c, n in zip(classes, rows, strict=True) if n < SAMPLE_PER_CLASS]
        singular = "" if thin else singular_reason(counts, classes, advice=False)
        problem = (f"only {labelled_counts(thin)} (under {SAMPLE_PER_CLASS} per class) in "
                   f"the {where}" if thin else singular and f"in the {where}, {singular}")
        if problem:
            why.append((lang, f"language {lang}: {problem}; its tweets are adjusted with the "
                              "pooled confusion matrix"))
        else:
            own[lang] = counts
    return own, why


LANGUAGE_MIX_DISTANCE = 0.2
"""A stream whose languages' shares differ from those of the confusion matrix's tweets by more
than this (total variation distance: the share of tweets that would have to change language)
earns a warning."""


def mix_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Total variation distance between mixes of languages (shares along the last axis, which
    broadcast): the share of tweets that would have to change language."""
    return 0.5 * np.abs(a - b).sum(axis=-1)


def _shares(counts: dict[str, int]) -> str:
    total = sum(counts.values()) or 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{lang} {n / total:.0%}" for lang, n in top[:6])


def from_cli(policy: dict[str, Any]) -> bool:
    """Whether the stream was given on mlstat-twitter-index's command line, whose options
    (``--confusion-by``) advice then names instead of the pipeline's settings: the option that
    sets its encoding (``encoding_option``) says where it was given."""
    return on_command_line(policy.get("encoding_option"))


def by_language_setting(cli: bool = False) -> str:
    """How to ask for each language's own matrix where the index was asked for."""
    return "pass --confusion-by language" if cli else \
        "set [model.index] confusion_by = 'language'"


def sample_setting(cli: bool = False) -> str:
    """How to give a labelled sample of the stream where the index was asked for."""
    return "with --confusion-sample" if cli else "as confusion_sample"


def language_mix_note(stream: pd.Series, reference: dict[str, int] | None,
                      cli: bool = False) -> str | None:
    """The warning on a stream whose mix of languages is far from that of the tweets the
    confusion matrix was estimated on: the matrix pools their errors, so where the classifier
    errs differently by language the adjustment fits the one mix and not the other. ``cli``:
    its advice names mlstat-twitter-index's options."""
    if not reference or not len(stream):
        return None
    counts = {str(k): int(v) for k, v in stream.value_counts().items()}
    languages = sorted(set(counts) | set(reference))
    stream_mix, reference_mix = (np.array([mix.get(g, 0) for g in languages], dtype=float)
                                 for mix in (counts, reference))
    if mix_distance(stream_mix / stream_mix.sum(), reference_mix / reference_mix.sum()) \
            <= LANGUAGE_MIX_DISTANCE:
        return None
    return (f"the stream's languages ({_shares(counts)}) differ from those of the tweets the "
            f"confusion matrix was estimated on ({_shares(reference)}): the matrix pools their "
            "errors, so where the classifier errs differently by language the adjusted index "
            f"is biased; {by_language_setting(cli)} (each language's own matrix), or label "
            f"some tweets of the stream and give them {sample_setting(cli)}")


DRIFT_ADVICE = {
    "pooled": ("the stream's mix of languages", "{by_language} (each language's own matrix)"),
    "language": ("the mix of the languages adjusted with the pooled matrix",
                 "label tweets of each of them (at least 30 per class) and give them "
                 "{sample}, so that each gets its own matrix"),
}
"""What the drift warning is about and its advice, by ``confusion_by`` (the settings it names
filled in by :func:`by_language_setting` and :func:`sample_setting`)."""


def language_drift_note(periods: pd.Series, languages: pd.Series, min_count: int,
                        confusion_by: str = "pooled", cli: bool = False) -> str | None:
    """The warning on a stream whose mix of languages moves between the periods of the index
    (by more than :data:`LANGUAGE_MIX_DISTANCE` between two periods of ``min_count`` tweets or
    more): with one pooled confusion matrix, where the classifier errs differently by
    language, a change of languages reads as a change of opinion. With ``confusion_by =
    "language"``, give only the tweets adjusted with the pooled matrix. ``cli``: its advice
    names mlstat-twitter-index's options."""
    mix = pd.crosstab(pd.Series(periods.to_numpy()), pd.Series(languages.astype(str).to_numpy()))
    mix = mix[mix.sum(axis=1) >= min_count]
    if len(mix) < 2:
        return None
    shares = mix.div(mix.sum(axis=1), axis=0)
    distance = mix_distance(shares.to_numpy()[:, None, :], shares.to_numpy()[None, :, :])
    a, b = np.unravel_index(int(np.argmax(distance)), distance.shape)
    if distance[a, b] <= LANGUAGE_MIX_DISTANCE:
        return None
    lang = shares.columns[int(np.argmax(np.abs(shares.iloc[a] - shares.iloc[b]).to_numpy()))]
    first, second = sorted((a, b), key=lambda i: shares.index[i])
    what, advice = DRIFT_ADVICE[confusion_by]
    advice = advice.format(by_language=by_language_setting(cli), sample=sample_setting(cli))
    return (f"{what} moves between periods ({lang} "
            f"{shares.iloc[first][lang]:.0%} in {shares.index[first]}, "
            f"{shares.iloc[second][lang]:.0%} in {shares.index[second]}): with one pooled "
            "confusion matrix, where the classifier errs differently by language, a change of "
            f"languages reads as a change of opinion; {advice}")


def check_label_spellings(*datasets: Dataset | None) -> None:
    """Refuse labels that differ only in case or spaces (``Positive`` beside ``positive``):
    each would be a class of its own, and the index counts only the configured label as
    positive, so the shares would be wrong without a word."""
    spellings: dict[str, set[str]] = {}
    for data in datasets:
        if data is None or not len(data) or not data.roles.target:
            continue
        for label in data.y.dropna().astype(str).unique():
            spellings.setdefault(label.strip().casefold(), set()).add(label)
    clashes = [sorted(found) for found in spellings.values() if len(found) > 1]
    if clashes:
        shown = "; ".join(" and ".join(map(repr, found)) for found in clashes[:5])
        raise DataError(f"the labels {shown} differ only in case or spaces, so each would be a "
                        "class of its own; write every label of a class the same way in the "
                        "training data")


def _text_stamp(name: str, text: str) -> dict[str, str]:
    """What identifies a file written here: its name and the SHA-256 of its bytes (UTF-8, as
    ``atomic_write_text`` writes them)."""
    return {"name": name, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def _file_stamp(path: Path) -> dict[str, str]:
    """:func:`_text_stamp` of a file on disk."""
    return {"name": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _earlier_by_language(meta: Path, by_language: Path, read: list[Path]) -> bool:
    """Whether ``by_language`` is, unchanged, the index by language that an earlier index
    wrote beside ``meta`` (its JSON records the file's name and content hash) and none of the
    files ``read`` for this one: such a file, left beside a pooled index, would pass for its
    own; any other file, a user's of the same name included, is left alone."""
    if not by_language.is_file():
        return False
    try:
        earlier = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    recorded = [earlier.get(key) for key in ("index_by_language", "earlier_by_language")] \
        if isinstance(earlier, dict) else []
    if _file_stamp(by_language) not in recorded:
        return False
    return not any(f.exists() and f.resolve() == by_language.resolve() for f in read)


class IndexingModel(Model):
    """What both sentiment models share: the stored confusion matrix, the stream index."""

    state: dict[str, Any]

    def _check_training(self, train: Dataset) -> None:
        if not train.roles.text:
            raise DataError("a sentiment model needs a text column; set the loader's `text`")
        if not train.roles.target:
            raise DataError("a sentiment model needs labelled tweets; set the loader's label "
                            "column (`label` for twitter.tweets, `target` for core.table)")
        require_columns(train.frame, [*train.roles.text, train.roles.target], "training data")

    def _store_confusion(self, validation: Dataset, source: str) -> None:
        scored = self.predict(validation.frame)
        counts = confusion_counts(validation.y.astype(str), scored["prediction"],
                                  self.classes_ or [])
        self.state["confusion"] = counts.tolist()
        self.state["confusion_source"] = source
        self.state["validation_records"] = int(len(validation))
        if "language" in scored.columns:
            self.state["confusion_languages"] = {
                str(k): int(v) for k, v in scored["language"].value_counts().sort_index().items()}
            self.state["confusion_by_language"] = language_confusions(
                validation.y, scored, self.classes_ or [])

    def write_outputs(self, directory: Path, predictions: pd.DataFrame,
                      test: Dataset) -> list[Path]:
        """Score the loader's stream (``stream`` in [loader]) and write the sentiment index."""
        stream = (test.metadata or {}).get(STREAM_KEY)
        if not stream:
            return []
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        return self.index_stream(Path(stream["path"]), directory, stream)

    def index_stream(self, path: Path, directory: Path, policy: dict[str, Any] | None = None,
                     index: Any = None, name: str | None = None) -> list[Path]:
        """Score a tweet file, write the index (CSV), what it rests on (JSON), the tweets'
        predictions and, with ``confusion_by = "language"``, the index of each language. In a
        run's outputs they are ``sentiment_index.csv``, ``.json``, ``stream_predictions.csv``
        and ``sentiment_index_by_language.csv``; given ``name`` (``week.csv``), ``week.csv``,
        ``week.json``, ``week_predictions.csv`` and ``week_by_language.csv`` (removed, where
        an earlier index left it, when this one is pooled), so that no other file in
        ``directory`` is touched.
        ``policy`` holds the loader's stream settings (``format``, ``retweets``, column names,
        ``encoding`` and ``encoding_option``, the option that sets it, for messages)."""
        policy = policy or {}
        p = index or self.params.index
        cli = from_cli(policy)
        by_language_asked = p.adjust and p.confusion_by == "language"
        if by_language_asked and not policy.get("confusion_sample") \
                and "confusion_by_language" not in self.state:  # before minutes of scoring
            self._own_matrices(None, self.state.get("confusion_source"), pd.DataFrame(), [],
                               cli)
        sample = self._read_sample(policy)  # its columns and labels checked before scoring
        frame, info, notes = self._read_tweet_file(path, policy)
        predicted, predict_notes = self._score(frame)
        notes += predict_notes
        confusion, source, by_language = self._index_confusion(policy, notes, sample)
        own: dict[str, np.ndarray] = {}
        if by_language_asked:
            own = self._own_matrices(by_language, source, predicted, notes, cli)
        if p.adjust and "language" in predicted.columns:
            notes += self._mix_notes(frame, predicted, p, own, policy, by_language)
        for note in notes:
            warnings.warn(note, stacklevel=2)
        languages = (pd.Series(predicted["language"].to_numpy())
                     if "language" in predicted.columns else None)
        table = sentiment_index(frame["created_at"], predicted["prediction"], self.classes_ or [],
                                self.params.positive, self.params.negative, confusion,
                                period=p.period, min_count=p.min_count, adjust=p.adjust,
                                bootstrap=p.bootstrap, level=p.level, seed=self.seed,
                                timezone=p.timezone, languages=languages, by_language=own)
        for note in index_notes(table):
            warnings.warn(note, stacklevel=2)
            notes.append(note)
        stem = Path(name).stem if name else None
        out_index = directory / (name or INDEX_FILE)
        out_meta = directory / (f"{stem}.json" if stem else INDEX_META)
        out_stream = directory / (f"{stem}_predictions.csv" if stem else STREAM_FILE)
        out_languages = directory / (f"{stem}_by_language.csv" if stem else INDEX_BY_LANGUAGE)
        written = [out_index, out_meta, out_stream]
        stale = _earlier_by_language(out_meta, out_languages,
                                     [path, *([Path(policy["confusion_sample"])]
                                              if policy.get("confusion_sample") else [])])
        earlier = _file_stamp(out_languages) if stale else None  # before it is replaced
        by_language_text = None
        if p.confusion_by == "language" and languages is not None:
            by_language_text = indexes_by_language(
                frame["created_at"], predicted["prediction"], languages, self.classes_ or [],
                self.params.positive, self.params.negative, confusion, own,
                {UNKNOWN_LANGUAGE}, seed=self.seed, period=p.period, min_count=p.min_count,
                adjust=p.adjust, bootstrap=p.bootstrap, level=p.level, timezone=p.timezone
            ).to_csv(index=False)
        scored_out = pd.DataFrame({"id": frame["id"].astype(str),
                                   "created_at": frame["created_at"].astype(str),
                                   "prediction": predicted["prediction"].to_numpy(),
                                   "confidence": predicted["confidence"].to_numpy()})
        for column in ("language", "language_seen"):
            if column in predicted.columns:
                scored_out[column] = predicted[column].to_numpy()
        directory.mkdir(parents=True, exist_ok=True)  # only now: nothing before a refusal
        atomic_write_text(out_stream, scored_out.to_csv(index=False))
        meta = {"stream": str(Path(path).resolve()), "tweets_scored": int(len(frame)),
                "loading": info,
                "warnings": notes, "settings": p.model_dump(mode="json"),
                "classes": self.classes_, "positive": self.params.positive,
                "negative": self.params.negative,
                # the matrix the index was adjusted with: none with adjust = false
                "confusion": confusion.tolist() if confusion is not None and p.adjust
                else None,
                "confusion_source": source if p.adjust else None,
                "confusion_by_language": {lang: m.tolist() for lang, m in own.items()},
                "index_by_language": None if by_language_text is None
                else _text_stamp(out_languages.name, by_language_text),
                # a by-language file of an earlier index, replaced or removed as this index is
                # written (on record until then, so that an interrupted run leaves it known)
                "earlier_by_language": earlier,
                "predicted_languages": scored_out.get("language", pd.Series(dtype=str))
                .value_counts().to_dict()}
        write_json(out_meta, meta)  # before the by-language file, which it records
        if by_language_text is not None:
            atomic_write_text(out_languages, by_language_text)
            written.append(out_languages)
        atomic_write_text(out_index, table.to_csv(index=False))  # last: present means complete
        if stale and by_language_text is None:
            out_languages.unlink(missing_ok=True)
            warnings.warn(f"removed {out_languages}, the index by language of the earlier index "
                          f"written to {out_index.name}, so that it does not pass for this "
                          "pooled index's", stacklevel=2)
        return written

    def _read_tweet_file(self, path: Path, policy: dict[str, Any], label: str | None = None
                         ) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
        """A stream (or, with ``label``, a labelled sample of it) read with the stream's
        policy; the loader's warnings are returned, not shown."""
        columns = {k: policy[k] for k in ("text", "created_at", "id", "author")
                   if policy.get(k)}
        loader_params = TweetsParams(
            path=str(path), retweets=policy.get("retweets", "drop"),
            duplicates=policy.get("duplicates", "drop"), missing=policy.get("missing", "drop"),
            encoding=policy.get("encoding") or "utf-8", label=label,
            require_timestamp=False if label else None, **columns)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame, info = read_tweets(path, policy.get("format", "auto"), loader_params,
                                      policy.get("encoding_option") or STREAM_OPTION)
        return frame, info, [str(w.message) for w in caught]

    def _score(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
        """Predictions for the tweets of ``frame`` (in chunks) and one note on the tweets in
        languages the model was not trained on, if any."""
        text_column = (self.roles.text[0] if self.roles and self.roles.text else "text")
        scored = frame.rename(columns={"text": text_column}) if text_column != "text" else frame
        parts = [self._predicted(self.prepare(scored.iloc[i:i + 5000]))
                 for i in range(0, len(scored), 5000)]
        predicted = pd.concat(parts)
        note = self.unseen_language_note(predicted)
        return predicted, [note] if note else []

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Predictions, with a warning on tweets in languages the model never saw."""
        out = self._predicted(frame)
        note = self.unseen_language_note(out)
        if note:
            warnings.warn(note, stacklevel=2)
        return out

    def _predicted(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Predictions without the unseen-language warning, which ``_score`` gives once for
        the whole stream."""
        raise NotImplementedError

    def unseen_language_note(self, predicted: pd.DataFrame) -> str | None:
        """The warning on tweets in languages the model never saw (none for VADER)."""
        return None

    def _mix_notes(self, frame: pd.DataFrame, predicted: pd.DataFrame, p: Any,
                   own: dict[str, np.ndarray], policy: dict[str, Any],
                   by_language: dict[str, Any] | None = None) -> list[str]:
        """The warnings on the stream's mix of languages: it moves between periods (among the
        languages on the pooled matrix), or, pooled, it is far from that of the labelled
        tweets of the matrix (the validation tweets', or the labelled sample's, whose counts
        by language are ``by_language``)."""
        langs = pd.Series(predicted["language"].astype(str).to_numpy())
        periods = pd.Series(period_of(frame["created_at"], p.period, p.timezone).to_numpy())
        pooled = ~langs.isin(list(own)).to_numpy()
        if p.confusion_by == "language":  # no labelling gives undetermined tweets a matrix
            pooled &= (langs != UNKNOWN_LANGUAGE).to_numpy()
        cli = from_cli(policy)
        notes = [language_drift_note(periods[pooled], langs[pooled], p.min_count,
                                     p.confusion_by, cli)]
        if p.confusion_by == "pooled":
            reference = self.state.get("confusion_languages")
            if policy.get("confusion_sample"):  # the sample's languages, not validation's
                reference = {lang: int(np.asarray(m).sum())
                             for lang, m in (by_language or {}).items()}
            notes.append(language_mix_note(predicted["language"], reference, cli))
        return [note for note in notes if note]

    def _own_matrices(self, by_language: dict[str, Any] | None, source: str | None,
                      predicted: pd.DataFrame, notes: list[str], cli: bool = False
                      ) -> dict[str, np.ndarray]:
        """The languages of the stream adjusted with their own confusion matrix
        (``confusion_by = "language"``); why each other language is not goes to ``notes``.
        ``cli``: the error names mlstat-twitter-index's options."""
        where = source or "validation"
        if by_language is None or "language" not in predicted.columns:
            asked, pooled = ("confusion by language", "pass --confusion-by pooled") if cli \
                else ("confusion_by = 'language'", "set confusion_by = 'pooled'")
            raise DataError(
                f"{asked} needs the confusion matrix of each language, and the model's "
                f"({where}) was stored without it (a model saved by an earlier "
                "mlstat-twitter); retrain it, give a labelled sample of the stream "
                f"{sample_setting(cli)}, or {pooled}")
        own, why = own_matrices(by_language, self.classes_ or [], where)
        languages = predicted["language"].astype(str)
        stream = set(languages)
        notes += [note for lang, note in why if lang in stream]
        unlabelled = sorted(stream - set(by_language) - {UNKNOWN_LANGUAGE})
        if unlabelled:
            notes.append(f"language(s) {listed(unlabelled, 8)}: no labelled tweets in the "
                         f"{where}; their tweets are adjusted with the pooled confusion matrix"
                         + (" (the sample's, of its labelled tweets of every language)"
                            if source and source != self.state.get("confusion_source")
                            else ""))
        unknown = int((languages == UNKNOWN_LANGUAGE).sum())
        if unknown:
            notes.append(f"{unknown} tweet(s) of undetermined language ({UNKNOWN_LANGUAGE}) are "
                         "adjusted with the pooled confusion matrix")
        return {lang: m for lang, m in own.items() if lang in stream}

    def _read_sample(self, policy: dict[str, Any]) -> tuple[pd.DataFrame, list[str]] | None:
        """The labelled sample of the stream (``confusion_sample``) and its loader's warnings,
        None without one; refused, before the stream is scored (minutes), when it lacks a
        column or none of its labels is a class of the model."""
        sample = policy.get("confusion_sample")
        if not sample:
            return None
        frame, _info, notes = self._read_tweet_file(
            Path(sample), policy, policy.get("confusion_label") or "label")
        if "label" not in frame.columns:  # an X API export: its tweets carry no label
            raise DataError(f"confusion sample {sample}: its tweets have no label; give the "
                            "labelled tweets as a CSV file with a column of their label")
        check_sample_labels(frame["label"], self.classes_ or [], str(sample))
        return frame, notes

    def _index_confusion(self, policy: dict[str, Any], notes: list[str],
                         read: tuple[pd.DataFrame, list[str]] | None = None
                         ) -> tuple[np.ndarray | None, str | None, dict[str, Any] | None]:
        """The confusion matrix of the index, where it comes from, and its counts by language
        (None where unknown): the labelled sample of the stream when one is given (``read``,
        as :meth:`_read_sample` read it, or read here; its warnings added to ``notes``), else
        the model's."""
        sample = policy.get("confusion_sample")
        if not sample:
            saved = self.state.get("confusion")
            if saved:
                rows = np.asarray(saved).sum(axis=1)
                lacking = [c for c, n in zip(self.classes_ or [], rows, strict=False) if n == 0]
                if lacking:
                    where = self.state.get("confusion_source") or "validation"
                    notes.append(f"the model's confusion matrix ({where}) has no tweet labelled "
                                 f"{', '.join(lacking)}: that class is assumed always predicted "
                                 "right; label some tweets of the stream and give them "
                                 f"{sample_setting(from_cli(policy))}")
            return ((np.asarray(saved) if saved else None), self.state.get("confusion_source"),
                    self.state.get("confusion_by_language"))
        frame, sample_notes = read or self._read_sample(policy) or (pd.DataFrame(), [])
        predicted, _ = self._score(frame)
        counts = confusion_counts(frame["label"], predicted["prediction"], self.classes_ or [])
        notes += [f"confusion sample: {n}" for n in sample_notes]
        notes += sample_problems(counts, self.classes_ or [], frame["label"], sample)
        by_language = (language_confusions(frame["label"], predicted, self.classes_ or [])
                       if "language" in predicted.columns else None)
        return counts, str(sample), by_language


class SentimentModel(IndexingModel):
    """A registered text model (default ``coding.tfidf_logreg``) on cleaned tweets, with the
    language as a feature: one model for every language, so a language with few tweets
    borrows from the others (shared emoji, names, hashtags, char n-grams)."""

    params: SentimentParams

    def __init__(self, params: SentimentParams | None = None,
                 task: str = "text_classification") -> None:
        super().__init__(params if params is not None else SentimentParams(), task)
        self.base = self._new_base()
        self.state: dict[str, Any] = {}
        self._normaliser = TweetNormaliser(self.params.normalise) if self.params.normalise \
            else None

    def _entry(self) -> Any:
        from mlstat_core.registry import get_registry

        entry = get_registry().get("model", self.params.base)
        problem = base_model_problem(entry)
        if problem:
            raise DataError(problem)
        return entry

    def _new_base(self, augment: bool = False) -> Model:
        entry = self._entry()
        params = dict(self.params.base_params)
        if "normalise" in entry.spec.params.model_fields and "normalise" not in params:
            params["normalise"] = {"units": False}  # _e1f44d_ tokens are not amounts
        base = entry.build(entry.validate_params(params, f"model.base_params ({entry.full_name})"),
                           task=self.task or "text_classification")
        if augment:  # the same model, its features step wrapped (see mlstat_twitter.augment)
            base = augmented_class(type(base), LANG)(base.params, base.task)
            base.language_scale = self.params.language_augment
        return base

    def _augments(self, train: Dataset) -> bool:
        """Feature augmentation by language: asked for, languages as a feature, a scikit-learn
        base, and at least two languages in the training data."""
        p = self.params
        if not p.language_augment or not p.language_feature:
            return False
        if len(set(train.frame[LANG])) < 2:
            return False
        if not hasattr(self.base, "build_estimator"):
            if "language_augment" in p.model_fields_set:  # asked for, not just the default
                warnings.warn(f"language_augment needs a scikit-learn base (coding.tfidf_logreg,"
                              f" coding.linear_svm), not {p.base}: trained without it",
                              stacklevel=3)
            return False
        return True

    # -- inputs ------------------------------------------------------------------------------

    def prepared(self, frame: pd.DataFrame, target: str | None = None) -> pd.DataFrame:
        roles = self.roles
        raw = _joined(frame, roles.text)
        texts = self._normaliser(raw.tolist()) if self._normaliser else \
            raw.astype(object).where(raw.notna(), "").astype(str).tolist()
        lp = self.params.language
        lang = languages_of(frame, lp.column, lp.languages, lp.identify, raw)
        lexicons = self.lexicons()
        if lexicons:
            texts = [t + lexicon_tokens(r, g, lexicons)
                     for t, r, g in zip(texts, raw.tolist(), lang, strict=True)]
        out = pd.DataFrame({TEXT: texts, LANG: lang}, index=frame.index)
        if target is not None:
            out[LABEL] = frame[target].astype(str).to_numpy()
        return out

    def lexicons(self) -> list[str]:
        """The lexicons whose polarity tokens this model reads: those it was trained with
        (a model saved before the French, German and emoji lexicons: VADER only)."""
        if not self.params.lexicon:
            return []
        return list(self.state.get("lexicons", LEGACY_LEXICONS))

    def _inner(self, data: Dataset) -> Dataset:
        roles = ColumnRoles(target=LABEL, text=[TEXT],
                            auxiliary=[LANG] if self.params.language_feature else [])
        return Dataset(self.prepared(data.frame, data.roles.target), roles, data.name,
                       data.sources, {})

    # -- the Model contract ------------------------------------------------------------------

    def fit(self, train: Dataset, validation: Dataset | None = None) -> SentimentModel:
        with limited_threads(1):  # the same model whatever the machine's cores (as coding's)
            return self._fit(train, validation)

    def _fit(self, train: Dataset, validation: Dataset | None) -> SentimentModel:
        self._check_training(train)
        check_label_spellings(train, validation)
        self.roles = ColumnRoles(id=train.roles.id, target=train.roles.target,
                                 text=list(train.roles.text))
        source = "validation"
        if validation is None or not len(validation):
            train, validation = stratified_holdout(train, self.params.validation_share,
                                                   self.seed)
            source = f"internal holdout ({self.params.validation_share:.0%} of training)"
        self.state = {"lexicons": default_lexicons() if self.params.lexicon else []}
        if self._normaliser is not None:
            self.state["cleaning"] = cleaning_sample(self._normaliser, TWEET_PROBES)
        inner_train, inner_val = self._inner(train), self._inner(validation)
        augment = self._augments(inner_train)
        self.base = self._new_base(augment)
        self.base.seed = self.seed
        with warnings.catch_warnings():  # sentiment is not routed to coders
            warnings.simplefilter("ignore", UnreachableTargetWarning)
            self.base.fit(inner_train, inner_val)
        self.classes_ = [str(c) for c in (self.base.classes_ or [])]
        if not self.classes_:
            raise ModelError(f"{self.params.base} learnt no classes")
        self.state.update(languages=sorted(set(inner_train.frame[LANG])),
                          language_augmented=augment)
        note = self._lacking_classes_note(inner_train.frame)
        if note:
            warnings.warn(note, stacklevel=3)
        self._store_confusion(validation, source)
        return self

    def _lacking_classes_note(self, inner: pd.DataFrame) -> str | None:
        """The warning on training languages without tweets of some class: with the language
        as a feature the model learns that their tweets are never of it."""
        if not self.params.language_feature or inner[LANG].nunique() < 2:
            return None
        classes = set(self.classes_ or [])
        lacking = {lang: sorted(classes - set(labels))
                   for lang, labels in inner.groupby(LANG)[LABEL]}
        lacking = {lang: missing for lang, missing in lacking.items() if missing}
        if not lacking:
            return None
        shown = "; ".join(f"{lang} has no {', '.join(missing[:5])}"
                          + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
                          for lang, missing in sorted(lacking.items())[:5])
        if len(lacking) > 5:
            shown += f"; {len(lacking) - 5} more language(s)"
        return (f"training tweets of some languages lack classes ({shown}): with the language "
                "as a feature the model learns that their tweets are seldom of these classes, "
                "and scores their tweets so; label tweets of every class in each language, or "
                "set language_feature = false")

    def _predicted(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.roles is None or not self.classes_:
            raise ModelError("twitter.sentiment is not fitted; call fit first")
        require_columns(frame, list(self.roles.text))
        if self._normaliser is not None:
            check_cleaning_once(self, self.state.get("cleaning"), self._normaliser,
                                "the tweet cleaning of mlstat-twitter", TWEET_CLEANING_CHANGES)
            if "cleaning" not in self.state:  # saved before samples: its base keeps none
                mark_cleaning_checked(self.base)  # either; one warning says it
        if not len(frame):
            empty = classification_frame(frame.index, self.classes_,
                                         np.zeros((0, len(self.classes_))))
            empty["language"] = pd.Series([], dtype=object, index=frame.index)
            return empty
        prepared = self.prepared(frame)
        inner = self.base.predict(prepared)
        columns = ["prediction", "confidence", *[f"proba_{c}" for c in self.classes_]]
        out = inner[[c for c in columns if c in inner.columns]].copy()
        out["language"] = prepared[LANG].to_numpy()
        known = set(self.state.get("languages", []))
        unseen = ~np.isin(prepared[LANG].to_numpy(), list(known))
        out["language_seen"] = ~unseen
        return out

    def unseen_language_note(self, predicted: pd.DataFrame) -> str | None:
        if "language_seen" not in predicted.columns:
            return None
        unseen = ~predicted["language_seen"].astype(bool).to_numpy()
        if not self.params.language_feature:  # a tweet without words is no other language
            unseen &= predicted["language"].to_numpy() != UNKNOWN_LANGUAGE
        if not unseen.any():
            return None
        found = sorted(set(predicted["language"].to_numpy()[unseen]))
        shown = [f"{code} (undetermined)" if code == UNKNOWN_LANGUAGE else code
                 for code in found]
        how = ("scored by the multilingual model without a language feature"
               if self.params.language_feature else
               f"scored by a model trained on {', '.join(self.state.get('languages', []))} only")
        return (f"{int(unseen.sum())} tweet(s) in language(s) {', '.join(shown)} that the model "
                f"was not trained on: {how} (expect lower accuracy)")

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.base.save(directory / BASE_DIR)
        self.write_state(directory, state=self.state)

    @classmethod
    def load(cls, directory: Path) -> SentimentModel:
        directory = Path(directory)
        model, saved = cls.read_state(directory, SentimentParams)
        model.state = saved["state"]
        base_type = type(model._new_base(bool(model.state.get("language_augmented"))))
        model.base = base_type.load(directory / BASE_DIR)
        return model

    def global_explanation(self) -> dict[str, Any] | None:
        return self.base.global_explanation()


# --- VADER ----------------------------------------------------------------------------------


class VaderModel(IndexingModel):
    """VADER (Hutto and Gilbert 2014): a rule-based English sentiment lexicon tuned on social
    media, shipped inside the vaderSentiment wheel. No learning in the default rule mode
    (compound beyond +/- threshold); ``calibrate`` learns class boundaries from VADER's four
    scores with a logistic regression, which also lets it serve labels other than
    negative / neutral / positive. English only: other languages score mostly neutral."""

    params: VaderParams

    def __init__(self, params: VaderParams | None = None,
                 task: str = "text_classification") -> None:
        super().__init__(params if params is not None else VaderParams(), task)
        self.state: dict[str, Any] = {}

    def fit(self, train: Dataset, validation: Dataset | None = None) -> VaderModel:
        self._check_training(train)
        p = self.params
        self.roles = ColumnRoles(id=train.roles.id, target=train.roles.target,
                                 text=list(train.roles.text))
        labels = sorted(set(train.y.astype(str)))
        self.state = {}
        if p.calibrate:
            from sklearn.linear_model import LogisticRegression

            scores = vader_scores(_joined(train.frame, self.roles.text).tolist())
            lr = LogisticRegression(max_iter=500, random_state=self.seed)
            lr.fit(scores, train.y.astype(str).to_numpy())
            self.classes_ = [str(c) for c in lr.classes_]
            self.state["coef"] = lr.coef_.tolist()
            self.state["intercept"] = lr.intercept_.tolist()
        else:
            wanted = [p.negative, p.neutral, p.positive]
            stray = [v for v in labels if v not in wanted]
            if stray:
                raise DataError(f"twitter.vader's rules give {', '.join(wanted)} but the labels "
                                f"include {', '.join(stray[:5])}; set negative / neutral / "
                                "positive in [model] to your labels, or calibrate = true")
            self.classes_ = sorted(wanted)
        if validation is None or not len(validation):
            validation, source = train, "training data (rules learn nothing from it)" \
                if not p.calibrate else "training data (optimistic)"
        else:
            source = "validation"
        self._store_confusion(validation, source)
        return self

    def _proba(self, scores: np.ndarray) -> np.ndarray:
        classes = self.classes_ or []
        if self.params.calibrate:
            coef, intercept = np.asarray(self.state["coef"]), np.asarray(self.state["intercept"])
            logits = scores @ coef.T + intercept
            if logits.shape[1] == 1:  # binary logistic regression
                logits = np.hstack([-logits / 2, logits / 2])
            logits -= logits.max(axis=1, keepdims=True)
            e = np.exp(logits)
            return e / e.sum(axis=1, keepdims=True)
        p = self.params
        compound = scores[:, 3]
        best = np.where(compound >= p.threshold, classes.index(p.positive),
                        np.where(compound <= -p.threshold, classes.index(p.negative),
                                 classes.index(p.neutral)))
        strength = np.where(best == classes.index(p.neutral),
                            1 - np.abs(compound) / max(p.threshold, 1e-9), np.abs(compound))
        top = 0.5 + 0.5 * np.clip(strength, 0, 1)
        proba = np.repeat(((1 - top) / (len(classes) - 1))[:, None], len(classes), axis=1)
        proba[np.arange(len(best)), best] = top
        return proba

    def _predicted(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.roles is None or not self.classes_:
            raise ModelError("twitter.vader is not fitted; call fit first")
        require_columns(frame, list(self.roles.text))
        texts = _joined(frame, self.roles.text)
        scores = vader_scores(texts.tolist()) if len(frame) else np.zeros((0, 4))
        out = classification_frame(frame.index, self.classes_, self._proba(scores))
        out["compound"] = scores[:, 3]
        lp = LanguageParams()  # the data's language column, else identified (en, fr, de, nl)
        out["language"] = languages_of(frame, lp.column, lp.languages, True, texts) \
            if len(frame) else pd.Series([], dtype=object, index=frame.index)
        return out

    def unseen_language_note(self, predicted: pd.DataFrame) -> str | None:
        """The warning on tweets that are not in English, which VADER cannot read."""
        if "language" not in predicted.columns:
            return None
        lang = predicted["language"].astype(str).to_numpy()
        other = (lang != "en") & (lang != UNKNOWN_LANGUAGE)
        if not other.any():
            return None
        found = sorted(set(lang[other]))
        return (f"{int(other.sum())} of {len(lang)} tweet(s) are in language(s) "
                f"{', '.join(found)}, not English: VADER is an English lexicon and scores them "
                "mostly neutral; use twitter.sentiment for them")

    def save(self, directory: Path) -> None:
        self.write_state(directory, state=self.state)

    @classmethod
    def load(cls, directory: Path) -> VaderModel:
        model, saved = cls.read_state(directory, VaderParams)
        model.state = saved["state"]
        return model

    def global_explanation(self) -> dict[str, Any] | None:
        return {"lexicon": "VADER (vaderSentiment)", "mode": "calibrated" if
                self.params.calibrate else f"rules, compound threshold {self.params.threshold}",
                "state": json.loads(json.dumps(self.state))}
