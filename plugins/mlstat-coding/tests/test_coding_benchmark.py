"""benchmarks/coding.py as a user runs it: the contract on a small table of one's own, and
one-line errors (no traceback) for a user's mistakes."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from mlstat_coding.loaders import ecoicop_frame

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "coding.py"


@pytest.fixture(scope="module")
def bench() -> SimpleNamespace:
    """The script's functions, its ``main`` not run."""
    return SimpleNamespace(**runpy.run_path(str(SCRIPT)))


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """60 ECOICOP products of 3 codes, under other column names, with a second text column."""
    frame = ecoicop_frame()
    codes = frame["code"].value_counts().index[:3]
    small = pd.concat([frame[frame["code"] == c].head(20) for c in codes])
    small = small.rename(columns={"product": "desc", "category": "shop", "code": "coicop"})
    path = tmp_path / "items.csv"
    small.to_csv(path, index=False)
    return path


def test_contract_on_a_small_table(bench, table, tmp_path):
    out = tmp_path / "out.json"
    assert bench.main(["--data", str(table), "--text-col", "desc", "--text-col", "shop",
                       "--code-col", "coicop", "--methods", "coding.linear_svm,peer_tfidf_logreg",
                       "--repeat", "1", "--out", str(out)]) == 0
    report = json.loads(out.read_text("utf-8"))
    assert report["records"] == 60 and report["codes"] == 3
    assert set(report["methods"]) == {"coding.linear_svm", "peer_tfidf_logreg"}
    for figures in report["methods"].values():
        for key in ("accuracy", "macro_f1", "autocode_rate_at_95", "train_seconds",
                    "records_per_s"):
            assert isinstance(figures[key], float), key
        assert set(figures["level_accuracy"]) == {"1", "2", "3", "4"}


def test_unknown_method_is_refused_before_training(bench, table, tmp_path, capsys):
    # it used to train coding.fasttext under the misspelt name
    with pytest.raises(SystemExit) as exc:
        bench.main(["--data", str(table), "--text-col", "desc", "--code-col", "coicop",
                    "--methods", "linear_svn", "--out", str(tmp_path / "o.json")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown method(s) 'linear_svn'" in err and "linear_svm" in err
    assert bench.methods("coding.linear_svm,linear_svm:use-multilingual") == [
        "linear_svm", "linear_svm_encoder"]


@pytest.mark.parametrize(("args", "message"), [
    (["--data", "missing.csv", "--text-col", "desc", "--code-col", "coicop"],
     "--data missing.csv: no such file"),
    (["--data", "{table}", "--text-col", "product", "--code-col", "coicop"],
     "lacks declared column(s) 'product'"),
    (["--data", "{table}", "--text-col", "desc"], "--code-col (default: code)"),
])
def test_user_mistakes_are_one_line_errors(bench, table, tmp_path, capsys, args, message):
    args = [a.replace("{table}", str(table)) for a in args]
    out = tmp_path / "o.json"
    assert bench.main([*args, "--methods", "linear_svm", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_column_options_need_data(bench, tmp_path, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--text-col", "desc", "--out", str(tmp_path / "o.json")])
    assert "describe a --data file" in capsys.readouterr().err
