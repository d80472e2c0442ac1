"""Model components: edit-and-impute methods (PMM, gradient boosting, donor, ratio,
regression) sharing one editing process, and the suspicion scorer.

``predict(frame)`` returns, with the same index: each variable after editing, one
``<var>__flag`` per variable (``original``, ``edited`` or ``imputed:<method>``), ``edit_pass``
(the record passes every edit), ``needs_review`` with ``review_reason``, ``suspicion`` (the
record's largest robust z-score), ``failed_rules`` (rules failed before editing) and
``reasons`` (JSON: field -> why it changed). The input frame is never modified.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mlstat_core.artifacts import load_skops, save_skops, write_json
from mlstat_core.components import Dataset, Model
from mlstat_core.errors import DataError, ModelError
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
from mlstat_editimpute.metadata import numeric_frame
from mlstat_editimpute.rules import RuleSet

FITTED_FILE = "fitted.skops"
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


def _threads(n: int) -> Any:
    """Limit OpenMP/BLAS threads: gradient boosting on a shared machine otherwise
    oversubscribes the cores and runs many times slower."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n)


def merged_rules(dataset_rules: list[str], model_rules: list[str]) -> RuleSet:
    """The loader's rules and the model's, without exact duplicates."""
    texts = list(dict.fromkeys([*dataset_rules, *model_rules]))
    return RuleSet.parse(texts)


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

    # -- what each method sets ---------------------------------------------------------------

    def build_imputer(self) -> Imputer:
        raise NotImplementedError

    # -- fitting -------------------------------------------------------------------------------

    def fit(self, train: Dataset, validation: Dataset | None = None) -> EditImputeModel:
        with _threads(self.params.threads):
            return self._fit(train)

    def _fit(self, train: Dataset) -> EditImputeModel:
        p = self.params
        self.roles = train.roles
        meta = train.metadata or {}
        rules = merged_rules(list(meta.get("edit_rules") or []), list(p.rules))
        rules.check_variables(list(train.frame.columns), where="the data set's columns")
        variables = list(p.variables) or list(train.roles.features)
        if not variables:
            raise DataError("no variables to edit: set the model's `variables` or the loader's "
                            "features")
        extra = [v for v in rules.variables if v not in variables]
        self.variables = variables + extra
        self.infos = {v: dict((meta.get("variables") or {}).get(v, {})) for v in self.variables}
        X = numeric_frame(train.frame, self.variables, what="training data")
        for v in variables:
            if X[v].isna().all():
                raise DataError(f"variable {v!r} has no observed value in the training data "
                                "(every record is missing): nothing to learn its imputation "
                                "from; drop it from `variables` or supply data")
        imputable = {v: (v not in extra) and bool(self.infos[v].get("imputable", True))
                     for v in self.variables}
        for v in self.variables:
            self.infos[v].setdefault("type", "integer" if X[v].dropna().mod(1).eq(0).all()
                                     else "numeric")
        self.targets = [v for v in self.variables if imputable[v]]
        self.rule_texts = [r.text for r in rules]
        self.editor = Editor(self.variables, self.infos, rules, dict(p.weights), imputable)
        self.editor.fit(X, check=p.check_consistency)
        self.scorer = None
        if p.detect or p.correct_units:
            self.scorer = Scorer(self.variables, seed=self.seed,
                                 max_rows=min(p.max_train_rows, 50_000)).fit(X)
        clean = self._clean(X)
        self.imputer = self.build_imputer()
        if isinstance(self.imputer, DonorImputer):
            self.imputer.fit(clean, self.editor.passes(clean.to_numpy(float)))
        else:
            self.imputer.fit(clean)
        return self

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
        for k, rule in enumerate(ed.rules.rules):
            rows = failed[:, k]
            if rows.any():
                for v in rule.variables:
                    values[rows, self.variables.index(v)] = np.nan
        return pd.DataFrame(values, columns=self.variables, index=X.index)

    # -- predicting ----------------------------------------------------------------------------

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.editor is None or self.imputer is None:
            raise ModelError(f"{type(self).__name__} is not fitted; call fit first")
        with _threads(self.params.threads):
            return self._predict(frame)

    def _predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        X = numeric_frame(frame, self.variables, what="input")
        outcome = self.editor.run(X, self.imputer, self.scorer, p.detect, p.detect_threshold,
                                  p.correct_units)
        out = outcome.values.copy()
        for j, v in enumerate(self.variables):
            out[v + FLAG] = outcome.flags[:, j]
        out["edit_pass"] = outcome.passes_after
        out["needs_review"] = outcome.needs_review
        out["review_reason"] = outcome.review_reason.astype(str)
        out["suspicion"] = np.round(outcome.suspicion, 4)
        names = [r.name for r in self.editor.rules.rules]
        failed = np.full(len(out), "", dtype=object)
        for i in np.flatnonzero(outcome.failed_before.any(axis=1)):
            failed[i] = ",".join(n for n, f in zip(names, outcome.failed_before[i], strict=True)
                                 if f)
        out["failed_rules"] = failed
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
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        edited, audit = edited_and_audit(test.frame, predictions, self.variables)
        written = []
        for name, table in (("edited.csv", edited), ("audit.csv", audit)):
            tmp = directory / f".{name}.partial"
            table.to_csv(tmp, index=False)
            tmp.replace(directory / name)
            written.append(directory / name)
        summary = edit_summary(predictions, self.variables, self.rule_texts)
        written.append(write_json(directory / "edit_summary.json", summary))
        return written

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
            imputer=self.imputer.json_state())

    @classmethod
    def load(cls, directory: Path) -> EditImputeModel:
        directory = Path(directory)
        model, state = cls.read_state(directory, cls.params_type)
        model.variables, model.targets = state["variables"], state["targets"]
        model.infos, model.rule_texts = state["infos"], state["rules"]
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


