"""What every coding model shares: text preparation, the held-out threshold, routing, output.

A coding model writes only ``_fit_estimator`` (train on prepared inputs) and ``_logits``
(unnormalised log-probabilities of prepared inputs); this mixin does the rest, so the
scikit-learn and the torch models route records identically.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_coding.hierarchy import Hierarchy
from mlstat_coding.normalise import CLEANING_CHANGES, CLEANING_PROBES, Normaliser
from mlstat_coding.routing import (
    UnreachableTargetWarning,
    choose_threshold,
    coding_frame,
    confidence_scores,
    fit_temperature,
    softmax,
    too_short,
)
from mlstat_core.cleaning import check_cleaning_once, cleaning_sample
from mlstat_core.components import Dataset
from mlstat_core.errors import DataError, ModelError
from mlstat_core.sklearn_model import require_columns, text_columns_of
from mlstat_core.threads import limited_threads

TEXT = "__text__"


def check_coding_data(train: Dataset) -> None:
    """The training data of a coding model: text columns, a code, at least two codes."""
    roles = train.roles
    if not roles.text:
        raise DataError("a coding model needs at least one text column; set the loader's "
                        "`text` (for core.table) or use coding.text_table")
    if not roles.target:
        raise DataError("a coding model needs the code column; set the loader's `code`")
    require_columns(train.frame, [*roles.text, *roles.auxiliary, roles.target], "training data")
    n_codes = train.y.nunique(dropna=True)
    if n_codes < 2:
        raise DataError(f"code column {roles.target!r} has {n_codes} distinct code(s) in the "
                        "training data; coding needs at least two")


class CodingMixin:
    """Shared behaviour of coding models (mixed into a :class:`~mlstat_core.components.Model`)."""

    params: Any
    roles: Any
    classes_: list[Any] | None
    extra_state: dict[str, Any]
    seed: int

    # -- inputs -----------------------------------------------------------------------------

    @property
    def normaliser(self) -> Normaliser:
        cached = getattr(self, "_normaliser", None)
        if cached is None:
            cached = self._normaliser = Normaliser(self.params.normalise)
        return cached

    def joined_text(self, frame: pd.DataFrame) -> pd.Series:
        columns = self.roles.text
        if len(columns) == 1:
            return frame[columns[0]]
        if frame.empty:  # agg over no rows gives a frame, not a series
            return pd.Series([], index=frame.index, dtype=object)
        parts = frame[columns].astype(object).where(frame[columns].notna(), "")
        return parts.astype(str).agg(" ".join, axis=1)

    def prepared(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Normalised text (column ``__text__``) and auxiliary columns as strings."""
        texts = self.normaliser(self.joined_text(frame).tolist())
        out = pd.DataFrame({TEXT: texts}, index=frame.index)
        for column in self.roles.auxiliary:
            out[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(
                str)
        return out

    # -- fitting ----------------------------------------------------------------------------

    def holdout_split(self, train: Dataset) -> tuple[Dataset, Dataset]:
        """Internal stratified holdout (share ``params.holdout``) to set the threshold when
        fit gets no validation set; codes with a single record stay in the fitting part."""
        from sklearn.model_selection import train_test_split

        y = train.y.astype(str).to_numpy()
        values, counts = np.unique(y, return_counts=True)
        single = np.isin(y, values[counts < 2])
        candidates = np.flatnonzero(~single)
        n_hold = max(1, round(len(y) * self.params.holdout))
        strat = y[candidates]
        if n_hold < len(values[counts >= 2]) or len(candidates) - n_hold < 2:
            strat = None
        try:
            keep, hold = train_test_split(candidates, test_size=n_hold, random_state=self.seed,
                                          stratify=strat)
        except ValueError:
            keep, hold = train_test_split(candidates, test_size=n_hold, random_state=self.seed)
        keep = np.sort(np.r_[keep, np.flatnonzero(single)])
        return train.subset(keep), train.subset(np.sort(hold))

    def fit_coding(self, train: Dataset, validation: Dataset | None) -> Any:
        """Fit on one BLAS and OpenMP thread: lbfgs and the calibration sum with BLAS, whose
        sums depend on the number of threads, so the model would differ between machines."""
        with limited_threads(1), warnings.catch_warnings():
            # codes are classes by declaration: scikit-learn's guess that many codes among few
            # records "could represent a regression problem" only misleads a coder
            warnings.filterwarnings("ignore", message="The number of unique classes is "
                                    "greater than 50%", category=UserWarning)
            return self._fit_coding(train, validation)

    def _fit_coding(self, train: Dataset, validation: Dataset | None) -> Any:
        check_coding_data(train)
        self.roles = train.roles
        # read as text again by mlstat predict and the queue: region 02 is not scored as 2
        self.text_columns = text_columns_of(train.frame, train.roles.input_columns())
        source = "validation"
        if validation is None:
            train, validation = self.holdout_split(train)
            source = f"internal holdout ({self.params.holdout:.0%} of training)"
        prepared = self.prepared(train.frame)
        empty = (prepared[TEXT] == "").to_numpy()
        if empty.any():
            warnings.warn(f"{int(empty.sum())} training record(s) have empty text and are "
                          "left out of fitting", stacklevel=3)
            train = train.subset(np.flatnonzero(~empty))
            prepared = prepared.iloc[np.flatnonzero(~empty)]
        self._fit_estimator(train, prepared)
        if not self.classes_:
            raise ModelError(f"{type(self).__name__} learnt no classes")
        # kept with the model: predict routes as it was assessed (a model saved before the
        # rule has none, and keeps routing without it)
        self.extra_state = {"temperature": 1.0,
                            "min_word_letters": int(self.params.min_word_letters),
                            "cleaning": cleaning_sample(self.normaliser, CLEANING_PROBES)}
        self._set_threshold(validation, source)
        metadata = train.metadata or {}
        hierarchy = Hierarchy.from_dict(metadata["code_list"]) if metadata.get("code_list") \
            else Hierarchy(separator=self.params.separator)
        self.extra_state["hierarchy"] = hierarchy.as_dict()
        self._check_fallback_level(hierarchy)
        return self

    def _check_fallback_level(self, hierarchy: Hierarchy) -> None:
        """Say when ``fallback_level`` is no coarser than every code: its fallback_code would
        repeat the prediction."""
        level = self.params.fallback_level
        shallowest = min((len(hierarchy.ancestors(str(c))) for c in self.classes_), default=0)
        if level and level >= shallowest:
            warnings.warn(f"fallback_level {level} is not coarser than the codes (the shortest "
                          f"has {shallowest} level(s)): fallback_code repeats the prediction "
                          f"for those; set fallback_level below {shallowest}, or leave it out",
                          stacklevel=3)

    def _set_threshold(self, validation: Dataset, source: str) -> None:
        require_columns(validation.frame, [*self.roles.text, *self.roles.auxiliary,
                                           self.roles.target], "validation data")
        prepared = self.prepared(validation.frame)
        logits = self._logits(prepared)
        y = validation.y.astype(str).to_numpy()
        position = {str(c): i for i, c in enumerate(self.classes_)}
        y_index = np.array([position.get(v, -1) for v in y])
        temperature = 1.0
        if self.temperature_scaled():
            temperature = fit_temperature(logits, y_index)
        proba = softmax(logits / temperature)
        scores, _ = confidence_scores(proba, self.params.confidence)
        correct = proba.argmax(axis=1) == y_index
        # the threshold is set on the records it may auto-code: none empty or too short
        codable = (prepared[TEXT] != "").to_numpy() & ~self.too_short(prepared)
        threshold = choose_threshold(scores[codable], correct[codable],
                                     self.params.target_accuracy)
        if threshold is None:
            warnings.warn(f"no threshold reaches accuracy {self.params.target_accuracy} on the "
                          f"{source} data: every record will be routed to manual coding",
                          UnreachableTargetWarning, stacklevel=3)
        auto = (scores >= threshold) & codable if threshold is not None else \
            np.zeros(len(y), bool)
        self.extra_state.update({
            "temperature": temperature,
            "threshold": threshold,
            "confidence": self.params.confidence,
            "target_accuracy": self.params.target_accuracy,
            "threshold_source": source,
            "threshold_records": int(len(y)),
            "validation_accuracy": float(correct.mean()) if len(y) else None,
            "validation_auto_share": float(auto.mean()) if len(y) else None,
            "validation_auto_accuracy": float(correct[auto].mean()) if auto.any() else None,
            "unseen_validation_codes": sorted(set(y[y_index < 0]))[:50],
        })

    def temperature_scaled(self) -> bool:
        """Whether a softmax temperature is fitted on the held-out records."""
        return bool(getattr(self.params, "calibrate", False))

    # -- predicting -------------------------------------------------------------------------

    @property
    def hierarchy(self) -> Hierarchy:
        return Hierarchy.from_dict(self.extra_state.get("hierarchy"))

    @property
    def threshold(self) -> float | None:
        return self.extra_state.get("threshold")

    def too_short(self, prepared: pd.DataFrame) -> np.ndarray:
        """Which prepared records are too short to code (``min_word_letters``, as set at fit
        time; off for a model saved before the rule)."""
        return too_short(prepared[TEXT], int(self.extra_state.get("min_word_letters") or 0))

    @property
    def routing_confidence(self) -> str:
        """The score records are routed on, as set at fit time: ``top`` or ``margin``."""
        return self.extra_state.get("confidence", self.params.confidence)

    def predict_proba_prepared(self, prepared: pd.DataFrame) -> np.ndarray:
        if not len(prepared):
            return np.zeros((0, len(self.classes_ or [])))
        return softmax(self._logits(prepared) / self.extra_state.get("temperature", 1.0))

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.roles is None or not self.classes_:
            raise ModelError(f"{type(self).__name__} is not fitted; call fit first")
        require_columns(frame, [*self.roles.text, *self.roles.auxiliary])
        check_cleaning_once(self, self.extra_state.get("cleaning"), self.normaliser,
                            "the text cleaning of mlstat-coding", CLEANING_CHANGES)
        prepared = self.prepared(frame)
        proba = self.predict_proba_prepared(prepared)
        empty = (prepared[TEXT] == "").to_numpy()
        return coding_frame(frame.index, self.classes_, proba, empty, self.threshold,
                            self.routing_confidence,
                            self.params.top_k, self.hierarchy, self.params.fallback_level,
                            short=self.too_short(prepared))

    def write_outputs(self, directory: Path, predictions: pd.DataFrame,
                      test: Dataset) -> list[Path]:
        """The run's manual coding queue (``outputs/manual_queue.csv``): the test records routed
        to manual coding with their five best suggestions, as coders would receive them."""
        from mlstat_coding.queue import write_manual_queue

        if "top_codes" not in predictions or len(predictions) != len(test):
            return []
        path = Path(directory) / "manual_queue.csv"
        write_manual_queue(predictions.set_axis(test.frame.index), test.frame, path,
                           self.hierarchy, text_columns=self.roles.text,
                           auxiliary=self.roles.auxiliary, id_column=test.roles.id,
                           confidence=self.routing_confidence)
        return [path]

    # -- what models write ------------------------------------------------------------------

    def _fit_estimator(self, train: Dataset, prepared: pd.DataFrame) -> None:
        raise NotImplementedError

    def _logits(self, prepared: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError
