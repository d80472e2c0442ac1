"""The coding plugin's declarations: light, imports only mlstat_core's contract and params.

Components are referenced in pipeline files as ``coding.<name>``.
"""

from __future__ import annotations

from typing import Any

from mlstat_coding import params as P
from mlstat_core import hookimpl
from mlstat_core.components import ComponentSpec

TEXT = ("text_classification",)
_M = "mlstat_coding"


@hookimpl
def mlstat_loaders() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            "text_table", "loader", f"{_M}.loaders:TextTableLoader", P.TextTableParams, TEXT,
            "A CSV, Parquet or Excel table of free texts and codes, with optional auxiliary "
            "columns, weights, id and a code list (code, label, parent)."),
        ComponentSpec(
            "ecoicop_pl", "loader", f"{_M}.loaders:EcoicopLoader", P.EcoicopParams, TEXT,
            "Statistics Poland's product names coded to ECOICOP (16,630 records, 61 "
            "subclasses of division 01), bundled with the plugin."),
    ]


@hookimpl
def mlstat_models() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            "tfidf_logreg", "model", f"{_M}.models:TfidfLogregModel", P.TfidfLogregParams,
            TEXT, "TF-IDF word 1-2 and char 2-5 n-grams + multinomial logistic regression, "
                  "calibrated; routes records to auto or manual coding."),
        ComponentSpec(
            "linear_svm", "model", f"{_M}.models:LinearSvmModel", P.LinearSvmParams, TEXT,
            "TF-IDF word and char n-grams + linear SVM, scores calibrated on the "
            "held-out records (temperature) or by CalibratedClassifierCV."),
        ComponentSpec(
            "fasttext", "model", f"{_M}.fasttext:FastTextModel", P.FastTextParams, TEXT,
            "fastText-style torch classifier on hashed word and char n-grams (needs "
            "`pip install 'mlstat-coding[torch]'`)."),
    ]


@hookimpl
def mlstat_indicators() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            "hierarchical_accuracy", "indicator", f"{_M}.indicators:HierarchicalAccuracy",
            P.HierarchyParams, TEXT, "Accuracy at each level of the classification "
            "(code list parents or code prefixes); unseen codes reported.",
            dimension="accuracy"),
        ComponentSpec(
            "autocoding", "indicator", f"{_M}.indicators:AutoCoding", P.AutocodingParams, TEXT,
            "Share coded automatically and its accuracy for thresholds 0..1, and the "
            "model's stored threshold with its share on the test records.",
            dimension="accuracy"),
    ]


def conformance_options() -> dict[str, Any]:
    """Options of mlstat's conformance suite (its pytest tests and `python -m
    mlstat_core.testing coding`): the fastText-style model needs the extra `[torch]`."""
    import importlib.util

    return {"skip": [] if importlib.util.find_spec("torch")
            else ["coding.fasttext-*-text_classification"]}
