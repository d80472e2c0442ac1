"""Built-in tabular classifiers and a regressor, so the core runs a pipeline end to end
without any plugin."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlstat_core.builtins.loaders import code_columns
from mlstat_core.builtins.params import (
    BoostingParams,
    ForestParams,
    ForestRegressorParams,
    LogisticParams,
)
from mlstat_core.components import Dataset
from mlstat_core.errors import DataError
from mlstat_core.io import first_record, plain, quoted, whole_code_text
from mlstat_core.sklearn_model import SklearnModel, require_numeric


def tabular_preprocessor(frame: pd.DataFrame, columns: list[str], scale: bool,
                         impute: bool = True) -> Any:
    """Numeric columns: median imputation (and scaling); other columns: one-hot encoding.

    Without ``impute`` the numeric columns keep their missing values (NaN) for a model that
    handles them itself, and the output is always dense (such models take no sparse input)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    categorical = [c for c in columns if c not in numeric]
    numeric_steps = ([SimpleImputer(strategy="median")] if impute else []) + \
        ([StandardScaler()] if scale else [])
    parts: list[tuple[str, Any, list[str]]] = []
    if numeric:
        parts.append(("numeric", make_pipeline(*numeric_steps) if numeric_steps
                      else "passthrough", numeric))
    if categorical:
        parts.append(("categorical", make_pipeline(
            SimpleImputer(strategy="most_frequent"),
            OneHotEncoder(handle_unknown="ignore", min_frequency=5)), categorical))
    if not parts:
        raise DataError("the model has no input columns; set the loader's `features`")
    return ColumnTransformer(parts, sparse_threshold=0.3 if impute else 0.0)


EPOCH = pd.Timestamp("1970-01-01")
"""Dates reach the models as days since this day (a time of day as a fraction of one)."""


