"""`mlstat validate` names a missing tweet file, stream, labelled sample or UMSAB folder, and
language folders the bundled UMSAB lacks, with the folder meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlstat_core.config import load_config
from mlstat_core.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def issues(name: str, *overrides: str) -> dict[str, tuple[str, str | None]]:
    with pytest.raises(ConfigError) as info:
        load_config(EXAMPLES / name, list(overrides), cli=True)
    return {i.field: (i.message, i.suggestion) for i in info.value.issues}


def test_a_wrong_stream_fails_validation_naming_the_field():
    found = issues("twitter-index.toml", "loader.stream=tweets.jsonl")
    assert list(found) == ["loader.stream"]
    assert str(EXAMPLES / "tweets.jsonl") in found["loader.stream"][0]
    assert issues("twitter-index.toml", "loader.stream=bundled:timelnie")[
        "loader.stream"][1] == "bundled:timeline"


@pytest.mark.filterwarnings("ignore:.*component replaced by --set")
def test_a_wrong_confusion_sample_and_tweet_file():
    found = issues("twitter-index.toml", "loader.confusion_sample=labelled.csv")
    assert str(EXAMPLES / "labelled.csv") in found["loader.confusion_sample"][0]
    found = issues("twitter-index.toml", "loader.component=twitter.tweets",
                   "loader.path=export.json")
    assert str(EXAMPLES / "export.json") in found["loader.path"][0]


def test_language_folders_of_the_bundled_umsab_are_names():
    found = issues("twitter-umsab.toml", 'loader.languages=["en", "fra", "german"]')
    assert found["loader.languages[0]"][1] == "english"
    assert found["loader.languages[1]"][1] == "french"
    assert "loader.languages[2]" not in found


def test_umsab_data_dir_and_its_language_folders(tmp_path):
    found = issues("twitter-umsab.toml", f"loader.data_dir={tmp_path.as_posix()}/umsab")
    assert list(found) == ["loader.data_dir"]
    (tmp_path / "umsab" / "english").mkdir(parents=True)
    (tmp_path / "umsab" / "French").mkdir()
    found = issues("twitter-umsab.toml", f"loader.data_dir={tmp_path.as_posix()}/umsab")
    assert found["loader.languages[1]"][1] == "French"
    assert str(tmp_path / "umsab" / "german") in found["loader.languages[2]"][0]


def test_a_three_letter_language_code_is_named_with_its_two_letter_one():
    found = issues("twitter-umsab.toml", 'model.language.languages=["en", "fra"]')
    assert "did you mean 'fr'?" in found["model.language.languages"][0]
