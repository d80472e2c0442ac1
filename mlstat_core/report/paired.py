"""Paired comparisons of two runs scored on the same test records (``mlstat compare``).

Two models tested on the same records make their errors on the same records, so the
difference between their figures is known much more precisely than each figure on its own:
two intervals can overlap while one model is better beyond chance. Each run's
``predictions.parquet`` gives every record's true and predicted class, so the difference
is tested record by record:

- accuracy by the exact McNemar test: of the records that only one of the two runs got
  right, would a fair coin give as many to the better run (``scipy.stats.binomtest``)?
- macro and weighted F1, Cohen's kappa and MCC by a paired bootstrap: records drawn with
  replacement, both runs' figures computed on the same draws, and the percentile interval
  of the difference (seeded, so a comparison repeats exactly).

A pair is tested only when both runs hold predictions of the same records with the same
true classes, and the predictions give back the figures of each run's report; otherwise
``mlstat compare`` falls back to the figures' intervals.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.quality import stats
from mlstat_core.quality.accuracy import NO_PREDICTION, coded, label_strings

PAIRED_INDICATOR = "core.classification_accuracy"
"""The indicator whose figures can be recomputed from ``predictions.parquet``."""
MCNEMAR = "exact McNemar test"
BOOTSTRAP = "paired bootstrap"
REPETITIONS = 2000
"""Bootstrap draws of a paired comparison."""
SEED = 0
"""Seed of the paired bootstrap: the same runs compare alike every time."""
MAX_CELLS = 4_000_000
"""Most numbers a batch of bootstrap draws holds (draws x combinations of classes)."""
TOLERANCE = 1e-9
"""How far a figure recomputed from the predictions may lie from the report's."""
COLUMNS = ("record_id", "true", "prediction")
"""The columns of ``predictions.parquet`` a paired comparison reads."""


def labelled_predictions(run_dir: Path, by_row: bool = False) -> pd.DataFrame | str:
    """A run's test records as text labels indexed by record id, or by row with ``by_row``
    (``true``, ``prediction``; a record left without a prediction is ``NO_PREDICTION``, an
    error, as the indicator counts it), or why the run cannot be paired. An evaluation scores
    every row of its file in order, and its records are the file's rows (its test records'
    fingerprint is by row), whether or not the run's loader named an id column."""
    from mlstat_core.artifacts import PREDICTIONS, RunFolder, read_predictions

    folder = RunFolder.open(run_dir)
    if not (folder.path / PREDICTIONS).is_file():
        return f"{folder.path.name} has no {PREDICTIONS}"
    frame = read_predictions(run_dir, columns=list(COLUMNS))  # checked against the manifest
    if not set(COLUMNS) <= set(frame.columns):
        return f"the {PREDICTIONS} of {folder.path.name} has no true and predicted classes"
    if not by_row and frame["record_id"].duplicated().any():
        return f"the {PREDICTIONS} of {folder.path.name} names a record twice"
    true = label_strings(frame["true"].reset_index(drop=True))
    known = true.notna().to_numpy()
    predicted = label_strings(frame["prediction"].reset_index(drop=True)).fillna(NO_PREDICTION)
    names = pd.Series(np.arange(len(frame))) if by_row else frame["record_id"]
    index = record_index(names)[known]
    return pd.DataFrame({"true": true[known].to_numpy(), "prediction":
                         predicted[known].to_numpy()}, index=index)


def record_index(ids: pd.Series) -> pd.Index:
    """Record ids as text, written as labels are (:func:`~mlstat_core.quality.accuracy.
    label_strings`): the id 1 of one run and 1.0 of another (an id column with a gap, read
    as floats) name the same record."""
    return pd.Index(label_strings(ids.reset_index(drop=True)).to_numpy(), name="record_id")


def other_records(first: pd.DataFrame, second: pd.DataFrame) -> str | None:
    """Why two runs' labelled predictions (:func:`labelled_predictions`) are not of the
    same test records, or None when they are."""
    if len(first) != len(second) or not first.index.sort_values().equals(
            second.index.sort_values()):
        return "their predictions are not of the same records"
    if not first["true"].equals(second["true"].reindex(first.index)):
        return "their predictions give other true classes for the same records"
    return None


