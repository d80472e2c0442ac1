"""``mlstat predict`` holds models to the contract as runs do (rows matched by index, the
task's columns and probabilities), names the component of an unexpected error, and reads
new records with the separator the run's loader was trained with."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from contract_fakes import bad_registry, pipeline, small_frame, write_data

import mlstat_core
from mlstat_core.errors import DataError, ModelError, PluginError
from mlstat_core.predict import output_frame, predict_file


def trained(tmp_path, model: str, file_sep: str = ",", **loader):
    data = write_data(tmp_path, sep=file_sep)
    cfg = pipeline(data, model)
    cfg["loader"].update(loader)
    return mlstat_core.run(cfg, out=tmp_path / "runs", registry=bad_registry())


def new_records(tmp_path, sep: str = ",", a: float | None = None):
    frame = small_frame(30, seed=1)
    if a is not None:
        frame.loc[5, "a"] = a
    path = tmp_path / "new.csv"
    frame.to_csv(path, index=False, sep=sep)
    return path


def test_output_frame_matches_rows_to_records_by_index():
    chunk = pd.DataFrame({"id": ["a", "b", "c"]}, index=[0, 1, 2])
    shuffled = pd.DataFrame({"prediction": ["C", "A", "B"]}, index=[2, 0, 1])
    out = output_frame(chunk, shuffled, model=_Roles("id"))
    assert out.set_index("record_id")["prediction"].to_dict() == {"a": "A", "b": "B", "c": "C"}
    with pytest.raises(ModelError, match="model p.m: predict\\(\\) returned 2 row"):
        output_frame(chunk, shuffled.iloc[:2], _Roles("id"), model_name="p.m")


class _Roles:
    def __init__(self, ident):
        from mlstat_core.components import ColumnRoles

        self.roles = ColumnRoles(id=ident)


def test_predict_puts_reordered_rows_back_with_their_records(tmp_path):
    run = trained(tmp_path, "bad.reordered")
    predict_file(run.run_dir, new_records(tmp_path), tmp_path / "out.csv", chunk_size=7,
                 registry=bad_registry())
    out = pd.read_csv(tmp_path / "out.csv")
    truth = small_frame(30, seed=1).set_index("id")["code"]
    assert (out.set_index("record_id")["prediction"] == truth).all()


def test_predict_refuses_probabilities_outside_0_1(tmp_path):
    run = trained(tmp_path, "bad.latebad")
    with pytest.raises(ModelError, match=r"model bad.latebad \(distribution mlstat-bad\): "
                                         "column 'confidence'"):
        predict_file(run.run_dir, new_records(tmp_path, a=1000.0), tmp_path / "out.csv",
                     registry=bad_registry())
    assert not (tmp_path / "out.csv").exists()


def test_an_unexpected_error_in_predict_names_model_and_keeps_the_traceback(tmp_path):
    run = trained(tmp_path, "bad.predictfails")
    with pytest.raises(PluginError) as caught:
        predict_file(run.run_dir, new_records(tmp_path, a=1000.0), tmp_path / "out.csv",
                     registry=bad_registry())
    text = str(caught.value)
    assert text.startswith("step predict: model bad.predictfails (distribution mlstat-bad) "
                           "raised ZeroDivisionError: float division by zero; full traceback "
                           "in ")
    kept = Path(text.split("full traceback in ")[1].split(". This is")[0])
    try:
        assert "ZeroDivisionError" in kept.read_text()
    finally:
        kept.unlink()


def test_predict_reads_with_the_trained_separator(tmp_path):
    run = trained(tmp_path, "bad.echo", file_sep=";", sep=";")
    summary = predict_file(run.run_dir, new_records(tmp_path, sep=";"), tmp_path / "out.csv",
                           registry=bad_registry())
    assert summary.records == 30


def test_a_semicolon_file_read_with_commas_says_pass_sep(tmp_path):
    run = trained(tmp_path, "bad.echo")
    with pytest.raises(DataError, match="looks like a ';'-separated file: pass sep=';'"):
        predict_file(run.run_dir, new_records(tmp_path, sep=";"), tmp_path / "out.csv",
                     registry=bad_registry())
    with pytest.raises(DataError, match="looks like a ';'-separated file: pass --sep ';'"):
        predict_file(run.run_dir, new_records(tmp_path, sep=";"), tmp_path / "out.csv",
                     registry=bad_registry(), cli=True)
    predict_file(run.run_dir, new_records(tmp_path, sep=";"), tmp_path / "out.csv",
                 registry=bad_registry(), sep=";")
    assert len(pd.read_csv(tmp_path / "out.csv")) == 30


def test_cli_predict_has_sep(tmp_path, monkeypatch):
    from mlstat_core import cli

    run = trained(tmp_path, "bad.echo")
    registry = bad_registry()
    monkeypatch.setattr("mlstat_core.predict.get_registry", lambda strict=False: registry)
    data = new_records(tmp_path, sep="|")
    out = CliRunner().invoke(cli.main, ["predict", str(run.run_dir), "--input", str(data),
                                        "--output", str(tmp_path / "o.csv")])
    assert out.exit_code == 2 and "pass --sep '|'" in out.output
    out = CliRunner().invoke(cli.main, ["predict", str(run.run_dir), "--input", str(data),
                                        "--output", str(tmp_path / "o.csv"), "--sep", "|"])
    assert out.exit_code == 0, out.output
