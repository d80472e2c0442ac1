"""The plugin through the core engine, as a user runs it (skipped while the engine is absent)."""

from __future__ import annotations

import pandas as pd
from mlstat_coding.hierarchy import Hierarchy


def test_digit_codes_have_one_level_per_digit():
    h = Hierarchy(separator="")
    assert h.ancestors("2512") == ["2", "25", "251", "2512"]
    assert h.at_level("2512", 2) == "25"


def test_occupations_example_runs_end_to_end(occupations, tmp_path):
    folder, result = occupations
    assert result.status == "succeeded"
    # three records per code: scikit-learn's guess (from its version 1.7) that so many codes
    # "could represent a regression problem" is not passed on to a coder (warnings of a step
    # are kept with the run, with their step: core tests/test_core_cli.py)
    assert not [w for w in result.manifest["warnings"] + list(result.warnings)
                if "unique classes" in w]
    names = {r.name for r in result.indicators}
    assert {"level_accuracy_1", "autocoding_share", "unseen_codes"} <= names
    assert {"route", "reason", "top_codes"} <= set(result.predictions.columns)
    queue = pd.read_csv(result.run_dir / "outputs" / "manual_queue.csv", dtype=str)
    assert len(queue) == (result.predictions["route"] == "manual").sum()
    assert "outputs/manual_queue.csv" in result.manifest["files"]
    from mlstat_coding.queue import main

    code = main([str(result.run_dir), "--input", str(folder / "data" / "occupations.csv"),
                 "--output", str(tmp_path / "queue.csv"), "--id", "id", "--all"])
    assert code == 0
    assert len(pd.read_csv(tmp_path / "queue.csv")) == 74
    whole = (tmp_path / "queue.csv").read_text()
    # scored in chunks (memory bounded): the same queue and predictions, in the same order
    args = [str(result.run_dir), "--input", str(folder / "data" / "occupations.csv"),
            "--id", "id", "--all"]
    assert main([*args, "--output", str(tmp_path / "q7.csv"), "--chunk-size", "7",
                 "--predictions", str(tmp_path / "p7.csv")]) == 0
    assert main([*args, "--output", str(tmp_path / "q1k.csv"),
                 "--predictions", str(tmp_path / "p1k.csv")]) == 0
    assert (tmp_path / "q7.csv").read_text() == (tmp_path / "q1k.csv").read_text() == whole
    assert (tmp_path / "p7.csv").read_text() == (tmp_path / "p1k.csv").read_text()


def test_queue_keeps_ids_and_texts_as_written(occupations, tmp_path):
    """Ids and texts that look like numbers stay as written (``00123``, ``0500``)."""
    from mlstat_coding.queue import main

    run = occupations[1].run_dir
    column = "job_title"
    new = pd.DataFrame({"rid": ["00123", "1", "3"], column: ["nurse", "0500", "7"],
                        "main_tasks": ["cares"] * 3, "sector": ["public"] * 3})
    new.to_csv(tmp_path / "z.csv", index=False)
    assert main([str(run), "--input", str(tmp_path / "z.csv"), "--output",
                 str(tmp_path / "q.csv"), "--id", "rid", "--all", "--predictions",
                 str(tmp_path / "p.csv")]) == 0
    queue = pd.read_csv(tmp_path / "q.csv", dtype=str)
    assert sorted(queue["record"]) == ["00123", "1", "3"]
    assert set(queue["text"]) == {"nurse cares", "0500 cares", "7 cares"}
    assert list(pd.read_csv(tmp_path / "p.csv", dtype=str)[column]) == ["nurse", "0500", "7"]


def test_queue_reads_the_trained_separator_and_warns_of_repeated_ids(occupations, tmp_path,
                                                                    capsys):
    """A ';' file scores with --sep (and says so without it); repeated ids are a warning."""
    from mlstat_coding.queue import main

    folder, result = occupations
    frame = pd.read_csv(folder / "data" / "occupations.csv", dtype=str).head(12)
    frame.loc[3, "id"] = frame.loc[2, "id"]
    frame.to_csv(tmp_path / "semi.csv", sep=";", index=False)
    args = [str(result.run_dir), "--input", str(tmp_path / "semi.csv"), "--id", "id", "--all"]
    assert main([*args, "--output", str(tmp_path / "q.csv")]) == 2
    assert "pass --sep ';'" in capsys.readouterr().err
    assert main([*args, "--output", str(tmp_path / "q.csv"), "--sep", ";"]) == 0
    assert "1 record(s) repeat the id" in capsys.readouterr().err
    assert len(pd.read_csv(tmp_path / "q.csv")) == 12
