"""Starting a Spark session with clear failures: no Java, unreachable master, slow start."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlstat_core.errors import ConfigError, PluginError
from mlstat_spark.params import SparkParams, master_addresses

LOG4J2 = Path(__file__).with_name("log4j2.properties")
MAX_RECORDS_PER_BATCH = "spark.sql.execution.arrow.maxRecordsPerBatch"
JOB_SETTINGS = {"spark.sql.execution.arrow.pyspark.enabled": "true",
                "spark.sql.session.timeZone": "UTC"}
"""Runtime settings every job scores under: Arrow transfers, times in UTC. Set for each job
only (:meth:`~mlstat_spark.engine.SparkEngine.job_settings`), on a session the engine starts
too: it stays running after the job, and a notebook's later ``getOrCreate`` returns it, with
the notebook's own time zone."""
JOB_LOCK = threading.RLock()
"""Held through each job's settings: a process has one Spark session, so two jobs at once
(a service's threads) would set, then restore, its settings under each other."""


@contextmanager
def quiet_pyspark() -> Iterator[None]:
    """Without pyspark's own warnings around pandas conversions: the one that repeats a
    failure's Java trace (the failure reaches the user once, through the engine's
    ``user_errors``); pyspark 4.3's that pandas 3 is not fully supported, given on every
    conversion (mlstat's tests check the outputs against the local engine's; the README says
    it once); and pandas 3's deprecation of the ``copy`` keyword pyspark 4.3 still passes
    (results are unchanged). Otherwise they would land in a run's warnings. Only inside this
    context: the filters are not left installed in the user's process."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="toPandas attempted Arrow optimization")
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                                category=FutureWarning)
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated",
                                category=DeprecationWarning)
        yield


class _InterruptRecords(logging.Filter):
    """Drops the records py4j logs, with their traceback, when Ctrl-C stops a call into the
    JVM: "KeyboardInterrupt while sending command." (root logger) and the broken connection
    that follows it (``py4j.clientserver``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, KeyboardInterrupt):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


INTERRUPT_LOGGERS = ("", "py4j.java_gateway", "py4j.clientserver")


@contextmanager
def quiet_interrupt() -> Iterator[None]:
    """Ctrl-C during a Spark job reaches the user as the command's one line ("Interrupted:
    ..."), not also as py4j's logged tracebacks. Only inside this context."""
    dropped = _InterruptRecords()
    loggers = [logging.getLogger(name) for name in INTERRUPT_LOGGERS]
    for logger in loggers:
        logger.addFilter(dropped)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(dropped)


def check_java() -> None:
    """Spark's local mode and drivers need a Java runtime (17)."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.path.exists(os.path.join(java_home, "bin", "java")):
        return
    if shutil.which("java") is None:
        raise PluginError(
            "the spark engine needs Java 17 and none was found (no `java` on PATH, no "
            "JAVA_HOME); install it, e.g. Debian's openjdk-17-jre-headless")


def check_master(master: str, timeout: float) -> None:
    """Fail fast when no ``spark://`` master (the active one or a standby) or Spark Connect
    server answers, instead of hanging in retries."""
    try:
        addresses = master_addresses(master)
    except ValueError as exc:
        raise ConfigError(f"Spark master {master} is not a master URL: {exc}") from None
    failures = []
    for host, port in addresses:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return
        except OSError as exc:
            failures.append(exc.strerror or str(exc))
    if failures:
        raise PluginError(
            f"Spark master {master} is unreachable ({failures[0]}); check the URL "
            f"(--spark-master or [predict.options] master) and that the cluster is up")


def check_cluster_config(master: str) -> None:
    """``yarn`` finds its cluster through the Hadoop configuration folder, as spark-submit
    requires; without it Spark fails after its start-up with a Java trace."""
    if master.split("://")[0] != "yarn" or os.environ.get("HADOOP_CONF_DIR") \
            or os.environ.get("YARN_CONF_DIR") or _spark_env_sets_hadoop_conf():
        return
    raise ConfigError(
        "master 'yarn' needs the cluster's Hadoop configuration and neither HADOOP_CONF_DIR "
        "nor YARN_CONF_DIR is set; set one to the folder holding yarn-site.xml and "
        "core-site.xml (the cluster's edge nodes have it), or give another master")


def _spark_env_sets_hadoop_conf() -> bool:
    """Whether Spark's own ``spark-env.sh`` (which its launcher reads) sets the folder."""
    folders = [os.environ.get("SPARK_CONF_DIR"),
               os.path.join(os.environ["SPARK_HOME"], "conf") if os.environ.get("SPARK_HOME")
               else None]
    for folder in filter(None, folders):
        path = Path(folder) / "spark-env.sh"
        try:
            text = path.read_text(errors="replace") if path.is_file() else ""
        except OSError:
            continue
        if "HADOOP_CONF_DIR=" in text or "YARN_CONF_DIR=" in text:
            return True
    return False


