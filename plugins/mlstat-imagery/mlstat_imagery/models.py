"""The per-pixel random forest: bands, spectral indices and (optionally) their neighbourhood
means in, built-up probability out; an optional decision threshold on P(built-up) chosen on
held-out spatial blocks; maps the whole scene tile by tile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.components import Dataset
from mlstat_core.errors import DataError
from mlstat_core.sklearn_model import SklearnModel, proba_column
from mlstat_imagery.features import context_margin, context_names, context_stack
from mlstat_imagery.mapping import SceneMapper
from mlstat_imagery.params import ContextForestParams, ImageryForestParams
from mlstat_imagery.scene import SceneInfo, gather_by_tile, pixel_positions, read_window
from mlstat_imagery.splitters import block_ids
from mlstat_imagery.validation import best_threshold


class PixelForestModel(SceneMapper, SklearnModel):
    """scikit-learn's RandomForestClassifier on the feature columns the loader named, plus
    the neighbourhood means of ``context_windows`` read from the scene."""

    params_type = ImageryForestParams
    trusted_types = (*SklearnModel.trusted_types, "sklearn.tree._tree.Tree")

    def __init__(self, params: ImageryForestParams | None = None, task: str = "") -> None:
        super().__init__(params, task)
        self.map_tile_size = self.params.tile_size

    def build_estimator(self, train: Dataset) -> Any:
        return self._forest(self.params.n_estimators)

    def _forest(self, n_estimators: int) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        p: ImageryForestParams = self.params
        return RandomForestClassifier(
            n_estimators=n_estimators, max_depth=p.max_depth,
            min_samples_leaf=p.min_samples_leaf, class_weight=p.class_weight, n_jobs=p.n_jobs,
            random_state=self.seed)

    # -- fitting ----------------------------------------------------------------------------

    def fit(self, train: Dataset, validation: Dataset | None = None) -> PixelForestModel:
        if train.y.nunique() < 2:
            raise DataError(f"the training pixels hold one class only ({train.y.iloc[0]!r}); "
                            "a classifier needs two")
        windows = list(self.params.context_windows)
        features = train.metadata.get("features")
        if windows and (not features or "scene" not in train.metadata
                        or "row" not in train.frame.columns):
            raise DataError("context_windows need an imagery loader (scene metadata and "
                            "row/col columns)")
        self.extra_state = {}
        if features:
            base = list(train.roles.features)
            self.extra_state = {
                "features": features, "scene": train.metadata.get("scene"),
                "context_windows": windows,
                "columns": base + context_names(base, windows)}
        super().fit(train, validation)
        return self

    def after_fit(self, train: Dataset, validation: Dataset | None) -> None:
        """Choose the decision threshold on P(built-up) (binary maps only)."""
        p: ImageryForestParams = self.params
        self.extra_state["threshold"] = None
        classes = list(self.classes_ or [])
        positive = train.metadata.get("positive_label")
        if p.threshold == "argmax" or len(classes) != 2 or positive not in classes:
            return
        k = classes.index(positive)
        if isinstance(p.threshold, float):
            self.extra_state["threshold"] = {"value": float(p.threshold), "positive": positive,
                                             "method": "fixed"}
            return
        if p.threshold == "validation":
            if validation is None or len(validation) == 0 \
                    or validation.y.nunique() < 2:
                raise DataError("threshold = 'validation' needs validation blocks holding both "
                                "classes; set validation_size in [split] or use 'cv'")
            proba = self.estimator.predict_proba(self.to_matrix(validation.frame))[:, k]
            truth = (validation.y == positive).to_numpy()
            value, kappa = best_threshold(proba, truth)
            self.extra_state["threshold"] = {
                "value": value, "positive": positive, "method": "validation blocks",
                "kappa": kappa, "pixels": int(len(truth))}
            return
        frames = [train.frame] if validation is None else [train.frame, validation.frame]
        pool = pd.concat(frames)
        truth = (pool[train.roles.target] == positive).to_numpy()
        matrix = self.to_matrix(pool)
        groups = block_ids(pool["row"].to_numpy(), pool["col"].to_numpy(), p.cv_block_size) \
            if "row" in pool.columns else np.arange(len(pool))
        value, kappa, folds = self._cv_threshold(matrix, truth, groups)
        self.extra_state["threshold"] = {
            "value": value, "positive": positive,
            "method": f"{folds}-fold spatial-block cross-validation ({p.cv_block_size}-pixel "
                      "blocks) of the train and validation pixels",
            "kappa": kappa, "pixels": int(len(truth))}

    def _cv_threshold(self, matrix: np.ndarray, truth: np.ndarray,
                      groups: np.ndarray) -> tuple[float, float, int]:
        from sklearn.model_selection import GroupKFold

        folds = min(self.params.cv_folds, len(np.unique(groups)))
        if folds < 2:
            raise DataError("the labelled pixels fall in one block: the 'cv' threshold needs "
                            "two; use a smaller cv_block_size")
        out = np.full(len(truth), np.nan)
        for fit_idx, held in GroupKFold(folds).split(matrix, truth, groups):
            if truth[fit_idx].all() or not truth[fit_idx].any():
                continue
            forest = self._forest(min(100, self.params.n_estimators))
            forest.fit(matrix[fit_idx], truth[fit_idx])
            out[held] = forest.predict_proba(matrix[held])[:, list(forest.classes_).index(True)]
        seen = ~np.isnan(out)
        value, kappa = best_threshold(out[seen], truth[seen])
        return value, kappa, folds

    # -- features ---------------------------------------------------------------------------

    def to_matrix(self, frame: pd.DataFrame) -> Any:
        assert self.roles is not None
        base = frame[self.roles.features].to_numpy(dtype=np.float32)
        windows = self.extra_state.get("context_windows") or []
        if not windows:
            return base
        missing = [c for c in ("row", "col") if c not in frame.columns]
        if missing:
            raise DataError(f"the model uses neighbourhood features, read from the scene by "
                            f"pixel position: the records lack {missing}")
        rows, cols = pixel_positions(frame, SceneInfo.from_dict(self.extra_state["scene"]))
        return np.hstack([base, self._context_at(rows, cols)])

    def _stack(self, info: SceneInfo, row0: int, col0: int, height: int,
               width: int) -> np.ndarray:
        """All features of a window (features, height, width), NaN where nodata."""
        spec = self.extra_state.get("features")
        if not spec:
            raise DataError("the model was trained without a scene description; it cannot map")
        windows = self.extra_state.get("context_windows") or []
        m = context_margin(windows) if windows else 0
        bands = read_window(info, row0 - m, col0 - m, height + 2 * m, width + 2 * m)
        stack = context_stack(bands, spec["bands"], spec["band_roles"], spec["indices"],
                              windows)
        return stack[:, m:m + height, m:m + width]

    def _context_at(self, rows: np.ndarray, cols: np.ndarray, tile: int = 256) -> np.ndarray:
        info = SceneInfo.from_dict(self.extra_state["scene"])
        n_base = len(self.roles.features) if self.roles else 0
        n_all = len(self.extra_state["columns"])
        out = np.full((len(rows), n_all - n_base), np.nan, dtype=np.float32)
        return gather_by_tile(info, rows, cols, tile,
                              lambda r, c, h, w: self._stack(info, r, c, h, w)[n_base:], out)

    # -- prediction and map ---------------------------------------------------------------------

    def threshold(self) -> dict[str, Any] | None:
        return self.extra_state.get("threshold")

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = super().predict(frame)
        rule = self.threshold()
        if rule is None or not len(out):
            return out
        positive = rule["positive"]
        other = next(c for c in (self.classes_ or []) if c != positive)
        proba = out[proba_column(positive)].to_numpy()
        chosen = proba >= rule["value"]
        out["prediction"] = np.where(chosen, positive, other).astype(object)
        out["confidence"] = np.where(chosen, proba, 1.0 - proba)
        return out

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class index of each pixel from probabilities (classes, ...): the threshold rule on
        P(built-up) when one was chosen, else the most probable class."""
        rule = self.threshold()
        if rule is None:
            return super().decide(proba)
        classes = list(self.classes_ or [])
        k = classes.index(rule["positive"])
        return np.where(proba[k] >= rule["value"], k, 1 - k)

    def scene_probabilities(self, info: SceneInfo, row0: int, col0: int, height: int,
                            width: int) -> np.ndarray:
        stack = self._stack(info, row0, col0, height, width)
        pixels = stack.reshape(stack.shape[0], -1).T
        valid = ~np.isnan(pixels).any(axis=1)
        out = np.full((pixels.shape[0], len(self.classes_ or [])), np.nan, dtype=np.float32)
        if valid.any():
            out[valid] = self.estimator.predict_proba(pixels[valid])
        return out.T.reshape(-1, height, width)

    def write_outputs(self, directory: Path, predictions: pd.DataFrame,
                      test: Dataset) -> list[Path]:
        return self.write_scene_outputs(directory, test)

    def global_explanation(self) -> dict[str, Any] | None:
        if self.estimator is None or self.roles is None:
            return None
        names = self.extra_state.get("columns") or list(self.roles.features)
        weights = self.estimator.feature_importances_
        out: dict[str, Any] = {"kind": "impurity_importance",
                               "features": {f: float(w) for f, w in zip(names, weights,
                                                                        strict=True)}}
        if self.threshold():
            out["threshold"] = self.threshold()
        return out


class ContextForestModel(PixelForestModel):
    """The forest with neighbourhood means (3x3 by default) and a decision threshold chosen by
    spatial-block cross-validation of the labelled pixels."""

    params_type = ContextForestParams

    def __init__(self, params: ContextForestParams | None = None, task: str = "") -> None:
        super().__init__(params if params is not None else ContextForestParams(), task)
