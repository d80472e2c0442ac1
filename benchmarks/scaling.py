"""Local engine against the Spark engine on production volumes of coding records.

    python benchmarks/scaling.py [--records 2000000] [--master local[2]] [--out FILE.json]
                                 [--spark-writer auto|arrow|spark] [--model NAME]
                                 [--param KEY=VALUE ...] [--distinct] [--outputs NAME,...]

Trains `coding.tfidf_logreg` on the bundled ECOICOP data, writes N product names (the real
names, cycled) with an id to Parquet, and scores them with each engine in a fresh process.
Reports, per engine: scoring seconds and records/s (Spark's session start-up is reported
apart; "marginal" records/s divides the extra records of the large input by the extra time,
which removes fixed costs such as loading the model), the peak memory of the Python driver at
two input sizes (it must not grow with the number of records), and whether the two outputs are
identical record for record. All of it twice: with the model's whole output (61 proba_<code>
columns among 75) and without the probabilities (`mlstat predict --no-probabilities`).
``--spark-writer spark`` measures Spark's own Parquet writer instead of the default (on a local
master the Python workers write the output with pyarrow).

``--model`` and ``--param`` (a TOML value) train another model, for example
``--model coding.linear_svm --param sentence_encoder='"use-multilingual"'``. ``--distinct``
appends the record number to every name: a model that encodes each distinct text once per
chunk (the sentence encoder) would otherwise be timed on a third of the work.
``--outputs without_probabilities`` measures one kind of output only; ``--row-group N`` cuts the
input into Parquet row groups of N records, so that a small input still makes one Spark
partition per core or more.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import pandas as pd

from mlstat_core.errors import MlstatError

ROW_GROUP = 100_000  # records per Parquet row group of the input, by default


def train(workdir: Path, model: str, params: dict) -> Path:
    import mlstat_core

    result = mlstat_core.run({
        "pipeline": {"name": "scaling", "task": "text_classification", "seed": 0},
        "loader": {"component": "coding.ecoicop_pl"},
        "split": {"component": "core.stratified", "test_size": 0.15, "validation_size": 0.15},
        "model": {"component": model, **params},
        "indicators": ["core.classification_accuracy"],
        "output": {"dir": str(workdir / "runs")},
    })
    return result.run_dir


def make_input(workdir: Path, records: int, distinct: bool = False,
               row_group: int = ROW_GROUP) -> Path:
    from mlstat_coding.loaders import ECOICOP_FILE, data_file

    names = pd.read_csv(data_file(ECOICOP_FILE))["product"].astype(str)
    repeats = -(-records // len(names))
    products = pd.concat([names] * repeats, ignore_index=True).iloc[:records]
    if distinct:
        products = products + " " + pd.Series(range(records)).astype(str)
    frame = pd.DataFrame({"item": [f"r{i:08d}" for i in range(records)],
                          "product": products.to_numpy()})
    path = workdir / f"input_{records}.parquet"
    frame.to_parquet(path, index=False, row_group_size=row_group)
    return path


# 1 MB splits: every input, the small one included, is cut into several partitions (Parquet
# row groups of 100,000 records, about 1.2 MB), so both engines' sizes keep all cores busy
SPLITS = {"spark.sql.files.maxPartitionBytes": "1m", "spark.sql.files.openCostInBytes": "1m"}

def splits(source: Path) -> dict[str, str]:
    """Spark's split settings: SPLITS, or, for an input of smaller row groups, splits of about
    one row group each."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(source).metadata
    if meta.num_row_groups < 2 or meta.row_group(0).num_rows >= ROW_GROUP:
        return SPLITS
    size = str(max(1, source.stat().st_size // meta.num_row_groups))
    return {"spark.sql.files.maxPartitionBytes": size, "spark.sql.files.openCostInBytes": size}


PEAK_MB = """
def peak_mb():
    # VmHWM: this process's own peak resident memory (ru_maxrss would include the parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""


def score_in_subprocess(run_dir: Path, source: Path, output: Path, engine: str,
                        master: str, probabilities: bool, writer: str = "auto") -> dict:
    code = f"""
import json, time
from mlstat_core.predict import predict_file
options = {{"master": {master!r}, "config": SPLITS, "writer": {writer!r}}} \\
    if {engine!r} == "spark" else {{}}
start = time.perf_counter()
s = predict_file({str(run_dir)!r}, {str(source)!r}, {str(output)!r}, chunk_size=50_000,
                 engine={engine!r}, engine_options=options, id_column="item",
                 probabilities={probabilities!r})
total = time.perf_counter() - start
startup = s.details.get("startup_seconds", 0.0)
print(json.dumps({{"records": s.records, "total_seconds": total, "startup_seconds": startup,
                  "scoring_seconds": total - startup, "writer": s.details.get("writer"),
                  "driver_peak_mb": peak_mb()}}))
"""
    code = PEAK_MB + f"SPLITS = {splits(source)!r}\n" + code
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def identical(a: Path, b: Path) -> dict:
    left = pd.read_parquet(a).sort_values("record_id").reset_index(drop=True)
    right = pd.read_parquet(b).sort_values("record_id").reset_index(drop=True)
    same_ids = bool((left["record_id"] == right["record_id"]).all())
    same_codes = bool((left["prediction"].astype(str) == right["prediction"].astype(str)).all())
    diff = float((left["confidence"] - right["confidence"]).abs().max())
    try:
        pd.testing.assert_frame_equal(left, right, check_dtype=False)
        same_all = True
    except AssertionError:
        same_all = False
    return {"same_records": same_ids, "same_predictions": same_codes,
            "max_confidence_difference": diff, "same_every_column": same_all}


def throughput(small: dict, large: dict, extra: int) -> dict:
    """Records/s overall and marginal (extra records / extra seconds: fixed costs removed),
    and the fixed cost itself: scoring seconds of the small input less its records at the
    marginal rate (worker start, imports, model loading, job set-up)."""
    marginal = extra / max(1e-9, large["scoring_seconds"] - small["scoring_seconds"])
    return {
        "records_per_s_overall": large["records"] / large["scoring_seconds"],
        "records_per_s_marginal": marginal,
        "session_startup_seconds": large["startup_seconds"],
        "fixed_seconds": small["scoring_seconds"] - small["records"] / marginal,
        "end_to_end_seconds": large["total_seconds"],
        "driver_peak_mb_small": small["driver_peak_mb"],
        "driver_peak_mb_large": large["driver_peak_mb"],
    }


# the model's whole output (61 proba_<code> columns among 75) and the lean output of
# production scoring (`mlstat predict --no-probabilities`: id, code, confidence, top codes, route)
OUTPUTS = {"with_probabilities": True, "without_probabilities": False}


def compare(run_dir: Path, sources: dict[int, Path], workdir: Path, args: argparse.Namespace,
            probabilities: bool) -> dict:
    """Both engines on both input sizes with one kind of output: times, memory, equality."""
    results: dict = {}
    for size, source in sources.items():
        outputs = {e: workdir / f"{e}_{size}_{probabilities}.parquet" for e in ("local", "spark")}
        results[str(size)] = {
            engine: score_in_subprocess(run_dir, source, outputs[engine], engine, args.master,
                                        probabilities, args.spark_writer)
            for engine in ("local", "spark")}
        results[str(size)]["equality"] = identical(outputs["local"], outputs["spark"])
    small, large = results[str(args.small)], results[str(args.records)]
    extra = args.records - args.small
    results["throughput"] = {engine: throughput(small[engine], large[engine], extra)
                             for engine in ("local", "spark")}
    local_rate = results["throughput"]["local"]["records_per_s_marginal"]
    spark_rate = results["throughput"]["spark"]["records_per_s_marginal"]
    results["targets"] = {
        "spark_throughput_at_least_local": spark_rate >= local_rate,
        "spark_end_to_end_at_most_local": large["spark"]["total_seconds"]
        <= large["local"]["total_seconds"],
        "identical_predictions": all(results[str(n)]["equality"]["same_predictions"]
                                     and results[str(n)]["equality"]["same_records"]
                                     for n in sources),
        "driver_peak_growth_mb": large["spark"]["driver_peak_mb"]
        - small["spark"]["driver_peak_mb"],
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--small", type=int, default=200_000,
                        help="a second, smaller size to show driver memory does not grow")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--spark-writer", choices=("auto", "arrow", "spark"), default="auto",
                        help="who writes Spark's output: Python workers (arrow) or the JVM")
    parser.add_argument("--model", default="coding.tfidf_logreg")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a model param, its value in TOML (repeatable)")
    parser.add_argument("--distinct", action="store_true",
                        help="every product name made distinct (its record number appended)")
    parser.add_argument("--row-group", type=int, default=ROW_GROUP,
                        help="records per Parquet row group of the input (Spark's partitions "
                             "follow them: a small input needs small ones to use every core)")
    parser.add_argument("--outputs", default=",".join(OUTPUTS),
                        help=f"which outputs to measure, of {', '.join(OUTPUTS)}")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    params = {}
    for param in args.param:
        key, sep, value = param.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError("not KEY=VALUE")
            params[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            parser.error(f"--param {param}: {exc}; write KEY=VALUE with the value in TOML, "
                         "e.g. C=10 or sentence_encoder='\"use-multilingual\"'")
    if not 0 < args.small < args.records:
        parser.error(f"--small {args.small} and --records {args.records}: 0 < small < records "
                     "(the marginal throughput divides their difference)")
    if args.row_group < 1:
        parser.error(f"--row-group {args.row_group}: at least 1")
    outputs = [o.strip() for o in args.outputs.split(",") if o.strip()]
    if not outputs or set(outputs) - set(OUTPUTS):
        parser.error(f"--outputs: choose among {', '.join(OUTPUTS)}")
    with tempfile.TemporaryDirectory(prefix="mlstat-scaling-") as tmp:
        workdir = Path(tmp)
        start = time.perf_counter()
        try:
            run_dir = train(workdir, args.model, params)
        except MlstatError as exc:
            parser.error(f"--model {args.model}: {exc}")
        results: dict = {"model": args.model, "params": params,
                         "train_seconds": time.perf_counter() - start,
                         "records": args.records, "distinct_names": args.distinct,
                         "master": args.master, "spark_writer": args.spark_writer}
        sources = {size: make_input(workdir, size, args.distinct, args.row_group)
                   for size in (args.small, args.records)}
        for output in outputs:
            results[output] = compare(run_dir, sources, workdir, args, OUTPUTS[output])
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
