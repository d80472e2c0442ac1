"""Quality indicators of coding: accuracy per classification level, and auto-coding routing."""

from __future__ import annotations

import numpy as np

from mlstat_coding.hierarchy import Hierarchy, level_accuracy
from mlstat_coding.params import AutocodingParams, HierarchyParams
from mlstat_coding.routing import AUTO, autocoding_curve, choose_threshold, routing_column
from mlstat_core.components import AssessContext, Indicator, IndicatorResult, Plot
from mlstat_core.errors import listed
from mlstat_core.quality.accuracy import skipped


def context_hierarchy(ctx: AssessContext, code_list: str | None = None,
                      separator: str = ".") -> Hierarchy:
    """The classification structure of a run: an explicit code list, the loader's, the model's,
    or else code prefixes. A relative ``code_list`` starts at the pipeline file's folder."""
    if code_list:
        from mlstat_core.io import resolve_path

        base_dir = (ctx.settings or {}).get("base_dir") or "."
        return Hierarchy.from_csv(resolve_path(code_list, base_dir), separator=separator)
    for source in (ctx.test.metadata, ctx.train.metadata):
        if source and source.get("code_list"):
            return Hierarchy.from_dict(source["code_list"])
    state = getattr(ctx.model, "extra_state", None) or {}
    if state.get("hierarchy") and state["hierarchy"].get("parents"):
        return Hierarchy.from_dict(state["hierarchy"])
    return Hierarchy(separator=separator)


class HierarchicalAccuracy(Indicator):
    """Accuracy at each level of the classification, and codes the model never saw."""

    params: HierarchyParams

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        hierarchy = context_hierarchy(ctx, self.params.code_list, self.params.separator)
        y_true = ctx.y_true.astype(str).to_numpy()
        y_pred = ctx.y_pred.astype(str).to_numpy()
        levels = level_accuracy(y_true, y_pred, hierarchy)
        known = {str(c) for c in (ctx.model.classes_ or [])}
        unseen = sorted(set(y_true) - known) if known else []
        unknown = hierarchy.unknown(y_true)
        source = "code list" if hierarchy.has_list() else level_source(hierarchy.separator)
        results = [
            IndicatorResult(
                f"level_accuracy_{level}", "accuracy", value,
                explanation=f"Share of test records whose predicted code is right at level "
                            f"{level} of the classification (levels from the {source}).",
                details={"better": "higher"}, headline=False)
            for level, value in levels.items()
        ]
        n_unseen = int(np.isin(y_true, unseen).sum())
        details: dict = {"better": "lower", "codes": unseen[:100],
                         "not_in_code_list": unknown[:100]}
        warnings = unseen_warnings(n_unseen, unseen, unknown)
        if warnings:  # shown in the report as labelled warnings of this result
            details["warnings"] = warnings
        results.append(IndicatorResult(
            "unseen_codes", "accuracy", n_unseen,
            explanation="Test records whose true code never occurred in training: the model "
                        "cannot predict them; add examples of these codes.",
            details=details))
        if levels:
            results[0].details = {"better": "higher", "source": source,
                                  "levels": {str(k): v for k, v in levels.items()}}
        return results


def level_source(separator: str) -> str:
    """Where the levels come from without a code list, in words."""
    if separator:
        code = separator.join(("01", "1", "5"))
        return f"code prefixes split on {separator!r}: {code} is 01, 01{separator}1, {code}"
    return "code prefixes, one character a level: 2512 is 2, 25, 251, 2512"


