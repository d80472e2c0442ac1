"""The Spark engine: read, score partitions with ``mapInPandas``, write Parquet.

Nothing is collected on the driver but a schema sample, label counts, one summary per
partition (record count and drift counts) or, with Spark's writer, a bounded drift sample: the
driver's memory does not grow with the number of records.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pandas as pd

from mlstat_core.components import Engine, Model
from mlstat_core.errors import ConfigError, DataError, MlstatError
from mlstat_core.io import home_path, is_url, iter_table, table_format
from mlstat_core.predict import (
    DEFAULT_CHUNK_SIZE,
    PredictSummary,
    ScoringJob,
    drift_accumulator,
    finish_summary,
    id_column_of,
    numbering_note,
    require_input_columns,
)
from mlstat_spark.params import SparkParams
from mlstat_spark.session import (
    JOB_LOCK,
    JOB_SETTINGS,
    MAX_RECORDS_PER_BATCH,
    get_session,
    quiet_interrupt,
    quiet_pyspark,
    record_bound,
    running_session,
)
from mlstat_spark.worker import (
    ROW_COLUMN,
    WRITTEN_SCHEMA,
    make_scorer,
    part_name,
    scored_partition,
    with_names,
)

_ARROW_KIND = {"int64": "long", "int32": "long", "double": "double", "float": "double",
               "bool": "boolean"}


BLANK_LINES_NOTE = ("Spark's CSV reader skips blank lines: in a file of one column they are "
                    "not records here, while the local engine scores each as an empty text; "
                    "give the file an id column to match records safely")


def _spark_type(kind: str) -> Any:
    from pyspark.sql import types as T

    return {"long": T.LongType(), "double": T.DoubleType(), "boolean": T.BooleanType(),
            "string": T.StringType()}[kind]


def output_schema(sample: pd.DataFrame) -> tuple[list[str], dict[str, str], Any]:
    """Columns, their kinds and the Spark schema of predictions, from a scored sample."""
    import pyarrow as pa
    from pyspark.sql import types as T

    table = pa.Table.from_pandas(sample, preserve_index=False)
    kinds = {f.name: _ARROW_KIND.get(str(f.type), "string") for f in table.schema}
    columns = list(kinds)
    schema = T.StructType([T.StructField(c, _spark_type(kinds[c]), True) for c in columns])
    return columns, kinds, schema


def integers_as_text(df: Any, text: dict[str, Any]) -> Any:
    """``df`` with its integer columns that are read as text (``text``: the job's
    :meth:`~mlstat_core.predict.ScoringJob.read_dtypes`, an id column say) cast to strings by
    Spark: Arrow gives pandas a long column with a gap as float64, which keeps 16 digits, so
    19-digit ids came out rounded, and as floats, where the local engine writes them whole."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    integral = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)
    cast = {f.name for f in df.schema.fields
            if f.name in text and isinstance(f.dataType, integral)}
    if not cast:
        return df
    quoted = {f.name: F.col("`" + f.name.replace("`", "``") + "`") for f in df.schema.fields}
    return df.select([quoted[name].cast("string").alias(name) if name in cast
                      else quoted[name] for name in df.columns])


def pandas_schema(sample: pd.DataFrame) -> Any:
    """A Spark read schema that types CSV columns as pandas does for the local engine."""
    from pyspark.sql import types as T

    fields = []
    for column, dtype in sample.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            kind: Any = T.BooleanType()
        elif pd.api.types.is_integer_dtype(dtype):
            kind = T.LongType()
        elif pd.api.types.is_float_dtype(dtype):
            kind = T.DoubleType()
        else:
            kind = T.StringType()
        fields.append(T.StructField(str(column), kind, True))
    return T.StructType(fields)


_WORKER_ERROR = re.compile(r"^mlstat_core\.errors\.(\w+): (.+)$", re.MULTILINE)
_MALFORMED = re.compile(r"Malformed records are detected in record parsing: (\[.*?\])")
_BAD_VALUE = re.compile(r"For input string: (\"[^\"]*\")")
_UNREADABLE = re.compile(r"\[FAILED_READ_FILE[.\w]*\] Encountered error while reading file "
                         r"(?:file:(?://(?=/))?)?(\S+?)\.(?:\s|$)([^\n]*)")
_COLON_PATH = re.compile(r"URISyntaxException: Relative path in absolute URI: ([^\n]+)")
_CRASHED = "Python worker exited unexpectedly (crashed)"


