"""Coverage of the sentiment index's intervals, simulated where the truth is known.

    python benchmarks/twitter_index_coverage.py [--sims 500] [--bootstrap 200] [--seed 0]
                                                [--out coverage.json]

Each simulation draws a period's tweets from known true shares (negative, neutral, positive),
classifies them with a weak classifier's known error rates (it calls 49% of neutral tweets
neutral, as on UMSAB validation), estimates the confusion matrix from its own labelled sample
of a few tweets per true class, and runs ``mlstat_twitter.index.sentiment_index`` on the
predictions. It reports, per scenario, how often the 95% interval holds the true index (or
the true change between two periods), the mean width, and for changes how often the interval
excludes 0 and how wide the two periods' own intervals are combined as if independent. These
are the figures behind docs/twitter.md's "Intervals" and "Change between periods"; the
Monte Carlo error of a coverage near 95% over N simulations is about 0.22 / sqrt(N).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

CLASSES = ["negative", "neutral", "positive"]
WEAK = np.array([[60, 30, 10], [26, 49, 25], [8, 30, 62]])
"""Rows true, columns predicted: the weak classifier's error counts (rates per row)."""
ERRORS = WEAK / WEAK.sum(axis=1, keepdims=True)
BASE = [0.25, 0.45, 0.30]
RISE = [0.20, 0.45, 0.35]
"""A true rise of the index by 0.10 from BASE."""

LEVELS = [  # name, true shares, tweets a period, labelled tweets per class, matrix taken exact
    ("level_500_tweets", BASE, 500, 100, False),
    ("level_50_tweets", BASE, 50, 100, False),
    ("level_500_tweets_matrix_as_exact", BASE, 500, 100, True),
    ("level_5pct_negative", [0.05, 0.45, 0.50], 500, 100, False),
    ("level_200_tweets_30_labelled", BASE, 200, 30, False),
]
CHANGES = [  # name, shares of the two periods, tweets a period, labelled tweets per class
    ("change_none_2000_tweets_60_labelled", [BASE, BASE], 2000, 60),
    ("change_none_500_tweets_100_labelled", [BASE, BASE], 500, 100),
    ("change_rise_2000_tweets_60_labelled", [BASE, RISE], 2000, 60),
    ("change_rise_500_tweets_100_labelled", [BASE, RISE], 500, 100),
    ("change_rise_20000_tweets_200_labelled", [BASE, RISE], 20000, 200),
    ("change_none_200_tweets_30_labelled", [BASE, BASE], 200, 30),
]


def simulate(truths: list[list[float]], n: int, labelled: int, exact: bool,
             rng: np.random.Generator, bootstrap: int, seed: int) -> pd.DataFrame:
    """The index of one day per entry of ``truths``, ``n`` tweets each, adjusted with a matrix
    counted on ``labelled`` tweets per true class (scaled up a million-fold if ``exact``)."""
    from mlstat_twitter.index import sentiment_index

    conf = np.stack([rng.multinomial(labelled, row) for row in ERRORS])
    if exact:
        conf = conf * 10**6
    counts = [rng.multinomial(n, np.asarray(t) @ ERRORS) for t in truths]
    seconds = np.concatenate([d * 86400 + np.arange(n) * (86400 // n)
                              for d in range(len(truths))])
    timestamps = pd.Series(pd.to_datetime(seconds, unit="s", utc=True))
    labels = pd.Series(np.concatenate([np.repeat(CLASSES, c) for c in counts]))
    return sentiment_index(timestamps, labels, CLASSES, "positive", "negative", conf,
                           period="day", min_count=1, bootstrap=bootstrap, seed=seed)


def level_scenario(truth: list[float], n: int, labelled: int, exact: bool, sims: int,
                   bootstrap: int, rng: np.random.Generator) -> dict:
    true_index = truth[2] - truth[0]
    covered, widths, estimates, published = 0, [], [], 0
    for s in range(sims):
        row = simulate([truth], n, labelled, exact, rng, bootstrap, s).iloc[0]
        if row["status"] != "ok":
            continue
        published += 1
        covered += row["index_low"] <= true_index <= row["index_high"]
        widths.append(row["index_high"] - row["index_low"])
        estimates.append(row["index"])
    return {"true_index": round(true_index, 4), "published": published,
            "coverage": round(float(covered) / max(published, 1), 4),
            "mean_width": round(float(np.mean(widths)), 4) if widths else None,
            "mean_estimate": round(float(np.mean(estimates)), 4) if estimates else None,
            "sd_estimate": round(float(np.std(estimates)), 4) if estimates else None}


def change_scenario(truths: list[list[float]], n: int, labelled: int, sims: int,
                    bootstrap: int, rng: np.random.Generator) -> dict:
    true_change = (truths[1][2] - truths[1][0]) - (truths[0][2] - truths[0][0])
    covered, found, widths, combined, published = 0, 0, [], [], 0
    for s in range(sims):
        first, second = (r for _, r in simulate(truths, n, labelled, False, rng, bootstrap,
                                                 s).iterrows())
        if first["status"] != "ok" or second["status"] != "ok":
            continue
        published += 1
        low, high = second["change_low"], second["change_high"]
        covered += low <= true_change <= high
        found += low > 0 or high < 0
        widths.append(high - low)
        combined.append(np.hypot(first["index_high"] - first["index_low"],
                                 second["index_high"] - second["index_low"]))
    width, naive = float(np.mean(widths)), float(np.mean(combined))
    return {"true_change": round(true_change, 4), "published": published,
            "coverage": round(float(covered) / max(published, 1), 4),
            "excludes_zero": round(float(found) / max(published, 1), 4),
            "mean_width": round(width, 4), "combined_period_width": round(naive, 4),
            "width_ratio": round(width / naive, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=500, help="simulations per scenario")
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    for option, value in (("--sims", args.sims), ("--bootstrap", args.bootstrap)):
        if value < 1:
            parser.error(f"{option} {value}: at least 1 (coverage needs intervals to count)")
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    results: dict[str, dict] = {}
    for name, truth, n, labelled, exact in LEVELS:
        results[name] = {"tweets": n, "labelled_per_class": labelled, **level_scenario(
            truth, n, labelled, exact, args.sims, args.bootstrap, rng)}
        print(name, results[name], flush=True)
    for name, truths, n, labelled in CHANGES:
        results[name] = {"tweets": n, "labelled_per_class": labelled, **change_scenario(
            truths, n, labelled, args.sims, args.bootstrap, rng)}
        print(name, results[name], flush=True)
    out = {"sims": args.sims, "bootstrap": args.bootstrap, "seed": args.seed,
           "monte_carlo_error_at_95": round(0.218 / np.sqrt(args.sims), 4),
           "seconds": round(time.perf_counter() - start, 1),
           "python": platform.python_version(), "scenarios": results}
    text = json.dumps(out, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
