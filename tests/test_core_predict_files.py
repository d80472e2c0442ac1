"""What a production scoring job meets in its files: damaged or old workbooks, large sheets,
a bad value deep in a file, decimal commas, outputs that cannot be written, records without
ids and the leftovers of killed jobs. Each is one message that names the user's file and the
fix (exit code 2), and ``--json`` says so too."""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import mlstat_core
from mlstat_core.cli import main
from mlstat_core.errors import DataError
from mlstat_core.io import TableWriter, host_tag, iter_table, read_table
from mlstat_core.predict import DuplicateIds

BUDGET = Path(__file__).resolve().parents[1] / "examples" / "data" / "budget_uk.csv"


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def said(result) -> str:
    """A command's stderr as one line (rich wraps long messages)."""
    return " ".join(result.stderr.split())


@pytest.fixture(scope="module")
def budget_run(tmp_path_factory) -> Path:
    """A finished run of core.logistic_regression on the budget survey (numeric inputs)."""
    base = tmp_path_factory.mktemp("budget")
    return mlstat_core.run({
        "pipeline": {"name": "files", "task": "tabular_classification", "seed": 0},
        "loader": {"component": "core.table", "path": str(BUDGET), "target": "children"},
        "split": {"component": "core.stratified", "test_size": 0.25},
        "model": {"component": "core.logistic_regression"},
        "indicators": ["core.classification_accuracy"],
        "output": {"dir": str(base / "runs")}}).run_dir


def new_budget(records: int | None = None) -> pd.DataFrame:
    """The budget records as new ones: household ids ``H00001``... and no target."""
    frame = pd.read_csv(BUDGET).drop(columns="children")
    frame.insert(0, "hh", [f"H{i:05d}" for i in range(1, len(frame) + 1)])
    return frame.head(records) if records else frame


# --- damaged and old workbooks ----------------------------------------------------------------


def test_a_cut_short_workbook_is_the_users_problem_for_predict_and_evaluate(budget_run,
                                                                           tmp_path):
    pd.read_csv(BUDGET).to_excel(tmp_path / "full.xlsx", index=False)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes((tmp_path / "full.xlsx").read_bytes()[:20_000])
    for result in (invoke("predict", budget_run, "--input", cut, "--output", tmp_path / "o.csv"),
                   invoke("evaluate", budget_run, "--input", cut, "--out", tmp_path / "ev")):
        assert result.exit_code == 2, result.output
        assert f"cannot read {cut} as Excel: the file is damaged or incomplete" in said(result)
        assert "report it" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o.csv").exists()
    import zipfile

    with zipfile.ZipFile(tmp_path / "other.xlsx", "w") as archive:  # a zip, but no workbook
        archive.writestr("notes.txt", "hello")
    with pytest.raises(DataError, match="other.xlsx as Excel: the file is damaged"):
        list(iter_table(tmp_path / "other.xlsx"))
    (tmp_path / "text.xlsx").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="text.xlsx as Excel: it is not an Excel workbook"):
        read_table(tmp_path / "text.xlsx")


@pytest.mark.skipif(any(importlib.util.find_spec(m) for m in ("xlrd", "python_calamine")),
                    reason="an .xls reader is installed")
def test_an_xls_workbook_without_its_reader_says_what_to_install(budget_run, tmp_path):
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))  # an OLE2 file
    result = invoke("predict", budget_run, "--input", old, "--output", tmp_path / "o.csv")
    assert result.exit_code == 2, result.output
    assert "it is an .xls workbook" in said(result)
    assert "pip install python-calamine" in said(result) and "pip install xlrd" in said(result)
    assert "report it" not in result.output
    help_text = " ".join(invoke("predict", "--help").output.split())
    assert ".xls needs python-calamine or xlrd" in help_text


# --- large workbooks, chunk by chunk -----------------------------------------------------------


