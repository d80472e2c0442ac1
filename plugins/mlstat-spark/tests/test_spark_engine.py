"""The Spark engine scores record for record what the local engine scores, and fails clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import mlstat_core
from mlstat_core.errors import ConfigError, DataError, PluginError
from mlstat_core.predict import predict_file

pytestmark = [pytest.mark.spark, pytest.mark.timeout(600)]


def budget_pipeline(data: Path, **predict) -> dict:
    return {
        "pipeline": {"name": "spark-test", "task": "tabular_classification", "seed": 0},
        "loader": {"component": "core.table", "path": str(data), "target": "children"},
        "split": {"component": "core.stratified", "test_size": 0.3},
        "model": {"component": "core.random_forest", "n_estimators": 30},
        "indicators": ["core.classification_accuracy"],
        "output": {"dir": str(data.parent / "runs")},
        "predict": predict or {"engine": "local"},
    }


def read_sorted(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path).sort_values("record_id").reset_index(drop=True)


def test_a_one_column_csv_without_ids_says_that_spark_skips_blank_lines(spark_engine,
                                                                       budget_csv, tmp_path):
    pipeline = budget_pipeline(budget_csv)
    pipeline["loader"]["features"] = ["age"]
    run = mlstat_core.run(pipeline)
    pd.read_csv(budget_csv)[["age"]].head(20).to_csv(tmp_path / "ages.csv", index=False)
    spark = predict_file(run.run_dir, tmp_path / "ages.csv", tmp_path / "spark.parquet",
                         engine="spark", engine_options={"master": "local[2]"})
    assert spark.records == 20
    assert any("skips blank lines" in note for note in spark.notes)


def test_spark_scores_a_csv_exactly_as_the_local_engine(spark_engine, budget_csv, tmp_path):
    run = mlstat_core.run(budget_pipeline(budget_csv))
    new = pd.read_csv(budget_csv).drop(columns="children")
    new.to_csv(tmp_path / "new.csv", index=False)
    local = predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "local.parquet")
    spark = predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "spark.parquet",
                         engine="spark", engine_options={"master": "local[2]"})
    assert local.records == spark.records == 1519
    # no id column: both engines number the records and say so
    assert spark.notes == local.notes and "numbers the records" in spark.notes[0]
    assert spark.details["startup_seconds"] >= 0
    # the workers count every record for the drift check: the local engine's figures exactly
    assert spark.drift is not None and spark.drift["records"] == 1519
    assert spark.drift == local.drift
    # Spark's writer: the check reads a sample of the first records instead
    sampled = predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "sampled.parquet",
                           engine="spark", engine_options={"writer": "spark",
                                                           "drift_sample": 1000})
    assert sampled.drift["records"] == 1000 and "first 1,000" in sampled.drift["note"]
    pd.testing.assert_frame_equal(read_sorted(tmp_path / "local.parquet"),
                                  read_sorted(tmp_path / "spark.parquet"), check_dtype=False)
    # ids written with leading zeros stay text on Spark, as on the local engine
    new.insert(0, "hh", [f"{i:05d}" for i in range(len(new))])
    new.to_csv(tmp_path / "ids.csv", index=False)
    predict_file(run.run_dir, tmp_path / "ids.csv", tmp_path / "ids.parquet", engine="spark",
                 engine_options={"master": "local[2]"}, id_column="hh")
    assert read_sorted(tmp_path / "ids.parquet")["record_id"].head(2).tolist() == [
        "00000", "00001"]
    # a ';' file: --sep reaches Spark's reader too, and without it the hint is the same
    new.drop(columns="hh").to_csv(tmp_path / "semi.csv", sep=";", index=False)
    with pytest.raises(DataError, match="pass sep=';'"):
        predict_file(run.run_dir, tmp_path / "semi.csv", tmp_path / "no.parquet",
                     engine="spark", engine_options={"master": "local[2]"})
    predict_file(run.run_dir, tmp_path / "semi.csv", tmp_path / "semi.parquet",
                 engine="spark", engine_options={"master": "local[2]"}, sep=";")
    pd.testing.assert_frame_equal(read_sorted(tmp_path / "local.parquet"),
                                  read_sorted(tmp_path / "semi.parquet"), check_dtype=False)


def test_spark_scores_text_models_with_ids_from_parquet(spark_engine, tmp_path):
    pytest.importorskip("mlstat_coding")
    from mlstat_coding.loaders import ECOICOP_FILE, data_file

    data = pd.read_csv(data_file(ECOICOP_FILE))
    sample = data.groupby("category", group_keys=False).head(15).reset_index(drop=True)
    sample.insert(0, "item", [f"p{i:05d}" for i in range(len(sample))])
    sample.to_csv(tmp_path / "train.csv", index=False)
    run = mlstat_core.run({
        "pipeline": {"name": "spark-coding", "task": "text_classification", "seed": 0},
        "loader": {"component": "coding.text_table", "path": str(tmp_path / "train.csv"),
                   "text": ["product"], "code": "category", "id": "item"},
        "split": {"component": "core.stratified", "test_size": 0.2, "validation_size": 0.2},
        "model": {"component": "coding.tfidf_logreg"},
        "indicators": ["core.classification_accuracy"],
        "output": {"dir": str(tmp_path / "runs")},
    })
    sample.drop(columns="category").to_parquet(tmp_path / "new.parquet", index=False)
    predict_file(run.run_dir, tmp_path / "new.parquet", tmp_path / "local.parquet")
    local = read_sorted(tmp_path / "local.parquet")
    assert list(local["record_id"]) == sorted(sample["item"])
    # the Python workers write the Parquet (local master's default) or Spark's writer does
    for writer in ("arrow", "spark"):
        out = tmp_path / f"spark-{writer}.parquet"
        summary = predict_file(run.run_dir, tmp_path / "new.parquet", out, engine="spark",
                               engine_options={"partitions": 3, "writer": writer})
        assert summary.details["writer"] == writer and summary.records == len(sample)
        pd.testing.assert_frame_equal(local, read_sorted(out), check_dtype=False)
    assert len(list((tmp_path / "spark-arrow.parquet").glob("part-*.parquet"))) == 3
    # without the per-code probabilities: the same lean output from both engines
    predict_file(run.run_dir, tmp_path / "new.parquet", tmp_path / "lean.parquet",
                 engine="spark", engine_options={"partitions": 3}, probabilities=False)
    lean = read_sorted(tmp_path / "lean.parquet")
    assert not any(c.startswith("proba_") for c in lean.columns)
    pd.testing.assert_frame_equal(lean, local[list(lean.columns)], check_dtype=False)


def test_a_run_can_use_spark_for_its_predict_step(spark_engine, budget_csv):
    local = mlstat_core.run(budget_pipeline(budget_csv))
    spark = mlstat_core.run(budget_pipeline(budget_csv, engine="spark",
                                            options={"master": "local[2]"}))
    assert spark.manifest["status"] == "succeeded"
    pd.testing.assert_frame_equal(local.predictions.reset_index(drop=True),
                                  spark.predictions.reset_index(drop=True), check_dtype=False)
    assert spark.metric("accuracy") == local.metric("accuracy")


def test_input_lacking_the_models_columns_is_named(spark_engine, budget_csv, tmp_path):
    run = mlstat_core.run(budget_pipeline(budget_csv))
    pd.read_csv(budget_csv).drop(columns=["income", "age"]).to_parquet(tmp_path / "n.parquet")
    with pytest.raises(DataError, match="'income', 'age'"):
        predict_file(run.run_dir, tmp_path / "n.parquet", tmp_path / "out.parquet",
                     engine="spark")
    assert not (tmp_path / "out.parquet").exists()
    assert not list(tmp_path.glob(".out.parquet*"))  # nor a temporary folder


def test_partitions_without_records_leave_no_part_file(spark_engine, budget_csv, tmp_path):
    run = mlstat_core.run(budget_pipeline(budget_csv))
    pd.read_csv(budget_csv).head(3).to_parquet(tmp_path / "three.parquet", index=False)
    summary = predict_file(run.run_dir, tmp_path / "three.parquet", tmp_path / "out.parquet",
                           engine="spark", engine_options={"partitions": 8})
    assert summary.details["writer"] == "arrow" and summary.records == 3
    parts = list((tmp_path / "out.parquet").glob("part-*.parquet"))
    assert 1 <= len(parts) <= 3  # 8 partitions, 3 records: the empty ones wrote nothing
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == 3
    assert not list(tmp_path.glob(".out.parquet*"))  # no temporary folder left behind
    for writer in ("spark", "arrow"):  # a previous output (with Spark's markers) is replaced
        predict_file(run.run_dir, tmp_path / "three.parquet", tmp_path / "out.parquet",
                     engine="spark", engine_options={"writer": writer})
        assert len(pd.read_parquet(tmp_path / "out.parquet")) == 3


def test_the_writer_is_chosen_by_master_and_target(spark_engine, budget_csv, tmp_path):
    from mlstat_spark.engine import SparkEngine
    from mlstat_spark.params import SparkParams

    assert spark_engine._arrow_writes(str(tmp_path / "o"))  # a local session, a local path
    assert not SparkEngine(SparkParams(master="yarn"))._arrow_writes(str(tmp_path / "o"))
    assert not SparkEngine(SparkParams())._arrow_writes("s3a://bucket/scores")
    with pytest.raises(ConfigError, match="use writer = 'spark'"):
        SparkEngine(SparkParams(writer="arrow"))._arrow_writes("s3a://bucket/scores")
    # a URL output reaches Spark's writer as given
    run = mlstat_core.run(budget_pipeline(budget_csv))
    url = (tmp_path / "scored.parquet").as_uri()
    summary = predict_file(run.run_dir, budget_csv, url, engine="spark")
    assert summary.output == url and summary.details["writer"] == "spark"
    assert len(pd.read_parquet(tmp_path / "scored.parquet")) == summary.records == 1519


def test_a_workers_mlstat_error_reaches_the_user_as_itself(spark_engine, budget_csv,
                                                           tmp_path):
    from mlstat_spark.engine import worker_error

    run = mlstat_core.run(budget_pipeline(budget_csv))
    new = pd.read_csv(budget_csv)
    new["income"] = new["income"].astype(object)
    new.loc[1200, "income"] = "unknown"  # past the 50-record sample scored on the driver
    new.to_csv(tmp_path / "new.csv", index=False)
    with pytest.raises(DataError, match=r"'income' was numeric .* 'unknown' \(first at data row "
                                        r"1,201\);.*\(raised on a Spark worker\)"):
        predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "out.parquet",
                     engine="spark")
    assert not list(tmp_path.glob("*out.parquet*"))
    # Spark's CSV parser reads only empty fields as missing (pandas also reads NA, n/a, ...):
    # a clear message naming the column and data row, not a trace
    new.loc[1200, "income"] = None
    new.to_csv(tmp_path / "new.csv", index=False, na_rep="NA")
    with pytest.raises(DataError, match=r"column 'income' was numeric in training but has 1 "
                                        r"value\(s\) that are not numbers, e\.g\. 'NA' \(first "
                                        r"at data row 1,201\); Spark reads only empty fields as "
                                        r"missing, not 'NA'"):
        predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "out.parquet",
                     engine="spark")
    # where the value cannot be found (a CSV at a URL), the record is named by its values
    malformed = RuntimeError('org.apache.spark.SparkException: Malformed records are detected '
                             'in record parsing: [1.0,null]. ... For input string: "NA"')
    assert str(worker_error(malformed, "input x.csv", lambda: None)).startswith(
        'input x.csv: the value "NA" in record [1.0,null] does not fit the column types')
    bug = RuntimeError("Traceback ... ZeroDivisionError: division by zero")
    assert worker_error(bug) is bug  # anything else is not disguised


def test_an_output_folder_of_other_files_is_never_replaced(budget_csv, tmp_path):
    run = mlstat_core.run(budget_pipeline(budget_csv))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match="holding other files \\(notes.txt\\)"):
        predict_file(run.run_dir, budget_csv, tmp_path / "mine", engine="spark")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    (tmp_path / "mine" / "notes.txt").rename(tmp_path / "mine" / ".profile")
    with pytest.raises(DataError, match="holding other files \\(.profile\\)"):
        predict_file(run.run_dir, budget_csv, tmp_path / "mine", engine="spark")
    with pytest.raises(DataError, match="is a folder; the local engine writes one"):
        predict_file(run.run_dir, budget_csv, tmp_path / "mine")
    # a CSV name would hold a Parquet folder (and replace the user's CSV): refused first
    (tmp_path / "scored.csv").write_text("my earlier results")
    with pytest.raises(ConfigError, match=r"writes a Parquet folder, not a \.csv file.*"
                                          r"scored\.parquet"):
        predict_file(run.run_dir, budget_csv, tmp_path / "scored.csv", engine="spark")
    assert (tmp_path / "scored.csv").read_text() == "my earlier results"


def test_only_a_local_session_binds_to_loopback_and_quietens_its_log():
    from mlstat_spark.params import SparkParams
    from mlstat_spark.session import LOG4J2, _builder

    local = _builder(SparkParams(master="local[2]"))._options
    assert local["spark.driver.host"] == "127.0.0.1" and LOG4J2.is_file()
    assert LOG4J2.as_uri() in local["spark.driver.extraJavaOptions"]
    cluster = _builder(SparkParams(master="yarn"))._options
    assert "spark.driver.host" not in cluster  # executors must reach the driver's address
    assert "spark.driver.extraJavaOptions" not in cluster


def test_unreachable_master_fails_fast_with_a_clear_message(budget_csv, tmp_path,
                                                           monkeypatch):
    from mlstat_spark import engine as engine_module
    from mlstat_spark.engine import SparkEngine
    from mlstat_spark.params import SparkParams
    from mlstat_spark.session import check_master

    with pytest.raises(PluginError, match="unreachable"):
        check_master("spark://127.0.0.1:9", timeout=2)
    # as in a process with no session yet (another test's may run in this one: a master
    # other than its own is refused as such)
    monkeypatch.setattr(engine_module, "running_session", lambda params: None)
    engine = SparkEngine(SparkParams(master="spark://127.0.0.1:9", connect_timeout_s=2))
    with pytest.raises(PluginError, match="spark://127.0.0.1:9 is unreachable"):
        _ = engine.session


def test_a_session_that_does_not_start_in_time_is_given_up(monkeypatch):
    import time

    from mlstat_spark import session
    from mlstat_spark.params import SparkParams

    class Stuck:
        def getOrCreate(self):  # noqa: N802 (pyspark's name)
            time.sleep(5)

    monkeypatch.setattr(session, "_builder", lambda params: Stuck())
    start = time.perf_counter()
    with pytest.raises(PluginError, match="did not start within 1 s"):
        session.get_session(SparkParams(master="local[1]", startup_timeout_s=1))
    assert time.perf_counter() - start < 4


def test_missing_java_is_reported_before_starting(monkeypatch):
    from mlstat_spark.session import check_java

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PluginError, match="needs Java 17"):
        check_java()


def test_disabled_spark_plugin_gives_install_hint(monkeypatch):
    from mlstat_core.registry import discover

    monkeypatch.setenv("MLSTAT_DISABLE_PLUGINS", "spark")
    registry = discover()
    with pytest.raises(ConfigError, match="unknown engine 'spark'.*disabled"):
        registry.engine("spark")



def test_spark_edits_and_imputes_as_the_local_engine(spark_engine, tmp_path):
    """The editing-and-imputation model runs unchanged on Spark. Its rank matching hands out
    donor values within a batch, so one partition (one Arrow batch) is compared."""
    pytest.importorskip("mlstat_editimpute")
    from mlstat_core.config import load_config

    example = Path(__file__).resolve().parents[3] / "examples" / "editimpute-budget-uk.toml"
    run = mlstat_core.run(example, out=tmp_path / "runs")
    config = load_config(example)
    records = config.loader.build().load(config.base_dir).frame  # with the injected errors
    records.to_parquet(tmp_path / "survey.parquet", index=False)
    predict_file(run.run_dir, tmp_path / "survey.parquet", tmp_path / "local.parquet")
    predict_file(run.run_dir, tmp_path / "survey.parquet", tmp_path / "spark.parquet",
                 engine="spark", engine_options={"partitions": 1})
    local, spark = read_sorted(tmp_path / "local.parquet"), read_sorted(tmp_path /
                                                                        "spark.parquet")
    assert len(local) == len(records)
    # every record passes, or goes to a clerk (a suspicious value kept for review) with why
    assert (local["edit_pass"] ^ local["needs_review"]).all()
    assert (local.loc[local["needs_review"], "review_reason"] != "").all()
    assert local["edit_pass"].mean() > 0.98
    pd.testing.assert_frame_equal(local, spark, check_dtype=False)


def imputation_pipeline(tmp_path: Path, **predict) -> dict:
    return {
        "pipeline": {"name": "spark-ei", "task": "tabular_imputation", "seed": 0},
        "loader": {"component": "editimpute.budget_uk", "inject_seed": 0, "inject": [
            {"kind": "mcar", "variables": ["income", "wfood"], "rate": 0.1}]},
        "split": {"component": "core.insample"},
        # 20 boosting rounds, not 150: the engines must agree whatever the model's size
        "model": {"component": "editimpute.pmm", "rules": ["income_positive: income >= 10"],
                  "max_iter": 20},
        "indicators": [],
        "output": {"dir": str(tmp_path / "runs")},
        "predict": predict,
    }


BATCHED = "depend on the records scored together: editimpute.pmm hands the drawn donor"


def test_a_runs_batch_dependent_predictions_are_warned_of_on_any_engine(spark_engine,
                                                                        tmp_path):
    """``mlstat run`` gives (and records) the warning ``mlstat predict`` gives when a model's
    predictions depend on how its records were batched: on Spark, and in local chunks."""
    pytest.importorskip("mlstat_editimpute")
    spark = mlstat_core.run(imputation_pipeline(tmp_path, engine="spark",
                                                options={"master": "local[2]"}))
    expected = (r"the 1,519 records were scored in the partitions and batches of "
                r"spark\.spark, and this model's predictions " + BATCHED)
    assert len([w for w in spark.warnings if re.search(expected, w)]) == 1
    assert any(re.search(expected, w) for w in spark.manifest["warnings"])
    assert not any("copy keyword" in w for w in spark.warnings)  # pyspark's, not the run's
    chunked = mlstat_core.run(imputation_pipeline(tmp_path, chunk_size=500))
    assert any(re.search(r"scored in chunks of 500, .*" + BATCHED, w) for w in chunked.warnings)
    whole = mlstat_core.run(imputation_pipeline(tmp_path))  # one chunk: nothing to warn of
    assert not any("scored together" in w for w in whole.warnings)


def imagery_pipeline(tmp_path: Path, **predict) -> dict:
    return {
        "pipeline": {"name": "spark-imagery", "task": "raster_segmentation", "seed": 0},
        "loader": {"component": "imagery.landsat_nc", "bands": ["10", "20", "30", "40", "50"],
                   "indices": ["ndvi"], "mode": "binary"},
        "split": {"component": "imagery.spatial_blocks", "block_size": 32,
                  "validation_size": 0.15, "test_size": 0.0},
        "model": {"component": "imagery.context_forest", "n_estimators": 10,
                  "threshold": "argmax", "write_map": False},
        "indicators": [],
        "output": {"dir": str(tmp_path / "runs")},
        "predict": predict or {"engine": "local"},
    }


def test_models_that_read_more_than_their_input_columns_score_on_spark(spark_engine,
                                                                       tmp_path):
    """The context forest reads each pixel's neighbourhood from the scene by its row and col,
    which are not among its input columns: Spark hands the model every column, as the local
    engine does, in ``mlstat predict`` and in a run's predict step."""
    pytest.importorskip("mlstat_imagery")
    from mlstat_core.config import load_config

    local_run = mlstat_core.run(imagery_pipeline(tmp_path))
    spark_run = mlstat_core.run(imagery_pipeline(tmp_path, engine="spark",
                                                 options={"master": "local[2]"}))
    pd.testing.assert_frame_equal(local_run.predictions.reset_index(drop=True),
                                  spark_run.predictions.reset_index(drop=True),
                                  check_dtype=False)
    config = load_config(imagery_pipeline(tmp_path))
    pixels = config.loader.build().load(config.base_dir).frame.sample(400, random_state=0)
    pixels.to_csv(tmp_path / "pixels.csv", index=False)
    local = predict_file(local_run.run_dir, tmp_path / "pixels.csv", tmp_path / "l.parquet")
    spark = predict_file(local_run.run_dir, tmp_path / "pixels.csv", tmp_path / "s.parquet",
                         engine="spark", engine_options={"partitions": 2})
    assert local.records == spark.records == 400
    pd.testing.assert_frame_equal(read_sorted(tmp_path / "l.parquet"),
                                  read_sorted(tmp_path / "s.parquet"), check_dtype=False)


