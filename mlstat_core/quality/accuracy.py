"""Accuracy indicators: classification, automatic coding, code hierarchies, regression."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from mlstat_core.components import AssessContext, Indicator, IndicatorResult, Plot
from mlstat_core.errors import DataError
from mlstat_core.io import plain
from mlstat_core.quality import stats
from mlstat_core.quality.params import (
    DEFAULT_MIN_RECORDS,
    AutoCodingParams,
    ClassificationParams,
    HierarchyParams,
    RegressionParams,
)

DEFAULT_TARGET_ACCURACY = 0.95
NO_PREDICTION = "<none>"
"""The predicted label of a test record the model left without a prediction (an error)."""
MAX_CLASSES_SHOWN = 40
WIDE_INTERVAL = 0.2
"""Width of the accuracy's interval above which the test records are too few to judge the
model by (the estimate is known only to about +-0.1): the result then warns."""


# --- shared helpers ---------------------------------------------------------------------------


def label_strings(values: pd.Series) -> pd.Series:
    """Labels as text (missing ones None), each whole-number float written as an integer
    (1.0 -> "1"), so that a target read as float and predictions given as int compare equal,
    whatever the series' dtype (a model may give float labels in an object column)."""
    return pd.Series(values).map(_label_text)


def _label_text(value: Any) -> str | None:
    """One label as :func:`label_strings` writes it."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and not isinstance(value, bool):
        if np.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
    return str(value)


def labelled_pairs(ctx: AssessContext) -> tuple[pd.Series, pd.Series]:
    """True and predicted labels (as text) of test records whose true label is known, aligned
    on the test frame's index."""
    if "prediction" not in ctx.predictions.columns:
        raise DataError("the predictions have no `prediction` column")
    y_true = label_strings(ctx.y_true)
    y_pred = label_strings(ctx.y_pred.reindex(y_true.index))
    known = y_true.notna()
    y_pred = y_pred[known].fillna(NO_PREDICTION)
    return y_true[known], y_pred


class Coded(NamedTuple):
    """True and predicted labels as integer codes, for counting (:func:`coded`)."""

    labels: list[str]
    """Every label met, sorted: label ``labels[i]`` is code ``i``."""
    true: np.ndarray
    predicted: tuple[np.ndarray, ...]
    """The codes of each predicted series given, in order."""
    unscored: int | None
    """The code of :data:`NO_PREDICTION` when no true label is it: a record left without a
    prediction is an error, but ``"<none>"`` is no class of the model to average over."""


def coded(y_true: pd.Series, *y_pred: pd.Series) -> Coded:
    """Text labels (:func:`label_strings`, none missing) of the same records as integer
    codes, one code per label met in any series: the classification indicator codes its
    one run's labels so, and ``mlstat compare`` two runs' (its paired figures must be the
    indicator's)."""
    labels = sorted(set(y_true).union(*(set(p) for p in y_pred)))
    code = {label: i for i, label in enumerate(labels)}
    return Coded(labels, y_true.map(code).to_numpy(np.int64),
                 tuple(p.map(code).to_numpy(np.int64) for p in y_pred),
                 code.get(NO_PREDICTION) if NO_PREDICTION not in set(y_true) else None)


def class_probabilities(ctx: AssessContext, index: pd.Index) -> tuple[list[str], np.ndarray] | None:
    """Class names (as text) and the probability matrix of these records, from the
    ``proba_<class>`` columns; None when the predictions carry no probabilities."""
    from mlstat_core.sklearn_model import proba_matrix

    predictions = ctx.predictions.reindex(index)
    classes = getattr(ctx.model, "classes_", None)
    if classes:
        matrix = proba_matrix(predictions, list(classes))
        if matrix is not None:
            return label_strings(pd.Series(list(classes))).tolist(), matrix
    columns = [c for c in predictions.columns if str(c).startswith("proba_")]
    if not columns:
        return None
    names = [str(c)[len("proba_"):] for c in columns]
    return names, predictions[columns].to_numpy(dtype=float)


