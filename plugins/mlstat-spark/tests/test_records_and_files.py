"""What a production team checks: the same records, values, order and dtypes as the local
engine whatever the partitions, CSV files as pandas reads them, file names and folders as the
caller means them, and clear failures that leave nothing behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from test_spark_engine import budget_pipeline, imputation_pipeline

import mlstat_core
from mlstat_core.errors import ConfigError, DataError, PluginError
from mlstat_core.predict import predict_file

pytestmark = [pytest.mark.spark, pytest.mark.timeout(600)]

SPARK = {"master": "local[2]"}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name)


def test_partitions_keep_the_input_order_the_dtypes_and_the_records_numbers(spark_engine,
                                                                            budget_csv,
                                                                            tmp_path):
    """Repartitioned records used to come back dealt round-robin (the output's order was not
    the input's), and a model got each Arrow batch numbered from 0 instead of the records'
    numbers in the file: editimpute.pmm, which draws donors by them, imputed other values
    than the local engine whenever the input had ids and more than one partition or batch;
    integer and boolean columns came back as pandas' nullable Int64 and boolean."""
    pytest.importorskip("mlstat_editimpute")
    from mlstat_core.config import load_config

    run = mlstat_core.run(budget_pipeline(budget_csv))
    new = pd.read_csv(budget_csv).drop(columns="children")
    new.insert(0, "hh", [f"h{i:05d}" for i in range(len(new))])
    new.to_csv(tmp_path / "new.csv", index=False)
    predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "local.parquet", id_column="hh")
    local = pd.read_parquet(tmp_path / "local.parquet")
    assert str(local["prediction"].dtype) == "int64"
    for n, options in enumerate(({"partitions": 3}, {"partitions": 3, "writer": "spark"},
                                 {"batch_size": 100})):
        out = tmp_path / f"spark-{n}.parquet"
        predict_file(run.run_dir, tmp_path / "new.csv", out, engine="spark",
                     engine_options={**SPARK, **options}, id_column="hh")
        pd.testing.assert_frame_equal(local, pd.read_parquet(out))  # order and dtypes too
    assert len(list((tmp_path / "spark-0.parquet").glob("part-*.parquet"))) == 3

    # donors drawn by record number: the same imputations on every engine and partitioning
    imputing = imputation_pipeline(tmp_path)
    imputing["model"]["rank_match"] = False
    ei = mlstat_core.run(imputing)
    config = load_config(imputing)
    records = config.loader.build().load(config.base_dir).frame
    records.insert(0, "hh", [f"h{i:05d}" for i in range(len(records))])
    records.to_parquet(tmp_path / "survey.parquet", index=False)
    predict_file(ei.run_dir, tmp_path / "survey.parquet", tmp_path / "ei-local.parquet",
                 id_column="hh")
    predict_file(ei.run_dir, tmp_path / "survey.parquet", tmp_path / "ei-spark.parquet",
                 engine="spark", engine_options={**SPARK, "partitions": 3, "batch_size": 200},
                 id_column="hh")
    imputed = pd.read_parquet(tmp_path / "ei-local.parquet")
    assert str(imputed["edit_pass"].dtype) == "bool"
    pd.testing.assert_frame_equal(imputed, pd.read_parquet(tmp_path / "ei-spark.parquet"))


def records_read_since(session, stage: int) -> tuple[int, int]:
    """The records Spark's stages after ``stage`` read, from its status store, and the last
    stage's id. A read of records Spark kept (``persist``) counts one per kept batch (10,000
    records at most each), a read of the input one per record."""
    context = session.sparkContext
    context._jsc.sc().listenerBus().waitUntilEmpty()  # the store is updated asynchronously
    jvm = context._jvm
    stages = context._jsc.sc().statusStore().stageList(
        jvm.java.util.ArrayList(), False, False, context._gateway.new_array(jvm.double, 0),
        jvm.java.util.ArrayList())
    found = [stages.apply(i) for i in range(stages.size())]
    return (sum(s.inputRecords() for s in found if s.stageId() > stage),
            max((s.stageId() for s in found), default=stage))