def test_a_value_spark_cannot_parse_in_the_first_records_is_one_clear_error(spark_engine,
                                                                            budget_csv,
                                                                            tmp_path,
                                                                            recwarn):
    """The driver scores the first 50 records to learn the output's schema: a CSV value that
    Spark cannot parse there is the same one-line error as later in the file, naming the
    column and the data row (Spark reads only empty fields as missing)."""
    run = mlstat_core.run(budget_pipeline(budget_csv))
    new = pd.read_csv(budget_csv)
    new.loc[10, "income"] = None
    new.to_csv(tmp_path / "new.csv", index=False, na_rep="n/a")
    with pytest.raises(DataError, match=r"^input .*new\.csv: column 'income' was numeric in "
                                        r"training but has 1 value\(s\) that are not numbers, "
                                        r"e\.g\. 'n/a' \(first at data row 11\); Spark reads "
                                        r"only empty fields as missing"):
        predict_file(run.run_dir, tmp_path / "new.csv", tmp_path / "out.parquet",
                     engine="spark")
    assert not list(tmp_path.glob("*out.parquet*"))
    # nor pyspark's warning that repeats the Java trace
    assert not [w for w in recwarn if "toPandas attempted" in str(w.message)]


def test_a_missing_local_input_is_named_before_spark_starts(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from mlstat_spark import engine
    from mlstat_spark.params import SparkParams

    def started(params):
        raise AssertionError("Spark was started")

    monkeypatch.setattr(engine, "get_session", started)
    job = SimpleNamespace(input=str(tmp_path / "nope.csv"), output=tmp_path / "out.parquet",
                          output_url=None)
    with pytest.raises(DataError, match=r"^input .*nope\.csv does not exist"):
        engine.SparkEngine(SparkParams()).score_file(job)
    engine.check_input("s3a://bucket/new.csv")  # URLs and tables: only Spark can reach them
    engine.check_input("catalog.new_products", "table")


def test_an_input_folder_without_data_files_is_named_before_spark_starts(monkeypatch,
                                                                        tmp_path):
    """An empty folder, or what a killed Spark job left (``_temporary`` only), reached the
    user as Spark's UNABLE_TO_INFER_SCHEMA blamed on the plugin ("report it to its
    authors")."""
    from types import SimpleNamespace

    from mlstat_spark import engine
    from mlstat_spark.params import SparkParams

    def started(params):
        raise AssertionError("Spark was started")

    monkeypatch.setattr(engine, "get_session", started)
    folder = tmp_path / "upstream.parquet"
    (folder / "_temporary" / "0").mkdir(parents=True)
    (folder / "_temporary" / "0" / "part-00000.parquet").write_bytes(b"PAR1")
    (folder / ".part-00000.parquet.crc").write_bytes(b"")
    job = SimpleNamespace(input=str(folder), output=tmp_path / "out.parquet", output_url=None)
    with pytest.raises(DataError, match=r"^input .*upstream\.parquet is a folder without data "
                                        r"files .* has not finished.*only _temporary"):
        engine.SparkEngine(SparkParams()).score_file(job)
    assert not (tmp_path / "out.parquet").exists()
    (folder / "_year=2026").mkdir()  # a partition folder: read by Spark
    (folder / "_year=2026" / "part-00000.parquet").write_bytes(b"PAR1")
    assert engine.holds_data(folder)
    (tmp_path / "empty").mkdir()
    assert not engine.holds_data(tmp_path / "empty")
    empty = engine.worker_error(RuntimeError("[UNABLE_TO_INFER_SCHEMA] Unable to infer schema "
                                             "for Parquet. It must be specified manually."),
                                "input s3a://bucket/new/")
    assert isinstance(empty, DataError) and "no data files" in str(empty)


def test_yarn_without_its_hadoop_configuration_fails_before_starting(monkeypatch, tmp_path):
    from mlstat_spark import session
    from mlstat_spark.params import SparkParams

    for name in ("HADOOP_CONF_DIR", "YARN_CONF_DIR", "SPARK_CONF_DIR", "SPARK_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(session, "_builder", lambda params: pytest.fail("Spark was started"))
    with pytest.raises(ConfigError, match="master 'yarn' needs the cluster's Hadoop "
                                          "configuration .* set one to the folder"):
        session.get_session(SparkParams(master="yarn"))
    (tmp_path / "spark-env.sh").write_text("export HADOOP_CONF_DIR=/etc/hadoop/conf\n")
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))  # Spark's launcher reads it there
    session.check_cluster_config("yarn")
    monkeypatch.delenv("SPARK_CONF_DIR")
    monkeypatch.setenv("HADOOP_CONF_DIR", str(tmp_path))
    session.check_cluster_config("yarn")
    session.check_cluster_config("local[2]")