def unweighted_note(ctx: AssessContext, y_true: pd.Series, y_pred: pd.Series,
                    details: dict[str, Any]) -> str:
    """What to add to the accuracy's explanation when the test records carry survey weights:
    the figure counts records, not the population they stand for, so the weighted share is
    given beside it (and put in ``details`` as ``weighted_accuracy``)."""
    weights = ctx.test.sample_weight
    column = ctx.test.roles.weights
    if weights is None or not column:
        return ""
    w = pd.to_numeric(pd.Series(weights), errors="coerce").reindex(y_true.index)
    w = w.fillna(0.0).to_numpy(float)
    if w.sum() <= 0:
        return ""
    share = float((w * (y_true.to_numpy() == y_pred.to_numpy())).sum() / w.sum())
    details["weighted_accuracy"] = share
    return (f" Each test record counts once: the survey weights ({column!r}) are not applied; "
            f"weighted by them, the share right is {share:.3f} (weighted_accuracy).")


def classes_unknown_to_model(ctx: AssessContext, y_true: pd.Series) -> dict[str, int]:
    """The true classes of test records that the model does not know (not among the classes
    it was trained on), each with its number of records; empty when the model states no
    classes. Such records can only be wrong: they count as errors."""
    classes = getattr(ctx.model, "classes_", None)
    if classes is None or len(classes) == 0:  # a numpy array has no truth value
        return {}
    known = set(label_strings(pd.Series(list(classes))).dropna())
    counts = y_true[~y_true.isin(known)].value_counts()
    return {str(label): int(counts[label]) for label in sorted(counts.index)}


def unknown_classes_note(unknown: dict[str, int]) -> str:
    """What to say of the test records whose true class the model does not know."""
    labels = list(unknown)
    return (f"the model does not know {len(labels)} class(es) of the test records "
            f"({_few(labels)}: absent from its training records): their "
            f"{sum(unknown.values()):,} test record(s) count as errors, with recall 0; train "
            "it on records of these classes")


def target_accuracy(ctx: AssessContext, explicit: float | None) -> float:
    if explicit is not None:
        return float(explicit)
    return float(ctx.settings.get("target_accuracy", DEFAULT_TARGET_ACCURACY))


def skipped(name: str, dimension: str, why: str) -> IndicatorResult:
    """A result saying the figure could not be computed for this run, and why."""
    return IndicatorResult(name, dimension, None, explanation=why, status="skipped")


