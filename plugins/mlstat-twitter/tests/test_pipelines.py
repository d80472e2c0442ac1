"""The example pipelines end to end through mlstat_core.run (reduced for speed)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd

from mlstat_core.engine import run

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
FAST = ["model.base_params.char_ngrams=[2, 4]", "model.base_params.max_iter=200"]


def test_umsab_example_runs(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run(EXAMPLES / "twitter-umsab.toml", out=tmp_path,
                     overrides=['loader.languages=["french", "german"]', *FAST])
    assert result.status == "succeeded"
    assert 0.45 < result.metric("macro_f1_by_language") < 1
    assert {"macro_f1_fr", "macro_f1_de"} <= set(result.metrics)
    assert (result.run_dir / "report.html").is_file()


def test_index_example_runs(tmp_path: Path) -> None:
    from mlstat_twitter.loaders import data_dir

    stream = tmp_path / "stream.csv"
    timeline = pd.read_csv(data_dir() / "tweets_timeline" / "tweets.csv", dtype=str)
    timeline.iloc[:2500].to_csv(stream, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run(EXAMPLES / "twitter-index.toml", out=tmp_path,
                     overrides=[f'loader.stream="{stream}"', "model.index.bootstrap=100",
                                *FAST])
    assert result.status == "succeeded"
    outputs = result.run_dir / "outputs"
    table = pd.read_csv(outputs / "sentiment_index.csv")
    assert {"index", "index_low", "index_high", "raw_index", "status", "reason"} <= set(table)
    assert (table["status"] == "ok").sum() >= 3
    names = {r.name: r for r in result.indicators}
    latest = names["sentiment_index_latest"]
    assert latest.status == "ok" and latest.plots
    assert latest.interval[0] <= latest.value <= latest.interval[1]
    meta = json.loads((outputs / "sentiment_index.json").read_text())
    assert meta["confusion_source"] == "validation"
