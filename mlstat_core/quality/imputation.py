"""Accuracy of imputation (task ``tabular_imputation``): how close imputed values are to the
true ones, whether distributions and totals are preserved, and whether records pass the edits.

What this indicator reads from the :class:`~mlstat_core.components.AssessContext`
(documented for plugin authors in ``docs/quality.md``):

- ``ctx.predictions``: the completed test records (same index as ``ctx.test.frame``), one
  column per imputed variable holding the values after imputation; may carry a boolean
  ``edit_pass`` column.
- ``ctx.test.frame``: the test records as given to the imputer (imputed cells missing or wrong).
- ``ctx.test.metadata["truth"]``: a frame with the same index holding the true values (NaN
  where unknown). Without it the indicator is skipped: nothing to compare with.
- ``ctx.test.metadata["imputed_mask"]`` (optional): a boolean frame, True for imputed cells;
  by default a cell counts as imputed when it was missing in ``ctx.test.frame`` or the imputer
  changed it.
- ``ctx.test.metadata["edit_pass"]`` (optional, or the ``edit_pass`` prediction column): one
  boolean per record, True when the completed record passes every edit rule.
- survey weights, when the test data set has a ``weights`` role, weight the bias of totals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.components import AssessContext, Indicator, IndicatorResult, Plot
from mlstat_core.quality import stats
from mlstat_core.quality.accuracy import skipped
from mlstat_core.quality.params import ImputationParams

MAX_PLOT_VALUES = 20_000


def imputed_mask(ctx: AssessContext, variables: list[str]) -> pd.DataFrame:
    """True for each cell the imputer filled or changed (see the module docstring)."""
    given = ctx.test.metadata.get("imputed_mask")
    if given is not None:
        mask = pd.DataFrame(given).reindex(index=ctx.test.frame.index, columns=variables)
        return mask.fillna(False).astype(bool)
    before = ctx.test.frame.reindex(columns=variables)
    after = ctx.predictions.reindex(index=before.index, columns=variables)
    changed = ~((before == after) | (before.isna() & after.isna()))
    return (before.isna() | changed) & after.notna()


def edit_pass(ctx: AssessContext) -> pd.Series | None:
    """One boolean per test record (passes every edit rule), when the run provides it."""
    if "edit_pass" in ctx.predictions.columns:
        values = ctx.predictions["edit_pass"]
    elif ctx.test.metadata.get("edit_pass") is not None:
        values = ctx.test.metadata["edit_pass"]
        if not isinstance(values, pd.Series):
            values = pd.Series(np.asarray(values), index=ctx.test.frame.index)
    else:
        return None
    return pd.Series(values).reindex(ctx.test.frame.index).fillna(False).astype(bool)


def histograms(drawn: dict[str, Plot], per: dict[str, dict[str, Any]],
               most: int) -> list[Plot]:
    """At most ``most`` of the histograms drawn (variables with imputed values to compare),
    by KS distance, largest first: the variable the distribution figure names comes first and
    the best-fitting ones are those left out; variables without a distance come last."""
    order = {v: i for i, v in enumerate(drawn)}

    def rank(var: str) -> tuple[bool, float, int]:
        ks = per[var].get("ks")
        return ks is None, -(ks or 0.0), order[var]

    return [drawn[v] for v in sorted(drawn, key=rank)[:max(0, most)]]


class ImputationAccuracy(Indicator):
    """Per variable error, distribution and bias figures of imputed cells, and edit passes."""

    params: ImputationParams

    def __init__(self, params: ImputationParams | None = None) -> None:
        super().__init__(params or ImputationParams())

    def _variables(self, ctx: AssessContext, truth: pd.DataFrame) -> list[str]:
        if self.params.variables:
            return list(self.params.variables)
        return [c for c in truth.columns
                if c in ctx.predictions.columns
                and pd.api.types.is_numeric_dtype(truth[c])
                and not pd.api.types.is_bool_dtype(truth[c])]

    def compute(self, ctx: AssessContext) -> list[IndicatorResult]:
        results: list[IndicatorResult] = []
        truth = ctx.test.metadata.get("truth")
        passes = edit_pass(ctx)
        if truth is None:
            results.append(skipped(
                "imputation_nrmse", "accuracy",
                "The true values of imputed cells are unknown (no `truth` in the test data's "
                "metadata), so imputation errors cannot be measured."))
        else:
            truth = pd.DataFrame(truth).reindex(ctx.test.frame.index)
            variables = self._variables(ctx, truth)
            missing = [v for v in variables if v not in ctx.predictions.columns]
            if missing:
                from mlstat_core.errors import DataError

                raise DataError(f"the predictions lack imputed variable(s) {missing}")
            results.extend(self._errors(ctx, truth, variables))
        if passes is not None:
            share = float(passes.mean()) if len(passes) else None
            results.append(IndicatorResult(
                "edit_rule_pass_rate", "accuracy", share,
                stats.wilson_interval(float(passes.sum()), len(passes)),
                "Share of completed records that pass every edit rule; records that fail "
                "still need a person or another pass of editing.",
                {"better": "higher", "records": len(passes), "failing": int((~passes).sum())},
                headline=True))
        return results

    def _errors(self, ctx: AssessContext, truth: pd.DataFrame,
                variables: list[str]) -> list[IndicatorResult]:
        from scipy.stats import ks_2samp, wasserstein_distance

        p = self.params
        mask = imputed_mask(ctx, variables)
        weights = ctx.test.sample_weight
        w_all = (pd.Series(1.0, index=truth.index) if weights is None
                 else pd.to_numeric(weights, errors="coerce").reindex(truth.index).fillna(0.0))
        per: dict[str, dict[str, Any]] = {}
        drawn: dict[str, Plot] = {}
        for i, var in enumerate(variables):
            true_v = pd.to_numeric(truth[var], errors="coerce")
            imp_v = pd.to_numeric(ctx.predictions[var], errors="coerce").reindex(truth.index)
            cells = mask[var] & true_v.notna() & imp_v.notna()
            t, q = true_v[cells].to_numpy(float), imp_v[cells].to_numpy(float)
            row: dict[str, Any] = {"imputed": int(mask[var].sum()), "evaluated": int(t.size)}
            if t.size == 0:
                per[var] = row
                continue
            err = q - t
            sd = float(true_v.dropna().std(ddof=0))
            rmse = float(np.sqrt(np.mean(err ** 2)))
            row.update({
                "nrmse": rmse / sd if sd > 0 else None, "rmse": rmse,
                "mae": float(np.mean(np.abs(err))),
                "ks": float(ks_2samp(q, t).statistic) if t.size > 1 else None,
                "wasserstein": float(wasserstein_distance(q, t)),
            })
            known = true_v.notna()
            e = np.where(cells, imp_v.fillna(0).to_numpy(float) - true_v.fillna(0).to_numpy(float),
                         0.0)[known.to_numpy()]
            w = w_all[known].to_numpy(float)
            total = float((w * e).sum())
            row["bias_total"] = total
            row["bias_mean"] = total / float(w.sum()) if w.sum() > 0 else None
            row["true_mean"] = float(np.average(true_v[known], weights=w)) if w.sum() > 0 else None
            if p.bootstrap > 0 and e.size > 1:
                totals, sizes = stats.bootstrap_weighted_sums(e, w, p.bootstrap, ctx.seed + i)
                row["bias_total_interval"] = stats.percentile_interval(totals, p.confidence_level)
                row["bias_mean_interval"] = stats.percentile_interval(
                    totals / np.where(sizes > 0, sizes, np.nan), p.confidence_level)
            per[var] = row
            drawn[var] = Plot(f"{var}: imputed against true values", "hist", {
                "series": {"true": t[:MAX_PLOT_VALUES].tolist(),
                           "imputed": q[:MAX_PLOT_VALUES].tolist()},
                "bins": 20, "x_label": var})
        return self._results(per, histograms(drawn, per, p.max_plots), variables)

    def _results(self, per: dict[str, dict[str, Any]], plots: list[Plot],
                 variables: list[str]) -> list[IndicatorResult]:
        def column(key: str) -> dict[str, Any]:
            return {v: per[v].get(key) for v in variables}

        scored = [v for v in variables if per[v].get("nrmse") is not None]
        cells = [per[v]["evaluated"] for v in scored]
        ks = [x for x in column("ks").values() if x is not None]
        widest = max((v for v in variables if per[v].get("ks") is not None),
                     key=lambda v: per[v]["ks"], default=None)
        widest_text = f" It is {widest}'s, from {per[widest].get('evaluated')} imputed " \
            "values (a few dozen or fewer make it noisy)." if widest else ""
        level = f"{round(self.params.confidence_level * 100, 2):g}%"  # 0.975: 97.5%
        keys = ["imputed", "evaluated", "nrmse", "mae", "ks", "wasserstein", "bias_mean"]
        headers = ["filled or changed", "evaluated", "nrmse", "mae", "ks", "wasserstein",
                   "bias_mean", f"bias_mean {level} low", f"bias_mean {level} high",
                   "bias_total"]
        table = {"columns": ["variable", *headers],  # the bias interval's ends as columns
                 "rows": [[v, *[per[v].get(k) for k in keys],
                           *(per[v].get("bias_mean_interval") or [None, None]),
                           per[v].get("bias_total")] for v in variables]}
        single = variables[0] if len(variables) == 1 else None

        def interval(key: str) -> Any:
            return per[single].get(key) if single else None

        return [
            IndicatorResult(
                "imputation_nrmse", "accuracy",
                float(np.average([per[v]["nrmse"] for v in scored], weights=cells))
                if scored else None,
                explanation="Root mean squared error of imputed against true values, divided "
                            "by the variable's standard deviation, averaged over variables "
                            "weighted by their evaluated cells, so that a variable with a few "
                            "cells does not drive it (0: perfect; 1: no better than imputing "
                            "the mean; per variable in the table). The cells "
                            "evaluated are those the model filled or changed: imputed, or "
                            "corrected by an edit rule (a variable only corrected by rules "
                            "may score 0).",
                details={"better": "lower", "per_variable": column("nrmse"), "table": table},
                headline=True),
            IndicatorResult(
                "imputation_mae", "accuracy", column("mae"),
                explanation="Mean absolute error of imputed values, per variable, in its unit.",
                details={"better": "lower", "value_keys": "variable"}),
            IndicatorResult(
                "imputation_distribution", "accuracy", max(ks) if ks else None,
                explanation="Largest Kolmogorov-Smirnov distance between imputed and true "
                            "values over the variables (0: same distribution); per variable "
                            "KS and Wasserstein distances in the details." + widest_text,
                details={"better": "lower", "ks": column("ks"),
                         "wasserstein": column("wasserstein")},
                plots=plots),
            IndicatorResult(
                "imputation_bias_mean", "accuracy", column("bias_mean"),
                interval("bias_mean_interval"),
                "Error the imputation causes in the estimated mean of each variable (imputed "
                f"minus true), with its {level} bootstrap interval; an interval excluding 0 "
                "is a systematic bias. Errors the editing did not find are not in it.",
                {"intervals": column("bias_mean_interval"), "true_mean": column("true_mean"),
                 "confidence_level": self.params.confidence_level, "value_keys": "variable"}),
            IndicatorResult(
                "imputation_bias_total", "accuracy", column("bias_total"),
                interval("bias_total_interval"),
                "Error the imputation causes in the estimated total of each variable over the "
                "test records (weighted when the data have survey weights).",
                {"intervals": column("bias_total_interval"),
                 "confidence_level": self.params.confidence_level, "value_keys": "variable"}),
        ]
