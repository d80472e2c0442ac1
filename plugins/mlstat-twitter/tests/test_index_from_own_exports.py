"""Found by a statistician indexing their own exports: duplicates that could not be found
were kept without a word, the run's stream columns were not reused, partial first and last
periods looked whole, a labelled sample in one language adjusted all languages silently, a
cp1252 file got separator advice, and `--timezone`, a faithful `--no-adjust` record and a
warning when nothing is published were missing."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlstat_twitter.cli import main as index_main
from mlstat_twitter.cli import stream_policy
from mlstat_twitter.index import index_notes, sentiment_index
from mlstat_twitter.loaders import read_tweets
from mlstat_twitter.params import TweetsParams

from mlstat_core.errors import DataError

DUTCH = ("tweet_id;tekst;tijdstip;gebruiker\n"
         "1;Wat een mooie dag;2024-03-04T10:00:00Z;an\n"
         "2;Wat een mooie dag;2024-03-04T10:00:00Z;an\n"   # the same post, exported twice
         "3;Wat een mooie dag;2024-03-04T11:00:00Z;bert\n"  # another person's words
         "4;Slecht weer vandaag;2024-03-05T09:00:00Z;an\n")


def _read(path: Path, **params: object) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame, _ = read_tweets(path, "auto", TweetsParams(path=str(path), **params))
    return frame, [str(w.message) for w in caught]


def test_duplicates_that_cannot_be_found_are_said_and_the_author_column_can_be_named(
        tmp_path: Path) -> None:
    path = tmp_path / "stream_nl.csv"
    path.write_text(DUTCH, encoding="utf-8")
    frame, said = _read(path, text="tekst", created_at="tijdstip")
    assert len(frame) == 4
    assert any("neither an id column" in w and "none is dropped" in w for w in said)
    frame, said = _read(path, text="tekst", created_at="tijdstip", author="gebruiker")
    assert len(frame) == 3 and list(frame["author"]) == ["an", "bert", "an"]
    assert not any("neither an id column" in w for w in said)
    with pytest.raises(DataError, match="no author column 'user_name'.*--author-column"):
        _read(path, text="tekst", created_at="tijdstip", author="user_name")


def test_the_index_command_reads_the_stream_with_the_runs_columns(tmp_path: Path) -> None:
    """Re-indexing a run's own stream file gives the run's index: its stream columns apply
    unless the command line names others."""
    (tmp_path / "config.toml").write_text(
        '[loader]\ncomponent = "twitter.tweets"\nstream_text = "tekst"\n'
        'stream_created_at = "tijdstip"\nstream_id = "tweet_id"\n'
        'stream_author = "gebruiker"\nstream_duplicates = "drop"\n', encoding="utf-8")
    options = dict(keep_retweets=False, retweets=None, duplicates=None, text_column=None,
                   time_column=None, id_column=None, author_column=None)
    policy = stream_policy(tmp_path, argparse.Namespace(**options))
    assert {k: policy[k] for k in ("text", "created_at", "id", "author")} == {
        "text": "tekst", "created_at": "tijdstip", "id": "tweet_id", "author": "gebruiker"}
    given = stream_policy(tmp_path, argparse.Namespace(**{**options, "text_column": "body"}))
    assert given["text"] == "body" and given["id"] == "tweet_id"


def _stream_index(**options: object) -> pd.DataFrame:
    """An index of a stream from 20 December 2024 to 17 February 2025, by month."""
    times = pd.Series(pd.date_range("2024-12-20 10:00", "2025-02-17 10:00", freq="6h",
                                    tz="UTC"))
    labels = np.resize(["positive", "negative", "neutral", "positive"], len(times))
    return sentiment_index(times, pd.Series(labels), ["negative", "neutral", "positive"],
                           "positive", "negative", None, period="month", adjust=False,
                           bootstrap=50, **options)


def test_periods_the_stream_covers_in_part_are_marked_and_said() -> None:
    table = _stream_index(min_count=10)
    assert list(table["period"]) == ["2024-12", "2025-01", "2025-02"]
    assert list(table["partial"]) == [True, False, True]
    assert list(table["status"]) == ["ok", "ok", "ok"]
    (note,) = index_notes(table)
    assert "2024-12 and 2025-02 hold only part of their time" in note
    whole = sentiment_index(pd.Series(pd.to_datetime(["2025-01-01T00:00Z", "2025-01-31T23:00Z"])),
                            pd.Series(["positive", "negative"]),
                            ["negative", "neutral", "positive"], "positive", "negative", None,
                            period="month", adjust=False, bootstrap=10, min_count=1)
    assert list(whole["partial"]) == [False] and index_notes(whole) == []


def test_an_index_that_publishes_no_period_says_so_and_how_to_publish() -> None:
    table = _stream_index(min_count=100_000)
    notes = index_notes(table)
    assert "no period of the index is published (3 too_few): lower min_count" in notes[-1]


def test_a_cp1252_file_gets_the_encoding_advice_not_the_separators(tmp_path: Path) -> None:
    path = tmp_path / "cp.csv"
    path.write_bytes("id;text;created_at\n1;café’s één, goed;2024-01-01T10:00:00Z\n"
                     "2;slecht, heel slecht;2024-01-02T10:00:00Z\n".encode("cp1252"))
    with pytest.raises(DataError) as info:
        _read(path)
    assert "is not valid utf-8 text" in str(info.value) and 'encoding = "cp1252"' in \
        str(info.value)
    assert len(_read(path, encoding="cp1252")[0]) == 2


def test_excels_separator_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "sep.csv"
    path.write_text("sep=;\nid;text;created_at\n1;goed;2024-01-01T10:00:00Z\n",
                    encoding="utf-8")
    with pytest.raises(DataError, match="first line 'sep=;' is a hint for Excel"):
        _read(path)


def test_a_json_line_that_is_no_tweet_nor_response_is_counted_as_malformed(
        tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    lines = [{"data": [{"id": "1", "text": "good", "created_at": "2024-01-01T10:00:00Z"}]},
             {"foo": 1}, {"meta": {"result_count": 0}}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"skipped 1 malformed JSON line\(s\) \(line 2\)"):
        frame, info = read_tweets(path)
    assert len(frame) == 1 and info["malformed_lines"] == 1


def test_timezone_option_and_a_raw_index_records_no_matrix(loaded, tmp_path: Path,
                                                           capsys) -> None:
    """23:30 UTC on 31 January is 1 February in Brussels; --no-adjust records no matrix."""
    tweets = tmp_path / "tweets.csv"
    tweets.write_text("id,created_at,text\n1,2024-01-31T23:30:00Z,I love this\n"
                      "2,2024-01-31T12:00:00Z,I hate it\n", encoding="utf-8")
    out = tmp_path / "idx.csv"
    assert index_main(["run", "--input", str(tweets), "--period", "month", "--min-count", "1",
                       "--timezone", "Europe/Brussels", "--no-adjust",
                       "--output", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table["period"]) == ["2024-01", "2024-02"] and list(table["n"]) == [1, 1]
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["settings"]["timezone"] == "Europe/Brussels"
    assert meta["confusion"] is None and meta["confusion_source"] is None
    assert Path(meta["stream"]).is_absolute()
    assert index_main(["run", "--input", str(tweets), "--timezone", "Europe/Brussel",
                       "--output", str(out)]) == 2
    assert "Europe/Brussels" in capsys.readouterr().err


def test_a_labelled_sample_of_other_languages_than_the_streams_is_warned_of(
        loaded, tmp_path: Path, capsys) -> None:
    texts = ("I love this so much", "I hate it awful", "The meeting is at noon")
    rows = [f"{i},2024-01-{1 + i % 28:02d}T10:00:00Z,{texts[i % 3]} {i},en\n"
            for i in range(90)]
    tweets = tmp_path / "tweets.csv"
    tweets.write_text("id,created_at,text,language\n" + "".join(rows), encoding="utf-8")
    french = ("J'adore ce film", "Je déteste ça horrible", "La réunion est à midi")
    sample = tmp_path / "sample.csv"
    sample.write_text("id,text,language,label\n" + "".join(
        f"{i},{french[i % 3]} {i},fr,{('positive', 'negative', 'neutral')[i % 3]}\n"
        for i in range(90)), encoding="utf-8")
    assert index_main(["run", "--input", str(tweets), "--confusion-sample", str(sample),
                       "--output", str(tmp_path / "idx.csv")]) == 0
    err = capsys.readouterr().err
    assert "the stream's languages (en 100%) differ from those of the tweets the confusion " \
           "matrix was estimated on (fr 100%)" in err


def test_a_languages_index_marks_partial_only_the_streams_partial_periods() -> None:
    """A language whose first tweet comes days after the stream began does not make its
    first period partial: the stream covered all of it."""
    from mlstat_twitter.index import indexes_by_language

    times = pd.Series(pd.date_range("2025-01-01 10:00", "2025-03-31 10:00", freq="12h",
                                    tz="UTC"))
    labels = pd.Series(np.resize(["positive", "negative", "neutral"], len(times)))
    languages = pd.Series(np.where(times < pd.Timestamp("2025-01-10", tz="UTC"), "en", "fr"))
    languages[len(times) // 2:] = "en"
    table = indexes_by_language(times, labels, languages, ["negative", "neutral", "positive"],
                                "positive", "negative", None, {}, set(), period="month",
                                adjust=False, bootstrap=20, min_count=1)
    assert not table["partial"].any()
