"""Speed of the sentiment index (adjusted classify-and-count with bootstrap intervals).

    python benchmarks/twitter_index.py [--data FILE] [--period day|week|month]
                                       [--bootstrap 200] [--out index_speed.json]

Times ``mlstat_twitter.index.sentiment_index`` on the timestamps of a tweet stream (default:
the timeline bundled with the plugin, 20,761 tweets 2009-2017, retweets left out). Its
predictions are drawn with a fixed seed from a weak 3-class confusion matrix of 324 labelled
tweets (the size of UMSAB's validation set), with a share negative that drifts over the
years, so that some periods' shares lie on the edge of the simplex (the costly case). No model
is trained: this measures the index alone. Writes the periods, how many were computed, the
total seconds and the seconds per computed period.
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
CONFUSION = np.array([[65, 32, 11], [28, 53, 27], [9, 32, 67]])
"""Rows true, columns predicted: a weak classifier, 324 labelled tweets."""


def bundled_timeline() -> Path:
    from mlstat_twitter.loaders import resolve_path

    return Path(resolve_path("bundled:timeline", Path.cwd()))


def simulated_predictions(timestamps: pd.Series, seed: int = 1) -> pd.Series:
    """Predicted classes drawn through CONFUSION from true classes whose share negative
    rises by 4 points a year from 15 % in 2009."""
    rng = np.random.default_rng(seed)
    year = timestamps.dt.year.fillna(2013).to_numpy()
    negative = np.clip(0.15 + 0.04 * (year - 2009), 0.0, 0.7)
    truth = np.array([rng.choice(3, p=[a, 0.3, 0.7 - a]) for a in negative])
    rates = CONFUSION / CONFUSION.sum(axis=1, keepdims=True)
    predicted = np.array([rng.choice(3, p=rates[t]) for t in truth])
    return pd.Series(np.array(CLASSES)[predicted])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="CSV with created_at (and is_retweet)")
    parser.add_argument("--period", choices=["day", "week", "month"], default="week")
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    from mlstat_twitter.index import sentiment_index

    if args.bootstrap < 1:
        parser.error(f"--bootstrap {args.bootstrap}: at least 1 replicate (the index's own "
                     "setting takes 50 to 20000)")
    if args.data is not None and not args.data.is_file():
        parser.error(f"--data {args.data}: no such file")
    path = args.data or bundled_timeline()
    try:
        frame = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as exc:
        parser.error(f"--data {path}: not a readable UTF-8 CSV file ({exc})")
    if "created_at" not in frame.columns:
        parser.error(f"--data {path} has no column created_at (the tweets' timestamps); it "
                     f"has {', '.join(map(str, frame.columns[:20]))}")
    if "is_retweet" in frame.columns:
        frame = frame[~frame["is_retweet"].astype(str).eq("True")]
    timestamps = pd.to_datetime(frame["created_at"], utc=True, errors="coerce")
    timestamps = timestamps.reset_index(drop=True)
    predictions = simulated_predictions(timestamps)
    start = time.perf_counter()
    index = sentiment_index(timestamps, predictions, CLASSES, "positive", "negative",
                            CONFUSION, period=args.period, min_count=30,
                            bootstrap=args.bootstrap)
    seconds = time.perf_counter() - start
    computed = int((index["status"] != "too_few").sum())
    result = {"data": str(path), "tweets": len(timestamps), "period": args.period,
              "bootstrap": args.bootstrap, "periods": len(index), "computed": computed,
              "status": {str(k): int(v) for k, v in index["status"].value_counts().items()},
              "seconds": round(seconds, 3),
              "seconds_per_computed_period": round(seconds / max(computed, 1), 5),
              "python": platform.python_version()}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
