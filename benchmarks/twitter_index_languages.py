"""The sentiment index of a multilingual stream: one pooled confusion matrix against each
language's own (``[model.index] confusion_by``), simulated where the truth is known.

    python benchmarks/twitter_index_languages.py [--sims 300] [--bootstrap 200] [--seed 0]
                                                 [--out languages.json]

The classifier errs in each language as the default multilingual model does on UMSAB's
validation tweets (``examples/twitter-umsab.toml``: English calls 51% of neutral tweets
neutral, German 62%); each simulation draws that many labelled tweets per language and class
(108, UMSAB's validation), pools them for the pooled matrix (a third per language, as in
UMSAB), draws two days of tweets whose mix of languages moves, and runs
``mlstat_twitter.index.sentiment_index`` both ways. It reports, per scenario and method, the
mean error of each day's index and of the change between the days (bias), how often the 95%
interval holds the truth (coverage) and the mean width. The Monte Carlo error of a coverage
near 95% over N simulations is about 0.22 / sqrt(N).
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
LANGUAGES = ["en", "fr", "de"]
ERRORS = {  # rows true, columns predicted: validation counts of the default model (UMSAB)
    "en": [[80, 18, 10], [26, 55, 27], [7, 25, 76]],
    "fr": [[89, 11, 8], [18, 64, 26], [15, 31, 62]],
    "de": [[72, 21, 15], [20, 67, 21], [11, 8, 89]],
}
BASE = [0.25, 0.45, 0.30]
SCENARIOS = [  # name, mix of languages per day, true shares per language, tweets per day
    ("mix_moves_same_opinion", [[0.7, 0.15, 0.15], [0.15, 0.15, 0.7]],
     {g: BASE for g in LANGUAGES}, 2000),
    ("mix_moves_opinions_differ", [[0.7, 0.15, 0.15], [0.15, 0.15, 0.7]],
     {"en": [0.40, 0.40, 0.20], "fr": BASE, "de": [0.15, 0.45, 0.40]}, 2000),
    ("mix_as_validation", [[1 / 3] * 3, [1 / 3] * 3], {g: BASE for g in LANGUAGES}, 2000),
    ("mix_moves_500_tweets", [[0.7, 0.15, 0.15], [0.15, 0.15, 0.7]],
     {g: BASE for g in LANGUAGES}, 500),
    ("small_groups_5pct_negative", [[1 / 3] * 3, [1 / 3] * 3],
     {g: [0.05, 0.75, 0.20] for g in LANGUAGES}, 60),
]


def true_index(mix: list[float], truths: dict[str, list[float]]) -> float:
    """Positive minus negative share of the day's tweets, all languages together."""
    shares = sum(w * np.asarray(truths[g]) for w, g in zip(mix, LANGUAGES, strict=True))
    return float(shares[2] - shares[0])


def simulate(mixes: list[list[float]], truths: dict[str, list[float]], n: int,
             rng: np.random.Generator, bootstrap: int, seed: int
             ) -> dict[str, pd.DataFrame]:
    """One simulated pair of days, indexed with the pooled matrix and by language."""
    from mlstat_twitter.index import sentiment_index

    rates = {g: np.asarray(m) / np.sum(m, axis=1, keepdims=True) for g, m in ERRORS.items()}
    labelled = {g: np.asarray(ERRORS[g]).sum(axis=1) for g in LANGUAGES}
    own = {g: np.stack([rng.multinomial(labelled[g][i], rates[g][i]) for i in range(3)])
           for g in LANGUAGES}
    pooled = sum(own.values())
    stamps, preds, langs = [], [], []
    for day, mix in enumerate(mixes):
        for g, count in zip(LANGUAGES, rng.multinomial(n, mix), strict=True):
            truth = rng.choice(3, size=count, p=truths[g])
            guess = [rng.choice(3, p=rates[g][t]) for t in truth]
            preds += [CLASSES[c] for c in guess]
            langs += [g] * count
            stamps += [pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=day)] * count
    args = (pd.Series(stamps), pd.Series(preds), CLASSES, "positive", "negative", pooled)
    kwargs = {"period": "day", "min_count": 1, "bootstrap": bootstrap, "seed": seed}
    return {"pooled": sentiment_index(*args, **kwargs),
            "language": sentiment_index(*args, **kwargs, languages=pd.Series(langs),
                                        by_language=own)}


def summarise(runs: list[pd.DataFrame], truth: list[float]) -> dict[str, float]:
    """Bias, coverage and width of the days' index and of the change, over simulations."""
    out: dict[str, float] = {}
    change = truth[1] - truth[0]
    for day in (0, 1):
        rows = [r.iloc[day] for r in runs if r.iloc[day]["status"] == "ok"]
        out[f"day{day + 1}_published"] = len(rows) / len(runs)
        out[f"day{day + 1}_bias"] = float(np.mean([r["index"] - truth[day] for r in rows]))
        out[f"day{day + 1}_coverage"] = float(np.mean(
            [r["index_low"] <= truth[day] <= r["index_high"] for r in rows]))
        out[f"day{day + 1}_width"] = float(np.mean([r["index_high"] - r["index_low"]
                                                    for r in rows]))
    rows = [r.iloc[1] for r in runs if pd.notna(r.iloc[1].get("change"))]
    out["change_true"] = change
    out["change_bias"] = float(np.mean([r["change"] - change for r in rows]))
    out["change_coverage"] = float(np.mean([r["change_low"] <= change <= r["change_high"]
                                            for r in rows]))
    out["change_width"] = float(np.mean([r["change_high"] - r["change_low"] for r in rows]))
    return {k: round(v, 4) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sims", type=int, default=300)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.sims < 1 or args.bootstrap < 1:
        print("--sims and --bootstrap must be at least 1", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, mixes, truths, n in SCENARIOS:
        runs: dict[str, list[pd.DataFrame]] = {"pooled": [], "language": []}
        for sim in range(args.sims):
            for method, table in simulate(mixes, truths, n, rng, args.bootstrap,
                                          args.seed + sim).items():
                runs[method].append(table)
        truth = [true_index(mix, truths) for mix in mixes]
        results[name] = {method: summarise(tables, truth) for method, tables in runs.items()}
        print(name, json.dumps(results[name]), flush=True)
    report = {"settings": vars(args) | {"out": str(args.out)}, "results": results,
              "seconds": round(time.perf_counter() - started, 1),
              "python": platform.python_version()}
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
