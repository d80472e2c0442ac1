"""The index arithmetic on hand-made data, where every true figure is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlstat_twitter.index import (
    adjusted_shares,
    deflated_misfit,
    error_matrix,
    log_likelihood,
    optimality_gap,
    project_simplex,
    sentiment_index,
)

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


@pytest.mark.parametrize("bootstrap", [0, -5])
def test_too_few_bootstrap_replicates_are_named(bootstrap: int) -> None:
    # bootstrap=0 from Python used to fail inside numpy ("too many values to unpack");
    # pipelines refuse it in IndexParams
    ts, labels = _stream({"2024-01-01": ["positive"] * 6 + ["negative"] * 4})
    with pytest.raises(ValueError, match=f"bootstrap={bootstrap}: the index needs at least 1"):
        sentiment_index(ts, labels, CLASSES, "positive", "negative", None, period="day",
                        min_count=5, adjust=False, bootstrap=bootstrap)


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


def test_a_singular_confusion_matrix_corrects_nothing(tmp_path) -> None:
    """A classifier that never predicted neutral on the labelled tweets: many true shares give
    the same predicted ones, so EM would return its starting point (1/3 neutral) with a
    bootstrap interval around it. Every period keeps its raw figures, says why, and publishes
    no adjusted share."""
    never_neutral = np.array([[80, 0, 20], [50, 0, 50], [20, 0, 80]])
    ts, labels = _counts_stream({"2024-01-01": [20, 0, 40], "2024-01-02": [30, 0, 30]})
    out = sentiment_index(ts, labels, CLASSES, "positive", "negative", never_neutral,
                          period="day", min_count=30, bootstrap=100)
    assert list(out["status"]) == ["not_adjusted", "not_adjusted"]
    assert out["reason"].str.contains("neutral is never predicted on the 300 labelled").all()
    # the rows do not know where the index was asked for: both ways to switch it off
    assert out["reason"].str.contains("index.adjust = false (--no-adjust", regex=False).all()
    assert out[["index", "share_neutral", "share_neutral_low", "matrix_sd"]].isna().all().all()
    assert out["raw_index"].tolist() == pytest.approx([1 / 3, 0])
    from mlstat_twitter.indicators import SentimentIndexIndicator
    from mlstat_twitter.params import IndexIndicatorParams

    from mlstat_core.components import AssessContext
    from mlstat_core.tasks import TEXT_CLASSIFICATION

    out.to_csv(tmp_path / "sentiment_index.csv", index=False)
    ctx = AssessContext(task=TEXT_CLASSIFICATION, model=None, train=None, test=None,
                        predictions=pd.DataFrame(), outputs=[tmp_path / "sentiment_index.csv"])
    (result,) = SentimentIndexIndicator(IndexIndicatorParams()).compute(ctx)
    assert result.status == "skipped" and "the confusion matrix is singular" in \
        result.explanation and "min_count" not in result.explanation
    # the error rates of neutral tweets are the mean of the others': singular too
    mixed = np.array([[80, 10, 10], [45, 10, 45], [10, 10, 80]])
    out = sentiment_index(ts, labels, CLASSES, "positive", "negative", mixed, period="day",
                          min_count=30, bootstrap=100)
    assert (out["status"] == "not_adjusted").all()
    assert out["reason"].str.contains("a mixture of the other classes").all()
    # nearly singular is not singular: published, with an interval as wide as the truth allows
    near = np.array([[34, 33, 33], [33, 34, 33], [33, 33, 34]])
    ts, labels = _counts_stream({"2024-01-01": [20, 20, 20]})
    row = sentiment_index(ts, labels, CLASSES, "positive", "negative", near, period="day",
                          min_count=30, bootstrap=200).iloc[0]
    assert row["status"] == "ok" and row["index_high"] - row["index_low"] > 1.5


def test_raw_shares_have_their_sampling_intervals() -> None:
    """Every share in the file has its interval: the raw ones the binomial sampling interval
    (about +/- 1.96 sqrt(q (1 - q) / n)), also where the adjusted ones are published."""
    ts, labels = _counts_stream({"2024-01-01": [100, 250, 150]})
    out = sentiment_index(ts, labels, CLASSES, "positive", "negative",
                          np.array([[70, 20, 10], [15, 70, 15], [5, 15, 80]]), period="day",
                          bootstrap=2000, seed=3)
    row = out.iloc[0]
    assert row["status"] == "ok"
    for name, q in zip(CLASSES, (0.2, 0.5, 0.3), strict=True):
        low, high = row[f"raw_share_{name}_low"], row[f"raw_share_{name}_high"]
        assert row[f"raw_share_{name}"] == pytest.approx(q)
        assert low < q < high
        assert high - low == pytest.approx(2 * 1.96 * np.sqrt(q * (1 - q) / 500), rel=0.12)
        assert row[f"share_{name}_low"] < row[f"share_{name}"] < row[f"share_{name}_high"]


def test_periods_weeks_time_zones_month_ends_and_gaps() -> None:
    """Weeks run Monday to Sunday (ISO weeks; the one across the new year is labelled by its
    dates), offsets are honoured, days and months are counted in ``timezone`` (a tweet at
    23:30 UTC on 31 January is in February in Brussels), and a period without tweets between
    active ones is a row of its own, never a missing line."""
    ts = pd.Series(pd.to_datetime(
        ["2024-12-29T12:00:00Z",          # Sunday: the week of 23-29 December
         "2024-12-30T00:30:00+01:00",     # 23:30 UTC on Sunday 29, 00:30 Monday in Brussels
         "2025-01-31T23:30:00Z",          # 31 January UTC, 1 February in Brussels
         "2025-03-10T08:00:00Z"], utc=True, format="ISO8601"))
    labels = pd.Series(["positive", "negative", "neutral", "positive"])

    def table(period: str, zone: str) -> pd.DataFrame:
        return sentiment_index(ts, labels, CLASSES, "positive", "negative", None,
                               period=period, min_count=1, adjust=False, bootstrap=50,
                               timezone=zone)

    utc = table("week", "UTC")
    assert utc["period"].iloc[0] == "2024-12-23/2024-12-29" and utc["n"].iloc[0] == 2
    assert utc["period"].iloc[1] == "2024-12-30/2025-01-05"  # ISO week 2025-W01
    assert (pd.to_datetime(utc["start"]).dt.day_of_week == 0).all()  # Mondays
    assert (pd.to_datetime(utc["end"]).dt.day_of_week == 6).all()    # Sundays
    assert len(utc) == 12 and utc["n"].sum() == 4                  # every week, empty or not
    empty = utc[utc["n"] == 0]
    assert (empty["status"] == "too_few").all() and (empty["reason"] == "no tweets").all()
    assert empty["index"].isna().all()
    brussels = table("week", "Europe/Brussels")
    assert brussels["n"].iloc[:2].tolist() == [1, 1]
    months = table("month", "Europe/Brussels")
    assert months["period"].tolist() == ["2024-12", "2025-01", "2025-02", "2025-03"]
    assert months["n"].tolist() == [2, 0, 1, 1]
    assert months["end"].tolist() == ["2024-12-31", "2025-01-31", "2025-02-28", "2025-03-31"]
    assert table("month", "UTC")["n"].tolist() == [2, 1, 0, 1]


def test_timestamps_without_a_time_zone_are_read_as_utc_with_a_warning(tmp_path) -> None:
    """A naive time (``2024-01-31 23:30:00``) may be a local time; read as UTC it can move a
    tweet across midnight, so the loader says how many there are and how they were read."""
    import warnings

    from mlstat_twitter.loaders import read_tweets

    path = tmp_path / "stream.csv"
    path.write_text("id,text,created_at\n1,a,2024-01-31T23:30:00Z\n2,b,2024-01-31 23:30:00\n"
                    "3,c,2024-01-31T23:30:00+01:00\n4,d,2024-01-31\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"stream.csv: 2 of 4 timestamp\(s\) carry no time zone "
                                         r"\(such as '2024-01-31 23:30:00'\); they are read as "
                                         "UTC"):
        frame, _ = read_tweets(path)
    assert frame["created_at"].tolist() == [pd.Timestamp(t, tz="UTC") for t in (
        "2024-01-31 23:30", "2024-01-31 23:30", "2024-01-31 22:30", "2024-01-31")]
    path.write_text("id,text,created_at\n1,a,2024-01-31T23:30:00Z\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_tweets(path)  # every time with its zone: nothing to say


def test_a_naive_time_is_warned_of_only_where_times_are_needed(tmp_path) -> None:
    """JSON Lines as CSV: a stream warns of times without a zone, training data that says it
    needs no time (``require_timestamp = false``) does not."""
    import json
    import warnings

    from mlstat_twitter.loaders import read_tweets
    from mlstat_twitter.params import TweetsParams

    path = tmp_path / "tweets.jsonl"
    path.write_text(json.dumps({"id": "1", "text": "a", "created_at": "2024-01-31 23:30:00"})
                    + "\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="carry no time zone"):
        read_tweets(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame, _ = read_tweets(path, params=TweetsParams(path=str(path),
                                                          require_timestamp=False))
    assert frame["created_at"].tolist() == [pd.Timestamp("2024-01-31 23:30", tz="UTC")]


TRUE_ERRORS = error_matrix(WEAK)
"""The classifier's true error rates in the simulations below (rows true, columns predicted)."""


