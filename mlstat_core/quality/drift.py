"""Data drift between the training data and new records scored by ``mlstat predict``.

At fit time :func:`build_profile` summarises each input column of the training data in a small
JSON-able profile (quantile bins for numbers, top categories for categories, length bins for
free text). At prediction time a :class:`DriftAccumulator` counts new records into the same
bins chunk by chunk (memory bounded by the number of bins, not by the data) and
:meth:`DriftAccumulator.result` gives the population stability index (PSI) and an
approximate Kolmogorov-Smirnov distance per column, with a warning above a threshold.

Reading PSI: below 0.1 little change, 0.1 to 0.25 a moderate shift worth a look, above 0.25 a
major shift: the model is scoring data unlike what it learnt from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.io import as_text, whole_code_text

PROFILE_VERSION = 1
OTHER = "__other__"
MISSING = "__missing__"
EPSILON = 1e-4
CHANCE = 0.01
"""Chance of calling records drawn from the training data drifted, for all columns together."""


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    values = series.dropna().astype(str)
    if values.empty:
        return "categorical"
    unique = values.nunique()
    if values.str.len().mean() > 30 or (unique > 50 and unique > 0.5 * len(values)):
        return "text"
    return "categorical"


def _categories(values: pd.Series, codes: bool = False) -> pd.Series:
    """Values present as the text of their category, one form whatever the file or engine
    read them as: the code 11 is ``11`` read as a number, as ``11.0`` from a column with gaps
    (Parquet, or Spark's batches), or as text (see :func:`mlstat_core.io.as_text`). With
    ``codes`` (a column of codes: core.table's `categorical`) the text ``11.0`` is ``11``
    too, as the core's models read it (:func:`mlstat_core.io.whole_code_text`)."""
    text = as_text(values)
    return (whole_code_text(text) if codes else text).astype(str)


def _numeric_edges(values: np.ndarray, bins: int) -> list[float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return []
    inner = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])
    return [float(x) for x in np.unique(inner)]


def _bin_counts(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Counts in (-inf, e1], (e1, e2], ..., (ek, inf) plus a last cell for missing values."""
    missing = ~np.isfinite(values)
    which = np.searchsorted(np.asarray(edges, dtype=float), values[~missing], side="left")
    counts = np.bincount(which, minlength=len(edges) + 1).astype(float)
    return np.r_[counts, missing.sum()]


def _numbers(series: pd.Series, kind: str) -> np.ndarray:
    if kind == "text":
        return series.map(lambda v: float(len(str(v))) if pd.notna(v) else np.nan).to_numpy(float)
    return pd.to_numeric(series, errors="coerce").to_numpy(float)


def build_profile(
    frame: pd.DataFrame,
    columns: list[str] | dict[str, str] | None = None,
    bins: int = 10,
    top: int = 20,
    codes: Iterable[str] = (),
) -> dict[str, Any]:
    """The training profile of ``columns`` (names, or names mapped to ``numeric``,
    ``categorical`` or ``text``; default every column): JSON-able, a few KB per column.
    ``codes`` are columns of codes (core.table's `categorical`): profiled as categories,
    ``11.0`` counted as ``11`` here and in new records (their entry says ``"codes": true``;
    a profile written before counts the text as it is)."""
    if columns is None:
        columns = list(frame.columns)
    kinds = dict(columns) if isinstance(columns, dict) else {c: "" for c in columns}
    coded = set(codes)
    profile: dict[str, Any] = {"version": PROFILE_VERSION, "records": int(len(frame)),
                               "columns": {}}
    n = max(len(frame), 1)
    for column, declared in kinds.items():
        if column not in frame.columns:
            continue
        series = frame[column]
        kind = "categorical" if column in coded else declared or _kind(series)
        if kind in ("numeric", "text"):
            values = _numbers(series, kind)
            edges = _numeric_edges(values, bins)
            counts = _bin_counts(values, edges)
            entry = {"kind": kind, "edges": edges,
                     "shares": (counts[:-1] / n).tolist(), "missing": float(counts[-1] / n)}
        else:
            counts = _categories(series.dropna(), column in coded).value_counts()
            kept = counts.iloc[:top]
            shares = {str(k): float(v / n) for k, v in kept.items()}
            shares[OTHER] = float(counts.iloc[top:].sum() / n)
            entry = {"kind": "categorical", "shares": shares,
                     "missing": float(series.isna().sum() / n)}
            if column in coded:
                entry["codes"] = True
        profile["columns"][column] = entry
    return profile


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    e = np.clip(np.asarray(expected, dtype=float), EPSILON, None)
    a = np.clip(np.asarray(actual, dtype=float), EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def chance_psi(expected: np.ndarray, records: int, level: float = 0.99,
               draws: int | None = None) -> float:
    """The PSI that ``records`` new records drawn from the training distribution itself
    exceed only with probability ``1 - level`` (simulated, seeded): with few records many bins
    stay empty and PSI is large by chance alone (20 records over 10 equal bins: up to 2.6 at
    the 0.99 level). ``draws`` defaults to enough for about 20 draws beyond that quantile,
    from 2,000 up to 20,000 (reached at about 10 columns; with more the quantile rests on
    fewer draws and is noisier)."""
    if records <= 0:
        return float("inf")
    if draws is None:
        draws = int(min(max(2000, np.ceil(20 / (1 - level))), 20_000))
    shares = np.clip(np.asarray(expected, dtype=float), 0, None)
    shares = shares / shares.sum()
    counts = np.random.default_rng(0).multinomial(records, shares, size=draws) / records
    e = np.clip(shares, EPSILON, None)
    a = np.clip(counts, EPSILON, None)
    values = np.sum((a - e) * np.log(a / e), axis=1)
    return float(np.quantile(values, level))


def drift_warning(column: str, value: float, values_psi: float | None, threshold: float,
                  missing_train: float, missing_new: float) -> str:
    """What drifted in ``column``: its values, or only its share of missing values (PSI
    counts missing values as one more bin; ``values_psi`` is None when one side has no value
    at all). A column with no value at all in the new records, which had values in training,
    is said as such: whatever the model reads from it is made up."""
    if missing_new >= 1 and missing_train < 1:
        return (f"column {column!r} has no value in any of the new records (missing in "
                f"{missing_train:.1%} in training): the model observes none of it, so what it "
                "makes of those records (a value filled in or imputed, a record sent to "
                "review) rests on no observed value; check that the file holds the column's "
                "values, or retrain without it")
    if (values_psi is None or values_psi <= threshold) and missing_new != missing_train:
        values = "no values to compare" if values_psi is None else \
            f"the values themselves: PSI {values_psi:.2f}"
        return (f"column {column!r}: its share of missing values changed from "
                f"{missing_train:.1%} in training to {missing_new:.1%} (PSI {value:.2f} > "
                f"{threshold} with missing values as a bin; {values}); check how the new "
                "data were collected, or retrain")
    return (f"column {column!r} has drifted from the training data (PSI {value:.2f} > "
            f"{threshold}; missing {missing_train:.1%} in training, {missing_new:.1%} now); "
            "check the new data or retrain the model")


def check_profile(profile: Any) -> None:
    """A ValueError naming the first thing in ``profile`` that :func:`build_profile` would
    not have written (a damaged or hand-edited file), before any record is counted."""
    if not isinstance(profile, dict) or not isinstance(profile.get("columns"), dict):
        raise ValueError("it has no `columns` object")
    for column, entry in profile["columns"].items():
        kind = entry.get("kind") if isinstance(entry, dict) else None
        shares = entry.get("shares") if isinstance(entry, dict) else None
        fine = isinstance(entry, dict) and isinstance(entry.get("missing"), int | float)
        if kind == "categorical":
            fine = fine and isinstance(shares, dict) and OTHER in shares and all(
                isinstance(v, int | float) for v in shares.values())
        elif kind in ("numeric", "text"):
            edges = entry.get("edges")
            fine = fine and isinstance(edges, list) and isinstance(shares, list) \
                and len(shares) == len(edges) + 1 \
                and all(isinstance(v, int | float) for v in edges + shares)
        else:
            fine = False
        if not fine:
            raise ValueError(f"its entry for column {column!r} is not a {kind or 'known'} "
                             "column profile")


class DriftAccumulator:
    """Counts new records into a training profile's bins, chunk by chunk."""

    def __init__(self, profile: dict[str, Any]) -> None:
        if not isinstance(profile, dict) or profile.get("version") != PROFILE_VERSION:
            version = profile.get("version") if isinstance(profile, dict) else None
            raise ValueError(f"drift profile version {version!r} is not "
                             f"{PROFILE_VERSION}; fit the model again")
        check_profile(profile)
        self.profile = profile
        self.records = 0
        self.counts: dict[str, np.ndarray] = {}
        self.absent: set[str] = set()
        for column, entry in profile["columns"].items():
            size = len(entry["edges"]) + 1 if entry["kind"] != "categorical" \
                else len(entry["shares"])
            self.counts[column] = np.zeros(size + 1)  # + missing

    def update(self, chunk: pd.DataFrame) -> None:
        """Add one chunk of new records."""
        self.records += len(chunk)
        for column, entry in self.profile["columns"].items():
            if column not in chunk.columns:
                self.absent.add(column)
                continue
            series = chunk[column]
            if entry["kind"] == "categorical":
                names = list(entry["shares"])
                position = {name: i for i, name in enumerate(names)}
                other = position[OTHER]
                missing = series.isna().to_numpy()
                codes = _categories(series[~missing], entry.get("codes") is True) \
                    .map(position).fillna(other).astype(int)
                counts = np.bincount(codes.to_numpy(), minlength=len(names)).astype(float)
                self.counts[column] += np.r_[counts, missing.sum()]
            else:
                self.counts[column] += _bin_counts(_numbers(series, entry["kind"]),
                                                   entry["edges"])

    def state(self) -> dict[str, Any]:
        """What was counted, as plain data: accumulators of the same profile on other
        processes (Spark workers) send it to be combined with :meth:`add`."""
        return {"records": self.records, "absent": sorted(self.absent),
                "counts": {column: counts.tolist() for column, counts in self.counts.items()}}

    def add(self, state: dict[str, Any]) -> None:
        """Add the counts of another accumulator of the same profile (its :meth:`state`)."""
        self.records += int(state["records"])
        self.absent.update(state["absent"])
        for column, counts in state["counts"].items():
            self.counts[column] += np.asarray(counts, dtype=float)

    def result(self, threshold: float = 0.2) -> dict[str, Any]:
        """PSI and approximate KS per column; a warning for each column above ``threshold``
        and above what sampling alone could give with this many records (:func:`chance_psi`,
        at 1% for all the columns together); a column above the threshold only by chance is
        ``too_few_records``, with a note."""
        columns: dict[str, Any] = {}
        warnings: list[str] = []
        notes: list[str] = []
        n = max(self.records, 1)
        # one chance test per column compared: at 1% for them all together (Bonferroni), so
        # records drawn from the training data are called drifted in no more than 1 batch in
        # 100, however many columns the model reads
        compared = sum(c not in self.absent for c in self.profile["columns"])
        level = 1 - CHANCE / max(compared, 1)
        for column, entry in self.profile["columns"].items():
            if column in self.absent:
                columns[column] = {"status": "absent", "psi": None, "ks": None}
                warnings.append(f"column {column!r} of the training data is absent from the "
                                "new records")
                continue
            shares = list(entry["shares"].values()) if entry["kind"] == "categorical" \
                else entry["shares"]
            expected = np.r_[shares, entry["missing"]]
            actual = self.counts[column] / n
            value = psi(expected, actual)
            ks = None
            if entry["kind"] != "categorical":
                # KS distance approximated on the bin edges (exact at the edges)
                exp_cdf = np.cumsum(expected[:-1]) / max(expected[:-1].sum(), EPSILON)
                act_cdf = np.cumsum(actual[:-1]) / max(actual[:-1].sum(), EPSILON)
                ks = float(np.max(np.abs(exp_cdf - act_cdf))) if exp_cdf.size else 0.0
            chance = None  # simulated only where it decides: above the threshold
            status = "ok"
            if self.records > 0 and value > threshold:
                chance = chance_psi(expected, self.records, level)
                status = "drift" if value > chance else "too_few_records"
            values_psi = None if not expected[:-1].sum() or not actual[:-1].sum() else \
                psi(expected[:-1] / expected[:-1].sum(), actual[:-1] / actual[:-1].sum())
            columns[column] = {"kind": entry["kind"], "psi": value, "psi_values": values_psi,
                               "ks": ks, "missing_train": entry["missing"],
                               "missing_new": float(actual[-1]),
                               "psi_by_chance": chance, "status": status}
            if status == "drift":
                warnings.append(drift_warning(column, value, values_psi, threshold,
                                              entry["missing"], float(actual[-1])))
        unsure = [c for c, v in columns.items() if v["status"] == "too_few_records"]
        if unsure:
            notes.append(f"drift not judged for {', '.join(map(repr, unsure))}: over "
                         f"{self.records} record(s) their PSI is within what chance alone gives;"
                         " score more records at once to check drift")
        return {"records": self.records, "threshold": threshold, "columns": columns,
                "drifted": [c for c, v in columns.items() if v["status"] == "drift"],
                "warnings": warnings, "notes": notes}