def test_the_input_is_read_once_and_released_after_the_job(spark_engine, budget_csv,
                                                           tmp_path):
    """The engine read its input up to four times (row numbers, the range sample of
    ``partitions``, scoring, the id and label checks): a CSV file was parsed each time. The
    numbered records are now kept by Spark (memory, then local disk) for the job and
    released after it, whether it succeeds or fails. Either writer marks its output complete
    with ``_SUCCESS`` (the workers' writer left none)."""
    session = spark_engine.session
    persisted = session.sparkContext._jsc.getPersistentRDDs
    run = mlstat_core.run(budget_pipeline(budget_csv))
    new = pd.read_csv(budget_csv)  # with the target: its labels are checked too
    new.insert(0, "hh", [f"h{i:05d}" for i in range(len(new))])
    new.to_csv(tmp_path / "new.csv", index=False)
    predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "local.parquet", id_column="hh")
    _, stage = records_read_since(session, -1)
    for n, options in enumerate(({"partitions": 3}, {"writer": "spark"})):
        out = tmp_path / f"spark-{n}.parquet"
        summary = predict_file(run.run_dir, tmp_path / "new.csv", out, engine="spark",
                               engine_options={**SPARK, **options}, id_column="hh")
        read, stage = records_read_since(session, stage)
        # the input once, and the kept records in one batch per partition for each later pass;
        # with Spark's writer, the output's records too, counted from its Parquet footers
        once = len(new) * (2 if options.get("writer") == "spark" else 1)
        assert summary.records == len(new) and once <= read <= once + 20, options
        assert persisted().isEmpty()
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "local.parquet"),
                                      pd.read_parquet(out))
        # complete, as schedulers and downstream jobs check (the workers' writer had no mark)
        assert (out / "_SUCCESS").is_file()
    new["income"] = new["income"].astype(object)
    new.loc[1200, "income"] = "unknown"  # a worker's error, after the records were kept
    new.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match="raised on a Spark worker"):
        predict_file(run.run_dir, tmp_path / "bad.csv", tmp_path / "bad.parquet",
                     engine="spark", engine_options=SPARK, id_column="hh")
    assert persisted().isEmpty()


def test_without_spark_s_cache_the_records_are_numbered_all_the_same(spark_engine,
                                                                     monkeypatch):
    """Databricks serverless (Spark Connect) refuses ``persist``: the job must still run,
    each pass reading the input as before."""
    from mlstat_spark.engine import with_row_numbers
    from mlstat_spark.worker import ROW_COLUMN

    df = spark_engine.session.range(0, 50, numPartitions=3)

    def refused(self, *args, **kwargs):
        raise RuntimeError("[NOT_SUPPORTED_WITH_SERVERLESS] PERSIST TABLE is not supported")

    monkeypatch.setattr(type(df), "persist", refused)
    numbered, kept = with_row_numbers(df)
    assert kept is None
    assert [(r["id"], r[ROW_COLUMN]) for r in numbered.collect()] == [(i, i) for i in range(50)]


def test_records_kept_for_a_count_that_fails_are_released(spark_engine):
    """The records were kept (``persist``) before the counting pass: a pass that failed (a
    bad value, a dead worker, Ctrl-C) left them kept, and a later job on the same input could
    reuse them."""
    from mlstat_spark.engine import with_row_numbers
    from pyspark.sql import functions as F

    session = spark_engine.session
    fails = F.udf(lambda v: 1 // (v - 40), "long")  # division by zero on record 40
    df = session.range(0, 50, numPartitions=2).withColumn("x", fails("id"))
    with pytest.raises(Exception, match="ZeroDivisionError"):
        with_row_numbers(df)
    assert session.sparkContext._jsc.getPersistentRDDs().isEmpty()


def test_csv_values_are_read_as_pandas_reads_them(spark_engine, budget_csv, tmp_path):
    """A quoted value holding a line break used to be cut into two records by Spark's
    line-by-line reader (a one-column file silently gained records, others failed with a
    message about column types), and a backslash before a doubled quote (RFC 4180, as pandas
    writes it) was taken for Spark's escape character."""
    run = mlstat_core.run(budget_pipeline(budget_csv))
    new = pd.read_csv(budget_csv).drop(columns="children").head(300)
    ids = [f"h{i}" for i in range(len(new))]
    ids[5], ids[7], ids[9] = "two\nlines, and a comma", 'ends "quoted\\"', "C:\\temp\\"
    new.insert(0, "hh", ids)
    new.to_csv(tmp_path / "new.csv", index=False)
    assert '\\""' in (tmp_path / "new.csv").read_text()
    local = predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "local.parquet",
                         id_column="hh")
    spark = predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "spark.parquet",
                         engine="spark", engine_options={**SPARK, "partitions": 2},
                         id_column="hh")
    assert local.records == spark.records == 300
    out = pd.read_parquet(tmp_path / "spark.parquet")
    assert out["record_id"].tolist() == ids
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "local.parquet"), out)
    assert any(re.search(r"line break inside a quoted value \(first on line 7\)", note)
               for note in spark.notes)
    assert not any("quoted value" in note for note in local.notes)


