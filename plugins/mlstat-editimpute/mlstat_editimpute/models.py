"""Model components: edit-and-impute methods (PMM, gradient boosting, donor, ratio,
regression) sharing one editing process, and the suspicion scorer.

``predict(frame)`` returns, with the same index: each variable after editing, one
``<var>__flag`` per variable (``original``, ``edited``, ``imputed:<method>``, or
``suspicious``: kept as received though detection found it extreme), ``edit_pass``
(the record passes every edit, and holds no value outside its metadata range, and misses no
value, that may not be imputed, and, with ``suspicious = 'review'``, holds no suspicious value
kept for a clerk), ``needs_review`` (exactly the records that do not pass: those a
person must see) with ``review_reason``, ``suspicion`` (the
record's largest robust z-score), ``failed_rules`` (rules the record fails as received),
``failed_rules_localised`` (rules it still fails after deductive corrections, detection and
out-of-range blanking: what error localisation works on) and ``reasons`` (JSON: field -> why
it changed). The input frame is never modified.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mlstat_core.artifacts import load_skops, save_skops, write_json
from mlstat_core.components import ColumnRoles, Dataset, Model
from mlstat_core.errors import ConfigError, DataError, ModelError
from mlstat_core.io import formula_cells, formula_warning
from mlstat_core.threads import limited_threads
from mlstat_editimpute import params as P
from mlstat_editimpute.detect import Scorer
from mlstat_editimpute.editing import ORIGINAL, Editor
from mlstat_editimpute.imputers import (
    ChainedImputer,
    DonorImputer,
    Imputer,
    RatioImputer,
    RegressionImputer,
)
from mlstat_editimpute.indicators import per_rule_counts
from mlstat_editimpute.metadata import as_numbers, numeric_frame
from mlstat_editimpute.rules import RuleSet, WholeNumberRule, closest_name

FITTED_FILE = "fitted.skops"
MIN_PASS_SHARE = 0.01
"""An edit rule that fewer than this share of the training records it can be checked on pass
is contradicted by the data: fit stops rather than rewrite one of its variables everywhere."""
FLAG = "__flag"

_SK = "sklearn.ensemble._hist_gradient_boosting"
TRUSTED: tuple[str, ...] = (
    "numpy.dtype",
    f"{_SK}.binning._BinMapper",
    f"{_SK}.gradient_boosting.HistGradientBoostingRegressor",
    f"{_SK}.predictor.TreePredictor",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss.loss.AbsoluteError",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn.ensemble._forest.RandomForestRegressor",
    "sklearn.tree._classes.DecisionTreeRegressor",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._iforest.IsolationForest",
    "sklearn.tree._classes.ExtraTreeRegressor",
    "builtins.slice",
)


MIN_RECORDS = 2
"""Training records below which fit refuses: nothing to learn from."""
FEW_USABLE_COUNT = 30
"""Usable training values of a variable to impute below which fit warns: too few to trust."""
FEW_USABLE = 0.01
"""Share of the training records below which a variable's usable values are too few to learn
its imputations from (fit warns, as it refuses a rule that fewer records pass)."""


def few_usable_warning(few: dict[str, int], records: int) -> str:
    """One warning naming every variable to impute with fewer than :data:`FEW_USABLE_COUNT`
    usable training values (``few``: variable -> usable values, of ``records``)."""
    counts = set(few.values())
    if len(counts) == 1:
        listed = ", ".join(map(repr, few))
        count = f"only {counts.pop()} usable training values ("
    else:
        listed = ", ".join(f"{v!r} ({u})" for v, u in few.items())
        count = "only N usable training values each (N in brackets, "
    verb = "has" if len(few) == 1 else "have"
    others = "" if all(u == records for u in few.values()) else (
        "; in the other records the value is missing, outside the allowed range, suspicious "
        "or in a failed edit")
    return (f"{listed} {verb} {count}of {records:,} records{others}): "
            f"{'its' if len(few) == 1 else 'their'} imputations and suspicion scores are "
            "learnt from too few records to trust; train on more records (at least "
            f"{FEW_USABLE_COUNT} with usable values)")


def with_inputs(roles: ColumnRoles, variables: list[str]) -> ColumnRoles:
    """``roles`` (a copy) with each of ``variables`` (those the model edits or keeps) that
    its input columns lack among the auxiliary ones: one only an edit rule names, or one of
    the model's own `variables`. The core profiles the fitted model's input columns for the
    drift check at predict, which then warns of such a variable empty in every new record
    over the whole input, whatever the chunk size."""
    named = {*roles.input_columns(), roles.id, roles.weights, roles.target, roles.groups}
    extra = [v for v in variables if v not in named]
    return replace(roles, auxiliary=[*roles.auxiliary, *extra]) if extra else roles


def merged_rules(dataset_rules: list[str], model_rules: list[str]) -> RuleSet:
    """The loader's rules and the model's, without exact duplicates."""
    texts = list(dict.fromkeys([*dataset_rules, *model_rules]))
    return RuleSet.parse(texts)


def _refuse_made(made: list[str]) -> None:
    """Refuse edit variables a preprocessing step derives (``made``): an edited value could
    not be written back to the records' own columns."""
    if made:
        raise ConfigError(
            f"the edit rules or `variables` name {', '.join(map(repr, made))}, which the "
            "records do not have (a preprocessing step makes it): an edited value could "
            "not be written back to the records' own columns; write the rule on the "
            "columns it is made from (`a + b <= 10`, not a derived `a_and_b`)")