def worker_error(exc: Exception, what: str = "the input",
                 locate: Callable[[], Exception | None] | None = None) -> Exception:
    """The user's mistake out of the Java and Python traces Spark wraps it in: an mlstat error
    a Python worker raised (bad values, a changed model file), a file Spark cannot read (cut
    short, not of its format, a name with ':'), a Python worker that died (killed for
    memory), or a CSV record that does not parse with the column types. For the last,
    ``locate`` (when given) finds the column and data row of the value (see
    :func:`mlstat_spark.values.locate_unfit_value`); where it finds nothing, the record is
    named by its values. Any other failure as it is."""
    from mlstat_core import errors

    message = str(exc)
    found = _WORKER_ERROR.findall(message)
    kind = getattr(errors, found[-1][0], None) if found else None
    if isinstance(kind, type) and issubclass(kind, errors.MlstatError):
        return kind(f"{found[-1][1]} (raised on a Spark worker)")
    malformed = _MALFORMED.search(message)
    if malformed:
        located = locate() if locate is not None else None
        if located is not None:
            return located
        value = _BAD_VALUE.search(message)
        detail = f"the value {value.group(1)} in record {malformed.group(1)}" if value \
            else f"record {malformed.group(1)}"
        return errors.DataError(
            f"{what}: {detail} does not fit the column types read from its first records, or "
            "has fewer or more fields than the header (a record cut short, or written with "
            "another field separator); correct it (Spark reads only empty CSV fields as "
            "missing, not NA or n/a), or give the input as Parquet; the local engine (without "
            "--engine spark) names the column and the data row of a value that is no number")
    unreadable = _UNREADABLE.search(message)
    if unreadable:
        reason = re.sub(r"\s*SQLSTATE: \w+\.?", "", unreadable.group(2))
        reason = reason.split(". Please")[0].strip().rstrip(".")
        causes = re.findall(r"Caused by: [\w.$]+: ([^\n]+)", message)
        reason = reason or (causes[-1].strip()[:200] if causes else "")
        return errors.DataError(
            f"{what}: Spark could not read the file {unreadable.group(1)}"
            f"{f' ({reason[:1].lower()}{reason[1:]})' if reason else ''}; check that it is "
            "complete and of its format (a file cut short by a failed copy, say)")
    if "[UNABLE_TO_INFER_SCHEMA]" in message:
        return errors.DataError(f"{what}: Spark finds no data files to read there: {NO_DATA}")
    colon = _COLON_PATH.search(message)
    if colon:
        return errors.DataError(f"{what}: Spark cannot read the file {colon.group(1)}: Hadoop "
                                "paths do not allow ':' in file names; rename it")
    if _CRASHED in message:
        return errors.PluginError(
            "a Spark Python worker exited unexpectedly while scoring (killed, as the system "
            "does for lack of memory, or crashed). If memory is short, "
            "lower batch_size or give the executors more memory (config "
            "spark.executor.memory, spark.executor.pyspark.memory)")
    return exc


@contextmanager
def user_errors(what: str, locate: Callable[[], Exception | None] | None = None
                ) -> Iterator[None]:
    """Spark's failures that come from the user's data as one mlstat error (``worker_error``,
    with ``locate`` for a CSV value that does not fit its column), wherever the job fails:
    the driver's sample, the scoring job or the checks after it."""
    try:
        yield
    except MlstatError:
        raise
    except Exception as exc:
        if interrupted(exc):
            # Ctrl-C reaches Spark's JVM too (one process group): the call into it that was
            # interrupted then fails to reach it, and that failure hid the interruption
            raise KeyboardInterrupt from None
        if jvm_gone(exc):
            from mlstat_core.errors import PluginError

            raise PluginError("Spark's JVM stopped during the job (it was killed, or ran out of "
                              "memory: see spark.driver.memory); nothing was written, run the "
                              "job again") from None
        raise worker_error(exc, what, locate) from None


def interrupted(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt lies in the exceptions ``exc`` was raised while handling."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def jvm_gone(exc: BaseException) -> bool:
    """Whether the driver lost its connection to Spark's JVM (py4j's network error)."""
    try:
        from py4j.protocol import Py4JNetworkError
    except ImportError:
        return False
    return isinstance(exc, Py4JNetworkError)


def to_pandas(df: Any) -> pd.DataFrame:
    """``df.toPandas()``, quietly (``quiet_pyspark``)."""
    with quiet_pyspark():
        return df.toPandas()


def check_input(path: str, input_format: str = "auto") -> None:
    """A local input that does not exist, named before Spark starts (a URL or a catalog table
    is left to Spark: only it can reach them)."""
    if input_format == "table" or is_url(path):
        return
    if not Path(path).exists():
        raise DataError(f"input {path} does not exist; check the path given to --input")
    spark_path(path)  # a name Spark cannot read
    if Path(path).is_dir() and not holds_data(Path(path)):
        unfinished = (Path(path) / "_temporary").exists()
        raise DataError(f"input {path} is a folder without data files (Spark skips names "
                        f"starting with _ or .): {NO_DATA}"
                        f"{' (it holds only _temporary)' if unfinished else ''}")


NO_DATA = ("an empty folder, or the output of a job that failed or has not finished; check "
           "that the job writing it succeeded")


def holds_data(folder: Path) -> bool:
    """Whether Spark finds a file to read in ``folder`` or its partition folders: it skips
    names starting with ``.`` or ``_`` (``_SUCCESS``, a killed job's ``_temporary``), but
    not partition folders such as ``_year=2026``."""
    def skipped(name: str) -> bool:
        return name.startswith(".") or (name.startswith("_") and "=" not in name)

    for _, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not skipped(name)]
        if any(not skipped(name) for name in files):
            return True
    return False


def check_csv_values(job: ScoringJob) -> None:
    """Spark's CSV reader has no decimal comma and one missing-value code: a model whose
    loader read its training file with them cannot have new CSV files read alike there."""
    how = [f"decimal {job.decimal!r}"] if job.decimal != "." else []
    how += [f"na_values {job.na_values}"] if job.na_values else []
    if how:
        raise DataError(f"the model's training file was read with {' and '.join(how)}, which "
                        "Spark's CSV reader cannot do alike; give the input as Parquet with "
                        "those columns as numbers, or score it with the local engine")


def check_writer(writer: str, output: Path | str) -> None:
    """``writer = 'arrow'`` with a URL output, named before Spark starts: the workers write
    with their own file system, which cannot reach a URL."""
    if writer == "arrow" and is_url(output):
        raise ConfigError(f"writer = 'arrow' writes with each executor's file system and "
                          f"cannot write to {output}; use writer = 'spark' for a URL")


