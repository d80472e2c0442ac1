"""The built-in table loader reads CSV, Parquet and Excel alike, with column roles."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlstat_core.builtins.loaders import TableLoader
from mlstat_core.builtins.params import TableParams
from mlstat_core.errors import DataError


def load(tmp_path: Path, **params) -> object:
    return TableLoader(TableParams(**params)).load(tmp_path)


@pytest.mark.parametrize("suffix, writer", [
    (".csv", lambda f, p: f.to_csv(p, index=False)),
    (".parquet", lambda f, p: f.to_parquet(p, index=False)),
    (".xlsx", lambda f, p: f.to_excel(p, index=False)),
])
def test_every_format_gives_the_same_dataset(tmp_path, budget_csv, suffix, writer):
    frame = pd.read_csv(budget_csv).head(200)
    frame.insert(0, "household", [f"h{i:04d}" for i in range(len(frame))])
    writer(frame, tmp_path / f"data{suffix}")
    dataset = load(tmp_path, path=f"data{suffix}", id="household", target="children",
                   weights="income")
    assert len(dataset) == 200
    assert dataset.roles.features == ["wfood", "wfuel", "wcloth", "walc", "wtrans", "wother",
                                      "totexp", "age"]
    assert dataset.sample_weight.sum() == frame["income"].sum()
    assert dataset.sources == [tmp_path / f"data{suffix}"]


def test_records_without_target_are_dropped_and_ids_must_be_unique(tmp_path, budget_csv):
    frame = pd.read_csv(budget_csv).head(50)
    frame.loc[:4, "children"] = None
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.warns(UserWarning, match=r"5 record\(s\) of .*d.csv have no value in the "
                      r"target column 'children' \(first at data row 1\) and are left out"):
        assert len(load(tmp_path, path="d.csv", target="children")) == 45
    frame["age"].to_frame().to_csv(tmp_path / "ids.csv", index=False)
    with pytest.raises(DataError, match="not unique"):
        load(tmp_path, path="ids.csv", id="age")


def test_encoding_option_reads_legacy_files(tmp_path):
    (tmp_path / "d.csv").write_bytes("name,code\nżółw,1\nsok,2\n".encode("cp1250"))
    with pytest.raises(DataError, match="encoding"):
        load(tmp_path, path="d.csv", target="code")
    dataset = load(tmp_path, path="d.csv", target="code", encoding="cp1250", text=["name"])
    assert dataset.frame["name"].tolist() == ["żółw", "sok"]


def test_a_utf8_file_read_in_a_legacy_encoding_is_warned_of(tmp_path):
    """UTF-8 text read as cp1250 raises no error (ó becomes Ăł): a loader, or mlstat predict
    with a run trained on a cp1250 file, scored such texts as other texts without a word. A
    genuine cp1250 file and plain ASCII are not warned of."""
    import warnings

    (tmp_path / "u.csv").write_text("name,code\nżółw,1\nsok,2\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="u.csv was read as cp1250, but it is valid UTF-8 "
                      r"text \(its first letter beyond ASCII, 'ż', reads as 'ĹĽ' in cp1250\): "
                      r""".*set the loader's `encoding` \(for example encoding = "utf-8"\)"""):
        load(tmp_path, path="u.csv", target="code", encoding="cp1250", text=["name"])
    (tmp_path / "c.csv").write_bytes("name,code\nżółw,1\nsok,2\n".encode("cp1250"))
    (tmp_path / "a.csv").write_text("name,code\nsok,1\nchleb,2\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load(tmp_path, path="c.csv", target="code", encoding="cp1250", text=["name"])
        load(tmp_path, path="a.csv", target="code", encoding="cp1250", text=["name"])


def test_a_letter_cut_at_the_end_of_the_utf8_sample_is_no_error(tmp_path, monkeypatch):
    """The only letter beyond ASCII of the sample read to tell UTF-8, cut at its end: the
    check raised StopIteration (a RuntimeError out of iter_table) on a valid file."""
    from mlstat_core import io

    monkeypatch.setattr(io, "UTF8_SAMPLE", 20)
    text = "name,code\nsoki,11\nxżółw,2\n"  # ż starts at byte 19: cut by a sample of 20
    for encoding in ("utf-8", "cp1250"):
        (tmp_path / "d.csv").write_bytes(text.encode(encoding))
        frame = io.read_table(tmp_path / "d.csv", encoding="cp1250")
        assert len(frame) == 2 and len(pd.concat(io.iter_table(tmp_path / "d.csv",
                                                               encoding="cp1250"))) == 2


def test_unknown_suffix_and_corrupt_parquet_are_clear_errors(tmp_path):
    (tmp_path / "d.json").write_text("{}")
    with pytest.raises(DataError, match="cannot tell the format"):
        load(tmp_path, path="d.json")
    (tmp_path / "d.parquet").write_bytes(b"not a parquet file at all")
    with pytest.raises(DataError, match="cannot read"):
        load(tmp_path, path="d.parquet")


def test_parquet_output_types_a_column_the_first_chunk_left_empty(tmp_path):
    """A text column that is None throughout the first chunk (every record auto-coded, say)
    must still take the text of later chunks."""
    from mlstat_core.io import TableWriter

    out = tmp_path / "p.parquet"
    writer = TableWriter(out)
    writer.write(pd.DataFrame({"code": ["a", "b"], "fallback": [None, None]}))
    writer.write(pd.DataFrame({"code": ["c"], "fallback": ["01.1"]}))
    assert writer.close() == 3
    back = pd.read_parquet(out)
    assert back["fallback"].isna().tolist() == [True, True, False]
    assert back["fallback"].iloc[2] == "01.1"


def test_parquet_output_writes_text_as_string_whatever_pandas_reads_it_as(tmp_path):
    """Text columns are written as ``string`` (Spark's type), not pandas 3's
    ``large_string``: outputs of the two engines concatenate with pyarrow as they are."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mlstat_core.io import TableWriter

    out = tmp_path / "p.parquet"
    writer = TableWriter(out)
    writer.write(pd.DataFrame({"id": pd.Series(["a1", "a2"], dtype="string"),
                               "code": pd.Series(["01.1", None], dtype=object)}))
    writer.write(pd.DataFrame({"id": ["a3"], "code": ["02.2"]}))
    assert writer.close() == 3
    schema = pq.read_schema(out)
    assert schema.field("id").type == pa.string()
    assert schema.field("code").type == pa.string()
    spark_like = pa.table({"id": pa.array(["b1"], pa.string()),
                           "code": pa.array(["03.3"], pa.string())})
    assert pa.concat_tables([pq.read_table(out), spark_like]).num_rows == 4


def test_an_unknown_encoding_is_caught_when_the_pipeline_is_validated(tmp_path):
    from pydantic import ValidationError

    from mlstat_core.io import iter_table, read_table

    with pytest.raises(ValidationError, match="unknown text encoding 'cp-1250x'"):
        TableParams(path="x.csv", encoding="cp-1250x")
    assert TableParams(path="x.csv", encoding="cp1250").encoding == "cp1250"
    csv = tmp_path / "a.csv"
    csv.write_text("a\n1\n")
    for read in (read_table, lambda p, **kw: next(iter_table(p, **kw))):
        with pytest.raises(DataError, match="unknown text encoding 'latin-2x'"):
            read(csv, encoding="latin-2x")


def with_code(budget_csv: Path, code: str = "..") -> pd.DataFrame:
    """The budget data with one income written as a missing-value code."""
    frame = pd.read_csv(budget_csv).astype({"income": object})
    frame.loc[5, "income"] = code
    return frame


@pytest.mark.parametrize("suffix, writer", [
    (".csv", lambda f, p: f.to_csv(p, index=False)),
    (".xlsx", lambda f, p: f.to_excel(p, index=False)),
])
def test_a_missing_value_code_in_a_numeric_column_is_named_and_na_values_reads_it(
        tmp_path, budget_csv, suffix, writer):
    writer(with_code(budget_csv), tmp_path / f"d{suffix}")
    with pytest.warns(UserWarning, match=r"column 'income' holds numbers, but 1 of its 1,519 "
                      r"values is not a number as written \(e.g\. '\.\.'\).*categories.*"
                      r"na_values = \[\"\.\.\"\] in \[loader\]"):
        dataset = load(tmp_path, path=f"d{suffix}", target="children")
    assert not pd.api.types.is_numeric_dtype(dataset.frame["income"])  # kept as it was read
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = load(tmp_path, path=f"d{suffix}", target="children", na_values=[".."])
    assert pd.api.types.is_float_dtype(dataset.frame["income"])
    assert dataset.frame["income"].isna().sum() == 1


def run_with_code(tmp_path: Path, budget_csv: Path, code: str):
    """A run of the majority model on the budget data with one income written as ``code``."""
    import mlstat_core

    with_code(budget_csv, code).to_csv(tmp_path / "d.csv", index=False)
    return mlstat_core.run({
        "pipeline": {"name": "x", "task": "tabular_classification"},
        "loader": {"component": "core.table", "path": str(tmp_path / "d.csv"),
                   "target": "children"},
        "model": {"component": "core.majority"}, "indicators": ["core.provenance"]},
        out=tmp_path / "runs")


def test_the_warning_reaches_the_runs_warnings(tmp_path, budget_csv):
    result = run_with_code(tmp_path, budget_csv, "x")
    assert any("column 'income' holds numbers" in w and 'na_values = ["x"]' in w
               for w in result.warnings)


def test_a_long_cell_is_quoted_short_in_the_warning_and_the_run_folder(tmp_path, budget_csv):
    secret = "refused - Mrs J. Smith, 12 High Street, NI AB123456C"
    result = run_with_code(tmp_path, budget_csv, secret)
    warning = next(w for w in result.warnings if "column 'income' holds numbers" in w)
    assert f"(e.g. {secret[:40]!r}…)" in warning  # enough to find the cell, not the whole
    assert "na_values" not in warning and "correct the values" in warning  # not a code
    for name in ("manifest.json", "report.json", "report.html"):
        assert "AB123456C" not in (result.run_dir / name).read_text(), name


def test_decimal_commas_are_named_and_the_decimal_option_reads_them(tmp_path, budget_csv):
    frame = pd.read_csv(budget_csv)
    frame.to_csv(tmp_path / "d.csv", index=False, sep=";", decimal=",")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load(tmp_path, path="d.csv", target="children", sep=";")
    assert [str(w.message).split("'")[1] for w in caught] == [
        "wfood", "wfuel", "wcloth", "walc", "wtrans", "wother"]  # the columns with decimals
    assert re.match(r"column 'wfood' holds numbers, but 1,519 of its 1,519 values are not a "
                    r"number as written \(e.g\. '0,4272'.*1,519 have a decimal comma: set "
                    r"decimal = \",\" in \[loader\]", str(caught[0].message))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = load(tmp_path, path="d.csv", target="children", sep=";", decimal=",")
    pd.testing.assert_frame_equal(dataset.frame, frame)


def test_a_parquet_column_of_numbers_as_text_is_named_with_its_own_fix(tmp_path):
    """A Parquet file's types are its own (na_values does not apply): store numbers."""
    frame = pd.DataFrame({"income": [str(i) for i in range(20)] + [".."], "y": [1, 2] * 10 + [1]})
    frame.to_parquet(tmp_path / "d.parquet")
    with pytest.warns(UserWarning, match=r"column 'income' holds numbers, but 1 of its 21 "
                      r"values is not a number.*store the column as numbers in the file"):
        load(tmp_path, path="d.parquet", target="y")


def test_a_column_of_categories_with_some_numbers_gives_no_warning(tmp_path):
    frame = pd.DataFrame({"region": ["north"] * 3 + ["12", "13", "14"] * 5,
                          "code": ["007", "008", "009"] * 6, "y": [1, 2] * 9})
    frame.to_parquet(tmp_path / "d.parquet")  # `code` stays text: digits, all of them
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load(tmp_path, path="d.parquet", target="y")) == 18


