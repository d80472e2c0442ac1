"""The manual queue as coders and the next coding cycle use it: ids as ``mlstat predict``
gives them, the routing score's order, file formats, the model's input columns, and the
feedback steps of docs/coding.md (their snippets run here, on queues the plugin wrote)."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
import warnings
from pathlib import Path

import pandas as pd
import pytest
from mlstat_coding.queue import main, write_manual_queue

from mlstat_core.errors import DataError

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "coding.md"


def new_records(folder: Path, n: int = 74) -> pd.DataFrame:
    """The occupations records as new ones: no code column, ids as written."""
    frame = pd.read_csv(folder / "data" / "occupations.csv", dtype=str, keep_default_na=False)
    return frame.drop(columns=["isco"]).head(n)


def queue_of(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def run_queue(run: Path, records: Path, output: Path, *options: str) -> int:
    return main([str(run), "--input", str(records), "--output", str(output), *options])


# -- reading new records as in training -------------------------------------------------------


@pytest.mark.parametrize("model", ["linear_svm", "fasttext"])
def test_codes_in_an_auxiliary_column_are_scored_as_in_training(model, tmp_path):
    """A region column of 02, 04 ... is text in training; mlstat predict and the queue read
    it as text too (it was read as the numbers 2, 4, which the model never saw)."""
    from mlstat_core.engine import run
    from mlstat_core.predict import predict_file

    if model == "fasttext":
        pytest.importorskip("torch")
    rows = [(f"{i:03d}", word if i % 2 else "item", code, region)
            for i, (word, code, region) in enumerate(
                [("milk", "0114", "02"), ("bread", "0111", "04"), ("jam", "0118", "06")] * 10)]
    frame = pd.DataFrame(rows, columns=["id", "name", "code", "region"])
    frame.to_csv(tmp_path / "items.csv", index=False)
    (tmp_path / "p.toml").write_text(
        '[pipeline]\nname = "aux"\ntask = "text_classification"\n'
        '[loader]\ncomponent = "coding.text_table"\npath = "items.csv"\ntext = ["name"]\n'
        'code = "code"\nid = "id"\nauxiliary = ["region"]\n'
        '[split]\ncomponent = "core.holdout"\ntest_size = 0.3\n'
        f'[model]\ncomponent = "coding.{model}"\ntarget_accuracy = 0.5\n', encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run(tmp_path / "p.toml", out=tmp_path / "runs")
        summary = predict_file(result.run_dir, tmp_path / "items.csv", tmp_path / "out.csv")
    assert not [w for w in summary.warnings if "drifted" in w]
    predicted = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert (predicted["prediction"] == frame["code"]).mean() == 1  # item is coded by region
    assert run_queue(result.run_dir, tmp_path / "items.csv", tmp_path / "q.csv", "--all") == 0
    assert list(queue_of(tmp_path / "q.csv").sort_values("record")["region"]) == \
        list(frame["region"])


def test_the_queue_reads_new_records_in_the_encoding_of_training_as_mlstat_predict_does(
        tmp_path, capsys):
    """mlstat predict reads a CSV input in the trained loader's encoding; the queue read it
    as UTF-8, so that the same cp1250 file was refused by one and scored by the other (and a
    UTF-8 file, read as cp1250 by predict, is now warned of)."""
    from mlstat_core.engine import run
    from mlstat_core.predict import predict_file

    frame = pd.DataFrame({"name": ["mleko łaciate", "chleb żytni", "dżem wiśniowy"] * 10,
                          "code": ["0114", "0111", "0118"] * 10})
    frame.to_csv(tmp_path / "items.csv", index=False, encoding="cp1250")
    (tmp_path / "p.toml").write_text(
        '[pipeline]\nname = "enc"\ntask = "text_classification"\n'
        '[loader]\ncomponent = "coding.text_table"\npath = "items.csv"\ntext = ["name"]\n'
        'code = "code"\nencoding = "cp1250"\n'
        '[split]\ncomponent = "core.holdout"\ntest_size = 0.3\n'
        '[model]\ncomponent = "coding.linear_svm"\ntarget_accuracy = 0.5\n',
        encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run(tmp_path / "p.toml", out=tmp_path / "runs")
    assert run_queue(result.run_dir, tmp_path / "items.csv", tmp_path / "q.csv", "--all") == 0
    assert set(queue_of(tmp_path / "q.csv")["name"]) == set(frame["name"])
    frame.to_csv(tmp_path / "utf8.csv", index=False)  # a new cycle's file saved as UTF-8
    with pytest.warns(UserWarning, match="was read as cp1250, but it is valid UTF-8 text .*"
                      "pass encoding='utf-8'"):
        predict_file(result.run_dir, tmp_path / "utf8.csv", tmp_path / "out.csv")
    capsys.readouterr()
    assert run_queue(result.run_dir, tmp_path / "utf8.csv", tmp_path / "q8.csv") == 0
    assert "pass --encoding utf-8" in capsys.readouterr().err


# -- ids --------------------------------------------------------------------------------------


def test_queue_keeps_the_inputs_ids_as_mlstat_predict_does(occupations, tmp_path, capsys):
    """Without --id-column: the model's id column (here ``id``), else ``record_id``, else
    row numbers with predict's note; the same ids as ``mlstat predict`` writes."""
    from mlstat_core.predict import predict_file

    folder, result = occupations
    frame = new_records(folder)
    frame["id"] = [f"A{i:03d}" for i in range(len(frame))]
    frame.to_csv(tmp_path / "new.csv", index=False)
    assert run_queue(result.run_dir, tmp_path / "new.csv", tmp_path / "q.csv") == 0
    predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "p.csv")
    predicted = pd.read_csv(tmp_path / "p.csv", dtype=str)
    manual = predicted.loc[predicted["route"] == "manual", "record_id"]
    assert sorted(queue_of(tmp_path / "q.csv")["record"]) == sorted(manual)
    assert set(manual) <= set(frame["id"])
    assert "note:" not in capsys.readouterr().err

    frame.rename(columns={"id": "record_id"}).to_csv(tmp_path / "rid.csv", index=False)
    assert run_queue(result.run_dir, tmp_path / "rid.csv", tmp_path / "q.csv", "--all") == 0
    assert sorted(queue_of(tmp_path / "q.csv")["record"]) == sorted(frame["id"])

    frame.drop(columns=["id"]).to_csv(tmp_path / "none.csv", index=False)
    assert run_queue(result.run_dir, tmp_path / "none.csv", tmp_path / "q.csv", "--all") == 0
    assert sorted(queue_of(tmp_path / "q.csv")["record"], key=int) == [
        str(i) for i in range(len(frame))]
    err = capsys.readouterr().err
    assert "note: the input has neither the model's id column 'id' nor 'record_id'" in err
    assert "the column 'record' numbers the records" in err and "--id-column" in err