def check_output_name(output: Path | str) -> None:
    """The engine writes a Parquet folder: an output named like a CSV, TSV or Excel file
    would hold Parquet under that name (and replace such a file), so it is refused."""
    suffix = Path(str(output)).suffix.lower()
    if suffix in (".csv", ".tsv", ".txt", ".xlsx", ".xls"):
        raise ConfigError(f"the spark engine writes a Parquet folder, not a {suffix} file: give "
                          f"--output a path ending .parquet (for example "
                          f"{Path(str(output)).with_suffix('.parquet').name}), or score with "
                          "the local engine to write CSV")


def dataset_file(name: str) -> bool:
    """Whether a file of this name belongs to a Parquet dataset Spark or the workers wrote:
    a part file, Spark's markers (``_SUCCESS``, ``_committed_*``, ``_started_*``) or a
    hidden ``.crc`` checksum; a user's ``_notes.txt`` does not."""
    return name.startswith(("part-", "_committed_", "_started_")) or name == "_SUCCESS" \
        or (name.startswith(".") and name.endswith(".crc"))


def check_replaceable(output: Path) -> None:
    """An existing output folder is replaced only when it is a Parquet dataset (part files,
    Spark's markers and ``.crc`` checksums): anything else is never deleted."""
    if not output.is_dir():
        return
    foreign = [p.name for p in output.iterdir() if p.is_dir() or not dataset_file(p.name)]
    if foreign:
        raise DataError(f"output {output} is a folder holding other files "
                        f"({', '.join(sorted(foreign)[:3])}); give a new path for the "
                        "predictions")


def partial_folder(output: Path) -> Path:
    """The hidden folder a job writes ``output`` into, beside it and of its own
    (``.NAME.<host>.<pid>-<random>.partial``, as the local engine names its temporary
    files): two jobs writing one output never share it, and a task of a failed or
    interrupted job that is still running cannot write into the next job's folder."""
    from mlstat_core.io import partial_path

    return partial_path(output)


def sweep_partial_folders(output: Path) -> None:
    """Remove the partial folders in ``output``'s folder that jobs of this machine left when
    they were killed outright (their pid is no longer running), whatever output they were
    writing (production outputs carry a date in their name, so that a leftover is seldom
    written to again), and the one earlier versions named ``.NAME.partial``; those of
    running jobs and of other machines stay."""
    from mlstat_core.io import PARTIAL, dead_process_leftovers, host_tag

    legacy = output.with_name(f".{output.name}{PARTIAL}")
    if legacy.is_symlink() or (legacy.exists() and not legacy.is_dir()):
        legacy.unlink()  # the local engine's temporary file of that name, from a killed run
    shutil.rmtree(legacy, ignore_errors=True)
    host = host_tag()
    name = rf"\..+\.{re.escape(host)}\.(\d+)-[0-9a-f]{{8}}{re.escape(PARTIAL)}"
    for leftover in dead_process_leftovers(output.parent, f".*.{host}.*{PARTIAL}", name):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)


