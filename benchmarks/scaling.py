"""Local engine against the Spark engine on production volumes of coding records.

    python benchmarks/scaling.py [--records 2000000] [--master local[2]] [--out FILE.json]

Trains `coding.tfidf_logreg` on the bundled ECOICOP data, writes N product names (the real
names, cycled) with an id to Parquet, and scores them with each engine in a fresh process.
Reports, per engine: scoring seconds and records/s (Spark's session start-up is reported
apart; "marginal" records/s divides the extra records of the large input by the extra time,
which removes fixed costs such as loading the model), the peak memory of the Python driver at
two input sizes (it must not grow with the number of records), and whether the two outputs are
identical record for record.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def train(workdir: Path) -> Path:
    import mlstat_core

    result = mlstat_core.run({
        "pipeline": {"name": "scaling", "task": "text_classification", "seed": 0},
        "loader": {"component": "coding.ecoicop_pl"},
        "split": {"component": "core.stratified", "test_size": 0.15, "validation_size": 0.15},
        "model": {"component": "coding.tfidf_logreg"},
        "indicators": ["core.classification_accuracy"],
        "output": {"dir": str(workdir / "runs")},
    })
    return result.run_dir


def make_input(workdir: Path, records: int) -> Path:
    from mlstat_coding.loaders import ECOICOP_FILE, data_file

    names = pd.read_csv(data_file(ECOICOP_FILE))["product"].astype(str)
    repeats = -(-records // len(names))
    products = pd.concat([names] * repeats, ignore_index=True).iloc[:records]
    frame = pd.DataFrame({"item": [f"r{i:08d}" for i in range(records)],
                          "product": products.to_numpy()})
    path = workdir / f"input_{records}.parquet"
    frame.to_parquet(path, index=False, row_group_size=100_000)
    return path


PEAK_MB = """
def peak_mb():
    # VmHWM: this process's own peak resident memory (ru_maxrss would include the parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""


def score_in_subprocess(run_dir: Path, source: Path, output: Path, engine: str,
                        master: str) -> dict:
    code = f"""
import json, time
from mlstat_core.predict import predict_file
options = {{"master": {master!r}, "config": {{"spark.sql.files.maxPartitionBytes": "4m"}}}} \
    if {engine!r} == "spark" else {{}}
start = time.perf_counter()
s = predict_file({str(run_dir)!r}, {str(source)!r}, {str(output)!r}, chunk_size=50_000,
                 engine={engine!r}, engine_options=options, id_column="item")
total = time.perf_counter() - start
startup = s.details.get("startup_seconds", 0.0)
print(json.dumps({{"records": s.records, "total_seconds": total, "startup_seconds": startup,
                  "scoring_seconds": total - startup,
                  "driver_peak_mb": peak_mb()}}))
"""
    code = PEAK_MB + code
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
    return {"same_records": same_ids, "same_predictions": same_codes,
            "max_confidence_difference": diff}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--small", type=int, default=200_000,
                        help="a second, smaller size to show driver memory does not grow")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlstat-scaling-") as tmp:
        workdir = Path(tmp)
        start = time.perf_counter()
        run_dir = train(workdir)
        results: dict = {"train_seconds": time.perf_counter() - start,
                         "records": args.records, "master": args.master}
        for size in (args.small, args.records):
            source = make_input(workdir, size)
            local = score_in_subprocess(run_dir, source, workdir / f"local_{size}.parquet",
                                        "local", args.master)
            spark = score_in_subprocess(run_dir, source, workdir / f"spark_{size}.parquet",
                                        "spark", args.master)
            results[str(size)] = {
                "local": local, "spark": spark,
                "equality": identical(workdir / f"local_{size}.parquet",
                                      workdir / f"spark_{size}.parquet")}
        small, large = results[str(args.small)], results[str(args.records)]
        extra = args.records - args.small
        results["throughput"] = {
            engine: {
                "records_per_s_overall": large[engine]["records"]
                / large[engine]["scoring_seconds"],
                "records_per_s_marginal": extra / max(1e-9, large[engine]["scoring_seconds"]
                                                      - small[engine]["scoring_seconds"]),
                "startup_seconds": large[engine]["startup_seconds"],
                "driver_peak_mb_small": small[engine]["driver_peak_mb"],
                "driver_peak_mb_large": large[engine]["driver_peak_mb"],
            } for engine in ("local", "spark")}
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
