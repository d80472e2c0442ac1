"""Tweets of X exports in JSON: API v2 responses (``data`` and ``includes``), JSON Lines of
responses or of tweets, an X archive's ``tweets.js``, and v1.1 tweet objects of older
collections; each tweet as a row of the loaders' standard columns (see
:mod:`mlstat_twitter.loaders`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mlstat_core.errors import DataError
from mlstat_twitter.textfiles import (
    GZIP_ERRORS,
    decoding_error,
    format_value,
    gzip_error,
    open_text,
    utf16_advice,
)

ARCHIVE_PREFIX = re.compile(r"^\s*window\.YTD\.[\w.]+\s*=\s*")
"""What starts a tweets file of an X archive (``window.YTD.tweets.part0 = [...]``)."""


def _archive_tweet(item: Any) -> Any:
    """An X archive entry (``{"tweet": {"id_str", "full_text", ...}}``) as a tweet object."""
    if not (isinstance(item, dict) and isinstance(item.get("tweet"), dict)):
        return item
    tweet = item["tweet"]
    return {**tweet, "id": tweet.get("id_str", tweet.get("id")),
            "text": tweet.get("full_text", tweet.get("text"))}


def _pages_from_json(path: Path, encoding: str, option: str) -> list[Any]:
    """The JSON documents of a file: one response, a list of them, or an X archive's tweets
    (its ``window.YTD... =`` prefix skipped)."""
    try:
        with open_text(path, encoding) as handle:
            body = handle.read()
        if not body.strip():
            raise DataError(f"{path} is empty; give an X API v2 export")
        archive = ARCHIVE_PREFIX.match(body)
        doc = json.loads(body[archive.end():] if archive else body)
    except UnicodeDecodeError as exc:
        raise decoding_error(path, encoding, exc, option) from None
    except GZIP_ERRORS as exc:
        raise gzip_error(path, exc) from None
    except json.JSONDecodeError as exc:
        advice = utf16_advice(path, option) or "; if it has one JSON object per line, " \
            f"{format_value(option, 'jsonl')}"
        raise DataError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}){advice}"
                        ) from None
    except RecursionError:
        raise DataError(f"{path} is nested too deeply to read as JSON (lists or objects within "
                        "each other beyond about 1,000 levels, where an X export needs a few); "
                        "check that it is an X API v2 export") from None
    pages = doc if isinstance(doc, list) else [doc]
    return [_archive_tweet(page) for page in pages]


PAGE_KEYS = frozenset({"data", "includes", "meta", "errors", "text", "full_text", "id",
                       "id_str"})
"""Keys of which a line of an X export holds at least one: a v2 response (``data``,
``includes``, ``meta``; ``errors`` for an API error) or a tweet (v2 or v1.1)."""


def _pages_from_jsonl(path: Path, encoding: str, option: str) -> tuple[list[Any], list[int]]:
    """The JSON value of each line and the numbers of the lines that are not JSON (or nested
    too deeply to decode); a byte that is not text in ``encoding`` stops reading (replaced, it
    would garble tweets unseen)."""
    pages: list[Any] = []
    bad: list[int] = []
    try:
        with open_text(path, encoding) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except (json.JSONDecodeError, RecursionError):  # too deep: malformed too
                    bad.append(number)
                    continue
                objects = [v for v in (value if isinstance(value, list) else [value])
                           if isinstance(v, dict)
                           and (not PAGE_KEYS.isdisjoint(v) or is_problem(v))]
                if objects:  # a response, a tweet, or a list of them
                    pages.extend(objects)
                else:  # JSON, but neither (42, "text", [1, 2], {"foo": 1}): no tweet read
                    bad.append(number)
    except UnicodeDecodeError as exc:
        raise decoding_error(path, encoding, exc, option) from None
    except GZIP_ERRORS as exc:
        raise gzip_error(path, exc) from None
    if not pages and not bad:
        raise DataError(f"{path} is empty; give an X API v2 export")
    return pages, bad


def _tweets_of_page(page: Any) -> tuple[list[dict], dict[str, str], dict[str, dict]]:
    """(tweets, user id -> username, included tweet id -> tweet) of one v2 response or tweet."""
    if not isinstance(page, dict):
        return [], {}, {}
    includes = page.get("includes") or {}
    users = {str(u.get("id")): u.get("username") for u in includes.get("users") or []
             if isinstance(u, dict)}
    referenced = {str(t.get("id")): t for t in includes.get("tweets") or []
                  if isinstance(t, dict)}
    if "data" in page:
        data = page["data"]
        tweets = data if isinstance(data, list) else [data]
    elif any(key in page for key in ("text", "full_text", "id", "id_str")):
        tweets = [page]
    else:
        tweets = []
    return [t for t in tweets if isinstance(t, dict)], users, referenced


def full_text(tweet: dict) -> Any:
    """A tweet's whole text: a long post's (v2 ``note_tweet.text``; v1.1
    ``extended_tweet.full_text``, of which ``text`` holds the start), else ``full_text``
    (v1.1 extended mode), else ``text``."""
    for key, field in (("note_tweet", "text"), ("extended_tweet", "full_text")):
        long_text = tweet[key].get(field) if isinstance(tweet.get(key), dict) else None
        if isinstance(long_text, str) and long_text.strip():
            return long_text
    return tweet.get("full_text") if isinstance(tweet.get("full_text"), str) else \
        tweet.get("text")


def _tweet_row(t: dict, users: dict[str, str], referenced: dict[str, dict]) -> dict[str, Any]:
    """One tweet object (v2, or v1.1 as older collections hold) as a row of the standard
    columns; a retweet with the original's whole text where the export gives it."""
    refs = t.get("referenced_tweets") or []
    retweet_of = next((str(r.get("id")) for r in refs if isinstance(r, dict)
                       and r.get("type") == "retweeted"), None)
    original = referenced.get(retweet_of) if retweet_of else t.get("retweeted_status")
    text = full_text(t)
    if isinstance(original, dict):  # the retweet's own text is cut ("RT @a: ...")
        text = full_text(original) or text
    user = t.get("user") if isinstance(t.get("user"), dict) else {}  # v1.1
    author_id = t.get("author_id", user.get("id_str", user.get("id")))
    author = str(author_id) if author_id is not None else None
    tweet_id = t.get("id_str", t.get("id"))
    metrics = t.get("public_metrics") or {}
    return {
        "id": str(tweet_id) if tweet_id is not None else None,
        "text": text, "created_at": t.get("created_at"),
        "author": users.get(author, user.get("screen_name", author)) if author else None,
        "author_id": author,
        "language": t.get("lang"),
        "is_retweet": bool(retweet_of) or isinstance(t.get("retweeted_status"), dict)
        or (isinstance(text, str) and text.startswith("RT @")),
        "retweet_count": metrics.get("retweet_count", t.get("retweet_count")),
        "like_count": metrics.get("like_count", t.get("favorite_count")),
        "reply_count": metrics.get("reply_count", t.get("reply_count")),
        "quote_count": metrics.get("quote_count", t.get("quote_count")),
    }


