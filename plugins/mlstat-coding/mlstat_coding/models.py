"""Coding models on TF-IDF features (scikit-learn), saved with skops.

Both read the normalised text (word 1-2-grams and char_wb 2-5-grams, sublinear TF-IDF, hashed
with numpy by :class:`~mlstat_coding.ngrams.NgramTfidf`) and one-hot auxiliary columns; the
fitted pipeline is one scikit-learn estimator, so saving and hash-checked loading come from
:class:`~mlstat_core.sklearn_model.SklearnModel`. Scores of the linear models are computed in
float32, block by block, one record's row at a time (the same in any batch).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from mlstat_coding import encoders
from mlstat_coding.base import TEXT, CodingMixin
from mlstat_coding.ngrams import NgramTfidf, tokenise
from mlstat_coding.params import LinearSvmParams, TfidfLogregParams
from mlstat_core.components import Dataset
from mlstat_core.errors import ModelError
from mlstat_core.sklearn_model import SklearnModel


class WordwiseCharTfidf(TfidfVectorizer):
    """``TfidfVectorizer(analyzer="char_wb")`` with a faster ``transform`` giving the same matrix.

    ``char_wb`` n-grams are those of each whitespace-separated word padded with spaces, so a
    text's counts are the sum of its words' counts: they are computed once per distinct word of
    the batch and summed with one sparse product (about five times faster on product names).
    """

    def transform(self, raw_documents: Any) -> Any:
        if self.analyzer != "char_wb":
            return super().transform(raw_documents)
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        texts = list(raw_documents)
        for i, text in enumerate(texts):
            for word in text.split():
                rows.append(i)
                cols.append(vocabulary.setdefault(word, len(vocabulary)))
        occurrences = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.int64), (rows, cols)),
            shape=(len(texts), len(vocabulary)))
        if vocabulary:
            counts = occurrences @ CountVectorizer.transform(self, list(vocabulary))
        else:
            counts = sparse.csr_matrix((len(texts), len(self.vocabulary_)), dtype=np.int64)
        return self._tfidf.transform(counts.tocsr(), copy=False).astype(self.dtype, copy=False)


class TextFeatures(TransformerMixin, BaseEstimator):
    """Word and char_wb TF-IDF of the text column side by side, one-hot auxiliary columns,
    then (optionally) the text's vector from a pretrained sentence encoder, times
    ``encoder_weight`` (see :mod:`mlstat_coding.encoders`).

    What a ``ColumnTransformer`` would give, without its per-call overhead (a third of the
    prediction time on short product names).
    """

    encoder: str | None = None  # models saved before encoders lack the attributes
    encoder_weight: float = 1.0

    def __init__(self, word_ngrams: tuple[int, int] = (1, 2),
                 char_ngrams: tuple[int, int] = (2, 5), min_df: int = 1,
                 auxiliary: tuple[str, ...] = (), encoder: str | None = None,
                 encoder_weight: float = 1.0) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.auxiliary = auxiliary
        self.encoder = encoder
        self.encoder_weight = encoder_weight

    def fit(self, X: pd.DataFrame, y: Any = None) -> TextFeatures:
        texts = X[TEXT].tolist()
        self.word_ = NgramTfidf("word", tuple(self.word_ngrams), self.min_df).fit(texts)
        self.char_ = NgramTfidf("char_wb", tuple(self.char_ngrams), self.min_df).fit(texts) \
            if self.char_ngrams[1] > 0 else None
        self.aux_ = None
        if self.auxiliary:
            from sklearn.preprocessing import OneHotEncoder

            self.aux_ = OneHotEncoder(handle_unknown="ignore").fit(X[list(self.auxiliary)])
        self.encoder_version_ = None
        if self.encoder:
            problem = encoders.missing(self.encoder)
            if problem:
                raise ModelError(problem)
            self.encoder_version_ = encoders.package_version(self.encoder)
        return self

    def _encoded(self, texts: list[str]) -> np.ndarray:
        name = self.encoder
        problem = encoders.missing(name)
        if problem:
            raise ModelError(f"this model was trained with a sentence encoder: {problem}")
        installed = encoders.package_version(name)
        if installed != self.encoder_version_ and not getattr(self, "_version_warned", False):
            self._version_warned = True  # once per loaded model, not once per chunk
            warnings.warn(f"the model was trained with {name} from version "
                          f"{self.encoder_version_} of its package and version {installed} is "
                          "installed: its vectors may differ; retrain or install the same "
                          "version", stacklevel=3)
        return encoders.encode(name, texts) * np.float32(self.encoder_weight)

    def blocks(self, X: pd.DataFrame) -> list[Any]:
        """The word, char and auxiliary matrices, in column order."""
        texts = X[TEXT].tolist()
        tokens = tokenise(texts)
        blocks = [self.word_.transform(texts, tokens)]
        if self.char_ is not None:
            blocks.append(self.char_.transform(texts, tokens))
        if self.aux_ is not None:
            blocks.append(self.aux_.transform(X[list(self.auxiliary)]).astype(np.float32))
        if self.encoder:  # sparse like the others: its scores are summed row by row, where
            # a dense product's would change in the last bits with the number of rows
            blocks.append(sparse.csr_matrix(self._encoded(texts)))
        return blocks

    def transform(self, X: pd.DataFrame) -> Any:
        return sparse.hstack(self.blocks(X), format="csr")

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = [self.word_.get_feature_names_out()]
        if self.char_ is not None:
            names.append(np.array([char_ngram_name(n) for n in
                                   self.char_.get_feature_names_out()], dtype=object))
        if self.aux_ is not None:
            names.append(self.aux_.get_feature_names_out())
        if self.encoder:
            names.append(np.array([f"{self.encoder}:{i}" for i in
                                   range(encoders.dimension(self.encoder))], dtype=object))
        return np.concatenate(names)


def text_features(params: Any, auxiliary: list[str]) -> TextFeatures:
    """Word and character TF-IDF of the text column (hashed n-grams, :mod:`.ngrams`), one-hot
    auxiliary columns and, with ``sentence_encoder``, the text's sentence vector."""
    return TextFeatures(tuple(params.word_ngrams), tuple(params.char_ngrams), params.min_df,
                        tuple(auxiliary), params.sentence_encoder, params.encoder_weight)


