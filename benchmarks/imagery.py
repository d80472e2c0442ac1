"""Benchmark of the imagery pilot: per-pixel random forest and CNN on the bundled Landsat scene,
validated against the field points, next to a plain scikit-learn peer.

    python benchmarks/imagery.py --out imagery.json [--cnn-epochs 20] [--skip-cnn]

Figures per model: field-data overall accuracy (area-weighted, Olofsson et al. 2014, with 95%
interval), Cohen's kappa, producer's and user's accuracy of built-up, error-adjusted built-up
area (km², 95% interval), train seconds, map seconds (whole scene, GeoTIFF). Peers are keyed
``peer_``: ``peer_random_forest`` is a plain RandomForestClassifier on the six raw bands, trained
on a random (not spatially blocked) sample of the labelled pixels, no indices, no buffer.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def field_figures(classes: list[str], mapped_pred: list[str], truth: list[str],
                  class_pixels: dict[str, int], pixel_area_km2: float) -> dict[str, Any]:
    from mlstat_imagery.validation import cohen_kappa, confusion_matrix, stratified_estimates

    k = classes.index("built_up")
    matrix = confusion_matrix(mapped_pred, truth, classes)
    est = stratified_estimates(matrix, [class_pixels[c] for c in classes], pixel_area_km2)
    z = est["z"]
    return {
        "field_points": int(matrix.sum()),
        "confusion_map_rows": matrix.tolist(),
        "overall_accuracy": est["overall_accuracy"],
        "overall_accuracy_ci95": z * est["se_overall_accuracy"],
        "kappa": cohen_kappa(matrix),
        "producers_accuracy_built_up": float(est["producers_accuracy"][k]),
        "users_accuracy_built_up": float(est["users_accuracy"][k]),
        "built_up_mapped_km2": float(est["mapped_area"][k]),
        "built_up_area_km2": float(est["area"][k]),
        "built_up_area_ci95_km2": float(est["area_half_width"][k]),
    }


def run_model(model: Any, data: Any, split: Any) -> dict[str, Any]:
    train = data.subset(split.train)
    validation = data.subset(split.validation) if split.validation is not None else None
    start = time.perf_counter()
    model.fit(train, validation)
    train_s = time.perf_counter() - start
    test = data.subset(split.test)
    predicted = model.predict(test.frame)
    start = time.perf_counter()
    summary = model.scene_map(data.metadata)
    map_s = time.perf_counter() - start
    out = field_figures(list(model.classes_), list(predicted["prediction"]), list(test.y),
                        summary["class_pixels"], summary["pixel_area_m2"] / 1e6)
    out.update(train_seconds=train_s, map_seconds=map_s)
    return out


def run_peer(seed: int) -> dict[str, Any]:
    """Plain RF on the six raw bands, random split of labelled pixels, whole-scene numpy map."""
    import numpy as np
    from mlstat_imagery.loaders import LandsatNcLoader
    from mlstat_imagery.params import LandsatNcParams
    from mlstat_imagery.scene import SceneInfo, read_window
    from sklearn.ensemble import RandomForestClassifier

    data = LandsatNcLoader(LandsatNcParams(bands=["10", "20", "30", "40", "50", "70"],
                                           indices=[], field_buffer=0)).load(Path("."))
    frame = data.frame
    bands = data.roles.features
    pixels = frame[frame["source"] == "labelled_pixel"]
    points = frame[frame["source"] == "field_point"]
    rng = np.random.default_rng(seed)
    train = pixels.iloc[rng.permutation(len(pixels))[: int(0.85 * len(pixels))]]
    rf = RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)
    start = time.perf_counter()
    rf.fit(train[bands].to_numpy(), train["label"].to_numpy())
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    info = SceneInfo.from_dict(data.metadata["scene"])
    stack = read_window(info, 0, 0, info.height, info.width).reshape(len(bands), -1).T
    valid = ~np.isnan(stack).any(axis=1)
    labels = rf.predict(stack[valid])
    map_s = time.perf_counter() - start
    classes = list(rf.classes_)
    counts = {c: int((labels == c).sum()) for c in classes}
    out = field_figures(classes, list(rf.predict(points[bands].to_numpy())),
                        list(points["label"]), counts, info.pixel_area / 1e6)
    out.update(train_seconds=train_s, map_seconds=map_s,
               note="six raw bands incl. 70 (fewer usable points), random pixel split")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cnn-epochs", type=int, default=20)
    parser.add_argument("--skip-cnn", action="store_true")
    args = parser.parse_args()

    from mlstat_imagery.cnn import CnnModel
    from mlstat_imagery.loaders import LandsatNcLoader
    from mlstat_imagery.models import PixelForestModel
    from mlstat_imagery.params import (
        CnnParams,
        ImageryForestParams,
        LandsatNcParams,
        SpatialBlockParams,
    )
    from mlstat_imagery.splitters import SpatialBlockSplitter

    data = LandsatNcLoader(LandsatNcParams(indices=["ndvi", "ndbi", "mndwi", "bu"])
                           ).load(Path("."))
    split = SpatialBlockSplitter(SpatialBlockParams()).split(data, args.seed)[0]
    results: dict[str, Any] = {
        "data": "landsat_nc (bundled), built-up vs other, field points as test",
        "counts": data.metadata["counts"], "seed": args.seed,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    rf = PixelForestModel(ImageryForestParams(), "raster_segmentation")
    rf.seed = args.seed
    results["random_forest"] = run_model(rf, data, split)
    print("random_forest", json.dumps(results["random_forest"], default=float)[:300])
    if not args.skip_cnn:
        cnn = CnnModel(CnnParams(epochs=args.cnn_epochs), "raster_segmentation")
        cnn.seed = args.seed
        results["cnn"] = run_model(cnn, data, split)
        results["cnn"]["device"] = cnn.state["device"]
        print("cnn", json.dumps(results["cnn"], default=float)[:300])
    results["peer_random_forest"] = run_peer(args.seed)
    print("peer_random_forest", json.dumps(results["peer_random_forest"], default=float)[:300])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
