"""The per-pixel random forest: bands and spectral indices in, built-up probability out; maps
the whole scene tile by tile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.components import Dataset
from mlstat_core.errors import DataError
from mlstat_core.sklearn_model import SklearnModel
from mlstat_imagery.features import feature_stack
from mlstat_imagery.mapping import SceneMapper
from mlstat_imagery.params import ImageryForestParams
from mlstat_imagery.scene import SceneInfo, read_window


class PixelForestModel(SceneMapper, SklearnModel):
    """scikit-learn's RandomForestClassifier on the feature columns the loader named."""

    params_type = ImageryForestParams
    trusted_types = (*SklearnModel.trusted_types, "sklearn.tree._tree.Tree")

    def __init__(self, params: ImageryForestParams | None = None, task: str = "") -> None:
        super().__init__(params, task)
        self.map_tile_size = self.params.tile_size

    def build_estimator(self, train: Dataset) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        p: ImageryForestParams = self.params
        return RandomForestClassifier(
            n_estimators=p.n_estimators, max_depth=p.max_depth,
            min_samples_leaf=p.min_samples_leaf, class_weight=p.class_weight, n_jobs=p.n_jobs,
            random_state=self.seed)

    def fit(self, train: Dataset, validation: Dataset | None = None) -> PixelForestModel:
        if train.y.nunique() < 2:
            raise DataError(f"the training pixels hold one class only ({train.y.iloc[0]!r}); "
                            "a classifier needs two")
        features = train.metadata.get("features")
        if features:
            self.extra_state = {"features": features, "scene": train.metadata.get("scene")}
        super().fit(train, validation)
        return self

    def to_matrix(self, frame: pd.DataFrame) -> Any:
        assert self.roles is not None
        return frame[self.roles.features].to_numpy(dtype=np.float32)

    def scene_probabilities(self, info: SceneInfo, row0: int, col0: int, height: int,
                            width: int) -> np.ndarray:
        spec = self.extra_state.get("features")
        if not spec:
            raise DataError("the model was trained without a scene description; it cannot map")
        stack = feature_stack(read_window(info, row0, col0, height, width), spec["bands"],
                              spec["band_roles"], spec["indices"])
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
        weights = self.estimator.feature_importances_
        return {"kind": "impurity_importance",
                "features": {f: float(w) for f, w in zip(self.roles.features, weights,
                                                         strict=True)}}