def char_ngram_name(ngram: str) -> str:
    """A character n-gram as a reader can tell it from a word: between ‹ ›, with ␣ for the
    word boundary it includes (``' ryż '`` -> ``‹␣ryż␣›``; the word ``ryż`` stays ``ryż``)."""
    return "‹" + str(ngram).replace(" ", "␣") + "›"


def _readable(features: Any, names: np.ndarray) -> np.ndarray:
    """Which features a person can read: all but a sentence encoder's dimensions (named
    ``<encoder>:<i>``, perhaps behind a wrapper's prefix; a wrapper of TextFeatures, such as
    twitter's language augmentation, exposes the ``encoder`` it wraps)."""
    encoder = getattr(features, "encoder", None)
    if not encoder:
        return np.ones(len(names), dtype=bool)
    return np.char.find(names.astype(str), f"{encoder}:") < 0


class _SklearnCoder(CodingMixin, SklearnModel):
    """A scikit-learn coding pipeline with the shared routing of :class:`CodingMixin`."""

    # WordwiseCharTfidf: the char features of models saved before NgramTfidf
    trusted_types = (*SklearnModel.trusted_types, f"{__name__}.WordwiseCharTfidf",
                     f"{__name__}.TextFeatures", "mlstat_coding.ngrams.NgramTfidf")

    def fit(self, train: Dataset, validation: Dataset | None = None) -> _SklearnCoder:
        return self.fit_coding(train, validation)

    def classifier(self, train: Dataset) -> Any:
        raise NotImplementedError

    def build_estimator(self, train: Dataset) -> Any:
        from sklearn.pipeline import Pipeline

        return Pipeline([("features", text_features(self.params, train.roles.auxiliary)),
                         ("classify", self.classifier(train))])

    def to_matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.prepared(frame)

    def _fit_estimator(self, train: Dataset, prepared: pd.DataFrame) -> None:
        self._coef32 = None  # derived from the fitted estimator by _logits
        self.estimator = self.build_estimator(train)
        kwargs: dict[str, Any] = {}
        if train.sample_weight is not None:
            kwargs["classify__sample_weight"] = train.sample_weight.to_numpy(dtype=float)
        X, y = self.training_rows(prepared, train.y.astype(str).to_numpy())
        if "classify__sample_weight" in kwargs and len(y) != len(prepared):
            kwargs["classify__sample_weight"] = self._weights_for(kwargs, len(prepared), len(y))
        self.estimator.fit(X, y, **kwargs)
        self.classes_ = [str(c) for c in self.estimator.classes_]

    def training_rows(self, prepared: pd.DataFrame, y: np.ndarray) -> tuple[Any, np.ndarray]:
        return prepared, y

    def _weights_for(self, kwargs: dict[str, Any], n_before: int, n_after: int) -> np.ndarray:
        weights = kwargs["classify__sample_weight"]
        return np.r_[weights, weights[self._extra_rows]] if n_after > n_before else weights

    def _logits(self, prepared: pd.DataFrame) -> np.ndarray:
        classify = self.estimator[-1]
        if not hasattr(classify, "coef_"):  # CalibratedClassifierCV
            proba = self.estimator.predict_proba(prepared)
            return np.log(np.clip(proba, 1e-12, None))
        # a linear model's scores, in float32 like the features (half the memory traffic of
        # scikit-learn's float64 product); each record's row is summed on its own. For the
        # multinomial logistic regression these are its log-probabilities up to a constant per
        # record, so the softmax gives the same probabilities.
        coef = getattr(self, "_coef32", None)
        if coef is None:
            coef = self._coef32 = np.ascontiguousarray(classify.coef_.T, dtype=np.float32)
        features = self.estimator.named_steps["features"]
        if isinstance(features, TextFeatures):  # block by block: no stacked copy
            scores = np.zeros((len(prepared), coef.shape[1]), dtype=np.float32)
            begin = 0
            for block in features.blocks(prepared):
                scores += block @ coef[begin:begin + block.shape[1]]
                begin += block.shape[1]
        else:  # models saved with a ColumnTransformer
            scores = features.transform(prepared) @ coef
        scores = np.asarray(scores, dtype=np.float64) + classify.intercept_
        if scores.shape[1] == 1:  # two codes: one score, positive for the second
            scores = np.c_[np.zeros(len(scores)), scores[:, 0]]
        return scores

    def explain(self, frame: pd.DataFrame, top: int = 5) -> pd.DataFrame | None:
        """For each record, the n-grams that pushed it most towards its predicted code:
        TF-IDF value times the code's weight (linear models only)."""
        classify = self.estimator.named_steps["classify"]
        coef = getattr(classify, "coef_", None)
        if coef is None or coef.shape[0] != len(self.classes_ or []):
            return None
        features = self.estimator.named_steps["features"]
        matrix = features.transform(self.prepared(frame)).tocsr()
        names = features.get_feature_names_out()
        readable = _readable(features, names)
        position = {str(c): i for i, c in enumerate(self.classes_ or [])}
        codes = self.predict(frame)["prediction"].astype(str).to_numpy()
        rows: list[tuple[Any, str, float]] = []
        for r, record in enumerate(frame.index):
            start, end = matrix.indptr[r], matrix.indptr[r + 1]
            columns, values = matrix.indices[start:end], matrix.data[start:end]
            contribution = values * coef[position[codes[r]], columns]
            contribution[~readable[columns]] = -np.inf  # an encoder's dimensions say nothing
            for k in np.argsort(-contribution)[:min(top, int(readable[columns].sum()))]:
                rows.append((record, str(names[columns[k]]), float(contribution[k])))
        return pd.DataFrame(rows, columns=["record", "feature", "contribution"])

    def global_explanation(self) -> dict[str, Any] | None:
        """The ten heaviest n-grams per code (linear models only)."""
        classify = self.estimator.named_steps["classify"]
        coef = getattr(classify, "coef_", None)
        if coef is None or coef.shape[0] != len(self.classes_ or []):
            return None
        features = self.estimator.named_steps["features"]
        names = features.get_feature_names_out()
        readable = _readable(features, names)
        top = np.argsort(np.where(readable, -coef, np.inf), axis=1)[:, :10]
        return {"kind": "linear_terms",
                "classes": {str(c): [[str(names[j]), float(coef[i, j])] for j in row]
                            for i, (c, row) in enumerate(zip(self.classes_, top, strict=True))}}


