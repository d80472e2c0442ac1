"""The index arithmetic on hand-made data, where every true figure is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlstat_twitter.index import adjusted_shares, error_matrix, project_simplex, sentiment_index

from mlstat_core.errors import DataError

CLASSES = ["negative", "neutral", "positive"]


def _stream(labels_per_day: dict[str, list[str]]) -> tuple[pd.Series, pd.Series]:
    ts, labels = [], []
    for day, values in labels_per_day.items():
        ts += [pd.Timestamp(day, tz="UTC") + pd.Timedelta(minutes=i) for i in range(len(values))]
        labels += values
    return pd.Series(ts), pd.Series(labels)


def test_shares_index_and_min_count_gaps() -> None:
    ts, labels = _stream({
        "2024-01-01": ["positive"] * 6 + ["negative"] * 2 + ["neutral"] * 2,   # 10 tweets
        "2024-01-02": ["positive"] * 2,                                          # too few
        "2024-01-04": ["negative"] * 5 + ["neutral"] * 5,                        # 10 tweets
    })
    out = sentiment_index(ts, labels, CLASSES, "positive", "negative", None, period="day",
                          min_count=5, adjust=False, bootstrap=400, seed=1)
    assert list(out["period"]) == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    first = out.iloc[0]
    assert first["share_positive"] == pytest.approx(0.6)
    assert first["share_negative"] == pytest.approx(0.2)
    assert first["index"] == pytest.approx(0.4)
    assert first["index_low"] <= first["index"] <= first["index_high"]
    assert first["index_low"] < first["index_high"]
    assert out.iloc[1]["status"] == "too_few" and np.isnan(out.iloc[1]["index"])
    assert out.iloc[1]["reason"] == "2 tweet(s) < min_count 5"
    assert out.iloc[2]["reason"] == "no tweets"
    assert out.iloc[3]["index"] == pytest.approx(-0.5)


def test_adjusted_classify_and_count_recovers_true_shares() -> None:
    counts = np.array([[70, 20, 10], [15, 70, 15], [5, 15, 80]])  # rows true, columns predicted
    matrix = error_matrix(counts)
    for truth in ([0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [1 / 3, 1 / 3, 1 / 3]):
        observed = np.asarray(truth) @ matrix  # what a classifier with these errors reports
        assert not np.allclose(observed, truth)
        assert adjusted_shares(observed, matrix)[0] == pytest.approx(truth, abs=1e-9)


def test_adjusted_index_on_a_large_simulated_stream() -> None:
    rng = np.random.default_rng(0)
    counts = np.array([[700, 200, 100], [150, 700, 150], [50, 150, 800]])
    matrix = error_matrix(counts)
    truth = rng.choice(3, size=6000, p=[0.5, 0.3, 0.2])
    predicted = np.array([rng.choice(3, p=matrix[t]) for t in truth])
    ts = pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        np.arange(6000) % 1000 * 600, unit="s"))
    out = sentiment_index(ts, pd.Series(np.array(CLASSES)[predicted]), CLASSES, "positive",
                          "negative", counts, period="month", min_count=30, bootstrap=300)
    row = out.iloc[0]
    assert row["index"] == pytest.approx(-0.3, abs=0.04)        # adjusted: close to the truth
    assert abs(row["raw_index"] - (-0.3)) > 0.1                  # raw: biased toward 0
    assert row["index_low"] <= -0.3 <= row["index_high"]
    assert row["matrix_sd"] > 0


def test_projection_and_errors() -> None:
    assert project_simplex(np.array([1.2, -0.1, -0.1]))[0] == pytest.approx([1, 0, 0])
    ts, labels = _stream({"2024-01-01": ["positive"] * 3})
    with pytest.raises(DataError, match="set `positive`"):
        sentiment_index(ts, labels, ["a", "b"], "positive", "negative", None, adjust=False)
    with pytest.raises(DataError, match="index.adjust = false"):
        sentiment_index(ts, labels, CLASSES, "positive", "negative", None, adjust=True)


# A classifier that calls only 49% of truly neutral tweets neutral (as on UMSAB validation).
WEAK = np.array([[60, 30, 10], [26, 49, 25], [8, 30, 62]])


def _log_likelihood(counts: np.ndarray, shares: np.ndarray, matrix: np.ndarray) -> float:
    return float(np.sum(counts * np.log(np.maximum(shares @ matrix, 1e-300))))


def test_adjusted_shares_outside_the_simplex_are_the_most_likely_valid_ones() -> None:
    matrix, counts = error_matrix(WEAK), np.array([2, 20, 18])
    plain = np.linalg.solve(matrix.T, counts / counts.sum())
    assert plain.min() < 0  # the plain solution is outside the simplex
    shares = adjusted_shares(counts / counts.sum(), matrix)[0]
    assert shares.min() >= 0 and shares.sum() == pytest.approx(1)
    grid = [np.array([a, b, 1 - a - b]) for a in np.linspace(0, 1, 101)
            for b in np.linspace(0, 1, 101) if a + b <= 1]
    best = max(_log_likelihood(counts, g, matrix) for g in grid)
    assert _log_likelihood(counts, shares, matrix) >= best - 1e-9
    assert _log_likelihood(counts, shares, matrix) > _log_likelihood(
        counts, project_simplex(plain)[0], matrix)


def _counts_stream(per_day: dict[str, list[int]]) -> tuple[pd.Series, pd.Series]:
    return _stream({day: sum(([c] * n for c, n in zip(CLASSES, counts, strict=True)), [])
                    for day, counts in per_day.items()})


def test_period_out_of_reach_of_the_matrix_is_not_published() -> None:
    # 75% predicted neutral, while at most 49% of any class is: no valid shares explain it
    ts, labels = _counts_stream({"2024-01-01": [5, 27, 4]})
    out = sentiment_index(ts, labels, CLASSES, "positive", "negative", WEAK, period="day",
                          min_count=30, bootstrap=300)
    row = out.iloc[0]
    assert row["status"] == "adjusted_at_boundary"
    assert "neutral share 75% is out of reach" in row["reason"] and "at most 49%" in row["reason"]
    assert np.isnan(row["index"]) and np.isnan(row["index_low"])
    assert row["raw_index"] == pytest.approx((4 - 5) / 36)
    assert row["raw_index_low"] < row["raw_index_high"]


def test_published_intervals_never_have_zero_width() -> None:
    ts, labels = _counts_stream({"2024-01-01": [5, 27, 4], "2024-01-02": [1, 15, 24],
                                 "2024-01-03": [10, 14, 16], "2024-01-04": [0, 10, 30],
                                 "2024-01-05": [3, 17, 20]})
    out = sentiment_index(ts, labels, CLASSES, "positive", "negative", WEAK, period="day",
                          min_count=30, bootstrap=300)
    assert set(out["status"]) == {"ok", "adjusted_at_boundary"}
    for _, row in out.iterrows():
        if row["status"] == "ok":
            assert row["index_low"] <= row["index"] <= row["index_high"]
            assert row["index_high"] - row["index_low"] > 0.05
            assert 0 <= row["share_neutral"] <= 1
        else:
            assert np.isnan(row["index"]) and row["reason"]


def test_shares_at_the_edge_are_written_as_zero_not_underflow() -> None:
    """EM reaches a share of 0 only in the limit: 1e-9 or a denormal such as 5e-324 would be
    written to index.csv where the estimate is 0."""
    ts, labels = _counts_stream({"2024-01-01": [1, 15, 24], "2024-01-02": [10, 14, 16],
                                 "2024-01-03": [3, 17, 20]})
    out = sentiment_index(ts, labels, CLASSES, "positive", "negative", WEAK, period="day",
                          min_count=30, bootstrap=300)
    ok = out[out["status"] == "ok"]
    assert len(ok) == 3
    figures = ok.select_dtypes("number").drop(columns="n")
    assert not ((figures != 0) & (figures.abs() < 1e-8)).any().any()
    shares = figures[[c for c in figures if c.startswith("share_")]]
    assert ((shares >= 0) & (shares <= 1)).all().all()
    assert ok["share_negative"].iloc[0] == 0 and ok["share_neutral"].iloc[0] == 0
    assert (ok["index_low"] <= ok["index"]).all() and (ok["index"] <= ok["index_high"]).all()


def test_a_baseline_run_is_told_its_model_writes_no_index_not_to_set_the_stream() -> None:
    from mlstat_twitter.indicators import SentimentIndexIndicator
    from mlstat_twitter.models import SentimentModel
    from mlstat_twitter.params import IndexIndicatorParams

    from mlstat_core.builtins.models import MajorityModel
    from mlstat_core.components import AssessContext
    from mlstat_core.tasks import TEXT_CLASSIFICATION

    def why(model) -> str:
        ctx = AssessContext(task=TEXT_CLASSIFICATION, model=model, train=None,
                            test=None, predictions=pd.DataFrame())
        (result,) = SentimentIndexIndicator(IndexIndicatorParams()).compute(ctx)
        assert result.status == "skipped"
        return result.explanation

    assert "does not index a tweet stream" in why(MajorityModel())
    assert "set `stream` in [loader]" in why(SentimentModel())


def test_per_language_macro_f1_scores_the_classes_the_language_has() -> None:
    """A French test set without negative tweets, predicted perfectly, is 1.0 (as the core's
    macro_f1 counts it), not 0.667 for a class it does not have."""
    from mlstat_twitter.indicators import macro_f1

    french = np.array(["neutral", "positive", "positive", "neutral"])
    assert macro_f1(french, french) == pytest.approx(1.0)
    wrong = np.array(["neutral", "positive", "negative", "neutral"])  # a false negative
    assert macro_f1(french, wrong) == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_the_matrix_share_of_the_interval_uses_the_index_level() -> None:
    from mlstat_twitter.indicators import _z

    assert _z(0.95) == pytest.approx(1.95996, abs=1e-4)
    assert _z(0.9) == pytest.approx(1.64485, abs=1e-4)
