"""Feature augmentation by language ("frustratingly easy domain adaptation", Daumé III 2007).

Every feature of the base model's text features appears twice: once shared by all languages and
once in a block of the tweet's own language (scaled by ``scale``), zero in the other languages'
blocks. One linear model then learns shared weights (emoji, names, hashtags, cognates: what the
languages have in common) and per-language corrections, the regularisation deciding how far a
language departs from the shared weights. With ``scale`` 0 it is the plain shared model; a
large ``scale`` tends to one model per language.

:func:`augmented_class` derives, from a scikit-learn coding model class (``coding.tfidf_logreg``,
``coding.linear_svm``: a ``Pipeline`` with a ``features`` step), the same class whose features
step is wrapped in :class:`LanguageAugmented`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin, clone

from mlstat_core.errors import DataError

_CLASSES: dict[type, type] = {}


class LanguageAugmented(TransformerMixin, BaseEstimator):
    """``X -> [X, scale * X * 1(language = l) for each training language l]`` (sparse)."""

    def __init__(self, features: Any = None, column: str = "language", scale: float = 1.0
                 ) -> None:
        self.features = features
        self.column = column
        self.scale = scale

    def fit(self, X: pd.DataFrame, y: Any = None) -> LanguageAugmented:
        self.features_ = clone(self.features).fit(X, y)
        self.languages_ = sorted({str(v) for v in X[self.column]})
        return self

    def transform(self, X: pd.DataFrame) -> Any:
        base = sparse.csr_matrix(self.features_.transform(X))
        lang = X[self.column].astype(str).to_numpy()
        blocks = [base]
        for code in self.languages_:
            mask = (lang == code).astype(base.dtype) * self.scale
            blocks.append(sparse.diags(mask).dot(base))
        return sparse.hstack(blocks, format="csr")

    @property
    def encoder(self) -> str | None:
        """The sentence encoder of the wrapped features, if any (explanations leave its
        dimensions out)."""
        return getattr(getattr(self, "features_", self.features), "encoder", None)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = np.asarray(self.features_.get_feature_names_out(), dtype=object)
        return np.concatenate([names, *[np.array([f"{code}:{n}" for n in names], dtype=object)
                                        for code in self.languages_]])


def augmented_class(base_class: type, column: str) -> type:
    """The coding model class ``base_class`` with its features augmented by ``column``."""
    if base_class in _CLASSES:
        return _CLASSES[base_class]
    if not hasattr(base_class, "build_estimator"):
        raise DataError(f"{base_class.__name__} is not a scikit-learn pipeline model; language "
                        "augmentation needs coding.tfidf_logreg or coding.linear_svm")

    def build_estimator(self: Any, train: Any) -> Any:
        estimator = base_class.build_estimator(self, train)
        steps = getattr(estimator, "named_steps", {})
        if "features" not in steps:
            raise DataError(f"{base_class.__name__} has no `features` step to augment")
        index = [name for name, _ in estimator.steps].index("features")
        estimator.steps[index] = ("features", LanguageAugmented(
            steps["features"], column, getattr(self, "language_scale", 1.0)))
        return estimator

    derived = type(f"LanguageAugmented{base_class.__name__}", (base_class,), {
        "__module__": __name__,
        "__doc__": f"{base_class.__name__} with features augmented by language.",
        "trusted_types": (*getattr(base_class, "trusted_types", ()),
                          f"{__name__}.LanguageAugmented"),
        "build_estimator": build_estimator,
    })
    _CLASSES[base_class] = derived
    return derived