def test_the_interval_carries_the_uncertainty_of_the_confusion_matrix() -> None:
    """With 20,000 tweets in a period, tweet sampling hardly moves the index; what does is the
    confusion matrix, estimated from 60 labelled tweets per class. The true spread of the
    adjusted index over labelled samples (Monte Carlo, 1,000 samples) must be what the
    interval shows: a bootstrap that redrew the tweets alone would give a tenth of it."""
    rng = np.random.default_rng(7)
    truth = np.array([0.25, 0.45, 0.30])
    expected = truth @ TRUE_ERRORS
    samples = np.stack([np.stack([rng.multinomial(60, row) for row in TRUE_ERRORS])
                        for _ in range(1000)])
    estimates = adjusted_shares(np.broadcast_to(expected, (1000, 3)), error_matrix(samples))
    spread = np.std(estimates[:, 2] - estimates[:, 0])  # about 0.11
    assert abs(np.mean(estimates[:, 2] - estimates[:, 0]) - 0.05) < 0.01  # nearly unbiased
    ts, labels = _counts_stream({"2024-01-01": np.rint(expected * 20000).astype(int).tolist()})

    def half_width(conf: np.ndarray, seed: int) -> float:
        row = sentiment_index(ts, labels, CLASSES, "positive", "negative", conf,
                              period="month", bootstrap=300, seed=seed).iloc[0]
        assert row["status"] == "ok"
        return (row["index_high"] - row["index_low"]) / (2 * 1.96)

    ratios = [half_width(samples[s], s) / spread for s in range(3)]
    assert 0.7 < np.mean(ratios) < 1.4, ratios
    assert half_width(samples[0] * 10**6, 0) / spread < 0.2  # the matrix taken as exact


