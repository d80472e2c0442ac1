"""The chunk size bounds what the model gets at a time on Spark too; a CSV value Spark cannot
read is named by its column and data row, as the local engine names it; the output's column
types are one set whichever writer wrote them."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from test_spark_engine import budget_pipeline, read_sorted

import mlstat_core
from mlstat_core.errors import DataError
from mlstat_core.predict import predict_file

SPARK = {"master": "local[2]"}


# -- without Spark -----------------------------------------------------------------------------


def test_a_chunk_size_below_one_is_refused_alike_on_both_engines(tmp_path):
    """Checked before any engine starts: the same message whichever engine was asked for."""
    from mlstat_core.cli import main

    for size in (0, -5):
        messages = set()
        for engine in ("local", "spark"):
            with pytest.raises(DataError) as failure:
                predict_file(tmp_path, tmp_path / "new.csv", tmp_path / "out.parquet",
                             chunk_size=size, engine=engine)
            messages.add(str(failure.value))
            result = CliRunner().invoke(main, ["predict", str(tmp_path), "--input",
                                               str(tmp_path / "new.csv"), "--output",
                                               str(tmp_path / "o.parquet"), "--engine", engine,
                                               f"--chunk-size={size}"])
            assert result.exit_code == 2
            messages.add(result.output.splitlines()[-1])
        assert messages == {f"chunk_size is {size}; give the number of records scored at a "
                            "time, a whole number of at least 1",
                            f"Error: Invalid value for '--chunk-size': {size} is not in the "
                            "range x>=1."}


def test_the_batches_are_the_chunk_size_at_most_batch_size():
    from mlstat_spark.engine import SparkEngine
    from mlstat_spark.params import SparkParams

    engine = SparkEngine(SparkParams())
    assert engine.batch_records(50_000) == 10_000 and engine.batch_records(300) == 300
    assert engine.batch_notes(50_000) == []  # the default chunk size: nothing to say
    assert engine.batch_notes(300) == []
    (note,) = engine.batch_notes(100_000)
    assert note.startswith("--chunk-size 100,000 is above the spark engine's batch_size "
                           "(10,000): each Python worker scored 10,000 records at a time")
    assert "--engine-option batch_size=100000" in note
    assert "engine_options={'batch_size': 100000}" in engine.batch_notes(100_000, cli=False)[0]
    given = SparkEngine(SparkParams(batch_size=100_000))
    assert given.batch_records(50_000) == 50_000
    (note,) = given.batch_notes(50_000)
    assert "batch_size 100,000 is above the chunk size (--chunk-size 50,000)" in note
    assert SparkEngine(SparkParams(batch_size=1)).batch_records(50_000) == 1


def test_a_max_records_per_batch_in_config_bounds_the_batches_too():
    """It used to be overridden by min(chunk size, batch_size) in every job: one given in the
    engine's config (tuned for executor memory) now bounds the batches too, noted when it
    lowers them."""
    from mlstat_spark.engine import MAX_RECORDS_PER_BATCH, SparkEngine
    from mlstat_spark.params import SparkParams

    engine = SparkEngine(SparkParams(config={MAX_RECORDS_PER_BATCH: 2000}))
    assert engine.batch_records(50_000) == 2000 and engine.batch_records(500) == 500
    (note,) = engine.batch_notes(50_000)
    assert note == (f"{MAX_RECORDS_PER_BATCH} = 2,000 in the spark engine's config is below "
                    "the spark engine's batch_size (10,000): each Python worker scored 2,000 "
                    "records at a time; for larger batches raise or remove that setting")
    assert "below the chunk size (chunk_size 5,000)" in \
        engine.batch_notes(5000, cli=False)[0]
    assert engine.batch_notes(500) == []  # the chunk size is the smallest
    larger = SparkEngine(SparkParams(batch_size=500, config={MAX_RECORDS_PER_BATCH: "20000"}))
    assert larger.batch_records(50_000) == 500
    for unbounded in ("0", "-1", "many"):  # Spark reads 0 or less as no bound
        engine = SparkEngine(SparkParams(config={MAX_RECORDS_PER_BATCH: unbounded}))
        assert engine.batch_records(50_000) == 10_000


class StandInConf:
    """A session's ``conf``: get, set and unset."""

    def __init__(self, values: dict[str, str]):
        self.values = dict(values)

    def get(self, key, default=None):
        return self.values.get(key, default)

    def set(self, key, value):
        self.values[key] = value

    def unset(self, key):
        self.values.pop(key, None)


