"""The models that train on a GPU (coding.fasttext, imagery.cnn), trained on the GPU and on the
CPU, and the GPU-trained run scored in a process that sees no GPU.

    python benchmarks/gpu.py --out gpu-check [--require-cuda] [--models fasttext,cnn] [--sweep]

Each model's pipeline (the shipped example, model swapped where needed) runs with
``device = "auto"`` and with ``device = "cpu"``; both add ``core.refit_check``, which trains again
with the same seed. The GPU-trained run folder is then scored by ``mlstat predict`` twice, once
as it is and once with ``CUDA_VISIBLE_DEVICES=""`` (a scoring server without a GPU). Written to
``OUT/gpu.json``: per model and device, the device the model used, training seconds, test
accuracy, refit identical share, and how far the two scorings agree. Exits 1 when a check fails:
a run fails, ``--require-cuda`` and the auto run did not use CUDA, or the run does not score
without a GPU. ``--sweep`` also times coding.fasttext by device and batch size (two fits
each, compared) and trains the CNN's U-Net twice on random patches under
``mlstat_core.torch_devices.reproducible``, listing any operation that warned of a missing
deterministic kernel. Runs on the CPU too (every run then uses the CPU). Figures and how
they were taken on a GPU machine: docs/scaling.md, "Training on a GPU".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

ROOT = Path(__file__).resolve().parents[1]
MLSTAT = [sys.executable, "-m", "mlstat_core"]
INDICATORS = [{"component": "core.classification_accuracy"}, {"component": "core.refit_check"},
              {"component": "core.timings"}]


def fasttext_config() -> dict:
    config = tomllib.loads((ROOT / "examples" / "coding-ecoicop.toml").read_text("utf-8"))
    config["model"] = {"component": "coding.fasttext", "target_accuracy": 0.95}
    return config


def cnn_config() -> dict:
    config = tomllib.loads((ROOT / "examples" / "imagery-landsat-nc-cnn.toml").read_text("utf-8"))
    config["indicators"] = [i for i in config["indicators"]
                            if i["component"] == "imagery.field_validation"]
    return config


def fasttext_records(out: Path, run_dir: str) -> Path:
    from mlstat_coding.loaders import ECOICOP_FILE, data_file

    frame = pd.read_csv(data_file(ECOICOP_FILE), dtype=str, keep_default_na=False).head(3000)
    path = out / "fasttext-records.csv"
    frame[["product"]].to_csv(path, index=False)
    return path


def cnn_records(out: Path, run_dir: str) -> Path:
    """Pixels of the trained scene on a grid, with the features the model was trained on."""
    from mlstat_imagery.loaders import pixel_values
    from mlstat_imagery.scene import SceneInfo

    state = json.loads((Path(run_dir) / "model" / "state.json").read_text("utf-8"))["state"]
    info, spec = SceneInfo.from_dict(state["scene"]), state["features"]
    rows, cols = (a.ravel() for a in np.meshgrid(np.arange(0, 400, 8), np.arange(0, 400, 8),
                                                indexing="ij"))
    values = pixel_values(info, rows, cols, spec["band_roles"], spec["indices"])
    frame = pd.DataFrame(values, columns=spec["columns"]).assign(row=rows, col=cols)
    path = out / "cnn-records.csv"
    frame.to_csv(path, index=False)
    return path


MODELS = {"fasttext": (fasttext_config, fasttext_records),
          "cnn": (cnn_config, cnn_records)}


def fasttext_sweep(batch_sizes: tuple[int, ...] = (32, 256)) -> list[dict]:
    """coding.fasttext on the ECOICOP split, in this process: training seconds and test
    accuracy by device and batch size, and how far two fits with the same seed differ."""
    import warnings

    import torch
    from mlstat_coding.fasttext import FastTextModel
    from mlstat_coding.loaders import EcoicopLoader
    from mlstat_coding.params import EcoicopParams, FastTextParams

    from mlstat_core.builtins.params import HoldoutParams
    from mlstat_core.builtins.splitters import StratifiedSplitter

    data = EcoicopLoader(EcoicopParams()).load(Path("."))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = StratifiedSplitter(HoldoutParams(test_size=0.15, validation_size=0.15)).split(
            data, 0)[0]
    train, val, test = (data.subset(split.train), data.subset(split.validation),
                        data.subset(split.test))
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    for device in devices:
        for batch in batch_sizes:
            fits = []
            for _ in range(2):
                model = FastTextModel(FastTextParams(device=device, batch_size=batch),
                                      task="text_classification")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(train, val)
                fits.append((model.train_seconds, model.predict(test.frame)))
            (seconds, a), (_, b) = fits
            proba = [c for c in a.columns if c.startswith("proba_")]
            rows.append({"device": device, "batch_size": batch,
                         "train_seconds": round(seconds, 2),
                         "accuracy": round(float((a["prediction"] == test.y).mean()), 4),
                         "refit_max_probability_difference": float(
                             np.abs(a[proba].to_numpy() - b[proba].to_numpy()).max())})
            print("fasttext sweep", json.dumps(rows[-1]), flush=True)
    return rows


def unet_refit(device: str, deterministic: bool) -> dict:
    """imagery.cnn's U-Net and loss trained twice on the same random patches (same seed), with
    and without ``reproducible``: how far the two sets of weights differ, and what warned."""
    import warnings

    import torch
    from mlstat_imagery.cnn import build_unet, masked_cross_entropy

    from mlstat_core.torch_devices import reproducible

    def train() -> tuple[float, dict]:
        torch.manual_seed(0)
        rng = np.random.default_rng(0)
        x = torch.from_numpy(rng.normal(size=(64, 9, 64, 64)).astype(np.float32)).to(device)
        y = torch.from_numpy(rng.integers(-1, 2, size=(64, 64, 64))).to(device)
        net = build_unet(9, 2, 16).to(device)
        optimiser = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
        loss_fn = masked_cross_entropy(torch.tensor([1.0, 3.0], device=device))
        start = time.perf_counter()
        with reproducible(device if deterministic else "cpu"):
            for _ in range(5):
                for b in range(0, 64, 16):
                    optimiser.zero_grad()
                    loss_fn(net(x[b:b + 16]), y[b:b + 16]).backward()
                    optimiser.step()
        return time.perf_counter() - start, {k: v.detach().cpu().double()
                                             for k, v in net.state_dict().items()}

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (seconds, a), (_, b) = train(), train()
    return {"device": device, "deterministic": deterministic, "seconds": round(seconds, 2),
            "max_weight_difference": max(float((a[k] - b[k]).abs().max()) for k in a),
            "warnings": sorted({str(w.message)[:200] for w in caught})}


def run_pipeline(config: dict, device: str, out: Path, name: str) -> dict:
    config = dict(config, model=dict(config["model"], device=device),
                  indicators=config.get("indicators", []) + INDICATORS,
                  output={"dir": str(out / "runs")})
    config["pipeline"] = dict(config["pipeline"], name=f"{name}-{device}")
    path = out / f"{name}-{device}.toml"
    path.write_text(tomli_w.dumps(config), "utf-8")
    done = subprocess.run([*MLSTAT, "run", str(path), "--json"], capture_output=True, text=True)
    if done.returncode != 0:
        return {"failed": (done.stdout + done.stderr)[-2000:]}
    folder = Path(json.loads(done.stdout)["run_dir"])
    report = json.loads((folder / "report.json").read_text("utf-8"))
    values = {r["name"]: r.get("value") for r in report["indicators"]}
    state = json.loads((folder / "model" / "state.json").read_text("utf-8"))
    used = (state.get("state") or {}).get("device") or (state.get("extra") or {}).get("device")
    return {"run_dir": str(folder), "device_used": used,
            "fit_seconds": values.get("fit_seconds"), "accuracy": values.get("accuracy"),
            "refit_identical_share": values.get("refit_identical_share")}


def score(run_dir: str, records: Path, output: Path, hide_gpu: bool) -> tuple[int, str]:
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="") if hide_gpu else None
    done = subprocess.run([*MLSTAT, "predict", run_dir, "--input", str(records),
                           "--output", str(output)], capture_output=True, text=True, env=env)
    return done.returncode, (done.stdout + done.stderr)[-1500:]


def compare_scorings(run_dir: str, records: Path, out: Path, name: str) -> dict:
    seen, hidden = out / f"{name}-scored-gpu.csv", out / f"{name}-scored-nogpu.csv"
    results = {}
    for path, hide in ((seen, False), (hidden, True)):
        code, text = score(run_dir, records, path, hide)
        if code != 0:
            results["failed" if not hide else "failed_without_gpu"] = text
    if results:
        return results
    a, b = pd.read_csv(seen), pd.read_csv(hidden)
    proba = [c for c in a.columns if c.startswith("proba_")]
    gap = np.abs(a[proba].to_numpy(float) - b[proba].to_numpy(float)) if proba else np.zeros(1)
    return {"records": len(a), "same_prediction_share": float((a["prediction"].astype(str)
                                                               == b["prediction"].astype(str))
                                                              .mean()),
            "max_probability_difference": float(np.nanmax(gap))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--models", default="fasttext,cnn",
                        help=f"comma-separated, of: {', '.join(MODELS)}")
    parser.add_argument("--require-cuda", action="store_true")
    parser.add_argument("--sweep", action="store_true",
                        help="also time coding.fasttext by device and batch size")
    args = parser.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        parser.error(f"--models: unknown {', '.join(unknown) or '(none given)'}; known: "
                     f"{', '.join(MODELS)}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file; it names a folder (gpu.json and the runs "
                     "go in it)")
    try:
        import torch
    except ImportError:
        parser.error("torch is not installed: pip install 'mlstat-coding[torch]' (and "
                     "mlstat-imagery, which needs torch, for the CNN)")

    args.out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"torch": torch.__version__, "cuda": torch.cuda.is_available(),
                     "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    problems = []
    for name in models:
        make_config, make_records = MODELS[name]
        entry = summary[name] = {}
        for device in ("auto", "cpu"):
            entry[device] = run_pipeline(make_config(), device, args.out, name)
            print(name, device, json.dumps(entry[device]), flush=True)
        auto = entry["auto"]
        if "failed" in auto:
            problems.append(f"{name}: the run with device auto failed")
            continue
        if args.require_cuda and auto["device_used"] != "cuda":
            problems.append(f"{name}: device auto used {auto['device_used']}, not cuda")
        entry["scoring"] = compare_scorings(auto["run_dir"],
                                            make_records(args.out, auto["run_dir"]), args.out,
                                            name)
        print(name, "scoring", json.dumps(entry["scoring"]), flush=True)
        problems += [f"{name}: {k}" for k in entry["scoring"] if k.startswith("failed")]
        if "failed" in entry["cpu"]:
            problems.append(f"{name}: the run with device cpu failed")
    if args.sweep:
        summary["fasttext_sweep"] = fasttext_sweep()
        summary["unet_refit"] = [unet_refit(d, det) for d in
                                 (["cuda"] if torch.cuda.is_available() else ["cpu"])
                                 for det in (False, True)]
        print("unet refit", json.dumps(summary["unet_refit"]), flush=True)
    summary["problems"] = problems
    (args.out / "gpu.json").write_text(json.dumps(summary, indent=2), "utf-8")
    print("\n".join(problems) or "all checks passed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
