"""Accuracy of a map against reference (field) data, and error-adjusted area estimates.

Conventions follow Olofsson et al. (2014), "Good practices for estimating area and assessing
accuracy of land change", Remote Sensing of Environment 148: 42-57: the error matrix has map
classes in rows (i) and reference classes in columns (j); the sample is treated as stratified
by map class, with stratum weights W_i = the share of the mapped area in class i. With a simple
random or systematic sample (as the field points here) this is post-stratification, which the
paper recommends too. Numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mlstat_core.errors import DataError


def confusion_matrix(mapped: Sequence[Any], reference: Sequence[Any],
                     classes: Sequence[Any]) -> np.ndarray:
    """Counts with map classes in rows and reference classes in columns."""
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({str(v) for v in [*mapped, *reference] if v not in index})
    if unknown:
        raise DataError(f"labels {', '.join(unknown)} are not among the classes "
                        f"{', '.join(map(str, classes))}")
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for m, r in zip(mapped, reference, strict=True):
        matrix[index[m], index[r]] += 1
    return matrix


def overall_accuracy(matrix: np.ndarray) -> float:
    total = matrix.sum()
    return float(np.trace(matrix) / total) if total else float("nan")


def cohen_kappa(matrix: np.ndarray) -> float:
    """Cohen's kappa of the sample counts: agreement beyond chance."""
    matrix = np.asarray(matrix, dtype=float)
    total = matrix.sum()
    if not total:
        return float("nan")
    observed = np.trace(matrix) / total
    expected = float((matrix.sum(axis=0) * matrix.sum(axis=1)).sum() / total ** 2)
    return float((observed - expected) / (1 - expected)) if expected < 1 else float("nan")


def users_accuracy(matrix: np.ndarray, k: int) -> float:
    """Share of the sample mapped as class k that is class k on the ground (1 - commission)."""
    row = matrix[k].sum()
    return float(matrix[k, k] / row) if row else float("nan")


def producers_accuracy(matrix: np.ndarray, k: int) -> float:
    """Share of the sample that is class k on the ground mapped as k (1 - omission); sample
    counts, not area-weighted (see :func:`stratified_estimates` for the weighted one)."""
    column = matrix[:, k].sum()
    return float(matrix[k, k] / column) if column else float("nan")


def stratified_estimates(matrix: np.ndarray, mapped_pixels: Sequence[float],
                         pixel_area: float = 1.0, z: float = 1.959963984540054,
                         ) -> dict[str, Any]:
    """Olofsson et al. (2014) estimators from an error matrix (sample counts, map rows) and the
    mapped area of each class (pixels).

    Returns area-weighted proportions ``p`` (eq. 4), overall accuracy and its standard error,
    per class: user's and producer's accuracy with standard errors (eq. 5-7), the estimated area
    proportion (eq. 9) with its standard error (eq. 10), the error-adjusted area (in units of
    ``pixel_area``) and its interval half-width ``z * SE``.
    """
    n = np.asarray(matrix, dtype=float)
    mapped = np.asarray(mapped_pixels, dtype=float)
    k = n.shape[0]
    if n.shape != (k, k) or mapped.shape != (k,):
        raise DataError(f"error matrix {n.shape} and mapped areas {mapped.shape} do not match")
    if mapped.sum() <= 0:
        raise DataError("the map has no classified pixel; the area cannot be estimated")
    total_pixels = mapped.sum()
    weights = mapped / total_pixels
    n_i = n.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_i[:, None] > 0, n / np.where(n_i[:, None] > 0, n_i[:, None], 1), 0.0)
        p = weights[:, None] * share
        # variance terms need n_i > 1; a stratum with one sample point contributes no variance
        denom = np.where(n_i > 1, n_i - 1, np.inf)
        proportion = p.sum(axis=0)
        se_proportion = np.sqrt((weights[:, None] ** 2 * share * (1 - share)
                                 / denom[:, None]).sum(axis=0))
        users = np.diag(share)
        se_users = np.sqrt(users * (1 - users) / denom)
        producers = np.where(proportion > 0, np.diag(p) / np.where(proportion > 0, proportion, 1),
                             np.nan)
        overall = float(np.trace(p))
        se_overall = float(np.sqrt((weights ** 2 * users * (1 - users) / denom).sum()))
        # eq. 7: variance of producer's accuracy, in pixel counts
        mapped_n = mapped
        ref_total = (mapped_n[:, None] * share).sum(axis=0)
        se_producers = np.full(k, np.nan)
        for j in range(k):
            if ref_total[j] <= 0:
                continue
            own = mapped_n[j] ** 2 * (1 - producers[j]) ** 2 * users[j] * (1 - users[j]) \
                / denom[j]
            others = sum(mapped_n[i] ** 2 * share[i, j] * (1 - share[i, j]) / denom[i]
                         for i in range(k) if i != j)
            se_producers[j] = float(np.sqrt((own + producers[j] ** 2 * others)
                                            / ref_total[j] ** 2))
    total_area = total_pixels * pixel_area
    return {
        "p": p,
        "weights": weights,
        "overall_accuracy": overall,
        "se_overall_accuracy": se_overall,
        "users_accuracy": users,
        "se_users_accuracy": se_users,
        "producers_accuracy": producers,
        "se_producers_accuracy": se_producers,
        "proportion": proportion,
        "se_proportion": se_proportion,
        "area": proportion * total_area,
        "area_half_width": z * se_proportion * total_area,
        "mapped_area": mapped * pixel_area,
        "total_area": total_area,
        "z": z,
    }


