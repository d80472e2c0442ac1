"""Benchmark of the imagery pilot: mlstat's models on the bundled Landsat scene, validated
against the field points, side by side with a plain scikit-learn peer, in one run.

    python benchmarks/imagery.py --out imagery.json [--repeats 3] [--skip-cnn] [--cnn-epochs 20]

Models: ``imagery.random_forest`` (per-pixel forest, argmax), ``imagery.context_forest``
(forest with 3x3 neighbourhood means, synthetically mixed training data (Okujeni et al. 2013)
whose built-up fraction it regresses, and a threshold on the estimated fraction chosen by
spatial-block cross-validation of the labelled pixels and their mixtures, for the scene's
built-up share estimated from scene pixels; never on the field points), two variants of
it, accuracy and speed only: ``mixtures = 0``
(``imagery.context_forest[mixtures=0]``) and mixtures classified by the 20% rule rather than
regressed (``imagery.context_forest[mixture_target=label]``), ``imagery.cnn`` (unless
``--skip-cnn``) and the peer ``peer_random_forest``: scikit-learn's RandomForestClassifier,
200 trees, the six raw bands, trained on all usable labelled pixels, whole scene predicted
in one array.

Fair comparison: band 70 is nodata on many pixels, so the peer (six bands) can use 562 field
points while mlstat's models (five bands) can use 752. The headline figures of every model are
computed on the SAME points: those usable by both (the peer's 562). mlstat's models also get
``all_usable_points`` (their 752). Training pixels within one pixel of a field point are
dropped for every model (the field data stay independent).

Per model (peers keyed ``peer_``, mlstat's models by component name): ``overall_accuracy``
(area-weighted, Olofsson et al. 2014, with ``overall_accuracy_ci95``), ``kappa``,
``builtup_producers_accuracy``, ``builtup_users_accuracy``, ``builtup_auc`` (ROC AUC of
P(built-up) on the field points: the ranking whatever the threshold; a diagnostic),
``builtup_area_ha`` (error-adjusted, with ``builtup_area_ha_ci95`` half-width and
``builtup_area_ha_interval``) next to
``builtup_mapped_area_ha`` (the naive pixel count), ``pixels_per_s`` (whole-scene map, scene
pixels per second, best of ``--repeats``, in process), ``peak_mb`` (highest resident memory, sampled
every 5 ms, of a fresh process that loads the saved model and maps the whole scene; it includes
the interpreter and libraries, ``baseline_mb`` is the same process just before mapping; the
lifetime peak, set by importing torch, is ``lifetime_peak_mb``). ``mosaic``: the best
mlstat model and the peer mapping a 5 x 2 mosaic of the real scene (10 times the pixels), and
the best model a 5 x 4 mosaic too (``mosaic20``, 20 times).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

BUILT_UP = "built_up"
FIVE = ["10", "20", "30", "40", "50"]
SIX = [*FIVE, "70"]
PATTERN = "lsat7_2000_{band}.tif"
PLAIN_CONTEXT = "imagery.context_forest[mixtures=0]"
LABEL_CONTEXT = "imagery.context_forest[mixture_target=label]"
VARIANTS = (PLAIN_CONTEXT, LABEL_CONTEXT)
GDAL_CACHE_MB = "32"
"""GDAL's raster block cache of the mapping processes (MB). GDAL's default is 5% of the RAM:
a bounded cache, but it fills with more blocks on a larger scene, which would hide whether
the map itself keeps memory flat."""


def rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_now_mb() -> float:
    """Current resident memory (Linux /proc), MB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssSampler:
    """Highest resident memory seen while mapping (sampled every 5 ms in a thread): the
    lifetime peak (ru_maxrss) is set by importing torch, before any mapping."""

    def __enter__(self) -> RssSampler:
        import threading

        self.peak = rss_now_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_now_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_now_mb())


