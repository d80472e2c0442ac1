"""Params models of the built-in components: light, so discovery imports no heavy library."""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from mlstat_core.components import Encoding, InputFile, Params

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from mlstat_core.errors import ConfigIssue
    from mlstat_core.tasks import TaskType


class TableReading(Params):
    """How a table file is read: its path, format and the reading options a CSV or
    Excel file needs. Loaders of other plugins inherit it to read files as
    ``core.table`` does, with the same names, defaults and checks."""

    path: InputFile = Field(description="CSV, Parquet or Excel file; relative to the "
                                        "pipeline file")
    format: Literal["csv", "parquet", "excel"] | None = Field(
        None, description="file format; by default taken from the suffix")
    encoding: Encoding = Field("utf-8", description="text encoding of a CSV file")
    sep: str | None = Field(None, description="CSV field separator (default ',' or tab for .tsv)")
    decimal: str = Field(".", description="decimal mark of numbers written as text (CSV, "
                                          "Excel): ',' reads 0,4272 as a number; `sep` must "
                                          "then be another character")
    na_values: list[str] = Field(
        default_factory=list,
        description="values that mean missing besides empty cells, NA and n/a, such as ['..', "
                    "'-9'] (CSV and Excel; a number such as -9 is read as its text)")
    sheet: str | int | None = Field(None, description="Excel sheet name or number")

    @field_validator("na_values", mode="before")
    @classmethod
    def _codes_as_text(cls, value: Any) -> Any:
        """Missing-value codes written as numbers (``na_values = [-9, 99999]``, as SAS and SPSS
        users write them) are their text; pandas then matches ``-9`` and ``-9.0`` alike."""
        if isinstance(value, list):
            return [str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                    for v in value]
        return value

    @model_validator(mode="after")
    def _decimal_mark(self) -> TableReading:
        """One character, and not the field separator (',' by default, tab for .tsv)."""
        if len(self.decimal) != 1:
            raise ValueError(f"decimal must be one character, such as \",\" or \".\", not "
                             f"{self.decimal!r}")
        if self.decimal == self._csv_separator():
            fix = ("set `sep` to the file's own, for example sep = \";\"" if self.decimal == ","
                   else "set `decimal` to the file's decimal mark, for example decimal = \",\", "
                        "and `sep` to its field separator")
            raise ValueError(f"decimal {self.decimal!r} is also the field separator; {fix}")
        return self

    def _csv_separator(self) -> str | None:
        """The field separator the file is read with; None for a Parquet or Excel file."""
        from mlstat_core.formats import EXCEL_SUFFIXES, PARQUET_SUFFIXES

        suffix = PurePath(self.path).suffix.lower()
        if self.format in ("parquet", "excel") or (
                self.format is None and suffix in PARQUET_SUFFIXES | EXCEL_SUFFIXES):
            return None
        return self.sep or ("\t" if suffix == ".tsv" else ",")


class TableParams(TableReading):
    id: str | None = Field(None, description="column that identifies a record")
    target: str | None = Field(None, description="column to predict")
    target_type: Literal["auto", "text", "number"] = Field(
        "auto", description="how the target is read: 'text' keeps labels as written (codes "
                            "such as 1.10); 'auto' reads numbers as numbers unless a value "
                            "starts with 0 and a digit (01, 007: codes, kept as text)")
    features: list[str] = Field(default_factory=list,
                                description="input columns; empty means every other column")
    text: list[str] = Field(default_factory=list, description="free-text input columns")
    categorical: list[str] = Field(
        default_factory=list,
        description="input columns that hold codes written as numbers (region 11, occupation "
                    "2310, sex 1/2), read as categories: as text (11, not 11.0; missing stays "
                    "missing), one-hot encoded by the core's models, profiled as categories "
                    "for drift; without it such a column is a number")
    weights: str | None = Field(
        None, description="column of survey or sample weights (numbers >= 0): the model is "
                          "trained with them (sample_weight: a record of weight 200 counts "
                          "as two of weight 100); splits and quality figures count records "
                          "unweighted, except the imputation bias of means and totals, and "
                          "accuracy gives the weighted share beside its own")
    groups: str | None = Field(None, description="column of groups for a group split")
    dropna_target: bool = Field(True, description="drop records whose target is missing")

    def check(self, registry: Any, task: TaskType | None = None) -> list[ConfigIssue]:
        """The target or the id as an input would let the model read the answer (or the
        record's identity): refused. Weights and groups may also be inputs (a stratum often
        is); the loader warns. A name in `categorical` must be an input, and not free text
        too. Reads no file (:meth:`input_issues` reads the header)."""
        from mlstat_core.builtins.loaders import categorical_problems
        from mlstat_core.errors import ConfigIssue

        issues = []
        for where in ("features", "text"):
            for role in ("target", "id"):
                column = getattr(self, role)
                if column and column in getattr(self, where):
                    issues.append(ConfigIssue(
                        "", where, f"column {column!r} is the {role} and must not be an input "
                        f"of the model ({role} leakage); remove {column!r} from `{where}`"))
        problems = categorical_problems(self, list(self.features) or None)
        issues += [ConfigIssue("", "categorical", message, near)
                   for message, near in problems.values()]
        return issues

    def input_issues(self, base_dir: Path, how: Callable[[str, str], str | None] | None = None
                     ) -> list[ConfigIssue]:
        """The file's header alone is read: each column named here that it lacks is an
        issue with the closest name (see :func:`~mlstat_core.builtins.loaders.header_issues`);
        a name of `categorical` that :meth:`check` refuses already is not named again."""
        from mlstat_core.builtins.loaders import categorical_problems, header_issues

        skip = categorical_problems(self, list(self.features) or None)
        return header_issues(self, base_dir, skip=set(skip), how=how)