def test_adjusted_shares_are_unbiased_over_many_simulated_periods() -> None:
    """2,000 periods of 500 tweets from known shares, classified with known errors: the mean
    adjusted figures are the truth (within 0.005, over three Monte Carlo standard errors),
    the mean raw index is off by 0.0175. Near a share of 0 the adjusted share is pulled up
    (it cannot be negative): 0.058 for a true 0.05, the price of shares in [0, 1]."""
    rng = np.random.default_rng(11)
    for truth, bias in (([0.25, 0.45, 0.30], 0.0), ([0.05, 0.45, 0.50], 0.0082)):
        truth = np.asarray(truth)
        observed = rng.multinomial(500, truth @ TRUE_ERRORS, size=2000) / 500
        shares = adjusted_shares(observed, TRUE_ERRORS)
        assert np.allclose(shares.sum(axis=1), 1) and shares.min() >= 0
        assert shares.mean(axis=0)[0] - truth[0] == pytest.approx(bias, abs=0.003)
        index = shares[:, 2] - shares[:, 0]
        assert index.mean() == pytest.approx(truth[2] - truth[0], abs=0.006)
        if not bias:
            assert shares.mean(axis=0) == pytest.approx(truth, abs=0.005)
            raw = observed[:, 2] - observed[:, 0]
            assert abs(raw.mean() - (truth[2] - truth[0])) > 0.012  # 0.0175 expected


