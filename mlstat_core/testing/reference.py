"""Reference models the indicator checks assess: small, seeded, one per sample task."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlstat_core.components import Dataset, Model
from mlstat_core.sklearn_model import SklearnModel


class ReferenceTextClassifier(SklearnModel):
    """Character n-gram TF-IDF and logistic regression on the text columns."""

    def build_estimator(self, train: Dataset) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        return Pipeline([
            ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2)),
            ("classify", LogisticRegression(max_iter=500)),
        ])

    def to_matrix(self, frame: pd.DataFrame) -> Any:
        assert self.roles is not None
        return frame[self.roles.text].astype(str).agg(" ".join, axis=1)


class ReferenceRegressor(SklearnModel):
    """Ridge regression on the numeric input columns."""

    def build_estimator(self, train: Dataset) -> Any:
        from sklearn.linear_model import Ridge

        return Ridge(alpha=1.0)


class ReferenceImputer(SklearnModel):
    """Fills missing numeric values with the training medians; predicts the completed records."""

    def build_estimator(self, train: Dataset) -> Any:
        from sklearn.impute import SimpleImputer

        return SimpleImputer(strategy="median")

    def fit(self, train: Dataset, validation: Dataset | None = None) -> ReferenceImputer:
        self.roles = train.roles
        self.estimator = self.build_estimator(train).fit(self.to_matrix(train.frame))
        return self

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        assert self.roles is not None
        columns = self.roles.input_columns()
        if not len(frame):
            return pd.DataFrame(columns=columns, index=frame.index, dtype=float)
        return pd.DataFrame(self.estimator.transform(frame[columns]), columns=columns,
                            index=frame.index)


def reference_model(task: str) -> Model:
    """An unfitted reference model for a sample task."""
    if task == "tabular_imputation":
        return ReferenceImputer(task=task)
    if task == "text_classification":
        return ReferenceTextClassifier(task=task)
    if task == "tabular_regression":
        return ReferenceRegressor(task=task)
    from mlstat_core.builtins.models import LogisticRegressionModel

    return LogisticRegressionModel(task=task)
