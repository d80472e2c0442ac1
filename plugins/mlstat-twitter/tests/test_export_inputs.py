"""Exports as statisticians receive them: long posts, compressed files, Excel's CSV in a
European locale, API error pages, empty files, UMSAB-layout files made by hand."""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from mlstat_twitter.loaders import UmsabLoader, read_tweets
from mlstat_twitter.params import TweetsParams, UmsabParams

from mlstat_core.errors import DataError

TIME = "2023-05-03T14:12:00Z"
LONG = "Lange tekst over de files op de ring rond Antwerpen, " * 8


def _keep_all(path: Path) -> TweetsParams:
    return TweetsParams(path=str(path), retweets="keep", duplicates="keep")


def test_a_long_post_is_read_whole_from_note_tweet(tmp_path: Path) -> None:
    page = {"data": [
        {"id": "1", "text": LONG[:270] + "…", "created_at": TIME, "note_tweet": {"text": LONG}},
        {"id": "2", "text": "RT @an: Lange tekst…", "created_at": TIME,
         "referenced_tweets": [{"type": "retweeted", "id": "9"}]}],
        "includes": {"tweets": [{"id": "9", "text": "Lange tekst…", "note_tweet": {"text": LONG}}]}}
    path = tmp_path / "export.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    frame, _ = read_tweets(path, params=_keep_all(path))
    assert list(frame["text"]) == [LONG, LONG]


def test_one_tweet_in_two_pages_with_and_without_its_long_text_is_counted_once(
        tmp_path: Path) -> None:
    """Pages fetched with and without tweet.fields=note_tweet give one copy the whole text,
    the other the cut one: the two were kept, the month counted the tweet twice."""
    cut = {"id": "1502", "text": LONG[:270] + "…", "created_at": TIME, "author_id": "7"}
    pages = [{"data": [{**cut, "note_tweet": {"text": LONG}},
                       {"id": "1501", "text": "Goeiemorgen", "created_at": TIME}]},
             {"data": [cut, {"id": "1501", "text": "Goeiemorgen", "created_at": TIME}]}]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(map(json.dumps, pages)), encoding="utf-8")
    with pytest.warns(UserWarning, match="dropped 2 exact duplicate"):
        frame, info = read_tweets(path)
    assert sorted(frame["id"]) == ["1501", "1502"] and info["removed"] == {"duplicates": 2}
    assert frame.set_index("id").loc["1502", "text"] == LONG  # the whole text stays
    csv = tmp_path / "export.csv"  # a CSV's id column may be anyone's: id and text, as before
    csv.write_text(f"id,text,created_at\n1,eerste,{TIME}\n1,tweede,{TIME}\n", encoding="utf-8")
    assert len(read_tweets(csv)[0]) == 2


def test_api_error_pages_among_tweet_pages_are_counted_and_named(tmp_path: Path) -> None:
    """A failed request while paging left no word (an errors page) or was called a
    malformed JSON line (a problem object): the tweets it would have given are missing."""
    lines = [{"data": [{"id": "1", "text": "Goeiemorgen", "created_at": TIME}]},
             {"errors": [{"message": "Rate limit exceeded", "code": 88}]},
             {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429,
              "type": "about:blank"},
             {"data": [{"id": "2", "text": "Goedenavond", "created_at": TIME}],
              "errors": [{"title": "Not Found Error", "detail": "a referenced tweet"}]}]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(map(json.dumps, lines)), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame, info = read_tweets(path)
    said = [str(w.message) for w in caught]
    assert len(frame) == 2 and info["malformed_lines"] == 0
    assert any("2 page(s) of the export are API errors, not tweets (first: 'Rate limit "
               "exceeded')" in text for text in said), said
    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(lines[2]), encoding="utf-8")
    with pytest.raises(DataError, match=r"1 API error\(s\) instead \(first: 'Too Many "
                                        r"Requests'\)"):
        read_tweets(problem)


def test_a_tweet_without_text_and_timestamp_is_counted_once(tmp_path: Path) -> None:
    rows = [{"id": "1", "text": "Goeiemorgen", "created_at": TIME},
            {"id": "2", "text": "", "created_at": "garbage"},
            {"id": "3", "text": "", "created_at": TIME}]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(map(json.dumps, rows)), encoding="utf-8")
    with pytest.warns(UserWarning, match=r"dropped 2 tweet\(s\) without text$"):
        frame, info = read_tweets(path, params=TweetsParams(path=str(path),
                                                            require_timestamp=True))
    assert len(frame) == 1 and info["removed"] == {"without text": 2}


def test_a_json_document_in_a_jsonl_file_is_advised_its_format(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps({"data": [{"id": "1", "text": "hallo", "created_at": TIME}]},
                               indent=2), encoding="utf-8")
    with pytest.warns(UserWarning, match="malformed"), pytest.raises(
            DataError, match=r"one JSON document .* set `format` in \[loader\] to \"json\""):
        read_tweets(path)