def start_error(master: str, error: BaseException) -> PluginError:
    """Why a session did not start, in one sentence: a ``spark://`` address that answered
    but never registered the application (another service's port, such as the master's web
    UI), or the first line of Spark's error."""
    text = str(error)
    if master.startswith("spark://") and "stopped SparkContext" in text:
        return PluginError(
            f"Spark master {master} accepted the connection but did not register the "
            "application (Spark gave up after its retries, about a minute): the port may be "
            "another service's (a standalone master listens on 7077 by default; 8080 is its "
            "web UI), or the master has failed; check the URL (--spark-master or "
            "[predict.options] master) and the master's log")
    first = text.strip().splitlines()[0][:300] if text.strip() else type(error).__name__
    return PluginError(f"Spark could not start (master {master}): {first}")


def _builder(params: SparkParams) -> Any:
    from pyspark.sql import SparkSession

    if params.master.startswith("sc://"):
        builder = SparkSession.builder.remote(params.master)
    else:
        builder = (SparkSession.builder.master(params.master)
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false"))
    if params.master.startswith("local"):
        # one machine: bind to loopback (a cluster's executors must reach the driver's own
        # address, so these are left to Spark there), and log errors only
        builder = (builder.config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.driver.extraJavaOptions",
                           f"-Dlog4j2.configurationFile={LOG4J2.as_uri()}"))
    # the job's settings (JOB_SETTINGS, maxRecordsPerBatch) are set for each job
    # (job_settings): the session stays running, with only the user's config, after it
    builder = builder.appName(params.app_name)
    for key, value in params.config.items():
        builder = builder.config(key, value)
    return builder


def record_bound(value: Any) -> int | None:
    """A ``maxRecordsPerBatch`` setting as a number of records; None for none, for one Spark
    reads as no bound (0 or less) and for one that is no whole number (Spark refuses it)."""
    try:
        records = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return records if records > 0 else None


def running_session(params: SparkParams) -> Any:
    """The classic Spark session already running in this process (a notebook's, a
    service's), to be used as it is; None where there is none, and for Spark Connect.
    ``getOrCreate`` would return the session too, but would first set the builder's settings
    on it for good: the notebook's time zone would become UTC. Where ``master`` names another
    master than the session's, a ConfigError: Spark runs one session per process, and
    ``getOrCreate`` would hand back this one, not start the master asked for."""
    if params.master.startswith("sc://"):
        return None
    try:
        from pyspark.sql import SparkSession

        session = SparkSession.active()
        master = session.sparkContext.master
    except Exception:  # none running (NO_ACTIVE_OR_DEFAULT_SESSION), or no pyspark
        return None
    if "master" in params.model_fields_set and master != params.master:
        raise ConfigError(
            f"the spark engine's master is {params.master}, but a Spark session with master "
            f"{master} is already running in this process, and Spark runs one session per "
            "process: leave `master` out to score on the running session, or stop it first "
            "(SparkSession.active().stop())")
    return session


def get_session(params: SparkParams) -> Any:
    """A Spark session for these params, started within ``startup_timeout_s``."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise PluginError("pyspark is not installed; `pip install mlstat-spark` brings it") \
            from None
    if not params.master.startswith("sc://"):
        check_java()
    check_master(params.master, params.connect_timeout_s)
    check_cluster_config(params.master)
    # workers start `python3` from PATH unless told otherwise: use this interpreter
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    result: dict[str, Any] = {}

    def start() -> None:
        try:
            result["session"] = _builder(params).getOrCreate()
        except Exception as exc:  # reported below, in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=start, daemon=True)
    with quiet_pyspark():  # Spark Connect's client checks pandas as it is imported
        thread.start()
        thread.join(params.startup_timeout_s)
    if thread.is_alive():
        raise PluginError(f"Spark did not start within {params.startup_timeout_s:.0f} s "
                          f"(master {params.master}); raise startup_timeout_s or check the "
                          "cluster")
    if "error" in result:
        raise start_error(params.master, result["error"])
    session = result["session"]
    if not params.master.startswith("sc://"):
        session.sparkContext.setLogLevel("ERROR")
    return session