def figures(classes: list[str], mapped: list[str], truth: list[str],
            class_pixels: dict[str, int], pixel_area_m2: float) -> dict[str, Any]:
    """Field-point figures of one map: sample-based kappa, area-weighted accuracies and the
    error-adjusted built-up area (Olofsson et al. 2014) next to the naive pixel count."""
    from mlstat_imagery.validation import cohen_kappa, confusion_matrix, stratified_estimates

    k = classes.index(BUILT_UP)
    matrix = confusion_matrix(mapped, truth, classes)
    est = stratified_estimates(matrix, [class_pixels[c] for c in classes], pixel_area_m2 / 1e4)
    z = est["z"]
    area, half = float(est["area"][k]), float(est["area_half_width"][k])
    column = matrix[:, k].sum()
    return {
        "field_points": int(matrix.sum()),
        "confusion_map_rows": matrix.tolist(),
        "classes": classes,
        "overall_accuracy": est["overall_accuracy"],
        "overall_accuracy_ci95": z * est["se_overall_accuracy"],
        "kappa": cohen_kappa(matrix),
        "builtup_producers_accuracy": float(est["producers_accuracy"][k]),
        "builtup_producers_accuracy_sample": float(matrix[k, k] / column) if column else None,
        "builtup_users_accuracy": float(est["users_accuracy"][k]),
        "builtup_area_ha": area,
        "builtup_area_ha_ci95": half,
        "builtup_area_ha_interval": [max(0.0, area - half), area + half],
        "builtup_mapped_area_ha": float(est["mapped_area"][k]),
        "builtup_mapped_pixels": int(class_pixels[BUILT_UP]),
    }


def ranking_auc(score: Any, truth: list[str]) -> float:
    """ROC AUC of P(built-up) on the field points: how well the model ranks built-up above
    other, whatever the threshold (a diagnostic; nothing is chosen on it)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score([t == BUILT_UP for t in truth], score))


def best_map(model: Any, metadata: dict[str, Any], repeats: int) -> dict[str, Any]:
    """Map the whole scene ``repeats`` times (no preview); keep the fastest."""
    best = None
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            summary = model.scene_map(metadata, folder=Path(tmp), preview=False)
            if best is None or summary["map_seconds"] < best["map_seconds"]:
                best = summary
    assert best is not None
    return best


def run_mlstat(name: str, model: Any, data: Any, split: Any, common: set[str], repeats: int,
               save_to: Path) -> dict[str, Any]:
    train = data.subset(split.train)
    validation = data.subset(split.validation) if split.validation is not None else None
    start = time.perf_counter()
    model.fit(train, validation)
    train_s = time.perf_counter() - start
    test = data.subset(split.test)
    scored = model.predict(test.frame)
    predicted = list(scored["prediction"])
    summary = best_map(model, data.metadata, repeats)
    truth = list(test.y)
    ids = list(test.frame["record_id"])
    keep = [i in common for i in ids]
    pixel_area = summary["pixel_area_m2"]
    out = figures(list(model.classes_), [p for p, k in zip(predicted, keep, strict=True) if k],
                  [t for t, k in zip(truth, keep, strict=True) if k],
                  summary["class_pixels"], pixel_area)
    if f"proba_{BUILT_UP}" in scored.columns:
        out["builtup_auc"] = ranking_auc(scored[f"proba_{BUILT_UP}"].to_numpy()[keep],
                                         [t for t, k in zip(truth, keep, strict=True) if k])
    out["all_usable_points"] = figures(list(model.classes_), predicted, truth,
                                       summary["class_pixels"], pixel_area)
    out.update(train_seconds=train_s, map_seconds=summary["map_seconds"],
               pixels_per_s=summary["pixels_per_s"],
               mapped_pixels=sum(summary["class_pixels"].values()),
               nodata_pixels=summary["nodata_pixels"])
    rule = getattr(model, "threshold", None)
    if callable(rule) and rule():
        out["decision_threshold"] = rule()
    if hasattr(model, "state") and "device" in getattr(model, "state", {}):
        out["device"] = model.state["device"]
    model.save(save_to / name)
    print(name, json.dumps({k: out[k] for k in ("kappa", "builtup_producers_accuracy",
                                                "pixels_per_s")}), flush=True)
    return out


def peer_fit(seed: int) -> tuple[Any, Any]:
    from mlstat_imagery.loaders import LandsatNcLoader
    from mlstat_imagery.params import LandsatNcParams
    from sklearn.ensemble import RandomForestClassifier

    data = LandsatNcLoader(LandsatNcParams(bands=SIX, indices=[], field_buffer=1)
                           ).load(Path("."))
    frame = data.frame
    pixels = frame[frame["source"] == "labelled_pixel"]
    rf = RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)
    rf.fit(pixels[data.roles.features].to_numpy(), pixels["label"].to_numpy())
    return rf, data


def peer_map(rf: Any, info: Any) -> dict[str, int]:
    """The peer's whole-scene map: all bands in one array, one predict call."""
    import numpy as np
    from mlstat_imagery.scene import read_window

    stack = read_window(info, 0, 0, info.height, info.width).reshape(len(info.bands), -1).T
    valid = ~np.isnan(stack).any(axis=1)
    labels = rf.predict(stack[valid])
    return {str(c): int((labels == c).sum()) for c in rf.classes_}