def test_the_id_option_is_named_id_column_as_the_warning_says(occupations, tmp_path, capsys):
    folder, result = occupations
    frame = new_records(folder, 10)
    frame["rid"] = ["r1", "r1", *[f"r{i}" for i in range(2, 10)]]
    frame.to_csv(tmp_path / "new.csv", index=False)
    assert run_queue(result.run_dir, tmp_path / "new.csv", tmp_path / "q.csv", "--all",
                     "--id-column", "rid") == 0
    assert "make the ids unique, or pass another --id-column" in capsys.readouterr().err
    assert sorted(queue_of(tmp_path / "q.csv")["record"]) == sorted(frame["rid"])
    # the advice can be followed, and the old spelling still works
    assert run_queue(result.run_dir, tmp_path / "new.csv", tmp_path / "q2.csv", "--all",
                     "--id-column", "id") == 0
    assert sorted(queue_of(tmp_path / "q2.csv")["record"]) == sorted(frame["id"])
    assert run_queue(result.run_dir, tmp_path / "new.csv", tmp_path / "q3.csv", "--all",
                     "--id", "id") == 0
    assert (tmp_path / "q3.csv").read_text() == (tmp_path / "q2.csv").read_text()
    from mlstat_coding.queue import parser

    assert "--id-column" in parser().format_help()


# -- order ------------------------------------------------------------------------------------


def predictions_frame(confidence: list[float], margin: list[float]) -> pd.DataFrame:
    """A coding model's predictions for len(confidence) records, all routed to manual."""
    n = len(confidence)
    return pd.DataFrame({
        "prediction": ["01"] * n, "confidence": confidence, "margin": margin,
        "top_codes": ['["01", "02"]'] * n,
        "top_scores": [json.dumps([c, c - m]) for c, m in zip(confidence, margin, strict=True)],
        "route": ["manual"] * n, "reason": ["below threshold"] * n})


def test_queue_is_sorted_by_the_score_the_model_routes_on(tmp_path):
    """With confidence = "margin" the smallest margin comes first, shown in the queue; ties
    keep the input order; with "top" the lowest top probability comes first."""
    preds = predictions_frame([0.5, 0.9, 0.6, 0.4, 0.7], [0.3, 0.1, 0.1, 0.3, 0.05])
    frame = pd.DataFrame({"rid": ["a", "b", "c", "d", "e"], "product": ["x"] * 5})
    write_manual_queue(preds, frame, tmp_path / "m.csv", text_columns=["product"],
                       id_column="rid", confidence="margin")
    queue = queue_of(tmp_path / "m.csv")
    assert list(queue["record"]) == ["e", "b", "c", "a", "d"]
    assert list(queue["margin"].astype(float)) == [0.05, 0.1, 0.1, 0.3, 0.3]
    write_manual_queue(preds, frame, tmp_path / "t.csv", text_columns=["product"],
                       id_column="rid")
    assert list(queue_of(tmp_path / "t.csv")["record"]) == ["d", "a", "c", "e", "b"]
    with pytest.raises(DataError, match="'top' or 'margin'"):
        write_manual_queue(preds, frame, tmp_path / "x.csv", confidence="gap")


def test_queue_command_of_a_margin_model_puts_the_smallest_margin_first(occupations,
                                                                       tmp_path):
    from mlstat_core.engine import run

    folder, _ = occupations
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run(folder / "pipeline.toml", ["model.confidence=margin"], out=tmp_path)
    assert result.manifest["status"] == "succeeded"
    assert run_queue(result.run_dir, folder / "data" / "occupations.csv",
                     tmp_path / "q.csv", "--all") == 0
    queue = queue_of(tmp_path / "q.csv")
    margin, top = queue["margin"].astype(float), queue["confidence"].astype(float)
    assert margin.is_monotonic_increasing
    assert not top.is_monotonic_increasing  # the two orders differ on these records
    # the run's own queue (outputs/manual_queue.csv) is sorted the same way
    own = queue_of(result.run_dir / "outputs" / "manual_queue.csv")
    assert own["margin"].astype(float).is_monotonic_increasing


# -- formats ----------------------------------------------------------------------------------