def sampling_gaps(matrix: np.ndarray, mapped_pixels: Sequence[float],
                  classes: Sequence[Any]) -> list[str]:
    """What the stratified estimator of :func:`stratified_estimates` cannot see, one sentence
    per map class: a class with mapped area but no field point mapped as it (its share W_i of
    the area drops out of every area-weighted figure, which are then biased, the areas summing
    to less than the mapped total), or with one point (eq. 5, 7 and 10 divide by n_i - 1: its
    variance cannot be estimated, so the intervals are too narrow). Empty when every mapped
    class has two points or more."""
    n_i = np.asarray(matrix, dtype=float).sum(axis=1)
    mapped = np.asarray(mapped_pixels, dtype=float)
    share = mapped / mapped.sum() if mapped.sum() > 0 else np.zeros_like(mapped)
    gaps = []
    for name, points, weight in zip(classes, n_i, share, strict=True):
        if weight <= 0 or points > 1:
            continue
        if points == 0:
            gaps.append(
                f"map class {name!s} covers {weight:.1%} of the mapped area but no field point "
                "is mapped as it: the area-weighted accuracies and the error-adjusted areas "
                "leave that share out and are biased; add field points where the map shows "
                f"{name!s}, or merge the class with another")
        else:
            gaps.append(
                f"map class {name!s} ({weight:.1%} of the mapped area) has one field point "
                "mapped as it: its sampling variance cannot be estimated, so the intervals "
                f"are too narrow; add field points where the map shows {name!s}")
    return gaps


def z_value(confidence: float) -> float:
    """Two-sided normal quantile for a confidence level (0.95 -> 1.96)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)


def best_threshold(proba: Any, truth: Any, step: float = 0.01,
                   weight: Any = None) -> tuple[float, float]:
    """The decision threshold on P(positive) that maximises Cohen's kappa of ``proba >=
    threshold`` against ``truth`` (booleans); when several thresholds tie (a separable set
    gives a plateau), the middle of the widest-spread tie. ``weight`` (one per record,
    default 1) counts records in the confusion matrix, e.g. to give the classes another
    share (:func:`mlstat_imagery.prevalence.prevalence_weights`). Returns (threshold,
    kappa)."""
    proba = np.asarray(proba, dtype=float)
    truth = np.asarray(truth, dtype=bool)
    if not len(proba) or truth.all() or not truth.any():
        raise DataError("choosing a threshold needs records of both classes")
    w = np.ones(len(proba)) if weight is None else np.asarray(weight, dtype=float)
    if w.shape != proba.shape:
        raise DataError(f"{len(w)} weights for {len(proba)} records")
    if not np.isfinite(w).all() or (w < 0).any() or not w[truth].sum() > 0 \
            or not w[~truth].sum() > 0:
        raise DataError("threshold weights must be finite, not negative, and give each class "
                        "a positive total")
    grid = np.round(np.arange(step, 1.0, step), 6)
    scores = []
    for t in grid:
        pred = proba >= t
        tp = float(w[pred & truth].sum())
        fp = float(w[pred & ~truth].sum())
        fn = float(w[~pred & truth].sum())
        tn = float(w[~pred & ~truth].sum())
        scores.append(cohen_kappa(np.array([[tp, fp], [fn, tn]])))
    values = np.nan_to_num(np.array(scores), nan=-1.0)
    best = values.max()
    ties = grid[values >= best - 1e-12]
    return float(np.median(ties)), float(best)