class EditImputeModel(Model):
    """Shared fit / predict / save / load / write_outputs of the edit-and-impute methods."""

    params_type: ClassVar[type[P._ModelParams]] = P._ModelParams
    trusted_types: ClassVar[tuple[str, ...]] = TRUSTED

    def __init__(self, params: P._ModelParams | None = None, task: str = "") -> None:
        super().__init__(params if params is not None else self.params_type(), task)
        self.variables: list[str] = []
        self.targets: list[str] = []
        self.infos: dict[str, dict[str, Any]] = {}
        self.rule_texts: list[str] = []
        self.editor: Editor | None = None
        self.scorer: Scorer | None = None
        self.imputer: Imputer | None = None
        self.fit_warnings: list[str] = []
        self.decimal = "."  # the training file's decimal mark (the loader's `decimal`)

    # -- what each method sets ---------------------------------------------------------------

    def build_imputer(self) -> Imputer:
        raise NotImplementedError

    # -- fitting -------------------------------------------------------------------------------

    def fit(self, train: Dataset, validation: Dataset | None = None) -> EditImputeModel:
        with limited_threads(self.params.threads):
            return self._fit(train)

    def _fit(self, train: Dataset) -> EditImputeModel:
        p = self.params
        self.roles = train.roles
        meta = train.metadata or {}
        rules = merged_rules(list(meta.get("edit_rules") or []), list(p.rules))
        rules.check_variables(list(train.frame.columns), where="the data set's columns")
        variables = list(p.variables) or list(train.roles.features)
        for column, role in ((train.roles.id, "id"), (train.roles.weights, "weights")):
            if column and column in p.variables:
                raise ConfigError(f"model `variables` names {column!r}, the data set's {role} "
                                  "column, which is never edited or imputed: remove it")
        if not variables:
            raise DataError("no variables to edit: set the model's `variables` or the loader's "
                            "features")
        extra = [v for v in rules.variables if v not in variables]
        self.variables = variables + extra
        _refuse_made([v for v in self.variables if v in self.made_columns])
        self.roles = with_inputs(train.roles, self.variables)
        described = meta.get("variables") or {}
        self.infos = {v: dict(described.get(v, {})) for v in self.variables}
        self.decimal = str(meta.get("decimal") or ".")  # new records are read with it too
        self._check_weights(p.weights)
        self._check_enough_records(len(train.frame))
        X = numeric_frame(train.frame, self.variables, what="training data", infos=self.infos,
                          decimal=self.decimal)
        for v in variables:
            if X[v].isna().all():
                raise DataError(f"variable {v!r} has no observed value in the training data "
                                "(every record is missing): nothing to learn its imputation "
                                "from; drop it from `variables` or supply data")
        for v in extra:
            if X[v].isna().all():
                rule = next(r for r in rules if v in r.variables)
                raise DataError(f"edit rule {rule.text!r} names {v!r}, which has no value in "
                                "the training data (every record is missing), so the rule can "
                                f"never be checked: fill in {v!r} or drop the rule")
        self.fit_warnings = []
        if extra:
            absent = [v for v in extra if v not in described]
            why = ("not in the model's `variables`" if not absent else
                   "absent from the variable metadata" if absent == extra else
                   f"{', '.join(map(repr, absent))} absent from the variable metadata")
            self._warn(f"edit rule variable(s) {', '.join(map(repr, extra))} are not among the "
                       f"variables to edit ({why}): they are kept as reported, never edited or "
                       "imputed, and a record missing one goes to manual review; add them to "
                       "the metadata (or `variables`) to edit them")
        imputable = {v: (v not in extra) and bool(self.infos[v].get("imputable", True))
                     for v in self.variables}
        for v in self.variables:  # a type the metadata lacks is guessed, and marked so
            if not self.infos[v].get("type"):
                self.infos[v].update(type="integer" if X[v].dropna().mod(1).eq(0).all()
                                     else "numeric", guessed=True)
        self.targets = [v for v in self.variables if imputable[v]]
        self.rule_texts = [r.text for r in rules]
        self.editor = Editor(self.variables, self.infos, rules, dict(p.weights), imputable)
        self.editor.fit(X, check=p.check_consistency)
        for message in self.editor.range_warnings(X):
            self._warn(message)
        self.scorer = None
        if p.detect or p.correct_units:
            self.scorer = Scorer(self.variables, seed=self.seed,
                                 max_rows=min(p.max_train_rows, 50_000)).fit(X)
        clean = self._clean(X)
        self._warn_few_usable(clean)
        self.imputer = self.build_imputer()
        if isinstance(self.imputer, DonorImputer):
            self.imputer.fit(clean, self.editor.passes(clean.to_numpy(float)))
        else:
            self.imputer.fit(clean)
        return self

    def _warn(self, message: str) -> None:
        """A warning of the fit: shown at once, kept for the edit report and the outputs."""
        self.fit_warnings.append(message)
        warnings.warn(message, UserWarning, stacklevel=3)

    def _check_weights(self, weights: dict[str, float]) -> None:
        """ConfigError for a reliability weight of a variable that is not edited (which
        variables are edited is known only once the data is; positivity is in the params)."""
        for name in weights:
            if name not in self.variables:
                close = closest_name(name, self.variables)
                hint = f" (did you mean {close!r}?)" if close else ""
                raise ConfigError(f"model `weights` names variable {name!r}, which is not a "
                                  f"variable being edited{hint}; the variables are "
                                  f"{', '.join(map(repr, self.variables))}")

    def _clean(self, X: pd.DataFrame) -> pd.DataFrame:
        """The training values the imputer learns from: suspicious, out-of-range values and
        the variables of failed edits blanked."""
        assert self.editor is not None
        ed, p = self.editor, self.params
        values = X[self.variables].to_numpy(float, copy=True)
        bad = (values < ed.lower) | (values > ed.upper)
        if self.scorer is not None and p.detect:
            z = np.nan_to_num(self.scorer.zscores(X[self.variables]), nan=0.0)
            bad |= z > p.detect_threshold
        values[bad] = np.nan
        ok, evaluable = ed.evaluate(values)
        failed = evaluable & ~ok
        self._check_rules_met(failed, evaluable)
        for k, rule in enumerate(ed.rules.rules):
            rows = failed[:, k]
            if rows.any():
                for v in rule.variables:
                    values[rows, self.variables.index(v)] = np.nan
        clean = pd.DataFrame(values, columns=self.variables, index=X.index)
        self._check_training_values(X, clean, failed, evaluable)
        return clean

    def _check_rules_met(self, failed: np.ndarray, evaluable: np.ndarray) -> None:
        """DataError naming each rule that (almost) no training record passes, of those it can
        be checked on (a value missing, outside its range or blanked as suspicious leaves a
        record unchecked): such a rule is contradicted by the data, and editing would change
        one of its variables in nearly every record, learning it from almost nothing."""
        assert self.editor is not None
        checked = evaluable.sum(axis=0)
        passing = (evaluable & ~failed).sum(axis=0)
        bad = [(r, int(passing[k]), int(checked[k]))
               for k, r in enumerate(self.editor.rules.rules)
               if checked[k] and passing[k] < MIN_PASS_SHARE * checked[k]]
        if not bad:
            return
        one = len(bad) == 1
        listed = "; ".join(f"{r.text!r} ({n} of the {m:,} records it can be checked on)"
                           for r, n, m in bad)
        names = ", ".join(map(repr, dict.fromkeys(v for r, _, _ in bad for v in r.variables)))
        almost = "" if all(n == 0 for _, n, _ in bad) else "(almost) "
        raise DataError(
            f"{almost}no training record passes edit rule{'' if one else 's'} {listed}, so "
            f"{names} {'has' if ',' not in names else 'have'} {almost}no usable "
            "training value (the values of a failed rule's variables are not learnt from) and "
            f"would be changed in {almost}every record: fix or drop "
            f"{'that rule' if one else 'those rules'}, which the data contradict"
            + ("; a whole-number rule comes from the metadata's type: if the variable is "
               "measured, not counted, set its type to numeric" if any(
                   isinstance(r, WholeNumberRule) for r, _, _ in bad) else ""))

    @staticmethod
    def _check_enough_records(n: int) -> None:
        """DataError for fewer than :data:`MIN_RECORDS` training records."""
        if n < MIN_RECORDS:
            raise DataError(f"the training data has {n} record, too few to learn "
                            "imputations or suspicion scores from: train on more records "
                            f"(at least {FEW_USABLE_COUNT} with usable values)")

    def _warn_few_usable(self, clean: pd.DataFrame) -> None:
        """Warn, once for them all, of the variables to impute with usable training values in
        fewer than :data:`FEW_USABLE_COUNT` records (a tiny training file); and of each with
        usable values in fewer than :data:`FEW_USABLE` of the records: its imputations are
        learnt from almost nothing (a column read wrongly, or a variable missing by design),
        though every one is flagged."""
        n = len(clean)
        usable = {v: int(clean[v].notna().sum()) for v in self.targets}
        few = {v: u for v, u in usable.items() if FEW_USABLE * n <= u < FEW_USABLE_COUNT}
        if few:
            self._warn(few_usable_warning(few, n))
        for v, u in usable.items():
            if u < FEW_USABLE * n:
                self._warn(f"{v!r} has a usable training value in only {u:,} of "
                           f"{n:,} records ({u / n:.1%}; the others are "
                           "missing, outside the allowed range, suspicious or in failed edits): "
                           "its imputations are learnt from almost nothing; check how "
                           f"{v!r} is read (`na_values`, the metadata's range), or leave it out "
                           "of the variables to edit")

    def _check_training_values(self, X: pd.DataFrame, clean: pd.DataFrame, failed: np.ndarray,
                               evaluable: np.ndarray) -> None:
        """DataError when the blanking of failed edits and out-of-range values leaves a
        variable with no training value at all: the rules (or ranges) reject every record."""
        assert self.editor is not None
        ed = self.editor
        emptied = [v for v in self.variables if X[v].notna().any() and clean[v].isna().all()]
        if not emptied:
            return
        rules = [r for k, r in enumerate(ed.rules.rules)
                 if evaluable[:, k].any() and failed[evaluable[:, k], k].all()
                 and any(v in r.variables for v in emptied)]
        names = ", ".join(map(repr, emptied))
        if rules:
            one = len(rules) == 1
            listed = "; ".join(repr(r.text) for r in rules)
            raise DataError(
                f"no training record passes edit rule{'' if one else 's'} {listed}, so "
                f"{names} {'has' if len(emptied) == 1 else 'have'} no usable training value "
                "left (the values of a failed rule's variables are not learnt from): fix or "
                f"drop {'that rule' if one else 'those rules'}, which the data contradict")
        ranges = ", ".join(f"{v!r} [{ed.lower[j]:g}, {ed.upper[j]:g}]" for v in emptied
                           for j in [self.variables.index(v)])
        raise DataError(
            f"{names} {'has' if len(emptied) == 1 else 'have'} no usable training value left "
            f"once values outside the allowed range ({ranges}), suspicious values and the "
            "variables of failed edit rules are blanked: check the metadata's min and max and "
            "the edit rules against the data")

    # -- predicting ----------------------------------------------------------------------------

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.editor is None or self.imputer is None:
            raise ModelError(f"{type(self).__name__} is not fitted; call fit first")
        with limited_threads(self.params.threads):
            return self._predict(frame)

    def _predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        X = numeric_frame(frame, self.variables, what="input", infos=self.infos,
                          decimal=self.decimal, new_records=True)
        outcome = self.editor.run(X, self.imputer, self.scorer, p.detect, p.detect_threshold,
                                  p.correct_units, p.suspicious)
        out = outcome.values.copy()
        for v in self.integer_outputs():
            out[v] = _as_integer(out[v])
        for j, v in enumerate(self.variables):
            out[v + FLAG] = outcome.flags[:, j]
        out["edit_pass"] = outcome.passes_after
        out["needs_review"] = outcome.needs_review
        out["review_reason"] = outcome.review_reason.astype(str)
        out["suspicion"] = np.round(outcome.suspicion, 4)
        names = [r.name for r in self.editor.rules.rules]
        out["failed_rules"] = _rule_lists(outcome.failed_before, names)
        out["failed_rules_localised"] = _rule_lists(outcome.failed_localised, names)
        reasons = np.full(len(out), "{}", dtype=object)
        for i in np.flatnonzero((outcome.reasons != "").any(axis=1)):
            reasons[i] = json.dumps({v: r for v, r in zip(self.variables, outcome.reasons[i],
                                                          strict=True) if r},
                                    ensure_ascii=False)
        out["reasons"] = reasons
        return out

    # -- outputs -------------------------------------------------------------------------------

    def write_outputs(self, directory: Path, predictions: pd.DataFrame,
                      test: Dataset) -> list[Path]:
        """``edited.csv`` (the edited data set with flags), ``audit.csv`` (one row per changed
        cell: record, field, old value, new value, flag, reason) and ``edit_summary.json``."""
        _refuse_made([v for v in self.variables if v not in test.frame.columns])
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        edited, audit = edited_and_audit(test.frame, predictions, self.variables,
                                         self.whole_variables(), self.decimal)
        written = []
        for name, table in (("edited.csv", edited), ("audit.csv", audit)):
            tmp = directory / f".{name}.partial"
            table.to_csv(tmp, index=False)
            tmp.replace(directory / name)
            written.append(directory / name)
            count, first = formula_cells(table)
            if count:
                warnings.warn(formula_warning(count, first, directory / name,
                                              "the data as Parquet"), stacklevel=2)
        assert self.editor is not None  # with the whole-number edits the metadata's types make
        summary = edit_summary(predictions, self.variables, [r.text for r in self.editor.rules])
        summary["warnings"] = list(self.fit_warnings)
        written.append(write_json(directory / "edit_summary.json", summary))
        return written

    def integer_outputs(self) -> list[str]:
        """The variables whose predictions are integers (``int64``, nullable ``Int64`` where
        values are missing): those the metadata declares integer (or categorical) that may be
        imputed, whose every value out of editing is whole (a value that is not fails its
        whole-number edit and is imputed). Decided by the model, never by the values of a
        batch: an engine that fixes the output's column types from a first batch (Spark, the
        local engine's chunks) gets the same types from every batch. A variable that may not
        be imputed keeps a reported 1.5, and one only guessed whole keeps a fraction where
        rounding would break an edit (it has no whole-number edit): both stay floats."""
        assert self.editor is not None
        declared = {r.variables[0] for r in self.editor.whole_rules}
        return [v for j, v in enumerate(self.variables)
                if v in declared and self.editor.imputable[j]]

    def whole_variables(self) -> list[str]:
        """The variables recorded in whole numbers: integer or categorical, or recorded at a
        precision of 1 or coarser in the training data (pounds rounded to tens)."""
        assert self.editor is not None
        return [v for j, v in enumerate(self.variables)
                if self.editor.integer[j] or self.editor.steps[j] >= 1]

    # -- persistence ---------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        if self.editor is None or self.imputer is None:
            raise ModelError("cannot save a model that is not fitted")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_skops({"scorer": self.scorer.state() if self.scorer else None,
                    "imputer": self.imputer.state()}, directory / FITTED_FILE)
        self.write_state(
            directory, variables=self.variables, targets=self.targets, infos=self.infos,
            rules=self.rule_texts, imputable=[bool(x) for x in self.editor.imputable],
            editor=self.editor.json_state(),
            scorer=self.scorer.json_state() if self.scorer else None,
            imputer=self.imputer.json_state(), warnings=self.fit_warnings, decimal=self.decimal)

    @classmethod
    def load(cls, directory: Path) -> EditImputeModel:
        directory = Path(directory)
        # a model saved before `suspicious` existed imputed suspicious values: it still does
        model, state = cls.read_state(directory, cls.params_type,
                                      defaults={"suspicious": "impute"})
        model.variables, model.targets = state["variables"], state["targets"]
        model.infos, model.rule_texts = state["infos"], state["rules"]
        if not any("guessed" in info for info in model.infos.values()):
            # saved before declared and guessed types were told apart: no whole-number edit,
            # so that the model edits as it did when it was saved
            model.infos = {v: {**info, "guessed": True} for v, info in model.infos.items()}
        model.fit_warnings = list(state.get("warnings", []))
        model.decimal = str(state.get("decimal") or ".")  # saved before it was kept: "."
        fitted = load_skops(directory / FITTED_FILE, trusted=cls.trusted_types)
        imputable = dict(zip(model.variables, state["imputable"], strict=True))
        model.editor = Editor(model.variables, model.infos, RuleSet.parse(model.rule_texts),
                              dict(model.params.weights), imputable)
        model.editor.restore(state["editor"])
        model.scorer = Scorer.restore(state["scorer"], fitted["scorer"]) \
            if state.get("scorer") else None
        model.imputer = model.build_imputer()
        model.imputer.restore(state["imputer"], fitted["imputer"])
        return model