def test_a_master_address_that_is_not_a_spark_master_is_named():
    """A port that answers but is not a standalone master (its web UI, say): Spark gives up
    registering after about a minute and says only that its context stopped."""
    from mlstat_spark.session import start_error

    stopped = RuntimeError("An error occurred while calling None.org.apache.spark.sql.classic."
                           "SparkSession.\n: java.lang.IllegalStateException: Cannot call "
                           "methods on a stopped SparkContext.\nThis stopped SparkContext ...")
    error = start_error("spark://127.0.0.1:8080", stopped)
    assert isinstance(error, PluginError)
    assert str(error).startswith("Spark master spark://127.0.0.1:8080 accepted the connection "
                                 "but did not register the application")
    assert "7077" in str(error) and "\n" not in str(error)
    other = start_error("local[2]", RuntimeError("Java gateway process exited\nmore"))
    assert str(other) == "Spark could not start (master local[2]): Java gateway process exited"


def test_part_files_the_driver_cannot_see_fail_the_run_and_leave_no_output(
        spark_engine, budget_csv, tmp_path, monkeypatch):
    """On a cluster without a shared file system the workers' part files land on their own
    disks: the run fails, rather than publish an empty output as a success."""
    from mlstat_spark import engine

    run = mlstat_core.run(budget_pipeline(budget_csv))
    checked = engine.check_parts

    def on_another_disk(folder, reported):
        for part in folder.glob("part-*.parquet"):  # as if written on an executor's disk
            part.unlink()
            break
        return checked(folder, reported)

    monkeypatch.setattr(engine, "check_parts", on_another_disk)
    with pytest.raises(DataError, match=r"writer = 'arrow' needs an output folder every "
                                        r"executor can reach \(a shared file system\); "
                                        r"use writer = 'spark'"):
        predict_file(run.run_dir, budget_csv, tmp_path / "out.parquet", engine="spark",
                     engine_options={"writer": "arrow", "partitions": 2})
    assert not list(tmp_path.glob("*out.parquet*"))  # neither an output nor a partial folder


