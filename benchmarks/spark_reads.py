"""How often the Spark engine reads its input, and how long a job takes.

    python benchmarks/spark_reads.py [--records 1000000] [--format parquet|csv]
                                     [--engine-file OLD_ENGINE.py]

Trains `coding.tfidf_logreg` on the bundled ECOICOP data (as benchmarks/scaling.py does),
writes N product names with an id as Parquet (or CSV), and scores them on Spark `local[2]`
without probabilities in a fresh process, with scaling.py's 1 MB splits. Reports the job's
seconds, the records Spark's stages read (its status store: a read of the input counts one
per record, a read of the records the engine keeps for the job one per kept batch), the bytes
Hadoop's local file system read, and the driver's peak memory. ``--engine-file`` runs another
version of ``mlstat_spark/engine.py`` (say, ``git show HEAD~1:...`` saved to a file) in its
place, to compare two versions on the same input and the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import scaling  # noqa: E402

MEASURE = """
import json, time
from pyspark import SparkContext
from mlstat_core.predict import predict_file
start = time.perf_counter()
s = predict_file(RUN, SOURCE, OUTPUT, engine="spark", id_column="item", probabilities=False,
                 engine_options={"master": "local[2]", "config": SPLITS})
total = time.perf_counter() - start
context = SparkContext._active_spark_context
jvm, spark = context._jvm, context._jsc.sc()
spark.listenerBus().waitUntilEmpty()
stages = spark.statusStore().stageList(jvm.java.util.ArrayList(), False, False,
                                       context._gateway.new_array(jvm.double, 0),
                                       jvm.java.util.ArrayList())
stages = [stages.apply(i) for i in range(stages.size())]
local = [st for st in jvm.org.apache.hadoop.fs.FileSystem.getAllStatistics()
         if st.getScheme() == "file"]
print(json.dumps({"records": s.records, "total_seconds": round(total, 1),
                  "startup_seconds": round(s.details["startup_seconds"], 1),
                  "records_read": sum(st.inputRecords() for st in stages),
                  "local_file_mb_read": round(sum(st.getBytesRead() for st in local) / 1e6, 1),
                  "driver_peak_mb": round(peak_mb())}))
"""

REPLACE_ENGINE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("mlstat_spark.engine", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["mlstat_spark.engine"] = module
spec.loader.exec_module(module)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--engine-file", type=Path,
                        help="another version of mlstat_spark/engine.py to run in its place")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlstat-spark-reads-") as tmp:
        workdir = Path(tmp)
        run_dir = scaling.train(workdir, "coding.tfidf_logreg", {})
        source = scaling.make_input(workdir, args.records)
        if args.format == "csv":
            import pandas as pd

            pd.read_parquet(source).to_csv(source.with_suffix(".csv"), index=False)
            source = source.with_suffix(".csv")
        code = (REPLACE_ENGINE.format(path=str(args.engine_file.absolute()))
                if args.engine_file else "") + scaling.PEAK_MB \
            + f"RUN, SOURCE, OUTPUT = {str(run_dir)!r}, {str(source)!r}, " \
              f"{str(workdir / 'out.parquet')!r}\nSPLITS = {scaling.SPLITS!r}\n" + MEASURE
        load = os.getloadavg()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            raise SystemExit(f"spark failed:\n{proc.stderr[-3000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result.update(format=args.format, input_mb=round(source.stat().st_size / 1e6, 1),
                      engine_file=str(args.engine_file or "installed"),
                      load_before=[round(x, 2) for x in load],
                      load_after=[round(x, 2) for x in os.getloadavg()])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