MAX_EXACT_INTEGER = 2.0 ** 53
"""Whole numbers beyond this are not all exact as floats: such a column stays as it is."""


def _whole(values: np.ndarray) -> bool:
    """Whether every value present is a whole number that a float holds exactly."""
    present = values[~np.isnan(values)]
    return bool(np.all((np.mod(present, 1) == 0) & (np.abs(present) < MAX_EXACT_INTEGER)))


def as_input_kind(before: pd.Series, new: np.ndarray, whole: bool) -> pd.Series:
    """The edited values of a column in the kind the input gave it: an integer column stays
    integer (nullable ``Int64`` where values are still missing), and so does a float column of
    a variable recorded in whole numbers (``whole``) whose values are all whole (a CSV column
    of whole numbers with blanks is read as floats), as long as every edited value is whole:
    an unchanged record keeps ``90``, not ``90.0``. Anything else is a float column."""
    out = pd.Series(new, dtype=float)
    as_read = pd.to_numeric(before, errors="coerce").to_numpy(float)
    integer = pd.api.types.is_integer_dtype(before) and not pd.api.types.is_bool_dtype(before)
    floats = pd.api.types.is_float_dtype(before) and whole and _whole(as_read)
    if not (integer or floats) or not _whole(new):
        return out
    missing = bool(np.isnan(new).any())
    if integer:  # the input's own integer type, where every value fits it
        nullable = not isinstance(before.dtype, np.dtype)
        info = np.iinfo(before.dtype.numpy_dtype if nullable else before.dtype)
        present = new[~np.isnan(new)]
        fits = not len(present) or (present.min() >= info.min and present.max() <= info.max)
        if fits and (nullable or not missing):
            return out.astype(before.dtype)
    return out.astype("Int64" if missing else "int64")