def edited_and_audit(frame: pd.DataFrame, predictions: pd.DataFrame, variables: list[str]
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The edited data set (input columns with edited values and flags) and the audit log."""
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
        old = pd.to_numeric(edited[v], errors="coerce").to_numpy(float)
        new = pred[v].to_numpy(float)
        flag = pred[v + FLAG].astype(str).to_numpy()
        edited[v] = new
        edited[v + FLAG] = flag
        changed = np.flatnonzero((flag != ORIGINAL) | ~(
            (old == new) | (np.isnan(old) & np.isnan(new))))
        for i in changed:
            rows.append({"record": records.iloc[i], "field": v,
                         "old_value": None if np.isnan(old[i]) else old[i],
                         "new_value": None if np.isnan(new[i]) else new[i],
                         "flag": flag[i], "reason": reasons[i].get(v, "")})
    for extra in ("edit_pass", "needs_review", "review_reason"):
        if extra in pred.columns:
            edited[extra] = pred[extra].to_numpy()
    audit = pd.DataFrame(rows, columns=["record", "field", "old_value", "new_value", "flag",
                                        "reason"])
    return edited, audit


def edit_summary(predictions: pd.DataFrame, variables: list[str], rules: list[str]
                 ) -> dict[str, Any]:
    flags = {v: predictions[v + FLAG].astype(str).value_counts().to_dict()
             for v in variables if v + FLAG in predictions.columns}
    failed: dict[str, int] = {}
    for names in predictions.get("failed_rules", pd.Series(dtype=str)).astype(str):
        for n in filter(None, names.split(",")):
            failed[n] = failed.get(n, 0) + 1
    return {"records": len(predictions), "rules": rules,
            "records_failing_before": failed,
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
        self.scorer: Scorer | None = None
        self.forest: Any = None
        self.forest_scale: list[float] = [0.0, 1.0]

    def fit(self, train: Dataset, validation: Dataset | None = None) -> DetectModel:
        with _threads(self.params.threads):
            return self._fit(train)

    def _fit(self, train: Dataset) -> DetectModel:
        p = self.params
        self.roles = train.roles
        self.variables = list(p.variables) or list(train.roles.features)
        X = numeric_frame(train.frame, self.variables, what="training data")
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
        with _threads(self.params.threads):
            X = numeric_frame(frame, self.variables, what="input")
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
                         scorer=self.scorer.json_state(), forest_scale=self.forest_scale)

    @classmethod
    def load(cls, directory: Path) -> DetectModel:
        directory = Path(directory)
        model, state = cls.read_state(directory, P.DetectParams)
        model.variables = state["variables"]
        fitted = load_skops(directory / FITTED_FILE, trusted=cls.trusted_types)
        model.scorer = Scorer.restore(state["scorer"], fitted["scorer"])
        model.forest = fitted["forest"]
        model.forest_scale = list(state["forest_scale"])
        return model