def test_the_decimal_mark_is_one_character_other_than_the_separator():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="decimal ',' is also the field separator; set "
                                              "`sep`"):
        TableParams(path="d.csv", decimal=",")
    # a semicolon given as the decimal mark is the mistake: sep = ";" is advised only for ","
    with pytest.raises(ValidationError, match="decimal ';' is also the field separator; set "
                                              "`decimal` to the file's decimal mark"):
        TableParams(path="d.csv", decimal=";", sep=";")
    with pytest.raises(ValidationError, match="decimal must be one character"):
        TableParams(path="d.csv", decimal=",,", sep=";")
    assert TableParams(path="d.csv", decimal=",", sep=";").decimal == ","
    assert TableParams(path="d.tsv", decimal=",").decimal == ","
    assert TableParams(path="d.xlsx", decimal=",").decimal == ","


def test_parquet_refuses_na_values_and_decimal(tmp_path):
    pd.DataFrame({"x": [1.0], "y": [1]}).to_parquet(tmp_path / "d.parquet")
    for option in ({"na_values": [".."]}, {"decimal": ","}):
        with pytest.raises(DataError, match="Parquet file.*apply to CSV and Excel files only"):
            load(tmp_path, path="d.parquet", target="y", **option)


def test_a_semicolon_file_read_without_sep_says_to_set_sep(tmp_path, budget_csv):
    pd.read_csv(budget_csv).to_csv(tmp_path / "d.csv", index=False, sep=";")
    with pytest.raises(DataError, match=r"lacks declared column\(s\) 'children'; its header "
                       r"'wfood;wfuel;.*' seems separated by ';', not ',': set the loader's "
                       r"`sep` \(for example sep = \";\"\)"):
        load(tmp_path, path="d.csv", target="children")
    assert len(load(tmp_path, path="d.csv", target="children", sep=";")) == 1519