@pytest.mark.parametrize("name", ["tweets.jsonl.gz", "tweets.json.gz"])
def test_a_gzip_compressed_export_is_read(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(gzip.compress(json.dumps({"id": "1", "text": "Goeiemorgen", "created_at":
                                               TIME}).encode() + b"\n"))
    frame, info = read_tweets(path)
    assert list(frame["text"]) == ["Goeiemorgen"] and info["format"] == name.split(".")[1]


@pytest.mark.parametrize("name", ["tweets.csv.gz", "tweets.jsonl.gz"])
def test_a_gzip_file_not_in_its_encoding_names_the_uncompressed_line(tmp_path: Path,
                                                                     name: str) -> None:
    """The line search read the compressed bytes: a bad byte on line 6 was 'on line 1'."""
    rows = ([f"{i},ok {i},{TIME}" for i in range(4)] + ["9,caf\xe9,x"]) if "csv" in name \
        else [json.dumps({"id": str(i), "text": "ok", "created_at": TIME}) for i in range(4)] \
        + ['{"id": "9", "text": "caf\xe9"}']
    header = ["id,text,created_at"] if "csv" in name else [json.dumps(
        {"id": "8", "text": "ok", "created_at": TIME})]
    data = "\n".join(header + rows).encode("cp1252") + b"\n"
    (tmp_path / name).write_bytes(gzip.compress(data))
    with pytest.raises(DataError, match="on line 6"):
        read_tweets(tmp_path / name)


def test_a_damaged_gzip_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "tweets.jsonl.gz"
    path.write_bytes(b'{"id": "1", "text": "not compressed"}\n')
    with pytest.raises(DataError, match="is not a readable gzip file"):
        read_tweets(path)


@pytest.mark.parametrize("name", ["export.json", "export.jsonl"])
def test_an_empty_export_says_it_is_empty(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"export\.jsonl? is empty"):
        read_tweets(path)


def test_an_api_error_response_names_the_error(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"errors": [{"title": "Not Found Error",
                                            "detail": "Could not find user"}]}))
    with pytest.raises(DataError, match="1 API error.*Not Found Error: Could not find user"):
        read_tweets(path)


@pytest.mark.parametrize("body", [
    "\ufeffid;text;created_at\r\n1;\"Files; weer files\r\nop de ring\";2023-05-03T14:12:00Z\r\n",
    "id\ttext\tcreated_at\n1\tFiles; weer files, op de ring\t2023-05-03T14:12:00Z\n"])
def test_a_csv_of_another_separator_is_read_by_its_header(tmp_path: Path, body: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(body.encode("utf-8"))
    frame, _ = read_tweets(path)
    assert frame.loc[0, "text"].startswith("Files; weer files") and frame.loc[0, "id"] == "1"


def test_a_semicolon_csv_without_the_text_column_lists_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("id;tweet;date\n1;hallo;2023-05-03\n", encoding="utf-8")
    with pytest.raises(DataError, match="it has 'id', 'tweet', 'date'"):
        read_tweets(path)


def _umsab(root: Path, texts: bytes, labels: bytes) -> UmsabLoader:
    folder = root / "dutch"
    folder.mkdir(parents=True)
    for part in ("train", "val", "test"):
        (folder / f"{part}_text.txt").write_bytes(texts)
        (folder / f"{part}_labels.txt").write_bytes(labels)
    return UmsabLoader(UmsabParams(data_dir=str(root), languages=["dutch"]))


@pytest.mark.parametrize("labels", [b"\xef\xbb\xbf0\n2\n1\n\n", b"Negative\nPOSITIVE\n1.0\n",
                                    b"0\r\npositive\r\nneutral\r\n"])
def test_umsab_labels_as_numbers_or_names_in_any_case(tmp_path: Path, labels: bytes) -> None:
    frame = _umsab(tmp_path, b"slecht\ngoed\nok\n", labels).load(tmp_path).frame
    assert list(frame["label"][:3]) == ["negative", "positive", "neutral"]


def test_umsab_unknown_label_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"labels\.txt line 2: label 'pos' is neither"):
        _umsab(tmp_path, b"a\nb\n", b"0\npos\n").load(tmp_path)


def test_umsab_file_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"not valid UTF-8 text .*line 1.*save it as UTF-8"):
        _umsab(tmp_path, "café\n".encode("cp1252"), b"0\n").load(tmp_path)