def test_queue_as_excel_and_predictions_as_parquet(occupations, tmp_path, capsys):
    """An .xlsx queue holds what the .csv one does (text that looks like a formula stays
    text); --predictions .parquet is Parquet, with the values of the .csv. A .csv with such
    text keeps it as it is (it is the data) and says how to open it safely."""
    folder, result = occupations
    frame = new_records(folder, 20)
    frame.loc[0, "job_title"] = "=1+1 clerk"
    frame.to_csv(tmp_path / "new.csv", index=False)
    args = [result.run_dir, tmp_path / "new.csv"]
    assert run_queue(*args, tmp_path / "q.csv", "--all", "--predictions",
                     str(tmp_path / "p.csv")) == 0
    said = " ".join(capsys.readouterr().err.split())
    assert "warning: 2 cell(s) of" in said and "'=1+1 clerk" in said  # the text and its column
    assert "write the queue to .xlsx" in said
    assert "warning: 1 cell(s) of" in said and "write Parquet (.parquet)" in said  # predictions
    assert run_queue(*args, tmp_path / "q.xlsx", "--all", "--predictions",
                     str(tmp_path / "p.parquet")) == 0
    assert "formulas" not in capsys.readouterr().err
    assert (tmp_path / "q.xlsx").read_bytes()[:2] == b"PK"  # a zip: a real workbook
    excel = pd.read_excel(tmp_path / "q.xlsx", dtype=str).fillna("")
    text = ["record", "text", "job_title", "main_tasks", "sector", "prediction",
            "suggestion_1_code", "final_code"]
    pd.testing.assert_frame_equal(excel[text], queue_of(tmp_path / "q.csv")[text])
    assert "=1+1 clerk" in set(excel["job_title"])
    # the coder's column is formatted as text: Excel keeps a typed ISCO 0110 as 0110, not 110
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "q.xlsx").active
    final = [c.value for c in sheet[1]].index("final_code") + 1
    formats = {sheet.cell(row=r, column=final).number_format for r in range(2, len(frame) + 2)}
    assert formats == {"@"}
    assert (tmp_path / "p.parquet").read_bytes()[:4] == b"PAR1"
    parquet = pd.read_parquet(tmp_path / "p.parquet")
    csv = pd.read_csv(tmp_path / "p.csv", dtype={"id": str})
    assert list(parquet["id"]) == list(csv["id"])
    assert list(parquet["prediction"].astype(str)) == list(csv["prediction"].astype(str))
    assert parquet["confidence"].tolist() == pytest.approx(csv["confidence"].tolist())


@pytest.mark.parametrize("ending", [".csv", ".parquet"])
def test_predictions_of_last_cycles_predictions_file_are_the_new_ones(occupations, tmp_path,
                                                                      capsys, ending):
    """Last cycle's --predictions file scored again: its prediction columns are kept as
    input_<name>, each column is written once, and `prediction`, `route`... are the new
    model's (Parquet too, which failed on the repeated names)."""
    folder, result = occupations
    new_records(folder, 30).to_csv(tmp_path / "new.csv", index=False)
    last = tmp_path / f"last{ending}"
    assert run_queue(result.run_dir, tmp_path / "new.csv", tmp_path / "q1.csv", "--predictions",
                     str(last)) == 0
    read = pd.read_parquet if ending == ".parquet" else pd.read_csv
    old = read(last)
    predicted = old["prediction"].astype(str).tolist()
    old["prediction"] = "9999"  # last cycle's model said otherwise
    old["route"] = "stale"
    (old.to_parquet if ending == ".parquet" else old.to_csv)(last, index=False)
    capsys.readouterr()
    again = tmp_path / f"again{ending}"
    assert run_queue(result.run_dir, last, tmp_path / "q2.csv", "--predictions", str(again),
                     "--chunk-size", "7") == 0
    said = " ".join(capsys.readouterr().err.split())
    assert "have the name of a prediction column" in said and "'prediction' as " \
        "'input_prediction'" in said, said
    out = read(again)
    assert not out.columns.duplicated().any() and "prediction.1" not in out.columns
    assert set(out["input_prediction"].astype(str)) == {"9999"}
    assert set(out["input_route"]) == {"stale"}
    assert set(out["route"]) <= {"auto", "manual"}
    assert out["prediction"].astype(str).tolist() == predicted  # the same model, anew
    assert list(out.columns[:4]) == list(old.columns[:4])  # the input's own columns first


def cycle_predictions(n: int, cycle: int) -> pd.DataFrame:
    """A coding model's prediction columns for ``n`` records, each value naming ``cycle``."""
    return pd.DataFrame({"prediction": [f"p{cycle}"] * n, "confidence": [cycle / 10] * n,
                         "proba_01": [cycle / 10] * n, "route": [f"r{cycle}"] * n})


def test_each_cycles_renamed_predictions_keep_one_prefix():
    """Three cycles of scoring the last predictions file, whose input had a column
    `input_prediction` of its own: each cycle's columns keep one prefix (`input_prediction`
    was the input's while `input_confidence` was cycle 1's)."""
    from mlstat_coding.queue import inputs_and_predictions

    frame = pd.DataFrame({"id": ["a", "b"], "input_prediction": ["own", "own"]})
    for cycle in (1, 2, 3):
        frame, renamed = inputs_and_predictions(frame, cycle_predictions(2, cycle))
        assert not frame.columns.duplicated().any()
        assert len({name.removesuffix(old) for old, name in renamed.items()}) <= 1, renamed
    assert list(frame["input_prediction"]) == ["own", "own"]
    for prefix, cycle in [("input_input_", 1), ("input_input_input_", 2), ("", 3)]:
        values = frame[[f"{prefix}{c}" for c in ("prediction", "confidence", "proba_01",
                                                 "route")]].iloc[0].tolist()
        assert values == [f"p{cycle}", cycle / 10, cycle / 10, f"r{cycle}"], prefix


