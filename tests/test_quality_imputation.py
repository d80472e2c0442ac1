"""Imputation accuracy on the UK budget survey with values deleted at random and imputed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_quality_context import imputation_context

from mlstat_core.quality.imputation import ImputationAccuracy, imputed_mask
from mlstat_core.quality.params import ImputationParams


def by_name(results):
    return {r.name: r for r in results}


def test_errors_match_their_definitions() -> None:
    ctx = imputation_context()
    results = by_name(ImputationAccuracy().compute(ctx))
    truth = ctx.test.metadata["truth"]
    holes = ctx.test.frame["income"].isna()
    err = ctx.predictions.loc[holes, "income"] - truth.loc[holes, "income"]
    nrmse = np.sqrt((err ** 2).mean()) / truth["income"].std(ddof=0)
    table = {row[0]: row for row in results["imputation_nrmse"].details["table"]["rows"]}
    assert table["income"][1] == int(holes.sum())  # imputed cells
    assert results["imputation_nrmse"].details["per_variable"]["income"] == pytest.approx(nrmse)
    assert results["imputation_mae"].value["income"] == pytest.approx(err.abs().mean())
    assert results["imputation_bias_total"].value["income"] == pytest.approx(err.sum())
    assert results["imputation_bias_mean"].value["income"] == pytest.approx(err.sum() / len(holes))
    assert results["imputation_nrmse"].headline
    # the headline weights each variable by its evaluated cells (one with a few cannot drive it)
    per = results["imputation_nrmse"].details["per_variable"]
    cells = {row[0]: row[2] for row in table.values()}
    scored = [v for v in per if per[v] is not None]
    assert len(scored) > 1 and len({cells[v] for v in scored}) > 1
    assert results["imputation_nrmse"].value == pytest.approx(
        sum(per[v] * cells[v] for v in scored) / sum(cells[v] for v in scored))


def test_median_imputation_of_a_share_is_about_as_bad_as_the_mean() -> None:
    ctx = imputation_context()
    results = by_name(ImputationAccuracy().compute(ctx))
    # a median imputes no better than the mean: NRMSE near 1
    assert 0.85 < results["imputation_nrmse"].details["per_variable"]["wfood"] < 1.3
    # the regression on totexp beats imputing the observed mean income (in MAE: one household
    # with an income of 1110 among the deleted values dominates the squared errors)
    truth = ctx.test.metadata["truth"]["income"]
    holes = ctx.test.frame["income"].isna()
    mean_mae = (truth[holes] - ctx.test.frame["income"].mean()).abs().mean()
    assert results["imputation_mae"].value["income"] < mean_mae


def test_a_systematic_shift_shows_as_bias_with_an_interval_excluding_zero() -> None:
    fair = by_name(ImputationAccuracy().compute(imputation_context()))
    shifted = by_name(ImputationAccuracy().compute(imputation_context(shift=60.0)))
    share = imputation_context().test.frame["income"].isna().mean()
    low, high = shifted["imputation_bias_mean"].details["intervals"]["income"]
    bias = shifted["imputation_bias_mean"].value["income"]
    assert low <= bias <= high
    assert low > 0
    assert bias - fair["imputation_bias_mean"].value["income"] == pytest.approx(60 * share)
    assert shifted["imputation_distribution"].details["ks"]["income"] > \
        fair["imputation_distribution"].details["ks"]["income"]
    assert shifted["imputation_distribution"].details["wasserstein"]["income"] > \
        fair["imputation_distribution"].details["wasserstein"]["income"]
    # which variable the largest distance is from, and on how many values (noise when few)
    evaluated = int(holes_of(imputation_context()).sum())
    assert f"It is income's, from {evaluated} imputed values" in \
        shifted["imputation_distribution"].explanation
    # the table a reader sees carries the bias interval, and says which cells it scores
    table = shifted["imputation_nrmse"].details["table"]
    assert table["columns"][1] == "filled or changed"
    row = dict(zip(table["columns"], table["rows"][0], strict=True))
    assert [row["bias_mean 95% low"], row["bias_mean 95% high"]] == [low, high]
    # another level is recorded, so the report labels the interval with it
    eighty = by_name(ImputationAccuracy(ImputationParams(confidence_level=0.8)).compute(
        imputation_context(shift=60.0)))
    assert eighty["imputation_bias_mean"].details["confidence_level"] == 0.8
    assert "80% bootstrap interval" in eighty["imputation_bias_mean"].explanation


def holes_of(ctx) -> pd.Series:
    truth = ctx.test.metadata["truth"]["income"]
    return ctx.test.frame["income"].isna() & truth.notna()


def test_edit_rule_pass_rate() -> None:
    ctx = imputation_context()
    result = by_name(ImputationAccuracy().compute(ctx))["edit_rule_pass_rate"]
    assert result.value == pytest.approx(ctx.test.metadata["edit_pass"].mean())
    assert 0 < result.value < 1
    assert result.details["better"] == "higher"


def test_default_mask_finds_the_injected_holes() -> None:
    ctx = imputation_context()
    mask = imputed_mask(ctx, ["income", "wfood"])
    given = imputation_context(mask=True).test.metadata["imputed_mask"]
    assert (mask == given).all().all()


def test_plots_show_imputed_against_true_values() -> None:
    results = by_name(ImputationAccuracy(ImputationParams(max_plots=1)).compute(
        imputation_context()))
    [plot] = results["imputation_distribution"].plots
    assert plot.kind == "hist" and set(plot.data["series"]) == {"true", "imputed"}


def test_one_variable_gets_its_interval_on_the_result() -> None:
    results = by_name(ImputationAccuracy(ImputationParams(variables=["income"])).compute(
        imputation_context()))
    assert list(results["imputation_mae"].value) == ["income"]
    low, high = results["imputation_bias_mean"].interval
    assert low <= results["imputation_bias_mean"].value["income"] <= high


def test_without_truth_only_the_edit_rules_are_assessed() -> None:
    results = by_name(ImputationAccuracy().compute(imputation_context(truth=False)))
    assert results["imputation_nrmse"].status == "skipped"
    assert results["edit_rule_pass_rate"].status == "ok"


def test_histograms_count_only_the_variables_drawn_and_show_the_worst_first() -> None:
    """A variable with nothing imputed used up one of the ``max_plots`` histograms without
    getting one, and the variable the distribution figure named as the worst could go
    without its histogram."""
    ctx = imputation_context(shift=60.0)  # income: the largest KS distance
    frame = ctx.test.frame
    ctx.test.metadata["truth"] = ctx.test.metadata["truth"].assign(totexp=frame["totexp"])
    ctx.predictions = ctx.predictions.assign(totexp=frame["totexp"])  # never imputed
    params = ImputationParams(variables=["totexp", "wfood", "income"], max_plots=2)
    results = by_name(ImputationAccuracy(params).compute(ctx))
    distribution = results["imputation_distribution"]
    ks = distribution.details["ks"]
    assert ks["totexp"] is None and ks["income"] > ks["wfood"]
    assert "It is income's" in distribution.explanation
    titles = [plot.title for plot in distribution.plots]
    assert titles == ["income: imputed against true values",
                      "wfood: imputed against true values"]
    one = by_name(ImputationAccuracy(ImputationParams(
        variables=["totexp", "wfood", "income"], max_plots=1)).compute(ctx))
    assert [p.title for p in one["imputation_distribution"].plots] == [titles[0]]


def test_value_tables_name_their_first_column() -> None:
    results = by_name(ImputationAccuracy().compute(imputation_context()))
    for name in ("imputation_mae", "imputation_bias_mean", "imputation_bias_total"):
        assert results[name].details["value_keys"] == "variable", name
