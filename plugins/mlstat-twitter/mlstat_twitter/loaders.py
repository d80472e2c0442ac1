"""Tweets from X API v2 exports (JSON, JSON Lines: read by :mod:`mlstat_twitter.xjson`), CSV
exports and the UMSAB benchmark (:mod:`mlstat_twitter.umsab`), with the cleaning policies.

Every loader yields the same columns: ``id``, ``text``, ``created_at`` (UTC timestamps),
``author``, ``language`` (ISO 639-1, missing where unknown), ``is_retweet``, and ``label``
where tweets are labelled; X exports add ``retweet_count``, ``like_count`` and such.
"""

from __future__ import annotations

import csv
import re
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.components import ColumnRoles, Dataset, Loader
from mlstat_core.errors import DataError
from mlstat_core.io import resolve_path as core_resolve_path
from mlstat_twitter.params import BUNDLED, LANGUAGE_CODES, TweetsParams, UmsabParams
from mlstat_twitter.textfiles import (
    GZIP_ERRORS,
    LOADER_OPTION,
    STREAM_OPTION,
    encoding_advice,
    format_setting,
    format_value,
    on_command_line,
    open_text,
    utf16_advice,
)
from mlstat_twitter.umsab import read_umsab
from mlstat_twitter.xjson import api_errors, error_pages, error_text, export_pages, export_rows

COLUMNS = ["id", "text", "created_at", "author", "language", "is_retweet"]
AUTHOR_COLUMNS = ("author", "username", "screen_name", "user", "author_id", "user_id",
                  "user.screen_name", "user.username", "author.username", "user.id_str",
                  "user.id", "author.id")
"""CSV columns naming a tweet's author, the first present is read (v1.1, v2, twarc exports)."""
LANGUAGE_COLUMNS = ("language", "lang")
"""CSV columns holding a tweet's language, the first present is read: the tweet loaders'
own (``language``, which they write), then X's (``lang``)."""
STREAM_KEY = "twitter_stream"
"""Key of ``Dataset.metadata`` naming the stream to index: {"path": ..., "format": ...,
"encoding": ...} and the loader's policies for it."""
SHOWN_LINES = 5


def data_dir() -> Path:
    return Path(str(resources.files("mlstat_twitter.data")))


def resolve_path(path: str, base_dir: Path) -> Path:
    """A bundled set by its name (``bundled:timeline``), else a path as the core resolves it."""
    if path in BUNDLED:
        return data_dir().joinpath(*BUNDLED[path])
    return core_resolve_path(path, base_dir)


def detect_format(path: Path, declared: str = "auto", option: str = LOADER_OPTION) -> str:
    """The declared format, else the one the suffix tells (``.js``: an X archive file; of a
    gzip file, the suffix before ``.gz``: ``tweets.jsonl.gz`` is JSON Lines)."""
    if declared != "auto":
        return declared
    suffixes = [s.lower() for s in path.suffixes]
    suffix = suffixes[-2] if suffixes[-2:-1] and suffixes[-1] == ".gz" else path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".json", ".js"):
        return "json"
    if suffix in (".csv", ".tsv", ".txt", ".gz"):
        return "csv"
    raise DataError(f"cannot tell the format of {path} from its suffix {suffix!r}; "
                    f"{format_setting(option)} (json, jsonl or csv)")


TIMESTAMP_FORMS = ("ISO 8601 (2023-05-03T14:12:00Z) or the X v1.1 form "
                   "(Wed May 03 14:12:00 +0000 2023), a zone written ' UTC' or ' GMT' read as Z")
"""The timestamps read, for messages; anything else (03/05/2023: March or May?) is missing."""


UTC_WORD = re.compile(r"(?<=\d)\s*(?:UTC|GMT)$", re.IGNORECASE)
"""A zone written as a word that means UTC (``2023-05-03 14:12:00 UTC``, as BigQuery and
many databases export); other zone words (CEST: which day of the change?) are not read."""


