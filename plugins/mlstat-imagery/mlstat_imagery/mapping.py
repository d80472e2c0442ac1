"""The whole-scene map: tiled inference with bounded memory, a GeoTIFF with the scene's CRS and
transform (band 1: class, band 2: probability of the built-up class), a PNG preview, and the
mapped area of each class (what the error-adjusted area estimate needs).

Models that map a scene implement :class:`SceneMapper`; only one tile's bands, features and
probabilities are in memory at a time.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mlstat_core.artifacts import write_json
from mlstat_core.errors import DataError, ModelError
from mlstat_imagery import fill
from mlstat_imagery.scene import (
    SceneInfo,
    ZeroFillWarning,
    read_window,
    release_scene_files,
    require_scene_files,
    reused_reads,
    tiles,
)

MAP_FILE = "map.tif"
PREVIEW_FILE = "map_preview.png"
SUMMARY_FILE = "map_summary.json"
_NOT_OUTPUTS = ("folder", "map_seconds", "pixels_per_s")
NODATA = -1.0
POSITIVE_COLOUR = (215, 48, 39)
PALETTE = [(166, 217, 106), (26, 152, 80), (254, 224, 139), (116, 173, 209), (69, 117, 180),
           (191, 129, 45), (153, 112, 171), (224, 130, 20), (120, 120, 120)]
NODATA_COLOUR = (255, 255, 255)


def argmax_decision(proba: np.ndarray) -> np.ndarray:
    """The most probable class of each pixel (index), from (classes, ...) probabilities."""
    return np.nan_to_num(proba, nan=-1.0).argmax(axis=0)


def write_scene_map(info: SceneInfo, probabilities: Any, classes: list[Any], positive: Any,
                    path: Path, tile_size: int = 256,
                    decide: Callable[[np.ndarray], np.ndarray] | None = None) -> dict[str, Any]:
    """Stream ``probabilities(row0, col0, height, width) -> (classes, height, width)`` (NaN where
    nodata) over the scene's tiles into a GeoTIFF; return the class pixel counts. ``decide``
    turns a tile's probabilities into class indices (default: the most probable class).
    Pixels with NaN probabilities (nodata in any band) are written as nodata, never
    classified."""
    import rasterio

    if positive not in classes:
        raise ModelError(f"the built-up class {positive!r} is not among the model's classes "
                         f"{classes}")
    positive_index = classes.index(positive)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    counts = np.zeros(len(classes), dtype=np.int64)
    nodata_pixels = 0
    constants: dict[float, int] = {}  # one value in every band: fill, counted as land
    edges = fill.EdgeRuns(info)  # 255 in 8-bit RGB: fill only in runs from the scene's edge
    profile = {
        "driver": "GTiff", "width": info.width, "height": info.height, "count": 2,
        "dtype": "float32", "crs": info.crs_wkt, "transform": info.affine(), "nodata": NODATA,
        "compress": "deflate",
    }
    if info.width >= 256 and info.height >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    from rasterio.windows import Window

    try:
        with rasterio.open(tmp, "w", **profile) as dst, reused_reads():
            for row0, col0, h, w in tiles(info, tile_size):
                proba = np.asarray(probabilities(row0, col0, h, w), dtype=np.float32)
                if proba.shape != (len(classes), h, w):
                    raise ModelError(f"tile probabilities have shape {proba.shape}, expected "
                                     f"{(len(classes), h, w)}")
                valid = ~np.isnan(proba).any(axis=0)
                best = (decide or argmax_decision)(proba)
                klass = np.where(valid, best + 1, NODATA).astype(np.float32)
                prob = np.where(valid, proba[positive_index], NODATA).astype(np.float32)
                window = Window(col0, row0, w, h)
                dst.write(klass, 1, window=window)
                dst.write(prob, 2, window=window)
                counts += np.bincount(best[valid], minlength=len(classes))
                nodata_pixels += int((~valid).sum())
                bands = read_window(info, row0, col0, h, w)
                found = fill.constant_values(bands, info)
                for value, n in fill.value_counts(np.where(valid, found, np.nan)).items():
                    constants[value] = constants.get(value, 0) + n
                edges.add(bands, valid, col0)
            dst.set_band_description(1, "class (see tag class_<n>)")
            dst.set_band_description(2, f"probability of {positive}")
            dst.update_tags(**{f"class_{i + 1}": str(c) for i, c in enumerate(classes)},
                            positive_class=str(positive), classes=json.dumps(
                                [str(c) for c in classes]))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        release_scene_files()
    for value, n in edges.counts.items():
        constants[value] = constants.get(value, 0) + n
    fills = _fill_pixels(info, constants)
    for value, n in fills.items():
        warnings.warn(
            f"{n:,} mapped pixel(s) ({n * info.pixel_area / 1e6:,.2f} km2) are "
            f"{fill.stored_value(value, info)} in every band, and {fill.declared(info)}: that "
            "is usually the fill around the image, which the map classifies and the class "
            f"areas count as land; {fill.fix(value, info)}", ZeroFillWarning, stacklevel=2)
    return {
        "map": path.name,
        "classes": [str(c) for c in classes],
        "positive_class": str(positive),
        "class_pixels": {str(c): int(n) for c, n in zip(classes, counts, strict=True)},
        "nodata_pixels": nodata_pixels,
        "zero_fill_pixels": sum(fills.values()),
        "fill_values": {fill.stored_value(v, info): n for v, n in fills.items()},
        "pixel_area_m2": info.pixel_area,
        "class_area_km2": {str(c): float(n) * info.pixel_area / 1e6
                           for c, n in zip(classes, counts, strict=True)},
        "crs": info.crs_wkt if info.epsg is None else f"EPSG:{info.epsg}",
        "transform": list(info.transform),
        "width": info.width, "height": info.height,
    }


def _fill_pixels(info: SceneInfo, constants: dict[float, int]) -> dict[float, int]:
    """Value as read -> mapped pixels, for the values held in every band by enough pixels to
    be fill (:data:`~mlstat_imagery.fill.MIN_MAP_SHARE`)."""
    least = max(fill.MIN_MAP_PIXELS, fill.MIN_MAP_SHARE * info.width * info.height)
    return {v: n for v, n in sorted(constants.items())
            if n >= least or (fill.is_typical(v, info) and n >= fill.MIN_RECORDS)}


def write_preview(map_path: Path, path: Path, classes: list[Any], positive: Any,
                  max_side: int = 1024) -> Path:
    """A PNG of the class band (built-up red), decimated to at most ``max_side`` pixels."""
    import rasterio
    from PIL import Image

    with rasterio.open(map_path) as src:
        scale = max(1, int(np.ceil(max(src.width, src.height) / max_side)))
        shape = (max(1, src.height // scale), max(1, src.width // scale))
        band = src.read(1, out_shape=shape)
    rgb = np.empty((*band.shape, 3), dtype=np.uint8)
    rgb[:] = NODATA_COLOUR
    others = iter(PALETTE)
    colours = []
    for i, klass in enumerate(classes):
        colour = POSITIVE_COLOUR if klass == positive else next(others, (120, 120, 120))
        colours.append(colour)
        rgb[band == i + 1] = colour
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    with_legend(Image.fromarray(rgb), classes, colours).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


LEGEND_ROW = 16
"""Height in pixels of one line of the preview's legend."""