def test_a_class_missing_from_the_models_own_matrix_is_warned_about() -> None:
    """Validation tweets without a neutral one: the model's matrix assumes neutral tweets are
    always predicted right. A labelled sample of the stream was warned about; so is this."""
    from mlstat_twitter.models import SentimentModel

    model = SentimentModel()
    model.classes_ = CLASSES
    model.state = {"confusion": [[8, 1, 1], [0, 0, 0], [1, 2, 7]],
                   "confusion_source": "validation"}
    notes: list[str] = []
    counts, source, _ = model._index_confusion({}, notes)
    assert counts.tolist() == model.state["confusion"] and source == "validation"
    assert notes == ["the model's confusion matrix (validation) has no tweet labelled neutral: "
                     "that class is assumed always predicted right; label some tweets of the "
                     "stream and give them as confusion_sample"]
    model.state["confusion"] = [[8, 1, 1], [1, 8, 1], [1, 2, 7]]
    notes.clear()
    model._index_confusion({}, notes)
    assert notes == []


def _reference_em(observed: np.ndarray, matrix: np.ndarray, steps: int) -> np.ndarray:
    """The former estimator: plain EM (Saerens et al. 2002) for a fixed number of steps."""
    plain = np.einsum("bij,bj->bi", np.linalg.pinv(np.swapaxes(matrix, -1, -2)), observed)
    shares = 0.9 * project_simplex(plain) + 0.1 / observed.shape[1]
    for _ in range(steps):
        fitted = np.einsum("bi,bij->bj", shares, matrix)
        ratio = np.divide(observed, fitted, out=np.zeros_like(observed), where=fitted > 0)
        shares = shares * np.einsum("bij,bj->bi", matrix, ratio)
        shares /= shares.sum(axis=1, keepdims=True)
    return shares


@pytest.mark.parametrize(("k", "spread"), [(2, 1.0), (3, 1.0), (4, 3.0)])
def test_fast_adjusted_shares_match_em_run_to_convergence(k: int, spread: float) -> None:
    # bootstrap-like cases: small labelled matrices, periods of 50 tweets, true shares at random
    rng = np.random.default_rng(k)
    conf = rng.integers(5, 30, size=(k, k)) + np.diag(rng.integers(30, 80, size=k))
    matrices = error_matrix(np.stack(
        [rng.multinomial(conf[i].sum(), conf[i] / conf[i].sum(), size=120) for i in range(k)],
        axis=1))
    observed = rng.multinomial(50, rng.dirichlet(np.full(k, spread), size=120)) / 50
    plain = np.einsum("bij,bj->bi", np.linalg.inv(np.swapaxes(matrices, -1, -2)), observed)
    boundary = plain.min(axis=1) < 0
    assert 10 <= boundary.sum() <= 110  # both kinds of case are tested
    fast, em = adjusted_shares(observed, matrices), _reference_em(observed, matrices, 10000)
    assert fast.min() >= 0 and fast.sum(axis=1) == pytest.approx(1)
    assert fast[~boundary] == pytest.approx(plain[~boundary], abs=1e-12)  # saturated: exact
    converged = optimality_gap(em, observed, matrices) < 1e-13  # EM's own maximum, certified
    assert converged.mean() > 0.9
    assert np.abs(fast - em)[converged].max() < 1e-6
    assert (log_likelihood(fast, observed, matrices)
            >= log_likelihood(em, observed, matrices) - 1e-12).all()
    assert optimality_gap(fast, observed, matrices).max() < 1e-12  # certified maximum


