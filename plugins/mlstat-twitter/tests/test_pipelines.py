"""The example pipelines end to end through mlstat_core.run (reduced for speed)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlstat_core.artifacts import RunFolder
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


@pytest.fixture(scope="module")
def index_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The index example, run once (on 2,500 tweets of the timeline) for the tests below."""
    from mlstat_twitter.loaders import data_dir

    tmp_path = tmp_path_factory.mktemp("index-run")
    stream = tmp_path / "stream.csv"
    timeline = pd.read_csv(data_dir() / "tweets_timeline" / "tweets.csv", dtype=str)
    timeline.iloc[:2500].to_csv(stream, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run(EXAMPLES / "twitter-index.toml", out=tmp_path,
                     overrides=[f'loader.stream="{stream}"', "model.index.bootstrap=100",
                                *FAST])
    return result, stream


def test_index_example_runs(index_run, tmp_path: Path) -> None:
    result, stream = index_run
    assert result.status == "succeeded"
    outputs = result.run_dir / "outputs"
    table = pd.read_csv(outputs / "sentiment_index.csv")
    assert {"index", "index_low", "index_high", "raw_index", "status", "reason"} <= set(table)
    assert (table["status"] == "ok").sum() >= 3
    names = {r.name: r for r in result.indicators}
    latest = names["sentiment_index_latest"]
    assert latest.status == "ok" and latest.plots
    assert latest.interval[0] <= latest.value <= latest.interval[1]
    # the plot has every period; an unpublished one has no value, so the line breaks there
    [index_line] = [s for s in latest.plots[0].data["series"] if s["label"].startswith("index")]
    assert len(index_line["x"]) == len(table)
    unpublished = (table["status"] != "ok").to_numpy()
    assert unpublished.any() and all(
        (y is None) == gap for y, gap in zip(index_line["y"], unpublished, strict=True))
    assert f"{int(unpublished.sum())} of {len(table)} periods are not published" in \
        latest.explanation
    level = json.loads((outputs / "sentiment_index.json").read_text())["settings"]["level"]
    assert latest.details["confidence_level"] == level  # the report labels the interval so
    # the latest change is a headline figure, read from the table's own change columns
    change = names["sentiment_index_change_latest"]
    last = table[table["status"] == "ok"].iloc[-1]
    published_periods = table.loc[table["status"] == "ok", "period"].astype(str).tolist()
    assert change.headline and change.status == "ok"
    assert change.value == pytest.approx(last["change"])
    assert change.interval == pytest.approx((last["change_low"], last["change_high"]))
    assert (change.details["from"], change.details["to"]) == tuple(published_periods[-2:])
    meta = json.loads((outputs / "sentiment_index.json").read_text())
    assert meta["confusion_source"] == "validation"
    # new tweets with the saved run: only the named output and its two companions are written
    from mlstat_twitter.cli import main as index_main

    published = tmp_path / "published"
    published.mkdir()
    for mine in ("sentiment_index.csv", "stream_predictions.csv"):
        (published / mine).write_text("last month's file\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert index_main([str(result.run_dir), "--input", str(stream), "--period", "quarter",
                           "--output", str(published / "q.csv")]) == 0
    assert sorted(p.name for p in published.iterdir()) == [
        "q.csv", "q.json", "q_predictions.csv", "sentiment_index.csv", "stream_predictions.csv"]
    assert all((published / mine).read_text() == "last month's file\n"
               for mine in ("sentiment_index.csv", "stream_predictions.csv"))
    assert set(pd.read_csv(published / "q.csv")["period"].str[4:6]) <= {"Q1", "Q2", "Q3", "Q4"}
    assert index_main([str(result.run_dir), "--input", str(stream), "--min-count", "0",
                       "--output", str(published / "bad.csv")]) == 2
    assert not (published / "bad.csv").exists()
    # a CSV export with its own column names
    renamed = tmp_path / "renamed.csv"
    pd.read_csv(stream, dtype=str).rename(columns={"text": "tweet", "created_at": "date"}) \
        .to_csv(renamed, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert index_main([str(result.run_dir), "--input", str(renamed), "--period", "quarter",
                           "--text-column", "tweet", "--time-column", "date",
                           "--output", str(published / "renamed.csv")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(published / "renamed.csv"),
                                  pd.read_csv(published / "q.csv"))


def test_index_cli_reads_a_cp1252_export(index_run, tmp_path: Path, capsys) -> None:
    from mlstat_twitter.cli import main as index_main

    result, stream = index_run
    tweets = pd.read_csv(stream, dtype=str).iloc[:400]
    tweets["text"] = tweets["text"].str.encode("cp1252", "replace").str.decode("cp1252") \
        + " – café"
    export = tmp_path / "tweets_cp1252.csv"
    export.write_bytes(tweets.to_csv(index=False).encode("cp1252"))
    out = tmp_path / "index.csv"
    assert index_main([str(result.run_dir), "--input", str(export), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not valid utf-8 text" in err and "pass --encoding (for example --encoding cp1252)" \
        in err and "[loader]" not in err
    assert not out.exists()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert index_main([str(result.run_dir), "--input", str(export), "--encoding", "cp1252",
                           "--output", str(out)]) == 0
    assert pd.read_csv(out)["n"].sum() > 0
    assert json.loads(out.with_suffix(".json").read_text())["loading"]["encoding"] == "cp1252"
    assert index_main([str(result.run_dir), "--input", str(export), "--encoding", "cp-1252x",
                       "--output", str(out)]) == 2
    assert "--encoding cp-1252x: unknown text encoding" in capsys.readouterr().err


def test_index_cli_follows_the_runs_stream_policy(index_run, tmp_path: Path) -> None:
    import shutil

    from mlstat_twitter.cli import main as index_main

    result, stream = index_run
    tweets = pd.read_csv(stream, dtype=str).iloc[:300]
    retweets = tweets.iloc[:40].assign(id=[f"9{i}" for i in range(40)],
                                       text=lambda t: "RT @jan: " + t["text"])
    export = tmp_path / "tweets.csv"
    pd.concat([tweets, retweets]).to_csv(export, index=False)
    keeping = tmp_path / "run"
    shutil.copytree(result.run_dir, keeping)
    config = keeping / "config.toml"
    config.write_text(config.read_text().replace('stream_retweets = "drop"',
                                                 'stream_retweets = "keep"'))
    folder = RunFolder.open(keeping)  # as a run made with that setting records it
    folder.record("config.toml")
    folder.save_manifest()

    def removed(run: Path, *options: str) -> dict:
        out = tmp_path / "index.csv"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert index_main([str(run), "--input", str(export), "--output", str(out),
                               *options]) == 0
        return json.loads(out.with_suffix(".json").read_text())["loading"]["removed"]

    assert removed(result.run_dir).get("retweets", 0) >= 40
    assert "retweets" not in removed(keeping)
    assert removed(keeping, "--retweets", "drop").get("retweets", 0) >= 40


def test_index_cli_estimates_the_matrix_on_a_labelled_sample(index_run, tmp_path: Path,
                                                             capsys) -> None:
    from mlstat_twitter.cli import main as index_main

    result, stream = index_run
    sample = tmp_path / "labelled.csv"
    labels = ["positive", "negative", "neutral"]
    pd.read_csv(stream, dtype=str).iloc[:30].assign(
        mood=[labels[i % 3] for i in range(30)]).to_csv(sample, index=False)
    out = tmp_path / "index.csv"
    assert index_main([str(result.run_dir), "--input", str(stream), "--output", str(out),
                       "--confusion-sample", str(sample), "--label-column", "mood"]) == 0
    assert "labelled.csv is small" in capsys.readouterr().err
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["confusion_source"] == str(sample.resolve())
    assert sum(map(sum, meta["confusion"])) == 30


def test_evaluating_a_labelled_sample_can_leave_the_runs_stream_out(index_run, tmp_path):
    """docs/twitter.md's check of the model on a labelled sample of the stream: with
    `loader.stream=` (empty) the evaluation scores the sample only, not the stream again."""
    from mlstat_core.evaluation import evaluate

    result, stream = index_run
    sample = pd.read_csv(stream, dtype=str).iloc[:40].assign(
        label=["negative", "neutral", "positive", "neutral"] * 10)
    sample.to_csv(tmp_path / "labelled.csv", index=False)
    sets = ["loader.component=twitter.tweets", "loader.label=label"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        without = evaluate(result.run_dir, tmp_path / "labelled.csv", [*sets, "loader.stream="],
                           out=tmp_path / "without")
        with_stream = evaluate(result.run_dir, tmp_path / "labelled.csv", sets,
                               out=tmp_path / "with")
    assert without.status == with_stream.status == "succeeded"
    assert without.metric("macro_f1") == with_stream.metric("macro_f1")
    assert not (without.run_dir / "outputs" / "sentiment_index.csv").exists()
    assert (with_stream.run_dir / "outputs" / "sentiment_index.csv").exists()
