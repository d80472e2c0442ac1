"""Quality of tweet sentiment: macro-F1 per language, and the sentiment index with its
sensitivity to the classifier's errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.components import AssessContext, Indicator, IndicatorResult, Plot
from mlstat_twitter.params import IndexIndicatorParams, MacroF1Params


def _skipped(name: str, why: str) -> IndicatorResult:
    return IndicatorResult(name, "accuracy", None, explanation=why, status="skipped")


class MacroF1ByLanguage(Indicator):
    """Macro-F1 (mean of the per-class F1, so each sentiment counts equally) per language."""

    params: MacroF1Params

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        p = self.params
        if not ctx.test.roles.target:
            return [_skipped("macro_f1_by_language", "The test records carry no labels.")]
        y_true = ctx.y_true.astype(str).to_numpy()
        y_pred = ctx.y_pred.astype(str).to_numpy()
        groups = _languages(ctx, p.column)
        overall = macro_f1(y_true, y_pred)
        per: dict[str, Any] = {}
        results: list[IndicatorResult] = []
        for g in sorted(set(groups)):
            mask = groups == g
            n = int(mask.sum())
            if n < p.min_records:
                per[g] = {"records": n, "macro_f1": None,
                          "note": f"fewer than {p.min_records} test records: not scored"}
                continue
            value = macro_f1(y_true[mask], y_pred[mask])
            interval = macro_f1_interval(y_true[mask], y_pred[mask], p.bootstrap, p.level,
                                         ctx.seed)
            per[g] = {"records": n, "macro_f1": value,
                      "interval": list(interval) if interval else None,
                      "accuracy": float((y_true[mask] == y_pred[mask]).mean())}
            results.append(IndicatorResult(
                f"macro_f1_{g}", "accuracy", value, interval=interval,
                explanation=f"Macro-F1 on the {n} test tweets in language {g!r}: the mean over "
                            "sentiment classes of F1, so rare classes count as much as common "
                            "ones" + _interval_note(interval, p.level),
                details={"language": g, "records": n}))
        scored = {g: d["macro_f1"] for g, d in per.items() if d["macro_f1"] is not None}
        unscored = sorted(g for g, d in per.items() if d["macro_f1"] is None)
        plot = Plot("Macro-F1 per language", "bar",
                    {"labels": list(scored), "series": {"macro-F1": list(scored.values())},
                     "y_label": "macro-F1", "y_range": [0, 1]})
        head = IndicatorResult(
            "macro_f1_by_language", "accuracy", overall,
            interval=macro_f1_interval(y_true, y_pred, p.bootstrap, p.level, ctx.seed),
            explanation="Macro-F1 over all test tweets, and per language (details): a model "
                        "good in one language may be poor in another, and the index of a "
                        "language inherits its errors."
                        + (f" Not scored, with fewer than {p.min_records} test tweets: "
                           f"{', '.join(unscored)}." if unscored else ""),
            details={"per_language": per,
                     "mean_over_languages": float(np.mean(list(scored.values())))
                     if scored else None},
            plots=[plot], headline=True)
        return [head, *results]


def _languages(ctx: AssessContext, column: str) -> np.ndarray:
    """Each test record's language: the data's column where it says, else the language the
    model found (a file without a language column, or with gaps), else ``unknown``; ``all``
    for every record when neither has the column."""
    sources = [frame[column] for frame in (ctx.test.frame, ctx.predictions)
               if column in frame.columns]
    if not sources:
        return np.full(len(ctx.predictions), "all", dtype=object)
    found = pd.Series([None] * len(ctx.predictions), dtype=object)
    for values in sources:  # both in the test records' order
        values = pd.Series(values.to_numpy(), dtype=object)
        values = values.where(values.notna() & (values.astype(str).str.strip() != ""))
        found = found.where(found.notna(), values)
    return found.fillna("unknown").astype(str).to_numpy()


def _why_no_index(model: Any) -> str:
    """Why the run wrote no index: a model that does not index streams (a baseline such as
    core.majority), or no stream to index."""
    inner = getattr(model, "inner", model)  # a model behind [[preprocess]] steps
    if not hasattr(inner, "index_stream"):
        return (f"No sentiment index was written in this run: its model "
                f"({type(inner).__name__}) does not index a tweet stream; only twitter.sentiment "
                "and twitter.vader do (a baseline run compares the classification figures).")
    return ("No sentiment index was written in this run: set `stream` in [loader] to a tweet "
            "file to index.")


class SentimentIndexIndicator(Indicator):
    """The index the model wrote (``write_outputs``): its series, gaps and sensitivity."""

    params: IndexIndicatorParams

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        found = [Path(f) for f in ctx.outputs if Path(f).name == self.params.file]
        if not found:
            return [_skipped("sentiment_index", _why_no_index(ctx.model))]
        table = pd.read_csv(found[0], dtype={"period": str, "reason": str,
                                             "change_from": str, "change_reason": str})
        level = _index_level(found[0].with_suffix(".json"))
        shown = f"{round(level * 100, 2):g}%"
        ok = table[table["status"] == "ok"]
        gaps = table[table["status"] != "ok"]
        if ok.empty:
            few = (table["status"] == "too_few").all()
            why = ("Every period has fewer tweets than min_count: no index value is published; "
                   "use a longer period or a lower min_count." if few else
                   "No index value is published: " + str(
                       gaps.loc[gaps["status"] != "too_few", "reason"].iloc[0]) + ".")
            return [IndicatorResult(
                "sentiment_index", "accuracy", None, status="skipped", explanation=why,
                details={"periods": len(table), "empty_periods": len(gaps),
                         "empty_reasons": gaps["reason"].value_counts().to_dict()})]
        # every period on the x axis, an unpublished one without a value: the line breaks
        x = [_decimal_year(s) for s in table["start"]]
        published = (table["status"] == "ok").to_numpy()

        def values(column: str) -> list[float | None]:
            return [round(float(v), 4) if keep else None
                    for v, keep in zip(table[column], published, strict=True)]

        series = [
            {"label": "index (adjusted)", "x": x, "y": values("index")},
            {"label": f"{shown} low", "x": x, "y": values("index_low")},
            {"label": f"{shown} high", "x": x, "y": values("index_high")},
            {"label": "raw classify-and-count", "x": x, "y": values("raw_index")},
        ]
        plot = Plot("Sentiment index (share positive - share negative)", "line",
                    {"series": series, "x_label": "year", "y_label": "index",
                     "y_range": [-1, 1], "hlines": [{"y": 0.0, "label": "balance"}]})
        plots = [plot, *_language_plot(found[0].with_name(
            found[0].stem + "_by_language.csv"), ctx.outputs)]
        diff = (ok["index"] - ok["raw_index"]).abs()
        width = (ok["index_high"] - ok["index_low"])
        latest = ok.iloc[-1]
        results = [
            IndicatorResult(
                "sentiment_index_latest", "accuracy", float(latest["index"]),
                interval=(float(latest["index_low"]), float(latest["index_high"])),
                explanation=f"Sentiment index of the latest published period {latest['period']}"
                            f" ({int(latest['n'])} tweets): share positive minus share "
                            f"negative, corrected for the classifier's errors, with its {shown} "
                            "bootstrap interval."
                            + (" The stream ends inside this period (or begins in it): its "
                               "tweets are those of part of it only."
                               if _is_partial(latest) else "")
                            + (f" {len(gaps)} of {len(table)} periods are not published (too "
                               "few tweets, or out of reach of the confusion matrix; reasons in "
                               "the details): the plotted lines break there."
                               if len(gaps) else ""),
                details={"periods": len(table), "published": len(ok), "confidence_level": level,
                         "empty_periods": len(gaps),
                         "empty_reasons": gaps["reason"].value_counts().to_dict(),
                         "latest_partial": _is_partial(latest),
                         "first": str(table["period"].iloc[0]),
                         "last": str(table["period"].iloc[-1])},
                plots=plots, headline=True),
            _latest_change(latest, shown),
            IndicatorResult(
                "sentiment_index_adjustment", "accuracy", float(diff.mean()),
                explanation="Mean absolute difference between the adjusted index and raw "
                            "classify-and-count: how much the classifier's known errors would "
                            "bias the index if left uncorrected.",
                details={"max": float(diff.max()),
                         "mean_matrix_sd": float(ok["matrix_sd"].mean()),
                         "mean_interval_width": float(width.mean()),
                         "matrix_share_of_width": float(
                             (2 * _z(level) * ok["matrix_sd"]).mean() / width.mean())
                         if width.mean() > 0 else None}),
        ]
        return results


PLOTTED_LANGUAGES = 8
"""The languages with the most tweets that the by-language plot shows (line styles repeat
beyond a dozen, and a crowded plot is unreadable)."""


def _language_plot(path: Path, outputs: list[Any]) -> list[Plot]:
    """The index of each language (``confusion_by = "language"``), published periods only,
    one line per language, the :data:`PLOTTED_LANGUAGES` with the most tweets; nothing where
    the run wrote no such file or no language has a published period."""
    if path not in [Path(f) for f in outputs]:
        return []
    table = pd.read_csv(path, dtype={"language": str, "period": str, "confusion": str})
    if "status" not in table.columns:  # no language but undetermined ones: an empty table
        return []
    published = table[table["status"] == "ok"]
    if published.empty:
        return []
    tweets = table.groupby("language")["n"].sum()
    ranked = sorted(published["language"].unique(), key=lambda g: (-tweets[g], g))
    adjusted = bool((table["confusion"] != "none").any())
    series = []
    for lang in sorted(ranked[:PLOTTED_LANGUAGES]):
        part = table[table["language"] == lang]
        ok = part["status"] == "ok"
        matrix = part["confusion"].iloc[0]
        series.append({"label": f"{lang} ({matrix} matrix)" if adjusted else lang,
                       "x": [_decimal_year(s) for s in part["start"]],
                       "y": [round(float(v), 4) if keep else None
                             for v, keep in zip(part["index"], ok, strict=True)]})
    title = "Sentiment index by language" + (" (adjusted)" if adjusted else " (raw)")
    if len(ranked) > PLOTTED_LANGUAGES:
        title += f": the {PLOTTED_LANGUAGES} of {len(ranked)} languages with the most tweets"
    return [Plot(title, "line",
                 {"series": series, "x_label": "year", "y_label": "index", "y_range": [-1, 1],
                  "hlines": [{"y": 0.0, "label": "balance"}]})]


def _is_partial(row: pd.Series) -> bool:
    """Whether an index row is of a period the stream covers in part (files written before
    the column was added have none)."""
    value = row.get("partial")
    return str(value).strip().lower() == "true" if value is not None else False


def _latest_change(latest: pd.Series, shown: str) -> IndicatorResult:
    """The change of the index in the latest published period since the one before it, with
    the interval of the change itself (narrower than the two periods' intervals suggest)."""
    name = "sentiment_index_change_latest"
    change = latest.get("change")
    if change is None or pd.isna(change):
        reason = latest.get("change_reason")
        why = reason if isinstance(reason, str) and reason else "not computed"
        return _skipped(name, f"No change for the latest published period {latest['period']}: "
                              f"{why}.")
    low, high = float(latest["change_low"]), float(latest["change_high"])
    verdict = ("the interval excludes 0: the index moved" if low > 0 or high < 0 else
               "the interval includes 0: no change can be told from the noise")
    return IndicatorResult(
        name, "accuracy", float(change), interval=(low, high),
        explanation=f"Change of the sentiment index from {latest['change_from']} to "
                    f"{latest['period']}, with its {shown} bootstrap interval ({verdict}). "
                    "Judge a change by this interval, not by whether the two periods' "
                    "intervals overlap: the classifier's error is common to both periods "
                    "and cancels in the change.",
        details={"from": str(latest["change_from"]), "to": str(latest["period"])},
        headline=True)


WIDE_INTERVAL = 0.2
"""A language's macro-F1 interval wider than this earns a remark in its explanation."""


def macro_f1_interval(y_true: np.ndarray, y_pred: np.ndarray, repetitions: int, level: float,
                      seed: int) -> tuple[float, float] | None:
    """Percentile bootstrap interval of :func:`macro_f1` (test tweets drawn with replacement),
    as the core gives its macro-F1; None without replicates or when no tweet is wrong (every
    replicate would then be perfect)."""
    from mlstat_core.quality import stats
    from mlstat_core.quality.accuracy import coded

    if not len(y_true):
        return None
    codes = coded(pd.Series(y_true, dtype=object), pd.Series(y_pred, dtype=object))
    matrix = stats.confusion(codes.true, codes.predicted[0], len(codes.labels))
    return stats.bootstrap_intervals(matrix, repetitions, seed, level)["macro_f1"]


def _interval_note(interval: tuple[float, float] | None, level: float) -> str:
    if interval is None:
        return "."
    shown = f"{round(level * 100, 2):g}%"
    note = f", with its {shown} percentile bootstrap interval."
    if interval[1] - interval[0] > WIDE_INTERVAL:
        note += (" The interval is wide: too few test tweets in this language to tell it from "
                 "another language or model by a few points; label more to compare.")
    return note


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-F1 over the classes present in the truth or the predictions, as the core's
    ``macro_f1`` (a language without negative tweets is not scored 0 on that class)."""
    from sklearn.metrics import f1_score

    labels = sorted(set(y_true) | set(y_pred))
    return float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))


def _z(level: float) -> float:
    """The normal quantile of a two-sided interval at ``level`` (1.96 at 95%)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf((1 + level) / 2)


def _index_level(meta: Path) -> float:
    """The level of the index's intervals, from the settings in its JSON (0.95 without)."""
    import json

    try:
        level = json.loads(meta.read_text(encoding="utf-8"))["settings"]["level"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0.95
    return float(level) if isinstance(level, int | float) and 0 < level < 1 else 0.95


def _decimal_year(date: str) -> float:
    ts = pd.Timestamp(date)
    start = pd.Timestamp(year=ts.year, month=1, day=1)
    days = 366 if ts.is_leap_year else 365
    return round(ts.year + (ts - start).days / days, 4)