def test_change_is_since_the_previous_published_period() -> None:
    """Each published period has the change of its index and shares since the last published
    one before it (``change_from``), skipping periods that are not published; the others, and
    the first published period, have no change and say why."""
    ts, labels = _counts_stream({"2024-01-01": [10, 20, 30], "2024-01-02": [1, 1, 1],
                                 "2024-01-03": [30, 20, 10], "2024-01-04": [20, 20, 20]})
    for conf, adjust in ((WEAK, True), (None, False)):
        out = sentiment_index(ts, labels, CLASSES, "positive", "negative", conf, period="day",
                              min_count=30, adjust=adjust, bootstrap=300, seed=2)
        assert list(out["status"]) == ["ok", "too_few", "ok", "ok"]
        assert out["change_from"].iloc[2:].tolist() == ["2024-01-01", "2024-01-03"]
        index = out["index"].iloc[[0, 2, 3]]
        assert out["change"].iloc[2:].tolist() == pytest.approx(np.diff(index))
        assert out["change_reason"].tolist() == ["no earlier published period to compare with",
                                                 "this period is not published", "", ""]
        assert out.loc[:1, ["change", "change_low", "change_high", "change_from",
                            "change_share_neutral"]].isna().all().all()
        later = out.iloc[2:]
        assert (later["change_low"] < later["change"]).all()
        assert (later["change"] < later["change_high"]).all()
        shares = later[[f"change_share_{c}" for c in CLASSES]]
        assert shares.sum(axis=1).tolist() == pytest.approx([0, 0], abs=1e-12)
        # 10 -> 30 predicted negative, 30 -> 10 positive: falls are written, not clipped to 0
        assert later["change_share_negative_low"].iloc[0] > 0
        assert later["change_share_positive_high"].iloc[0] < 0
        assert later["change_high"].iloc[0] < -0.3


def _two_periods(truths: list[list[float]], n: int, labelled: int,
                 rng: np.random.Generator, seed: int) -> pd.DataFrame:
    """The index of two days of ``n`` tweets each from known shares, adjusted with a matrix
    estimated on ``labelled`` tweets per class drawn with the true errors."""
    conf = np.stack([rng.multinomial(labelled, row) for row in TRUE_ERRORS])
    counts = [rng.multinomial(n, np.asarray(t) @ TRUE_ERRORS) for t in truths]
    seconds = np.concatenate([d * 86400 + np.arange(n) for d in range(len(truths))])
    ts = pd.Series(pd.to_datetime(seconds, unit="s", utc=True))  # n < 86,400: one day each
    labels = pd.Series(np.concatenate([np.repeat(CLASSES, c) for c in counts]))
    return sentiment_index(ts, labels, CLASSES, "positive", "negative", conf, period="day",
                           min_count=30, bootstrap=200, seed=seed)


def test_change_interval_shares_the_matrix_draws_of_both_periods() -> None:
    """True index constant over two periods of 2,000 tweets, matrix from 60 labelled tweets per
    class (it dominates each period's interval). 300 simulations: the change interval covers 0
    in 92-98% (95% expected, Monte Carlo error 1.3%; a naive or unshared interval covers about
    100%) and is less than half as wide as the two periods' intervals combined as if
    independent (sqrt of the sum of squared widths; 0.31 in docs/twitter.md's simulation)."""
    rng = np.random.default_rng(21)
    truth = [0.25, 0.45, 0.30]
    covered, widths, naive = 0, [], []
    for s in range(300):
        first, second = (row for _, row in _two_periods([truth, truth], 2000, 60, rng,
                                                         s).iterrows())
        assert first["status"] == second["status"] == "ok"
        covered += second["change_low"] <= 0 <= second["change_high"]
        widths.append(second["change_high"] - second["change_low"])
        naive.append(np.hypot(first["index_high"] - first["index_low"],
                              second["index_high"] - second["index_low"]))
    assert 0.92 <= covered / 300 <= 0.98, covered
    assert np.mean(widths) < 0.45 * np.mean(naive), (np.mean(widths), np.mean(naive))


def test_a_true_change_is_detected_where_the_two_intervals_overlap() -> None:
    """The true index rises by 0.10 (share positive 30% -> 35%, negative 25% -> 20%); 20,000
    tweets per period, matrix from 200 labelled tweets per class. The periods' intervals
    overlap (the matrix's error moves both), yet the change interval excludes 0 and holds the
    true change."""
    rng = np.random.default_rng(5)
    for s in range(5):
        out = _two_periods([[0.25, 0.45, 0.30], [0.20, 0.45, 0.35]], 20000, 200, rng, s)
        first, second = out.iloc[0], out.iloc[1]
        assert first["index_high"] > second["index_low"]  # overlapping intervals
        assert 0 < second["change_low"] <= 0.10 <= second["change_high"]
        assert second["change"] == pytest.approx(0.10, abs=0.04)
        assert second["change_share_positive"] == pytest.approx(0.05, abs=0.04)