def timestamp_text(values: pd.Series) -> pd.Series:
    """The timestamps as stripped text, a trailing ``UTC`` or ``GMT`` written ``+00:00``."""
    return values.astype("string").str.strip().str.replace(UTC_WORD, "+00:00", regex=True)


def parse_timestamps(values: pd.Series) -> pd.Series:
    """ISO 8601 (X API v2, most CSV exports) or the v1.1 form 'Wed Oct 10 20:19:24 +0000 2018',
    as UTC; what parses in neither is missing (never guessed: 03/05/2023 is ambiguous)."""
    text = timestamp_text(values)
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    bad = parsed.isna() & text.notna()
    if bad.any():
        parsed.loc[bad] = pd.to_datetime(text[bad], utc=True, errors="coerce",
                                         format="%a %b %d %H:%M:%S %z %Y")
    return parsed


ZONE = (r"(?:\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)"
        r"|[+-]\d{4} \d{4})$")
"""How a time that says its zone ends: ISO 8601 (``Z``, ``+02:00``, ``-0500`` after the time;
a date alone has none) or the v1.1 form (``+0000 2023``)."""


def naive_timestamp_note(values: pd.Series, parsed: pd.Series, where: str) -> str | None:
    """The warning on timestamps read that carry no time zone (``2023-05-03 14:12:00``, a date
    alone): they are read as UTC, which is wrong by the offset if they are local times, and
    puts tweets of the evening (or morning) in the next (or previous) day or week."""
    text = timestamp_text(values)
    naive = parsed.notna() & ~text.str.contains(ZONE, regex=True).fillna(True)
    n = int(naive.sum())
    if not n:
        return None
    first = str(text[naive].iloc[0])
    return (f"{where}: {n} of {int(parsed.notna().sum())} timestamp(s) carry no time zone (such "
            f"as {first!r}); they are read as UTC. If they are local times, add the offset to "
            "them (2023-05-03T14:12:00+02:00): the index counts days and weeks in its "
            "`timezone`, and a local time read as UTC shifts tweets across midnight")


UNDETERMINED = frozenset({"und", "qam", "qct", "qht", "qme", "qst", "zxx", "art"})
"""X's codes for a tweet of no language it could name (undetermined; mentions, cashtags,
hashtags or media only; very short text): missing, so that the offline identifier routes it."""


def language_codes(values: pd.Series) -> pd.Series:
    """Language codes as the models compare them: ISO 639-1 in lower case, a region dropped
    (``nl-BE``, ``NL`` -> ``nl``), a name as its code (``Dutch`` -> ``nl``); X's
    undetermined codes and blanks missing."""
    codes = values.astype("string").str.strip().str.lower().str.split(r"[-_]", n=1,
                                                                    regex=True).str[0]
    codes = codes.astype("string").replace(LANGUAGE_CODES)
    return codes.mask(codes.isin(UNDETERMINED) | (codes == ""))


# --- X API v2 ------------------------------------------------------------------------------


