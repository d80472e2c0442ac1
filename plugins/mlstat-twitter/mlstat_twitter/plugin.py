"""The Twitter plugin's declarations: light, imports only mlstat_core's contract and params.

Components are referenced in pipeline files as ``twitter.<name>``.
"""

from __future__ import annotations

from typing import Any

from mlstat_core import hookimpl
from mlstat_core.components import ComponentSpec
from mlstat_twitter import params as P

TEXT = ("text_classification",)
_M = "mlstat_twitter"


@hookimpl
def mlstat_loaders() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            "tweets", "loader", f"{_M}.loaders:TweetsLoader", P.TweetsParams, TEXT,
            "Tweets from an X API v2 export (JSON or JSON Lines, with includes) or a CSV "
            "export; timestamps parsed, retweets and duplicates dropped or kept."),
        ComponentSpec(
            "umsab", "loader", f"{_M}.loaders:UmsabLoader", P.UmsabParams, TEXT,
            "UMSAB tweet sentiment benchmark (bundled: English, French, German; negative / "
            "neutral / positive) with its train / val / test split and a language column."),
    ]


@hookimpl
def mlstat_splitters() -> list[ComponentSpec]:
    return [ComponentSpec(
        "predefined", "splitter", f"{_M}.splitters:PredefinedSplitter",
        P.PredefinedSplitParams, (), "The data set's own split column (UMSAB: train, val as "
        "the validation set, test), as published; no randomness.")]


@hookimpl
def mlstat_transforms() -> list[ComponentSpec]:
    return [ComponentSpec(
        "normalise", "transform", f"{_M}.transforms:NormaliseTransform", P.TransformParams,
        TEXT, "Tweet cleaning (mentions, URLs, hashtag splitting, emoji tokens, elongation) "
              "and offline language identification filling the language column.")]


@hookimpl
def mlstat_models() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            "sentiment", "model", f"{_M}.models:SentimentModel", P.SentimentParams, TEXT,
            "One sentiment model for all languages: a coding text model (TF-IDF + logistic "
            "regression by default) on cleaned tweets with the language as a feature and "
            "lexicon polarity tokens (English, French, German, Dutch, emoji); "
            "indexes the loader's stream, corrected for its confusion matrix."),
        ComponentSpec(
            "vader", "model", f"{_M}.models:VaderModel", P.VaderParams, TEXT,
            "VADER lexicon baseline (English only, no training in rule mode); indexes the "
            "loader's stream like twitter.sentiment."),
    ]


@hookimpl
def mlstat_indicators() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            "macro_f1_by_language", "indicator", f"{_M}.indicators:MacroF1ByLanguage",
            P.MacroF1Params, TEXT, "Macro-F1 over all test tweets and per language.",
            dimension="accuracy"),
        ComponentSpec(
            "sentiment_index", "indicator", f"{_M}.indicators:SentimentIndexIndicator",
            P.IndexIndicatorParams, TEXT, "The sentiment index written by the model: series "
            "with 95% intervals, empty periods and why, raw vs adjusted.",
            dimension="accuracy", default=False),
    ]


def conformance_options() -> dict[str, Any]:
    """Options of mlstat's conformance suite (its pytest tests and `python -m
    mlstat_core.testing twitter`), where the core's samples do not fit."""
    from pathlib import Path

    from mlstat_twitter.loaders import UmsabLoader
    from mlstat_twitter.params import UmsabParams

    umsab = UmsabLoader(UmsabParams(languages=["german"])).load(Path("."))
    return {
        # twitter.predefined needs the benchmark's split column
        "datasets": {"splitter": umsab},
        "examples": {
            # the core's text sample is product names coded to ECOICOP, not sentiment:
            # VADER's rules cannot give those labels, its calibrated mode can
            "twitter.vader": {"calibrate": True},
            # a lighter base model than the default (no sentence encoder): quick checks
            "twitter.sentiment": {"base_params": {"C": 3.0, "char_ngrams": [2, 4],
                                                  "max_iter": 200,
                                                  "sentence_encoder": "none"}},
        },
    }
