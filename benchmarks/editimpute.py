"""Benchmark of imputation on the UK budget data: mlstat's editimpute methods against peers.

    python benchmarks/editimpute.py --out FILE.json [--data PATH] [--scale 1000000]
                                    [--banff-venv /tmp/banffenv]

Scenarios: 15% of income, totexp, wfood, wfuel missing completely at random (seed 0), and at
random depending on totexp. Per method and variable: NRMSE (RMSE / SD of the true values) and
KS distance on the imputed cells; per method: share of records passing every edit, seconds.
Peers are keyed ``peer_*``; mlstat's methods by component name. Banff (GPL, needs pyarrow<19 and
duckdb<2) runs as a subprocess from a separate venv (``--banff-venv``; with ``--install-banff``
the script creates it with pip when absent, the one step that downloads), data passed through
files; when it cannot run, the JSON says why and how to make it run. ``detection``:
recall of injected unit errors against the share of records flagged. ``--scale N`` replicates
the data with noise to N records and times the best mlstat method end to end (fit + predict),
with peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from mlstat_editimpute import models as M  # noqa: E402
from mlstat_editimpute.inject import inject_errors  # noqa: E402
from mlstat_editimpute.params import BUDGET_RULES  # noqa: E402
from mlstat_editimpute.rules import RuleSet  # noqa: E402
from scipy.stats import ks_2samp  # noqa: E402

from mlstat_core.components import ColumnRoles, Dataset  # noqa: E402

TARGETS = ["income", "totexp", "wfood", "wfuel"]
DATA = Path(__file__).resolve().parents[1] / "plugins/mlstat-editimpute/mlstat_editimpute/data"


def scenarios(clean: pd.DataFrame) -> dict[str, pd.DataFrame]:
    mcar = inject_errors(clean, [{"kind": "mcar", "variables": TARGETS, "rate": 0.15}], 0)
    mar = inject_errors(clean, [{"kind": "mar", "variables": TARGETS, "rate": 0.15,
                                 "depends_on": "totexp", "strength": 2.0}], 0)
    return {"mcar": mcar.frame, "mar": mar.frame}


def peers() -> dict:
    from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingRegressor
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
    from sklearn.linear_model import BayesianRidge
    from sklearn.preprocessing import StandardScaler

    def sk(imp):
        return lambda X: pd.DataFrame(imp.fit_transform(X), columns=X.columns, index=X.index)

    def knn(X):
        s = StandardScaler().fit(X)
        Z = KNNImputer(n_neighbors=5).fit_transform(s.transform(X))
        return pd.DataFrame(s.inverse_transform(Z), columns=X.columns, index=X.index)

    def gbm(X):
        out = X.copy()
        for v in TARGETS:
            rows = X[v].isna()
            m = HistGradientBoostingRegressor(max_iter=100, random_state=0)
            feats = X.drop(columns=[v])
            m.fit(feats[~rows], X.loc[~rows, v])
            out.loc[rows, v] = m.predict(feats[rows])
        return out

    return {
        "peer_median": sk(SimpleImputer(strategy="median")),
        "peer_knn": knn,
        "peer_iterative_bayesridge": sk(IterativeImputer(BayesianRidge(), max_iter=10,
                                                        random_state=0)),
        "peer_iterative_extratrees": sk(IterativeImputer(
            ExtraTreesRegressor(n_estimators=50, min_samples_leaf=3, random_state=0, n_jobs=1),
            max_iter=5, random_state=0)),
        "peer_gbm": gbm,
    }


def mlstat_methods() -> dict:
    off = {"detect": False, "correct_units": False, "rules": BUDGET_RULES}
    return {
        "editimpute.pmm": lambda: M.PmmModel(M.P.PmmParams(**off)),
        "editimpute.gbm": lambda: M.GbmModel(M.P.GbmParams(**off)),
        "editimpute.donor": lambda: M.DonorModel(M.P.DonorParams(**off)),
        "editimpute.ratio": lambda: M.RatioModel(M.P.RatioParams(**off)),
        "editimpute.regression": lambda: M.RegressionModel(M.P.RegressionParams(**off)),
    }


def score(clean, damaged, filled, rules: RuleSet) -> dict:
    out = {"variables": {}}
    for v in TARGETS:
        cells = damaged[v].isna()
        t, q = clean.loc[cells, v].to_numpy(float), filled.loc[cells, v].to_numpy(float)
        out["variables"][v] = {
            "nrmse": float(np.sqrt(np.mean((q - t) ** 2)) / clean[v].std(ddof=0)),
            "ks": float(ks_2samp(q, t).statistic)}
    env = {c: filled[c].to_numpy(float) for c in filled.columns}
    ok, _ = rules.evaluate(env, len(filled))
    out["edit_pass_share"] = float(ok.all(axis=1).mean())
    return out


BANFF_SCRIPT = r"""
import json, sys, time
import banff, pandas as pd
data_in, status_in, data_out, info_out = sys.argv[1:5]
df = pd.read_csv(data_in)
status = pd.read_csv(status_in)
shares = "wfood + wfuel + wcloth + walc + wtrans + wother"
common = ("wfood >= 0.02; wfood <= 1; wfuel <= 1; wcloth >= 0; walc >= 0; wtrans >= 0; "
          "wother >= 0; totexp >= 10; income >= 10; totexp <= 4 * income;")