def test_a_matrix_that_never_predicts_a_seen_class_gives_no_shares() -> None:
    """A bootstrap draw of the matrix can have a column of zeros (a rare class never
    predicted in the draw): no shares can then explain a period where that class was
    predicted, and the replicate has no estimate rather than an arbitrary vertex."""
    matrix = np.array([[.8, .2, 0], [.1, .9, 0], [.3, .7, 0]])
    shares = adjusted_shares(np.array([[.3, .5, .2], [.3, .7, 0]]), matrix)
    assert np.isnan(shares[0]).all()
    assert np.isfinite(shares[1]).all() and shares[1].sum() == pytest.approx(1)


def test_every_published_interval_contains_its_estimate() -> None:
    ts, labels = _counts_stream({"2024-01-01": [1, 15, 24], "2024-01-02": [10, 14, 16],
                                 "2024-01-03": [3, 17, 20], "2024-01-04": [0, 10, 30]})
    out = sentiment_index(ts, labels, CLASSES, "positive", "negative", WEAK, period="day",
                          min_count=30, bootstrap=300)
    ok = out[out["status"] == "ok"]
    assert len(ok) >= 3
    figures = ["index", "raw_index", *[f"{kind}share_{c}" for kind in ("", "raw_")
                                       for c in CLASSES]]
    for figure in figures:
        assert (ok[f"{figure}_low"] <= ok[figure]).all(), figure
        assert (ok[figure] <= ok[f"{figure}_high"]).all(), figure


STRONG = np.array([[900, 100, 0], [100, 800, 100], [0, 100, 900]])
WEAK_B = np.array([[500, 200, 300], [100, 500, 400], [0, 200, 800]])
PER_1000 = {"A": [230, 450, 320], "B": [150, 350, 500]}
"""Predicted classes of 1,000 tweets of true shares 0.2 / 0.5 / 0.3 (index 0.1) by each
language's classifier: ``1000 * p @ M``, exact."""


def _two_languages(mixes: list[tuple[int, int]]) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Days of tweets, ``(tenths in A, tenths in B)`` of 1,000 per day, all of true index
    0.1, predicted as each language's classifier would on average."""
    stamps, preds, langs = [], [], []
    for day, tenths in enumerate(mixes):
        for lang, tenth in zip("AB", tenths, strict=True):
            for c, per in zip(CLASSES, PER_1000[lang], strict=True):
                count = per * tenth // 10
                stamps += [pd.Timestamp("2024-03-01", tz="UTC") + pd.Timedelta(days=day)] * count
                preds += [c] * count
                langs += [lang] * count
    return pd.Series(stamps), pd.Series(preds), pd.Series(langs)


def test_each_languages_own_matrix_undoes_a_moving_mix_of_languages() -> None:
    """A classifier good in A and leaning to positive in B, the same opinion in both, and a
    stream that moves from A to B: the pooled matrix (validation half A, half B) fits neither
    day and shows a change of opinion that is only a change of language; each language's own
    matrix gives the true index on both days and no change."""
    ts, preds, langs = _two_languages([(9, 1), (1, 9)])
    args = (ts, preds, CLASSES, "positive", "negative", STRONG + WEAK_B)
    pooled = sentiment_index(*args, period="day", min_count=1, bootstrap=200)
    by_language = sentiment_index(*args, period="day", min_count=1, bootstrap=200,
                                  languages=langs, by_language={"A": STRONG, "B": WEAK_B})
    assert (by_language["status"] == "ok").all()
    assert by_language["index"].tolist() == pytest.approx([0.1, 0.1], abs=1e-9)
    assert by_language["change"].iloc[1] == pytest.approx(0, abs=1e-9)
    assert by_language["change_low"].iloc[1] < 0 < by_language["change_high"].iloc[1]
    assert pooled["index"].iloc[0] < 0 < 0.2 < pooled["index"].iloc[1]
    assert pooled["change_low"].iloc[1] > 0  # a change of mix read as a change of opinion
    # the raw (classify-and-count) figures and their intervals do not depend on the matrices
    raw = [c for c in pooled.columns if c.startswith("raw_")]
    pd.testing.assert_frame_equal(by_language[raw], pooled[raw])


