"""Imputation methods: fill blank cells of a numeric frame. Each works on one partition of
records (pandas in, pandas out) and keeps its fitted state in safe formats (skops arrays and
estimators, JSON scalars). The edit-rule checks and adjustments around them live in
:mod:`mlstat_editimpute.editing`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

POOL_ROWS = 50_000
"""Donors kept per variable for predictive mean matching."""


def _hash_pick(index: pd.Index, k: int, seed: int) -> np.ndarray:
    """A deterministic draw in 0..k-1 per record, from its index and the seed: the same record
    gets the same donor however the data are partitioned."""
    try:
        keys = np.asarray(index, dtype=np.int64)
    except (TypeError, ValueError):
        keys = pd.util.hash_array(np.asarray(index.astype(str), dtype=object)).astype(np.int64)
    mixed = (keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
             + np.uint64(seed * 7919 + 1)) >> np.uint64(17)
    return (mixed % np.uint64(max(k, 1))).astype(np.int64)


class Imputer:
    """Base: ``fit(clean, targets)``, ``impute(frame, blank)``; state split into arrays and
    estimators (skops) and plain values (JSON)."""

    method = "base"

    def __init__(self, variables: list[str], targets: list[str], seed: int = 0,
                 **options: Any) -> None:
        self.variables = list(variables)
        self.targets = list(targets)
        self.seed = seed
        self.options = options
        self.medians: dict[str, float] = {}

    def fit(self, X: pd.DataFrame) -> Imputer:
        self.medians = {v: float(X[v].median()) if X[v].notna().any() else 0.0
                        for v in self.variables}
        return self

    def impute(self, X: pd.DataFrame, blank: pd.DataFrame, rules: Any = None) -> pd.DataFrame:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        return {}

    def json_state(self) -> dict[str, Any]:
        return {"medians": self.medians}

    def restore(self, js: dict[str, Any], state: dict[str, Any]) -> None:
        self.medians = dict(js["medians"])


# --- model-based: gradient boosting / forest, chained, with or without PMM -------------------


class ChainedImputer(Imputer):
    """Each target predicted from the other variables and their missingness indicators, in
    turn, ``iterations`` times; without ``pmm`` the value is the prediction itself (lowest
    point error, narrow distribution).

    With ``pmm`` (predictive mean matching) every recipient first draws the observed value of
    one of its ``donors`` nearest donors in predicted space (seeded by the record's index).
    With ``rank_match`` the drawn values of a partition's recipients are then handed out again
    in the order of their predictions (the highest prediction gets the highest drawn value):
    the imputed values keep the drawn (conditional) distribution but follow the predictions,
    so the point error stays close to the model's. ``spread`` (0..1) moves each value from the
    prediction (0) to the matched draw (1): it trades point error for distribution.
    Imputed values are rounded to the precision the variable is recorded at."""

    method = "gbm"

    def __init__(self, variables: list[str], targets: list[str], seed: int = 0,
                 learner: str = "gbm", max_iter: int = 150, iterations: int = 1,
                 pmm: bool = False, donors: int = 10, max_rows: int = 200_000,
                 spread: float = 0.5, rank_match: bool = True) -> None:
        super().__init__(variables, targets, seed)
        self.learner, self.max_iter, self.iterations = learner, max_iter, iterations
        self.pmm, self.donors, self.max_rows = pmm, donors, max_rows
        self.spread, self.rank_match = spread, rank_match
        self.method = "pmm" if pmm else learner
        self.models: dict[str, Any] = {}
        self.pools: dict[str, np.ndarray] = {}
        self.steps: dict[str, float] = {}

    def _estimator(self) -> Any:
        if self.learner == "forest":
            from sklearn.ensemble import RandomForestRegressor

            return RandomForestRegressor(n_estimators=min(self.max_iter, 200),
                                         min_samples_leaf=3, max_features=0.6,
                                         random_state=self.seed, n_jobs=1)
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(max_iter=self.max_iter, learning_rate=0.05,
                                             max_depth=3, min_samples_leaf=30,
                                             random_state=self.seed)

    def _features(self, X: pd.DataFrame, v: str, missing: np.ndarray) -> np.ndarray:
        """The other variables (gradient boosting splits on NaN itself; the forest gets
        medians) and whether each was missing: under MAR a missing value is itself a signal."""
        others = [c for c in self.variables if c != v]
        M = X[others].to_numpy(float)
        if self.learner == "forest":
            meds = np.array([self.medians[c] for c in others])
            M = np.where(np.isnan(M), meds, M)
        keep = [i for i, c in enumerate(self.variables) if c != v]
        return np.column_stack([M, missing[:, keep].astype(float)])

    def fit(self, X: pd.DataFrame) -> ChainedImputer:
        super().fit(X)
        self.steps = {v: recorded_step(X[v].to_numpy(float)) for v in self.targets}
        rng = np.random.default_rng(self.seed)
        if len(X) > self.max_rows:
            X = X.iloc[np.sort(rng.choice(len(X), self.max_rows, replace=False))]
        missing = X[self.variables].isna().to_numpy()
        for v in self.targets:
            rows = X[v].notna().to_numpy()
            if rows.sum() < 5:
                continue
            model = self._estimator()
            feats = self._features(X, v, missing)
            y = X[v].to_numpy(float)
            train = feats[rows]
            train[:, np.isnan(train).all(axis=0)] = 0.0  # no value to split on: a constant
            model.fit(train, y[rows])
            self.models[v] = model
            if self.pmm:  # donors: a seeded sample of the observed records is plenty
                idx = np.flatnonzero(rows)
                if len(idx) > POOL_ROWS:
                    idx = np.sort(rng.choice(idx, POOL_ROWS, replace=False))
                pred = model.predict(feats[idx])
                order = np.argsort(pred, kind="stable")
                self.pools[v] = np.column_stack([pred[order], y[idx][order]])
        return self

    def _draw(self, v: str, pred: np.ndarray, index: pd.Index) -> np.ndarray:
        pool = self.pools[v]
        n = len(pool)
        k = min(self.donors, n)
        pos = np.searchsorted(pool[:, 0], pred)
        cand = np.clip(pos[:, None] + np.arange(-k, k)[None, :], 0, n - 1)
        dist = np.abs(pool[cand, 0] - pred[:, None])
        dup = np.zeros_like(dist, dtype=bool)
        dup[:, 1:] = cand[:, 1:] == cand[:, :-1]
        dist[dup] = np.inf
        order = np.argsort(dist, axis=1, kind="stable")[:, :k]
        rows = np.arange(len(pred))
        chosen = cand[rows, order[rows, _hash_pick(index, k, self.seed)]]
        return pool[chosen, 1]

    def _match(self, v: str, pred: np.ndarray, index: pd.Index) -> np.ndarray:
        """Predictive mean matching: drawn donor values, rank-matched to the predictions and
        moved ``spread`` of the way from the prediction."""
        drawn = self._draw(v, pred, index)
        if self.rank_match and len(drawn) > 1:
            # ties in the prediction are broken by the draw, so equal records stay in order
            order = np.lexsort((drawn, pred))
            matched = np.empty_like(drawn)
            matched[order] = np.sort(drawn)
            drawn = matched
        return pred + self.spread * (drawn - pred)

    def impute(self, X: pd.DataFrame, blank: pd.DataFrame, rules: Any = None) -> pd.DataFrame:
        out = X.copy()
        missing = blank[self.variables].to_numpy(bool) | X[self.variables].isna().to_numpy()
        todo = [v for v in self.targets if blank[v].any()]
        for it in range(self.iterations):
            for v in todo:
                rows = blank[v].to_numpy()
                model = self.models.get(v)
                if model is None:
                    out.loc[rows, v] = self.medians[v]
                    continue
                feats = self._features(out.loc[rows], v, missing[rows])
                pred = model.predict(feats)
                last = it == self.iterations - 1
                value = self._match(v, pred, out.index[rows]) if (self.pmm and last) else pred
                if last:
                    value = round_to_step(value, self.steps.get(v, 0.0))
                out.loc[rows, v] = value
        return out

    def state(self) -> dict[str, Any]:
        return {"models": self.models, "pools": self.pools}

    def json_state(self) -> dict[str, Any]:
        return {**super().json_state(), "fitted": list(self.models), "steps": self.steps}

    def restore(self, js: dict[str, Any], state: dict[str, Any]) -> None:
        super().restore(js, state)
        self.models = dict(state["models"])
        self.pools = dict(state["pools"])
        self.steps = {k: float(x) for k, x in js.get("steps", {}).items()}


def recorded_step(values: np.ndarray) -> float:
    """The precision a variable is recorded at (1000, 100, 10, 1, 0.1, ... 1e-6), 0 when it
    is not on such a grid: imputed values are rounded to it, so that they look like reported
    ones (a continuous imputation among values rounded to tens distorts the distribution)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0
    sample = finite[:: max(1, finite.size // 20_000)]
    for step in (1000.0, 100.0, 10.0, 1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-5, 1e-6):
        scaled = sample / step
        if np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-6):
            return step
    return 0.0


def round_to_step(values: np.ndarray, step: float) -> np.ndarray:
    """``values`` on the grid of ``step`` (unchanged for step 0)."""
    return snap(values, step) if step else values


def snap(values: np.ndarray, step: Any) -> np.ndarray:
    """``values`` to the nearest multiple of ``step`` (a number, or one per column, none 0),
    cleared of the float noise of the product."""
    return np.round(np.round(values / step) * step, 10)


# --- baselines -----------------------------------------------------------------------------


class RatioImputer(Imputer):
    """``v = R * aux`` with ``R = sum(v) / sum(aux)`` over clean records; the auxiliary is the
    most correlated variable unless given."""

    method = "ratio"

    def __init__(self, variables: list[str], targets: list[str], seed: int = 0,
                 auxiliary: dict[str, str] | None = None) -> None:
        super().__init__(variables, targets, seed)
        self.auxiliary = dict(auxiliary or {})
        self.ratios: dict[str, float] = {}

    def fit(self, X: pd.DataFrame) -> RatioImputer:
        super().fit(X)
        corr = X[self.variables].corr(method="spearman")
        for v in self.targets:
            aux = self.auxiliary.get(v)
            if not aux:
                others = corr[v].drop(v).abs().dropna()
                aux = str(others.idxmax()) if len(others) else None
            if not aux:
                continue
            both = X[v].notna() & X[aux].notna()
            denominator = float(X.loc[both, aux].sum())
            if both.sum() and denominator:
                self.auxiliary[v] = aux
                self.ratios[v] = float(X.loc[both, v].sum()) / denominator
        return self

    def impute(self, X: pd.DataFrame, blank: pd.DataFrame, rules: Any = None) -> pd.DataFrame:
        out = X.copy()
        for v in self.targets:
            rows = blank[v].to_numpy()
            if not rows.any():
                continue
            aux = self.auxiliary.get(v)
            value = np.full(rows.sum(), self.medians[v])
            if aux in self.ratios or v in self.ratios:
                a = out.loc[rows, aux].to_numpy(float)
                value = np.where(np.isnan(a), value, self.ratios[v] * a)
            out.loc[rows, v] = value
        return out

    def json_state(self) -> dict[str, Any]:
        return {**super().json_state(), "auxiliary": self.auxiliary, "ratios": self.ratios}

    def restore(self, js: dict[str, Any], state: dict[str, Any]) -> None:
        super().restore(js, state)
        self.auxiliary, self.ratios = dict(js["auxiliary"]), dict(js["ratios"])


class RegressionImputer(Imputer):
    """Least-squares regression of each variable on the others (missing predictors filled with
    medians); coefficients kept as JSON."""

    method = "regression"

    def __init__(self, variables: list[str], targets: list[str], seed: int = 0) -> None:
        super().__init__(variables, targets, seed)
        self.coefs: dict[str, list[float]] = {}

    def _design(self, X: pd.DataFrame, v: str) -> np.ndarray:
        others = [c for c in self.variables if c != v]
        M = X[others].to_numpy(float)
        meds = np.array([self.medians[c] for c in others])
        M = np.where(np.isnan(M), meds, M)
        return np.column_stack([np.ones(len(M)), M])

    def fit(self, X: pd.DataFrame) -> RegressionImputer:
        super().fit(X)
        for v in self.targets:
            rows = X[v].notna().to_numpy()
            if rows.sum() < len(self.variables) + 2:
                continue
            D = self._design(X.loc[rows], v)
            beta, *_ = np.linalg.lstsq(D, X.loc[rows, v].to_numpy(float), rcond=None)
            self.coefs[v] = [float(b) for b in beta]
        return self

    def impute(self, X: pd.DataFrame, blank: pd.DataFrame, rules: Any = None) -> pd.DataFrame:
        out = X.copy()
        for v in self.targets:
            rows = blank[v].to_numpy()
            if not rows.any():
                continue
            if v not in self.coefs:
                out.loc[rows, v] = self.medians[v]
                continue
            out.loc[rows, v] = self._design(out.loc[rows], v) @ np.asarray(self.coefs[v])
        return out

    def json_state(self) -> dict[str, Any]:
        return {**super().json_state(), "coefs": self.coefs}

    def restore(self, js: dict[str, Any], state: dict[str, Any]) -> None:
        super().restore(js, state)
        self.coefs = {k: list(v) for k, v in js["coefs"].items()}


class DonorImputer(Imputer):
    """Nearest-neighbour donor imputation (as Banff's DonorImp): donors are complete clean
    records that pass every edit; a recipient takes all its blank values from the nearest
    donor (rank-transformed matching variables) whose values let it pass the edits, trying the
    ``candidates`` nearest in turn."""

    method = "donor"

    def __init__(self, variables: list[str], targets: list[str], seed: int = 0,
                 candidates: int = 10, match_variables: list[str] | None = None,
                 max_rows: int = 200_000) -> None:
        super().__init__(variables, targets, seed)
        self.candidates = candidates
        self.match_variables = list(match_variables or [])
        self.max_rows = max_rows
        self.pool = np.zeros((0, len(variables)))
        self.sorted_pool = np.zeros((0, len(variables)))

    def fit(self, X: pd.DataFrame, passes: np.ndarray | None = None) -> DonorImputer:
        super().fit(X)
        complete = X[self.variables].notna().all(axis=1).to_numpy()
        if passes is not None:
            complete = complete & passes
        pool = X.loc[complete, self.variables].to_numpy(float)
        if len(pool) > self.max_rows:
            rng = np.random.default_rng(self.seed)
            pool = pool[np.sort(rng.choice(len(pool), self.max_rows, replace=False))]
        self.pool = pool
        self.sorted_pool = np.sort(pool, axis=0)
        return self

    def _ranks(self, M: np.ndarray, cols: list[int]) -> np.ndarray:
        out = np.empty((len(M), len(cols)))
        n = max(len(self.sorted_pool), 1)
        for i, c in enumerate(cols):
            out[:, i] = np.searchsorted(self.sorted_pool[:, c], M[:, c]) / n
        return out

    def impute(self, X: pd.DataFrame, blank: pd.DataFrame, rules: Any = None) -> pd.DataFrame:
        from sklearn.neighbors import NearestNeighbors

        out = X.copy()
        if len(self.pool) == 0:
            for v in self.targets:
                out.loc[blank[v].to_numpy(), v] = self.medians[v]
            return out
        tcols = [self.variables.index(v) for v in self.targets]
        B = blank[self.variables].to_numpy(bool, copy=True)
        B[:, [i for i, v in enumerate(self.variables) if v not in self.targets]] = False
        needs = B.any(axis=1)
        values = out[self.variables].to_numpy(float, copy=True)
        allowed = {self.variables.index(v) for v in (self.match_variables or self.variables)}
        patterns: dict[bytes, list[int]] = {}
        for r in np.flatnonzero(needs):
            patterns.setdefault(B[r].tobytes(), []).append(r)
        for key, rows_list in patterns.items():
            rows = np.asarray(rows_list)
            pattern = np.frombuffer(key, dtype=bool)
            observed = ~np.isnan(values[rows]).any(axis=0) & ~pattern
            match = [c for c in range(len(self.variables)) if observed[c] and c in allowed]
            k = min(self.candidates, len(self.pool))
            if match:
                nn = NearestNeighbors(n_neighbors=k).fit(self._ranks(self.pool, match))
                _, idx = nn.kneighbors(self._ranks(values[rows], match))
            else:
                idx = np.tile(np.arange(k), (len(rows), 1))
            chosen = idx[:, 0].copy()
            if rules is not None and len(rules):
                done = np.zeros(len(rows), dtype=bool)
                for c in range(k):
                    trial = values[rows].copy()
                    trial[:, pattern] = self.pool[idx[:, c]][:, pattern]
                    env = {v: trial[:, i] for i, v in enumerate(self.variables)}
                    ok, _ = rules.evaluate(env, len(rows))
                    good = ok.all(axis=1) & ~done
                    chosen[good] = idx[good, c]
                    done |= good
                    if done.all():
                        break
            filled = values[rows]
            filled[:, pattern] = self.pool[chosen][:, pattern]
            values[rows] = filled
        for j in tcols:
            v = self.variables[j]
            rows = B[:, j]
            out.loc[rows, v] = values[rows, j]
        return out

    def state(self) -> dict[str, Any]:
        return {"pool": self.pool}

    def json_state(self) -> dict[str, Any]:
        return {**super().json_state(), "match_variables": self.match_variables}

    def restore(self, js: dict[str, Any], state: dict[str, Any]) -> None:
        super().restore(js, state)
        self.pool = np.asarray(state["pool"], dtype=float)
        self.sorted_pool = np.sort(self.pool, axis=0)
