"""The plugin's indicators: edit-rule outcomes, and detection of injected errors.

Both read the prediction columns of the edit-and-impute models (``<var>__flag``,
``failed_rules``, ``edit_pass``, ``needs_review``, ``suspicion``) and, for detection, the
loader's ``injected_mask`` in the test data's metadata.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlstat_core.components import AssessContext, Indicator, IndicatorResult
from mlstat_core.quality.accuracy import skipped
from mlstat_editimpute.params import DetectionParams, EditReportParams

FLAG = "__flag"


def _flag_columns(predictions: pd.DataFrame) -> list[str]:
    return [c[: -len(FLAG)] for c in predictions.columns if c.endswith(FLAG)]


class EditReport(Indicator):
    params: EditReportParams

    def __init__(self, params: EditReportParams | None = None) -> None:
        super().__init__(params or EditReportParams())

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        pred = ctx.predictions
        if "edit_pass" not in pred.columns:
            return [skipped("edit_failures", "accuracy",
                            "The model does not check edit rules (no edit_pass column).")]
        failed = per_rule_counts(pred.get("failed_rules"))
        localised = pred.get("failed_rules_localised")
        n = len(pred)
        review = int(pred["needs_review"].sum()) if "needs_review" in pred.columns else 0
        flags = {v: pred[v + FLAG].astype(str).value_counts().to_dict()
                 for v in _flag_columns(pred)}
        rows = [[v, c.get("original", 0) + c.get("suspicious", 0), c.get("edited", 0),
                 sum(k for f, k in c.items() if f.startswith("imputed"))]
                for v, c in flags.items()]
        kept_suspicious = {v: c["suspicious"] for v, c in flags.items() if c.get("suspicious")}
        return [
            IndicatorResult(
                "edit_failures", "accuracy",
                float(np.mean(pred.get("failed_rules", pd.Series([""] * n)).astype(str) != ""))
                if n else None,
                explanation="Share of records failing at least one edit rule before editing "
                            "(the data as received); per rule counts in the details, and "
                            "those still failing once deductive corrections, detection and "
                            "out-of-range blanking were done (what error localisation "
                            "worked on).",
                details={"better": "lower", "per_rule": failed, "records": n,
                         "share_at_localisation":
                             float(np.mean(localised.astype(str) != ""))
                             if localised is not None and n else None,
                         "per_rule_at_localisation": per_rule_counts(localised),
                         "warnings": list(_fit_warnings(ctx.model))}),
            IndicatorResult(
                "manual_review_share", "accuracy", review / n if n else None,
                explanation="Share of records sent to a person: those no automatic "
                            "treatment could make pass every edit, and those holding a "
                            "suspicious value kept as received for review; flagged, never "
                            "left failing silently.",
                details={"better": "lower", "records": review}, headline=True),
            IndicatorResult(
                "cell_treatment", "accuracy",
                {row[0]: row[3] for row in rows},
                explanation="Cells kept, edited (deductive corrections, adjustments) and "
                            "imputed, per variable.",
                details={"table": {"columns": ["variable", "original", "edited", "imputed"],
                                   "rows": rows},
                         # kept as received though suspicious (counted in "original")
                         "suspicious_kept": kept_suspicious}),
        ]


def per_rule_counts(lists: pd.Series | None) -> dict[str, int]:
    """Records failing each rule, from a column of comma-separated rule names."""
    failed: dict[str, int] = {}
    for names in (lists if lists is not None else pd.Series(dtype=str)).astype(str):
        for n in filter(None, names.split(",")):
            failed[n] = failed.get(n, 0) + 1
    return failed


def _fit_warnings(model: object) -> list[str]:
    """Warnings the model raised while fitting (metadata ranges, variables not edited)."""
    for _ in range(3):  # through wrappers such as preprocessing
        if hasattr(model, "fit_warnings"):
            return list(model.fit_warnings)
        model = getattr(model, "inner", None)
    return []


class ErrorDetection(Indicator):
    params: DetectionParams

    def __init__(self, params: DetectionParams | None = None) -> None:
        super().__init__(params or DetectionParams())

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        mask = ctx.test.metadata.get("injected_mask")
        if mask is None:
            return [skipped("error_detection_recall", "accuracy",
                            "No errors were injected (no injected_mask in the data's "
                            "metadata), so detection cannot be measured.")]
        kinds = ctx.test.metadata.get("injected_kind")
        pred = ctx.predictions
        index = ctx.test.frame.index
        mask = pd.DataFrame(mask).reindex(index).fillna(False).astype(bool)
        variables = [v for v in _flag_columns(pred) if v in mask.columns]
        results: list[IndicatorResult] = []
        non_missing = mask.copy()
        if kinds is not None:
            kinds = pd.DataFrame(kinds).reindex(index).fillna("")
            non_missing &= ~kinds.isin(["mcar", "mar"])
        if variables:
            inj = non_missing[variables].to_numpy(bool)
            before = ctx.test.frame[variables]
            was_missing = before.isna().to_numpy()
            changed = np.column_stack([~np.isin(pred[v + FLAG].astype(str).to_numpy(),
                                                ["original", "suspicious"])
                                       for v in variables]) & ~was_missing
            tp = int((inj & changed).sum())
            flagged = np.column_stack([pred[v + FLAG].astype(str).to_numpy() == "suspicious"
                                       for v in variables])
            seen = int((inj & (changed | flagged)).sum())
            recall = tp / inj.sum() if inj.sum() else None
            precision = tp / changed.sum() if changed.sum() else None
            per_kind = {}
            if kinds is not None:
                kv = kinds[variables].to_numpy()
                for k in sorted(set(kv[inj].tolist())):
                    sel = inj & (kv == k)
                    per_kind[k] = float((sel & changed).sum() / sel.sum())
            results.append(IndicatorResult(
                "error_detection_recall", "accuracy", recall,
                explanation="Share of injected errors (not missing values) whose cell the "
                            "editing changed; precision: share of changed observed cells that "
                            "were injected errors.",
                details={"better": "higher", "precision": precision, "per_kind": per_kind,
                         "injected_cells": int(inj.sum()), "changed_cells":
                         int(changed.sum()),
                         # kept as received but flagged suspicious (for a clerk, or kept)
                         "flagged_suspicious_cells": int(flagged.sum()),
                         "recall_changed_or_flagged": seen / inj.sum() if inj.sum() else None},
                headline=True))
        if "suspicion" in pred.columns:
            score = pd.to_numeric(pred["suspicion"], errors="coerce").fillna(0).to_numpy()
            bad = non_missing.any(axis=1).to_numpy()
            unit = (kinds == "unit").any(axis=1).to_numpy() if kinds is not None else bad
            results.append(IndicatorResult(
                "clerk_share_at_recall", "cost_effectiveness",
                _share_for_recall(score, unit, self.params.recall),
                explanation=f"Share of records a clerk reviews, most suspicious first, to find "
                            f"{self.params.recall:.0%} of the records with injected unit "
                            "errors; details give it for every injected error kind.",
                details={"better": "lower", "recall": self.params.recall,
                         "all_errors": _share_for_recall(score, bad, self.params.recall),
                         "records_with_unit_errors": int(unit.sum())}))
        return results


def _share_for_recall(score: np.ndarray, positive: np.ndarray, recall: float) -> float | None:
    if not positive.any():
        return None
    order = np.argsort(-score, kind="stable")
    found = np.cumsum(positive[order])
    need = int(np.ceil(recall * positive.sum()))
    k = int(np.searchsorted(found, need)) + 1
    return k / len(score)