def test_a_predictions_file_scored_again_renames_its_columns_alike_in_each_chunk(
        occupations, tmp_path, capsys):
    """The input has a column `input_prediction` of its own: last cycle's prediction columns
    all become `input_input_<name>`, in every chunk."""
    folder, result = occupations
    frame = new_records(folder, 30)
    frame["input_prediction"] = "own"
    frame.to_csv(tmp_path / "new.csv", index=False)
    assert run_queue(result.run_dir, tmp_path / "new.csv", tmp_path / "q1.csv", "--predictions",
                     str(tmp_path / "c1.csv")) == 0
    first = pd.read_csv(tmp_path / "c1.csv", dtype=str, keep_default_na=False)
    assert run_queue(result.run_dir, tmp_path / "c1.csv", tmp_path / "q2.csv", "--predictions",
                     str(tmp_path / "c2.csv"), "--chunk-size", "7") == 0
    second = pd.read_csv(tmp_path / "c2.csv", dtype=str, keep_default_na=False)
    assert set(second["input_prediction"]) == {"own"}
    for column in ("prediction", "route", "top_codes"):
        assert list(second[f"input_input_{column}"]) == list(first[column]), column
    # a number read back from CSV may differ in its last digit (pandas' default float parser)
    assert second["input_input_confidence"].astype(float).tolist() == \
        pytest.approx(first["confidence"].astype(float).tolist(), rel=1e-12)
    assert "input_confidence" not in second and "input_route" not in second
    assert "'prediction' as 'input_input_prediction'" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize(("options", "message"), [
    (["--output", "q.txt"], r"--output: .*q\.txt.* ends in \.csv or \.xlsx"),
    (["--output", "q.parquet"], r"--output: .* ends in \.csv or \.xlsx"),
    (["--output", "q"], r"--output: .* ends in \.csv or \.xlsx"),
    (["--output", "q.csv", "--predictions", "p.xlsx"],
     r"--predictions: cannot write predictions to Excel .*use \.csv or \.parquet"),
    (["--output", "q.csv", "--predictions", "p.json"],
     r"--predictions: .*'\.json'; use \.csv or \.parquet"),
])
def test_other_file_endings_are_refused_before_scoring(tmp_path, capsys, options, message):
    """Checked before the model is loaded: the run folder need not even exist."""
    (tmp_path / "new.csv").write_text("id,job_title\n1,nurse\n")
    options = [str(tmp_path / o) if "." in o or o == "q" else o for o in options]
    assert main([str(tmp_path / "no-run"), "--input", str(tmp_path / "new.csv"),
                 *options]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv"]


def test_a_damaged_workbook_and_an_unwritable_queue_are_one_message(occupations, tmp_path,
                                                                    capsys, monkeypatch):
    """A cut-short .xlsx input and a queue file on a read-only disk: exit code 2 and one line
    naming the user's files (not a traceback, not the queue's hidden temporary file)."""
    import errno

    import mlstat_coding.queue as queue

    folder, result = occupations
    new_records(folder, 30).to_excel(tmp_path / "new.xlsx", index=False)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes((tmp_path / "new.xlsx").read_bytes()[:3000])
    assert run_queue(result.run_dir, cut, tmp_path / "q.csv") == 2
    err = capsys.readouterr().err
    assert f"cannot read {cut} as Excel: the file is damaged or incomplete" in err
    assert "Traceback" not in err

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", f"{tmp_path}/.q.csv.wk52wts2.tmp")

    monkeypatch.setattr(queue, "atomic_write_bytes", read_only)
    assert run_queue(result.run_dir, tmp_path / "new.xlsx", tmp_path / "q.csv") == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"error: cannot write {tmp_path / 'q.csv'}: the file system is "
                           "read-only: choose a folder you can write to")


def test_records_without_ids_are_said_and_decimal_is_checked(occupations, tmp_path, capsys):
    folder, result = occupations
    frame = new_records(folder, 30)
    frame.loc[[4, 9], "id"] = ""
    frame.to_csv(tmp_path / "new.csv", index=False)
    assert run_queue(result.run_dir, tmp_path / "new.csv", tmp_path / "q.csv", "--all") == 0
    said = " ".join(capsys.readouterr().err.split())
    assert "warning: 2 record(s) have no id in column 'id' (first at data row 5): their " \
        "record column is empty" in said
    assert run_queue(result.run_dir, tmp_path / "new.csv", tmp_path / "q.csv",
                     "--decimal", "ab") == 2
    assert "--decimal is 'ab'" in capsys.readouterr().err


def test_an_excel_queue_refuses_what_excel_cannot_hold(tmp_path):
    preds = predictions_frame([0.5], [0.1])
    frame = pd.DataFrame({"product": ["bad\x01text"]})
    with pytest.raises(DataError, match="control character.*write the queue to a .csv"):
        write_manual_queue(preds, frame, tmp_path / "q.xlsx", text_columns=["product"])
    assert not (tmp_path / "q.xlsx").exists()
    write_manual_queue(preds, frame, tmp_path / "q.csv", text_columns=["product"])
    assert queue_of(tmp_path / "q.csv")["product"].tolist() == ["bad\x01text"]


@pytest.mark.parametrize("too_long, fits", [
    ("x" * 32_768, "x" * 32_767),
    # Excel counts UTF-16 code units: 16,384 emoji are 32,768 (Python's len says 16,384)
    ("\U0001F375" * 16_384, "\U0001F375" * 16_383 + "x")])
