"""Explainability indicators: which inputs drive the model, globally and for single records."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.components import AssessContext, Indicator, IndicatorResult, Plot
from mlstat_core.quality.accuracy import label_strings, skipped
from mlstat_core.quality.params import PermutationParams, RecordExplanationParams, TermsParams
from mlstat_core.tasks import is_classification

MAX_BARS = 20


def _is_classification(ctx: AssessContext) -> bool:
    try:
        return is_classification(ctx.task)
    except KeyError:
        return "prediction" in ctx.predictions and not pd.api.types.is_float_dtype(
            ctx.predictions["prediction"])


class PermutationImportance(Indicator):
    """Drop in the test score when one input column is shuffled, so its link to the target is
    broken: a model-agnostic measure of how much the model relies on each input."""

    params: PermutationParams

    def __init__(self, params: PermutationParams | None = None) -> None:
        super().__init__(params or PermutationParams())

    def compute(self, ctx: AssessContext) -> IndicatorResult:
        if not ctx.held_out:
            return skipped(
                "permutation_importance", "explainability",
                "Under cross-validation the saved model was refit on every record, so no "
                "record is held out of its training to shuffle; run the pipeline with a "
                "holdout split (core.holdout or core.stratified) for this figure.")
        p = self.params
        roles = ctx.model.roles or ctx.test.roles
        inputs = [c for c in roles.input_columns() if c in ctx.test.frame.columns]
        columns = inputs[: p.max_features]
        rng = np.random.default_rng(ctx.seed)
        frame = ctx.test.frame
        known = ctx.test.y.notna().to_numpy()
        frame = frame[known]
        if len(frame) > p.max_records:
            rows = np.sort(rng.choice(len(frame), p.max_records, replace=False))
            frame = frame.iloc[rows]
        y = ctx.test.y.reindex(frame.index)
        classify = _is_classification(ctx)
        truth = label_strings(y).to_numpy() if classify else pd.to_numeric(y).to_numpy(float)

        m = len(frame)
        if not m:
            return skipped("permutation_importance", "explainability",
                           "No test record has a known true value to score the model on.")

        def scores(data: pd.DataFrame, copies: int) -> np.ndarray:
            """Score of each of ``copies`` stacked copies of the sample (one predict call)."""
            predicted = ctx.model.predict(data)["prediction"]
            target = np.tile(truth, copies)
            if classify:
                hit = label_strings(predicted).to_numpy() == target
                return hit.reshape(copies, m).mean(axis=1)
            # records without a numeric prediction are left out, as in `rmse`
            err = (pd.to_numeric(predicted, errors="coerce").to_numpy(float)
                   - target).reshape(copies, m)
            known = np.isfinite(err)
            squares = np.where(known, err, 0.0) ** 2
            return -np.sqrt(squares.sum(axis=1) / np.where(known.any(axis=1),
                                                            known.sum(axis=1), np.nan))

        baseline = float(scores(frame, 1)[0])
        if not np.isfinite(baseline):
            return skipped("permutation_importance", "explainability",
                           f"The model gave no numeric prediction for the {m} test records "
                           "with a known value, so there is no RMSE to worsen.")
        stacked = pd.concat([frame] * p.n_repeats, ignore_index=True)
        mean: dict[str, float] = {}
        spread: dict[str, float] = {}
        for column in columns:
            shuffled = stacked.copy()
            values = frame[column].to_numpy()
            shuffled[column] = np.concatenate(
                [values[rng.permutation(m)] for _ in range(p.n_repeats)])
            drops = baseline - scores(shuffled, p.n_repeats)
            mean[column] = float(np.mean(drops))
            spread[column] = float(np.std(drops))
        order = sorted(mean, key=lambda c: -mean[c])
        metric = "accuracy" if classify else "RMSE"
        top = order[:MAX_BARS]
        return IndicatorResult(
            "permutation_importance", "explainability", {c: mean[c] for c in order},
            explanation=f"How much the test {metric} worsens when one input is shuffled "
                        f"({p.n_repeats} shuffles on {len(frame)} records). Large: the model "
                        "relies on that input; near 0: it ignores it. Check that the inputs it "
                        "relies on make subject-matter sense."
                        + _most_influential(order, mean, metric)
                        + ("" if len(columns) == len(inputs) else
                           f" Only the first {len(columns)} of the {len(inputs)} inputs were "
                           "shuffled (max_features); the others are not ranked."),
            details={"metric": metric, "baseline": abs(baseline), "records": len(frame),
                     "inputs": len(inputs), "assessed": len(columns),
                     "repeats": p.n_repeats, "std": {c: spread[c] for c in order},
                     "table": {"columns": ["input", "importance", "std"],
                               "rows": [[c, mean[c], spread[c]] for c in order]}},
            plots=[Plot("Permutation importance", "bar", {
                "labels": top, "series": {"importance": [mean[c] for c in top]},
                "horizontal": True, "x_label": f"drop in {metric}"})])


def _most_influential(order: list[str], mean: dict[str, float], metric: str) -> str:
    """The sentence naming the input the model relies on most; none is named when shuffling
    no input worsens the score (a model ignoring its inputs has no most influential one)."""
    if not order:
        return ""
    if mean[order[0]] <= 0:
        return (f" Shuffling no input worsens the {metric}: the model does not rely on any "
                "of them (a constant model, or too few test records to show it).")
    return f" The most influential input is {order[0]!r}."


def normalise_terms(explanation: dict[str, Any]) -> dict[str, list[tuple[str, float]]] | None:
    """Terms per class from a model's global explanation.

    Accepted shapes: ``{"classes": {class: terms}}``, ``{class: terms}`` or
    ``{"features": {name: weight}}`` (one global list), where ``terms`` is a list of
    ``{"term": t, "weight": w}`` dicts, ``[t, w]`` pairs, or a ``{term: weight}`` dict.
    """
    def as_pairs(terms: Any) -> list[tuple[str, float]] | None:
        if isinstance(terms, dict):
            items = list(terms.items())
        elif isinstance(terms, list | tuple):
            items = []
            for item in terms:
                if isinstance(item, dict):
                    name = item.get("term", item.get("feature", item.get("name")))
                    items.append((name, item.get("weight", item.get("contribution"))))
                elif isinstance(item, list | tuple) and len(item) == 2:
                    items.append((item[0], item[1]))
                else:
                    return None
        else:
            return None
        try:
            return [(str(t), float(w)) for t, w in items]
        except (TypeError, ValueError):
            return None

    if "classes" in explanation and isinstance(explanation["classes"], dict):
        source = explanation["classes"]
    elif "features" in explanation:
        source = {"all classes": explanation["features"]}
    else:
        source = {k: v for k, v in explanation.items() if k not in ("kind", "description")}
    found = {str(k): as_pairs(v) for k, v in source.items()}
    if not found or any(v is None for v in found.values()):
        return None
    return found  # type: ignore[return-value]


class InfluentialTerms(Indicator):
    """The inputs or terms with the largest weights per class (linear text models), from the
    model's ``global_explanation()``."""

    params: TermsParams

    def __init__(self, params: TermsParams | None = None) -> None:
        super().__init__(params or TermsParams())

    def compute(self, ctx: AssessContext) -> IndicatorResult:
        explanation = ctx.model.global_explanation()
        if not explanation:
            return skipped("influential_terms", "explainability",
                           "The model offers no global explanation (a linear text model lists "
                           "its most influential terms per class).")
        terms = normalise_terms(explanation)
        if terms is None:
            from mlstat_core.artifacts import to_jsonable

            return IndicatorResult(
                "influential_terms", "explainability", None,
                explanation="The model's own global explanation, as it gives it.",
                details={"explanation": to_jsonable(explanation)})
        top = self.params.top
        shown = dict(list(terms.items())[: self.params.max_classes])
        signed = explanation.get("kind") != "impurity_importance"  # importances have no sign
        # one list for the whole model: a large negative weight matters as much as a positive
        overall = signed and not isinstance(explanation.get("classes"), dict) \
            and "features" in explanation
        rank = (lambda tw: -abs(tw[1])) if overall else (lambda tw: -tw[1])
        best = {c: sorted(pairs, key=rank)[:top] for c, pairs in shown.items()}
        weight = "{:+.2f}" if signed else "{:.2f}"
        rows = [[c, ", ".join(f"{t} ({weight.format(w)})" for t, w in pairs)]
                for c, pairs in best.items()]
        what = (f"The {top} inputs with the largest weights of either sign (a negative one "
                "pushes the prediction down)" if overall else
                f"The {top} terms or inputs that push the model most towards each class"
                if signed else f"The {top} inputs the model relies on most (importance, "
                "without a direction)")
        cut = "" if len(shown) == len(terms) else \
            f" The table shows the first {len(shown)} of {len(terms)} classes (max_classes)."
        return IndicatorResult(
            "influential_terms", "explainability", len(terms),
            explanation=f"{what}; the figure is the number of classes explained.{cut} A "
                        "methodologist should recognise them as meaningful; identifiers, "
                        "typos or artefacts of the data collection among them are a warning.",
            details={"classes": len(terms), "kind": explanation.get("kind"),
                     "terms": {c: [[t, w] for t, w in pairs] for c, pairs in best.items()},
                     "table": {"columns": ["class", "most influential terms (weight)"],
                               "rows": rows}})