class Pair:
    """Two runs' predictions of the same test records, coded as integers for counting as
    the indicator codes them (:func:`~mlstat_core.quality.accuracy.coded`)."""

    def __init__(self, first: pd.DataFrame, second: pd.DataFrame) -> None:
        second = second.reindex(first.index)
        codes = coded(first["true"], first["prediction"], second["prediction"])
        self.k = len(codes.labels)
        self.true = codes.true
        self.predicted = codes.predicted
        self.unscored = codes.unscored
        self.records = len(self.true)
        self._draws: dict[str, Any] = {}  # the bootstrap, shared with the swapped pair
        self._swapped = False

    def swapped(self) -> Pair:
        """The same pair, second run first; their bootstrap is drawn once, for whichever
        order asks first, and the other order's differences are its negation."""
        other = copy.copy(self)  # shallow: the two share their draws
        other.predicted = self.predicted[::-1]
        other._swapped = not self._swapped
        return other

    @classmethod
    def of(cls, first: pd.DataFrame | str, second: pd.DataFrame | str) -> Pair | str:
        """The pair, or why the two runs' records cannot be paired."""
        for side in (first, second):
            if isinstance(side, str):
                return side
        assert isinstance(first, pd.DataFrame) and isinstance(second, pd.DataFrame)
        other = other_records(first, second)
        if other:
            return other
        if not len(first):
            return "no test record has a known true class"
        return cls(first, second)

    def figures(self, side: int) -> dict[str, float]:
        """The indicator's confusion figures of one run (0 or 1) on these records."""
        matrix = stats.confusion(self.true, self.predicted[side], self.k)
        return {name: float(v) for name, v in
                stats.confusion_metrics(matrix, self.unscored).items()}

    def mcnemar(self) -> dict[str, Any]:
        """Exact McNemar test of accuracy: records only the first run got right against
        records only the second got right; equal counts are a p-value of 1."""
        from scipy.stats import binomtest

        right = [p == self.true for p in self.predicted]
        first_only = int((right[0] & ~right[1]).sum())
        second_only = int((right[1] & ~right[0]).sum())
        discordant = first_only + second_only
        p = 1.0 if not discordant else float(binomtest(first_only, discordant, 0.5).pvalue)
        return {"p_value": p, "only_first_right": first_only,
                "only_second_right": second_only}

    def bootstrap(self) -> dict[str, np.ndarray]:
        """First minus second run, per confusion figure, over :data:`REPETITIONS` paired
        draws of the records. Drawing records with replacement is drawing the counts of each
        (true, first, second) combination from a multinomial, so the cost does not grow
        with the number of records."""
        if self._draws:
            sign = 1 if self._draws["swapped"] == self._swapped else -1
            return {name: sign * v for name, v in self._draws["differences"].items()}
        from scipy.sparse import csr_matrix

        k = self.k
        joint = (self.true * k + self.predicted[0]) * k + self.predicted[1]
        cells, counts = np.unique(joint, return_counts=True)
        true, first, second = cells // (k * k), cells // k % k, cells % k

        def per_class(classes: np.ndarray, where: np.ndarray | None = None) -> csr_matrix:
            """Which class's count each combination adds to (nothing where not ``where``)."""
            ones = np.ones(len(cells)) if where is None else where.astype(float)
            return csr_matrix((ones, (np.arange(len(cells)), classes)), shape=(len(cells), k))

        # what the figures need of each run's confusion matrix: per class the records
        # right, of that true class, and predicted as it
        sums = [(per_class(true, true == mine), per_class(true), per_class(mine))
                for mine in (first, second)]
        rng = np.random.default_rng(SEED)
        batch = max(1, MAX_CELLS // max(k, len(cells)))
        found: dict[str, list[np.ndarray]] = {name: [] for name in stats.CONFUSION_METRICS}
        for start in range(0, REPETITIONS, batch):
            draws = rng.multinomial(self.records, counts / self.records,
                                    size=min(batch, REPETITIONS - start)).astype(float)
            metrics = [stats.class_sum_metrics(*[np.asarray((m.T @ draws.T).T) for m in run],
                                               self.unscored) for run in sums]
            for name in found:
                found[name].append(metrics[0][name] - metrics[1][name])
        differences = {name: np.concatenate(v) for name, v in found.items()}
        self._draws.update(swapped=self._swapped, differences=differences)
        return differences


def paired_test(pair: Pair, figure: str, level: float) -> dict[str, Any]:
    """How the first run of ``pair`` (the leader) compares with the second (the other) on
    ``figure`` (a confusion figure: higher is better): the method, the difference (positive:
    the leader is better) and whether the leader is better beyond chance at ``level`` (a
    two-sided test)."""
    difference = pair.figures(0)[figure] - pair.figures(1)[figure]
    found: dict[str, Any] = {"method": MCNEMAR if figure == "accuracy" else BOOTSTRAP,
                             "records": pair.records, "difference": difference,
                             "level": level}
    if figure == "accuracy":
        test = pair.mcnemar()
        found.update(p_value=test["p_value"], leader_only_right=test["only_first_right"],
                     other_only_right=test["only_second_right"],
                     distinguishable=difference > 0 and test["p_value"] < 1 - level)
        return found
    low, high = stats.percentile_interval(pair.bootstrap()[figure], level) or (math.nan,
                                                                                math.nan)
    found.update(interval=[low, high], distinguishable=bool(low > 0))
    return found