@contextmanager
def partial_output(output: Path | str) -> Iterator[str]:
    """Where a job writes: a hidden partial folder of its own beside a local ``output``
    (``partial_folder``), renamed to ``output`` only when the job succeeds (an interrupted
    run leaves nothing that looks complete); a URL is written in place (Spark's committer
    makes it whole or absent). A local path is made absolute: Spark's JVM and its Python
    workers resolve a relative one against their own working folder, which need not be the
    caller's (a notebook or service that changed folder since the session started)."""
    if isinstance(output, str):
        yield output
        return
    output = home_path(output).absolute()
    check_replaceable(output)
    sweep_partial_folders(output)
    tmp = partial_folder(output)
    tmp.mkdir(parents=True)
    try:
        yield str(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if output.is_symlink() or (output.exists() and not output.is_dir()):
        output.unlink()  # a link is replaced, never its target's files
    elif output.is_dir():
        shutil.rmtree(output)
    tmp.rename(output)


def check_parts(folder: Path, reported: dict[int, int]) -> int:
    """The records the workers wrote into ``folder`` (``partition -> records`` as they
    reported them), once every partition with records has its part file there, as the
    driver sees it, holding as many records. Executors without a file system shared with the
    driver write onto their own disks: the driver would otherwise publish an empty output."""
    import pyarrow.parquet as pq

    def records_in(path: Path) -> int | None:
        try:
            return pq.read_metadata(path).num_rows if path.is_file() else None
        except (OSError, ValueError):  # unreadable: as good as missing
            return None

    wrong = [part_name(partition) for partition, rows in sorted(reported.items())
             if rows and records_in(folder / part_name(partition)) != rows]
    if wrong:
        raise DataError(f"the driver does not find the records the workers wrote in "
                        f"{len(wrong)} part file(s) (first {wrong[0]}): writer = 'arrow' "
                        "needs an output folder every executor can reach (a shared file "
                        "system); use writer = 'spark'")
    return sum(reported.values())


def with_row_numbers(df: Any, keep: bool = True) -> tuple[Any, Any]:
    """Number records in read order (what the local engine calls a record without an id),
    with JVM expressions only: per-partition counts plus monotonically increasing ids. With
    ``keep`` the records are kept (``persist``, memory then local disk) from the counting
    pass on, so that the passes after it (the range sample of ``partitions``, scoring, the
    id and label checks) read them there, not the input again (a CSV file parsed each time).
    Returns the numbered records and the kept ones, for the caller to ``unpersist``: None
    where nothing is kept (Databricks serverless has no cache APIs), each pass then reading
    the input."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    marked = df.withColumn("__mono", F.monotonically_increasing_id()) \
        .withColumn("__pid", F.spark_partition_id())
    kept = None
    if keep:
        with suppress(Exception):  # Spark Connect asks the server at once, which may refuse
            kept = marked.persist(StorageLevel.MEMORY_AND_DISK)
    marked = kept if kept is not None else marked
    try:
        counts = dict(marked.groupBy("__pid").count().collect())
    except BaseException:  # a bad record, a dead worker, Ctrl-C: nothing may stay kept
        if kept is not None:
            with suppress(Exception):
                kept.unpersist()
        raise
    offsets, total = [], 0
    for pid in range(max(counts, default=-1) + 1):
        offsets.append(total)
        total += counts.get(pid, 0)
    if not offsets:
        row = F.lit(0).cast("long")
    else:
        offset = F.element_at(F.array(*[F.lit(o) for o in offsets]), F.col("__pid") + 1)
        local = F.col("__mono") - F.shiftleft(F.col("__pid").cast("long"), 33)
        row = (offset + local).cast("long")
    return marked.withColumn(ROW_COLUMN, row).drop("__mono", "__pid"), kept


def spark_path(path: str) -> str:
    """A local input path as Spark must be given it: absolute (Spark's JVM resolves a
    relative one against its own working folder, which need not be the caller's) and with
    the characters Spark reads as a pattern (``[ ] { } * ?``) escaped, so that
    ``new[1].csv`` is that file and not ``new1.csv``. A path holding ``:`` is refused: Hadoop
    paths cannot name such a file."""
    absolute = home_path(path).absolute()
    if any(":" in part for part in absolute.parts[1:]):
        raise DataError(f"input {path}: Spark cannot read a local path holding ':' (Hadoop "
                        "paths do not allow it); rename or copy the file, or score it with "
                        "the local engine")
    text = str(absolute)
    if os.sep == "/":
        text = re.sub(r"([\\\[\]{}*?])", r"\\\1", text)
    return text


def quoted_line_break(path: str | Path, encoding: str = "utf-8",
                      block: int = 1 << 24) -> int | None:
    """The line of a CSV file where a quoted value first holds a line break (counting from
    1), or None when none does. Read in blocks of bytes with numpy: a line break lies inside
    quotes when an odd number of quote characters precede it (RFC 4180: a quote inside a
    quoted value is doubled). An encoding whose bytes for ``"`` and the line break are not
    the ASCII ones (UTF-16, UTF-32) is not checked (None)."""
    import numpy as np

    try:
        if '"\n'.encode(encoding) != b'"\n':
            return None
    except LookupError:
        return None
    inside, lines = False, 0
    with open(path, "rb") as stream:
        while buffer := stream.read(block):
            data = np.frombuffer(buffer, dtype=np.uint8)
            quotes = np.flatnonzero(data == ord('"'))
            if not len(quotes) and not inside:
                lines += int(np.count_nonzero(data == ord("\n")))
                continue
            breaks = np.flatnonzero(data == ord("\n"))
            odd = (np.searchsorted(quotes, breaks) + inside) % 2 == 1
            if odd.any():
                return lines + int(np.argmax(odd)) + 1
            lines += len(breaks)
            inside = bool((len(quotes) + inside) % 2)
    return None


def multiline_note(line: int) -> str:
    return (f"the input has a line break inside a quoted value (first on line {line:,}): "
            "Spark reads such a CSV file whole in one task, not split across the cores "
            "(set partitions to spread the scoring); give Parquet to read it in parallel")


def in_order(df: Any, partitions: int) -> Any:
    """``df`` (numbered: ``ROW_COLUMN``) in ``partitions`` partitions that keep the records'
    order: partition 0 holds the first records, and each partition its records in read
    order, so the output (its part files read in turn) lists the records in input order, as
    the local engine does. Spark's ``repartition`` deals records round-robin and would
    shuffle them. Ranges of the row numbers are sampled to balance the partitions."""
    return df.repartitionByRange(partitions, ROW_COLUMN).sortWithinPartitions(ROW_COLUMN)


def quoted(column: str) -> str:
    """A column name as Spark resolves it literally: a dot in ``note.x`` is no field of a
    struct ``note``."""
    return "`" + column.replace("`", "``") + "`"


def positional_names(df: Any) -> tuple[Any, list[str] | None]:
    """``df`` with its columns renamed ``_c0``, ``_c1``... where a name holds a dot or a
    backtick (``mapInPandas`` resolves each column by its bare name, so ``note.x``, or the
    ``income.1`` pandas reads a repeated header as, failed the job), and the names to give
    back to each partition; ``df`` itself and None where every name is plain."""
    names = list(df.columns)
    if not any("." in c or "`" in c for c in names):
        return df, None
    return df.toDF(*[f"_c{i}" for i in range(len(names))]), names


def id_warnings(df: Any, column: str, cli: bool = True) -> list[str]:
    """The local engine's warnings for records that repeat an earlier record's id and for
    records without one (``DuplicateIds``), from one aggregation of the numbered records
    (``ROW_COLUMN``) on Spark: only a handful of figures reach the driver. Ids are compared
    as text, as the local engine reads them; the example of a repeated id is the one whose
    first record comes first."""
    from pyspark.sql import functions as F

    from mlstat_core.predict import DuplicateIds

    value = F.col(quoted(column))
    blank = value.isNull() | value.cast("string").rlike(r"(?U)^\s*$")
    key = F.when(blank, F.lit(None)).otherwise(value.cast("string"))
    groups = df.select(key.alias("key"), F.col(ROW_COLUMN).alias("row")) \
        .groupBy("key").agg(F.count(F.lit(1)).alias("n"), F.min("row").alias("first"))
    repeated = F.col("key").isNotNull() & (F.col("n") > 1)
    row = groups.agg(
        F.sum(F.when(F.col("key").isNull(), F.col("n"))).alias("missing"),
        F.min(F.when(F.col("key").isNull(), F.col("first"))).alias("first_missing"),
        F.sum(F.when(repeated, F.col("n") - 1)).alias("repeated"),
        F.min_by(F.col("key"), F.when(repeated, F.col("first"))).alias("example"),
    ).collect()[0]
    ids = DuplicateIds()
    ids.column = column
    ids.missing = int(row["missing"] or 0)
    if ids.missing:
        ids.first_missing = f"data row {int(row['first_missing']) + 1:,}"
    ids.repeated = int(row["repeated"] or 0)
    ids.example = row["example"]
    return ids.warnings(cli)


class SparkEngine(Engine):
    """Scores with ``mapInPandas`` on ``local[*]`` or a cluster; same predictions as local."""

    params: SparkParams

    def __init__(self, params: SparkParams | None = None) -> None:
        super().__init__(params or SparkParams())
        self._session: Any = None
        self._notes: list[str] = []  # about the last input read
        self._numbered: Any = None  # the last input, its records numbered (ROW_COLUMN)
        self._kept: Any = None  # the last input's records as kept by Spark (with_row_numbers)
        self._locate: Callable[[], Exception | None] | None = None  # see _csv_locator
        self._found = False  # the session was running already (a notebook's): see job_settings
        self._found_batch: int | None = None  # its maxRecordsPerBatch, where set by hand

    @property
    def session(self) -> Any:
        """The Spark session: one already running in this process, used as it is (its own
        settings untouched but for each job's, see :meth:`job_settings`), else a new one."""
        if self._session is None:
            found = running_session(self.params)
            if found is not None:
                self._found = True
                self._found_batch = record_bound(found.conf.get(MAX_RECORDS_PER_BATCH, None))
            self._session = found if found is not None else get_session(self.params)
        return self._session

    # -- reading -------------------------------------------------------------------------

    def read(self, job: ScoringJob) -> Any:
        fmt = self._input_format(job)
        if fmt == "table":
            return integers_as_text(self.session.table(job.input), job.read_dtypes())
        local = not is_url(job.input)
        path = spark_path(job.input) if local else job.input
        if fmt == "parquet":
            return integers_as_text(self.session.read.parquet(path), job.read_dtypes())
        if fmt == "csv":
            # the first chunk only: the driver never holds the whole input
            sample = next(iter_table(job.input, 10_000, encoding=job.encoding, sep=job.sep,
                                     dtype=job.read_dtypes(), cli=job.cli), None) \
                if local else None
            if sample is not None:
                require_input_columns(sample, job.input_columns, what=f"input {job.input}",
                                      cli=job.cli)
            sep = job.sep or ("\t" if str(job.input).lower().endswith(".tsv") else ",")
            # quotes inside quoted values are doubled ("" as pandas and RFC 4180 write
            # them), not escaped with a backslash, which Spark expects by default
            reader = self.session.read.option("header", True).option("encoding", job.encoding)\
                .option("sep", sep).option("mode", "FAILFAST").option("escape", '"')
            broken = quoted_line_break(job.input, job.encoding) if local else None
            if broken is not None:
                # a value spanning lines: read line by line, Spark would cut the record in
                # two (a one-column file gains records; others fail)
                reader = reader.option("multiLine", True)
                self._notes.append(multiline_note(broken))
            if sample is not None:
                schema = pandas_schema(sample)
                reader = reader.schema(schema)
                self._locate = self._csv_locator(job, schema, len(sample))
            else:
                reader = reader.option("inferSchema", True)
            return reader.csv(path)
        raise DataError(f"the spark engine reads CSV, Parquet or a table, not {fmt}")

    def _csv_locator(self, job: ScoringJob, schema: Any, typed_from: int
                     ) -> Callable[[], Exception | None]:
        """What finds, on the driver, the value of a local CSV input that does not fit the
        column types Spark reads it with (``schema``, from its first ``typed_from`` records):
        called only when Spark fails on such a record (``worker_error``)."""
        from mlstat_spark.values import locate_unfit_value

        kinds = {f.name: f.dataType.typeName() for f in schema.fields}
        kinds = {c: {"integer": "long"}.get(k, k) for c, k in kinds.items()}
        inputs = set(job.input_columns)
        text = set(job.read_dtypes())

        def locate() -> Exception | None:
            return locate_unfit_value(
                job.input, kinds, what=f"input {job.input}",
                numeric_inputs={c for c in inputs if c not in text},
                model_columns=inputs, chunk_size=job.chunk_size, encoding=job.encoding,
                sep=job.sep, dtype=job.read_dtypes(), typed_from=typed_from)

        return locate

    # -- batches ---------------------------------------------------------------------------

    def batch_records(self, chunk_size: int) -> int:
        """Records handed to the model at a time on each Python worker: the chunk size
        (``--chunk-size``, ``[predict] chunk_size``), which bounds them on every engine, and
        at most ``batch_size``: Spark scores one batch per core at once, so that the memory
        a batch takes counts once per core of an executor. A
        ``spark.sql.execution.arrow.maxRecordsPerBatch`` given in the engine's ``config``
        (tuned for executor memory, say), or set by hand on a session the engine found
        running, bounds them too: the smallest wins."""
        bounds = [int(chunk_size), self.params.batch_size]
        configured = self.configured_batch()
        if configured is not None:
            bounds.append(configured[0])
        return max(1, min(bounds))

    def configured_batch(self) -> tuple[int, str] | None:
        """The smallest ``spark.sql.execution.arrow.maxRecordsPerBatch`` set by the user, as
        a number of records, and where it was set: in the engine's ``config``, or on the
        session the engine found running (read when the session was first used). None where
        neither sets a bound."""
        bounds = [(records, where) for records, where in (
            (record_bound(self.params.config.get(MAX_RECORDS_PER_BATCH)),
             "in the spark engine's config"),
            (self._found_batch, "in the running Spark session")) if records is not None]
        return min(bounds) if bounds else None

    def batch_notes(self, chunk_size: int, cli: bool = True) -> list[str]:
        """What the summary says when one bound of the batches lowered the other where the
        user set it: a chunk size (other than the default) above ``batch_size``, or a
        ``batch_size`` given above the chunk size. ``cli``: name ``mlstat predict``'s options,
        else :func:`~mlstat_core.predict.predict_file`'s arguments."""
        batch = self.batch_records(chunk_size)
        chunk = "--chunk-size" if cli else "chunk_size"
        notes = []
        configured = self.configured_batch()
        if configured is not None and configured[0] < min(int(chunk_size),
                                                           self.params.batch_size):
            records, where = configured
            lowered = (f"the chunk size ({chunk} {chunk_size:,})"
                       if chunk_size <= self.params.batch_size
                       else f"the spark engine's batch_size ({self.params.batch_size:,})")
            notes.append(f"{MAX_RECORDS_PER_BATCH} = {records:,} {where} is below "
                         f"{lowered}: each Python worker scored {records:,} records at a "
                         "time; for larger batches raise or remove that setting")
            return notes
        if chunk_size > batch and chunk_size != DEFAULT_CHUNK_SIZE:
            option = (f"--engine-option batch_size={chunk_size}" if cli
                      else f"engine_options={{'batch_size': {chunk_size}}}")
            notes.append(f"{chunk} {chunk_size:,} is above the spark engine's batch_size "
                         f"({self.params.batch_size:,}): each Python worker scored "
                         f"{batch:,} records at a time, one batch per core at once; for "
                         f"larger batches raise batch_size too ({option})")
        if "batch_size" in self.params.model_fields_set and self.params.batch_size > batch:
            notes.append(f"batch_size {self.params.batch_size:,} is above the chunk size "
                         f"({chunk} {chunk_size:,}), which bounds the records scored at a "
                         f"time on every engine: each Python worker scored {batch:,} at a "
                         f"time; for larger batches raise {chunk} too")
        return notes

    @contextmanager
    def job_settings(self, records: int) -> Iterator[None]:
        """The session's settings for one job, restored after it (a session may be shared,
        in a notebook or a service): Spark hands ``mapInPandas`` batches of at most
        ``records`` (``spark.sql.execution.arrow.maxRecordsPerBatch``), through Arrow, with
        times in UTC (:data:`~mlstat_spark.session.JOB_SETTINGS`); on a session the engine
        found running, the runtime settings of the engine's ``config`` too. Batches never
        span partitions, so they hold at most ``records`` and start anew at each partition:
        a record scores the same in any batch (``Model.batch_dependence`` names the models
        that do not, and ``mlstat predict`` warns of them). ``records`` comes from
        :meth:`batch_records`, which keeps a bound the user set. Jobs of one process run one
        at a time (:data:`JOB_LOCK`): two at once would each set, then restore, the one
        session's settings under the other."""
        conf = self.session.conf
        runtime, _fixed = self._found_config()
        settings = {**runtime, **JOB_SETTINGS, MAX_RECORDS_PER_BATCH: str(records)}
        with JOB_LOCK:  # the settings are the session's: jobs of other threads wait
            before = {key: conf.get(key, None) for key in settings}
            for key, value in settings.items():
                conf.set(key, value)
            try:
                yield
            finally:
                for key, value in before.items():
                    with suppress(Exception):  # the JVM stopped: nothing to restore
                        if value is None:
                            conf.unset(key)
                        else:
                            conf.set(key, value)

    def _found_config(self) -> tuple[dict[str, str], list[str]]:
        """The engine's ``config`` for a session it found running: the settings Spark lets a
        running session change (set for each job), and the names of those it fixes when it
        starts (memory, cores, ...), which cannot apply unless the session started with
        them (an earlier job's engine with the same config started it). Nothing for a session
        the engine started, which has them all; ``maxRecordsPerBatch`` is a bound
        (:meth:`batch_records`)."""
        if not self._found:
            return {}, []
        conf = self.session.conf
        given = {k: v for k, v in self.params.config.items() if k != MAX_RECORDS_PER_BATCH}
        runtime = {k: v for k, v in given.items() if conf.isModifiable(k)}
        started = self.session.sparkContext.getConf()  # what the session started with
        return runtime, [k for k, v in given.items()
                         if k not in runtime and started.get(k, None) != str(v)]

    def found_session_notes(self) -> list[str]:
        """What the summary says of settings in the engine's ``config`` that a session found
        running cannot take (Spark fixes them when it starts: memory, cores, ...)."""
        _runtime, fixed = self._found_config()
        return [f"the Spark session running in this process was used as it is: "
                f"{', '.join(fixed)} in the spark engine's config take(s) effect only in a "
                "session the engine starts; set them where that session is started"] \
            if fixed else []

    # -- scoring -------------------------------------------------------------------------

    def _scored(self, df: Any, model: Model, job_files: dict[str, tuple[bytes, str]],
                factory: str, what: str, steps: list[tuple[str, str, Any]],
                id_column: str | None = None, probabilities: bool = True,
                write_to: str | None = None, drift_profile: dict[str, Any] | None = None,
                task: Any = None, model_name: str = "the model", keep: bool = False) -> Any:
        """The scored DataFrame: predictions, or with ``write_to`` the per-partition counts
        of predictions the workers wrote there. ``keep``: Spark keeps the numbered records
        for the job's later passes (``with_row_numbers``)."""
        from mlstat_core.sklearn_model import require_columns

        # every column of the records reaches the model, as with the local engine: a model
        # may read more than its input columns (the imagery models' row and col)
        require_columns(pd.DataFrame(columns=df.columns),
                        model.roles.input_columns() if model.roles else [], what=what)
        # ROW_COLUMN: score_frame numbered the records itself. Otherwise every record is
        # numbered in read order, ids or not: the model gets these numbers as the index, as
        # the local engine gives it each record's number in the file (a model may draw by
        # it, as editimpute.pmm picks donors; messages name data rows by it), and they keep
        # the records' order when repartitioned (``in_order``)
        if id_column != ROW_COLUMN:
            id_column = id_column_of(df.columns, model, id_column)
            df, self._kept = with_row_numbers(df, keep)
        self._numbered = df
        sample = to_pandas(df.limit(50))  # before repartitioning: no shuffle for 50 records
        if self.params.partitions:
            df = in_order(df, self.params.partitions)
        if sample.empty:
            raise DataError(f"{what} has no records")
        columns, kinds, schema = output_schema(
            scored_partition(sample, model, id_column, probabilities, task, model_name))
        scorer = make_scorer(self._ship(job_files), factory, id_column, columns, kinds, steps,
                             probabilities, write_to, self.params.parquet_dictionary,
                             drift_profile, task, model_name)
        df, names = positional_names(df)
        if names:
            scorer = with_names(scorer, names)
        with quiet_pyspark():
            return df.mapInPandas(scorer, WRITTEN_SCHEMA if write_to else schema)

    def _ship(self, files: dict[str, tuple[bytes, str]]) -> Any:
        """Broadcast the model's files where Spark has broadcast variables (classic clusters);
        on Spark Connect, which has none, they travel inside the function."""
        try:
            context = self.session.sparkContext
        except Exception:  # Spark Connect: no sparkContext
            return files
        return context.broadcast(files)

    def score_file(self, job: ScoringJob) -> PredictSummary:
        start = time.perf_counter()
        self._notes = []
        self._locate = None
        # before Spark's start-up (seconds)
        check_input(job.input, self.params.input_format)
        if self._reads_csv(job):
            check_csv_values(job)
        check_output_name(job.output_url or job.output)
        check_writer(self.params.writer, job.output_url or job.output)
        try:
            # entered first: an output folder that may not be replaced fails before Spark starts
            with quiet_interrupt(), partial_output(job.output_url or job.output) as target:
                _ = self.session
                startup = time.perf_counter() - start
                batch = self.batch_records(job.chunk_size)
                with user_errors(f"input {job.input}", self._located), \
                        self.job_settings(batch):
                    df = self.read(job)
                    arrow = self._arrow_writes(target)
                    # the workers that write also count every record for the drift check
                    drift = drift_accumulator(job.folder) if self.params.drift_sample else None
                    scored = self._scored(df, job.model, job.model_files(), job.model_factory,
                                          f"input {job.input}", job.step_factories,
                                          job.id_column, job.probabilities,
                                          write_to=target if arrow else None,
                                          drift_profile=drift.profile if arrow and drift
                                          else None, task=job.task, model_name=job.model_name,
                                          keep=self._reads_csv(job))
                    rows = self._write_arrow(scored, Path(target), drift) if arrow else \
                        self._write_spark(scored, target)
            # a CSV input: from the records Spark kept (with_row_numbers), not parsed again
            with user_errors(f"input {job.input}", self._located), self.job_settings(batch):
                unseen = self._unseen(self._numbered, job.model)
                column = id_column_of(df.columns, job.model, job.id_column)
                repeats = id_warnings(self._numbered, column, job.cli) if column else []
                drift_result = (drift.result() if arrow else
                                self._drift(self._numbered, job, drift)) \
                    if drift is not None else None
        finally:
            self._release()
            self._locate = None
        seconds = time.perf_counter() - start
        summary = finish_summary(job, rows, seconds, unseen, drift_result, "spark.spark",
                                 {"startup_seconds": startup, "master": self.params.master,
                                  "scoring_seconds": seconds - startup,
                                  "writer": "arrow" if arrow else "spark",
                                  "batch_size": batch})
        if id_column_of(df.columns, job.model, job.id_column) is None:
            summary.notes.append(numbering_note(job.model, job.cli))
            if len(df.columns) == 1 and self._reads_csv(job):
                summary.notes.append(BLANK_LINES_NOTE)
        summary.warnings += repeats
        summary.notes += (self._notes + self.batch_notes(job.chunk_size, job.cli)
                          + self.found_session_notes())
        return summary

    def _located(self) -> Exception | None:
        """The error naming the column and data row of a CSV value Spark could not read
        (``_csv_locator``); None for an input read otherwise."""
        return self._locate() if self._locate is not None else None

    def _release(self) -> None:
        """Free the records Spark kept for the job (memory and local disk), whether it
        succeeded or not; a JVM that is gone has nothing left to free."""
        kept, self._kept, self._numbered = self._kept, None, None
        if kept is None:
            return
        with suppress(Exception):  # the JVM stopped: its cache went with it
            kept.unpersist()

    def _input_format(self, job: ScoringJob) -> str:
        """``table``, ``parquet``, ``csv`` (or another format, refused by ``read``): the
        setting, else the file's suffix; a URL is Parquet when it ends in .parquet or /."""
        fmt = self.params.input_format
        if fmt != "auto":
            return fmt
        if is_url(job.input):
            return "parquet" if job.input.endswith((".parquet", "/")) else "csv"
        return table_format(Path(job.input))

    def _reads_csv(self, job: ScoringJob) -> bool:
        return self._input_format(job) == "csv"

    def _arrow_writes(self, target: str) -> bool:
        """Whether Python workers write the output (see ``SparkParams.writer``)."""
        writer = self.params.writer
        check_writer(writer, target)
        if writer == "auto":
            return not is_url(target) and self.params.master.startswith("local") \
                and self._running_master().startswith("local")
        return writer == "arrow"

    def _running_master(self) -> str:
        """The master of the session in use: ``getOrCreate`` may have returned an existing
        cluster session (a Databricks notebook) whatever ``master`` says."""
        try:
            return str(self.session.sparkContext.master)
        except Exception:  # Spark Connect: no sparkContext, a remote cluster
            return ""

    def _write_arrow(self, scored: Any, folder: Path, drift: Any = None) -> int:
        """Run the job whose workers write the part files into ``folder``; their record
        counts, summed and checked against the part files the driver sees there
        (``check_parts``), and their drift counts added to ``drift``. ``_SUCCESS`` then marks
        the folder complete, as Spark's writer does."""
        import json

        reported: dict[int, int] = {}
        for part, count, state in scored.collect():
            reported[int(part)] = reported.get(int(part), 0) + int(count)
            if drift is not None and state:
                drift.add(json.loads(state))
        records = check_parts(folder, reported)
        (folder / "_SUCCESS").touch()  # what schedulers and downstream jobs wait for
        return records

    def _write_spark(self, scored: Any, target: str) -> int:
        writer = scored.write.option("parquet.enable.dictionary",
                                     str(self.params.parquet_dictionary).lower())
        writer.mode("errorifexists" if is_url(target) else "overwrite").parquet(target)
        return self.session.read.parquet(target if is_url(target) else spark_path(target))\
            .count()

    def _unseen(self, df: Any, model: Model) -> dict[str, int]:
        roles = model.roles
        if roles is None or not roles.target or roles.target not in df.columns:
            return {}
        classes = {str(c) for c in (model.classes_ or [])}
        counts = df.groupBy(quoted(roles.target)).count().collect()
        return {str(label): int(n) for label, n in counts
                if label is not None and str(label) not in classes}

    def _drift(self, df: Any, job: ScoringJob, accumulator: Any) -> dict[str, Any]:
        """The drift check on the first ``drift_sample`` records (Spark's writer)."""
        columns = [c for c in job.input_columns if c in df.columns]
        accumulator.update(to_pandas(df.select(*map(quoted, columns))
                                     .limit(self.params.drift_sample)))
        result = accumulator.result()
        result["note"] = f"computed on the first {self.params.drift_sample:,} records"
        return result

    def score_frame(self, model: Model, frame: pd.DataFrame, chunk_size: int) -> pd.DataFrame:
        """Score an in-memory frame on Spark (the predict step of ``mlstat run``)."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="mlstat-spark-") as tmp:
            model.save(Path(tmp))
            from mlstat_core.artifacts import sha256_file

            files = {p.relative_to(tmp).as_posix(): (p.read_bytes(), sha256_file(p))
                     for p in sorted(Path(tmp).rglob("*")) if p.is_file()}
        from mlstat_core.preprocess import Preprocessed

        def factory_of(obj: Any) -> str:
            return f"{type(obj).__module__}:{type(obj).__qualname__}"

        steps: list[tuple[str, str, Any]] = []
        inner = model
        if isinstance(model, Preprocessed):
            inner = model.inner
            steps = [(name, factory_of(step), type(step.params)) for name, step in model.steps]
        factory = factory_of(inner)
        # every column, as the local engine's score_frame passes them; the output is led by
        # the row numbers (not the model's id column), which put the predictions back in order
        data = frame.copy()
        data.insert(0, ROW_COLUMN, range(len(frame)))
        with quiet_interrupt(), user_errors("the test records"):
            _ = self.session  # first: a running session's own batch bound counts
            with self.job_settings(self.batch_records(chunk_size)):
                with quiet_pyspark():
                    df = self.session.createDataFrame(data)
                scored = self._scored(df, model, files, factory, "the test records", steps,
                                      id_column=ROW_COLUMN)
                result = to_pandas(scored)
        for note in self.found_session_notes():  # the run's warnings
            warnings.warn(note, stacklevel=2)
        order = result.pop("record_id").to_numpy()
        result.index = frame.index[order]
        result = result.loc[frame.index]
        return result