def read_x_export(path: Path, fmt: str, encoding: str = "utf-8",
                  option: str = LOADER_OPTION, require_timestamp: bool = False
                  ) -> tuple[pd.DataFrame, list[int]]:
    """Tweets of an X API v2 export and the numbers of malformed lines (JSON Lines only);
    ``option`` is how the user sets the encoding, for messages. With ``require_timestamp``
    an export whose tweets have no ``created_at`` at all is an error that says to ask for it."""
    pages, bad = export_pages(path, fmt, encoding, option)
    rows = export_rows(pages)
    if bad:
        shown = ", ".join(map(str, bad[:SHOWN_LINES])) + (" ..." if len(bad) > SHOWN_LINES
                                                           else "")
        warnings.warn(f"{path.name}: skipped {len(bad)} malformed JSON line(s) (line {shown})",
                      stacklevel=3)
    if not rows and bad and not pages:
        advice = utf16_advice(path, option) or "; give an X API v2 export as JSON Lines, " \
            f"or if it is one JSON document (a response written over several lines) " \
            f"{format_value(option, 'json')}, or if it is CSV {format_value(option, 'csv')}"
        raise DataError(f"{path} holds no tweets: none of its {len(bad)} line(s) is JSON "
                        f"(first malformed line {bad[0]}){advice}")
    if not rows:
        raise DataError(f"{path} holds no tweets: expected X API v2 responses with a `data` "
                        "list (and optional `includes`), or tweet objects with `text`"
                        + api_errors(pages))
    failed = error_pages(pages)
    if failed:  # a request of the paging failed: its tweets are missing from the export
        warnings.warn(f"{path.name}: {len(failed)} page(s) of the export are API errors, not "
                      f"tweets (first: {error_text(failed[0])}): the tweets those requests "
                      "would have given are missing, so counts of their time span are too "
                      "low; fetch those pages again", stacklevel=3)
    frame = pd.DataFrame(rows)
    frame["language"] = language_codes(frame["language"])
    raw_times = frame["created_at"]
    if require_timestamp and raw_times.isna().all():
        raise DataError(f"{path}: none of its {len(frame)} tweet(s) has a `created_at`; the X "
                        "API gives it only when asked: request tweet.fields=created_at"
                        + (", or set require_timestamp = false in [loader] for training "
                           "data, which needs no time" if option == LOADER_OPTION else ""))
    frame["created_at"] = parse_timestamps(raw_times)
    # as for CSV: times not needed (training data) are read without a word on their zone
    note = naive_timestamp_note(raw_times, frame["created_at"], path.name) \
        if require_timestamp else None
    if note:
        warnings.warn(note, stacklevel=3)
    return frame, bad


# --- CSV -----------------------------------------------------------------------------------