def test_an_excel_queue_refuses_a_text_longer_than_a_cell_holds(tmp_path, too_long, fits):
    """Excel cuts a cell at 32,767 characters: the queue names the record and column and
    writes nothing, instead of a coder working on a cut text."""
    preds = predictions_frame([0.5, 0.6], [0.1, 0.1])
    frame = pd.DataFrame({"rid": ["a", "b"], "product": ["tea", too_long]})
    with pytest.raises(DataError, match=r"column 'text' of record 'b' holds more than the "
                                        r"32,767 characters .*write the queue to a .csv"):
        write_manual_queue(preds, frame, tmp_path / "q.xlsx", text_columns=["product"],
                           id_column="rid")
    assert not (tmp_path / "q.xlsx").exists()
    frame.loc[1, "product"] = fits  # what a cell holds is written whole
    write_manual_queue(preds, frame, tmp_path / "q.xlsx", text_columns=["product"],
                       id_column="rid")
    excel = pd.read_excel(tmp_path / "q.xlsx", dtype=str, keep_default_na=False)
    assert excel.set_index("record").loc["b", "product"] == fits


def test_records_without_text_get_no_guess_in_the_queue(tmp_path):
    """The model's guess for an empty text is the same for every such record: the queue
    leaves the prediction, suggestions and fallback class empty for them, not for others."""
    preds = predictions_frame([0.5, 0.6], [0.1, 0.2])
    preds["reason"] = ["empty text", "below threshold"]
    preds["fallback_code"] = ["01", "01"]
    frame = pd.DataFrame({"rid": ["a", "b"], "product": ["", "tea"]})
    write_manual_queue(preds, frame, tmp_path / "q.csv", {"01": "Food", "02": "Drinks"},
                       text_columns=["product"], id_column="rid")
    queue = queue_of(tmp_path / "q.csv").set_index("record")
    guesses = ["prediction", "fallback_code", "fallback_label", "suggestion_1_code",
               "suggestion_1_label", "suggestion_1_score", "suggestion_2_code"]
    assert (queue.loc["a", guesses] == "").all(), queue.loc["a", guesses]
    assert list(queue.loc["b", guesses]) == ["01", "01", "Food", "01", "Food", "0.6", "02"]
    assert queue.loc["a", "reason"] == "empty text"


def test_records_without_text_show_no_scores_and_come_last_in_one_group(tmp_path):
    """The confidence and margin of the guess for no text are blanked too, and those records
    no longer sort by them: they come after every record with text, in input order."""
    preds = predictions_frame([0.2, 0.6, 0.1, 0.5], [0.1, 0.3, 0.05, 0.2])
    preds["reason"] = ["empty text", "below threshold", "empty text", "below threshold"]
    frame = pd.DataFrame({"rid": ["a", "b", "c", "d"], "product": ["", "tea", "", "milk"]})
    for confidence in ("top", "margin"):
        write_manual_queue(preds, frame, tmp_path / "q.csv", text_columns=["product"],
                           id_column="rid", confidence=confidence)
        queue = queue_of(tmp_path / "q.csv")
        assert list(queue["record"]) == ["d", "b", "a", "c"], confidence
        assert list(queue["confidence"]) == ["0.5", "0.6", "", ""]
        assert list(queue["margin"]) == ["0.2", "0.3", "", ""]


def test_queue_keeps_each_input_column_of_a_multi_column_model(occupations, tmp_path):
    folder, result = occupations
    frame = new_records(folder)
    frame.loc[1, "main_tasks"] = "  spaced  "
    frame.to_csv(tmp_path / "new.csv", index=False)
    assert run_queue(result.run_dir, tmp_path / "new.csv", tmp_path / "q.csv", "--all") == 0
    queue = queue_of(tmp_path / "q.csv").set_index("record")
    columns = ["job_title", "main_tasks", "sector"]
    assert {"text", *columns} <= set(queue.columns)
    expected = frame.set_index("id")[columns].loc[queue.index]
    pd.testing.assert_frame_equal(queue[columns], expected, check_names=False)
    assert queue.loc[frame.loc[1, "id"], "main_tasks"] == "  spaced  "  # as in the input


def test_a_text_column_named_text_is_not_repeated_and_clashing_names_are_prefixed(tmp_path):
    preds = predictions_frame([0.5, 0.6], [0.1, 0.2])
    frame = pd.DataFrame({"text": ["tea ", "coffee"], "record": ["shop", "web"],
                          "shop": ["a", "b"]})
    write_manual_queue(preds, frame, tmp_path / "q.csv", text_columns=["text"],
                       auxiliary=["record", "shop"])
    queue = queue_of(tmp_path / "q.csv")
    assert list(queue.columns[:5]) == ["record", "text", "input_record", "shop", "route"]
    assert list(queue["text"]) == ["tea ", "coffee"]  # the input's column, as it is
    assert list(queue["input_record"]) == ["shop", "web"]
    assert list(queue["record"]) == ["0", "1"]