def test_part_files_are_checked_against_the_workers_counts(tmp_path):
    from mlstat_spark.engine import check_parts

    pd.DataFrame({"a": [1, 2, 3]}).to_parquet(tmp_path / "part-00000.parquet", index=False)
    assert check_parts(tmp_path, {0: 3, 1: 0}) == 3  # an empty partition writes no file
    with pytest.raises(DataError, match=r"first part-00001\.parquet.*shared file system"):
        check_parts(tmp_path, {0: 3, 1: 2})  # missing on the driver
    with pytest.raises(DataError, match=r"first part-00000\.parquet"):
        check_parts(tmp_path, {0: 4})  # fewer records than reported
    (tmp_path / "part-00002.parquet").write_text("not parquet")
    with pytest.raises(DataError, match=r"first part-00002\.parquet"):
        check_parts(tmp_path, {0: 3, 2: 1})


def test_a_leftover_temporary_file_of_a_killed_run_does_not_block_the_output(tmp_path):
    """The local engine's TableWriter writes ``.NAME.partial`` as a file: a killed run's
    leftover (or a link of that name) is replaced by the spark engine's folder."""
    from mlstat_spark.engine import partial_output

    output = tmp_path / "out.parquet"
    (tmp_path / ".out.parquet.partial").write_text("half a file")
    with partial_output(output) as target:
        assert Path(target).is_dir()
        (Path(target) / "part-00000.parquet").write_text("x")
    assert (output / "part-00000.parquet").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep me")
    (tmp_path / ".out.parquet.partial").symlink_to(elsewhere)
    with partial_output(output) as target:
        assert Path(target).is_dir() and not Path(target).is_symlink()
    assert (elsewhere / "keep.txt").read_text() == "keep me"  # a link's target is untouched


