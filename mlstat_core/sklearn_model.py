"""A base for models whose fitted state is one scikit-learn estimator, saved with skops.

Plugins subclass :class:`SklearnModel` and write only ``build_estimator`` (and, for text or
special inputs, ``to_matrix``); fitting, class bookkeeping, prediction frames, safe saving and
hash-checked loading come from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel

from mlstat_core.artifacts import load_skops, save_skops
from mlstat_core.components import (
    STATE_FILE,
    Dataset,
    Model,
    NoParams,
    params_type_problem,
)
from mlstat_core.errors import DataError, IntegrityError, ModelError, value_kind
from mlstat_core.io import (
    decimal_commas,
    first_record,
    is_text,
    plain,
    quoted,
    thousands_commas,
    with_dtypes,
)
from mlstat_core.threads import few_threads

ESTIMATOR_FILE = "estimator.skops"


def classification_frame(
    index: pd.Index, classes: list[Any] | np.ndarray, proba: np.ndarray
) -> pd.DataFrame:
    """The standard prediction frame of a probabilistic classifier.

    Columns: ``prediction`` (the most probable class), ``confidence`` (its probability) and one
    ``proba_<class>`` column per class, in the order of ``classes``.
    """
    proba = np.asarray(proba, dtype=float)
    classes_arr = np.asarray(classes, dtype=object)
    if proba.ndim != 2 or proba.shape[1] != len(classes_arr):
        raise ModelError(
            f"probabilities of shape {proba.shape} do not match {len(classes)} classes")
    best = proba.argmax(axis=1) if len(proba) else np.zeros(0, dtype=int)
    frame = pd.DataFrame(
        {"prediction": classes_arr[best] if len(proba) else [], "confidence":
         proba.max(axis=1) if len(proba) else []},
        index=index,
    )
    probas = pd.DataFrame(proba, index=index, columns=[proba_column(c) for c in classes_arr])
    return pd.concat([frame, probas], axis=1)


def proba_column(label: Any) -> str:
    return f"proba_{label}"


def proba_matrix(predictions: pd.DataFrame, classes: list[Any]) -> np.ndarray | None:
    """The probability matrix from a prediction frame, or None when it has no proba columns."""
    columns = [proba_column(c) for c in classes]
    if not all(c in predictions.columns for c in columns):
        return None
    return predictions[columns].to_numpy(dtype=float)


def require_frame(frame: Any, what: str = "input") -> None:
    """A model scores a DataFrame: anything else (a Series for one record, a list of dicts, an
    array) is one DataError that says how to make one, not an AttributeError from inside."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{what} is {value_kind(frame)}; a model scores a pandas DataFrame of "
                        "records, one row each (one record of a frame: frame.iloc[[i]]; "
                        "a list of dicts: pd.DataFrame(records))")


def require_columns(frame: pd.DataFrame, columns: list[str], what: str = "input") -> None:
    """``frame`` is a DataFrame with ``columns``, the ones the model was trained on."""
    require_frame(frame, what)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what} lacks column(s) {', '.join(map(repr, missing))} that the model was trained "
            f"on; it has {', '.join(map(repr, list(frame.columns)[:20]))}"
        )


MIXED_KINDS = frozenset({"mixed", "mixed-integer", "mixed-integer-float"})
"""What pandas infers for a column of text mixed with numbers (an Excel column of 1, 2, 3 and
``"5+"``): categories, read as text."""