def test_a_model_input_named_input_text_beside_text_keeps_both_in_the_queue(tmp_path):
    """Text columns `text` and `input_text`: `text` is renamed past `input_text`, both are
    kept (`text` was lost), and the renamed columns share one prefix."""
    from mlstat_coding.queue import input_column_names

    assert input_column_names(["text", "input_text"], ["final_code"]) == {
        "input_input_text": "text", "input_text": "input_text",
        "input_input_final_code": "final_code"}
    preds = predictions_frame([0.5], [0.1])
    frame = pd.DataFrame({"text": ["tea"], "input_text": ["Lipton"], "final_code": ["x"]})
    write_manual_queue(preds, frame, tmp_path / "q.csv", text_columns=["text", "input_text"],
                       auxiliary=["final_code"])
    row = queue_of(tmp_path / "q.csv").iloc[0]
    assert (row["text"], row["input_input_text"], row["input_text"]) == \
        ("tea Lipton", "tea", "Lipton")
    assert (row["input_input_final_code"], row["final_code"]) == ("x", "")


# -- docs/coding.md, section 5 ----------------------------------------------------------------


def guide_block(lang: str, needle: str) -> str:
    """The one fenced ``lang`` block of docs/coding.md that contains ``needle``, dedented."""
    blocks = re.findall(rf"^( *)```{lang}\n(.*?)^\1```", GUIDE.read_text(encoding="utf-8"),
                        flags=re.MULTILINE | re.DOTALL)
    found = [re.sub(rf"^{indent}", "", code, flags=re.MULTILINE) for indent, code in blocks
             if needle in code]
    assert len(found) == 1, f"docs/coding.md should hold one {lang} block with {needle!r}"
    return found[0]


needs_guide = pytest.mark.skipif(not GUIDE.is_file(), reason="the repository's docs are not here")


@needs_guide
def test_the_guides_ecoicop_training_file_is_the_bundled_data(tmp_path, monkeypatch):
    """The snippet that starts a training file of one's own, and the loader table that reads
    it, give the records, codes and code list of ``coding.ecoicop_pl``."""
    from mlstat_coding.loaders import EcoicopLoader, TextTableLoader
    from mlstat_coding.params import EcoicopParams, TextTableParams

    monkeypatch.chdir(tmp_path)
    exec(compile(guide_block("python", "ecoicop_frame("), str(GUIDE), "exec"), {})
    loader = tomllib.loads(guide_block("toml", "coding.text_table"))["loader"]
    assert loader.pop("component") == "coding.text_table"
    mine = TextTableLoader(TextTableParams(**loader)).load(tmp_path)
    bundled = EcoicopLoader(EcoicopParams()).load(tmp_path)
    pd.testing.assert_frame_equal(mine.frame[["product", "code"]],
                                  bundled.frame[["product", "code"]])
    assert mine.roles.text == bundled.roles.text and mine.metadata == bundled.metadata


@needs_guide
def test_the_guides_feedback_cycle_runs_on_a_real_queue(occupations, tmp_path, monkeypatch,
                                                       capsys):
    """Append the worked queue to the training file, list new codes, train the next cycle
    and compare the two cycles on a fixed labelled file, with the guide's snippets."""
    from mlstat_core.engine import run

    folder, first = occupations
    shutil.copytree(folder / "data", tmp_path / "data")
    shutil.copy(folder / "pipeline.toml", tmp_path / "pipeline.toml")
    truth = pd.read_csv(folder / "data" / "occupations.csv", dtype=str, keep_default_na=False)
    new = new_records(folder)
    new["id"] = [str(1000 + i) for i in range(len(new))]
    new.to_csv(tmp_path / "new.csv", index=False)
    assert run_queue(first.run_dir, tmp_path / "new.csv", tmp_path / "queue.csv") == 0
    queue = queue_of(tmp_path / "queue.csv")
    assert len(queue) >= 3
    codes = dict(zip(new["id"], truth["isco"], strict=True))
    queue["final_code"] = [f" {codes[r]}" for r in queue["record"]]
    queue.loc[0, "final_code"] = "0110"  # a code the model has never seen
    queue.loc[1, "final_code"] = ""  # not worked yet
    queue.to_csv(tmp_path / "queue.csv", index=False)
    monkeypatch.chdir(tmp_path)

    listing = guide_block("python", "load_coding_model(")
    exec(compile(listing.replace("runs/<run>", str(first.run_dir)), str(GUIDE), "exec"), {})
    listed = capsys.readouterr().out
    assert "0110" in listed and codes[queue.loc[2, "record"]] not in listed

    exec(compile(guide_block("python", "pd.concat([training"), str(GUIDE), "exec"), {})
    training = pd.read_csv("data/occupations.csv", dtype=str, keep_default_na=False)
    assert len(training) == len(truth) + len(queue) - 1
    added = training.iloc[len(truth):].set_index("id")
    worked = queue.iloc[[0, *range(2, len(queue))]].set_index("record")
    assert list(added.index) == list(worked.index)
    for column in ["job_title", "main_tasks", "sector"]:
        assert list(added[column]) == list(worked[column])
    assert list(added["isco"]) == list(worked["final_code"].str.strip())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        second = run(tmp_path / "pipeline.toml", out=tmp_path / "runs")  # ids still unique
    assert second.manifest["status"] == "succeeded"
    truth.to_csv("fixed.csv", index=False)
    # the guide's commands: each cycle's model evaluated on the fixed file, then compared
    from click.testing import CliRunner

    from mlstat_core.cli import main as mlstat
    from mlstat_core.report.compare import comparison

    lines = guide_block("bash", "mlstat evaluate").replace(
        "runs/<cycle 1 run>", str(first.run_dir)).replace("runs/<cycle 2 run>", str(second.run_dir))
    evaluations = []
    for command in (line.split() for line in lines.splitlines()):
        assert command[0] == "mlstat", command
        if command[1] == "evaluate":
            args = command[1:] + ["--out", "runs", "--json"]  # the first run lies elsewhere
            outcome = CliRunner().invoke(mlstat, args)
            assert outcome.exit_code == 0, outcome.output
            evaluations.append(Path(json.loads(outcome.stdout)["run_dir"]))
        else:
            assert command[1:] == ["compare", "runs/coding-occupations-evaluation-*"]
            found = sorted(p.resolve() for p in Path().glob(command[2]))
            assert found == sorted(evaluations)
    table = comparison(evaluations)
    # the same records, but this "fixed" file is the first cycle's training file: said, and
    # no cycle is named best (nothing else stands in the way)
    (warning,) = table["warnings"]
    assert "scored records the model was trained on" in warning
    for folder in evaluations:  # figures on the whole fixed file
        out = pd.read_parquet(folder / "predictions.parquet")
        assert out["record_id"].tolist() == truth["id"].tolist()
        correct = out["prediction"].astype(str).to_numpy() == truth["isco"].to_numpy()
        report = json.loads((folder / "report.json").read_text())
        accuracy = next(e["value"] for e in report["indicators"] if e["name"] == "accuracy")
        assert accuracy == pytest.approx(correct.mean())