def with_legend(image: Any, classes: list[Any], colours: list[tuple[int, int, int]]) -> Any:
    """``image`` with a legend below it: one line per class, its colour, its value in band 1
    of map.tif and its name, and the nodata line (white, -1)."""
    from PIL import Image, ImageDraw

    lines = [(c, f"{i + 1} = {k}") for i, (k, c) in enumerate(zip(classes, colours,
                                                                   strict=True))]
    lines.append((NODATA_COLOUR, f"{int(NODATA)} = nodata"))
    width = max(image.width, 8 + 7 * max(len(text) for _, text in lines) + 24)
    out = Image.new("RGB", (width, image.height + LEGEND_ROW * len(lines) + 4), (245, 245, 245))
    out.paste(image, (0, 0))
    draw = ImageDraw.Draw(out)
    for j, (colour, text) in enumerate(lines):
        top = image.height + 2 + j * LEGEND_ROW
        draw.rectangle((4, top + 2, 15, top + 13), fill=colour, outline=(0, 0, 0))
        draw.text((22, top + 2), text, fill=(0, 0, 0))
    return out


def png_base64(path: Path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


class SceneMapper:
    """Mixin for models that map a whole scene. ``write_outputs`` writes the map into the run's
    ``outputs/`` before the indicators run; the field-validation indicator reads the mapped
    areas from ``map_summary.json`` there (or calls :meth:`scene_map` itself when the run
    wrote no map)."""

    map_tile_size: int = 256

    def scene_probabilities(self, info: SceneInfo, row0: int, col0: int, height: int,
                            width: int) -> np.ndarray:
        raise NotImplementedError

    @contextlib.contextmanager
    def for_mapping(self) -> Iterator[None]:
        """The model set up once for a whole-scene map (e.g. more cores than for scoring
        records) and restored afterwards; default: as it is."""
        yield

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class index of each pixel from probabilities (classes, ...); default: argmax."""
        return argmax_decision(proba)

    def map_classes(self) -> list[Any]:
        classes = getattr(self, "classes_", None)
        if not classes:
            raise ModelError("the model is not fitted; it cannot map the scene")
        return list(classes)

    def scene_map(self, metadata: dict[str, Any], folder: Path | None = None,
                  preview: bool = True, scene: SceneInfo | None = None) -> dict[str, Any]:
        """Map the scene described in a data set's metadata (or ``scene``, another scene on
        the same bands) into ``folder`` (a new temporary folder by default): GeoTIFF, PNG
        preview; the summary has the mapped pixels of each class and the seconds taken."""
        if scene is None and "scene" not in metadata:
            raise DataError("the data set carries no scene in its metadata; use an imagery "
                            "loader")
        info = scene or SceneInfo.from_dict(metadata["scene"])
        require_scene_files(info)  # once per map, not per tile
        folder = Path(folder) if folder is not None \
            else Path(tempfile.mkdtemp(prefix="mlstat-imagery-map-"))
        classes = self.map_classes()
        positive = metadata.get("positive_label", classes[0])
        start = time.perf_counter()
        with self.for_mapping():
            summary = write_scene_map(
                info, lambda r, c, h, w: self.scene_probabilities(info, r, c, h, w), classes,
                positive, folder / MAP_FILE, tile_size=self.map_tile_size, decide=self.decide)
        seconds = time.perf_counter() - start
        summary.update(map_seconds=seconds,
                       pixels_per_s=info.width * info.height / seconds if seconds else None)
        rule = getattr(self, "threshold", None)
        if callable(rule) and rule() is not None:
            summary["decision_threshold"] = rule()
        if preview:
            write_preview(folder / MAP_FILE, folder / PREVIEW_FILE, classes, positive)
        summary["folder"] = str(folder)
        return summary

    def write_scene_outputs(self, directory: Path, test: Any) -> list[Path]:
        if not getattr(self.params, "write_map", True) or "scene" not in test.metadata:
            return []
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        summary = self.scene_map(test.metadata, folder=directory)
        # the run's outputs depend on the model and the scene alone (their hashes show a
        # reproduced run); the time the map took is in the manifest's timings ("outputs")
        public = {k: v for k, v in summary.items() if k not in _NOT_OUTPUTS}
        public["notes"] = list(test.metadata.get("notes", []))
        return [directory / MAP_FILE, directory / PREVIEW_FILE,
                write_json(directory / SUMMARY_FILE, public)]
