"""Numerical helpers shared by the indicators: confusion-matrix metrics, bootstrap intervals,
calibration and the auto-coding curve. Plain numpy, vectorised, seeded."""

from __future__ import annotations

from typing import Any

import numpy as np

CONFUSION_METRICS = ("accuracy", "macro_f1", "weighted_f1", "cohen_kappa", "mcc")


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def confusion_metrics(matrix: np.ndarray, not_a_class: int | None = None
                      ) -> dict[str, np.ndarray]:
    """Accuracy, macro/weighted F1, Cohen's kappa and MCC of one confusion matrix (K x K, rows
    true) or a stack of them (B x K x K); values are arrays of the stack's shape.

    Macro F1 averages over the classes present (as true or predicted) in each matrix, which is
    what scikit-learn does for the labels it sees. ``not_a_class`` is the column of records
    that got no prediction: they count as errors, but the column is no class to average over.
    """
    c = np.asarray(matrix, dtype=float)
    return class_sum_metrics(np.diagonal(c, axis1=-2, axis2=-1), c.sum(axis=-1),
                             c.sum(axis=-2), not_a_class)


def class_sum_metrics(tp: np.ndarray, true_sum: np.ndarray, pred_sum: np.ndarray,
                      not_a_class: int | None = None) -> dict[str, np.ndarray]:
    """The figures of :func:`confusion_metrics` from what they need of a confusion matrix:
    per class (last axis) the records right, of that true class and predicted as it."""
    tp, true_sum, pred_sum = (np.asarray(v, dtype=float) for v in (tp, true_sum, pred_sum))
    n = true_sum.sum(axis=-1)
    correct = tp.sum(axis=-1)
    f1 = _safe_div(2 * tp, true_sum + pred_sum)
    present = (true_sum + pred_sum) > 0
    if not_a_class is not None:
        present[..., not_a_class] = False
    macro = _safe_div((f1 * present).sum(axis=-1), present.sum(axis=-1))
    weighted = _safe_div((f1 * true_sum).sum(axis=-1), n)
    po = _safe_div(correct, n)
    pe = _safe_div((true_sum * pred_sum).sum(axis=-1), n * n)
    kappa = _safe_div(po - pe, 1 - pe)
    cov_ytyp = correct * n - (true_sum * pred_sum).sum(axis=-1)
    cov_ypyp = n * n - (pred_sum * pred_sum).sum(axis=-1)
    cov_ytyt = n * n - (true_sum * true_sum).sum(axis=-1)
    mcc = _safe_div(cov_ytyp, np.sqrt(cov_ytyt * cov_ypyp))
    return {"accuracy": po, "macro_f1": macro, "weighted_f1": weighted,
            "cohen_kappa": kappa, "mcc": mcc}


def undefined_agreement(matrix: np.ndarray) -> dict[str, str]:
    """Why Cohen's kappa or MCC is undefined for one confusion matrix (a 0/0 that
    :func:`confusion_metrics` reports as 0, as scikit-learn does for MCC), by metric name."""
    c = np.asarray(matrix, dtype=float)
    n = c.sum()
    true_sum, pred_sum = c.sum(axis=1), c.sum(axis=0)
    why: dict[str, str] = {}
    if n and np.isclose((true_sum * pred_sum).sum(), n * n):
        why["cohen_kappa"] = ("Undefined: every test record is of one class and the model "
                              "predicted that class for all, so chance alone would agree.")
    one_true, one_pred = (true_sum == n).any(), (pred_sum == n).any()
    if n and (one_true or one_pred):
        which = "test record is of one class" if one_true else "prediction is of one class"
        why["mcc"] = (f"Undefined: every {which}, so there is no variation to correlate; "
                      "judge the model on accuracy, and test it on records of several classes.")
    return why


