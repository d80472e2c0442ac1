"""The sentiment index: shares of positive, neutral and negative tweets per period, and
positive minus negative, corrected for the classifier's errors, with bootstrap intervals.

Why adjust. A classifier's share of "positive" predictions is biased: it mixes true positives
with neutral and negative tweets it gets wrong, in proportions that depend on the true shares.
With ``M[i, j] = P(predicted j | true i)`` estimated on labelled validation data, the expected
predicted shares are ``q = M^T p``; adjusted classify-and-count (Forman 2008) solves that system
for the true shares ``p``. The solution is found by maximum likelihood on the simplex (shares in
[0, 1] summing to 1), the fixed point of the EM algorithm of Saerens, Latinne and Decaestecker
(2002) for a known confusion matrix: it is the plain solution when that lies inside the simplex
and the most likely valid shares otherwise (a Euclidean projection is not: it sends a whole
bootstrap distribution to one corner). The maximum on the edge is computed exactly (up to 3
classes) or by accelerated EM to a certified tolerance, never by EM to an iteration cap, which
was slow (thousands of steps per bootstrap batch) and stopped short of the maximum.

When the predicted shares cannot come from any valid shares (the maximum-likelihood fit is at
the edge of the simplex and misses them by more than sampling explains, likelihood-ratio test at
``level``), the confusion matrix does not describe the period's tweets: the period gets
``status = adjusted_at_boundary``, the reason, its raw figures and no adjusted ones. When
``M`` is singular (a class never predicted on the labelled tweets), no adjusted share is
identified: every period gets ``status = not_adjusted`` and its raw figures.

Uncertainty. Each bootstrap replicate redraws the tweets of the period (multinomial on the
predicted counts) *and* the labelled tweets behind ``M`` (validation, or a labelled sample of
the stream; multinomial per true class), so the interval covers sampling and the uncertainty of
the correction (simulated coverage of the 95% interval: 94-99%; 76-78% with ``M`` taken as
exact, see docs/twitter.md). ``matrix_sd`` is the standard
deviation of the index from the confusion matrix alone: how sensitive the index is to what we
know of the classifier's errors. The raw shares have their sampling intervals too. Shares are
proportions (0 to 1), the index their difference (-1 to 1).

Change. The matrix draws are made once, so replicate ``b`` of every period uses the same draw;
the change of the index (and of each share) since the previous published period is the
percentile interval of the replicate-wise differences, in which the matrix's error common to
both periods cancels (the tweets of each period are drawn independently).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.errors import DataError

FREQ = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}
TINY = 1e-8
"""Figures smaller than this in absolute value are written as 0: EM reaches a share of 0 only
in the limit, and a quantile of such shares can be a denormal such as 5e-324."""


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


def adjusted_shares(observed: np.ndarray, matrix: np.ndarray, max_iter: int = 10000,
                    tol: float = 1e-13) -> np.ndarray:
    """Maximum-likelihood true shares ``p`` (on the simplex) given the observed predicted shares
    (rows of ``observed``) and ``M``: one matrix, or one per row of ``observed``.

    The plain solution of ``M^T p = q`` reproduces ``q`` exactly, so where it is a valid set of
    shares it is the maximum (the likelihood is saturated) and is returned as it is. Elsewhere
    the maximum is on the simplex's edge: with up to 3 classes it is found exactly on each edge
    (:func:`_edge_shares`), with more by accelerated EM (:func:`_squarem_shares`) stopped when
    the log-likelihood is within ``tol`` of its maximum (a certified bound, not an iteration
    count; ``max_iter`` is a safety net only). Both are batched over rows: scipy's
    optimizers solve one problem per call, which for 500 bootstrap replicates per period is
    far slower. A row whose likelihood is 0 for every set of shares (a class seen in ``q``
    that ``M`` never predicts) is NaN."""
    observed = np.atleast_2d(np.asarray(observed, dtype=float))
    k = observed.shape[1]
    matrix = np.broadcast_to(np.asarray(matrix, dtype=float), (len(observed), k, k))
    plain, reproduced = plain_shares(observed, matrix)
    inside = valid_shares(plain) & reproduced
    shares = plain.copy()
    out = ~inside
    if out.any() and k <= 3:
        shares[out] = _edge_shares(observed[out], matrix[out])
    elif out.any():
        start = 0.9 * project_simplex(plain[out]) + 0.1 / k
        shares[out] = _squarem_shares(observed[out], matrix[out], start, max_iter, tol)
    # a matrix under which no shares can give a predicted class that was seen (a column of
    # zeros, say, in a bootstrap draw): no estimate, rather than an arbitrary vertex
    shares[~np.isfinite(log_likelihood(shares, observed, matrix))] = np.nan
    return shares


def plain_shares(observed: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plain solution of ``M^T p = q`` per row (unconstrained: it may leave the simplex),
    and whether it reproduces ``q`` (False where ``M`` is singular)."""
    observed = np.atleast_2d(np.asarray(observed, dtype=float))
    k = observed.shape[1]
    matrix = np.broadcast_to(np.asarray(matrix, dtype=float), (len(observed), k, k))
    plain = np.einsum("bij,bj->bi", np.linalg.pinv(np.swapaxes(matrix, -1, -2)), observed)
    reproduced = np.abs(np.einsum("bi,bij->bj", plain, matrix) - observed).max(axis=1) <= 1e-9
    return plain, reproduced