def test_the_job_sets_the_smallest_bound_and_restores_the_setting():
    from types import SimpleNamespace

    from mlstat_spark.engine import MAX_RECORDS_PER_BATCH, SparkEngine
    from mlstat_spark.params import SparkParams

    engine = SparkEngine(SparkParams(config={MAX_RECORDS_PER_BATCH: 1500}))
    conf = StandInConf({MAX_RECORDS_PER_BATCH: "1500"})  # as the engine's config set it
    engine._session = SimpleNamespace(conf=conf)
    with engine.job_settings(engine.batch_records(50_000)):
        assert conf.get(MAX_RECORDS_PER_BATCH) == "1500"
    assert conf.values == {MAX_RECORDS_PER_BATCH: "1500"}


def test_values_fit_as_spark_reads_them():
    from mlstat_spark.values import fits

    for text in ("1", "-12", "+3"):
        assert fits(text, "long") and fits(text, "double")
    # Spark 4's CSV reader, tried: numbers (Double.parseDouble) trim spaces, whole numbers
    # and true or false do not; a padded Inf fails, a padded NaN reads
    for text in (" 7", "7 ", " 7 ", "\t7"):
        assert fits(text, "double") and not fits(text, "long")
    assert fits(" 4.5 ", "double") and fits(" NaN", "double") and not fits(" Inf", "double")
    assert not fits("true ", "boolean") and not fits(" false", "boolean")
    for text in ("1.5", "1e5", ".5", "NaN", "Inf", "-Infinity"):
        assert fits(text, "double") and not fits(text, "long")
    for text in ("abc", "n/a", "0,5", "1,234", "nan", ""):
        assert not fits(text, "double") and not fits(text, "long")
    assert not fits(str(2 ** 63), "long")
    assert fits("TRUE", "boolean") and fits("false", "boolean") and not fits("yes", "boolean")