def date_columns_of(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """The ``columns`` of ``frame`` that hold dates (datetime columns of an Excel or Parquet
    file): the models read them as numbers, see :func:`dates_as_days`."""
    return [c for c in columns if pd.api.types.is_datetime64_any_dtype(frame[c])]


def dates_as_days(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with the date ``columns`` as days since 1970-01-01 (missing dates missing):
    a number every model reads and saves, whether new records hold dates (Excel, Parquet) or
    dates written as text (CSV: ``1980-01-05``). A value that is not a date is a DataError."""
    out = frame
    for column in columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            continue
        dates = pd.to_datetime(series, errors="coerce", format="mixed")
        bad = dates.isna() & series.notna()
        if bad.any():
            raise DataError(
                f"column {column!r} held dates in training, but {int(bad.sum()):,} value(s) "
                f"are not dates (e.g. {quoted(series[bad].iloc[0])} at "
                f"{first_record(frame, bad, None, by_label=True)}); write them as dates "
                "(1980-01-31), or leave them empty (missing)")
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
        out = out.copy() if out is frame else out
        out[column] = (dates - EPOCH) / pd.Timedelta(days=1)
    return out


def whole_codes(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with each code of ``columns`` written as a decimal with a zero fraction
    (``11.0``, ``0110.00``) as the whole number written before its point (``11``,
    ``0110``: :func:`~mlstat_core.io.whole_code_text`, the rule the drift check applies
    too), so that a file exported with decimals and one without give the same categories;
    other values, and missing ones, as they are."""
    out = frame
    for column in columns:
        if column not in frame.columns:
            continue
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue  # not read as text (no value at all in training): nothing to rewrite
        codes = whole_code_text(series)
        if codes is not series:
            out = out.copy() if out is frame else out
            out[column] = codes
    return out


def check_classification_target(train: Dataset) -> None:
    classes = train.y.nunique(dropna=True)
    if classes < 2:
        value = train.y.dropna().iloc[0] if classes else None
        raise DataError(
            f"target column {train.roles.target!r} has a single class ({value!r}) in the training "
            "data; a classifier needs at least two")


def check_regression_target(train: Dataset) -> None:
    """A regressor needs numbers: a DataError naming the column and an example otherwise."""
    y = train.y
    numbers = pd.to_numeric(y, errors="coerce")
    bad = numbers.isna() & y.notna()
    if bad.any() or pd.api.types.is_bool_dtype(y):
        example = y[bad].iloc[0] if bad.any() else y.iloc[0]
        raise DataError(
            f"target column {train.roles.target!r} holds values that are not numbers (e.g. "
            f"{plain(example)!r}); a regression model needs a numeric target: correct the "
            "values, or use a classification task")


class _TabularClassifier(SklearnModel):
    scale: bool = True
    impute: bool = True
    """Impute missing numbers with the median; False for a model that handles them itself."""
    step_name: str = "classify"

    def classifier(self) -> Any:
        raise NotImplementedError

    def check_target(self, train: Dataset) -> None:
        check_classification_target(train)

    def fit(self, train: Dataset, validation: Dataset | None = None) -> _TabularClassifier:
        self.extra_state["date_columns"] = date_columns_of(train.frame,
                                                           train.roles.input_columns())
        inputs = train.roles.input_columns()  # the loader's codes among them: whole_codes
        self.extra_state["code_columns"] = [c for c in code_columns(train) if c in inputs]
        super().fit(train, validation)
        return self

    def date_columns(self) -> list[str]:
        """The input columns that held dates in training (none for a model saved before)."""
        columns = self.extra_state.get("date_columns")
        return [str(c) for c in columns] if isinstance(columns, list) else []

    def code_columns(self) -> list[str]:
        """The input columns read as codes in training (core.table's `categorical`; none for
        a model saved before), whose ``11.0`` is ``11`` (see :func:`whole_codes`)."""
        columns = self.extra_state.get("code_columns")
        return [str(c) for c in columns] if isinstance(columns, list) else []

    def build_estimator(self, train: Dataset) -> Any:
        from sklearn.pipeline import Pipeline

        self.check_target(train)
        columns = train.roles.input_columns()
        frame = dates_as_days(train.frame[columns], self.date_columns())
        return Pipeline([
            ("prepare", tabular_preprocessor(frame, columns, self.scale, self.impute)),
            (self.step_name, self.classifier()),
        ])

    def to_matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        assert self.roles is not None
        matrix = dates_as_days(frame[self.roles.input_columns()], self.date_columns())
        matrix = whole_codes(matrix, self.code_columns())
        # nullable numbers (Int64, Float64: pd.NA) as floats with NaN, which every
        # estimator reads (the histogram boosting, which is not imputed, fails on pd.NA)
        nullable = {c: "float64" for c in matrix.columns
                    if isinstance(matrix[c].dtype, pd.api.extensions.ExtensionDtype)
                    and pd.api.types.is_numeric_dtype(matrix[c].dtype)
                    and not pd.api.types.is_bool_dtype(matrix[c].dtype)}
        return require_numeric(matrix.astype(nullable) if nullable else matrix,
                               self._numeric_columns())

    def _numeric_columns(self) -> list[str]:
        """The columns the fitted preprocessor treats as numbers (none before fitting)."""
        prepare = self.estimator.named_steps["prepare"] if self.estimator is not None else None
        for name, _, columns in getattr(prepare, "transformers_", []):
            if name == "numeric":
                return list(columns)
        return []


class LogisticRegressionModel(_TabularClassifier):
    """Multinomial logistic regression on scaled numeric and one-hot categorical columns."""

    params_type = LogisticParams

    def classifier(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        p = self.params
        return LogisticRegression(C=p.C, max_iter=p.max_iter, class_weight=p.class_weight)


class RandomForestModel(_TabularClassifier):
    """Random forest; robust default for mixed survey variables."""

    params_type = ForestParams
    trusted_types = (*SklearnModel.trusted_types, "sklearn.tree._tree.Tree")
    scale = False

    def classifier(self) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        p = self.params
        return RandomForestClassifier(
            n_estimators=p.n_estimators, max_depth=p.max_depth,
            min_samples_leaf=p.min_samples_leaf, class_weight=p.class_weight, n_jobs=p.n_jobs,
            random_state=self.seed)


class RandomForestRegressorModel(_TabularClassifier):
    """Random forest regressor for a numeric target (tabular_regression)."""

    params_type = ForestRegressorParams
    trusted_types = (*SklearnModel.trusted_types, "sklearn.tree._tree.Tree")
    scale = False
    step_name = "regress"

    def check_target(self, train: Dataset) -> None:
        check_regression_target(train)

    def classifier(self) -> Any:
        from sklearn.ensemble import RandomForestRegressor

        p = self.params
        return RandomForestRegressor(
            n_estimators=p.n_estimators, max_depth=p.max_depth,
            min_samples_leaf=p.min_samples_leaf, max_features=p.max_features, n_jobs=p.n_jobs,
            random_state=self.seed)


class GradientBoostingModel(_TabularClassifier):
    """Histogram gradient boosting; missing numbers reach the trees as they are (each split
    learns which side they go), missing categories take the most frequent one.

    Models saved before kept a median imputer in their pipeline, and still use it."""

    params_type = BoostingParams
    trusted_types = (*SklearnModel.trusted_types,
                     "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor")
    scale = False
    impute = False

    def classifier(self) -> Any:
        from sklearn.ensemble import HistGradientBoostingClassifier

        p = self.params
        return HistGradientBoostingClassifier(
            learning_rate=p.learning_rate, max_iter=p.max_iter, max_leaf_nodes=p.max_leaf_nodes,
            random_state=self.seed)


class MajorityModel(_TabularClassifier):
    """Always predicts the most frequent class: the baseline any model must beat, for tables
    and texts alike (it reads no column but the target)."""

    def classifier(self) -> Any:
        from sklearn.dummy import DummyClassifier

        return DummyClassifier(strategy="prior")

    def build_estimator(self, train: Dataset) -> Any:
        self.check_target(train)
        return self.classifier()

    def to_matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(index=frame.index)  # no features: every record gets the prior