def test_only_spark_markers_count_as_part_of_an_old_output(tmp_path):
    from mlstat_spark.engine import check_replaceable

    old = tmp_path / "old.parquet"
    old.mkdir()
    for name in ("part-00000.parquet", "_SUCCESS", "._SUCCESS.crc", ".part-00000.parquet.crc",
                 "_committed_123", "_started_123"):
        (old / name).write_text("")
    check_replaceable(old)  # a dataset Spark wrote: replaceable
    (old / "_notes.txt").write_text("keep me")
    with pytest.raises(DataError, match=r"holding other files \(_notes\.txt\)"):
        check_replaceable(old)


def test_writer_arrow_with_a_url_is_refused_before_spark_starts(monkeypatch, budget_csv):
    from types import SimpleNamespace

    from mlstat_spark import engine
    from mlstat_spark.params import SparkParams

    def started(params):
        raise AssertionError("Spark was started")

    monkeypatch.setattr(engine, "get_session", started)
    job = SimpleNamespace(input=str(budget_csv), output=None, output_url="s3a://bucket/scores",
                          decimal=".", na_values=[])
    with pytest.raises(ConfigError, match="use writer = 'spark' for a URL"):
        engine.SparkEngine(SparkParams(writer="arrow")).score_file(job)


def test_pysparks_pandas_warning_is_silenced_only_inside_the_plugin():
    import warnings

    from mlstat_spark.session import quiet_pyspark

    message = "PySpark does not yet fully support pandas >= 3.0.0."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_pyspark():
            warnings.warn(message, FutureWarning, stacklevel=1)
        # outside: the user's own filters decide
        warnings.warn(message, FutureWarning, stacklevel=1)
    assert len(caught) == 1


def test_a_model_trained_on_decimal_commas_is_refused_for_csv_before_spark_starts():
    from types import SimpleNamespace

    from mlstat_spark.engine import check_csv_values

    check_csv_values(SimpleNamespace(decimal=".", na_values=[]))  # the defaults: fine
    with pytest.raises(DataError, match="decimal ','.*give the input as Parquet"):
        check_csv_values(SimpleNamespace(decimal=",", na_values=[]))
    with pytest.raises(DataError, match=r"na_values \['\.\.'\]"):
        check_csv_values(SimpleNamespace(decimal=".", na_values=[".."]))


def test_a_csv_at_a_url_is_read_as_csv_for_every_check():
    from types import SimpleNamespace

    from mlstat_spark.engine import SparkEngine
    from mlstat_spark.params import SparkParams

    engine = SparkEngine(SparkParams())
    assert engine._reads_csv(SimpleNamespace(input="s3a://bucket/new.csv"))
    assert not engine._reads_csv(SimpleNamespace(input="s3a://bucket/new.parquet"))
    assert not engine._reads_csv(SimpleNamespace(input="s3a://bucket/folder/"))