def run_peer(rf: Any, data: Any, common: set[str], repeats: int, train_s: float,
             save_to: Path) -> dict[str, Any]:
    from mlstat_imagery.scene import SceneInfo

    from mlstat_core.artifacts import save_skops

    info = SceneInfo.from_dict(data.metadata["scene"])
    peer_map(rf, info)  # warm-up (torchgeo's file cache)
    best, counts = None, {}
    for _ in range(repeats):
        start = time.perf_counter()
        counts = peer_map(rf, info)
        seconds = time.perf_counter() - start
        best = seconds if best is None else min(best, seconds)
    frame = data.frame
    points = frame[(frame["source"] == "field_point") & frame["record_id"].isin(common)]
    matrix = points[data.roles.features].to_numpy()
    predicted = list(rf.predict(matrix))
    out = figures([str(c) for c in rf.classes_], predicted, list(points["label"]), counts,
                  info.pixel_area)
    out["builtup_auc"] = ranking_auc(
        rf.predict_proba(matrix)[:, list(rf.classes_).index(BUILT_UP)], list(points["label"]))
    out.update(train_seconds=train_s, map_seconds=best,
               pixels_per_s=info.width * info.height / best,
               note="plain RandomForestClassifier(200 trees), six raw bands incl. 70, all "
                    "usable labelled pixels (none within 1 pixel of a field point), argmax; "
                    "whole scene in one array")
    save_to.mkdir(parents=True, exist_ok=True)
    save_skops(rf, save_to / "peer_random_forest.skops")
    print("peer_random_forest", json.dumps({k: out[k] for k in (
        "kappa", "builtup_producers_accuracy", "pixels_per_s")}), flush=True)
    return out


# --- memory: a fresh process per (model, scene) ------------------------------------------------


def build_mosaic(source: Path, target: Path, bands: list[str], nx: int = 5, ny: int = 2) -> None:
    """A GeoTIFF per band: the real scene repeated nx x ny times (same CRS, pixel size)."""
    import numpy as np
    import rasterio

    target.mkdir(parents=True, exist_ok=True)
    for band in bands:
        with rasterio.open(source / PATTERN.format(band=band)) as src:
            data = src.read(1)
            profile = src.profile.copy()
        big = np.tile(data, (ny, nx))
        profile.update(width=big.shape[1], height=big.shape[0], tiled=True, blockxsize=256,
                       blockysize=256, compress="deflate")
        with rasterio.open(target / PATTERN.format(band=band), "w", **profile) as dst:
            dst.write(big, 1)