def _as_integer(values: pd.Series) -> pd.Series:
    """Whole values as ``int64``, or ``Int64`` where some are missing (a value left fractional
    would be a defect of the editing: it is kept as a float rather than cut)."""
    x = values.to_numpy(float)
    if not _whole(x):
        return values
    return values.astype("Int64" if np.isnan(x).any() else "int64")


def _text_as_read(before: pd.Series, same: np.ndarray) -> bool:
    """Whether a column read as text (one an edit rule names, carried through unedited)
    ends with every value as read (``same``, per record): it is then written as read
    (``01``, not ``1.0``; ``1,5`` in a decimal-comma file)."""
    return not pd.api.types.is_numeric_dtype(before) and bool(same.all())


def _cell(value: float, integer: bool) -> Any:
    """A value of the audit log: None when missing, a whole number as one in an integer
    column."""
    if np.isnan(value):
        return None
    return int(value) if integer and float(value).is_integer() else float(value)


def edited_and_audit(frame: pd.DataFrame, predictions: pd.DataFrame, variables: list[str],
                     whole: list[str] | None = None, decimal: str = "."
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The edited data set (input columns with edited values and flags) and the audit log.
    Values keep the input column's kind (see :func:`as_input_kind`; ``whole``: the variables
    recorded in whole numbers), in the edited data and in the log's old and new values; a
    column read as text is read with the model's ``decimal`` mark, as predict read it."""
    if len(frame) != len(predictions):
        raise DataError(f"{len(predictions)} predictions for {len(frame)} records")
    edited = frame.reset_index(drop=True).copy()
    pred = predictions.reset_index(drop=True)
    records = pred["record_id"] if "record_id" in pred.columns else pd.Series(frame.index)
    rows = []
    reasons = [json.loads(r) if isinstance(r, str) else {} for r in pred.get(
        "reasons", pd.Series(["{}"] * len(pred)))]
    for v in variables:
        if v not in pred.columns:
            continue
        old = as_numbers(edited[v], decimal)
        new = pred[v].to_numpy(float)
        flag = pred[v + FLAG].astype(str).to_numpy()
        written = as_input_kind(edited[v], new, v in (whole or []))
        integer = pd.api.types.is_integer_dtype(written)
        same = (old == new) | (np.isnan(old) & np.isnan(new))
        if not _text_as_read(edited[v], same):
            edited[v] = written.set_axis(edited.index)
        edited[v + FLAG] = flag
        changed = np.flatnonzero((flag != ORIGINAL) | ~same)
        for i in changed:
            rows.append({"record": records.iloc[i], "field": v,
                         "old_value": _cell(old[i], integer),
                         "new_value": _cell(new[i], integer),
                         "flag": flag[i], "reason": reasons[i].get(v, "")})
    for extra in ("edit_pass", "needs_review", "review_reason"):
        if extra in pred.columns:
            edited[extra] = pred[extra].to_numpy()
    audit = pd.DataFrame(rows, columns=["record", "field", "old_value", "new_value", "flag",
                                        "reason"], dtype=object)
    return edited, audit