edits = f"{shares} <= 1.01; {shares} >= 0.99; " + common
post = f"{shares} <= 1.3; {shares} >= 0.7; " + common
t = time.perf_counter()
d = banff.donorimp(unit_id="ident", edits=edits, post_edits=post, indata=df, instatus=status,
                   seed=1, n=20, random=True, min_donors=1, percent_donors=1, trace=False,
                   capture=True)
imputed = d.outdata.to_pandas().set_index("ident")
full = df.set_index("ident")
full.update(imputed)
ids = d.outstatus.to_pandas()
p = banff.prorate(unit_id="ident", edits=f"{shares} = one;", method="BASIC", decimal=4,
                  modifier="IMPUTED", indata=full.reset_index().assign(one=1.0),
                  instatus=ids, trace=False, capture=True)
full.update(p.outdata.to_pandas().set_index("ident").drop(columns=["one"], errors="ignore"))
seconds = time.perf_counter() - t
full.reset_index().to_csv(data_out, index=False)
json.dump({"seconds": seconds, "banff": getattr(banff, "__version__", "3.1.3"),
           "recipients": int(status["ident"].nunique()),
           "imputed_records": int(len(imputed)),
           "prorated_records": int(len(p.outdata)),
           "rejected_by_prorate": int(len(p.outreject)) if p.outreject is not None else 0},
          open(info_out, "w"))
"""
"""DonorImp (edits: the linear budget rules, the balance within +-0.01; post-imputation
edits: the same with the balance relaxed to +-0.3), then Prorate of the imputed shares to
the balance, as a Banff process would run it."""


def banff_python(path: str, install: bool = False) -> tuple[str | None, str | None]:
    """The Python of a venv holding banff 3.1.3 (pyarrow<19, duckdb<2), created if absent and
    ``install``; (None, why) when there is none."""
    python = Path(path) / "bin" / "python"
    check = [str(python), "-c", "import banff"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return str(python), None
    if not install:
        return None, (f"no venv with banff at {path}; pass --install-banff to create it there "
                      "(pip install banff==3.1.3 'pyarrow<19' 'duckdb<2'), or --banff-venv "
                      "DIR naming one")
    steps = [[sys.executable if not shutil.which("python3.11") else "python3.11", "-m", "venv",
              path],
             [str(python), "-m", "pip", "install", "-q", "banff==3.1.3", "pyarrow<19",
              "duckdb<2"]]
    for cmd in steps:
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{' '.join(cmd[:4])} failed: {exc}"
        if res.returncode != 0:
            return None, f"{' '.join(cmd[:4])} failed: {(res.stderr or res.stdout)[-500:]}"
    if subprocess.run(check, capture_output=True).returncode != 0:
        return None, "banff installed but does not import"
    return str(python), None


def run_banff(python: str | None, why: str | None, damaged: pd.DataFrame
              ) -> tuple[pd.DataFrame | None, dict]:
    if python is None:
        return None, {"error": f"banff not run: {why}"}
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        frame = damaged.copy()
        frame.insert(0, "ident", [f"R{i:07d}" for i in range(len(frame))])
        status = [{"ident": frame["ident"].iat[i], "FIELDID": v, "STATUS": "FTI"}
                  for v in TARGETS for i in np.flatnonzero(frame[v].isna().to_numpy())]
        frame.to_csv(t / "in.csv", index=False)
        pd.DataFrame(status).to_csv(t / "status.csv", index=False)
        (t / "run.py").write_text(BANFF_SCRIPT)
        start = time.perf_counter()
        res = subprocess.run([python, str(t / "run.py"), str(t / "in.csv"),
                              str(t / "status.csv"), str(t / "out.csv"), str(t / "info.json")],
                             capture_output=True, text=True, timeout=900)
        wall = time.perf_counter() - start
        if res.returncode != 0:
            return None, {"error": "banff failed: " + (res.stderr or res.stdout)[-800:]}
        out = pd.read_csv(t / "out.csv").drop(columns=["ident"])[list(damaged.columns)]
        info = json.loads((t / "info.json").read_text())
    left = int(out[TARGETS].isna().sum().sum())
    return out, {"procedure_seconds": info.pop("seconds"), "subprocess_seconds": wall,
                 "cells_left_missing": left, **info}


def replicate(clean: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` records: the data set repeated, income and total expenditure multiplied by
    lognormal noise (sd 5%) and rounded to tens as reported, shares kept (they must still add
    up to 1)."""
    rng = np.random.default_rng(seed)
    reps = int(np.ceil(n / len(clean)))
    big = pd.concat([clean] * reps, ignore_index=True).iloc[:n].copy()
    for v in ["totexp", "income"]:
        big[v] = np.round(big[v] * rng.lognormal(0, 0.05, n), -1).clip(10)
    big["totexp"] = np.minimum(big["totexp"], 4 * big["income"])
    return big