def read_csv_export(path: Path, params: TweetsParams | None = None,
                    option: str = LOADER_OPTION) -> pd.DataFrame:
    """The standard columns of a CSV export; ``option`` is how the user sets the encoding."""
    from mlstat_core.io import read_table, separator_text

    p = params or TweetsParams(path=str(path))
    sep = csv_separator(path, p.encoding, p.text)
    # ids as text: a tweet id (19 digits) read as a number loses its last digits
    raw = read_table(path, format="csv", encoding=p.encoding, sep=sep,
                     dtype={p.id: "string", "id_str": "string"},
                     how=lambda setting, _: encoding_advice(path, option, "cp1252")
                     if setting == "encoding" else None)  # Western European tweets
    names = [c.strip() if isinstance(c, str) else c for c in raw.columns]
    if len(set(names)) == len(names):  # "id; text; created_at": spaces are not in the name
        raw = raw.set_axis(names, axis=1)
    if not raw.index.equals(pd.RangeIndex(len(raw))):  # pandas took the first field as index
        used = separator_text(sep or ",")
        raise DataError(f"{path}: its first record has more fields than its header's "
                        f"{len(raw.columns)}, so every field would be read into the wrong "
                        f"column; a text holding '{used}' unquoted? Put such texts in double "
                        "quotes (as Excel and pandas write them) or check the separator")
    if p.text not in raw.columns:
        raise DataError(f"{path} has no text column {p.text!r}; it has {_listed(raw)}: "
                        f"{_set_column('text', 'stream_text', '--text-column')}")
    if p.created_at not in raw.columns and needs_timestamp(p):
        raise DataError(f"{path} has no timestamp column {p.created_at!r}; it has "
                        f"{_listed(raw)}: "
                        f"{_set_column('created_at', 'stream_created_at', '--time-column')}"
                        + (", or set require_timestamp = false in [loader] for training data, "
                           "which needs no time" if option == LOADER_OPTION else ""))
    if p.id not in raw.columns and p.id != TweetsParams.model_fields["id"].default:
        raise DataError(f"{path} has no id column {p.id!r}; it has {_listed(raw)}: "
                        f"{_set_column('id', 'stream_id', '--id-column')}")
    frame = pd.DataFrame(index=raw.index)
    id_col = p.id if p.id in raw.columns else "id_str" if "id_str" in raw.columns else None
    frame["id"] = raw[id_col].astype("string") if id_col else \
        pd.Series(np.arange(len(raw)).astype(str), index=raw.index, dtype="string")
    frame["text"] = raw[p.text]
    if p.created_at in raw.columns:
        frame["created_at"] = parse_timestamps(raw[p.created_at])
        note = naive_timestamp_note(raw[p.created_at], frame["created_at"], path.name) \
            if needs_timestamp(p) else None
        if note:
            warnings.warn(note, stacklevel=3)
    else:
        frame["created_at"] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    author = getattr(p, "author", None)
    if author and author not in raw.columns:
        raise DataError(f"{path} has no author column {author!r}; it has {_listed(raw)}: "
                        f"{_set_column('author', 'stream_author', '--author-column')}")
    author = author or next((c for c in AUTHOR_COLUMNS if c in raw.columns), None)
    frame["author"] = raw[author].astype("string") if author else pd.NA
    if not author and not id_col and p.duplicates == "drop":
        warnings.warn(f"{path.name} has neither an id column ({p.id!r}, 'id_str') nor an author "
                      f"column ({', '.join(AUTHOR_COLUMNS[:4])}, ...), so exact duplicates "
                      "cannot be told from tweets that only read alike and none is dropped; "
                      f"{_set_column('id', 'stream_id', '--id-column')}, or the author's with "
                      "`author` (`stream_author`, --author-column)", stacklevel=3)
    lang = p.language or next((c for c in LANGUAGE_COLUMNS if c in raw.columns), None)
    if p.language and p.language not in raw.columns:
        raise DataError(f"{path} has no language column {p.language!r}; remove `language` "
                        "from [loader] to identify languages from the text")
    frame["language"] = language_codes(raw[lang]) if lang else pd.NA
    if "is_retweet" in raw.columns:
        flag = raw["is_retweet"].astype("string").str.lower().isin(["true", "1", "yes"])
    else:
        flag = pd.Series(False, index=raw.index)
    frame["is_retweet"] = flag.to_numpy() | raw[p.text].astype("string").str.startswith(
        "RT @").fillna(False).to_numpy()
    if p.label:
        if p.label not in raw.columns:
            raise DataError(f"{path} has no label column {p.label!r}; it has {_listed(raw)}: "
                            f"{label_setting(option)}")
        frame["label"] = raw[p.label].astype("string")
    for column in raw.columns:
        if column not in frame.columns and column not in (p.text, p.created_at, id_col, lang):
            frame[column] = raw[column]
    return frame


SEPARATORS = (",", ";", "\t", "|")
"""Field separators of CSV exports: Excel in a Belgian, Dutch, French or German locale writes
``;``."""


def csv_separator(path: Path, encoding: str, text_column: str) -> str | None:
    """The separator whose fields of the header line include ``text_column`` (``,`` first;
    tab first for ``.tsv``), else the one that splits the header into most fields; None when
    the header cannot be read or is one field (the reader then reports the file). A header in
    another encoding than ``encoding`` is looked at byte by byte (the separators are ASCII),
    so that the read proper reports the encoding, not a separator it guessed wrong."""
    header = None
    for tried in (encoding, "latin-1"):
        try:
            with open_text(path, tried) as handle:
                header = handle.readline().strip("\r\n")
            break
        except UnicodeDecodeError:
            continue
        except (LookupError, *GZIP_ERRORS):
            return None
    if header is None:
        return None
    if re.fullmatch(r'"?sep=.?"?', header.strip().lstrip("\ufeff"), flags=re.IGNORECASE):
        raise DataError(f"{path}: its first line {header.strip()!r} is a hint for Excel, not the "
                        "header; delete that line (the separator is found from the header)")
    order = sorted(SEPARATORS, key=lambda sep: sep != "\t") if ".tsv" in \
        [s.lower() for s in path.suffixes] else SEPARATORS
    fields = {sep: [f.strip() for f in next(csv.reader([header], delimiter=sep), [])]
              for sep in order}
    named = next((sep for sep in order if text_column in fields[sep]), None)
    widest = max(order, key=lambda sep: len(fields[sep]))
    return named or (widest if len(fields[widest]) > 1 else None)