def test_a_missing_column_of_a_well_separated_file_gets_no_separator_hint(tmp_path):
    (tmp_path / "d.csv").write_text("a,note\n1,x;y\n2,z\n")
    with pytest.raises(DataError, match=r"lacks declared column\(s\) 'children'; it has 'a', "
                                        r"'note'$"):
        load(tmp_path, path="d.csv", target="children")


def test_codes_with_leading_zeros_stay_distinct_classes(tmp_path):
    """01, 1 and 007 are three codes: read as written, in the run and in its predictions;
    labels that are plain numbers stay numbers, and target_type = "text" keeps 1.10."""
    import mlstat_core

    rng = np.random.default_rng(1)
    x = rng.normal(size=300)
    codes = np.where(x > 0.5, "01", np.where(x < -0.5, "1", "007"))
    pd.DataFrame({"x": x, "kod": codes}).to_csv(tmp_path / "d.csv", index=False)
    config = {"pipeline": {"name": "codes", "task": "tabular_classification"},
              "loader": {"component": "core.table", "path": str(tmp_path / "d.csv"),
                         "target": "kod"},
              "model": {"component": "core.logistic_regression"},
              "indicators": ["core.classification_accuracy"]}
    result = mlstat_core.run(config, out=tmp_path / "runs")
    predictions = pd.read_parquet(result.run_dir / "predictions.parquet")
    assert set(predictions["true"]) == {"01", "1", "007"}
    assert {"proba_01", "proba_1", "proba_007"} <= set(predictions.columns)
    assert load(tmp_path, path="d.csv", target="kod").y.map(type).eq(str).all()

    pd.DataFrame({"x": x, "kod": np.where(x > 0, "1.10", "1.1")}).to_csv(tmp_path / "e.csv",
                                                                         index=False)
    assert load(tmp_path, path="e.csv", target="kod").y.dtype.kind == "f"  # numbers, as asked
    assert set(load(tmp_path, path="e.csv", target="kod", target_type="text").y) == {"1.10",
                                                                                     "1.1"}
    pd.DataFrame({"x": x, "k": np.where(x > 0, 2, 10)}).to_csv(tmp_path / "f.csv", index=False)
    assert load(tmp_path, path="f.csv", target="k").y.dtype.kind == "i"
    pd.DataFrame({"x": x, "k": x > 0}).to_csv(tmp_path / "g.csv", index=False)
    assert load(tmp_path, path="g.csv", target="k").y.dtype == bool