def test_the_value_is_found_by_column_and_data_row(tmp_path):
    """The driver reads the file as text, chunk by chunk; a value that does not fit is named
    with the local engine's words, and the fix that works on Spark."""
    from mlstat_spark.values import locate_unfit_value

    frame = pd.DataFrame({"income": [str(i) for i in range(40)], "age": ["30"] * 40,
                          "note": [""] * 40, "hh": [f"{i:03d}" for i in range(40)]})
    kinds = {"income": "double", "age": "long", "note": "double", "hh": "string"}

    def locate(changes: dict, **options):
        data = frame.copy()
        for (row, column), value in changes.items():
            data.loc[row, column] = value
        data.to_csv(tmp_path / "new.csv", index=False)
        return locate_unfit_value(tmp_path / "new.csv", kinds, what="input new.csv",
                                  numeric_inputs={"income", "age"},
                                  model_columns={"income", "age", "hh"}, chunk_size=10,
                                  dtype={"hh": str}, **options)

    assert locate({}) is None
    found = str(locate({(25, "income"): "abc", (27, "income"): "abc"}))
    assert found == ("input new.csv: column 'income' was numeric in training but has 2 "
                     "value(s) that are not numbers, e.g. 'abc' (first at data row 26); "
                     "correct them, or leave them empty (missing, as the model treats missing "
                     "values)")
    assert "Spark reads only empty fields as missing, not 'n/a'" in \
        str(locate({(12, "income"): "n/a"}))
    assert "numbers written with a decimal comma" in str(locate({(12, "income"): "0,5"}))
    whole = str(locate({(30, "age"): "30.5"}))
    assert "not whole numbers, e.g. '30.5' (first at data row 31)" in whole
    assert "give the input as Parquet, or score it with the local engine" in whole
    note = str(locate({(39, "note"): "hello"}))
    assert note.startswith("input new.csv: column 'note' was read as numbers")
    assert "the model does not read this column" in note and "data row 40" in note
    # spaces around a whole number: Spark fails on them, the local engine reads them
    padded = str(locate({(33, "age"): " 45"}))
    assert padded == ("input new.csv: column 'age' was numeric in training but has 1 "
                      "value(s) that Spark cannot read as whole numbers, e.g. ' 45' (first at "
                      "data row 34); Spark's CSV reader does not remove spaces before or "
                      "after whole numbers (the local engine reads them as numbers): remove "
                      "the spaces, or give the input as Parquet")
    assert locate({(33, "income"): " 45 "}) is None  # Spark reads a padded number
    # past the time allowed: Spark's own account of the record stands
    assert locate({(25, "income"): "abc"}, seconds=0) is None
    assert locate({(5, "income"): "abc"}, seconds=0) is not None  # in the first chunk
    # a record cut short, which pandas reads with empty fields and Spark refuses
    text = frame.to_csv(index=False).splitlines()
    text[20] = "1,2"
    (tmp_path / "short.csv").write_text("\n".join(text) + "\n")
    short = locate_unfit_value(tmp_path / "short.csv", kinds, what="input short.csv",
                               numeric_inputs=set(), model_columns=set(), chunk_size=10)
    assert "1 record(s) have fewer fields than the header's 4 (the first: '1,2'), which " \
           "Spark refuses" in str(short)


def test_the_message_is_the_local_engines_own(tmp_path):
    """The words for a column the model learned as numbers are the local engine's
    (require_numeric's) for the same file: the same message where its fix works on Spark too,
    and the same column, count, examples and data row before Spark's fix where it does not."""
    from mlstat_spark.values import locate_unfit_value

    from mlstat_core.sklearn_model import require_numeric

    def messages(value: str) -> tuple[str, str]:
        path = tmp_path / "new.csv"
        pd.DataFrame({"income": ["1", "2", "3", value, value]}).to_csv(path, index=False)
        with pytest.raises(DataError) as local:
            require_numeric(pd.read_csv(path, dtype=str), ["income"], "input")
        spark = locate_unfit_value(path, {"income": "double"}, what="input",
                                   numeric_inputs={"income"}, model_columns={"income"},
                                   chunk_size=10)
        return str(local.value), str(spark)

    local, spark = messages("abc")
    assert spark == local
    local, spark = messages("0,5")
    head = ("input: column 'income' was numeric in training but has 2 value(s) that are not "
            "numbers, e.g. '0,5' (first at data row 4); they look like numbers written with a "
            "decimal comma: ")
    assert local.startswith(head) and spark.startswith(head)
    assert local != spark  # the local engine reads the file with --decimal ','; Spark cannot
    assert "score the file with the local engine (--decimal ','" in spark


def test_the_missing_value_words_are_pandas_ones():
    from mlstat_spark import values

    assert {"NA", "n/a", "null", "NULL", "None", "#N/A", "<NA>", "nan"} <= values.NA_WORDS
    frame = pd.read_csv(__import__("io").StringIO("x\n" + "\n".join(
        sorted(values.NA_WORDS - {""})) + "\n"))
    assert frame["x"].isna().all()  # each is one pandas reads as missing


# -- on Spark ----------------------------------------------------------------------------------