def per_class_metrics(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support of each class (0 where undefined)."""
    c = np.asarray(matrix, dtype=float)
    tp = np.diag(c)
    true_sum, pred_sum = c.sum(axis=1), c.sum(axis=0)
    return {"precision": _safe_div(tp, pred_sum), "recall": _safe_div(tp, true_sum),
            "f1": _safe_div(2 * tp, true_sum + pred_sum), "support": true_sum.astype(int)}


def confusion(true_codes: np.ndarray, pred_codes: np.ndarray, k: int) -> np.ndarray:
    """Confusion matrix of integer-coded labels (rows true, columns predicted)."""
    flat = np.asarray(true_codes, dtype=np.int64) * k + np.asarray(pred_codes, dtype=np.int64)
    return np.bincount(flat, minlength=k * k).reshape(k, k)


def bootstrap_confusion(matrix: np.ndarray, repetitions: int, seed: int) -> np.ndarray:
    """Bootstrap replicates of a confusion matrix (B x K x K).

    Resampling records with replacement and counting is the same as drawing the cell counts
    from a multinomial with the observed cell shares, so the cost does not grow with the
    number of records.
    """
    c = np.asarray(matrix, dtype=np.int64)
    n = int(c.sum())
    k = c.shape[0]
    rng = np.random.default_rng(seed)
    if n == 0:
        return np.zeros((repetitions, k, k), dtype=np.int64)
    draws = rng.multinomial(n, c.ravel() / n, size=repetitions)
    return draws.reshape(repetitions, k, k)


def bootstrap_intervals(matrix: np.ndarray, repetitions: int, seed: int, level: float,
                        not_a_class: int | None = None) -> dict[str, tuple[float, float] | None]:
    """Percentile bootstrap interval of each :func:`confusion_metrics` figure (records drawn
    with replacement, :func:`bootstrap_confusion`); None for every figure without replicates
    or when no record is wrong (every replicate would then be perfect)."""
    c = np.asarray(matrix)
    boot = confusion_metrics(bootstrap_confusion(c, max(repetitions, 0), seed), not_a_class)
    wrong = repetitions > 0 and int(np.trace(c)) < int(c.sum())
    return {name: percentile_interval(values, level) if wrong else None
            for name, values in boot.items()}


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float] | None:
    """Percentile interval of bootstrap replicates (None when there are none)."""
    values = np.asarray(samples, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_means(values: np.ndarray, repetitions: int, seed: int) -> np.ndarray:
    """Bootstrap replicates of the mean of ``values`` (records drawn with replacement)."""
    totals, sizes = bootstrap_weighted_sums(values, np.ones(len(values)), repetitions, seed)
    return totals / np.where(sizes > 0, sizes, np.nan)


def bootstrap_weighted_sums(
    values: np.ndarray, weights: np.ndarray, repetitions: int, seed: int,
    max_cells: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap replicates of (sum of w*v, sum of w) over records drawn with replacement;
    replicates are drawn in chunks so memory stays below ``max_cells`` numbers."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    n = v.size
    rng = np.random.default_rng(seed)
    totals = np.empty(repetitions)
    sizes = np.empty(repetitions)
    if n == 0:
        return np.zeros(repetitions), np.zeros(repetitions)
    chunk = max(1, max_cells // n)
    for start in range(0, repetitions, chunk):
        stop = min(repetitions, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        totals[start:stop] = (w[idx] * v[idx]).sum(axis=1)
        sizes[start:stop] = w[idx].sum(axis=1)
    return totals, sizes


def calibration(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Expected calibration error and the reliability curve of top-label confidences.

    ECE is the record-weighted mean gap between mean confidence and accuracy in equal-width
    confidence bins; 0 means stated confidences match observed accuracy.
    """
    conf = np.clip(np.asarray(confidence, dtype=float), 0.0, 1.0)
    hit = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    conf_sum = np.bincount(which, weights=conf, minlength=bins)
    hit_sum = np.bincount(which, weights=hit, minlength=bins)
    mean_conf = _safe_div(conf_sum, counts)
    accuracy = _safe_div(hit_sum, counts)
    n = max(int(counts.sum()), 1)
    gaps = np.abs(mean_conf - accuracy)
    ece = float((counts * gaps).sum() / n)
    mce = float(gaps[counts > 0].max()) if (counts > 0).any() else 0.0
    keep = counts > 0
    return {"ece": ece, "mce": mce, "edges": edges.tolist(),
            "mean_confidence": mean_conf[keep].tolist(), "accuracy": accuracy[keep].tolist(),
            "counts": counts[keep].tolist()}


def auto_coding_curve(confidence: np.ndarray, correct: np.ndarray) -> dict[str, np.ndarray]:
    """For each distinct confidence t (descending): the share of records with confidence >= t
    (coded automatically at threshold t), how many they are and their accuracy."""
    conf = np.asarray(confidence, dtype=float)
    hit = np.asarray(correct, dtype=float)
    keep = np.isfinite(conf)
    conf, hit = conf[keep], hit[keep]
    order = np.argsort(-conf, kind="stable")
    conf, hit = conf[order], hit[order]
    n = conf.size
    if n == 0:
        empty = np.zeros(0)
        return {"threshold": empty, "share": empty, "count": empty, "accuracy": empty}
    cum_hits = np.cumsum(hit)
    # cut after the last record of each tie group, so a threshold codes all records at it
    last_of_group = np.r_[conf[1:] != conf[:-1], True]
    positions = np.nonzero(last_of_group)[0]
    count = positions + 1
    return {"threshold": conf[positions], "share": count / n, "count": count,
            "accuracy": cum_hits[positions] / count}


def threshold_for_target(
    curve: dict[str, np.ndarray], target: float, min_records: int = 1
) -> int | None:
    """Index on the curve of the lowest threshold whose automatically coded records reach
    ``target`` accuracy (most records coded), counting only cuts of at least ``min_records``;
    None when no threshold reaches it."""
    ok = (curve["accuracy"] >= target - 1e-12) & (curve["count"] >= min_records)
    found = np.nonzero(ok)[0]
    return int(found[-1]) if found.size else None


def thin_curve(x: np.ndarray, *series: np.ndarray, points: int = 200) -> list[list[float]]:
    """At most ``points`` evenly spaced points of a long curve, first and last kept."""
    n = len(x)
    idx = np.unique(np.linspace(0, n - 1, min(points, n)).round().astype(int)) if n else []
    return [np.asarray(s, dtype=float)[idx].tolist() for s in (x, *series)]


def wilson_interval(hits: float, n: float, level: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion (None when n is 0)."""
    if n <= 0:
        return None
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    p = hits / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    low = 0.0 if hits <= 0 else max(0.0, centre - half)  # exact ends, not 2.8e-17
    high = 1.0 if hits >= n else min(1.0, centre + half)
    return float(low), float(high)
