"""Auto-coding: which records a model codes on its own, and which go to a human coder.

A record is coded automatically when its confidence (the top probability, or the margin
between the two best codes) reaches a threshold. The threshold is the lowest one at which the
records at or above it reach the target accuracy on held-out data; it is stored with the
model, so later predictions route exactly as the assessed ones did.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from mlstat_coding.hierarchy import Hierarchy
from mlstat_coding.normalise import longest_word
from mlstat_core.sklearn_model import classification_frame

AUTO = "auto"
MANUAL = "manual"
REASON_EMPTY = "empty text"
REASON_SHORT = "too short to code"
REASON_LOW = "below threshold"
REASON_NO_THRESHOLD = "target accuracy not reachable"


class UnreachableTargetWarning(UserWarning):
    """No confidence threshold reaches the target accuracy on the held-out records, so every
    record will be routed to manual coding. A plugin that reuses a coding model without
    routing (the sentiment model, say) may silence this category."""


def confidence_scores(proba: np.ndarray, kind: str = "top") -> tuple[np.ndarray, np.ndarray]:
    """Per record: the score used for routing (``top`` or ``margin``) and the margin itself."""
    if proba.shape[1] == 1:
        top = proba[:, 0]
        margin = top.copy()
    else:
        two = -np.partition(-proba, 1, axis=1)[:, :2]
        top, margin = two[:, 0], two[:, 0] - two[:, 1]
    return (margin if kind == "margin" else top), margin


def routing_column(kind: str, columns: Any) -> str:
    """The prediction column holding the score records are routed on: ``margin`` for
    ``confidence = "margin"`` (when the predictions have it), else ``confidence`` (the top
    probability)."""
    return "margin" if kind == "margin" and "margin" in columns else "confidence"


def choose_threshold(scores: np.ndarray, correct: np.ndarray, target: float) -> float | None:
    """The lowest threshold t such that records with score >= t are at least ``target`` accurate.

    Returns None when no threshold reaches the target (then every record goes to manual coding).
    """
    scores = np.asarray(scores, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    if len(scores) == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    s, c = scores[order], correct[order]
    hits = np.cumsum(c)
    n = np.arange(1, len(s) + 1)
    # only positions where the next score differs: a threshold keeps all ties together
    last_of_tie = np.r_[s[1:] != s[:-1], True]
    ok = (hits / n >= target) & last_of_tie
    if not ok.any():
        return None
    return float(s[np.flatnonzero(ok)[-1]])


def autocoding_curve(scores: np.ndarray, correct: np.ndarray, steps: int = 101
                     ) -> dict[str, list[float | None]]:
    """For thresholds 0..1: the share of records coded automatically and their accuracy."""
    scores = np.asarray(scores, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    thresholds = np.linspace(0, 1, steps)
    share: list[float | None] = []
    accuracy: list[float | None] = []
    n = max(len(scores), 1)
    for t in thresholds:
        mask = scores >= t
        share.append(float(mask.sum() / n))
        accuracy.append(float(correct[mask].mean()) if mask.any() else None)
    return {"threshold": [round(float(t), 6) for t in thresholds], "share": share,
            "accuracy": accuracy}


def route(scores: np.ndarray, empty: np.ndarray, threshold: float | None,
          short: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Route and reason per record: ``empty`` and ``short`` (texts too short to code, see
    :func:`too_short`) go to manual coding whatever their score."""
    n = len(scores)
    routes = np.full(n, MANUAL, dtype=object)
    reasons = np.full(n, "", dtype=object)
    if threshold is None:
        reasons[:] = REASON_NO_THRESHOLD
    else:
        auto = scores >= threshold
        routes[auto] = AUTO
        reasons[~auto] = REASON_LOW
    if short is not None:
        routes[short] = MANUAL
        reasons[short] = REASON_SHORT
    routes[empty] = MANUAL
    reasons[empty] = REASON_EMPTY
    return routes, reasons