def test_a_line_break_in_a_quoted_value_is_found_in_any_block():
    from mlstat_spark.engine import quoted_line_break

    text = 'name\n"plain"\n"a ""quoted"" word"\n"two\nlines"\nlast\n'
    for block in (1, 3, 7, 1 << 20):  # quotes and line breaks on either side of a block end
        assert quoted_line_break_of(text, block) == 4
    assert quoted_line_break_of('name\n"one ""line"""\nnext\n', 2) is None
    assert quoted_line_break_of("name\nno quotes at all\n", 4) is None
    assert quoted_line_break("/dev/null", "utf-16") is None  # other bytes: not checked


def quoted_line_break_of(text: str, block: int) -> int | None:
    import tempfile

    from mlstat_spark.engine import quoted_line_break

    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as handle:
        handle.write(text)
    try:
        return quoted_line_break(handle.name, "utf-8", block=block)
    finally:
        os.unlink(handle.name)


def test_relative_paths_are_the_callers_even_after_it_changed_folder(spark_engine, budget_csv,
                                                                     tmp_path, monkeypatch):
    """Spark's JVM and Python workers resolve a relative path against the folder the session
    started in: a caller that had changed folder since (a notebook, a service) had the
    workers write their part files into the other folder, and the run failed."""
    run = mlstat_core.run(budget_pipeline(budget_csv))
    started_in = Path.cwd()
    before = leftovers(started_in)
    work = tmp_path / "work"
    work.mkdir()
    pd.read_csv(budget_csv).to_parquet(work / "new.parquet", index=False)
    monkeypatch.chdir(work)
    for writer in ("arrow", "spark"):
        summary = predict_file(run.run_dir, "new.parquet", f"out-{writer}.parquet",
                               engine="spark", engine_options={**SPARK, "writer": writer})
        assert summary.records == 1519
        assert len(pd.read_parquet(work / f"out-{writer}.parquet")) == 1519
    assert leftovers(started_in) == before and leftovers(work) == []


def test_input_names_with_pattern_characters_or_colons(spark_engine, budget_csv, tmp_path,
                                                       monkeypatch):
    """Spark reads ``[ ] { } * ?`` in a path as a pattern: ``new[1].csv`` was read as
    ``new1.csv`` when that file existed (and failed when it did not). Hadoop paths cannot
    name a file with ':': refused before Spark starts, not as a Java trace."""
    run = mlstat_core.run(budget_pipeline(budget_csv))
    data = pd.read_csv(budget_csv)
    data.head(10).to_csv(tmp_path / "new[1].csv", index=False)
    data.head(20).to_csv(tmp_path / "new1.csv", index=False)  # what the pattern matches
    summary = predict_file(run.run_dir, tmp_path / "new[1].csv", tmp_path / "o[1].parquet",
                           engine="spark", engine_options={**SPARK, "writer": "spark"})
    assert summary.records == 10 == len(pd.read_parquet(tmp_path / "o[1].parquet"))
    data.head(5).to_parquet(tmp_path / "day 12:00.parquet", index=False)
    from mlstat_spark import engine

    monkeypatch.setattr(engine, "get_session", lambda params: pytest.fail("Spark started"))
    with pytest.raises(DataError, match=r"day 12:00\.parquet: Spark cannot read a local path "
                                        r"holding ':'.*local engine"):
        predict_file(run.run_dir, tmp_path / "day 12:00.parquet", tmp_path / "o.parquet",
                     engine="spark")