def map_worker(kind: str, model_path: Path, scene_dir: Path) -> None:
    """Runs in a fresh process: load a saved model, map a scene, print seconds and memory."""
    import numpy as np  # noqa: F401  (imports before the baseline)
    from mlstat_imagery.scene import open_scene

    bands = SIX if kind == "peer" else FIVE
    info = open_scene(scene_dir, PATTERN, bands)
    if kind == "peer":
        from mlstat_core.artifacts import load_skops

        rf = load_skops(model_path, trusted=("sklearn.tree._tree.Tree", "numpy.dtype"))
        baseline = rss_now_mb()
        start = time.perf_counter()
        with RssSampler() as sampler:
            counts = peer_map(rf, info)
    else:
        from mlstat_imagery.cnn import CnnModel
        from mlstat_imagery.models import ContextForestModel, PixelForestModel

        cls = {"imagery.cnn": CnnModel, "imagery.context_forest": ContextForestModel}.get(
            kind, PixelForestModel)
        model = cls.load(model_path)
        baseline = rss_now_mb()
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp, RssSampler() as sampler:
            summary = model.scene_map({"positive_label": BUILT_UP}, folder=Path(tmp),
                                      preview=False, scene=info)
        counts = summary["class_pixels"]
    seconds = time.perf_counter() - start
    print(json.dumps({"pixels": info.width * info.height, "seconds": seconds,
                      "pixels_per_s": info.width * info.height / seconds,
                      "baseline_mb": baseline, "peak_mb": sampler.peak,
                      "lifetime_peak_mb": rss_peak_mb(),
                      "class_pixels": counts}))