def _rule_lists(failed: np.ndarray, names: list[str]) -> np.ndarray:
    """Per record, the comma-separated names of the rules it fails ("" when none)."""
    out = np.full(len(failed), "", dtype=object)
    for i in np.flatnonzero(failed.any(axis=1)):
        out[i] = ",".join(n for n, f in zip(names, failed[i], strict=True) if f)
    return out


def edit_summary(predictions: pd.DataFrame, variables: list[str], rules: list[str]
                 ) -> dict[str, Any]:
    """Counts of the edit outcomes. ``records_failing_before``: per rule, records failing it
    as received; ``records_failing_at_localisation``: still failing once deductive
    corrections, detection and out-of-range blanking were done (what localisation worked
    on)."""
    flags = {v: predictions[v + FLAG].astype(str).value_counts().to_dict()
             for v in variables if v + FLAG in predictions.columns}
    before = predictions.get("failed_rules")
    return {"records": len(predictions), "rules": rules,
            "records_failing_any_before": int((before.astype(str) != "").sum())
            if before is not None else 0,
            "records_failing_before": per_rule_counts(before),
            "records_failing_at_localisation":
                per_rule_counts(predictions.get("failed_rules_localised")),
            "records_passing_after": int(predictions["edit_pass"].sum()),
            "records_for_review": int(predictions["needs_review"].sum()),
            "flags": flags}