def test_a_csv_cut_short_is_said_and_a_complete_one_without_line_end_is_not(tmp_path):
    from mlstat_core.io import iter_table, read_table

    complete = {"whole.csv": "a,b,c\n1,2,3\n4,5,6",  # no final line end: fine
                "quoted.csv": 'a,b,c\n1,2,3\n4,"five\nlines",6',  # a line break in a field
                "utf16.csv": "a,b,c\n1,2,3\n4,5,6\n"}  # Excel's "Unicode text"
    for name, text in complete.items():
        encoding = "utf-16" if "16" in name else "utf-8"
        (tmp_path / name).write_bytes(text.encode(encoding))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert len(read_table(tmp_path / name, encoding=encoding)) == 2, name
            assert sum(map(len, iter_table(tmp_path / name, 1, encoding=encoding))) == 2
    (tmp_path / "cut.csv").write_text("a,b,c\n1,2,3\n4,5")  # copied while being written
    for read in (read_table, lambda p: list(iter_table(p, 1))):
        with pytest.warns(UserWarning, match=r"last record of .*cut\.csv ends in an empty "
                                             r"field \(2 of 3 fields filled\) and the file in "
                                             r"no line break"):
            read(tmp_path / "cut.csv")


def test_a_decomposed_header_keeps_the_types_asked_for_its_column(tmp_path):
    """'íd' written decomposed (NFD) by a macOS export is the column 'íd', and is read as
    text as asked: 007 keeps its zeros."""
    import unicodedata

    from mlstat_core.io import iter_table, read_table

    path = tmp_path / "ids.csv"
    path.write_text(f"{unicodedata.normalize('NFD', 'íd')},x\n007,1\n008,2\n")
    assert read_table(path, dtype={"íd": str}, columns=["íd"])["íd"].tolist() == ["007", "008"]
    assert next(iter_table(path, dtype={"íd": str}))["íd"].tolist() == ["007", "008"]