def measure(kind: str, model_path: Path, scene_dir: Path) -> dict[str, Any]:
    env = {**os.environ, "GDAL_CACHEMAX": os.environ.get("GDAL_CACHEMAX", GDAL_CACHE_MB)}
    done = subprocess.run(
        [sys.executable, __file__, "--map-worker", kind, str(model_path), str(scene_dir)],
        capture_output=True, text=True, check=False, env=env)
    if done.returncode:
        raise RuntimeError(f"map worker {kind} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="whole-scene maps timed")
    parser.add_argument("--cnn-epochs", type=int, default=20)
    parser.add_argument("--skip-cnn", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--map-worker", nargs=3, metavar=("KIND", "MODEL", "SCENE_DIR"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.map_worker:
        kind, model_path, scene_dir = args.map_worker
        map_worker(kind, Path(model_path), Path(scene_dir))
        return
    if args.out is None:
        parser.error("--out is required")
    for option, value in (("--repeats", args.repeats), ("--cnn-epochs", args.cnn_epochs)):
        if value < 1:
            parser.error(f"{option} {value}: at least 1")

    from mlstat_imagery.cnn import CnnModel
    from mlstat_imagery.loaders import BUNDLED, LandsatNcLoader
    from mlstat_imagery.models import ContextForestModel, PixelForestModel
    from mlstat_imagery.params import (
        CnnParams,
        ContextForestParams,
        ImageryForestParams,
        LandsatNcParams,
        SpatialBlockParams,
    )
    from mlstat_imagery.splitters import SpatialBlockSplitter

    load_start = os.getloadavg()
    data = LandsatNcLoader(LandsatNcParams(indices=["ndvi", "ndbi", "mndwi", "bu"])
                           ).load(Path("."))
    split = SpatialBlockSplitter(SpatialBlockParams()).split(data, args.seed)[0]
    start = time.perf_counter()
    peer, peer_data = peer_fit(args.seed)
    peer_train_s = time.perf_counter() - start
    frame = peer_data.frame
    common = set(frame.loc[frame["source"] == "field_point", "record_id"])
    results: dict[str, Any] = {
        "data": "landsat_nc (bundled), built-up vs other, field points as test",
        "counts_five_bands": data.metadata["counts"],
        "counts_six_bands": peer_data.metadata["counts"],
        "common_field_points": len(common),
        "seed": args.seed,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    }
    saved = Path(tempfile.mkdtemp(prefix="mlstat-imagery-bench-"))
    models: list[tuple[str, Any]] = [
        ("imagery.random_forest", PixelForestModel(ImageryForestParams(), "raster_segmentation")),
        ("imagery.context_forest", ContextForestModel(ContextForestParams(),
                                                      "raster_segmentation")),
        (PLAIN_CONTEXT, ContextForestModel(ContextForestParams(mixtures=0),
                                           "raster_segmentation")),
        (LABEL_CONTEXT, ContextForestModel(ContextForestParams(mixture_target="label"),
                                           "raster_segmentation")),
    ]
    if not args.skip_cnn:
        models.append(("imagery.cnn", CnnModel(CnnParams(epochs=args.cnn_epochs),
                                               "raster_segmentation")))
    for name, model in models:
        model.seed = args.seed
        results[name] = run_mlstat(name, model, data, split, common, args.repeats, saved)
    results["peer_random_forest"] = run_peer(peer, peer_data, common, args.repeats,
                                             peer_train_s, saved)

    mlstat_names = [n for n, _ in models if n not in VARIANTS]  # variants: no memory, no best
    best = max(mlstat_names, key=lambda n: results[n]["kappa"])
    if not args.skip_memory:
        with tempfile.TemporaryDirectory() as tmp:
            mosaic, mosaic20 = Path(tmp) / "mosaic", Path(tmp) / "mosaic20"
            build_mosaic(BUNDLED, mosaic, SIX)
            build_mosaic(BUNDLED, mosaic20, SIX, nx=5, ny=4)
            memory: dict[str, Any] = {
                "tiles": "5 x 2 copies of the scene",
                "gdal_cachemax_mb": os.environ.get("GDAL_CACHEMAX", GDAL_CACHE_MB)}
            for name in mlstat_names:
                single = measure(name, saved / name, BUNDLED)
                results[name]["peak_mb"] = single["peak_mb"]
                results[name]["baseline_mb"] = single["baseline_mb"]
                if name == best or name == "imagery.random_forest":
                    memory[name] = {"scene": single, "mosaic": measure(name, saved / name,
                                                                       mosaic)}
                if name == best:  # 20 times the scene: flat means no growth past 10 times
                    memory[name]["mosaic20"] = measure(name, saved / name, mosaic20)
            peer_path = saved / "peer_random_forest.skops"
            single = measure("peer", peer_path, BUNDLED)
            results["peer_random_forest"]["peak_mb"] = single["peak_mb"]
            results["peer_random_forest"]["baseline_mb"] = single["baseline_mb"]
            memory["peer_random_forest"] = {"scene": single,
                                            "mosaic": measure("peer", peer_path, mosaic)}
            results["mosaic"] = memory
    peer_res = results["peer_random_forest"]
    targets: dict[str, Any] = {
        "best_mlstat_model": best,
        "kappa_gain_over_peer": results[best]["kappa"] - peer_res["kappa"],
        "kappa_gain_met": results[best]["kappa"] - peer_res["kappa"] >= 0.10,
        "builtup_producers_accuracy_met": results[best]["builtup_producers_accuracy"] >= 0.60,
        "pixels_per_s_met": results[best]["pixels_per_s"] >= 200_000,
    }
    if "mosaic" in results:
        m = results["mosaic"][best]
        growth = m["mosaic"]["peak_mb"] - m["scene"]["peak_mb"]
        targets["peak_mb_growth_on_10x_mosaic"] = growth
        targets["peak_mb_growth_10x_to_20x_mosaic"] = m["mosaic20"]["peak_mb"] \
            - m["mosaic"]["peak_mb"]
        targets["memory_flat_met"] = growth <= 0.1 * m["scene"]["peak_mb"]
    results["targets"] = targets
    results["load_average"] = {"start": load_start, "end": os.getloadavg()}
    results["models_saved_in"] = str(saved)
    print("targets", json.dumps(targets), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
