"""benchmarks/twitter.py as a user runs it: one-line errors (no traceback) for a folder laid
out wrongly or a language folder missing."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "twitter.py"


@pytest.fixture(scope="module")
def bench() -> SimpleNamespace:
    """The script's functions, its ``main`` not run."""
    return SimpleNamespace(**runpy.run_path(str(SCRIPT)))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A UMSAB-like folder with one language, its val part missing."""
    lang = tmp_path / "umsab" / "english"
    lang.mkdir(parents=True)
    for part in ("train", "test"):
        (lang / f"{part}_text.txt").write_text("good\nbad\nmeh\n", "utf-8")
        (lang / f"{part}_labels.txt").write_text("2\n0\n1\n", "utf-8")
    return tmp_path / "umsab"


@pytest.mark.parametrize(("languages", "message"), [
    ("german", "umsab/german does not exist; available: english"),
    ("english", "val_text.txt is missing"),
])
def test_bad_folders_are_one_line_errors(bench, folder, tmp_path, capsys, languages, message):
    out = tmp_path / "o.json"
    assert bench.main(["--data-dir", str(folder), "--languages", languages,
                       "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--data-dir", "no-such-folder"], "--data-dir no-such-folder: no such folder"),
    (["--languages", ","], "name at least one language folder"),
])
def test_bad_options_are_refused(bench, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        bench.main([*args, "--out", str(tmp_path / "o.json")])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_an_empty_part_is_named(bench, folder, tmp_path, capsys):
    # it used to fail with an IndexError or scikit-learn's "Found empty input array"
    lang = folder / "english"
    (lang / "val_text.txt").write_text("ok\n", "utf-8")
    (lang / "val_labels.txt").write_text("1\n", "utf-8")
    for name in ("test_text.txt", "test_labels.txt"):
        (lang / name).write_text("", "utf-8")
    assert bench.main(["--data-dir", str(folder), "--languages", "english",
                       "--out", str(tmp_path / "o.json")]) == 2
    assert "no tweets in english/test_text.txt" in capsys.readouterr().err


def test_a_language_of_one_training_class_is_named(bench, folder, tmp_path, capsys):
    # it used to fail with a traceback from the model's fit ("code column '__label__' has 1
    # distinct code(s)")
    lang = folder / "english"
    (lang / "val_text.txt").write_text("ok\n", "utf-8")
    (lang / "val_labels.txt").write_text("1\n", "utf-8")
    (lang / "train_labels.txt").write_text("2\n2\n2\n", "utf-8")
    out = tmp_path / "o.json"
    assert bench.main(["--data-dir", str(folder), "--languages", "english",
                       "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "one class in english/train_labels.txt (only positive)" in err
    assert "Traceback" not in err and not out.exists()


def test_the_language_matrix_simulation_writes_both_methods(tmp_path: Path) -> None:
    """benchmarks/twitter_index_languages.py: every scenario has the pooled and the
    by-language figures, and the by-language index of the simulations is published."""
    import json

    script = SCRIPT.with_name("twitter_index_languages.py")
    out = tmp_path / "languages.json"
    assert runpy.run_path(str(script))["main"](["--sims", "2", "--bootstrap", "20",
                                                "--out", str(out)]) == 0
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"mix_moves_same_opinion", "mix_moves_opinions_differ",
                            "mix_as_validation", "mix_moves_500_tweets",
                            "small_groups_5pct_negative"}
    for figures in results.values():
        assert set(figures) == {"pooled", "language"}
        assert figures["language"]["day1_published"] == 1.0