class RecordExplanations(Indicator):
    """Per-record explanations of a few test records, when the model explains single records."""

    params: RecordExplanationParams

    def __init__(self, params: RecordExplanationParams | None = None) -> None:
        super().__init__(params or RecordExplanationParams())

    def compute(self, ctx: AssessContext) -> IndicatorResult:
        frame = ctx.test.frame.head(self.params.records)
        explained = ctx.model.explain(frame, top=self.params.top)
        if explained is None:
            return skipped("record_explanations", "explainability",
                           "The model offers no per-record explanation.")
        needed = {"record", "feature", "contribution"}
        if not needed <= set(explained.columns):
            raise ValueError(f"model.explain returned columns {list(explained.columns)}; "
                             f"the contract needs {sorted(needed)}")
        id_col = ctx.test.roles.id
        target = ctx.test.roles.target
        records: list[dict[str, Any]] = []
        rows = []
        for record, group in explained.groupby("record", sort=False):
            inputs = [[str(f), float(c)] for f, c in
                      zip(group["feature"], group["contribution"], strict=True)]
            entry: dict[str, Any] = {"record": str(record), "inputs": inputs}
            if record in frame.index:
                if id_col and id_col in frame.columns:
                    entry["id"] = str(frame.at[record, id_col])
                if target and target in frame.columns:
                    entry["true"] = str(frame.at[record, target])
            if record in ctx.predictions.index and "prediction" in ctx.predictions.columns:
                entry["predicted"] = str(ctx.predictions.at[record, "prediction"])
            records.append(entry)
            rows.append([entry.get("id", entry["record"]), entry.get("predicted"),
                         entry.get("true"),
                         ", ".join(f"{f} ({c:+.2f})" for f, c in inputs)])
        return IndicatorResult(
            "record_explanations", "explainability", len(records),
            explanation="For a few test records, the inputs that pushed the model towards its "
                        "prediction (positive) or away from it (negative); what a coder or "
                        "respondent could be shown to justify a single result.",
            details={"records": records, "table": {
                "columns": ["record", "predicted", "true", "inputs (contribution)"],
                "rows": rows}})
