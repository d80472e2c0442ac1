"""Loaders: X API v2 JSON and JSON Lines, CSV exports, UMSAB, and bad input."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from mlstat_twitter.loaders import TweetsLoader, UmsabLoader, read_tweets
from mlstat_twitter.params import TweetsParams, UmsabParams

from mlstat_core.errors import DataError

PAGE = {
    "data": [
        {"id": "1", "text": "Great day in Ghent! #ZonnigWeer", "author_id": "10",
         "created_at": "2023-05-01T10:00:00.000Z", "lang": "nl",
         "public_metrics": {"retweet_count": 2, "like_count": 5}},
        {"id": "2", "text": "RT @anna: Quel désastre ce matin...", "author_id": "11",
         "created_at": "2023-05-01T11:00:00.000Z", "lang": "fr",
         "referenced_tweets": [{"type": "retweeted", "id": "99"}]},
        {"id": "3", "text": "Great day in Ghent! #ZonnigWeer", "author_id": "10",
         "created_at": "2023-05-01T12:00:00.000Z", "lang": "nl"},
    ],
    "includes": {"users": [{"id": "10", "username": "jan"}, {"id": "11", "username": "marie"}],
                 "tweets": [{"id": "99", "text": "Quel désastre ce matin sur le ring, encore "
                                                "deux heures de bouchons"}]},
    "meta": {"result_count": 3},
}


def test_v2_json_with_includes(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(PAGE), encoding="utf-8")
    frame, _ = read_tweets(path, params=TweetsParams(path=str(path), retweets="keep",
                                                     duplicates="keep"))
    assert list(frame["author"]) == ["jan", "marie", "jan"]
    assert frame.loc[1, "is_retweet"] and "deux heures" in frame.loc[1, "text"]
    assert str(frame["created_at"].dt.tz) == "UTC"
    assert frame.loc[0, "language"] == "nl" and frame.loc[0, "like_count"] == 5
    # defaults: retweets and exact duplicates (same author, same text) dropped
    frame, info = read_tweets(path)
    assert list(frame["id"]) == ["1"]
    assert info["removed"] == {"retweets": 1, "duplicates": 1}


def test_jsonl_malformed_lines_skipped_counted_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "stream.jsonl"
    lines = [json.dumps(PAGE), "{not json", json.dumps(PAGE["data"][0] | {"id": "7"}), "",
             "[1, 2", json.dumps({"id": "8", "text": "no timestamp here"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.warns(UserWarning) as record:
        frame, info = read_tweets(path, params=TweetsParams(path=str(path),
                                                            duplicates="keep"))
    messages = " ".join(str(w.message) for w in record)
    assert "2 malformed JSON line(s) (line 2, 5)" in messages
    assert "1 tweet(s) without a valid timestamp" in messages
    assert info["malformed_lines"] == 2 and info["malformed_line_numbers"] == [2, 5]
    assert set(frame["id"]) == {"1", "3", "7"}


DEEP = {"array": "[" * 10000 + "]" * 10000, "object": '{"a":' * 10000 + "1" + "}" * 10000}


@pytest.mark.parametrize("kind", ["array", "object"])
def test_jsonl_line_nested_too_deeply_is_skipped_and_counted(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "stream.jsonl"
    lines = [json.dumps(PAGE["data"][0]), DEEP[kind], json.dumps(PAGE["data"][2] | {"id": "7"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"skipped 1 malformed JSON line\(s\) \(line 2\)"):
        frame, info = read_tweets(path, params=TweetsParams(path=str(path),
                                                            duplicates="keep"))
    assert list(frame["id"]) == ["1", "7"]
    assert info["malformed_lines"] == 1 and info["malformed_line_numbers"] == [2]


@pytest.mark.parametrize("kind", ["array", "object"])
def test_json_file_nested_too_deeply_is_one_data_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "export.json"
    path.write_text(DEEP[kind], encoding="utf-8")
    with pytest.raises(DataError, match=r"export\.json is nested too deeply to read as JSON"):
        read_tweets(path)


def test_missing_error_policy_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,text,created_at\n1,hello,2020-01-01\n2,,2020-01-02\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing = \"drop\""):
        read_tweets(path, params=TweetsParams(path=str(path), missing="error"))


def test_timestamps_are_needed_by_a_stream_not_by_labelled_training_data(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,text,label,date\n1,so good,positive,2020-01-01\n"
                    "2,so bad,negative,2020-01-02\n", encoding="utf-8")
    frame, _ = read_tweets(path, params=TweetsParams(path=str(path), label="label"))
    assert len(frame) == 2  # training data: no time needed
    with pytest.raises(DataError, match="no timestamp column 'created_at'; it has 'id', 'text', "
                                        "'label', 'date': name the right column") as caught:
        read_tweets(path)  # unlabelled: a stream to index, which needs the time
    assert "--time-column" in str(caught.value) and "stream_created_at" in str(caught.value)
    frame, _ = read_tweets(path, params=TweetsParams(path=str(path), created_at="date"))
    assert frame["created_at"].dt.year.tolist() == [2020, 2020]


def test_nothing_left_says_what_was_removed_and_the_fix(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,text,created_at\n1,hello,yesterday\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match=r"removing 1 tweet\(s\) without a valid timestamp; "
                                            "check which column holds the time"):
            read_tweets(path)


def test_a_file_of_malformed_json_lines_says_so(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text("id,text\n1,hello\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match="none of its 2 line\\(s\\) is JSON"):
            read_tweets(path, "jsonl")


def test_csv_export_timeline_sample(tmp_path: Path) -> None:
    loader = TweetsLoader(TweetsParams(path="bundled:timeline", retweets="keep",
                                       duplicates="keep"))
    with pytest.warns(UserWarning, match="without a valid timestamp"):
        full = loader.load(tmp_path)  # the source file has a few tweets broken across lines
    assert 20_700 < len(full) <= 20_761
    assert full.frame["created_at"].min().year == 2009
    assert full.frame["is_retweet"].sum() > 0 and "retweet_count" in full.frame
    assert full.sources[0].is_file()
    dropped = TweetsLoader(TweetsParams(path="bundled:timeline")).load(tmp_path)
    assert len(dropped) < len(full) and not dropped.frame["is_retweet"].any()


def test_csv_wrong_text_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,tweet\n1,hello\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"name the right column with `text` in \[loader\]"):
        TweetsLoader(TweetsParams(path=str(path), text="text")).load(tmp_path)


def test_umsab_as_published() -> None:
    ds = UmsabLoader(UmsabParams()).load(Path("."))
    counts = ds.frame.groupby(["language", "split"]).size()
    for lang in ("en", "fr", "de"):
        assert counts[(lang, "train")] == 1839
        assert counts[(lang, "val")] == 324
        assert counts[(lang, "test")] == 870
    assert set(ds.frame["label"]) == {"negative", "neutral", "positive"}
    assert ds.roles.target == "label" and ds.roles.text == ["text"]


def test_umsab_unknown_language_folder() -> None:
    with pytest.raises(DataError, match="available: english, french, german"):
        UmsabLoader(UmsabParams(languages=["dutch"])).load(Path("."))


def test_stream_is_resolved_and_fingerprinted(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("id,text,created_at\n1,hi,2020-01-01\n", encoding="utf-8")
    ds = UmsabLoader(UmsabParams(languages=["english"], stream="s.csv")).load(tmp_path)
    assert ds.metadata["twitter_stream"]["path"] == str(path.resolve())
    assert path.resolve() in ds.sources
    with pytest.raises(DataError, match="relative to the pipeline file"):
        UmsabLoader(UmsabParams(languages=["english"], stream="nope.csv")).load(tmp_path)


def test_predefined_split_uses_val_as_validation() -> None:
    from mlstat_twitter.params import PredefinedSplitParams
    from mlstat_twitter.splitters import PredefinedSplitter

    ds = UmsabLoader(UmsabParams(languages=["german"])).load(Path("."))
    (split,) = PredefinedSplitter(PredefinedSplitParams()).split(ds, 0)
    assert (len(split.train), len(split.validation), len(split.test)) == (1839, 324, 870)
    with warnings.catch_warnings(), pytest.raises(DataError, match="set `train`"):
        PredefinedSplitter(PredefinedSplitParams(train="training")).split(ds, 0)


def test_csv_header_only_says_so(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,text,created_at\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"t\.csv holds no tweets \(a header only\); check"):
        read_tweets(path)


def test_csv_ids_of_any_named_column_are_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("tweet_id,text,created_at\n"
                    "1234567890123456789,hello,2024-01-01T00:00:00Z\n"
                    "1234567890123456788,world,2024-01-02T00:00:00Z\n"
                    ",no id,2024-01-03T00:00:00Z\n", encoding="utf-8")  # a gap: read as float
    frame, _ = read_tweets(path, params=TweetsParams(path=str(path), id="tweet_id"))
    assert list(frame["id"][:2]) == ["1234567890123456789", "1234567890123456788"]


def test_csv_mistyped_id_column_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id_str,text,created_at\n1,hello,2024-01-01T00:00:00Z\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"no id column 'tweetid'.*`id` in \[loader\] "
                                        r"\(`stream_id` .*--id-column"):
        read_tweets(path, params=TweetsParams(path=str(path), id="tweetid"))
    # the default name still falls back to id_str, as documented
    frame, _ = read_tweets(path)
    assert list(frame["id"]) == ["1"]


CP1252_CSV = ("id,text,created_at,label\n"
              "1,Très bien – café “parfait”,2024-01-01T10:00:00Z,positive\n"
              "2,Schöne Grüße,2024-01-02T10:00:00Z,neutral\n")


def test_a_cp1252_csv_is_read_with_the_encoding_its_context_offers(tmp_path: Path) -> None:
    path = tmp_path / "tweets_cp1252.csv"
    path.write_bytes(CP1252_CSV.encode("cp1252"))
    frame, info = read_tweets(path, params=TweetsParams(path=str(path), encoding="cp1252"))
    assert list(frame["text"]) == ["Très bien – café “parfait”", "Schöne Grüße"]
    assert info["encoding"] == "cp1252"
    # the advice names the option that exists where the file was given
    for option, words in (("encoding", 'set `encoding` in [loader] (for example encoding = '
                                       '"cp1252")'),
                          ("stream_encoding", "set `stream_encoding` in [loader]"),
                          ("--encoding", "pass --encoding (for example --encoding cp1252)")):
        with pytest.raises(DataError, match="is not valid utf-8 text") as caught:
            read_tweets(path, encoding_option=option)
        assert words in str(caught.value)


def test_a_loader_stream_has_its_own_encoding(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_bytes(CP1252_CSV.encode("cp1252"))
    stream = UmsabLoader(UmsabParams(languages=["german"], stream="s.csv",
                                     stream_encoding="cp1252")).load(tmp_path)
    assert stream.metadata["twitter_stream"]["encoding"] == "cp1252"
    # twitter.tweets: the stream is read like the loader's own file unless told otherwise
    (tmp_path / "train.csv").write_bytes(CP1252_CSV.encode("cp1252"))
    tweets = TweetsLoader(TweetsParams(path="train.csv", label="label", encoding="cp1252",
                                       stream="s.csv")).load(tmp_path)
    assert tweets.frame["text"][0] == "Très bien – café “parfait”"
    assert tweets.metadata["twitter_stream"]["encoding"] == "cp1252"
    assert TweetsLoader(TweetsParams(path="train.csv", label="label", encoding="cp1252",
                                     stream="s.csv", stream_encoding="utf-8")).load(
        tmp_path).metadata["twitter_stream"]["encoding"] == "utf-8"


@pytest.mark.parametrize("suffix", ["jsonl", "json"])
def test_a_utf8_byte_order_mark_loses_no_tweet(tmp_path: Path, suffix: str) -> None:
    tweets = [{"id": str(i), "text": f"café {i}", "created_at": "2024-01-01T00:00:00Z"}
              for i in (1, 2)]
    body = "\n".join(json.dumps(t, ensure_ascii=False) for t in tweets) + "\n" \
        if suffix == "jsonl" else json.dumps({"data": tweets}, ensure_ascii=False)
    path = tmp_path / f"t.{suffix}"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "skipped 1 malformed JSON line(s) (line 1)"
        frame, info = read_tweets(path)
    assert list(frame["id"]) == ["1", "2"] and info["malformed_lines"] == 0


def test_utf16_json_lines_name_the_encoding_to_set(tmp_path: Path) -> None:
    line = json.dumps({"id": "1", "text": "hello", "created_at": "2024-01-01T00:00:00Z"})
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes((line + "\n").encode("utf-16"))
    with pytest.raises(DataError, match=r"set `stream_encoding` in \[loader\] \(for example "
                                        r'stream_encoding = "utf-16"\) \(it starts with a '
                                        "UTF-16 byte-order mark"):
        read_tweets(bom, encoding_option="stream_encoding")
    bare = tmp_path / "bare.jsonl"  # no byte-order mark: every line fails as JSON
    bare.write_bytes((line + "\n").encode("utf-16-le"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match="none of its .* is JSON .*NUL bytes, as UTF-16 "
                                            "text does: pass --encoding"):
            read_tweets(bare, encoding_option="--encoding")
    frame, _ = read_tweets(bom, params=TweetsParams(path=str(bom), encoding="utf-16"))
    assert list(frame["text"]) == ["hello"]


def test_day_first_timestamps_are_missing_not_guessed(tmp_path: Path) -> None:
    from mlstat_twitter.loaders import parse_timestamps

    parsed = parse_timestamps(pd.Series(["03/05/2023 14:12", "13/05/2023 14:12",
                                         "2023-05-03T14:12:00Z",
                                         "Wed May 03 14:12:00 +0000 2023"]))
    assert parsed.isna().tolist() == [True, True, False, False]
    assert (parsed[2:] == pd.Timestamp("2023-05-03 14:12", tz="UTC")).all()
    path = tmp_path / "t.csv"
    path.write_text("id,text,created_at\n1,hallo,03/05/2023 14:12\n2,salut,2023-05-03\n",
                    encoding="utf-8")
    with pytest.warns(UserWarning, match=r"dropped 1 tweet\(s\) without a valid timestamp "
                                         r"\(timestamps must be ISO 8601 \(2023-05-03T14:12"):
        frame, _ = read_tweets(path)
    assert list(frame["id"]) == ["2"]


CSV_TWO_AUTHORS = ("id,created_at,text,{author}\n"
                   "1,2023-05-01T10:00:00Z,Goedemorgen Gent!,11\n"
                   "2,2023-05-01T11:00:00Z,Goedemorgen Gent!,12\n"
                   "3,2023-05-01T12:00:00Z,Goedemorgen Gent!,11\n"
                   "3,2023-05-01T12:00:00Z,Goedemorgen Gent!,11\n")


@pytest.mark.parametrize("author", ["author_id", "user_id", "user.screen_name"])
def test_identical_texts_of_different_authors_are_kept(tmp_path: Path, author: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(CSV_TWO_AUTHORS.format(author=author), encoding="utf-8")
    with pytest.warns(UserWarning, match=r"dropped 2 exact duplicate\(s\)"):
        frame, info = read_tweets(path)
    assert list(frame["id"]) == ["1", "2"] and info["removed"] == {"duplicates": 2}


def test_without_an_author_only_the_same_tweet_is_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(CSV_TWO_AUTHORS.format(author="lang").replace(",11\n", ",nl\n")
                    .replace(",12\n", ",nl\n"), encoding="utf-8")
    with pytest.warns(UserWarning, match=r"dropped 1 exact duplicate\(s\)"):
        frame, _ = read_tweets(path)
    assert list(frame["id"]) == ["1", "2", "3"]


def test_a_tweet_repeated_across_pages_is_a_duplicate_however_its_author_is_named(
        tmp_path: Path) -> None:
    """A page whose `includes` lists the user names the author 'jan'; a page (or a bare tweet
    line) without it names the same author '10'. The same tweet, or the same text by the same
    author, on both is still an exact duplicate."""
    second = {"data": [dict(PAGE["data"][0]), {**PAGE["data"][0], "id": "4"}]}
    bare = dict(PAGE["data"][0])
    path = tmp_path / "stream.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in (PAGE, second, bare)) + "\n",
                    encoding="utf-8")
    with pytest.warns(UserWarning, match=r"4 exact duplicate\(s\)"):
        frame, info = read_tweets(path)
    assert list(frame["id"]) == ["1"] and info["removed"]["duplicates"] == 4
    assert frame.loc[0, "author"] == "jan"


def test_dropped_retweets_are_announced(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,created_at,text\n1,2023-05-01T10:00:00Z,RT @jan: hallo\n"
                    "2,2023-05-01T10:00:00Z,hallo\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"t.csv: dropped 1 retweet\(s\)"):
        frame, _ = read_tweets(path)
    assert list(frame["id"]) == ["2"]


def test_an_x_archive_tweets_file_is_read(tmp_path: Path) -> None:
    tweets = [{"tweet": {"id_str": "1652108140636556647", "full_text": "Mooie dag in Gent",
                         "created_at": "Sat Feb 24 16:10:43 +0000 2024", "lang": "nl"}}]
    path = tmp_path / "tweets.js"
    path.write_text("window.YTD.tweets.part0 = " + json.dumps(tweets), encoding="utf-8")
    frame, info = read_tweets(path)
    assert info["format"] == "json" and list(frame["id"]) == ["1652108140636556647"]
    assert frame.loc[0, "text"] == "Mooie dag in Gent" and frame.loc[0, "language"] == "nl"
    assert frame.loc[0, "created_at"] == pd.Timestamp("2024-02-24 16:10:43", tz="UTC")


def test_an_unknown_suffix_names_the_option_of_where_the_file_was_given(tmp_path: Path) -> None:
    path = tmp_path / "tweets.dat"
    path.write_text("id,text\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"pass --format \(json, jsonl or csv\)"):
        read_tweets(path, encoding_option="--encoding")
    with pytest.raises(DataError, match=r"set `format` in \[loader\]"):
        read_tweets(path)


def test_the_index_command_is_not_told_about_training_data(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,text,created_at\n1,hallo,13/05/2023\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError) as caught:
            read_tweets(path, encoding_option="--encoding")
    message = str(caught.value)
    assert "(--time-column) and that it is ISO 8601 (2023-05-03T14:12:00Z) or the X v1.1 " \
        "form" in message and "require_timestamp" not in message


def test_a_confusion_sample_of_the_stream_is_resolved_like_it(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("id,text,created_at\n", encoding="utf-8")
    (tmp_path / "labelled.csv").write_text("id,text,label\n", encoding="utf-8")
    loaded = UmsabLoader(UmsabParams(languages=["english"], stream="s.csv",
                                     confusion_sample="labelled.csv")).load(tmp_path)
    stream = loaded.metadata["twitter_stream"]
    assert stream["confusion_sample"] == str((tmp_path / "labelled.csv").resolve())
    assert stream["confusion_label"] == "label" and len(loaded.sources) > 2
    with pytest.raises(DataError, match="`confusion_sample` in \\[loader\\] is relative"):
        UmsabLoader(UmsabParams(languages=["english"], stream="s.csv",
                                confusion_sample="nope.csv")).load(tmp_path)