def text_columns_of(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """The ``columns`` of ``frame`` that hold text (every value present is a string), or text
    mixed with numbers (``1, 2, "5+"``): the ones a model treats as categories, read as text
    in training and again at prediction time whatever values a chunk of new records happens
    to hold."""
    return [c for c in columns if c in frame.columns
            and (is_text(frame[c]) or is_mixed(frame[c]))]


def is_mixed(series: pd.Series) -> bool:
    """Whether ``series`` holds values of several kinds, strings among them (``1, 2, "5+"``),
    which no encoder takes as they are."""
    return pd.api.types.is_object_dtype(series) \
        and pd.api.types.infer_dtype(series, skipna=True) in MIXED_KINDS \
        and series.map(lambda v: isinstance(v, str)).any()


CORRECT_OR_EMPTY = "correct them, or leave them empty (missing, as the model treats missing values)"
"""The advice for values a model cannot read that are nothing else in particular."""

READ_DECIMAL_COMMA = ("read the file with ',' as the decimal mark (mlstat predict --decimal "
                      "',', or the loader's decimal = \",\")")
"""How the local engine reads numbers written with a decimal comma (see :func:`comma_advice`)."""


def comma_advice(values: pd.Series, read_comma: str = READ_DECIMAL_COMMA) -> str | None:
    """The advice for ``values`` that are not numbers but look like numbers written with a
    decimal comma, or with ``,`` between thousands (which the text alone cannot tell from a
    decimal comma); ``read_comma`` says how to read a decimal comma (an engine reading the
    file otherwise gives its own). None when they look like neither."""
    if decimal_commas(values):
        return f"they look like numbers written with a decimal comma: {read_comma}"
    if thousands_commas(values):
        return ("they look like numbers with ',' between thousands (1,234) or with a decimal "
                "comma, which the file alone cannot tell apart: remove the thousands "
                f"separators, or if ',' is the decimal mark, {read_comma}")
    return None


def non_numeric_error(frame: pd.DataFrame, column: str, bad: pd.Series | np.ndarray,
                      what: str = "input", fix: str | None = None, *,
                      problem: str = "are not numbers") -> DataError:
    """The ``DataError`` for the values of ``frame[column]`` flagged ``bad`` in a column the
    model learned as numbers: the column, how many, examples and the first record (its data
    row counting from 1, in the whole file: see :func:`first_record`), then ``fix``, by
    default :func:`comma_advice` when they look like numbers written with commas, else to
    correct them or leave them empty. ``problem`` says what is wrong with them."""
    values = frame[column][bad]
    examples = ", ".join(quoted(v) for v in values.unique()[:3])
    if fix is None:
        fix = comma_advice(values) or CORRECT_OR_EMPTY
    return DataError(
        f"{what}: column {column!r} was numeric in training but has {int(np.sum(bad)):,} "
        f"value(s) that {problem}, e.g. {examples} (first at "
        f"{first_record(frame, bad, None, by_label=True)}); {fix}")


def require_numeric(frame: pd.DataFrame, columns: list[str], what: str = "input"
                    ) -> pd.DataFrame:
    """``frame`` with ``columns`` as numbers (numbers written as text are converted); a value
    that is not a number is the :func:`non_numeric_error` naming the column, examples and the
    first record, with how to read numbers written with a decimal comma when they look like
    that."""
    out = frame
    for column in columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            continue
        numbers = pd.to_numeric(series, errors="coerce")
        bad = numbers.isna() & series.notna()
        if bad.any():
            raise non_numeric_error(frame, column, bad, what)
        out = out.copy() if out is frame else out
        out[column] = numbers
    return out


def as_text_columns(dataset: Dataset, columns: list[str]) -> Dataset:
    """``dataset`` with ``columns`` as text, as :meth:`SklearnModel.predict` reads them (a
    mixed column's ``1`` becomes ``"1"``, like the ``"5+"`` beside it)."""
    frame = with_dtypes(dataset.frame, dict.fromkeys(columns, str))
    return dataset if frame is dataset.frame else replace(dataset, frame=frame)


def refuse_infinite(frame: pd.DataFrame, columns: list[str], what: str = "input",
                    file_rows: bool = True,
                    advice: str | Callable[[str], str] = CORRECT_OR_EMPTY) -> None:
    """A ``DataError`` naming the first numeric column of ``columns`` that holds an infinite
    value (a division by zero upstream, say) and its first record (see
    :func:`first_record`; ``file_rows``: the records keep the row labels mlstat's readers
    gave them, as in ``mlstat predict``, not a loader's own numbering): the estimators cannot
    take it, and it is not a missing value to fill in. ``advice`` ends the message: a text,
    or one made from the column's name (a column computed from others says where it comes
    from)."""
    for column in columns:
        series = frame[column] if column in frame.columns else None
        if series is None or not pd.api.types.is_float_dtype(series):
            continue
        infinite = np.isinf(series.to_numpy(dtype=float, na_value=np.nan))
        if infinite.any():
            raise DataError(
                f"{what}: column {column!r} holds {int(infinite.sum()):,} infinite value(s) "
                f"(first at {first_record(frame, infinite, None, by_label=file_rows)}); "
                f"{advice(column) if callable(advice) else advice}")


class SklearnModel(Model):
    """Fits ``build_estimator()`` on ``to_matrix(frame)``; saves it with skops."""

    params_type: ClassVar[type[BaseModel]] = NoParams
    trusted_types: ClassVar[tuple[str, ...]] = ("numpy.dtype",)

    def __init__(self, params: BaseModel | None = None, task: str = "") -> None:
        # load() rebuilds the params with params_type: caught here, not at the first load
        # (mlstat validate refuses a registered component so before any run)
        problem = params_type_problem(type(self), type(params) if params is not None else None)
        if problem:
            raise TypeError(f"{problem[0]}: {problem[1]}")
        super().__init__(params if params is not None else self.params_type(), task)
        self.estimator: Any = None
        self.extra_state: dict[str, Any] = {}

    # -- what subclasses write -----------------------------------------------------------

    def build_estimator(self, train: Dataset) -> Any:
        raise NotImplementedError

    def to_matrix(self, frame: pd.DataFrame) -> Any:
        """What the estimator reads: by default the frame's input columns as they are."""
        assert self.roles is not None
        return frame[self.roles.input_columns()]

    # -- the contract ----------------------------------------------------------------------

    def training_data(self, train: Dataset) -> tuple[Any, np.ndarray, np.ndarray | None]:
        """What the estimator is fitted on: the matrix, the targets and the sample weights
        (None: unweighted). By default the training records as they are; a model that adds
        records (synthetic ones, say) or changes the targets overrides this."""
        weights = train.sample_weight
        return (self.to_matrix(train.frame), train.y.to_numpy(),
                None if weights is None else weights.to_numpy())

    def fit(self, train: Dataset, validation: Dataset | None = None) -> SklearnModel:
        self.roles = train.roles
        self.text_columns = text_columns_of(train.frame, train.roles.input_columns())
        train = as_text_columns(train, self.text_columns)
        refuse_infinite(train.frame, train.roles.input_columns(), "training data",
                        file_rows=False)
        matrix, y, weights = self.training_data(train)
        self.estimator = self.build_estimator(train)
        kwargs: dict[str, Any] = {}
        if weights is not None:
            kwargs[self.sample_weight_param()] = weights
        with few_threads(len(train.frame)):
            self.estimator.fit(matrix, y, **kwargs)
        classes = getattr(self.estimator, "classes_", None)
        self.classes_ = [plain(c) for c in classes] \
            if classes is not None else None
        self.after_fit(train, validation)
        return self

    def after_fit(self, train: Dataset, validation: Dataset | None) -> None:
        """Use the validation records once the estimator is fitted (calibrate, choose a
        threshold) and keep what is learned in ``extra_state``; nothing by default."""

    def sample_weight_param(self) -> str:
        """Name of the fit argument for sample weights (``step__sample_weight`` in a Pipeline)."""
        steps = getattr(self.estimator, "steps", None)
        return f"{steps[-1][0]}__sample_weight" if steps else "sample_weight"

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.estimator is None or self.roles is None:
            raise ModelError(f"{type(self).__name__} is not fitted; call fit first")
        require_columns(frame, self.roles.input_columns())
        refuse_infinite(frame, self.roles.input_columns())
        matrix = self.to_matrix(with_dtypes(frame, dict.fromkeys(self.text_columns or [], str)))
        with few_threads(len(frame)):
            if self.classes_ is not None and hasattr(self.estimator, "predict_proba"):
                proba = self.probabilities(matrix) if len(frame) \
                    else np.zeros((0, len(self.classes_)))
                return classification_frame(frame.index, self.classes_, proba)
            values = self.estimator.predict(matrix) if len(frame) else []
        return pd.DataFrame({"prediction": values}, index=frame.index)

    def probabilities(self, matrix: Any) -> np.ndarray:
        """Class probabilities of the rows of ``matrix`` (the estimator's); a subclass may
        leave a row it cannot score as NaN (the record then gets no class)."""
        return self.estimator.predict_proba(matrix)

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_skops(self.estimator, directory / ESTIMATOR_FILE)
        self.write_state(directory, extra=self.extra_state)

    @classmethod
    def load(cls, directory: Path) -> SklearnModel:
        directory = Path(directory)
        model, state = cls.read_state(directory, cls.params_type)
        model.extra_state = state.get("extra") or {}
        model.estimator = load_skops(directory / ESTIMATOR_FILE, trusted=cls.trusted_types)
        check_classes(model.classes_, model.estimator, directory / STATE_FILE)
        return model


def check_classes(classes: list[Any] | None, estimator: Any, state_path: Path) -> None:
    """Refuse a state file whose classes differ from the fitted estimator's ``classes_``
    (where it has them): the labels written next to each prediction come from the state."""
    fitted = getattr(estimator, "classes_", None)
    if fitted is None or classes is None:  # without classes, labels come from the estimator
        return
    fitted_list = [plain(c) for c in fitted]
    if not isinstance(classes, list) or \
            [str(c) for c in classes] != [str(c) for c in fitted_list]:
        raise IntegrityError(
            f"the classes in {state_path} ({_preview(classes)}) are not those of the fitted "
            f"estimator ({_preview(fitted_list)}): the run folder was changed after the run; "
            "do not load it, rerun the pipeline")


def _preview(values: Any) -> str:
    if not isinstance(values, list):
        return repr(values)
    shown = ", ".join(map(repr, list(values)[:5]))
    return shown + (", ..." if len(values) > 5 else "")