def _listed(raw: pd.DataFrame) -> str:
    return ", ".join(map(repr, list(raw.columns)[:15]))


def _set_column(loader_key: str, stream_key: str, option: str) -> str:
    return (f"name the right column with `{loader_key}` in [loader] (`{stream_key}` for the "
            f"loader's stream file, {option} for mlstat-twitter-index)")


def label_setting(option: str) -> str:
    """How to name the label column where the labelled file was given (``option`` sets its
    encoding): `label` for the loader's own file, `confusion_label` for the confusion sample
    of a loader's stream, --label-column for mlstat-twitter-index's --confusion-sample."""
    if on_command_line(option):
        return "pass --label-column with the column of the sentiment label"
    if option == STREAM_OPTION:
        return ("set `confusion_label` in [loader] to the column of the sentiment label in "
                "`confusion_sample`")
    return "set `label` in [loader] to the sentiment column, or remove it"


def needs_timestamp(params: Any) -> bool:
    """Tweets must have a time unless ``require_timestamp`` says otherwise; by default only a
    labelled file (training data) may go without."""
    required = getattr(params, "require_timestamp", True)
    return not getattr(params, "label", None) if required is None else bool(required)


# --- cleaning policies ---------------------------------------------------------------------


def apply_policies(frame: pd.DataFrame, params: Any, where: str,
                   require_timestamp: bool = True, option: str = LOADER_OPTION,
                   unique_ids: bool = False) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop (or refuse) tweets without text or timestamp, retweets and exact duplicates, as
    the params say; warn with what was removed and return the frame and the counts.
    ``option`` is how the user sets the encoding: it tells where the file was given.
    ``unique_ids``: the ids are X's (an X export), so copies of one id are one tweet."""
    counts: dict[str, int] = {}
    text = frame["text"].astype("string")
    no_text = text.isna() | (text.str.strip() == "")
    no_time = frame["created_at"].isna() if require_timestamp else pd.Series(False,
                                                                              index=frame.index)
    no_time = no_time & ~no_text  # a tweet without either is counted once, without text
    for what, mask in (("without text", no_text), ("without a valid timestamp", no_time)):
        n = int(mask.sum())
        if not n:
            continue
        if params.missing == "error":
            first = frame.loc[mask, "id"].astype(str).head(SHOWN_LINES).tolist()
            raise DataError(f"{where}: {n} tweet(s) {what} (ids {', '.join(first)}); fix the "
                            "export or set missing = \"drop\" in [loader]")
        counts[what] = n
    keep = ~(no_text | no_time)
    if params.retweets == "drop":
        rt = keep & frame["is_retweet"].astype(bool)
        counts["retweets"] = int(rt.sum())
        keep &= ~rt
    if params.duplicates == "drop":
        dup = keep & duplicated_tweets(frame, keep, unique_ids)
        counts["duplicates"] = int(dup.sum())
        keep &= ~dup
    removed = {k: v for k, v in counts.items() if v}
    if removed:
        warnings.warn(f"{where}: dropped {_removed_text(removed, forms=True)}", stacklevel=3)
    out = frame.loc[keep].reset_index(drop=True)
    if out.empty and not removed:
        raise DataError(f"{where} holds no tweets (a header only); check the file")
    if out.empty:
        raise DataError(f"{where}: no tweets left after removing {_removed_text(removed)}; "
                        + "; or ".join(_fixes(option)[what] for what in removed))
    return out, removed