class PmmModel(EditImputeModel):
    params_type = P.PmmParams

    def build_imputer(self) -> Imputer:
        p = self.params
        return ChainedImputer(self.variables, self.targets, self.seed, learner=p.learner,
                              max_iter=p.max_iter, iterations=p.iterations, pmm=True,
                              donors=p.donors, max_rows=p.max_train_rows, spread=p.spread,
                              rank_match=p.rank_match)

    def batch_dependence(self) -> str | None:
        if not self.params.rank_match:
            return None
        return ("editimpute.pmm hands the drawn donor values out again within each batch "
                "(rank_match = true); set rank_match = false in [model] and rerun for "
                "imputations that do not depend on chunks or partitions")


class GbmModel(EditImputeModel):
    params_type = P.GbmParams

    def build_imputer(self) -> Imputer:
        p = self.params
        return ChainedImputer(self.variables, self.targets, self.seed, learner=p.learner,
                              max_iter=p.max_iter, iterations=p.iterations, pmm=False,
                              max_rows=p.max_train_rows)


class DonorModel(EditImputeModel):
    params_type = P.DonorParams

    def build_imputer(self) -> Imputer:
        p = self.params
        return DonorImputer(self.variables, self.targets, self.seed, candidates=p.candidates,
                            match_variables=list(p.match_variables), max_rows=p.max_train_rows)