@needs_guide
def test_the_guides_excel_read_back_keeps_words_pandas_takes_for_missing(tmp_path,
                                                                         monkeypatch):
    """Texts, ids and codes 'NA', 'null', 'None', 'N/A', '#N/A', 'nan' come back from an
    .xlsx queue as written, read the way docs/coding.md says."""
    words = ["NA", "null", "None", "N/A", "#N/A", "nan"]
    preds = predictions_frame([0.5] * len(words), [0.1] * len(words))
    frame = pd.DataFrame({"rid": words, "product": words})
    write_manual_queue(preds, frame, tmp_path / "queue.xlsx", text_columns=["product"],
                       id_column="rid")
    read_back = re.search(r'`(pd\.read_excel\("queue\.xlsx"[^`]*)`',
                          GUIDE.read_text(encoding="utf-8"))
    assert read_back, "docs/coding.md should say how to read an .xlsx queue"
    monkeypatch.chdir(tmp_path)
    queue = eval(read_back.group(1), {"pd": pd}, {})
    assert sorted(queue["record"]) == sorted(words)
    assert list(queue["product"]) == list(queue["record"])
    assert set(queue["final_code"]) == {""}


@needs_guide
@pytest.mark.parametrize(("second", "renamed"), [
    ("brand", {"text": "input_text", "record": "input_record"}),
    ("input_text", {"text": "input_input_text", "record": "input_input_record"})])
def test_the_guides_feedback_maps_input_columns_the_queue_renamed_back(tmp_path, monkeypatch,
                                                                       second, renamed):
    """A model whose text columns are `text` and a second one and whose auxiliary column is
    `record`: the queue holds them renamed (`input_input_*` when the second text column is
    `input_text`), and the guide's snippet appends the records' own values, not the joined
    text and the ids."""
    preds = predictions_frame([0.5, 0.6], [0.1, 0.2])
    frame = pd.DataFrame({"id": ["7", "8"], "text": ["tea", "milk"], second: ["Lipton", "Łaciate"],
                          "record": ["shop", "web"]})
    monkeypatch.chdir(tmp_path)
    write_manual_queue(preds, frame, "queue.csv", text_columns=["text", second],
                       auxiliary=["record"], id_column="id")
    queue = queue_of(tmp_path / "queue.csv")
    assert {*renamed.values(), second} <= set(queue.columns)
    assert list(queue[renamed["text"]]) == ["tea", "milk"]
    queue["final_code"] = ["01.1", "01.2"]
    queue.to_csv("queue.csv", index=False)
    pd.DataFrame({"id": ["1"], "text": ["coffee"], second: ["Jacobs"], "record": ["shop"],
                  "code": ["01.2"]}).to_csv("training.csv", index=False)
    snippet = guide_block("python", "pd.concat([training")
    settings = {"training_file": '"training.csv"', "text": f'["text", "{second}"]',
                "auxiliary": '["record"]', "code, ident": '"code", "id"'}
    for name, value in settings.items():
        snippet, found = re.subn(rf"^{re.escape(name)} = .*$", f"{name} = {value}", snippet,
                                 count=1, flags=re.MULTILINE)
        assert found, f"the guide's snippet no longer sets {name}"
    exec(compile(snippet, str(GUIDE), "exec"), {})
    training = pd.read_csv("training.csv", dtype=str, keep_default_na=False)
    expected = pd.DataFrame({"id": ["1", "7", "8"], "text": ["coffee", "tea", "milk"],
                             second: ["Jacobs", "Lipton", "Łaciate"],
                             "record": ["shop", "shop", "web"],
                             "code": ["01.2", "01.1", "01.2"]})
    pd.testing.assert_frame_equal(training, expected)


def test_without_text_columns_the_first_text_column_is_the_text(tmp_path):
    """pandas 3 reads text as its ``str`` dtype, not ``object``: it is still found."""
    preds = predictions_frame([0.5], [0.1])
    frame = pd.DataFrame({"n": [1], "product": pd.Series(["tea"], dtype="str")})
    write_manual_queue(preds, frame, tmp_path / "q.csv")
    assert queue_of(tmp_path / "q.csv")["text"].tolist() == ["tea"]