def duplicated_tweets(frame: pd.DataFrame, keep: pd.Series, unique_ids: bool = False
                      ) -> pd.Series:
    """Which of the ``keep`` tweets repeat an earlier one: the same text by the same author
    (:func:`duplicate_key`), or the same tweet (same id and text) whoever the author is shown
    as. The second catches a tweet given twice in an export whose pages name its author
    differently (by user name where a page's ``includes`` has the user, else by id). With
    ``unique_ids`` (X's own ids) copies of one id are one tweet whatever their text, and the
    copy with the longest text stays: pages fetched with and without ``note_tweet`` or the
    retweeted originals give one tweet its whole text in one copy and the cut one in another
    (it was counted twice)."""
    by_author = duplicate_key(frame).where(keep).duplicated()
    ids = frame["id"].astype("string")
    if unique_ids:
        text_length = frame["text"].astype("string").str.len().fillna(-1)
        longest_first = text_length[keep & ids.notna()].sort_values(ascending=False,
                                                                    kind="stable").index
        by_id = pd.Series(False, index=frame.index)
        by_id[longest_first] = ids[longest_first].duplicated().to_numpy()
        return by_author | by_id
    same_tweet = (ids + "\x00" + frame["text"].astype("string").fillna(""))
    by_id = same_tweet.where(keep & ids.notna()).duplicated() & ids.notna()
    return by_author | by_id


def duplicate_key(frame: pd.DataFrame) -> pd.Series:
    """What makes two tweets exact duplicates: the same text by the same author (for X API
    exports, the author's id, which every page gives, not the user name, which only pages
    whose ``includes`` list the user do); a tweet whose author is unknown is a duplicate only
    of the same tweet (same id and text), since identical texts of different people are not
    reposts."""
    author = frame["author"].astype("string")
    if "author_id" in frame:
        author = frame["author_id"].astype("string").fillna(author)
    who = ("author\x00" + author).fillna("id\x00" + frame["id"].astype("string").fillna(""))
    return frame["text"].astype("string").fillna("") + "\x00" + who


def _removed_text(removed: dict[str, int], forms: bool = False) -> str:
    """``3 tweet(s) without a valid timestamp, 2 retweet(s)``; with ``forms`` the timestamps
    read are named."""
    named = f" (timestamps must be {TIMESTAMP_FORMS})" if forms else ""
    words = {"without text": "tweet(s) without text",
             "without a valid timestamp": f"tweet(s) without a valid timestamp{named}",
             "retweets": "retweet(s)",
             "duplicates": "exact duplicate(s) (same text and author, or the same tweet)"}
    return ", ".join(f"{n} {words[what]}" for what, n in removed.items())


def _fixes(option: str) -> dict[str, str]:
    """How to keep each kind of removed tweet, in the words of where the file was given."""
    cli = on_command_line(option)
    time = "check which column holds the time" + (" (--time-column)" if cli else "") + \
        f" and that it is {TIMESTAMP_FORMS}"
    if option == LOADER_OPTION:
        time += ", or set require_timestamp = false in [loader] for training data"
    return {"without text": "check which column holds the text" +
            (" (--text-column)" if cli else ""), "without a valid timestamp": time,
            "retweets": "keep retweets" + (" (--retweets keep)" if cli else ""),
            "duplicates": "keep duplicates" + (" (--duplicates keep)" if cli else "")}