class HoldoutParams(Params):
    test_size: float = Field(0.2, gt=0, lt=1, description="share of records held out for test")
    validation_size: float = Field(
        0.0, ge=0, lt=1, description="share held out for validation records, which models that "
                          "use them read (plugin models: thresholds, calibration, early "
                          "stopping); the core's models do not, so they train on fewer "
                          "records")

    @model_validator(mode="after")
    def _fits(self) -> HoldoutParams:
        if self.test_size + self.validation_size >= 1:
            raise ValueError("test_size + validation_size must be below 1")
        return self


class KFoldParams(Params):
    n_splits: int = Field(5, ge=2, le=100, description="number of folds")
    stratify: bool = Field(
        True, description="keep class shares in each fold (classification tasks only; other "
                          "tasks always get plain folds)")


class StratifiedParams(HoldoutParams):
    def check(self, registry: Any, task: TaskType | None = None) -> list[ConfigIssue]:
        """The split keeps class shares, so it needs a classification task."""
        from mlstat_core.errors import ConfigIssue

        if task is None or "classification" in task.tags:
            return []
        return [ConfigIssue("", "component",
                            f"core.stratified keeps class shares, so it needs a classification "
                            f"task; task {task.name!r} has no classes: use core.holdout or "
                            "core.kfold", "core.holdout")]


class GroupParams(HoldoutParams):
    test_size: float = Field(
        0.2, gt=0, lt=1, description="share of groups (not records) held out for test")
    validation_size: float = Field(
        0.0, ge=0, lt=1, description="share of groups (not records) held out for validation")


class LogisticParams(Params):
    C: float = Field(1.0, gt=0, description="inverse regularisation strength")
    max_iter: int = Field(1000, ge=10, description="iterations of the solver")
    class_weight: Literal["balanced"] | None = Field(None, description="reweight rare classes")


class ForestParams(Params):
    n_estimators: int = Field(200, ge=1, le=5000, description="number of trees")
    max_depth: int | None = Field(None, ge=1, description="depth limit of each tree")
    min_samples_leaf: int = Field(1, ge=1, description="smallest leaf")
    class_weight: Literal["balanced", "balanced_subsample"] | None = Field(
        None, description="reweight rare classes")
    n_jobs: int = Field(1, description="CPU cores to use (-1: all)")


class ForestRegressorParams(Params):
    n_estimators: int = Field(200, ge=1, le=5000, description="number of trees")
    max_depth: int | None = Field(None, ge=1, description="depth limit of each tree")
    min_samples_leaf: int = Field(1, ge=1, description="smallest leaf")
    max_features: float = Field(
        1.0, gt=0, le=1, description="share of the inputs considered at each split (1: all)")
    n_jobs: int = Field(1, description="CPU cores to use (-1: all)")


class BoostingParams(Params):
    learning_rate: float = Field(0.1, gt=0, le=1, description="shrinkage of each tree")
    max_iter: int = Field(200, ge=1, description="boosting iterations")
    max_leaf_nodes: int = Field(31, ge=2, description="leaves per tree")
