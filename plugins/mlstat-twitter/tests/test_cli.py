"""``mlstat-twitter-index`` refuses outputs that would destroy evidence, before loading a model."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlstat_twitter.cli import main as index_main

TWEETS = "id,created_at,text\n1,2024-01-01T00:00:00Z,good\n"


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    """A folder that is not a run: the checks must refuse before the model is looked at."""
    return tmp_path / "no-such-run"


@pytest.mark.parametrize(("given", "output"), [
    ("week.csv", "week.csv"),                 # the index itself
    ("week.json", "week.csv"),                # its .json companion
    ("week_predictions.csv", "week.csv"),     # its predictions companion
    ("week_by_language.csv", "week.csv"),     # its by-language companion
])
def test_index_never_overwrites_the_tweet_file(tmp_path: Path, run_dir: Path, given: str,
                                               output: str, capsys) -> None:
    tweets = tmp_path / given
    tweets.write_text(TWEETS)
    code = index_main([str(run_dir), "--input", str(tweets), "--output", str(tmp_path / output)])
    assert code == 2
    assert tweets.read_text() == TWEETS
    assert "is the input file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [given]


def test_index_never_overwrites_the_labelled_sample(tmp_path: Path, run_dir: Path,
                                                    capsys) -> None:
    """The labelled sample of --confusion-sample is read like the input: an --output whose
    files would replace it is refused before anything is read or written."""
    tweets, sample = tmp_path / "tweets.csv", tmp_path / "week_by_language.csv"
    tweets.write_text(TWEETS)
    sample.write_text(TWEETS)
    code = index_main([str(run_dir), "--input", str(tweets), "--confusion-sample", str(sample),
                       "--output", str(tmp_path / "week.csv")])
    assert code == 2
    assert f"would replace the labelled sample {sample} (--confusion-sample)" in \
        capsys.readouterr().err
    assert sample.read_text() == TWEETS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tweets.csv", "week_by_language.csv"]


def test_index_never_writes_into_a_run_folder(tmp_path: Path, run_dir: Path, capsys) -> None:
    tweets = tmp_path / "tweets.csv"
    tweets.write_text(TWEETS)
    run = tmp_path / "run"
    (run / "outputs").mkdir(parents=True)
    (run / "manifest.json").write_text('{"run_id": "r", "status": "succeeded"}')
    for target in (run / "index.csv", run / "outputs" / "index.csv"):
        assert index_main([str(run), "--input", str(tweets), "--output", str(target)]) == 2
        assert "inside the run folder" in capsys.readouterr().err
        assert not target.exists()


def test_index_output_must_be_csv_before_the_model_is_loaded(tmp_path: Path, run_dir: Path,
                                                             capsys) -> None:
    tweets = tmp_path / "tweets.csv"
    tweets.write_text(TWEETS)
    assert index_main([str(run_dir), "--input", str(tweets),
                       "--output", str(tmp_path / "index.xlsx")]) == 2
    assert "ending in .csv" in capsys.readouterr().err


def test_missing_input_is_named_as_the_cli_option(tmp_path: Path, run_dir: Path, capsys,
                                                  monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert index_main([str(run_dir), "--input", "missing.jsonl", "--output", "x.csv"]) == 2
    err = capsys.readouterr().err
    assert "--input missing.jsonl" in err and "relative to the current folder" in err
    assert str(tmp_path) in err and "pipeline file" not in err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("stop, code", [("ctrl-c", 130), ("sigterm", 143)])
def test_an_interrupted_index_is_one_line_and_its_exit_code(tmp_path: Path, run_dir: Path,
                                                            capsys, monkeypatch, stop: str,
                                                            code: int) -> None:
    import mlstat_core.predict
    from mlstat_core.engine import Interrupted

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt() if stop == "ctrl-c" else Interrupted()

    monkeypatch.setattr(mlstat_core.predict, "load_model", stopped)
    tweets = tmp_path / "tweets.csv"
    tweets.write_text(TWEETS)
    assert index_main([str(run_dir), "--input", str(tweets),
                       "--output", str(tmp_path / "index.csv")]) == code
    assert "Interrupted: no index was written" in capsys.readouterr().err
    assert not (tmp_path / "index.csv").exists()


def test_a_missing_requirement_is_one_line_naming_what_to_install(tmp_path: Path, capsys,
                                                                   monkeypatch) -> None:
    """With mlstat-coding uninstalled the command ended in a ModuleNotFoundError traceback."""
    import sys

    for name in [n for n in sys.modules if n.startswith("mlstat_coding.")]:
        monkeypatch.delitem(sys.modules, name)  # imported by earlier tests
    monkeypatch.setitem(sys.modules, "mlstat_coding", None)  # not installed
    monkeypatch.delitem(sys.modules, "mlstat_twitter.models", raising=False)
    tweets = tmp_path / "tweets.csv"
    tweets.write_text(TWEETS)
    assert index_main([str(tmp_path), "--input", str(tweets),
                       "--output", str(tmp_path / "index.csv")]) == 2
    err = capsys.readouterr().err
    assert "mlstat-twitter needs the module 'mlstat_coding', which is not installed: " \
           "install" in err and "Traceback" not in err and "[torch]" not in err


def test_a_bad_index_option_names_the_option_as_typed() -> None:
    """`--min-count 0` is refused in the words of the command line, not of a pipeline file."""
    from mlstat_twitter.cli import index_settings
    from mlstat_twitter.params import IndexParams

    from mlstat_core.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        index_settings(IndexParams(), {"min_count": 0, "period": None})
    assert "[--min-count]" in str(info.value) and "index.min_count" not in str(info.value)


def test_confusion_by_keeps_the_runs_choice_unless_given() -> None:
    """`--confusion-by language` overrides the run's setting; without it the run's stays."""
    from mlstat_twitter.cli import index_settings
    from mlstat_twitter.params import IndexParams

    run = IndexParams(confusion_by="language")
    assert index_settings(run, {"confusion_by": None}).confusion_by == "language"
    assert index_settings(IndexParams(), {"confusion_by": "language"}).confusion_by == "language"
    assert index_settings(run, {"confusion_by": "pooled"}).confusion_by == "pooled"


LABELLED = "id,id_str,text,sentiment\n" + "".join(
    f"{i},{i},tweet {i},{('positive', 'negative', 'neutral')[i % 3]}\n" for i in range(12))


@pytest.mark.parametrize(("options", "sample", "message"), [
    (["--label-column", "lable"], LABELLED,
     "no label column 'lable'"),
    (["--label-column", "sentiment", "--id-column", "id_str"],
     LABELLED.replace("id,id_str,", "id,ident,"), "no id column 'id_str'"),
    (["--label-column", "sentiment"], LABELLED.replace(",positive\n", ",pos\n")
     .replace(",negative\n", ",neg\n").replace(",neutral\n", ",neu\n"),
     "none of its labels (neg, neu, pos) is a class of the model"),
])
def test_a_wrong_confusion_sample_is_refused_before_the_stream_is_scored(
        loaded, tmp_path: Path, monkeypatch, capsys, options: list[str], sample: str,
        message: str) -> None:
    """The audit's mistakes in --confusion-sample: said at once, not after minutes of scoring
    the stream, and nothing written (the output's folder included)."""
    def scored(frame) -> None:
        raise AssertionError(f"{len(frame)} tweets scored before the sample was checked")

    monkeypatch.setattr(loaded, "_score", scored)
    tweets, labelled = tmp_path / "tweets.csv", tmp_path / "labelled.csv"
    tweets.write_text("id,id_str,created_at,text\n1,1,2024-01-01T00:00:00Z,good\n")
    labelled.write_text(sample)
    out = tmp_path / "idx" / "tl.csv"
    code = index_main([str(tmp_path / "run"), "--input", str(tweets), "--confusion-sample",
                       str(labelled), *options, "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and message in err
    assert not out.parent.exists()


def test_a_missing_label_column_names_the_command_lines_option(loaded, tmp_path: Path,
                                                               capsys) -> None:
    tweets, labelled = tmp_path / "tweets.csv", tmp_path / "labelled.csv"
    tweets.write_text(TWEETS)
    labelled.write_text(LABELLED)
    code = index_main([str(tmp_path / "run"), "--input", str(tweets), "--confusion-sample",
                       str(labelled), "--output", str(tmp_path / "idx.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "no label column 'label'" in err and "'sentiment'" in err
    assert "pass --label-column" in err
    assert "`label`" not in err and "confusion_label" not in err and "remove it" not in err


def test_advice_on_languages_names_the_command_lines_options(loaded, tmp_path: Path,
                                                             capsys, monkeypatch) -> None:
    """Through mlstat-twitter-index, the warning on a moving mix of languages and the error of
    a model without matrices by language name --confusion-by and --confusion-sample."""
    import copy
    from types import SimpleNamespace

    import mlstat_core.predict

    rows = [f"{i},2024-0{1 + i // 60}-{1 + i % 28:02d}T10:00:00Z,"
            f"{('I love this', 'I hate it', 'Meeting at noon')[i % 3]} #{i},"
            f"{'en' if i < 60 else 'fr'}\n" for i in range(120)]
    tweets = tmp_path / "tweets.csv"
    tweets.write_text("id,created_at,text,language\n" + "".join(rows))
    out = tmp_path / "idx.csv"
    assert index_main([str(tmp_path / "run"), "--input", str(tweets), "--period", "month",
                       "--output", str(out)]) == 0
    moves = [line for line in capsys.readouterr().err.splitlines()
             if "moves between periods" in line]
    assert len(moves) == 1 and "pass --confusion-by language" in moves[0]
    assert "[model.index]" not in moves[0]
    old = copy.copy(loaded)
    old.state = {k: v for k, v in loaded.state.items() if k != "confusion_by_language"}
    monkeypatch.setattr(mlstat_core.predict, "load_model", lambda run_dir: (
        SimpleNamespace(path=tmp_path / "run"), old, None, None))
    assert index_main([str(tmp_path / "run"), "--input", str(tweets), "--confusion-by",
                       "language", "--output", str(tmp_path / "by.csv")]) == 2
    err = capsys.readouterr().err
    assert "pass --confusion-by pooled" in err and "with --confusion-sample" in err
    assert "confusion_sample" not in err and "confusion_by =" not in err