def test_json_lines_holding_lists_are_read_and_lines_without_objects_counted(
        tmp_path: Path) -> None:
    tweet = {"text": "Goeiemorgen", "created_at": TIME}
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join([json.dumps([tweet | {"id": "1"}, tweet | {"id": "2"}]),
                               json.dumps(tweet | {"id": "3"}), "42", '"tekst"']) + "\n")
    with pytest.warns(UserWarning, match=r"skipped 2 malformed JSON line\(s\) \(line 3, 4\)"):
        frame, info = read_tweets(path, params=_keep_all(path))
    assert list(frame["id"]) == ["1", "2", "3"] and info["malformed_line_numbers"] == [3, 4]


def test_a_utc_zone_word_is_read_as_utc_not_missing(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("id,text,created_at\n1,a,2023-05-03 14:12:00 UTC\n2,b,2023-05-03 23:59 GMT\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing dropped, no 'carry no time zone' warning
        frame, _ = read_tweets(path)
    assert [str(t) for t in frame["created_at"]] == ["2023-05-03 14:12:00+00:00",
                                                     "2023-05-03 23:59:00+00:00"]


def test_a_first_record_with_an_unquoted_separator_is_not_read_shifted(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"id,text,created_at\n7,Files, weer files,{TIME}\n8,Zon,{TIME}\n")
    with pytest.raises(DataError, match=r"first record has more fields than its header's 3.*"
                                        r"holding ',' unquoted"):
        read_tweets(path)


def test_language_codes_are_read_as_the_models_compare_them(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps({"id": str(i), "text": f"tekst {i}", "created_at": TIME,
                                          "lang": lang})
                              for i, lang in enumerate(["nl", "und", "qme", "NL-BE"])) + "\n")
    frame, _ = read_tweets(path)
    assert frame["language"].tolist() == ["nl", pd.NA, pd.NA, "nl"]  # X's und: identified
    path = tmp_path / "export.csv"
    path.write_text(f"id,text,created_at,lang\n1,a,{TIME},Dutch\n2,b,{TIME},fr_BE\n3,c,{TIME},\n")
    frame, _ = read_tweets(path)
    assert frame["language"].tolist() == ["nl", "fr", pd.NA]


def test_an_export_without_created_at_says_to_request_it(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps({"data": [{"id": "1", "text": "hallo"}]}) + "\n")
    with pytest.raises(DataError, match=r"has a `created_at`.*request tweet\.fields=created_at"):
        read_tweets(path)
    frame, _ = read_tweets(path, params=TweetsParams(path=str(path), require_timestamp=False))
    assert frame["text"].tolist() == ["hallo"]


@pytest.mark.parametrize(("option", "fix"), [
    ("encoding", 'set `format` in [loader] to "jsonl"'),
    ("stream_encoding", 'set `stream_format` in [loader] to "jsonl"'),
    ("--encoding", "pass --format jsonl")])
def test_json_lines_named_json_name_the_format_setting_of_where_given(
        tmp_path: Path, option: str, fix: str) -> None:
    path = tmp_path / "export.json"
    line = json.dumps({"id": "1", "text": "hallo", "created_at": TIME})
    path.write_text(f"{line}\n{line}\n")
    with pytest.raises(DataError) as caught:
        read_tweets(path, encoding_option=option)
    assert str(caught.value).endswith(f"if it has one JSON object per line, {fix}")


def test_spaces_around_csv_column_names_are_not_part_of_them(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"id; text; created_at\n1; Goeiemorgen; {TIME}\n")
    frame, _ = read_tweets(path)
    assert frame["text"].str.strip().tolist() == ["Goeiemorgen"]


def test_v11_tweets_of_older_collections_are_read_whole(tmp_path: Path) -> None:
    v11 = "Wed May 03 14:12:00 +0000 2023"
    lines = [{"created_at": v11, "id": 1654, "id_str": "1654", "text": LONG[:140],
              "extended_tweet": {"full_text": LONG}, "user": {"id_str": "77",
                                                               "screen_name": "vrtnws"},
              "favorite_count": 9},
             {"created_at": v11, "id_str": "1655", "text": "RT @vrtnws: Lange…",
              "user": {"id_str": "78", "screen_name": "jan"},
              "retweeted_status": {"id_str": "1654", "full_text": LONG}},
             {"created_at": v11, "id_str": "1656", "full_text": "Extended mode",
              "user": {"id_str": "77", "screen_name": "vrtnws"}}]
    path = tmp_path / "stream.jsonl"
    path.write_text("\n".join(map(json.dumps, lines)) + "\n")
    frame, info = read_tweets(path)
    assert frame["id"].tolist() == ["1654", "1656"] and info["removed"] == {"retweets": 1}
    assert frame["text"].tolist() == [LONG, "Extended mode"]
    assert frame["author"].tolist() == ["vrtnws", "vrtnws"] and frame.loc[0, "like_count"] == 9
    frame, _ = read_tweets(path, params=_keep_all(path))
    assert frame.loc[1, "text"] == LONG and frame.loc[1, "is_retweet"]
