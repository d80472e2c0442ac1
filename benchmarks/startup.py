"""Wall-clock start-up of `mlstat --help` and `mlstat plugins` (target: under 0.5 s each).

    python benchmarks/startup.py [--repeat 10]

Prints the median and worst of each command and which heavy modules a discovery imports.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(cmd: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat {args.repeat}: at least 1")
    here = Path(sys.prefix) / "bin" / "mlstat"  # this Python's mlstat first, not another on PATH
    exe = str(here) if here.exists() else shutil.which("mlstat")
    if exe is None:
        parser.error(f"no mlstat command beside {sys.executable} nor on PATH; install mlstat "
                     "(pip install -e .) in this Python's environment")
    results = {}
    for name, cmd in (("help", [exe, "--help"]), ("plugins", [exe, "plugins"])):
        times = timed(cmd, args.repeat)
        results[name] = {"median_s": round(statistics.median(times), 3),
                         "max_s": round(max(times), 3)}
    probe = ("import sys, json; from mlstat_core.registry import discover; r = discover(); "
             "print(json.dumps({'plugins': sorted(r.plugins), 'heavy': sorted(m for m in "
             "('torch','torchgeo','sklearn','pandas','pyspark') if m in sys.modules)}))")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True).stdout
    results["discovery"] = json.loads(out)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