@pytest.mark.spark
@pytest.mark.timeout(600)
def test_the_chunk_size_bounds_the_batches_the_model_gets(spark_engine, budget_csv,
                                                          tmp_path):
    """--chunk-size used to be ignored on Spark: it now sets the Arrow batches mapInPandas
    hands the model (at most batch_size), for this job only; the predictions are the local
    engine's whatever the batches."""
    from mlstat_spark.session import quiet_pyspark

    session = spark_engine.session
    before = session.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")

    def sizes(batches):
        for batch in batches:
            yield pd.DataFrame({"n": [len(batch)]})

    with spark_engine.job_settings(300), quiet_pyspark():
        seen = [r.n for r in session.range(0, 2000, numPartitions=2)
                .mapInPandas(sizes, "n long").collect()]
    assert max(seen) == 300 and sum(seen) == 2000
    assert session.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch") == before

    run = mlstat_core.run(budget_pipeline(budget_csv))
    new = pd.read_csv(budget_csv).drop(columns="children")
    new.to_csv(tmp_path / "new.csv", index=False)
    predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "local.parquet", chunk_size=300)
    summary = predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "spark.parquet",
                           chunk_size=300, engine="spark", engine_options=SPARK)
    assert summary.details["batch_size"] == 300
    pd.testing.assert_frame_equal(read_sorted(tmp_path / "local.parquet"),
                                  read_sorted(tmp_path / "spark.parquet"))
    larger = predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "larger.parquet",
                          chunk_size=20_000, engine="spark", engine_options=SPARK)
    assert larger.details["batch_size"] == 10_000
    assert any("chunk_size 20,000 is above the spark engine's batch_size" in note
               for note in larger.notes)


@pytest.mark.spark
@pytest.mark.timeout(600)
def test_a_session_running_already_keeps_its_own_settings(spark_engine, budget_csv, tmp_path):
    """A notebook's session: getOrCreate used to set the engine's settings on it for good (its
    time zone became UTC, its Arrow batches the engine's). The engine now uses it as it is,
    sets its own settings for each job only, takes a maxRecordsPerBatch set on it by hand
    for a bound, and says which settings of its config such a session cannot take."""
    conf = spark_engine.session.conf
    zone, batch, partitions = ("spark.sql.session.timeZone",
                               "spark.sql.execution.arrow.maxRecordsPerBatch",
                               "spark.sql.shuffle.partitions")
    before = {key: conf.get(key, None) for key in (zone, batch, partitions)}
    notebook = {zone: "Europe/Warsaw", batch: "700", partitions: "5"}
    for key, value in notebook.items():
        conf.set(key, value)
    try:
        run = mlstat_core.run(budget_pipeline(budget_csv))
        new = pd.read_csv(budget_csv).drop(columns="children")
        new.to_csv(tmp_path / "new.csv", index=False)
        predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "local.parquet")
        # spark.driver.host: the session started with it (a note would be false)
        options = {**SPARK, "config": {"spark.driver.memory": "1g", partitions: "3",
                                       "spark.driver.host": "127.0.0.1"}}
        summary = predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "spark.parquet",
                               engine="spark", engine_options=options)
        assert {key: conf.get(key, None) for key in notebook} == notebook
        assert summary.details["batch_size"] == 700
        assert any(note.startswith(f"{batch} = 700 in the running Spark session is below")
                   for note in summary.notes)
        assert any(note.startswith("the Spark session running in this process was used "
                                   "as it is: spark.driver.memory in the spark engine's "
                                   "config take(s) effect") for note in summary.notes)
        pd.testing.assert_frame_equal(read_sorted(tmp_path / "local.parquet"),
                                      read_sorted(tmp_path / "spark.parquet"))
    finally:
        for key, value in before.items():
            if value is None:
                conf.unset(key)
            else:
                conf.set(key, value)


@pytest.fixture
def notebook_settings(spark_engine):
    """The running session's time zone and batch bound as a notebook's user set them, put
    back after the test."""
    conf = spark_engine.session.conf
    notebook = {"spark.sql.session.timeZone": "Europe/Warsaw",
                "spark.sql.execution.arrow.maxRecordsPerBatch": "700"}
    before = {key: conf.get(key, None) for key in notebook}
    for key, value in notebook.items():
        conf.set(key, value)
    yield notebook
    for key, value in before.items():
        if value is None:
            conf.unset(key)
        else:
            conf.set(key, value)