class TfidfLogregModel(_SklearnCoder):
    """TF-IDF word and char n-grams + multinomial logistic regression, temperature-calibrated."""

    params_type = TfidfLogregParams
    params: TfidfLogregParams

    def classifier(self, train: Dataset) -> Any:
        from sklearn.linear_model import LogisticRegression

        p = self.params
        return LogisticRegression(C=p.C, max_iter=p.max_iter, class_weight=p.class_weight,
                                  random_state=self.seed)


class LinearSvmModel(_SklearnCoder):
    """TF-IDF word and char n-grams + linear SVM with calibrated scores.

    ``method = "temperature"`` (default): one SVM fitted on every training record; its scores
    become probabilities through a softmax whose temperature is fitted on the held-out records
    (validation split, or internal holdout), the same records that set the threshold.
    ``"sigmoid"`` / ``"isotonic"``: ``CalibratedClassifierCV`` with ``cv`` folds; cross-validated
    calibration needs every code in every fold, so codes with fewer than ``cv`` records are
    repeated (for fitting only) until they have ``cv``.
    """

    params_type = LinearSvmParams
    params: LinearSvmParams
    trusted_types = (*_SklearnCoder.trusted_types,
                     "sklearn.calibration._CalibratedClassifier",
                     "sklearn.calibration._SigmoidCalibration",
                     "sklearn.isotonic.IsotonicRegression")

    @property
    def uses_cv(self) -> bool:
        return self.params.method != "temperature"

    def temperature_scaled(self) -> bool:
        return not self.uses_cv

    def classifier(self, train: Dataset) -> Any:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC

        p = self.params
        svm = LinearSVC(C=p.C, class_weight=p.class_weight, multi_class=p.multi_class,
                        random_state=self.seed)
        return CalibratedClassifierCV(svm, method=p.method, cv=p.cv) if self.uses_cv else svm

    def training_rows(self, prepared: pd.DataFrame, y: np.ndarray) -> tuple[Any, np.ndarray]:
        self._extra_rows = np.zeros(0, dtype=int)
        if not self.uses_cv:
            return prepared, y
        values, counts = np.unique(y, return_counts=True)
        short = {v: self.params.cv - n for v, n in zip(values, counts, strict=True)
                 if n < self.params.cv}
        self._extra_rows = np.array([i for i, v in enumerate(y) if v in short
                                     for _ in range(short[v] // max(1, int((y == v).sum())) + 1)],
                                    dtype=int)
        if not short:
            return prepared, y
        return pd.concat([prepared, prepared.iloc[self._extra_rows]]), \
            np.r_[y, y[self._extra_rows]]