def valid_shares(shares: np.ndarray) -> np.ndarray:
    """Per row: shares on the simplex (none negative, summing to 1)."""
    return (shares >= 0).all(axis=1) & np.isclose(shares.sum(axis=1), 1)


def log_likelihood(shares: np.ndarray, observed: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Per row, ``sum_j q_j log (M^T p)_j`` (the multinomial log-likelihood per tweet, up to a
    constant); ``-inf`` where a predicted class seen in ``q`` gets no share."""
    fitted = np.einsum("...i,...ij->...j", shares, matrix)
    seen = observed > 0
    with np.errstate(divide="ignore"):
        terms = np.where(seen, observed * np.log(np.where(seen, fitted, 1)), 0.0)
    return np.where((seen & (fitted <= 0)).any(axis=-1), -np.inf, terms.sum(axis=-1))


def optimality_gap(shares: np.ndarray, observed: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Per row, an upper bound on how far the log-likelihood at ``shares`` is below its maximum
    on the simplex (the Frank-Wolfe gap of a concave function: largest gradient entry minus
    ``p . gradient``); 0 at the maximum."""
    grad = _gradient(shares, observed, matrix)
    return grad.max(axis=1) - np.einsum("bi,bi->b", shares, grad)


def _gradient(shares: np.ndarray, observed: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Gradient of :func:`log_likelihood` in ``p``: ``M (q / M^T p)``."""
    fitted = np.einsum("bi,bij->bj", shares, matrix)
    ratio = np.divide(observed, fitted, out=np.zeros_like(observed), where=fitted > 0)
    return np.einsum("bij,bj->bi", matrix, ratio)


def _edge_shares(observed: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The most likely shares on the edges of the simplex (all of it for 2 classes), exactly:
    on the edge ``t e_a + (1 - t) e_b`` the log-likelihood is concave in ``t``, so its maximum
    is where its derivative changes sign, found by bisection to machine precision; the best
    edge wins. Exact where EM crawls toward a zero share, and no iteration cap to hit."""
    rows, k = observed.shape
    a, b = np.triu_indices(k, 1)
    ma, mb = matrix[:, a, :], matrix[:, b, :]                       # (rows, edges, k)
    q = observed[:, None, :]
    lo, hi = np.zeros((rows, len(a))), np.ones((rows, len(a)))
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(64):
            mid = (lo + hi) / 2
            fitted = mb + mid[..., None] * (ma - mb)
            slope = np.where(q > 0, q * (ma - mb) / fitted, 0.0).sum(axis=-1)
            rising = slope > 0
            lo, hi = np.where(rising, mid, lo), np.where(rising, hi, mid)
    t = np.where(lo == 0, 0.0, np.where(hi == 1, 1.0, (lo + hi) / 2))
    candidates = np.zeros((rows, len(a), k))
    edge = np.arange(len(a))
    candidates[:, edge, a] = t
    candidates[:, edge, b] = 1 - t
    best = np.argmax(log_likelihood(candidates, q, matrix[:, None]), axis=1)
    return candidates[np.arange(rows), best]


def _em_step(shares: np.ndarray, observed: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """One EM step of Saerens et al. (2002) for a known confusion matrix."""
    new = shares * _gradient(shares, observed, matrix)
    return new / new.sum(axis=1, keepdims=True)


def _squarem_shares(observed: np.ndarray, matrix: np.ndarray, start: np.ndarray,
                    max_iter: int, tol: float) -> np.ndarray:
    """EM accelerated by SQUAREM (Varadhan and Roland 2008, scheme S3), each row stopped when
    its :func:`optimality_gap` is below ``tol``. An extrapolation that leaves the simplex keeps
    a small positive share (EM never revives a zero one); a step that lowers the likelihood
    falls back to two plain EM steps, so the likelihood never decreases."""
    shares = start.copy()
    active = np.arange(len(shares))
    for _ in range(max_iter):
        p, q, m = shares[active], observed[active], matrix[active]
        keep = optimality_gap(p, q, m) > tol
        active, p, q, m = active[keep], p[keep], q[keep], m[keep]
        if not len(active):
            break
        p1 = _em_step(p, q, m)
        p2 = _em_step(p1, q, m)
        r, v = p1 - p, p2 - 2 * p1 + p
        alpha = -np.sqrt((r ** 2).sum(axis=1) / np.maximum((v ** 2).sum(axis=1), 1e-300))
        alpha = np.minimum(alpha, -1.0)[:, None]
        jump = p - 2 * alpha * r + alpha ** 2 * v
        jump = np.where(jump > 0, jump, 1e-3 * p2)
        jump = _em_step(jump / jump.sum(axis=1, keepdims=True), q, m)
        better = log_likelihood(jump, q, m) >= log_likelihood(p2, q, m)
        shares[active] = np.where(better[:, None], jump, p2)
    return shares


def misfit(counts: np.ndarray, shares: np.ndarray, matrix: np.ndarray) -> float:
    """Likelihood-ratio statistic G of predicted ``counts`` against the shares ``M^T p`` that
    the adjusted ``shares`` imply (0 when they are reproduced exactly)."""
    counts = np.asarray(counts, dtype=float)
    fitted = counts.sum() * (np.asarray(shares) @ np.asarray(matrix))
    seen = counts > 0
    if (fitted[seen] <= 0).any():
        return float("inf")
    return float(2 * np.sum(counts[seen] * np.log(counts[seen] / fitted[seen])))


def deflated_misfit(counts: np.ndarray, shares: np.ndarray, conf: np.ndarray) -> float:
    """The misfit G of ``shares`` to the predicted ``counts``, divided by
    ``1 + n sum p_i^2 / m_i`` for the sampling of the ``m_i`` labelled tweets behind ``conf``;
    0 where the shares are inside the simplex (they then reproduce the counts)."""
    if shares.min() > 1e-6:
        return 0.0
    n, rows = counts.sum(), np.maximum(conf.sum(axis=1), 1)
    return misfit(counts, shares, error_matrix(conf)) / (1 + n * float(np.sum(shares ** 2 / rows)))


def _critical(level: float, df: int) -> float:
    """The chi-square quantile at ``level`` with ``df`` degrees of freedom."""
    if df == 1:
        return NormalDist().inv_cdf((1 + level) / 2) ** 2
    from scipy.stats import chi2

    return float(chi2.ppf(level, df))


def _boundary_reason(counts: np.ndarray, shares: np.ndarray, conf: np.ndarray,
                     classes: list[str], fit: str) -> str:
    """Why the adjustment of a period is not published: its fit, at the simplex's edge,
    misses the predicted ``counts`` (of the tweets adjusted with ``conf``) beyond sampling
    (``fit`` says by how much)."""
    matrix = error_matrix(conf)
    q = counts / counts.sum()
    worst = int(np.argmax(np.abs(q - shares @ matrix)))
    low, high = matrix[:, worst].min(), matrix[:, worst].max()
    bound = (f"at most {high:.0%}" if q[worst] > high else f"at least {low:.0%}"
             if q[worst] < low else "no valid mix")
    return (f"predicted {classes[worst]} share {q[worst]:.0%} is out of reach of the "
            f"validation confusion matrix ({bound} of a class is predicted {classes[worst]}; "
            f"{fit}): the classifier errs differently on these "
            "tweets; label some of them to estimate the matrix")


def _unpublished(row: dict[str, Any], reason: str,
                 status: str = "adjusted_at_boundary") -> dict[str, Any]:
    """The row with its raw figures only, ``status`` and the reason."""
    kept = {key: value for key, value in row.items()
            if key in ("period", "start", "end", "n", "partial") or key.startswith("raw_")}
    return {**kept, "status": status, "reason": reason}


ADJUST_OFF = "set index.adjust = false (--no-adjust on mlstat-twitter-index's command line)"
"""How to switch the adjustment off, in a pipeline and on the command line: the index's rows
and errors do not know which of the two asked for it."""


def singular_reason(conf: np.ndarray, classes: list[str], advice: bool = True) -> str:
    """Why the confusion matrix cannot correct the shares, or ``""`` when it can: it is
    singular (a class never predicted on the labelled tweets, or a row of error rates that
    mixes the others),
    so different true shares give the same predicted ones and no adjusted share is identified
    (EM would return its starting point, and the bootstrap would spread around that).
    ``advice``: with what to do about it (not where another matrix takes over)."""
    conf = np.asarray(conf)
    matrix = error_matrix(conf)
    sv = np.linalg.svd(matrix, compute_uv=False)
    if sv.min() > 1e-9 * sv.max():
        return ""
    never = [c for c, total in zip(classes, conf.sum(axis=0), strict=True) if total == 0]
    why = (f"{', '.join(never)} is never predicted on the {int(conf.sum())} labelled tweets"
           if never else "the error rates of one class are a mixture of the other classes'")
    reason = (f"the confusion matrix is singular ({why}): different true shares give the "
              "same predicted ones, so the shares cannot be corrected")
    if not advice:
        return reason
    return (f"{reason}; label more tweets of the stream and give them as the confusion sample "
            f"(confusion_sample, --confusion-sample), retrain, or {ADJUST_OFF}")


def local_times(timestamps: pd.Series, timezone: str = "UTC") -> pd.Series:
    """The timestamps as clock times in ``timezone`` (without the zone)."""
    ts = pd.to_datetime(timestamps, utc=True)
    try:
        local = ts.dt.tz_convert(timezone)
    except Exception as exc:  # noqa: BLE001 - pytz / zoneinfo raise different types
        raise DataError(f"unknown time zone {timezone!r} in [model.index]; use an IANA name "
                        "such as 'Europe/Brussels' or 'UTC'") from exc
    return local.dt.tz_localize(None)


def period_of(timestamps: pd.Series, period: str, timezone: str = "UTC") -> pd.Series:
    """The period (pandas Period) of each timestamp, counted in ``timezone``."""
    return local_times(timestamps, timezone).dt.to_period(FREQ[period])


def partial_periods(periods: pd.PeriodIndex, first: pd.Timestamp, last: pd.Timestamp
                    ) -> np.ndarray:
    """Which of ``periods`` a stream from ``first`` to ``last`` (its first and last tweet, as
    local clock times) covers only in part, by the dates: the period it begins in after that
    period's first day, the one it ends in before that period's last day."""
    partial = np.zeros(len(periods), dtype=bool)
    for i, p in enumerate(periods):
        start, end = p.start_time.date(), p.end_time.date()
        partial[i] = (start < first.date() <= end) or (start <= last.date() < end)
    return partial


@dataclass
class Correction:
    """A confusion matrix of the index (counts, rates), its bootstrap draws (one per
    replicate, redrawing the labelled tweets of each true class) and why it cannot correct
    (``""`` when it can)."""

    conf: np.ndarray
    matrix: np.ndarray
    boot: np.ndarray | None
    singular: str

    @classmethod
    def drawn(cls, conf: np.ndarray, classes: list[str], bootstrap: int,
              rng: np.random.Generator | None) -> Correction:
        """The correction by ``conf``; without ``rng`` (no adjustment) nothing is drawn."""
        conf = np.asarray(conf, dtype=np.int64)
        matrix = error_matrix(conf)
        if rng is None:
            return cls(conf, matrix, None, "")
        row_n = conf.sum(axis=1)
        draws = np.stack([rng.multinomial(row_n[i], matrix[i], size=bootstrap)
                          for i in range(len(classes))], axis=1)
        return cls(conf, matrix, error_matrix(draws), singular_reason(conf, classes))


def _strata(n_tweets: int, languages: pd.Series | None,
            by_language: dict[str, np.ndarray] | None) -> tuple[list[str], np.ndarray]:
    """The strata of the index and each tweet's: stratum 0 (``""``) holds the tweets adjusted
    with the pooled matrix, stratum ``s > 0`` those of the language with its own matrix."""
    own = sorted(by_language or {})
    if not own or languages is None:
        return [""], np.zeros(n_tweets, dtype=int)
    where = {lang: s for s, lang in enumerate(own, start=1)}
    codes = pd.Series(languages).astype(str).to_numpy()
    return ["", *own], np.array([where.get(c, 0) for c in codes], dtype=int)


def sentiment_index(
    timestamps: pd.Series, predictions: pd.Series, classes: list[str], positive: str,
    negative: str, confusion: np.ndarray | None, period: str = "week", min_count: int = 30,
    adjust: bool = True, bootstrap: int = 500, level: float = 0.95, seed: int = 0,
    timezone: str = "UTC", languages: pd.Series | None = None,
    by_language: dict[str, np.ndarray] | None = None,
    span: tuple[Any, Any] | None = None,
) -> pd.DataFrame:
    """One row per period from the first to the last tweet (empty ones included, with the
    reason), with raw and adjusted shares, the index and their bootstrap intervals, and the
    change of the index and shares since the previous published period (``change_from``).
    Weeks are ISO weeks (Monday to Sunday); periods are counted in ``timezone``. A period
    the stream covers in part is marked ``partial``: the stream is these tweets, or, given
    ``span``, the one from the first to the last of those times (a language's index within
    the whole stream).
    ``bootstrap`` must be at least 1: every published figure has an interval.

    With ``languages`` (each tweet's) and ``by_language`` (confusion counts of some languages),
    the shares are adjusted by language, each language's tweets with its own matrix and the
    others' with ``confusion``, and combined weighted by the period's tweets per language
    (stratified adjusted classify-and-count, :func:`_adjusted_period`): away from the edge of
    the simplex it is unbiased where the classifier errs differently by language and the mix
    of languages moves between periods, where a pooled matrix fits one mix only."""
    if bootstrap < 1:
        raise ValueError(f"bootstrap={bootstrap}: the index needs at least 1 bootstrap "
                         "replicate for its intervals (pipelines take [model.index] bootstrap "
                         "= 50 to 20000)")
    classes = [str(c) for c in classes]
    for label, what in ((positive, "positive"), (negative, "negative")):
        if label not in classes:
            raise DataError(f"the {what} label {label!r} is not a class of the model "
                            f"({', '.join(classes)}); set `{what}` in [model] to one of them")
    if adjust and confusion is None:
        raise DataError("adjusted shares need the classifier's confusion matrix on validation "
                        f"data; fit the model with a validation set or {ADJUST_OFF}")
    k = len(classes)
    ip, ineg = classes.index(positive), classes.index(negative)
    valid = pd.Series(timestamps).notna().to_numpy()
    local = local_times(pd.Series(timestamps)[valid].reset_index(drop=True), timezone)
    periods = local.dt.to_period(FREQ[period])
    preds = pd.Series(predictions).astype(str).to_numpy()[valid]
    if not len(periods):
        raise DataError("no tweet of the stream has a timestamp; the index needs created_at")
    names, stratum = _strata(len(valid), languages, by_language if adjust else None)
    code = {c: i for i, c in enumerate(classes)}
    pred_idx = np.array([code.get(p, -1) for p in preds])
    table = pd.DataFrame({"period": periods.to_numpy(), "stratum": stratum[valid],
                          "cls": pred_idx})
    table = table[table["cls"] >= 0]
    all_periods = pd.period_range(periods.min(), periods.max(), freq=periods.dt.freq)
    ends = local_times(pd.Series(span), timezone) if span is not None else local
    partial = partial_periods(all_periods, ends.min(), ends.max())
    counts = np.zeros((len(all_periods), len(names), k), dtype=np.int64)
    where = {p: i for i, p in enumerate(all_periods)}
    for (p, s, c), n in table.groupby(["period", "stratum", "cls"]).size().items():
        counts[where[p], s, c] = n

    rng = np.random.default_rng(seed)
    alpha = (1 - level) / 2
    pooled = np.eye(k, dtype=int) if confusion is None else np.asarray(confusion, dtype=np.int64)
    # the strata draw from a stream of their own, so that the pooled matrix's draws and the
    # raw shares' replicates are those of an index without strata
    strata_rng = np.random.default_rng([seed, 1])
    corrections = [Correction.drawn(pooled if not name else (by_language or {})[name],
                                    classes, bootstrap,
                                    (rng if not name else strata_rng) if adjust else None)
                   for name in names]
    rows = []
    previous: tuple[str, np.ndarray, np.ndarray] | None = None  # last published period
    for i, p in enumerate(all_periods):
        n = int(counts[i].sum())
        row: dict[str, Any] = {"period": str(p), "start": p.start_time.date().isoformat(),
                               "end": p.end_time.date().isoformat(), "n": n,
                               "partial": bool(partial[i])}
        if n < min_count:
            row["status"] = "too_few"
            row["reason"] = (f"{n} tweet(s) < min_count {min_count}" if n else "no tweets")
            rows.append(row)
            continue
        q = counts[i].sum(axis=0) / n
        raw_draws = rng.multinomial(n, q, size=bootstrap)
        q_boot = raw_draws / n
        used = [s for s in range(len(names)) if counts[i, s].sum()]
        # the adjusted replicates redraw each stratum's tweets (its count in the period fixed)
        drawn = ({used[0]: raw_draws} if len(used) == 1 else
                 {s: strata_rng.multinomial(counts[i, s].sum(),
                                            counts[i, s] / counts[i, s].sum(), size=bootstrap)
                  for s in used})
        raw_idx = q_boot[:, ip] - q_boot[:, ineg]
        row.update({"status": "ok", "reason": ""})
        raw_low, raw_high = _interval(q_boot, q, alpha)
        for c, name in enumerate(classes):
            row[f"raw_share_{name}"] = float(q[c])
            row[f"raw_share_{name}_low"] = float(raw_low[c])
            row[f"raw_share_{name}_high"] = float(raw_high[c])
        row["raw_index"] = float(q[ip] - q[ineg])
        row["raw_index_low"], row["raw_index_high"] = (
            float(v) for v in _interval(raw_idx, row["raw_index"], alpha))
        singular = next((corrections[s].singular for s in used if corrections[s].singular), "")
        if adjust and singular:
            rows.append(_unpublished(row, singular, "not_adjusted"))
            continue
        if adjust:
            p_hat, p_boot, p_matrix, reason = _adjusted_period(
                counts[i], {s: drawn[s] for s in used}, corrections, names, classes, level,
                min_count)
            if reason:
                row.update({"status": "adjusted_at_boundary", "reason": reason})
                rows.append(row)
                continue
            row["matrix_sd"] = float(np.nanstd(p_matrix[:, ip] - p_matrix[:, ineg]))
            lost = int(np.isnan(p_boot[:, 0]).sum())
            if lost:
                row["reason"] = (f"{lost} of {bootstrap} bootstrap replicates left out: their "
                                 "draw of the confusion matrix cannot give the predicted "
                                 "classes seen (label more tweets of the rare classes)")
        else:
            p_hat, p_boot = q, q_boot
            row["matrix_sd"] = 0.0
        share_low, share_high = _interval(p_boot, p_hat, alpha)
        for c, name in enumerate(classes):
            row[f"share_{name}"] = float(p_hat[c])
            row[f"share_{name}_low"] = float(share_low[c])
            row[f"share_{name}_high"] = float(share_high[c])
        row["index"] = float(p_hat[ip] - p_hat[ineg])
        row["index_low"], row["index_high"] = (
            float(v) for v in _interval(p_boot[:, ip] - p_boot[:, ineg], row["index"], alpha))
        if adjust and row["index_high"] - row["index_low"] < 1e-9 < np.ptp(raw_idx):
            rows.append(_unpublished(row, "the adjusted interval collapsed to one value at the "
                                          "edge of [0, 1] although the raw shares vary"))
            continue
        row.update(_change(p_hat, p_boot, previous, classes, ip, ineg, alpha))
        previous = (row["period"], p_hat, p_boot)
        rows.append(row)
    out = pd.DataFrame(rows)
    out["change_reason"] = out.get("change_reason", pd.Series(index=out.index, dtype=object)
                                   ).fillna("this period is not published")
    columns = ["period", "start", "end", "n", "partial", "status", "reason", "index",
               "index_low",
               "index_high", *[f"share_{c}{s}" for c in classes for s in ("", "_low", "_high")],
               "raw_index", "raw_index_low", "raw_index_high",
               *[f"raw_share_{c}{s}" for c in classes for s in ("", "_low", "_high")],
               "matrix_sd", "change", "change_low", "change_high", "change_from",
               "change_reason",
               *[f"change_share_{c}{s}" for c in classes for s in ("", "_low", "_high")]]
    return tidy_figures(out.reindex(columns=columns))


def index_notes(table: pd.DataFrame) -> list[str]:
    """What a reader of an index file must be told: periods the stream covers only in part,
    and that no period is published (with the way to publish some)."""
    notes = []
    partial = table.loc[table["partial"].astype(bool), "period"].astype(str).tolist()
    if partial:
        notes.append(f"period(s) {' and '.join(partial)} hold only part of their time: the "
                     "stream begins or ends inside them (column `partial`), so their tweets "
                     "are those of fewer days; compare them with whole periods with care")
    if len(table) and not (table["status"] == "ok").any():
        counts = table["status"].value_counts()
        shown = ", ".join(f"{n} {status}" for status, n in counts.items())
        advice = (": lower min_count (--min-count), or index longer periods (--period)"
                  if "too_few" in counts else "; see each period's reason")
        notes.append(f"no period of the index is published ({shown}){advice}")
    return notes


def indexes_by_language(timestamps: pd.Series, predictions: pd.Series, languages: pd.Series,
                        classes: list[str], positive: str, negative: str,
                        confusion: np.ndarray | None, by_language: dict[str, np.ndarray],
                        skip: set[str], seed: int = 0, **settings: Any) -> pd.DataFrame:
    """The index of each language's tweets on its own (``language``; languages in ``skip``
    left out), adjusted with the language's matrix where ``by_language`` has one and with the
    pooled ``confusion`` otherwise (``confusion`` says which: ``language``, ``pooled``, or
    ``none`` without adjustment), in one long table."""
    stamps = pd.Series(timestamps).reset_index(drop=True)
    preds = pd.Series(predictions).reset_index(drop=True)
    langs = pd.Series(languages).astype(str).to_numpy()
    span = (stamps.min(), stamps.max())  # partial periods are the whole stream's
    parts = []
    for i, lang in enumerate(sorted(set(langs) - skip)):
        keep = langs == lang
        if not stamps[keep].notna().any():
            continue
        own = lang in by_language
        table = sentiment_index(stamps[keep], preds[keep], classes, positive, negative,
                                by_language[lang] if own else confusion, seed=seed + i,
                                span=span, **settings)
        matrix = ("language" if own else "pooled") if settings.get("adjust", True) else "none"
        table.insert(0, "confusion", matrix)
        table.insert(0, "language", lang)
        parts.append(table)
    if not parts:
        return pd.DataFrame(columns=["language", "confusion", "period"])
    return pd.concat(parts, ignore_index=True)


def _tested_groups(edge: list[int], tweets: dict[int, int], min_count: int
                   ) -> list[list[int]]:
    """The strata at the simplex's edge whose misfit is tested, in groups tested on their
    own: with one stratum, it; with several, those of ``min_count`` tweets or more, and apart
    from them the smaller ones where together they reach ``min_count`` (a dozen tweets of one
    language beside thousands do not withhold a period; three languages of 25 tweets each,
    all out of reach, do; and adding small languages never weakens the large ones' test)."""
    if len(tweets) == 1:
        return [edge] if edge else []
    large = [s for s in edge if tweets[s] >= min_count]
    small = [s for s in edge if tweets[s] < min_count]
    enough = sum(tweets[s] for s in small) >= min_count
    return [group for group in (large, small if enough else []) if group]


def _stratum_label(names: list[str], s: int) -> str:
    """How a stratum is named in a reason: nothing without strata, else its tweets."""
    if len(names) == 1:
        return ""
    return f"{names[s]} tweets" if names[s] else "tweets in languages without their own matrix"


def _adjusted_period(counts: np.ndarray, drawn: dict[int, np.ndarray],
                     corrections: list[Correction], names: list[str], classes: list[str],
                     level: float, min_count: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """A period adjusted: its shares, their bootstrap replicates (tweets and matrices
    redrawn), the replicates with the matrices alone redrawn, and why it is not published
    (``""`` when it is). ``counts`` holds the period's predicted classes per stratum and
    ``drawn`` their bootstrap draws (strata with tweets only).

    With one stratum this is the maximum-likelihood shares on the simplex. With several, the
    plain solutions of the strata (``M_s^T p_s = q_s``, unconstrained) are averaged, weighted
    by the strata's tweets: where that average is a valid set of shares it is taken as it is,
    which keeps it unbiased however few tweets a stratum has (maximum likelihood in each
    stratum on its own would clip a small stratum's shares to the simplex, and the clipping
    biases add up); elsewhere the strata's maximum-likelihood shares are averaged. The period
    is not published when the strata whose maximum-likelihood shares are at the simplex's edge
    and miss their predicted counts (G > 0) miss them beyond sampling (their deflated G
    summed, one degree of freedom each), tested in the groups of :func:`_tested_groups`."""
    used = sorted(drawn)
    n = counts.sum()
    weights = {s: counts[s].sum() / n for s in used}
    observed = {s: counts[s] / counts[s].sum() for s in used}

    def combine(rows: dict[int, np.ndarray], matrices: dict[int, np.ndarray]) -> np.ndarray:
        """The combined shares of each row of the strata's observed shares."""
        if len(used) == 1:
            (s,) = used
            return adjusted_shares(rows[s], matrices[s])
        solved = {s: plain_shares(rows[s], matrices[s]) for s in used}
        shares = sum(weights[s] * solved[s][0] for s in used)
        plain = valid_shares(shares) & np.logical_and.reduce([solved[s][1] for s in used])
        rest = ~plain
        if rest.any():
            shares[rest] = sum(weights[s] * adjusted_shares(
                rows[s][rest], matrices[s][rest] if matrices[s].ndim == 3 else matrices[s])
                for s in used)
        return shares

    point = {s: corrections[s].matrix for s in used}
    boot = {s: corrections[s].boot for s in used}
    p_hat = combine({s: observed[s][None, :] for s in used}, point)[0]
    p_boot = combine({s: drawn[s] / counts[s].sum() for s in used}, boot)
    p_matrix = combine({s: np.broadcast_to(observed[s], drawn[s].shape) for s in used}, boot)
    fits = {s: adjusted_shares(observed[s], point[s])[0] for s in used}
    g = {s: deflated_misfit(counts[s], fits[s], corrections[s].conf) for s in used
         if fits[s].min() <= 1e-6}
    # a fit at the edge that reproduces its counts is no evidence: no degree of freedom
    missing = [s for s in g if g[s] > 1e-9]
    reason = ""
    for group in _tested_groups(missing, {s: int(counts[s].sum()) for s in used}, min_count):
        total, critical = sum(g[s] for s in group), _critical(level, len(group))
        if total <= critical:
            continue
        worst = max(group, key=lambda s: g[s])
        fit = f"fit G = {total:.1f} > {critical:.2f}"
        if len(group) > 1:
            shown = ", ".join(names[s] or "others" for s in group)
            fit = (f"fit G = {g[worst]:.1f}; summed over the {len(group)} languages at the "
                   f"edge ({shown}) G = {total:.1f} > {critical:.2f}, {len(group)} df")
        reason = _boundary_reason(counts[worst], fits[worst], corrections[worst].conf,
                                  classes, fit)
        label = _stratum_label(names, worst)
        reason = f"{label}: {reason}" if label else reason
        break
    return p_hat, p_boot, p_matrix, reason


def _interval(values: np.ndarray, estimate: np.ndarray | float, alpha: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap ``values`` (rows: replicates; replicates without an
    estimate, NaN, left out), widened to contain ``estimate``: a percentile interval of an
    estimator at the simplex's edge can miss the point, and would then mislead."""
    low, high = np.nanquantile(values, [alpha, 1 - alpha], axis=0)
    return np.minimum(low, estimate), np.maximum(high, estimate)


def _change(shares: np.ndarray, shares_boot: np.ndarray,
            previous: tuple[str, np.ndarray, np.ndarray] | None, classes: list[str], ip: int,
            ineg: int, alpha: float) -> dict[str, Any]:
    """The change of the index and of each adjusted share since the ``previous`` published
    period (its name, shares and bootstrap shares), with percentile intervals of the
    replicate-wise differences. Replicate ``b`` of both periods was adjusted with the same
    confusion-matrix draw ``b`` (their tweets are drawn independently), so the error of the
    matrix that moves both periods alike cancels: the interval is narrower than the two
    periods' intervals combined as if independent, and still covers the matrix's error that
    does not cancel (where the true shares differ)."""
    if previous is None:
        return {"change_reason": "no earlier published period to compare with"}
    name, before, before_boot = previous
    diff, diff_boot = shares - before, shares_boot - before_boot
    out: dict[str, Any] = {"change_from": name, "change_reason": ""}
    estimate = float(diff[ip] - diff[ineg])
    low, high = _interval(diff_boot[:, ip] - diff_boot[:, ineg], estimate, alpha)
    out.update({"change": estimate, "change_low": float(low), "change_high": float(high)})
    lows, highs = _interval(diff_boot, diff, alpha)
    for c, cls in enumerate(classes):
        out[f"change_share_{cls}"] = float(diff[c])
        out[f"change_share_{cls}_low"] = float(lows[c])
        out[f"change_share_{cls}_high"] = float(highs[c])
    return out


def tidy_figures(table: pd.DataFrame) -> pd.DataFrame:
    """Shares in [0, 1], indexes in [-1, 1], their changes in [-1, 1] and [-2, 2], and figures
    below :data:`TINY` in absolute value as 0, so that the file shows 0 where the estimate is 0
    (both maps keep every interval around its estimate)."""
    out = table.copy()
    for column in out.columns:
        if column == "n" or not pd.api.types.is_float_dtype(out[column]):
            continue
        values = np.clip(out[column].to_numpy(), *_figure_range(column))  # NaN stays NaN
        out[column] = np.where(np.abs(values) < TINY, 0.0, values)
    return out


def _figure_range(column: str) -> tuple[float, float]:
    """The range of a figure of the index file, from its column name."""
    if "change" in column:  # a difference of two figures: twice their range
        return (-1.0, 1.0) if "share" in column else (-2.0, 2.0)
    if "share" in column:
        return (0.0, 1.0)
    if "index" in column:
        return (-1.0, 1.0)
    return (-np.inf, np.inf)