def test_new_records_are_read_as_training_read_them_na_is_a_word(occupations, tmp_path):
    """coding.text_table reads only empty cells as missing, and so do mlstat predict and the
    queue: a job title 'NA' or 'None' is scored as that text, not as an empty record."""
    from mlstat_core.predict import predict_file

    folder, result = occupations
    frame = new_records(folder, 6)
    frame.loc[0, "job_title"], frame.loc[1, "job_title"] = "NA", "None"
    frame.loc[0:1, "main_tasks"] = ""
    frame.loc[2, "job_title"], frame.loc[2, "main_tasks"] = "", ""  # truly empty
    frame.to_csv(tmp_path / "new.csv", index=False)
    scored = predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "p.csv")
    assert scored.records == 6
    predictions = pd.read_csv(tmp_path / "p.csv", dtype=str, keep_default_na=False)
    assert list(predictions["reason"].iloc[:3] == "empty text") == [False, False, True]
    assert run_queue(result.run_dir, tmp_path / "new.csv", tmp_path / "q.csv", "--all") == 0
    queue = queue_of(tmp_path / "q.csv").set_index("record")
    assert queue.loc[frame.loc[0, "id"], "job_title"] == "NA"
    assert queue.loc[frame.loc[1, "id"], "job_title"] == "None"


def test_an_evaluation_leaves_out_what_only_training_data_warn_about(occupations, tmp_path):
    """One record per code is a poor training file (each code seen once) but a fair sample
    to test a model on: evaluating on it does not warn about training."""
    import mlstat_core
    from mlstat_core.errors import TrainingDataWarning

    folder, first = occupations
    data = pd.read_csv(folder / "data" / "occupations.csv", dtype=str, keep_default_na=False)
    data.groupby("isco").head(1).to_csv(tmp_path / "sample.csv", index=False)
    from mlstat_coding.loaders import TextTableLoader
    from mlstat_coding.params import TextTableParams

    with pytest.warns(TrainingDataWarning, match="seen once"):
        TextTableLoader(TextTableParams(path=str(tmp_path / "sample.csv"), text=["job_title"],
                                        code="isco")).load(tmp_path)
    result = mlstat_core.evaluate(first.run_dir, tmp_path / "sample.csv", out=tmp_path / "ev")
    assert result.status == "succeeded"
    assert not any("seen once" in w for w in result.warnings), result.warnings


def test_an_evaluation_warns_about_the_labelled_file_not_the_code_list(occupations, tmp_path):
    """The code list is read in training and again in the evaluation, as it should be: only
    a labelled file the run was trained on makes the figures in-sample."""
    import mlstat_core

    folder, _first = occupations
    data = pd.read_csv(folder / "data" / "occupations.csv", dtype=str, keep_default_na=False)
    codes = sorted(set(data["isco"]))
    pd.DataFrame({"code": codes, "label": codes, "parent": ""}).to_csv(
        tmp_path / "codes.csv", index=False)
    data[data.index % 3 != 0].to_csv(tmp_path / "training.csv", index=False)
    data[data.index % 3 == 0].to_csv(tmp_path / "fixed.csv", index=False)
    pipeline = (folder / "pipeline.toml").read_text().replace(
        'path = "data/occupations.csv"', 'path = "training.csv"\ncode_list = "codes.csv"')
    (tmp_path / "pipeline.toml").write_text(pipeline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = mlstat_core.run(tmp_path / "pipeline.toml", out=tmp_path / "runs")
    fresh = mlstat_core.evaluate(run.run_dir, tmp_path / "fixed.csv", out=tmp_path / "ev")
    assert not any("read in training" in w for w in fresh.warnings), fresh.warnings
    again = mlstat_core.evaluate(run.run_dir, tmp_path / "training.csv", out=tmp_path / "ev")
    (warning,) = [w for w in again.warnings if "read in training" in w]
    assert "training.csv is a file the run" in warning and "codes.csv" not in warning


def test_last_cycles_columns_this_model_does_not_write_are_renamed_too():
    """A retrained model without fallback_level, or without a code: last cycle's
    fallback_code and proba_<code> kept their plain names beside the new predictions."""
    from mlstat_coding.queue import inputs_and_predictions

    frame = pd.DataFrame({"text": ["tea"], "prediction": ["01"], "fallback_code": ["01.1"],
                          "proba_99": [0.1], "fallback_label": ["Food"]})
    predictions = pd.DataFrame({"prediction": ["02"], "confidence": [0.9]})
    both, renamed = inputs_and_predictions(frame, predictions)
    assert renamed == {"prediction": "input_prediction", "fallback_code": "input_fallback_code",
                       "proba_99": "input_proba_99", "fallback_label": "input_fallback_label"}
    assert list(both.columns) == ["text", "input_prediction", "input_fallback_code",
                                  "input_proba_99", "input_fallback_label", "prediction",
                                  "confidence"]


def test_the_queue_warns_of_unseen_codes_and_drift_as_mlstat_predict_does(occupations,
                                                                          tmp_path, capsys):
    """A coding team reads the queue command's output, not mlstat predict's: codes the model
    never saw and an input column gone empty are said there too (they were said only by
    mlstat predict)."""
    from mlstat_core.predict import predict_file

    folder, result = occupations
    frame = pd.read_csv(folder / "data" / "occupations.csv", dtype=str,
                        keep_default_na=False).head(60)
    frame.loc[frame.index[:3], "isco"] = "9999"
    frame["main_tasks"] = ""
    frame.to_csv(tmp_path / "new.csv", index=False)
    assert run_queue(result.run_dir, tmp_path / "new.csv", tmp_path / "q.csv") == 0
    said = [line.removeprefix("warning: ")
            for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    expected = predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / "p.csv").warnings
    unseen = [w for w in said if "label(s) the model never saw in training" in w]
    assert len(unseen) == 1 and "9999" in unseen[0]
    assert any("'main_tasks'" in w for w in said)
    assert said == expected