def _few(labels: list[str], limit: int = 5) -> str:
    """Up to ``limit`` labels, quoted, and how many more."""
    shown = ", ".join(repr(label) for label in labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _top_classes(labels: list[str], support: np.ndarray, limit: int) -> list[int]:
    if len(labels) <= limit:
        return list(range(len(labels)))
    return sorted(np.argsort(-support, kind="stable")[:limit].tolist())


# --- classification ---------------------------------------------------------------------------


class ClassificationAccuracy(Indicator):
    """Accuracy, F1, kappa, MCC with bootstrap intervals, per-class figures, confusion matrix,
    top-k accuracy and calibration, on the test records."""

    params: ClassificationParams

    def __init__(self, params: ClassificationParams | None = None) -> None:
        super().__init__(params or ClassificationParams())

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        p = self.params
        y_true, y_pred = labelled_pairs(ctx)
        if len(y_true) == 0:
            raise DataError("no test record has a known true label")
        codes = coded(y_true, y_pred)
        labels, unscored = codes.labels, codes.unscored
        matrix = stats.confusion(codes.true, codes.predicted[0], len(labels))
        point = {name: float(v)
                 for name, v in stats.confusion_metrics(matrix, unscored).items()}
        n = int(matrix.sum())
        intervals, methods, no_interval = self._intervals(matrix, point, ctx.seed, unscored)
        common = {"records": n, "bootstrap": p.bootstrap, "better": "higher",
                  "confidence_level": p.confidence_level}
        texts = {
            "accuracy": "Share of test records whose predicted class is right.",
            "macro_f1": "F1 (balance of precision and recall) averaged over classes, each class "
                        "counting alike: low when small classes are poorly predicted.",
            "weighted_f1": "F1 averaged over classes, weighted by how many records each has.",
            "cohen_kappa": "Agreement between predicted and true classes beyond what chance "
                           "would give (0: chance, 1: perfect).",
            "mcc": "Matthews correlation between predicted and true classes (0: no better than "
                   "chance, 1: perfect); robust to unbalanced classes.",
        }
        own: dict[str, dict[str, Any]] = {name: {} for name in stats.CONFUSION_METRICS}
        texts["accuracy"] += unweighted_note(ctx, y_true, y_pred, own["accuracy"])
        wide = intervals["accuracy"]
        if wide is not None and wide[1] - wide[0] > WIDE_INTERVAL:
            own["accuracy"]["warnings"] = [
                f"only {n:,} test records: the accuracy's {p.confidence_level:.0%} interval "
                f"is {wide[1] - wide[0]:.2f} wide ({wide[0]:.3f} to {wide[1]:.3f}), too wide "
                "to judge the model by; assess it on more records"]
        unknown = classes_unknown_to_model(ctx, y_true)
        if unknown:
            own["accuracy"].setdefault("warnings", []).append(unknown_classes_note(unknown))
        undefined = stats.undefined_agreement(matrix)
        results = [
            skipped(name, "accuracy", undefined[name]) if name in undefined else
            IndicatorResult(name, "accuracy", point[name], intervals[name],
                            texts[name] + (no_interval if name != "accuracy" else ""),
                            {**common, **own[name], **({"interval_method": methods[name]}
                                                       if intervals[name] is not None else {})},
                            headline=name in ("accuracy", "macro_f1"))
            for name in stats.CONFUSION_METRICS
        ]
        results.append(self._per_class(labels, matrix, unscored, unknown))
        results.append(self._confusion(labels, matrix))
        results.extend(self._top_k(ctx, y_true))
        results.append(self._calibration(ctx, y_true, y_pred))
        return results

    def _intervals(self, matrix: np.ndarray, point: dict[str, float], seed: int,
                   unscored: int | None = None) -> tuple[
            dict[str, tuple[float, float] | None], dict[str, str], str]:
        """Each figure's interval, the method that made it, and what to say of an interval
        left out. Accuracy, a share of records, gets the Wilson score interval: a percentile
        bootstrap of a share collapses to [1, 1] when no test record is wrong, which would
        clear any target however few the records. The other figures get the percentile
        bootstrap, left out when no record is wrong (every replicate is then perfect)."""
        p = self.params
        intervals: dict[str, tuple[float, float] | None] = dict.fromkeys(point)
        methods: dict[str, str] = {}
        if p.bootstrap <= 0:
            return intervals, methods, ""
        n, hits = int(matrix.sum()), int(np.trace(matrix))
        found = stats.bootstrap_intervals(matrix, p.bootstrap, seed, p.confidence_level,
                                          unscored)
        for name in point:
            methods[name] = "percentile bootstrap"
            intervals[name] = found[name]
        intervals["accuracy"] = stats.wilson_interval(hits, n, p.confidence_level)
        methods["accuracy"] = "Wilson score"
        return intervals, methods, "" if hits < n else (
            " No test record is wrong, so resampling them cannot show this figure's "
            "uncertainty: it has no interval (the accuracy's interval shows how few records "
            "back it).")

    def _per_class(self, labels: list[str], matrix: np.ndarray, unscored: int | None = None,
                   unknown: dict[str, int] | None = None) -> IndicatorResult:
        per = stats.per_class_metrics(matrix)
        predicted = matrix.sum(axis=0)
        missing = "" if unscored is None else (
            f" {int(predicted[unscored]):,} test record(s) got no prediction: they count "
            "against the recall of their true class, and are no class of their own.")
        if unknown:
            note = unknown_classes_note(unknown)
            missing += f" {note[0].upper()}{note[1:]}."
        if unscored is not None:  # the classes only: "<none>" is no class of the model
            keep = [i for i in range(len(labels)) if i != unscored]
            labels = [labels[i] for i in keep]
            per = {m: v[keep] for m, v in per.items()}
            predicted = predicted[keep]

        def defined(metric: str, i: int) -> float | None:
            """The figure, or None where it is 0/0: precision of a class never predicted,
            recall of a class no test record is of (a 0 would say "all wrong")."""
            count = predicted[i] if metric == "precision" else per["support"][i]
            return float(per[metric][i]) if count else None

        rows = [[label, defined("precision", i), defined("recall", i),
                 float(per["f1"][i]), int(per["support"][i])] for i, label in enumerate(labels)]
        never = [labels[i] for i in range(len(labels)) if not predicted[i]]
        absent = [labels[i] for i in range(len(labels)) if not per["support"][i]]
        blanks = (" Precision is blank for a class the model never predicts ("
                  + _few(never) + "): none of its records is found.") if never else ""
        blanks += (" Recall is blank for a class no test record is of ("
                   + _few(absent) + "): it is only predicted, wrongly.") if absent else ""
        worst = min(range(len(labels)), key=lambda i: (per["f1"][i], -per["support"][i]))
        shown = list(range(len(labels)))
        title = "Precision, recall and F1 per class"
        if len(labels) > MAX_CLASSES_SHOWN:  # the weakest: what a sign-off looks for
            shown = sorted(shown, key=lambda i: (per["f1"][i], -per["support"][i]))
            shown = shown[:MAX_CLASSES_SHOWN]
            title += (f": the {MAX_CLASSES_SHOWN} weakest of {len(labels)} classes by F1 "
                      "(the table lists all)")
        return IndicatorResult(
            "per_class", "accuracy", {labels[i]: float(per["f1"][i]) for i in range(len(labels))},
            explanation=f"Precision, recall and F1 of each class; the weakest class is "
                        f"{labels[worst]!r} (F1 {per['f1'][worst]:.3f})." + blanks + missing,
            details={"table": {"columns": ["class", "precision", "recall", "f1", "support"],
                               "rows": rows}},
            plots=[Plot(title, "bar", {
                "labels": [labels[i] for i in shown],
                "series": {m: [defined(m, i) if m != "f1" else float(per[m][i])
                               for i in shown] for m in ("precision", "recall", "f1")},
                "y_label": "score", "y_range": [0, 1]})])

    def _confusion(self, labels: list[str], matrix: np.ndarray) -> IndicatorResult:
        shown = _top_classes(labels, matrix.sum(axis=1), MAX_CLASSES_SHOWN)
        sub = matrix[np.ix_(shown, shown)]
        names = [labels[i] for i in shown]
        note = "" if len(shown) == len(labels) else \
            f" The plot shows the {len(shown)} largest of {len(labels)} classes."
        return IndicatorResult(
            "confusion_matrix", "accuracy", None,
            explanation="Rows: true class; columns: predicted class; off-diagonal cells are "
                        "errors." + note,
            details={"labels": labels, "matrix": matrix.tolist()},
            plots=[Plot("Confusion matrix", "heatmap", {
                "x_labels": names, "y_labels": names, "values": sub.tolist(),
                "x_title": "predicted class", "y_title": "true class"})])

    def _top_k(self, ctx: AssessContext, y_true: pd.Series) -> list[IndicatorResult]:
        probs = class_probabilities(ctx, y_true.index)
        ks = sorted(set(self.params.top_k))
        if probs is None:
            return [skipped("top_k_accuracy", "accuracy",
                            "The model gives no class probabilities (proba_<class> columns), "
                            "so top-k accuracy cannot be computed.")] if ks else []
        names, matrix = probs
        position = {name: i for i, name in enumerate(names)}
        true_idx = y_true.map(position)
        unscored = np.isnan(matrix).all(axis=1)  # no class offered: never among the k best
        known = true_idx.notna().to_numpy() & ~unscored
        matrix = np.nan_to_num(matrix, nan=-np.inf)
        ahead = np.full(len(y_true), len(names))  # a class the model never saw: never in
        tied = np.ones(len(y_true))
        if known.any():
            rows = np.nonzero(known)[0]
            true_scores = matrix[rows, true_idx[known].astype(int).to_numpy()][:, None]
            ahead[rows] = (matrix[rows] > true_scores).sum(axis=1)
            tied[rows] = (matrix[rows] == true_scores).sum(axis=1)
        found = []
        for k in ks:
            if k >= len(names):
                continue
            # classes tied with the true one share the places left: a model that gives 5
            # classes 0.2 each has the true class among its 3 best 3 times in 5, not always
            value = float(np.clip((k - ahead) / tied, 0, 1).mean())
            found.append(IndicatorResult(
                f"top_{k}_accuracy", "accuracy", value,
                explanation=f"Share of test records whose true class is among the model's {k} "
                            "most probable classes (what a coder would see as suggestions).",
                details={"k": k, "better": "higher"}))
        return found

    def _calibration(self, ctx: AssessContext, y_true: pd.Series,
                     y_pred: pd.Series) -> IndicatorResult:
        if "confidence" in ctx.predictions.columns:
            confidence = ctx.predictions["confidence"].reindex(y_true.index).to_numpy(float)
        else:
            probs = class_probabilities(ctx, y_true.index)
            if probs is None:
                return skipped("expected_calibration_error", "accuracy",
                               "The model states no confidence, so calibration cannot be "
                               "assessed.")
            confidence = np.nanmax(probs[1], axis=1)
        keep = np.isfinite(confidence)
        if not keep.any():
            return skipped("expected_calibration_error", "accuracy",
                           "No test record has a confidence, so calibration cannot be "
                           "assessed.")
        correct = (y_true.to_numpy() == y_pred.to_numpy())[keep]
        cal = stats.calibration(confidence[keep], correct, self.params.calibration_bins)
        return IndicatorResult(
            "expected_calibration_error", "accuracy", cal["ece"],
            explanation="Average gap between the confidence the model states and the accuracy "
                        "it achieves (0: a confidence of 0.8 means 80% right). A large value "
                        "makes confidence thresholds unreliable.",
            details={"better": "lower", "max_calibration_error": cal["mce"],
                     "bins": self.params.calibration_bins,
                     "table": {"columns": ["mean confidence", "accuracy", "records"],
                               "rows": [list(r) for r in zip(cal["mean_confidence"],
                                                             cal["accuracy"], cal["counts"],
                                                             strict=True)]}},
            plots=[Plot("Reliability curve", "line", {
                "series": [{"label": "model", "x": cal["mean_confidence"], "y": cal["accuracy"]}],
                "diagonal": True, "x_label": "stated confidence", "y_label": "observed accuracy",
                "x_range": [0, 1], "y_range": [0, 1]})])


# --- automatic coding -------------------------------------------------------------------------


def auto_coding_threshold(
    ctx: AssessContext, target: float, min_records: int = DEFAULT_MIN_RECORDS
) -> dict[str, Any]:
    """The confidence threshold that codes the most records automatically while those reach
    ``target`` accuracy; chosen on the validation records when the run has them (an honest
    estimate), else on the test records. Returns threshold (None when unreachable), where it
    was chosen, and the curve on the records it was chosen on."""
    chosen_on = "test"
    conf: np.ndarray | None = None
    correct: np.ndarray | None = None
    validation = ctx.validation if ctx.held_out else None  # else the model trained on it
    if validation is not None and len(validation) and validation.roles.target:
        try:
            predicted = ctx.model.predict(validation.frame)
            truth = label_strings(validation.y)
            known = truth.notna()
            conf = predicted["confidence"][known].to_numpy(float)
            correct = (label_strings(predicted["prediction"])[known] == truth[known]).to_numpy()
            chosen_on = "validation"
        except Exception:  # fall back to the test records; the details say so
            conf = None
    if conf is None:
        y_true, y_pred = labelled_pairs(ctx)
        conf = ctx.predictions["confidence"].reindex(y_true.index).to_numpy(float)
        correct = (y_true.to_numpy() == y_pred.to_numpy())
    curve = stats.auto_coding_curve(conf, correct)
    at = stats.threshold_for_target(curve, target, min_records)
    return {"threshold": None if at is None else float(curve["threshold"][at]),
            "chosen_on": chosen_on, "curve": curve, "index": at}


OPTIMISTIC = (" The run has no validation records, so the threshold was chosen on the test "
              "records that measure it: the figures are optimistic; set validation_size in "
              "[split] for honest ones.")
"""What the auto-coding figures add when their threshold was chosen on the test records."""


class AutoCoding(Indicator):
    """The auto-coding curve and the threshold that reaches the target accuracy."""

    params: AutoCodingParams

    def __init__(self, params: AutoCodingParams | None = None) -> None:
        super().__init__(params or AutoCodingParams())

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        if "confidence" not in ctx.predictions.columns:
            return [skipped("auto_coding_share", "accuracy",
                            "The predictions have no `confidence` column, so no record can be "
                            "routed by confidence.")]
        target = target_accuracy(ctx, self.params.target_accuracy)
        chosen = auto_coding_threshold(ctx, target, self.params.min_records)
        y_true, y_pred = labelled_pairs(ctx)
        conf = ctx.predictions["confidence"].reindex(y_true.index).to_numpy(float)
        correct = y_true.to_numpy() == y_pred.to_numpy()
        curve = stats.auto_coding_curve(conf, correct)  # on the test records
        n = len(conf)
        threshold = chosen["threshold"]
        auto = np.zeros(n, dtype=bool) if threshold is None else conf >= threshold
        count = int(auto.sum())
        share = count / n if n else 0.0
        hits = int(correct[auto].sum())
        acc = hits / count if count else None
        x, y, t = stats.thin_curve(curve["share"], curve["accuracy"], curve["threshold"],
                                   points=200)
        markers = [] if acc is None else [{"x": share, "y": acc,
                                           "label": f"threshold {threshold:.3f}"}]
        table_x, table_y, table_t = stats.thin_curve(
            curve["share"], curve["accuracy"], curve["threshold"], points=11)
        details = {
            "threshold": threshold, "target_accuracy": target,
            "threshold_chosen_on": chosen["chosen_on"], "records": n,
            "auto_coded": count, "accuracy_of_auto_coded": acc, "better": "higher",
            "table": {"columns": ["threshold", "share coded automatically", "accuracy"],
                      "rows": [list(r) for r in zip(table_t, table_x, table_y, strict=True)]},
        }
        on_test = chosen["chosen_on"] == "test"
        if threshold is None:  # the curve may reach it on fewer records: not a threshold
            text = (f"No confidence threshold reaches the target accuracy {target:.0%} on at "
                    f"least {self.params.min_records} {chosen['chosen_on']} records: every "
                    "record needs a person (or the target must be lowered).")
        else:
            text = (f"Share of records the model can code on its own at {target:.0%} accuracy: "
                    f"records with confidence >= {threshold:.3f} (chosen on the "
                    f"{chosen['chosen_on']} records) are coded automatically, the rest by a "
                    "person." + (OPTIMISTIC if on_test else ""))
        return [
            IndicatorResult(
                "auto_coding_share", "accuracy", share,
                stats.wilson_interval(count, n), text, details,
                plots=[Plot("Auto-coding curve", "line", {
                    "series": [{"label": "accuracy of automatically coded records",
                                "x": x, "y": y}],
                    "x_label": "share of records coded automatically",
                    "y_label": "accuracy of those records",
                    "hlines": [{"y": target, "label": f"target {target:.0%}"}],
                    "markers": markers, "x_range": [0, 1]})],
                headline=True),
            IndicatorResult(
                "auto_coding_accuracy", "accuracy", acc,
                stats.wilson_interval(hits, count) if count else None,
                "Accuracy on the test records coded automatically at the chosen threshold; "
                + ("it reaches the target by construction, the threshold being chosen on "
                   "these records." + OPTIMISTIC if on_test
                   else "should be at or above the target.") if count else
                f"No test record is coded automatically: {text[0].lower()}{text[1:]}"
                if threshold is None else "No test record reaches the chosen threshold "
                f"{threshold:.3f}, so none is coded automatically.",
                {"threshold": threshold, "target_accuracy": target, "auto_coded": count,
                 "better": "higher"},
                status="ok" if acc is not None else "skipped"),
        ]


# --- hierarchical codes -----------------------------------------------------------------------


def code_chains(parents: pd.DataFrame) -> dict[str, list[str]]:
    """For every code of a parent table, its ancestors from the top level down to itself."""
    if not {"code", "parent"} <= set(parents.columns):
        raise DataError("the parent table needs columns `code` and `parent`")
    parent = {str(c): (None if pd.isna(p) or str(p) == "" else str(p))
              for c, p in zip(parents["code"], parents["parent"], strict=True)}
    chains: dict[str, list[str]] = {}
    for code in parent:
        chain, current, seen = [], code, set()
        while current is not None and current not in seen and len(chain) < 64:
            seen.add(current)
            chain.append(current)
            current = parent.get(current)
        chains[code] = chain[::-1]
    return chains


class HierarchicalAccuracy(Indicator):
    """Accuracy at each level of a code hierarchy."""

    params: HierarchyParams

    def __init__(self, params: HierarchyParams | None = None) -> None:
        super().__init__(params or HierarchyParams(levels=[1]))

    def compute(self, ctx: AssessContext) -> IndicatorResult:
        y_true, y_pred = labelled_pairs(ctx)
        if self.params.parents:
            path = Path(self.params.parents)
            if not path.is_absolute() and ctx.settings.get("base_dir"):
                path = Path(ctx.settings["base_dir"]) / path
            from mlstat_core.io import read_table

            chains = code_chains(read_table(path, dtype={"code": "str", "parent": "str"}))
            depth = max((len(c) for c in chains.values()), default=1)

            def at(code: str, level: int) -> str:
                chain = chains.get(code, [code])
                return chain[min(level, len(chain)) - 1]

            levels = list(range(1, depth + 1))
            names = [f"level {level}" for level in levels]
            pairs = [(y_true.map(lambda c, lv=lv: at(c, lv)),
                      y_pred.map(lambda c, lv=lv: at(c, lv))) for lv in levels]
            how = f"levels of the parent table {path.name}"
        else:
            levels = sorted(set(self.params.levels))
            names = [f"{level} characters" for level in levels]
            pairs = [(y_true.str[:lv], y_pred.str[:lv]) for lv in levels]
            how = "code prefixes of " + ", ".join(str(lv) for lv in levels) + " characters"
        values = {name: float((t.to_numpy() == q.to_numpy()).mean()) if len(t) else None
                  for name, (t, q) in zip(names, pairs, strict=True)}
        rows = [[name, value, int((t != q).sum())]
                for name, value, (t, q) in zip(names, values.values(), pairs, strict=True)]
        return IndicatorResult(
            "hierarchical_accuracy", "accuracy", values,
            explanation=f"Accuracy when only the top levels of the code must match ({how}); "
                        "shows whether errors stay within the right broad group.",
            details={"better": "higher", "table": {
                "columns": ["level", "accuracy", "errors"], "rows": rows}},
            plots=[Plot("Accuracy by level of the code hierarchy", "bar", {
                "labels": names, "series": {"accuracy": list(values.values())},
                "y_label": "accuracy", "y_range": [0, 1]})])


# --- regression -------------------------------------------------------------------------------


class RegressionAccuracy(Indicator):
    """RMSE, MAE, R squared and bias of a numeric prediction, and how many test records got
    no (numeric) prediction: those are counted and named, never silently dropped."""

    params: RegressionParams

    def __init__(self, params: RegressionParams | None = None) -> None:
        super().__init__(params or RegressionParams())

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        y_true = pd.to_numeric(ctx.y_true, errors="coerce")
        y_pred = pd.to_numeric(ctx.y_pred.reindex(y_true.index), errors="coerce")
        known = y_true.notna()
        unpredicted = known & y_pred.isna()
        keep = known & y_pred.notna()
        t, q = y_true[keep].to_numpy(float), y_pred[keep].to_numpy(float)
        if t.size == 0:
            raise DataError("no test record has both a known true value and a prediction")
        missing = int(unpredicted.sum())
        note = "" if not missing else (
            f" Computed on the {t.size:,} records with a prediction; {missing:,} record(s) "
            "got none (see missing_predictions).")
        err = q - t
        rmse = float(np.sqrt(np.mean(err ** 2)))
        sd = float(t.std())
        r2 = float(1 - np.sum(err ** 2) / np.sum((t - t.mean()) ** 2)) if sd > 0 else None
        bias = float(err.mean())
        p = self.params
        interval = stats.percentile_interval(stats.bootstrap_means(err, p.bootstrap, ctx.seed),
                                             p.confidence_level) if t.size > 1 else None
        rows = unpredicted[unpredicted].index[:5]
        ids = ctx.predictions["record_id"].reindex(rows) if "record_id" in \
            ctx.predictions.columns else pd.Series(rows, index=rows)
        first = [plain(v) for v in ids]
        return [
            IndicatorResult(
                "missing_predictions", "accuracy", missing,
                explanation="Test records with a known true value but no numeric prediction "
                            "(missing or not a number); the other figures leave them out.",
                details={"better": "lower", "records": int(known.sum()),
                         "share": missing / int(known.sum()), "first_records": first},
                headline=missing > 0),
            IndicatorResult("rmse", "accuracy", rmse,
                            explanation="Root mean squared error, in the target's unit." + note,
                            details={"better": "lower", "nrmse": rmse / sd if sd else None,
                                     "records": int(t.size), "missing_predictions": missing},
                            headline=True),
            IndicatorResult("mae", "accuracy", float(np.mean(np.abs(err))),
                            explanation="Mean absolute error, in the target's unit." + note,
                            details={"better": "lower"}),
            IndicatorResult("r_squared", "accuracy", r2,
                            explanation="Share of the target's variance the model explains."
                                        + note,
                            details={"better": "higher"}) if r2 is not None else
            skipped("r_squared", "accuracy",
                    "Undefined: every test record has the same true value, so there is no "
                    "variance to explain; judge the model on its RMSE and bias."),
            IndicatorResult("bias", "accuracy", bias, interval,
                            "Mean of prediction minus truth: a systematic over- (positive) or "
                            "under-estimate (negative) that would bias totals; its interval is "
                            f"a {p.confidence_level:.0%} percentile bootstrap over the test "
                            "records." + note,
                            details={"confidence_level": p.confidence_level,
                                     "bootstrap": p.bootstrap},
                            plots=[Plot("Prediction errors", "hist", {
                                "series": {"prediction - truth": err.tolist()[:20000]},
                                "bins": 30, "x_label": "prediction - truth"})]),
        ]