def test_target_type_number_refuses_labels_and_booleans_keep_their_gaps(tmp_path):
    from mlstat_core.builtins.loaders import typed_target

    with pytest.raises(DataError, match=r"target column 'k' is to be read as numbers .* "
                                        r"\(e\.g\. 'x' at data row 2\)"):
        typed_target(pd.Series(["1", "x"], name="k"), "number")
    with_gap = typed_target(pd.Series(["true", "false", None]), "auto")
    assert with_gap.iloc[0] is True and with_gap.iloc[1] is False and pd.isna(with_gap.iloc[2])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_table_read_in_chunks_and_left_early_closes_its_file(tmp_path, suffix):
    """Reading only the first chunk (as the Spark engine does to learn the columns, or a
    prediction that stops on an error) leaves no file open."""
    import gc

    from mlstat_core.io import iter_table

    path = tmp_path / f"a{suffix}"
    frame = pd.DataFrame({"a": range(100)})
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = next(iter_table(path, chunk_size=10))
        gc.collect()
    assert len(first) == 10
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_parquet_columns_named_as_text_read_as_a_csv_would(tmp_path: Path) -> None:
    """read_table ignored ``dtype`` for Parquet: an id column of floats with a gap gave ids
    ``111.0`` where the same data as CSV gave ``111`` (each caller cast it again, or not)."""
    from mlstat_core.io import read_table

    frame = pd.DataFrame({"hh": [111.0, np.nan, 7.0], "x": [1.5, 2.5, 3.5]})
    frame.to_parquet(tmp_path / "d.parquet")
    (tmp_path / "d.csv").write_text("hh,x\n111,1.5\n,2.5\n7,3.5\n")  # as a survey writes it
    parquet = read_table(tmp_path / "d.parquet", dtype={"hh": "str"})
    assert parquet["hh"].tolist()[::2] == ["111", "7"] and pd.isna(parquet["hh"].iloc[1])
    assert parquet["hh"].tolist()[::2] == read_table(tmp_path / "d.csv",
                                                    dtype={"hh": "str"})["hh"].tolist()[::2]
    assert parquet["x"].tolist() == [1.5, 2.5, 3.5]  # columns not named keep their type


