"""The built-in table loader reads CSV, Parquet and Excel alike, with column roles."""

from __future__ import annotations

from pathlib import Path

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