def _count(n: int, noun: str) -> str:
    """``1 record``, ``2 records``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def unseen_warnings(records: int, unseen: list[str], unknown: list[str]) -> list[str]:
    """What the reader must know about codes the model never saw or the code list lacks."""
    warnings = []
    if unseen:
        warnings.append(f"{_count(records, 'test record')} with {_count(len(unseen), 'code')} "
                        f"never seen in training ({listed(unseen)}): the model cannot predict "
                        "them; add training examples of these codes")
    if unknown:
        warnings.append(f"{_count(len(unknown), 'code')} of the test records not in the code "
                        f"list ({listed(unknown)}): check the code list and the data")
    return warnings


SHORTFALL = 0.02
"""Auto-coded records more than this far below the target accuracy get a warning."""


def accuracy_details(accuracy: float | None, target: float, records: int) -> dict:
    """Details of ``autocoding_accuracy``: a warning when it falls short of the target."""
    details: dict = {"better": "higher", "target_accuracy": target, "auto_coded": records}
    if accuracy is not None and accuracy < target - SHORTFALL:
        details["warnings"] = [
            f"{accuracy:.1%} of the {_count(records, 'automatically coded test record')} are "
            f"right, well below the target accuracy {target:.0%}: the stored threshold lets "
            "wrong codes through; choose the threshold on more validation data, raise it or "
            "lower the target before using the routing in production"]
    return details


class AutoCoding(Indicator):
    """How many records the model codes on its own at the target accuracy.

    Uses the threshold stored in the model (chosen on validation data), so the figures are what
    production routing would give; the curve over thresholds 0..1 shows the trade-off.
    """

    params: AutocodingParams

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        state = getattr(ctx.model, "extra_state", None) or {}
        target = self.params.target_accuracy or state.get("target_accuracy") or \
            ctx.settings.get("target_accuracy") or 0.95
        predictions = ctx.predictions
        kind = state.get("confidence", "top")
        column = routing_column(kind, predictions.columns)
        if column not in predictions:
            return [skipped(name, "accuracy", "the predictions carry no confidence column")
                    for name in ("autocoding_share", "autocoding_accuracy")]
        scores = predictions[column].to_numpy(dtype=float)
        correct = (predictions["prediction"].astype(str).to_numpy()
                   == ctx.y_true.astype(str).to_numpy())
        threshold = state.get("threshold")
        if "route" in predictions:
            auto = (predictions["route"] == AUTO).to_numpy()
        elif threshold is not None:
            auto = scores >= threshold
        else:
            why = ("the model does not route records between automatic and manual coding "
                   "(no route column, no stored threshold)")
            return [skipped(name, "accuracy", why)
                    for name in ("autocoding_share", "autocoding_accuracy")]
        curve = autocoding_curve(scores, correct, self.params.steps)
        hindsight = choose_threshold(scores, correct, target)
        hindsight_share = float((scores >= hindsight).mean()) if hindsight is not None else 0.0
        share = float(auto.mean()) if len(auto) else 0.0
        auto_accuracy = float(correct[auto].mean()) if auto.any() else None
        manual = predictions["reason"].value_counts().to_dict() if "reason" in predictions else {}
        manual.pop("", None)
        details = {
            "better": "higher",
            "target_accuracy": target,
            "threshold": state.get("threshold"),
            "confidence": kind,
            "threshold_source": state.get("threshold_source"),
            "hindsight_threshold": hindsight,
            "hindsight_share": hindsight_share,
            "manual_reasons": {str(k): int(v) for k, v in manual.items()},
            "curve": curve,
        }
        plot = Plot("Auto-coding: share coded automatically and its accuracy", "line",
                    data={"x_label": f"threshold on {kind} score", "y_range": [0, 1.02],
                          "series": [{"label": label, "x": curve["threshold"], "y": values}
                                     for label, values in (
                                         ("share auto-coded", curve["share"]),
                                         ("accuracy of auto-coded", curve["accuracy"]))],
                          "hlines": [{"y": target, "label": f"target {target:.0%}"}]})
        return [
            IndicatorResult(
                "autocoding_share", "accuracy", share, headline=True,
                explanation=f"Share of test records coded automatically with the threshold "
                            f"chosen on {state.get('threshold_source', 'held-out data')} to "
                            f"reach {target:.0%} accuracy; the rest go to manual coding.",
                details=details, plots=[plot]),
            IndicatorResult(
                "autocoding_accuracy", "accuracy", auto_accuracy,
                explanation="Accuracy of the automatically coded test records (should be near "
                            f"the target {target:.0%}).",
                details=accuracy_details(auto_accuracy, target, int(auto.sum()))),
        ]