@pytest.mark.spark
def test_a_session_the_engine_started_keeps_no_job_setting_after_the_job(spark_engine,
                                                                        budget_csv, tmp_path):
    """The session the engine starts stays running, and a notebook's later getOrCreate
    returns it: it was started with times in UTC and Arrow on, which shifted the notebook's
    own timestamps. Those are set for each job only now."""
    conf = spark_engine.session.conf
    run = mlstat_core.run(budget_pipeline(budget_csv))
    pd.read_csv(budget_csv).drop(columns="children").to_csv(tmp_path / "new.csv", index=False)
    predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "out.parquet", engine="spark",
                 engine_options=SPARK)
    for key in ("spark.sql.session.timeZone", "spark.sql.execution.arrow.pyspark.enabled",
                "spark.sql.execution.arrow.maxRecordsPerBatch"):
        assert conf.get(key, None) is None, key


@pytest.mark.spark
@pytest.mark.timeout(600)
def test_a_run_scoring_on_a_running_session_keeps_its_batch_bound_and_notes_its_settings(
        spark_engine, budget_csv, notebook_settings, monkeypatch):
    """mlstat run's predict step (score_frame) read the session's batch bound before it
    looked at the session, so its first job ignored it; and a setting of the engine's config
    that the running session cannot take was dropped without a word."""
    from mlstat_spark.engine import SparkEngine

    batches = []
    job_settings = SparkEngine.job_settings

    def recorded(self, records):
        batches.append(records)
        return job_settings(self, records)

    monkeypatch.setattr(SparkEngine, "job_settings", recorded)
    run = mlstat_core.run(budget_pipeline(budget_csv, engine="spark", options={
        "config": {"spark.driver.memory": "1g"}}))
    assert batches == [700]
    assert any(w.startswith("predict: the Spark session running in this process was used")
               and "spark.driver.memory" in w for w in run.warnings)
    conf = spark_engine.session.conf
    assert {key: conf.get(key, None) for key in notebook_settings} == notebook_settings


@pytest.mark.spark
def test_a_master_other_than_the_running_sessions_is_refused(spark_engine, budget_csv,
                                                            tmp_path, notebook_settings):
    """Spark runs one session per process: getOrCreate handed back the running one, set the
    engine's settings on it for good and reported the master asked for."""
    from mlstat_core.errors import ConfigError

    run = mlstat_core.run(budget_pipeline(budget_csv))
    pd.read_csv(budget_csv).drop(columns="children").to_csv(tmp_path / "new.csv", index=False)
    with pytest.raises(ConfigError) as failure:
        predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "out.parquet",
                     engine="spark", engine_options={"master": "local[1]"})
    assert str(failure.value).startswith(
        "the spark engine's master is local[1], but a Spark session with master local[2] is "
        "already running in this process")
    assert "leave `master` out" in str(failure.value)
    conf = spark_engine.session.conf
    assert {key: conf.get(key, None) for key in notebook_settings} == notebook_settings
    assert not list(tmp_path.glob("*out.parquet*"))


@pytest.mark.spark
def test_jobs_of_two_threads_take_turns_with_the_sessions_settings(spark_engine,
                                                                  notebook_settings):
    """Each job sets the session's settings and restores them after: two at once, from a
    service's threads, restored them under each other and left the session in UTC."""
    import threading

    from mlstat_spark.engine import SparkEngine
    from mlstat_spark.params import SparkParams

    batch = "spark.sql.execution.arrow.maxRecordsPerBatch"
    conf = spark_engine.session.conf
    first, second = SparkEngine(SparkParams()), SparkEngine(SparkParams())
    second_in = threading.Event()
    seen = []

    def other_job():
        with second.job_settings(200):
            second_in.set()
            seen.append(conf.get(batch))

    with first.job_settings(100):
        thread = threading.Thread(target=other_job)
        thread.start()
        second_in.wait(2)  # it waits for this job to end
        seen.append(conf.get(batch))
    thread.join(30)
    assert seen == ["100", "200"]
    assert {key: conf.get(key, None) for key in notebook_settings} == notebook_settings


