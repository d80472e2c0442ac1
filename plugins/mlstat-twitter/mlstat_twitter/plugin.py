"""The Twitter plugin's declarations: light, imports only mlstat_core's contract and params.

Components are referenced in pipeline files as ``twitter.<name>``.
"""

from __future__ import annotations

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