def test_languages_without_their_own_matrix_use_the_pooled_one() -> None:
    """No language's own matrix: the index is the pooled one, to the last replicate. A
    language without its own (B) is adjusted with the pooled matrix: given the pooled matrix
    as A's own too, the estimates are the pooled ones (intervals drawn by language differ)."""
    ts, preds, langs = _two_languages([(9, 1), (1, 9)])
    args = (ts, preds, CLASSES, "positive", "negative", STRONG + WEAK_B)
    pooled = sentiment_index(*args, period="day", min_count=1, bootstrap=100)
    pd.testing.assert_frame_equal(pooled, sentiment_index(
        *args, period="day", min_count=1, bootstrap=100, languages=langs, by_language={}))
    same = sentiment_index(*args, period="day", min_count=1, bootstrap=100, languages=langs,
                           by_language={"A": STRONG + WEAK_B})
    assert same["index"].tolist() == pytest.approx(pooled["index"].tolist(), abs=1e-9)


def test_a_language_out_of_reach_of_its_matrix_is_named() -> None:
    """B's tweets all predicted neutral, which B's classifier never does that often: the day is
    not published, and the reason says which language's tweets the matrix cannot explain."""
    ts, preds, langs = _two_languages([(5, 5)])
    preds = preds.where(langs == "A", "neutral")
    out = sentiment_index(ts, preds, CLASSES, "positive", "negative", STRONG + WEAK_B,
                          period="day", min_count=1, bootstrap=100, languages=langs,
                          by_language={"A": STRONG, "B": WEAK_B})
    assert out["status"].iloc[0] == "adjusted_at_boundary"
    assert out["reason"].iloc[0].startswith("B tweets: predicted neutral share 100% is out of "
                                            "reach")


def _one_day(predicted: dict[str, list[int]]) -> tuple[pd.Series, pd.Series, pd.Series]:
    """One day of tweets: for each language, how many are predicted negative, neutral and
    positive."""
    preds, langs = [], []
    for lang, counts in predicted.items():
        for c, count in zip(CLASSES, counts, strict=True):
            preds += [c] * count
            langs += [lang] * count
    stamps = pd.Series([pd.Timestamp("2024-03-01", tz="UTC")] * len(preds))
    return stamps, pd.Series(preds), pd.Series(langs)


def _by_language(predicted: dict[str, list[int]], matrices: dict[str, np.ndarray],
                 **settings: object) -> pd.Series:
    ts, preds, langs = _one_day(predicted)
    return sentiment_index(ts, preds, CLASSES, "positive", "negative", sum(matrices.values()),
                           period="day", bootstrap=100, languages=langs, by_language=matrices,
                           **settings).iloc[0]


def test_a_small_languages_unclipped_shares_enter_the_average() -> None:
    """20 tweets of B all predicted neutral (out of reach of B's matrix: its plain shares are
    -0.53, 2.67, -1.13) beside 1,000 of A: the average of the plain solutions is valid and is
    the estimate, unbiased; clipping B's shares to the simplex first moves the index by 0.012,
    a bias that adds up over small languages."""
    plain_b = np.linalg.solve(error_matrix(WEAK_B).T, [0.0, 1.0, 0.0])
    expected = (1000 * np.array([0.2, 0.5, 0.3]) + 20 * plain_b) / 1020
    row = _by_language({"A": PER_1000["A"], "B": [0, 20, 0]}, {"A": STRONG, "B": WEAK_B})
    assert row["status"] == "ok"
    assert row["index"] == pytest.approx(expected[2] - expected[0], abs=1e-9)
    clipped = adjusted_shares([0.0, 1.0, 0.0], error_matrix(WEAK_B))[0]
    each_clipped = (1000 * np.array([0.2, 0.5, 0.3]) + 20 * clipped) / 1020
    assert abs(row["index"] - (each_clipped[2] - each_clipped[0])) > 0.01


