"""Suspicion scores: how far each value lies from what the record's other values predict.

Values are put on a log-like scale (``sign(x) * log1p(|x| / s)``, ``s`` the variable's median
absolute value), so a unit error (x10, x100, x1000) is a shift of about ln 10, 2 ln 10, 3 ln 10.
Each variable is predicted from the others by gradient boosting with absolute loss (robust to
the errors it looks for); a cell's score is its residual in robust standard deviations (MAD).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

MAD_FLOOR = 1e-3


def robust_scale(resid: np.ndarray) -> float:
    """A robust standard deviation of residuals: 1.4826 MAD, or the 90th percentile of their
    absolute values / 1.645 when that is larger. Both estimate sigma for normal residuals;
    the second keeps a discrete variable (number of children: most residuals exactly 0, so
    MAD 0) from scoring every small difference as extreme."""
    a = np.abs(resid[np.isfinite(resid)])
    if a.size == 0:
        return 1.0
    return max(1.4826 * float(np.median(a)), float(np.quantile(a, 0.9)) / 1.645, MAD_FLOOR)


def to_log(x: np.ndarray, scale: float) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x) / scale)


class Scorer:
    """Per-variable robust residual scores (fitted state: learners, scales and MADs)."""

    def __init__(self, variables: list[str], seed: int = 0, max_rows: int = 50_000,
                 max_iter: int = 60) -> None:
        self.variables = list(variables)
        self.seed = seed
        self.max_rows = max_rows
        self.max_iter = max_iter
        self.scales: dict[str, float] = {}
        self.mads: dict[str, float] = {}
        self.learners: dict[str, Any] = {}

    def _logs(self, X: pd.DataFrame) -> np.ndarray:
        return np.column_stack([to_log(X[v].to_numpy(float), self.scales[v])
                                for v in self.variables])

    def fit(self, X: pd.DataFrame) -> Scorer:
        from sklearn.ensemble import HistGradientBoostingRegressor

        rng = np.random.default_rng(self.seed)
        if len(X) > self.max_rows:
            X = X.iloc[np.sort(rng.choice(len(X), self.max_rows, replace=False))]
        for v in self.variables:
            a = np.abs(X[v].dropna().to_numpy(float))
            pos = a[a > 0]
            self.scales[v] = float(np.median(pos)) if pos.size else 1.0
        T = self._logs(X)
        # a column with no value in the sample cannot be binned by the learners: as a constant
        # it is never split on, so the learners ignore it, here and when predicting
        features = np.where(np.isnan(T).all(axis=0), 0.0, T)
        for j, v in enumerate(self.variables):
            rows = ~np.isnan(T[:, j])
            others = np.delete(features, j, axis=1)
            if others.shape[1] == 0 or rows.sum() < 20:
                self.learners[v] = None
                center = float(np.nanmedian(T[rows, j])) if rows.any() else 0.0
                self.mads[v] = robust_scale(T[rows, j] - center)
                self.scales[v + "__center"] = center
                continue
            model = HistGradientBoostingRegressor(loss="absolute_error", max_iter=self.max_iter,
                                                  max_leaf_nodes=15, random_state=self.seed)
            model.fit(others[rows], T[rows, j])
            resid = T[rows, j] - model.predict(others[rows])
            self.learners[v] = model
            self.mads[v] = robust_scale(resid)
        return self

    def expected(self, X: pd.DataFrame) -> np.ndarray:
        """Each cell's expected value on the log scale, given the record's other values."""
        T = self._logs(X)
        out = np.empty_like(T)
        for j, v in enumerate(self.variables):
            model = self.learners.get(v)
            if model is None:
                out[:, j] = self.scales.get(v + "__center", 0.0)
            elif len(T):
                out[:, j] = model.predict(np.delete(T, j, axis=1))
        return out

    def zscores(self, X: pd.DataFrame, expected: np.ndarray | None = None) -> np.ndarray:
        """Robust z-score of every cell (NaN where the value is missing)."""
        T = self._logs(X)
        E = self.expected(X) if expected is None else expected
        mads = np.array([self.mads[v] for v in self.variables])
        return np.abs(T - E) / mads

    def cell_z(self, values: np.ndarray, j: int, expected: np.ndarray) -> np.ndarray:
        v = self.variables[j]
        return np.abs(to_log(values, self.scales[v]) - expected) / self.mads[v]

    def state(self) -> dict[str, Any]:
        return {"learners": {v: m for v, m in self.learners.items() if m is not None}}

    def json_state(self) -> dict[str, Any]:
        return {"variables": self.variables, "seed": self.seed, "max_rows": self.max_rows,
                "max_iter": self.max_iter, "scales": self.scales, "mads": self.mads,
                "no_learner": [v for v, m in self.learners.items() if m is None]}

    @classmethod
    def restore(cls, js: dict[str, Any], state: dict[str, Any]) -> Scorer:
        s = cls(js["variables"], js["seed"], js["max_rows"], js["max_iter"])
        s.scales, s.mads = dict(js["scales"]), dict(js["mads"])
        s.learners = {v: state["learners"].get(v) for v in s.variables}
        for v in js.get("no_learner", []):
            s.learners[v] = None
        return s