def read_tweets(path: Path, fmt: str = "auto", params: Any = None,
                encoding_option: str = LOADER_OPTION) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Any supported export as the standard columns, with the cleaning policies applied;
    read in ``params.encoding``, which the user sets through ``encoding_option``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"tweet file {path} does not exist; check `path` (relative to the "
                        "pipeline file) or `stream`")
    fmt = detect_format(path, fmt, encoding_option)
    params = params or TweetsParams(path=str(path))
    if fmt == "csv":
        frame, bad = read_csv_export(path, params, encoding_option), []
    else:
        frame, bad = read_x_export(path, fmt, getattr(params, "encoding", "utf-8"),
                                   encoding_option, needs_timestamp(params))
    frame, removed = apply_policies(frame, params, str(path), needs_timestamp(params),
                                    encoding_option, unique_ids=fmt != "csv")
    return frame, {"format": fmt, "encoding": getattr(params, "encoding", "utf-8"),
                   "malformed_lines": len(bad),
                   "malformed_line_numbers": bad[:SHOWN_LINES], "removed": removed}


def stream_metadata(params: Any, base_dir: Path) -> tuple[dict[str, Any], list[Path]]:
    if not params.stream:
        if params.confusion_sample:
            raise DataError("`confusion_sample` in [loader] estimates the confusion matrix of "
                            "the stream's index; set `stream` too, or remove it")
        return {}, []
    path = resolve_path(params.stream, base_dir).resolve()
    if not path.is_file():
        raise DataError(f"stream file {path} does not exist; `stream` in [loader] is "
                        "relative to the pipeline file ('bundled:timeline' for the bundled one)")
    sample = confusion_sample_path(params, base_dir)
    return {STREAM_KEY: {**({"confusion_sample": str(sample),
                             "confusion_label": params.confusion_label} if sample else {}),
                         "path": str(path), "format": params.stream_format,
                         "retweets": params.stream_retweets,
                         "duplicates": params.stream_duplicates,
                         "missing": params.missing, "text": params.stream_text,
                         "created_at": params.stream_created_at,
                         "id": params.stream_id, "author": params.stream_author,
                         "encoding": stream_encoding(params),
                         "encoding_option": STREAM_OPTION}}, [path, *([sample] if sample
                                                                   else [])]


def confusion_sample_path(params: Any, base_dir: Path) -> Path | None:
    """The resolved ``confusion_sample`` of [loader], or None when it is not set."""
    if not params.confusion_sample:
        return None
    path = resolve_path(params.confusion_sample, base_dir).resolve()
    if not path.is_file():
        raise DataError(f"confusion sample {path} does not exist; `confusion_sample` in "
                        "[loader] is relative to the pipeline file")
    return path


def stream_encoding(params: Any) -> str:
    """``stream_encoding``, else the loader's own ``encoding`` (twitter.tweets), else utf-8."""
    return params.stream_encoding or getattr(params, "encoding", None) or "utf-8"


class TweetsLoader(Loader):
    """Tweets of an X API v2 export or a CSV file (labelled when ``label`` is set)."""

    params: TweetsParams

    def load(self, base_dir: Path) -> Dataset:
        p = self.params
        path = resolve_path(p.path, base_dir)
        frame, info = read_tweets(path, p.format, p)
        roles = ColumnRoles(id="id", text=["text"], target="label" if p.label else None)
        extra, sources = stream_metadata(p, base_dir)
        return Dataset(frame, roles, name=path.stem, sources=[path, *sources],
                       metadata={"tweets": info, **extra})


# --- UMSAB -----------------------------------------------------------------------------------


class UmsabLoader(Loader):
    """The UMSAB sentiment benchmark: train / val / test as published, per language."""

    params: UmsabParams

    def load(self, base_dir: Path) -> Dataset:
        p = self.params
        root = resolve_path(p.data_dir, base_dir) if p.data_dir else data_dir() / "umsab"
        frame, sources = read_umsab(root, p.languages, p.label_names)
        frame, removed = apply_policies(frame, p, str(root), require_timestamp=False)
        extra, stream_sources = stream_metadata(p, base_dir)
        roles = ColumnRoles(id="id", target="label", text=["text"])
        return Dataset(frame, roles, name="umsab-" + "-".join(p.languages),
                       sources=[*sources, *stream_sources],
                       metadata={"tweets": {"removed": removed}, **extra})
