"""`mlstat validate` catches the twitter settings that would otherwise fail after training."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlstat_core.config import load_config
from mlstat_core.errors import ConfigError


def pipeline(**model: Any) -> dict[str, Any]:
    return {"pipeline": {"name": "t", "task": "text_classification"},
            "loader": {"component": "twitter.umsab", "languages": ["english"]},
            "model": {"component": "twitter.sentiment", **model}}


@pytest.mark.parametrize("model, field, words", [
    ({"base": "coding.linear_svn"}, "model.base", "did you mean 'coding.linear_svm'"),
    ({"base_params": {"CC": 3.0}}, "model.base_params.CC", "did you mean 'C'"),
    ({"base_params": {"C": -1}}, "model.base_params.C", "greater than 0"),
    ({"base_params": {"C": True}}, "model.base_params.C", "not the boolean true"),
    ({"index": {"timezone": "Europe/Brussel"}}, "model.index.timezone",
     "did you mean 'Europe/Brussels'"),
    ({"normalise": {"hashtag": True}}, "model.normalise.hashtag", "twitter.sentiment [normalise]"),
])
def test_a_mistake_in_a_nested_setting_is_caught_before_training(model, field, words):
    with pytest.raises(ConfigError) as caught:
        load_config(pipeline(**model))
    (issue,) = caught.value.issues
    assert issue.field == field
    assert words in str(issue)


def test_valid_nested_settings_pass():
    config = load_config(pipeline(base="coding.linear_svm", base_params={"C": 0.5},
                                  index={"timezone": "Europe/Brussels"}))
    assert config.model.params.base == "coding.linear_svm"


def test_a_base_params_table_is_laid_over_the_defaults_so_the_encoder_stays():
    """The docs' `[model.base_params] C = 3.0, class_weight = "balanced"` switched the sentence
    encoder off without a word (macro-F1 0.632 against 0.667); coding.fasttext, whose params
    are others, was refused unless given a table."""
    params = load_config(pipeline(base_params={"C": 1.0})).model.params
    assert params.base_params["C"] == 1.0
    assert params.base_params["sentence_encoder"] == "use-multilingual"
    assert params.base_params["char_ngrams"] == [2, 5]
    off = load_config(pipeline(base_params={"sentence_encoder": "none"})).model.params
    assert off.base_params["sentence_encoder"] == "none"
    from mlstat_twitter.params import SentimentParams  # fasttext needs torch to validate

    assert SentimentParams(base="coding.fasttext").base_params == {}


def test_a_base_that_is_no_text_classifier_is_caught_before_training():
    with pytest.raises(ConfigError) as caught:
        load_config(pipeline(base="core.random_forest_regressor"))  # installed everywhere
    (issue,) = caught.value.issues
    assert issue.field == "model.base"
    assert "does not serve text_classification; use coding.tfidf_logreg" in str(issue)


def test_the_registry_says_why_a_base_is_unavailable():
    """A plugin that failed to load or a name claimed twice: the registry's own words."""
    from mlstat_twitter.params import SentimentParams

    from mlstat_core.errors import PluginError

    class Broken:
        def get(self, kind: str, name: str) -> Any:
            raise PluginError("component 'coding.linear_svm' is claimed by two distributions: "
                              "mlstat-coding and acme-coding")

    (issue,) = SentimentParams(base="coding.linear_svm").check(Broken())
    assert issue.field == "base"
    assert "claimed by two distributions: mlstat-coding and acme-coding" in issue.message


def test_language_names_become_codes_as_the_umsab_loader_takes_them():
    config = load_config(pipeline(language={"languages": ["english", "French", "nl", "en"]}))
    assert config.model.params.language.languages == ["en", "fr", "nl"]


def test_an_unknown_language_is_caught_before_training_with_the_known_codes():
    with pytest.raises(ConfigError) as caught:
        load_config(pipeline(language={"languages": ["en", "englsh"]}))
    (issue,) = caught.value.issues
    assert issue.field == "model.language.languages"
    assert "unknown language 'englsh' (did you mean 'english'?)" in str(issue)
    assert "the identifier knows" in str(issue) and ", nl, " in str(issue)


def test_every_code_accepted_is_one_the_identifier_answers():
    from mlstat_twitter.normalise import identify_language
    from mlstat_twitter.params import IDENTIFIABLE
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    assert set(LanguageIdentifier.from_model_file(MODEL_FILE).nb_classes) == IDENTIFIABLE
    assert identify_language(["Ceci est une phrase en français"], ["en", "fr"]) == ["fr"]


def test_an_encoding_on_umsab_points_to_the_stream_encoding():
    bad = pipeline()
    bad["loader"]["encoding"] = "cp1252"
    with pytest.raises(ConfigError) as caught:
        load_config(bad)
    assert "did you mean 'stream_encoding'" in str(caught.value.issues[0])


def test_the_bundled_tweet_files_are_listed_once_and_each_resolves_to_a_file():
    """Validation accepts the names the loader reads (one list, not two kept in step)."""
    from mlstat_twitter import loaders, params

    assert loaders.BUNDLED is params.BUNDLED
    assert tuple(params.BUNDLED) == params.BUNDLED_NAMES
    for name in params.BUNDLED_NAMES:
        assert loaders.resolve_path(name, Path(".")).is_file(), name


def test_the_params_module_stays_light_to_import():
    """Discovery imports the params: pandas and the heavy modules are left for the run."""
    code = ("import sys, mlstat_twitter.params; "
            "print(sorted({'pandas', 'numpy', 'sklearn', 'torch'} & set(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert proc.stdout.strip() == "[]"