def test_a_file_spark_cannot_read_is_one_data_error_and_leaves_nothing(spark_engine,
                                                                       budget_csv, tmp_path):
    run = mlstat_core.run(budget_pipeline(budget_csv))
    pd.read_csv(budget_csv).to_parquet(tmp_path / "whole.parquet", index=False)
    data = (tmp_path / "whole.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])  # a copy cut short
    with pytest.raises(DataError, match=r"^input .*cut\.parquet: Spark could not read the file "
                                        r".*cut\.parquet \(could not read footer\); check"):
        predict_file(run.run_dir, tmp_path / "cut.parquet", tmp_path / "out.parquet",
                     engine="spark", engine_options=SPARK)
    assert not (tmp_path / "out.parquet").exists() and leftovers(tmp_path) == []


def test_a_worker_that_died_is_named_not_blamed_on_the_plugin():
    """A Python worker killed mid-job (the system's OOM killer, say) reached the user as
    "an error in that component's code" with a Java trace in a file."""
    from mlstat_spark.engine import worker_error

    crashed = RuntimeError("An error occurred while calling o110.collectToPython.\n: org.apache."
                           "spark.SparkException: Job aborted due to stage failure: Task 0 in "
                           "stage 6.0 failed 1 times, most recent failure: Lost task 0.0: org."
                           "apache.spark.SparkException: Python worker exited unexpectedly "
                           "(crashed). Consider setting ...")
    error = worker_error(crashed)
    assert isinstance(error, PluginError)
    assert re.search(r"Python worker exited unexpectedly .*lack of memory.*lower batch_size",
                     str(error))
    colon = worker_error(RuntimeError("java.lang.IllegalArgumentException: java.net."
                                      "URISyntaxException: Relative path in absolute URI: "
                                      "p:1.parquet\n\tat org.apache.hadoop.fs.Path"))
    assert isinstance(colon, DataError) and "file p:1.parquet: Hadoop paths" in str(colon)


def test_long_integer_ids_of_a_parquet_input_with_a_gap_keep_every_digit(spark_engine,
                                                                         budget_csv, tmp_path):
    """Arrow gave the workers a long id column with a gap as float64: 19-digit ids came out
    rounded (three ids one) and as floats, 1.2345678901234568e+18, where the local engine
    writes 1234567890123456789."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    run = mlstat_core.run(budget_pipeline(budget_csv))
    new = pd.read_csv(budget_csv).drop(columns="children").head(6)
    ids = [1234567890123456789, 1234567890123456790, None, 1234567890123456791,
           9007199254740993, 5]
    table = pa.Table.from_pandas(new, preserve_index=False)
    pq.write_table(table.add_column(0, "hh", pa.array(ids, pa.int64())),
                   tmp_path / "new.parquet")
    predict_file(run.run_dir, tmp_path / "new.parquet", tmp_path / "l.parquet", id_column="hh")
    predict_file(run.run_dir, tmp_path / "new.parquet", tmp_path / "s.parquet",
                 engine="spark", engine_options={**SPARK, "partitions": 2}, id_column="hh")
    expected = [str(i) if i is not None else None for i in ids]
    for out in ("l.parquet", "s.parquet"):
        got = pd.read_parquet(tmp_path / out)["record_id"]
        assert [None if pd.isna(v) else v for v in got] == expected, out


def test_repeated_and_missing_ids_are_warned_of_as_the_local_engine_does(spark_engine,
                                                                        budget_csv, tmp_path):
    run = mlstat_core.run(budget_pipeline(budget_csv))
    new = pd.read_csv(budget_csv).drop(columns="children")
    ids = [f"h{i:05d}" for i in range(len(new))]
    ids[10], ids[700], ids[1200] = ids[3], ids[3], ids[50]
    ids[20], ids[900] = None, "  "
    new.insert(0, "hh", ids)
    new.to_parquet(tmp_path / "new.parquet", index=False)
    local = predict_file(run.run_dir, tmp_path / "new.parquet", tmp_path / "l.parquet",
                         id_column="hh")
    spark = predict_file(run.run_dir, tmp_path / "new.parquet", tmp_path / "s.parquet",
                         engine="spark", engine_options={**SPARK, "partitions": 3},
                         id_column="hh")
    assert len(spark.warnings) == 2 and spark.warnings == local.warnings
    assert "3 record(s) repeat the id" in spark.warnings[0] and "'h00003'" in spark.warnings[0]
    assert "2 record(s) have no id in column 'hh' (first at data row 21)" in spark.warnings[1]


def test_each_job_writes_its_own_partial_folder_and_sweeps_those_of_killed_jobs(tmp_path):
    """The partial folder had one fixed name: a task of a failed job still running, or a
    second job writing the same output, wrote into the other job's folder. A killed job's
    folder of another output stayed for good (a production review: GBs under dated names)."""
    from mlstat_spark.engine import partial_output

    from mlstat_core.io import host_tag

    output = tmp_path / "out.parquet"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    killed = tmp_path / f".out.parquet.{host_tag()}.{dead}-0123abcd.partial"
    running = tmp_path / f".out.parquet.{host_tag()}.{os.getppid()}-0123abcd.partial"
    other = tmp_path / f".other.parquet.{host_tag()}.{dead}-0123abcd.partial"
    other_running = tmp_path / f".other.parquet.{host_tag()}.{os.getppid()}-4567abcd.partial"
    for folder in (killed, running, other, other_running):
        folder.mkdir()
        (folder / "part-00000.parquet").write_text("x")
    (tmp_path / ".out.parquet.partial").mkdir()  # earlier versions' fixed name
    with partial_output(output) as first, partial_output(tmp_path / "out.parquet") as second:
        assert first != second and Path(first).is_dir() and Path(second).is_dir()
        assert Path(first).is_absolute()
        (Path(first) / "part-00000.parquet").write_text("first")
        (Path(second) / "part-00000.parquet").write_text("second")
    assert (output / "part-00000.parquet").read_text() == "first"  # the last one renamed
    assert not killed.exists() and not (tmp_path / ".out.parquet.partial").exists()
    # a killed job's folder goes whatever output it wrote (dated names are seldom reused)
    assert not other.exists()
    assert running.is_dir() and other_running.is_dir()  # running jobs' stay


def test_model_folders_of_killed_workers_are_swept(tmp_path):
    """A worker killed while loading the model (a job interrupted, a worker killed for
    memory) left the model's files in the temporary folder: 40 MB for the ECOICOP model."""
    from mlstat_spark.worker import MODEL_PREFIX, sweep_model_folders

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    killed = tmp_path / f"{MODEL_PREFIX}vm.{dead}-abc"
    running = tmp_path / f"{MODEL_PREFIX}vm.{os.getppid()}-abc"
    elsewhere = tmp_path / f"{MODEL_PREFIX}other.{dead}-abc"
    foreign = tmp_path / f"{MODEL_PREFIX}vm.notapid"
    for folder in (killed, running, elsewhere, foreign):
        folder.mkdir()
        (folder / "estimator.skops").write_text("x")
    sweep_model_folders(tmp_path, "vm")
    assert not killed.exists()
    assert running.is_dir() and elsewhere.is_dir() and foreign.is_dir()


def test_the_master_and_settings_are_checked_by_validate():
    from mlstat_spark.params import SparkParams

    for master in ("local", "local[2]", "local[*]", "local[4,2]", "spark://a:7077,b:7077",
                   "yarn", "k8s://https://host:443", "sc://host:15002/;token=x"):
        assert SparkParams(master=master).master == master
    for master in ("locale[2]", "", "local[0]", "spark://", "yarn-client"):
        with pytest.raises(ValueError, match="not a Spark master URL.*give one of local"):
            SparkParams(master=master)
    # TOML numbers and booleans are Spark's text settings
    params = SparkParams(config={"spark.sql.shuffle.partitions": 8,
                                 "spark.sql.adaptive.enabled": False})
    assert params.config == {"spark.sql.shuffle.partitions": "8",
                             "spark.sql.adaptive.enabled": "false"}


def test_ipv6_masters_are_accepted_in_brackets_and_malformed_ones_named():
    from mlstat_spark.params import SparkParams, master_addresses

    for master in ("spark://[::1]:7077", "spark://[fe80::1]:7077",
                   "spark://[fe80::1%eth0]:7077", "spark://a:7077,[::1]:7078",
                   "sc://[::1]:15002/;token=x", "sc://[::1]"):
        assert SparkParams(master=master).master == master
    assert master_addresses("spark://a:7077,[::1]:7078") == [("a", 7077), ("::1", 7078)]
    assert master_addresses("sc://[::1]") == [("::1", 15002)]  # Spark Connect's default
    # Spark refuses a spark:// master without its port ("Invalid master URL") when it starts
    for master, reason in (("spark://host", "'host' has no port"),
                           ("spark://a:7077,b", "'b' has no port"),
                           ("spark://[fe80::1%eth0]", r"'\[fe80::1%eth0\]' has no port"),
                           ("spark://::1:7077", "write it in brackets"),
                           ("spark://[::1", "is not host, host:port or"),
                           ("spark://[zz::1]:7077", r"\[zz::1\] is not an IPv6 address"),
                           ("spark://h:99999", "port 99999 .* is not between 1 and 65535"),
                           ("spark://a:7077,,b:7077", "is not host, host:port")):
        with pytest.raises(ValueError, match=f"not a Spark master URL: .*{reason}"):
            SparkParams(master=master)


def test_the_reachability_check_reads_ipv6_and_standby_masters():
    """Any master of the list that answers will do (Spark registers with the active one);
    a list once failed the check with Python's "Port could not be cast to integer"."""
    import socket

    from mlstat_spark.session import check_master

    try:
        server = socket.create_server(("::1", 0), family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with server:
        port = server.getsockname()[1]
        check_master(f"spark://[::1]:{port}", 2)
        check_master(f"spark://127.0.0.1:1,[::1]:{port}", 2)
    with pytest.raises(PluginError, match=r"spark://127.0.0.1:1,\[::1\]:\d+ is unreachable"):
        check_master(f"spark://127.0.0.1:1,[::1]:{port}", 2)
    with pytest.raises(ConfigError, match="not a master URL: port 99999"):
        check_master("spark://127.0.0.1:99999", 2)


def test_validate_names_a_bad_master_in_a_pipeline_file(budget_csv):
    from mlstat_core.config import validate

    pipeline = budget_pipeline(budget_csv, engine="spark", options={"master": "locale[2]"})
    with pytest.raises(ConfigError) as info:
        validate(pipeline)
    issues = [f"{issue.field}: {issue.message}" for issue in info.value.issues]
    assert any(re.match(r"predict\.options\.master: not a Spark master URL", issue)
               for issue in issues), issues


def test_ctrl_c_that_also_stopped_the_jvm_is_an_interruption():
    """Ctrl-C in a terminal reaches Spark's JVM too: the interrupted call into it failed to
    reach it again ("Answer from Java side is empty"), and the run ended as "an error in that
    component's code" (exit code 3) instead of an interruption (130)."""
    from mlstat_spark.engine import user_errors
    from py4j.protocol import Py4JNetworkError

    with pytest.raises(KeyboardInterrupt), user_errors("input x"):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise Py4JNetworkError("Answer from Java side is empty") from None
    # a JVM that stopped on its own (killed, out of memory): named, not blamed on the plugin
    with pytest.raises(PluginError, match="Spark's JVM stopped during the job"), \
            user_errors("input x"):
        raise Py4JNetworkError("Answer from Java side is empty")


@pytest.mark.parametrize("writer", ["arrow", "spark"])
def test_columns_named_with_a_dot_or_twice_score_as_with_the_local_engine(spark_engine,
                                                                          budget_csv, tmp_path,
                                                                          writer):
    """`note.x`, or the `income.1` pandas reads a repeated header as, failed the Spark job as a
    defect of the engine (mapInPandas resolves a column by its bare name); the local engine
    scored the file. Now both give the same output, with the warning on the header."""
    run = mlstat_core.run(budget_pipeline(budget_csv))
    new = pd.read_csv(budget_csv).drop(columns="children").head(300)
    new["note.x"] = "checked"
    new.to_csv(tmp_path / "new.csv", index=False)
    header, *rows = (tmp_path / "new.csv").read_text().splitlines()
    (tmp_path / "twice.csv").write_text("\n".join([header + ",income",
                                                   *[r + ",9999" for r in rows]]) + "\n")
    for name in ("new.csv", "twice.csv"):
        local, spark = tmp_path / f"local-{name}.parquet", tmp_path / f"spark-{name}.parquet"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the header's, asserted below
            predict_file(run.run_dir, tmp_path / name, local)
            predict_file(run.run_dir, tmp_path / name, spark, engine="spark",
                         engine_options={**SPARK, "writer": writer})
        pd.testing.assert_frame_equal(pd.read_parquet(local), pd.read_parquet(spark))
    with pytest.warns(UserWarning, match=r"names column\(s\) 'income' \(the second read as "
                                         r"'income.1'\) more than once"):
        predict_file(run.run_dir, tmp_path / "twice.csv", tmp_path / "again.parquet")