class RatioModel(EditImputeModel):
    params_type = P.RatioParams

    def build_imputer(self) -> Imputer:
        return RatioImputer(self.variables, self.targets, self.seed,
                            auxiliary=dict(self.params.auxiliary))


class RegressionModel(EditImputeModel):
    params_type = P.RegressionParams

    def build_imputer(self) -> Imputer:
        return RegressionImputer(self.variables, self.targets, self.seed)


class DetectModel(Model):
    """Scores suspicion per record and cell; changes no value (for routing to clerks)."""

    params_type: ClassVar[type[P.DetectParams]] = P.DetectParams
    trusted_types: ClassVar[tuple[str, ...]] = TRUSTED

    def __init__(self, params: P.DetectParams | None = None, task: str = "") -> None:
        super().__init__(params if params is not None else P.DetectParams(), task)
        self.variables: list[str] = []
        self.decimal = "."  # the training file's decimal mark (the loader's `decimal`)
        self.scorer: Scorer | None = None
        self.forest: Any = None
        self.forest_scale: list[float] = [0.0, 1.0]

    def fit(self, train: Dataset, validation: Dataset | None = None) -> DetectModel:
        with limited_threads(self.params.threads):
            return self._fit(train)

    def _fit(self, train: Dataset) -> DetectModel:
        p = self.params
        self.roles = train.roles
        self.variables = list(p.variables) or list(train.roles.features)
        self.decimal = str((train.metadata or {}).get("decimal") or ".")
        X = numeric_frame(train.frame, self.variables, what="training data",
                          decimal=self.decimal)
        for v in self.variables:
            if X[v].isna().all():
                raise DataError(f"variable {v!r} has no observed value in the training data")
        self.scorer = Scorer(self.variables, self.seed, min(p.max_train_rows, 50_000)).fit(X)
        if p.method == "isolation_forest":
            from sklearn.ensemble import IsolationForest

            feats = self._features(X)
            self.forest = IsolationForest(n_estimators=200, random_state=self.seed).fit(feats)
            raw = -self.forest.score_samples(feats)
            med = float(np.median(raw))
            mad = max(1.4826 * float(np.median(np.abs(raw - med))), 1e-9)
            self.forest_scale = [med, mad]
        return self

    def _features(self, X: pd.DataFrame) -> np.ndarray:
        assert self.scorer is not None
        T = self.scorer._logs(X)
        return np.where(np.isnan(T), 0.0, T)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.scorer is None:
            raise ModelError("DetectModel is not fitted; call fit first")
        with limited_threads(self.params.threads):
            X = numeric_frame(frame, self.variables, what="input", decimal=self.decimal,
                              new_records=True)
            z = np.nan_to_num(self.scorer.zscores(X), nan=0.0)
        out = pd.DataFrame(np.round(z, 3), index=frame.index,
                           columns=[v + "__z" for v in self.variables])
        score = z.max(axis=1) if z.shape[1] else np.zeros(len(X))
        if self.forest is not None:
            raw = -self.forest.score_samples(self._features(X))
            score = (raw - self.forest_scale[0]) / self.forest_scale[1]
        out["suspicion"] = np.round(score, 4)
        out["suspect"] = score > self.params.threshold
        out["suspect_variable"] = np.asarray(self.variables, dtype=object)[z.argmax(axis=1)] \
            if z.shape[1] else ""
        return out

    def save(self, directory: Path) -> None:
        if self.scorer is None:
            raise ModelError("cannot save a model that is not fitted")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_skops({"scorer": self.scorer.state(), "forest": self.forest},
                   directory / FITTED_FILE)
        self.write_state(directory, variables=self.variables,
                         scorer=self.scorer.json_state(), forest_scale=self.forest_scale,
                         decimal=self.decimal)

    @classmethod
    def load(cls, directory: Path) -> DetectModel:
        directory = Path(directory)
        model, state = cls.read_state(directory, P.DetectParams)
        model.variables = state["variables"]
        model.decimal = str(state.get("decimal") or ".")
        fitted = load_skops(directory / FITTED_FILE, trusted=cls.trusted_types)
        model.scorer = Scorer.restore(state["scorer"], fitted["scorer"])
        model.forest = fitted["forest"]
        model.forest_scale = list(state["forest_scale"])
        return model
