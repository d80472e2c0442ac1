"""The sentiment index: shares of positive, neutral and negative tweets per period, and
positive minus negative, corrected for the classifier's errors, with bootstrap intervals.

Why adjust. A classifier's share of "positive" predictions is biased: it mixes true positives
with neutral and negative tweets it gets wrong, in proportions that depend on the true shares.
With ``M[i, j] = P(predicted j | true i)`` estimated on labelled validation data, the expected
predicted shares are ``q = M^T p``; adjusted classify-and-count (Forman 2008) solves that system
for the true shares ``p`` and projects the result onto the simplex (shares in [0, 1] summing
to 1).

Uncertainty. Each bootstrap replicate redraws the tweets of the period (multinomial on the
predicted counts) *and* the validation tweets behind ``M`` (multinomial per true class), so the
interval covers sampling and the uncertainty of the correction. ``matrix_sd`` is the standard
deviation of the index from the confusion matrix alone: how sensitive the index is to what we
know of the classifier's errors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.errors import DataError

FREQ = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}


def confusion_counts(y_true: Any, y_pred: Any, classes: list[str]) -> np.ndarray:
    """Counts of (true class i, predicted class j); labels outside ``classes`` are ignored."""
    pos = {str(c): i for i, c in enumerate(classes)}
    counts = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for t, p in zip(np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object),
                    strict=True):
        i, j = pos.get(str(t)), pos.get(str(p))
        if i is not None and j is not None:
            counts[i, j] += 1
    return counts


def error_matrix(counts: np.ndarray) -> np.ndarray:
    """``M[i, j] = P(predicted j | true i)``; a class never seen is assumed always right."""
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=-1, keepdims=True)
    eye = np.broadcast_to(np.eye(counts.shape[-1]), counts.shape)
    return np.where(totals > 0, counts / np.where(totals > 0, totals, 1), eye)


def project_simplex(v: np.ndarray) -> np.ndarray:
    """Euclidean projection of each row of ``v`` onto {p >= 0, sum p = 1}."""
    v = np.atleast_2d(np.asarray(v, dtype=float))
    k = v.shape[1]
    u = -np.sort(-v, axis=1)
    css = np.cumsum(u, axis=1) - 1
    ind = np.arange(1, k + 1)
    cond = u - css / ind > 0
    rho = k - 1 - np.argmax(cond[:, ::-1], axis=1)
    theta = css[np.arange(len(v)), rho] / (rho + 1)
    return np.maximum(v - theta[:, None], 0)


def adjusted_shares(observed: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """True shares ``p`` with ``M^T p`` closest to the observed predicted shares (rows of
    ``observed``), on the simplex. ``matrix`` is one ``M`` or one per row of ``observed``."""
    observed = np.atleast_2d(np.asarray(observed, dtype=float))
    matrix = np.asarray(matrix, dtype=float)
    inverse = np.linalg.pinv(np.swapaxes(matrix, -1, -2))
    raw = (observed @ inverse.T if inverse.ndim == 2
           else np.einsum("bij,bj->bi", inverse, observed))
    return project_simplex(raw)


def period_of(timestamps: pd.Series, period: str, timezone: str = "UTC") -> pd.Series:
    """The period (pandas Period) of each timestamp, counted in ``timezone``."""
    ts = pd.to_datetime(timestamps, utc=True)
    try:
        local = ts.dt.tz_convert(timezone)
    except Exception as exc:  # noqa: BLE001 - pytz / zoneinfo raise different types
        raise DataError(f"unknown time zone {timezone!r} in [model.index]; use an IANA name "
                        "such as 'Europe/Brussels' or 'UTC'") from exc
    return local.dt.tz_localize(None).dt.to_period(FREQ[period])


def sentiment_index(
    timestamps: pd.Series, predictions: pd.Series, classes: list[str], positive: str,
    negative: str, confusion: np.ndarray | None, period: str = "week", min_count: int = 30,
    adjust: bool = True, bootstrap: int = 500, level: float = 0.95, seed: int = 0,
    timezone: str = "UTC",
) -> pd.DataFrame:
    """One row per period from the first to the last tweet (empty ones included, with the
    reason), with raw and adjusted shares, the index and its bootstrap interval."""
    classes = [str(c) for c in classes]
    for label, what in ((positive, "positive"), (negative, "negative")):
        if label not in classes:
            raise DataError(f"the {what} label {label!r} is not a class of the model "
                            f"({', '.join(classes)}); set `{what}` in [model] to one of them")
    if adjust and confusion is None:
        raise DataError("adjusted shares need the classifier's confusion matrix on validation "
                        "data; fit the model with a validation set or set index.adjust = false")
    k = len(classes)
    ip, ineg = classes.index(positive), classes.index(negative)
    valid = pd.Series(timestamps).notna().to_numpy()
    periods = period_of(pd.Series(timestamps)[valid].reset_index(drop=True), period, timezone)
    preds = pd.Series(predictions).astype(str).to_numpy()[valid]
    if not len(periods):
        raise DataError("no tweet of the stream has a timestamp; the index needs created_at")
    code = {c: i for i, c in enumerate(classes)}
    pred_idx = np.array([code.get(p, -1) for p in preds])
    table = pd.DataFrame({"period": periods.to_numpy(), "cls": pred_idx})
    table = table[table["cls"] >= 0]
    all_periods = pd.period_range(periods.min(), periods.max(), freq=periods.dt.freq)
    counts = np.zeros((len(all_periods), k), dtype=np.int64)
    where = {p: i for i, p in enumerate(all_periods)}
    for (p, c), n in table.groupby(["period", "cls"]).size().items():
        counts[where[p], c] = n

    rng = np.random.default_rng(seed)
    alpha = (1 - level) / 2
    conf = np.asarray(confusion, dtype=np.int64) if confusion is not None else np.eye(k, dtype=int)
    matrix = error_matrix(conf)
    row_n = conf.sum(axis=1)
    draws = np.stack([rng.multinomial(row_n[i], matrix[i], size=bootstrap) for i in range(k)],
                     axis=1) if adjust else None
    boot_matrices = error_matrix(draws) if adjust else None

    rows = []
    for i, p in enumerate(all_periods):
        n = int(counts[i].sum())
        row: dict[str, Any] = {"period": str(p), "start": p.start_time.date().isoformat(),
                               "end": p.end_time.date().isoformat(), "n": n}
        if n < min_count:
            row["status"] = "too_few"
            row["reason"] = (f"{n} tweet(s) < min_count {min_count}" if n else "no tweets")
            rows.append(row)
            continue
        q = counts[i] / n
        q_boot = rng.multinomial(n, q, size=bootstrap) / n
        raw_idx = q_boot[:, ip] - q_boot[:, ineg]
        row.update({"status": "ok", "reason": ""})
        for c, name in enumerate(classes):
            row[f"raw_share_{name}"] = float(q[c])
        row["raw_index"] = float(q[ip] - q[ineg])
        row["raw_index_low"], row["raw_index_high"] = (
            float(v) for v in np.quantile(raw_idx, [alpha, 1 - alpha]))
        if adjust:
            p_hat = adjusted_shares(q, matrix)[0]
            p_boot = adjusted_shares(q_boot, boot_matrices)
            p_matrix = adjusted_shares(np.broadcast_to(q, (bootstrap, k)), boot_matrices)
            idx_boot = p_boot[:, ip] - p_boot[:, ineg]
            row["matrix_sd"] = float(np.std(p_matrix[:, ip] - p_matrix[:, ineg]))
        else:
            p_hat, idx_boot = q, raw_idx
            row["matrix_sd"] = 0.0
        for c, name in enumerate(classes):
            row[f"share_{name}"] = float(p_hat[c])
            low, high = np.quantile(p_boot[:, c] if adjust else q_boot[:, c], [alpha, 1 - alpha])
            row[f"share_{name}_low"], row[f"share_{name}_high"] = float(low), float(high)
        row["index"] = float(p_hat[ip] - p_hat[ineg])
        low, high = np.quantile(idx_boot, [alpha, 1 - alpha])
        # a percentile interval of a projected estimator can miss the point at the simplex's
        # edge; widen it to contain the estimate so that it is never misleading
        row["index_low"] = float(min(low, row["index"]))
        row["index_high"] = float(max(high, row["index"]))
        rows.append(row)
    out = pd.DataFrame(rows)
    columns = ["period", "start", "end", "n", "status", "reason", "index", "index_low",
               "index_high", *[f"share_{c}{s}" for c in classes for s in ("", "_low", "_high")],
               "raw_index", "raw_index_low", "raw_index_high",
               *[f"raw_share_{c}" for c in classes], "matrix_sd"]
    return out.reindex(columns=columns)