def test_small_languages_out_of_reach_withhold_a_period_only_together() -> None:
    """A dozen tweets of B out of reach beside 1,000 of A do not withhold the day (fewer than
    min_count; with min_count 1 they do); three languages of 25 such tweets each, 75 in all,
    do, whatever min_count."""
    matrices = {"A": STRONG, "B": WEAK_B}
    dozen = {"A": PER_1000["A"], "B": [0, 12, 0]}
    assert _by_language(dozen, matrices)["status"] == "ok"
    one = _by_language(dozen, matrices, min_count=1)
    assert one["status"] == "adjusted_at_boundary"
    assert one["reason"].startswith("B tweets: predicted neutral share 100% is out of reach")
    three = {"B": WEAK_B, "C": WEAK_B, "D": WEAK_B}
    row = _by_language({g: [0, 25, 0] for g in three}, three)
    assert row["status"] == "adjusted_at_boundary"
    assert "summed over the 3 languages at the edge (B, C, D)" in row["reason"]
    assert "3 df" in row["reason"]


def test_the_edge_test_counts_one_degree_of_freedom_per_language_at_the_edge() -> None:
    """Two languages a little out of reach (16 of 30 predicted neutral where at most half of a
    class is): G 2.7 each, 5.4 together, under the 5.99 of 2 degrees of freedom (published)
    and above the 3.84 of one (a test of one degree would withhold the day)."""
    matrices = {"B": WEAK_B, "C": WEAK_B}
    counts = [7, 16, 7]
    fit = adjusted_shares(np.array(counts) / 30, error_matrix(WEAK_B))[0]
    g = deflated_misfit(np.array(counts), fit, WEAK_B)
    assert 3.84 < 2 * g < 5.99
    row = _by_language({"B": counts, "C": counts}, matrices)
    assert row["status"] == "ok"


def test_adding_small_languages_never_weakens_the_test_of_a_large_one() -> None:
    """A's 1,000 tweets are out of reach of its matrix (G 6.4); two languages of 20 tweets
    that fit theirs exactly (G 0) used to add two degrees of freedom once together they
    reached min_count, and the day was published. They are tested apart, and a fit that
    reproduces its counts adds no degree of freedom."""
    matrices = {"A": STRONG, "B": WEAK_B, "C": WEAK_B}
    alone = _by_language({"A": [78, 844, 78]}, {"A": STRONG})
    assert alone["status"] == "adjusted_at_boundary"
    row = _by_language({"A": [78, 844, 78], "B": [0, 4, 16], "C": [0, 4, 16]}, matrices)
    assert row["status"] == "adjusted_at_boundary"
    assert row["reason"].startswith("A tweets: predicted neutral share 84% is out of reach")


def test_a_language_whose_fit_reproduces_its_counts_is_no_evidence() -> None:
    """A fit at the simplex's edge that reproduces its counts (G 0) adds no degree of freedom:
    beside B (G 4.6, out of reach at 1 df) it would have lifted the bar to 2 df's 5.99 and
    published the day; and 25 such tweets no longer bring a dozen out of reach up to
    min_count."""
    matrices = {"B": WEAK_B, "C": WEAK_B}
    row = _by_language({"B": [6, 18, 6], "C": [0, 8, 32]}, matrices)
    assert row["status"] == "adjusted_at_boundary"
    assert row["reason"].startswith("B tweets: predicted positive share 20% is out of reach")
    assert "fit G = 4.6 > 3.84" in row["reason"]
    three = {"A": STRONG, "B": WEAK_B, "C": WEAK_B}
    assert _by_language({"A": PER_1000["A"], "B": [0, 12, 0], "C": [0, 5, 20]},
                        three)["status"] == "ok"


def test_a_language_whose_matrix_is_singular_falls_back_to_the_pooled_one() -> None:
    """Its note says why and that the pooled matrix takes over, without the advice to switch
    the adjustment off (its tweets are still adjusted)."""
    from mlstat_twitter.models import own_matrices

    never_neutral = np.array([[80, 0, 20], [50, 0, 50], [20, 0, 80]])
    own, why = own_matrices({"fr": never_neutral.tolist()}, CLASSES, "validation")
    assert own == {}
    (lang, note), = why
    assert note.startswith("language fr: in the validation, the confusion matrix is singular "
                           "(neutral is never predicted")
    assert note.endswith("adjusted with the pooled confusion matrix")
    assert "adjust =" not in note and "--no-adjust" not in note