def scale_test(clean: pd.DataFrame, n: int) -> dict:
    """Fit and impute ``n`` records (15% MCAR in the four targets) with the best mlstat method,
    end to end; peak memory is the process's maximum resident set."""
    big = replicate(clean, n)
    damaged = inject_errors(big, [{"kind": "mcar", "variables": TARGETS, "rate": 0.15}], 0).frame
    del big
    ds = Dataset(damaged, ColumnRoles(features=list(clean.columns)),
                 metadata={"variables": _infos()})
    model = M.PmmModel(M.P.PmmParams(detect=False, correct_units=False, rules=BUDGET_RULES,
                                     max_train_rows=100_000))
    t0 = time.perf_counter()
    model.fit(ds)
    t1 = time.perf_counter()
    out = model.predict(damaged)
    t2 = time.perf_counter()
    return {"records": n, "component": "editimpute.pmm", "threads": 1,
            "max_train_rows": 100_000, "fit_seconds": round(t1 - t0, 2),
            "predict_seconds": round(t2 - t1, 2), "seconds": round(t2 - t0, 2),
            "imputed_cells": int(damaged[TARGETS].isna().sum().sum()),
            "edit_pass_share": float(out["edit_pass"].mean()),
            "needs_review": int(out["needs_review"].sum()),
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def _infos() -> dict:
    from mlstat_editimpute.metadata import read_metadata

    return {k: v.as_dict() for k, v in read_metadata(DATA / "budget_uk_metadata.csv").items()}


def detection_test(clean: pd.DataFrame, threshold: float = 6.0) -> dict:
    """Suspicious-record detection: unit errors (x10, x100, x1000) injected into 3% of
    income and of total expenditure values, with the 15% MCAR missing values, sign errors and
    digit transpositions around them; editimpute.pmm with detection and deductive correction
    on. Records are ranked by their suspicion score (largest robust z-score as reported)."""
    from mlstat_editimpute.indicators import _share_for_recall

    specs = [{"kind": "mcar", "variables": TARGETS, "rate": 0.15},
             {"kind": "unit", "variables": ["income", "totexp"], "rate": 0.03},
             {"kind": "sign", "variables": ["wtrans"], "rate": 0.01},
             {"kind": "transpose", "variables": ["age"], "rate": 0.02}]
    inj = inject_errors(clean, specs, 0)
    ds = Dataset(inj.frame, ColumnRoles(features=list(clean.columns)),
                 metadata={"variables": _infos()})
    t = time.perf_counter()
    model = M.PmmModel(M.P.PmmParams(rules=BUDGET_RULES, detect_threshold=threshold)).fit(ds)
    out = model.predict(inj.frame)
    seconds = time.perf_counter() - t
    unit = (inj.kinds == "unit").any(axis=1).to_numpy()
    score = out["suspicion"].to_numpy(float)
    top = np.argsort(-score, kind="stable")[: int(0.10 * len(score))]
    flagged_top = np.zeros(len(score), bool)
    flagged_top[top] = True
    changed = np.zeros(len(out), bool)
    for v in model.variables:
        kept = out[v + "__flag"].isin(["original", "suspicious"])  # suspicious: kept as is
        changed |= ~kept.to_numpy() & inj.frame[v].notna().to_numpy()
    unit_cells = (inj.kinds == "unit").to_numpy()
    fixed = np.abs(out[list(clean.columns)].to_numpy(float) - clean.to_numpy(float)) \
        <= 1e-9 + 0.05 * np.abs(clean.to_numpy(float))
    return {"records": len(clean), "records_with_unit_errors": int(unit.sum()),
            "component": "editimpute.pmm", "seconds": seconds,
            "share_reviewed_for_95pct_recall": _share_for_recall(score, unit, 0.95),
            "recall_in_top_10pct": float(flagged_top[unit].mean()),
            "flagged_share_above_threshold": float((score > threshold).mean()),
            "recall_above_threshold": float((score > threshold)[unit].mean()),
            "records_changed_share": float(changed.mean()),
            "recall_records_changed": float(changed[unit].mean()),
            "unit_cells_restored_within_5pct": float(fixed[unit_cells].mean()),
            "edit_pass_share": float(out["edit_pass"].mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=str(DATA / "budget_uk.csv"),
                    help="a CSV with the bundled UK budget data's columns (default: that data)")
    ap.add_argument("--scale", type=int, default=1_000_000,
                    help="records of the timing run (0: skip)")
    ap.add_argument("--banff-venv", default="/tmp/banffenv",
                    help="venv with banff 3.1.3 (default: %(default)s)")
    ap.add_argument("--install-banff", action="store_true",
                    help="create --banff-venv with pip when absent (downloads banff)")
    a = ap.parse_args()
    if not Path(a.data).is_file():
        ap.error(f"--data {a.data}: no such file")
    columns = list(_infos())
    try:
        clean = pd.read_csv(a.data)
        missing = [c for c in columns if c not in clean.columns]
        if missing:
            ap.error(f"--data {a.data} lacks column(s) {', '.join(missing)}: it needs the "
                     f"columns of the bundled UK budget data ({', '.join(columns)})")
        clean = clean[columns].astype(float)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        ap.error(f"--data {a.data}: not a CSV of numbers ({exc})")
    rules = RuleSet.parse(BUDGET_RULES)
    python, why = banff_python(a.banff_venv, a.install_banff)
    result: dict = {"data": a.data, "records": len(clean), "targets": TARGETS,
                    "rate": 0.15, "seed": 0, "cpu_count": os.cpu_count(),
                    "load_average_at_start": os.getloadavg(), "scenarios": {}}
    for name, damaged in scenarios(clean).items():
        res: dict = {}
        for key, fn in peers().items():
            t = time.perf_counter()
            filled = fn(damaged)
            res[key] = {**score(clean, damaged, filled, rules),
                        "seconds": time.perf_counter() - t}
        filled, info = run_banff(python, why, damaged)
        res["peer_banff_donorimp"] = info if filled is None else {
            **score(clean, damaged, filled, rules), "seconds": info["subprocess_seconds"],
            **info}
        for key, make in mlstat_methods().items():
            t = time.perf_counter()
            ds = Dataset(damaged, ColumnRoles(features=list(clean.columns)),
                         metadata={"variables": _infos()})
            model = make().fit(ds)
            filled = model.predict(damaged)[list(clean.columns)]
            res[key] = {**score(clean, damaged, filled, rules),
                        "seconds": time.perf_counter() - t}
        res["targets_check"] = targets_check(res, "editimpute.pmm")
        result["scenarios"][name] = res
        for k, r in res.items():
            if "variables" in r:
                print(f"{name:5s} {k:28s}", " ".join(
                    f"{v}:{x['nrmse']:.3f}/{x['ks']:.3f}" for v, x in r["variables"].items()),
                    f"pass={r['edit_pass_share']:.4f} {r['seconds']:.1f}s")
            elif "error" in r:
                print(f"{name:5s} {k:28s} {r['error'][:200]}")
        print(name, "targets", json.dumps(res["targets_check"]))
    result["detection"] = detection_test(clean)
    print("detection", json.dumps(result["detection"]))
    if a.scale:
        result["scale"] = scale_test(clean, a.scale)
        print("scale", json.dumps(result["scale"]))
    result["load_average_at_end"] = os.getloadavg()
    Path(a.out).write_text(json.dumps(result, indent=2))


def targets_check(res: dict, method: str) -> dict:
    """Per variable: the best peer's NRMSE, the method's NRMSE relative to it (target <= 1.05)
    and its KS (target <= 0.08)."""
    out = {}
    mine = res[method]["variables"]
    for v in TARGETS:
        peers_v = {k: r["variables"][v]["nrmse"] for k, r in res.items()
                   if k.startswith("peer_") and "variables" in r}
        best = min(peers_v, key=peers_v.get)
        ratio = mine[v]["nrmse"] / peers_v[best]
        out[v] = {"best_peer": best, "best_peer_nrmse": peers_v[best],
                  "nrmse_ratio": round(ratio, 4), "ks": mine[v]["ks"],
                  "met": bool(ratio <= 1.05 and mine[v]["ks"] <= 0.08)}
    out["edit_pass_share"] = res[method]["edit_pass_share"]
    return out


if __name__ == "__main__":
    main()
