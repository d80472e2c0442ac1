"""A random forest regression of the built-up fraction that answers as a two-class classifier.

Okujeni et al. (2013) regress the built-up fraction of synthetic mixtures rather than
classify them: the fraction tells the forest how built-up a mixture is, where a label only
says on which side of a cut-off it falls. :class:`FractionForest` is scikit-learn's
``RandomForestRegressor`` fitted on fractions (a real built-up pixel 1, any other 0, a
mixture its built-up fraction) whose ``predict_proba`` gives ``[1 - f, f]`` in the order of
``classes_``, so the model's threshold, map and prediction code treat it as a classifier
whose P(built-up) is the estimated built-up fraction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestRegressor


class FractionForest(RandomForestRegressor):
    """``RandomForestRegressor`` of the positive class's fraction; ``labels`` is
    ``(negative, positive)``. The other parameters are scikit-learn's (``max_features``
    defaults to all features, its default for regression)."""

    def __init__(self, n_estimators: int = 100, *, labels: tuple[Any, Any] = (False, True),
                 max_depth: int | None = None, min_samples_leaf: int = 1,
                 max_features: float | str | None = 1.0, n_jobs: int | None = None,
                 random_state: int | None = None) -> None:
        super().__init__(n_estimators=n_estimators, max_depth=max_depth,
                         min_samples_leaf=min_samples_leaf, max_features=max_features,
                         n_jobs=n_jobs, random_state=random_state)
        self.labels = labels

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> FractionForest:
        """``y``: the positive class's fraction of each row, in [0, 1]."""
        fraction = np.asarray(y, dtype=np.float64)
        if fraction.size and (np.nanmin(fraction) < 0 or np.nanmax(fraction) > 1):
            raise ValueError("FractionForest needs fractions in [0, 1]")
        super().fit(X, fraction, sample_weight=sample_weight)
        self.classes_ = np.array(sorted(self.labels), dtype=object)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns in the order of ``classes_``: ``1 - f`` for the negative label, ``f``
        (the estimated fraction, clipped to [0, 1]) for the positive one."""
        fraction = np.clip(self.predict(X), 0.0, 1.0)
        columns = {self.labels[0]: 1.0 - fraction, self.labels[1]: fraction}
        return np.column_stack([columns[c] for c in self.classes_])