def coding_frame(index: pd.Index, classes: list[Any], proba: np.ndarray, empty: np.ndarray,
                 threshold: float | None, confidence: str = "top", top_k: int = 5,
                 hierarchy: Hierarchy | None = None, fallback_level: int | None = None,
                 short: np.ndarray | None = None) -> pd.DataFrame:
    """The prediction frame of a coding model.

    ``classification_frame`` columns (``prediction``, ``confidence``, ``proba_<code>``) plus
    ``top_codes`` and ``top_scores`` (JSON lists of the ``top_k`` best codes and their
    probabilities), ``margin`` (top1 - top2), ``route`` (``auto`` / ``manual``) and ``reason``;
    with ``fallback_level``, ``fallback_code`` and ``fallback_confidence`` give the best code at
    that level for records routed to manual coding. ``empty`` and ``short`` (boolean per
    record) are the records routed for want of text (``empty text``) and for too short a
    text (``too short to code``).
    """
    frame = classification_frame(index, classes, proba)
    classes_arr = np.asarray(classes, dtype=object)
    k = min(top_k, len(classes_arr))
    if len(proba):
        top_idx = np.argsort(-proba, axis=1, kind="stable")[:, :k]
        top_p = np.take_along_axis(proba, top_idx, axis=1)
        # each code is JSON-quoted once; a row is the join of its codes' quoted forms
        quoted = [json.dumps(str(c), ensure_ascii=False) for c in classes_arr]
        frame["top_codes"] = ["[" + ", ".join([quoted[j] for j in row]) + "]"
                              for row in top_idx.tolist()]
        # str of a list of floats is its JSON (repr of each float), rounded to 6 decimals
        frame["top_scores"] = [str(row) for row in np.round(top_p, 6).tolist()]
    else:
        frame["top_codes"] = pd.Series([], dtype=object, index=index)
        frame["top_scores"] = pd.Series([], dtype=object, index=index)
    scores, margin = confidence_scores(proba, confidence) if len(proba) else (
        np.zeros(0), np.zeros(0))
    frame["margin"] = margin
    routes, reasons = route(scores, np.asarray(empty, dtype=bool), threshold,
                            None if short is None else np.asarray(short, dtype=bool))
    frame["route"] = routes
    frame["reason"] = reasons
    if fallback_level:
        hierarchy = hierarchy or Hierarchy()
        fb_code, fb_conf = fallback_codes(classes, proba, hierarchy, fallback_level)
        manual = routes == MANUAL
        frame["fallback_code"] = np.where(manual, fb_code, None)
        frame["fallback_confidence"] = np.where(manual, fb_conf, np.nan)
    return frame


def too_short(texts: Any, min_word_letters: int) -> np.ndarray:
    """Which normalised texts hold no word of at least ``min_word_letters`` letters (numbers,
    amounts and units are no words, see :func:`~mlstat_coding.normalise.longest_word`): ``12``,
    ``1000g _mass_``, ``a``. Empty texts are not counted here (they are ``empty text``);
    ``min_word_letters`` 0: none."""
    texts = list(texts)
    if not min_word_letters:
        return np.zeros(len(texts), dtype=bool)
    short = {t: t != "" and longest_word(t) < min_word_letters for t in set(texts)}
    return np.array([short[t] for t in texts], dtype=bool)


def fallback_codes(classes: list[Any], proba: np.ndarray, hierarchy: Hierarchy, level: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Best code at a higher level: probabilities summed over the codes under each ancestor
    (column by column, in class order, so a record's sums do not depend on how many records
    are scored with it, as a matrix product's summation order can)."""
    parents = [hierarchy.at_level(str(c), level) for c in classes]
    groups = sorted(set(parents))
    position = {g: i for i, g in enumerate(groups)}
    summed = np.zeros((len(proba), len(groups)))
    for i, parent in enumerate(parents):
        summed[:, position[parent]] += proba[:, i]
    best = summed.argmax(axis=1) if len(proba) else np.zeros(0, dtype=int)
    return np.asarray(groups, dtype=object)[best], summed.max(axis=1) if len(proba) else \
        np.zeros(0)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y_index: np.ndarray) -> float:
    """Temperature T minimising the log loss of softmax(logits / T) on held-out records.

    Records whose code the model does not know (``y_index`` < 0) are left out.
    """
    from scipy.optimize import minimize_scalar

    keep = y_index >= 0
    if keep.sum() < 10:
        return 1.0
    z, y = logits[keep], y_index[keep]

    def loss(log_t: float) -> float:
        p = softmax(z / np.exp(log_t))
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())

    result = minimize_scalar(loss, bounds=(np.log(0.005), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))