@pytest.mark.parametrize("chunk_size", [2, 6])
def test_long_integer_ids_of_a_parquet_file_with_a_gap_keep_every_digit(tmp_path, chunk_size):
    """pandas reads an int64 column with a gap as float64: three 19-digit ids became one
    rounded id (1234567890123456768) in mlstat predict's output and the coding queue, with a
    false warning of repeated ids, and only in the chunks holding the gap."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mlstat_core.io import iter_table, read_table

    ids = [1234567890123456789, 1234567890123456790, None, 1234567890123456791,
           9007199254740993, 5]
    path = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"id": pa.array(ids, pa.int64()),
                             "x": pa.array([1, 2, None, 4, 5, 6], pa.int64())}), path)
    expected = [str(i) if i is not None else None for i in ids]
    chunks = list(iter_table(path, chunk_size=chunk_size, dtype={"id": "str"}))
    read = pd.concat(chunks)["id"]
    assert [None if pd.isna(v) else v for v in read] == expected
    whole = read_table(path, dtype={"id": "str"})
    assert [None if pd.isna(v) else v for v in whole["id"]] == expected
    assert whole["x"].dtype == np.float64  # a number column not read as text stays one


@pytest.mark.parametrize("suffix, writer", [
    (".csv", lambda f, p: f.to_csv(p, index=False)),
    (".xlsx", lambda f, p: f.to_excel(p, index=False)),
])
def test_missing_value_codes_written_as_numbers_are_read_as_missing(
        tmp_path, budget_csv, suffix, writer):
    """SAS and SPSS users write na_values = [-9, 99999]; that was refused as 'should be a
    valid string'. A code matches the cell whether the file writes -9 or -9.0, and in an
    Excel column of whole numbers too (pandas' Excel parser kept -9 there, as a value)."""
    from pydantic import ValidationError

    frame = pd.read_csv(budget_csv)
    frame["income"] = frame["income"].astype(float)
    frame.loc[3, "income"], frame.loc[7, "income"] = -9, 99999
    writer(frame, tmp_path / f"d{suffix}")
    dataset = load(tmp_path, path=f"d{suffix}", target="children", na_values=[-9, 99999])
    income = dataset.frame["income"]
    assert income.isna().sum() == 2 and income.isna()[[3, 7]].all()
    with pytest.raises(ValidationError, match="na_values"):
        TableParams(path="d.csv", na_values=[True])  # a TOML true is no code


def test_a_blank_cell_of_spaces_in_a_number_column_is_shown_and_declared_as_written(
        tmp_path, budget_csv):
    """SAS exports pad blank numbers with spaces: the warning showed '' and advised
    na_values = [""], which reads nothing; it shows ' ', and its advice reads the column."""
    frame = pd.read_csv(budget_csv).astype({"income": object})
    frame.loc[5, "income"] = " "
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.warns(UserWarning, match=r"\(e\.g\. ' '\).*na_values = \[\" \"\]"):
        load(tmp_path, path="d.csv", target="children")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = load(tmp_path, path="d.csv", target="children", na_values=[" "])
    assert pd.api.types.is_float_dtype(dataset.frame["income"])