def is_problem(value: Any) -> bool:
    """Whether ``value`` is an X API v2 problem object, the whole response of a request
    that failed (``{"title": "Too Many Requests", "status": 429, ...}``)."""
    return isinstance(value, dict) and "title" in value and "data" not in value \
        and not {"status", "type", "detail"}.isdisjoint(value)


def error_pages(pages: list[Any]) -> list[dict]:
    """The errors of the pages that are failed requests (no ``data``: an errors list or a
    problem object), one per page; partial errors beside a page's tweets (a referenced tweet
    deleted since) are not failed requests."""
    errors = []
    for page in pages:
        if not isinstance(page, dict) or page.get("data") or "text" in page \
                or "full_text" in page:
            continue
        listed = [e for e in page.get("errors") or [] if isinstance(e, dict)]
        if listed or is_problem(page):
            errors.append(listed[0] if listed else page)
    return errors


def error_text(error: dict) -> str:
    """An API error as a message quotes it: ``'Too Many Requests: ...'``."""
    parts = dict.fromkeys(str(error[k]) for k in ("title", "detail", "message") if error.get(k))
    return repr(": ".join(parts)[:200])


def api_errors(pages: list[Any]) -> str:
    """``; it holds API errors instead (first: 'Not Found Error: ...')`` when the pages are
    X API error responses, else ``""``."""
    errors = error_pages(pages)
    if not errors:
        return ""
    return f"; it holds {len(errors)} API error(s) instead (first: {error_text(errors[0])})"


def export_pages(path: Path, fmt: str, encoding: str, option: str
                 ) -> tuple[list[Any], list[int]]:
    """The JSON documents of an export (``fmt`` json or jsonl) and the numbers of its
    malformed lines (JSON Lines only)."""
    if fmt == "jsonl":
        return _pages_from_jsonl(path, encoding, option)
    return _pages_from_json(path, encoding, option), []


def export_rows(pages: list[Any]) -> list[dict[str, Any]]:
    """The tweets of the pages as rows, each page's ``includes`` used for its tweets."""
    rows = []
    for page in pages:
        tweets, users, referenced = _tweets_of_page(page)
        rows += [_tweet_row(t, users, referenced) for t in tweets]
    return rows