def tricky_workbook(path: Path) -> Path:
    """Ids with leading zeros, numbers and text in one column, an error cell, an empty row
    between records and two after the last, a repeated and an empty header."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "x", "x", None, "t"])
    sheet.append(["007", 1, 2.5, None, "a"])
    sheet.append([])
    sheet.append(["010", "0,5", 3, None, "NA"])
    sheet.append(["011", 4, None, "z", ".."])
    sheet.append(["012", None, 7, None, "b"])
    sheet["B6"].value, sheet["B6"].data_type = "#DIV/0!", "e"
    sheet.append([])
    sheet.append([])
    book.save(path)
    return path


def test_an_excel_input_is_read_in_chunks_with_the_values_read_excel_gives(tmp_path,
                                                                          monkeypatch):
    path = tricky_workbook(tmp_path / "book.xlsx")
    options = {"na_values": [".."], "decimal": ","}
    expected = pd.read_excel(path, dtype={"id": str}, **options)
    whole = list(iter_table(path, 100, dtype={"id": str}, **options))
    assert len(whole) == 1
    pd.testing.assert_frame_equal(whole[0], expected)  # values and dtypes alike

    def whole_sheet(*args, **kwargs):
        raise AssertionError("the sheet was read whole")

    monkeypatch.setattr(pd, "read_excel", whole_sheet)
    chunks = list(iter_table(path, 2, dtype={"id": str}, **options))
    assert [len(c) for c in chunks] == [2, 2, 1]  # the empty rows after the last are none
    joined = pd.concat(chunks)
    assert list(joined.index) == list(range(5)) and list(joined.columns) == list(expected.columns)
    assert joined["id"].tolist()[::2] == ["007", "010", "012"] and pd.isna(joined["id"].iloc[1])
    pd.testing.assert_frame_equal(joined.astype(object).where(joined.notna(), None),
                                  expected.astype(object).where(expected.notna(), None))


def test_a_value_right_of_the_table_in_a_later_chunk_is_named(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in (["a", "b"], [1, 2], [3, 4], [5, 6, "stray"]):
        sheet.append(row)
    book.save(tmp_path / "wide.xlsx")
    with pytest.warns(UserWarning, match=r"1 record\(s\) of .*wide\.xlsx \(first at data row 3\) "
                                         r"hold values right of the table's 2 columns"):
        chunks = list(iter_table(tmp_path / "wide.xlsx", 2))
    assert [list(c.columns) for c in chunks] == [["a", "b"], ["a", "b"]]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_given_as_input_is_named_as_such_and_never_opened(tmp_path):
    """A FIFO, /dev/zero or /dev/urandom was called "empty" (its size is 0)."""
    pipe = tmp_path / "fifo.csv"
    os.mkfifo(pipe)
    for read in (lambda: list(iter_table(pipe, 10)), lambda: read_table(pipe)):
        with pytest.raises(DataError, match=r"fifo\.csv is not a plain file \(a pipe, socket or "
                                            r"device\); give a file saved on disk"):
            read()


def test_a_stray_cell_far_right_does_not_widen_every_record(tmp_path):
    """One value in column XFD on each row made every record 16,384 values wide: 2.8 GB of
    memory for 5,000 records of a 250 KB file. The table now stops 100 columns right of
    its header, and what lies beyond is warned of."""
    from openpyxl import Workbook

    from mlstat_core.excel import UNNAMED_COLUMNS

    book = Workbook()
    sheet = book.active
    sheet.append(["a", "b"])
    for row in range(2, 6):
        sheet.append([row, row * 10])
        sheet.cell(row=row, column=2 + UNNAMED_COLUMNS + 1, value="stray")
    sheet.cell(row=3, column=4, value="unnamed")  # within reach: a column as pandas names it
    book.save(tmp_path / "wide.xlsx")
    with pytest.warns(UserWarning, match=r"4 record\(s\) of .*wide\.xlsx \(first at data row 1\)"
                                         r" hold values right of the table's 4 columns"):
        [chunk] = list(iter_table(tmp_path / "wide.xlsx", 10))
    assert list(chunk.columns)[:2] == ["a", "b"] and chunk.shape == (4, 4)
    assert chunk["a"].tolist() == [2, 3, 4, 5]


def test_predictions_from_an_excel_input_do_not_depend_on_the_chunk_size(budget_run,
                                                                        tmp_path):
    new_budget(300).to_excel(tmp_path / "new.xlsx", index=False)
    for size in (7, 1000):
        result = invoke("predict", budget_run, "--input", tmp_path / "new.xlsx", "--output",
                        tmp_path / f"o{size}.csv", "--chunk-size", size, "--id-column", "hh")
        assert result.exit_code == 0, result.output
    small, large = (pd.read_csv(tmp_path / f"o{size}.csv") for size in (7, 1000))
    pd.testing.assert_frame_equal(small, large)  # floats to BLAS's last bit, by batch size
    assert small["record_id"].iloc[0] == "H00001"


# --- bad values deep in a file -----------------------------------------------------------------


@pytest.mark.parametrize("value, problem", [("abc", "value(s) that are not numbers, e.g. 'abc'"),
                                            (np.inf, "infinite value(s)")])
def test_a_bad_value_names_its_data_row_in_the_file_not_in_its_chunk(budget_run, tmp_path,
                                                                    value, problem):
    """File line 1,002 holds the 1,001st record: in the fourth chunk of 300, it is still
    data row 1,001 (the encoding error counts the same way)."""
    frame = new_budget()
    frame["income"] = frame["income"].astype(object)
    frame.loc[1000, "income"] = value
    frame.to_csv(tmp_path / "new.csv", index=False)
    assert (tmp_path / "new.csv").read_text().splitlines()[1001].startswith("H01001,")
    result = invoke("predict", budget_run, "--input", tmp_path / "new.csv", "--output",
                    tmp_path / "o.csv", "--chunk-size", 300)
    assert result.exit_code == 2, result.output
    assert problem in said(result) and "(first at data row 1,001)" in said(result)
    assert "record 1000" not in said(result) and "data row 101)" not in said(result)


# --- decimal commas ----------------------------------------------------------------------------


def test_decimal_commas_are_named_and_decimal_reads_them(budget_run, tmp_path):
    frame = new_budget(40)
    frame.to_csv(tmp_path / "plain.csv", index=False)
    frame.to_csv(tmp_path / "commas.csv", index=False, sep=";", decimal=",")
    result = invoke("predict", budget_run, "--input", tmp_path / "commas.csv", "--output",
                    tmp_path / "o.csv", "--sep", ";")
    assert result.exit_code == 2
    assert "e.g. '0,4272'" in said(result) and "written with a decimal comma" in said(result)
    assert "--decimal ','" in said(result) and "correct them" not in said(result)
    result = invoke("predict", budget_run, "--input", tmp_path / "commas.csv", "--output",
                    tmp_path / "o.csv", "--sep", ";", "--decimal", ",")
    assert result.exit_code == 0, result.output
    assert invoke("predict", budget_run, "--input", tmp_path / "plain.csv", "--output",
                  tmp_path / "p.csv").exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "o.csv"),
                                  pd.read_csv(tmp_path / "p.csv"))
    for options, message in ((["--decimal", ","], "--decimal ',' is also the input's field "
                                                  "separator"),
                             (["--decimal", "ab"], "--decimal is 'ab'; give the one character")):
        result = invoke("predict", budget_run, "--input", tmp_path / "plain.csv", "--output",
                        tmp_path / "x.csv", *options)
        assert result.exit_code == 2 and message in said(result), result.output


def test_thousands_separators_are_not_taken_for_decimal_commas(budget_run, tmp_path):
    """'1,234' may be 1234 or 1.234: --decimal ',' alone would read it 1000 times too small."""
    frame = new_budget(40)
    frame["income"] = [f"{1000 + 37 * i:,}" for i in range(len(frame))]  # 1,000 ... 2,443
    frame.to_csv(tmp_path / "thousands.csv", index=False, sep=";")
    result = invoke("predict", budget_run, "--input", tmp_path / "thousands.csv", "--output",
                    tmp_path / "o.csv", "--sep", ";")
    assert result.exit_code == 2
    assert "',' between thousands (1,234) or with a decimal comma" in said(result)
    assert "remove the thousands separators" in said(result)
    assert "they look like numbers written with a decimal comma" not in said(result)


# --- outputs that cannot be written ------------------------------------------------------------


@pytest.mark.parametrize("code, filename, hint", [
    (errno.EROFS, "tmp", "the file system is read-only"),
    (errno.ENOSPC, None, "the disk is full"),
    (errno.ENOENT, "tmp", "its folder does not exist or cannot hold files"),
])
def test_a_failed_write_names_the_output_not_its_temporary_file(tmp_path, monkeypatch, code,
                                                                filename, hint):
    out = tmp_path / "scored.csv"
    writer = TableWriter(out)

    def refuse(self, path=None, *args, **kwargs):
        raise OSError(code, os.strerror(code), str(writer.tmp) if filename else None)

    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse)
    with pytest.raises(DataError) as info:
        writer.write(pd.DataFrame({"a": [1]}))
    assert str(info.value).startswith(f"cannot write {out}: {hint}")
    assert ".partial" not in str(info.value) and "pipeline" not in str(info.value)
    writer.abort()


def test_an_unwritable_output_fails_before_any_record_is_scored(budget_run, tmp_path,
                                                               monkeypatch):
    from mlstat_core.predict import LocalEngine

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    scored = []
    monkeypatch.setattr(Path, "touch", read_only)
    monkeypatch.setattr(LocalEngine, "score_frame", lambda *a: scored.append(a))
    new_budget(10).to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "ro" / "x.csv"
    result = invoke("predict", budget_run, "--input", tmp_path / "new.csv", "--output", out)
    assert result.exit_code == 2
    assert said(result) == (f"Error: cannot write {out}: the file system is read-only: choose "
                            "a folder you can write to")
    assert not scored


# --- records without ids -----------------------------------------------------------------------


def test_records_without_an_id_are_a_warning_with_count_and_first_row(budget_run, tmp_path):
    frame = new_budget(1000)
    frame.loc[[400, 900], "hh"] = None
    frame.loc[950, "hh"] = "  "
    frame.to_csv(tmp_path / "new.csv", index=False)
    result = invoke("predict", budget_run, "--input", tmp_path / "new.csv", "--output",
                    tmp_path / "o.csv", "--id-column", "hh", "--chunk-size", 300, "--json")
    assert result.exit_code == 0, result.output
    [warning] = [w for w in json.loads(result.stdout)["warnings"] if "no id" in w]
    assert warning.startswith("3 record(s) have no id in column 'hh' (first at data row 401): "
                              "their record_id is empty")
    assert "--id-column" in warning and "repeat" not in result.stderr


def test_missing_and_blank_ids_are_not_counted_as_repeated():
    ids = DuplicateIds()
    ids.update(pd.Series(["a", None, ""]), "id")
    ids.update(pd.Series(["b", " ", None], index=[3, 4, 5]), "id")
    assert ids.repeated == 0 and ids.missing == 4 and ids.first_missing == "data row 2"
    assert ids.warning() is None and len(ids.warnings()) == 1


# --- leftovers of killed jobs ------------------------------------------------------------------


def test_leftovers_of_killed_jobs_in_the_output_folder_are_swept_and_nothing_else(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    host = host_tag()
    stale = tmp_path / f".other.csv.{host}.{dead}-0123abcd.partial"  # another output's
    live = tmp_path / f".third.csv.{host}.{os.getpid()}-0123abcd.partial"
    kept = [tmp_path / f".other.csv.elsewhere.{dead}-0123abcd.partial",  # another machine's
            tmp_path / f".other.csv.{host}.{dead}.partial",  # not mlstat's naming
            tmp_path / "notes.partial", tmp_path / f"x.{host}.{dead}-0123abcd.partial"]
    for path in (stale, live, *kept):
        path.write_text("x")
    TableWriter(tmp_path / "scored.csv").abort()
    assert not stale.exists() and live.exists() and all(p.exists() for p in kept)


# --- what a scheduler reads --------------------------------------------------------------------


def test_predict_json_says_succeeded_or_failed_as_run_json_does(budget_run, tmp_path):
    new_budget(20).to_csv(tmp_path / "new.csv", index=False)
    result = invoke("predict", budget_run, "--input", tmp_path / "new.csv", "--output",
                    tmp_path / "o.csv", "--json")
    assert result.exit_code == 0
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "succeeded" and outcome["records"] == 20
    # the run that scored, so that an auditor can trace the file to its model
    manifest = json.loads((Path(budget_run) / "manifest.json").read_text())
    assert outcome["run"]["run_id"] == manifest["run_id"]
    assert Path(outcome["run"]["path"]) == Path(budget_run).resolve()
    model_files = outcome["run"]["model_files"]
    assert any(name.startswith("model/") for name in model_files)
    assert set(model_files) <= {n for n in manifest["files"]
                                if n.startswith("model/") or n == "profile.json"}
    assert all(manifest["files"][name] == digest for name, digest in model_files.items())
    result = invoke("predict", budget_run, "--input", tmp_path / "absent.csv", "--output",
                    tmp_path / "o.csv", "--json")
    assert result.exit_code == 2
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "failed" and "does not exist" in outcome["error"]
    assert "does not exist" in result.stderr  # the message stays on stderr


def test_an_interrupted_predict_speaks_of_predictions_not_runs(budget_run, tmp_path,
                                                              monkeypatch):
    import mlstat_core.predict

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mlstat_core.predict, "predict_file", interrupted)
    result = CliRunner().invoke(main, ["predict", str(budget_run), "--input", "n.csv",
                                       "--output", str(tmp_path / "o.csv"), "--json"])
    assert result.exit_code == 130
    assert "no predictions were written" in said(result) and "run folder" not in said(result)
    assert json.loads(result.stdout) == {"status": "failed", "output": None,
                                         "error": "interrupted (Ctrl-C)", "warnings": []}