@pytest.mark.spark
@pytest.mark.timeout(600)
def test_a_bad_value_past_the_first_records_is_named_as_the_local_engine_names_it(
        spark_engine, budget_csv, tmp_path):
    """Spark reads a CSV with the column types of its first 10,000 records: a value that
    does not fit later on failed with the record's values only. Its column and data row are
    now named, in the local engine's words."""
    run = mlstat_core.run(budget_pipeline(budget_csv))
    new = pd.concat([pd.read_csv(budget_csv).drop(columns="children")] * 12,
                    ignore_index=True)
    new["income"] = new["income"].astype(object)
    new.loc[15_000, "income"] = "abc"
    new.to_csv(tmp_path / "new.csv", index=False)
    messages = []
    for engine in ("local", "spark"):
        with pytest.raises(DataError) as failure:
            predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / f"{engine}.parquet",
                         engine=engine, engine_options=SPARK if engine == "spark" else None)
        messages.append(str(failure.value))
    assert messages[1].startswith(f"input {tmp_path / 'new.csv'}: column 'income'")
    assert messages[0].partition(": column")[2] == messages[1].partition(": column")[2]
    assert "'abc' (first at data row 15,001)" in messages[1]
    assert "\n" not in messages[1]
    assert not list(tmp_path.glob("*spark.parquet*"))
    # a whole number with a space before it: the local engine scores it, Spark refuses it
    # (its reader trims numbers only); the locator used to trim it and miss it
    new["income"] = pd.read_csv(budget_csv)["income"].tolist() * 12
    new["age"] = new["age"].astype(str)
    new.loc[15_000, "age"] = " 45"
    new.to_csv(tmp_path / "padded.csv", index=False)
    predict_file(run.run_dir, tmp_path / "padded.csv", tmp_path / "padded.parquet")
    with pytest.raises(DataError) as failure:
        predict_file(run.run_dir, tmp_path / "padded.csv", tmp_path / "spark.parquet",
                     engine="spark", engine_options=SPARK)
    assert str(failure.value).startswith(f"input {tmp_path / 'padded.csv'}: column 'age'")
    assert "' 45' (first at data row 15,001); Spark's CSV reader does not remove spaces " \
           "before or after whole numbers" in str(failure.value)


@pytest.mark.spark
@pytest.mark.timeout(600)
def test_spark_writes_the_local_engines_column_types_with_either_writer(spark_engine,
                                                                        budget_csv, tmp_path):
    """Text ids and labels are Parquet strings from both of Spark's writers and from the
    local engine (pyarrow reads them back as ``string``, not pandas 3's ``large_string``),
    with the same values: outputs of both engines concatenate as they are."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    data = pd.read_csv(budget_csv)
    data["children"] = data["children"].map({1: "one", 2: "two"})
    data.insert(0, "hh", [f"h{i:05d}" for i in range(len(data))])
    data.to_csv(budget_csv, index=False)
    pipeline = budget_pipeline(budget_csv)
    pipeline["loader"]["id"] = "hh"
    run = mlstat_core.run(pipeline)
    data.drop(columns="children").to_csv(tmp_path / "new.csv", index=False)
    predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "local.parquet")
    schemas = []
    for writer in ("arrow", "spark"):
        out = tmp_path / f"{writer}.parquet"
        predict_file(run.run_dir, tmp_path / "new.csv", out, engine="spark",
                     engine_options={**SPARK, "writer": writer})
        schemas.append(ds.dataset(out).schema.remove_metadata())
        pd.testing.assert_frame_equal(read_sorted(tmp_path / "local.parquet"),
                                      read_sorted(out))
    local = pq.read_schema(tmp_path / "local.parquet").remove_metadata()
    assert schemas[0] == schemas[1] == local
    assert str(schemas[0].field("record_id").type) == "string"
    assert str(schemas[0].field("prediction").type) == "string"
