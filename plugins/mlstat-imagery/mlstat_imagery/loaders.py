"""Loaders: a scene with training labels and field points, as one row per labelled pixel or
reference point.

The frame's columns: ``record_id``; ``source`` (``labelled_pixel`` or ``field_point``); ``row``,
``col`` (pixel on the scene grid) and ``x``, ``y`` (its centre, or the point, in the scene's
CRS); ``class_code`` and ``land_cover`` (the reference class); ``label`` (the target:
``built_up`` / ``other``, or the land-cover class in multi-class mode); then the features, the
bands (``band_<name>``) and the spectral indices. ``Dataset.metadata`` carries what whole-scene
inference needs: ``scene`` (a :class:`~mlstat_imagery.scene.SceneInfo` as a dict),
``features`` (bands, band roles, indices), ``classes``, ``positive_label``, ``counts`` and
``notes`` (every reconciliation made, in plain words).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.components import ColumnRoles, Dataset, Loader
from mlstat_core.errors import DataError
from mlstat_core.io import resolve_path
from mlstat_imagery import fill
from mlstat_imagery.features import check_indices, feature_names, feature_stack
from mlstat_imagery.params import LandsatNcParams, SceneParams
from mlstat_imagery.scene import (
    BUNDLED_SCENE,
    SceneInfo,
    StoredScalingWarning,
    ZeroFillWarning,
    gather_by_tile,
    label_raster_pixels,
    open_scene,
    points_on_grid,
    polygon_pixels,
    read_vector,
    read_window,
    scaling_warning,
    stored_scaling,
)

UNUSABLE_POINTS_SHARE = 0.10
"""Share of field points outside the scene or on nodata above which the loader warns."""
_ANNOUNCED: set[str] = set()
"""Unusable-points warnings already shown in this process (see :func:`_announce`)."""
BUILT_UP = "built_up"
OTHER = "other"
LABELLED = "labelled_pixel"
FIELD = "field_point"
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".jp2")
BUNDLED = BUNDLED_SCENE
CHANGE_NOTE = ("The field points were labelled in 1996 and the imagery is from 2000: part of "
               "the disagreement between map and field data is real change on the ground "
               "(new built-up land), not model error.")


def pixel_values(info: SceneInfo, rows: np.ndarray, cols: np.ndarray, band_roles: dict[str, str],
                 indices: list[str], tile: int = 256) -> np.ndarray:
    """Features (bands then indices) at these pixels, read tile by tile (bounded memory)."""
    n_features = len(info.bands) + len(indices)
    out = np.full((len(rows), n_features), np.nan, dtype=np.float32)
    if not len(rows):
        return out
    return gather_by_tile(
        info, rows, cols, tile,
        lambda r, c, h, w: feature_stack(read_window(info, r, c, h, w), info.bands, band_roles,
                                         indices), out)


class SceneLoader(Loader):
    """Any scene: bands (torchgeo), training labels (raster or polygons), field points."""

    params_type: type[SceneParams] = SceneParams

    def __init__(self, params: SceneParams | None = None) -> None:
        super().__init__(params if params is not None else self.params_type())

    def directory(self, base_dir: Path) -> Path:
        """The scene folder, resolved as the core resolves input paths (``~`` expanded, a
        relative path taken from ``base_dir``)."""
        return resolve_path(self.params.directory or ".", base_dir)

    def load(self, base_dir: Path) -> Dataset:
        p: SceneParams = self.params
        directory = self.directory(base_dir)
        if not directory.is_dir():
            raise DataError(f"scene folder {directory} does not exist")
        check_indices(list(p.indices), p.band_roles)
        info = open_scene(directory, p.band_pattern, list(p.bands))
        info.scale, info.offset = p.scale, p.offset
        notes = info.notes
        scaling = scaling_warning(stored_scaling(info), p.scale, p.offset)
        if scaling:
            notes.append(scaling)
            warnings.warn(scaling, StoredScalingWarning, stacklevel=2)
        sources = sorted({Path(f) for f in info.files.values()})
        classes = {int(k): v for k, v in p.classes.items()}
        counts: dict[str, Any] = {}
        parts: list[pd.DataFrame] = []

        points = None
        if p.points:
            path = resolve_path(p.points, directory)
            frame = read_vector(path, p.vector_crs, info, p.grid_tolerance, notes, "points",
                                p.points_layer)
            sources += _vector_files(path)
            rows, cols, x, y, codes = points_on_grid(frame, p.points_field, info, path)
            self._check_codes(codes, classes, path)
            counts["field_points_duplicated"] = _warn_duplicates(x, y, codes, frame.index,
                                                                 path.name)
            inside = rows >= 0
            counts["field_points_total"] = len(rows)
            counts["field_points_outside_scene"] = int((~inside).sum())
            if not inside.any():
                raise DataError(
                    f"none of the {len(rows)} points of {path} falls inside the scene "
                    f"(bounds {tuple(round(b) for b in info.bounds)} in the scene's CRS): their "
                    "CRS cannot be reconciled with the scene's; check the .prj or `vector_crs`")
            points = pd.DataFrame({
                "record_id": [f"pt_{i}" for i in frame.index],
                "source": FIELD, "row": rows, "col": cols, "x": x, "y": y,
                "class_code": codes.astype(np.int64)})[inside]
        if p.labels:
            path = resolve_path(p.labels, directory)
            if path.suffix.lower() in RASTER_SUFFIXES:
                if not path.is_file():
                    raise DataError(f"label raster {path} does not exist")
                rows, cols, codes = label_raster_pixels(path, info, p.grid_tolerance, notes)
                sources.append(path)
            else:
                frame = read_vector(path, p.vector_crs, info, p.grid_tolerance, notes, "labels",
                                    p.labels_layer)
                rows, cols, codes = polygon_pixels(frame, p.labels_field, info, path)
                sources += _vector_files(path)
            self._check_codes(codes, classes, path)
            counts["labelled_pixels_total"] = len(rows)
            a, _, c, _, e, f = info.transform
            pixels = pd.DataFrame({
                "record_id": [f"px_{r}_{q}" for r, q in zip(rows, cols, strict=True)],
                "source": LABELLED, "row": rows, "col": cols,
                "x": c + a * (cols + 0.5), "y": f + e * (rows + 0.5), "class_code": codes})
            if points is not None and p.field_buffer >= 0:
                near = _near_points(pixels, points, p.field_buffer)
                counts["labelled_pixels_near_field_points"] = int(near.sum())
                pixels = pixels[~near]
            parts.append(pixels)
        if points is not None:
            parts.append(points)
        if not parts:
            raise DataError("the loader needs `labels` (training) and/or `points` (field data)")
        table = pd.concat(parts, ignore_index=True)

        names = feature_names(list(info.bands), list(p.indices))
        values = pixel_values(info, table["row"].to_numpy(), table["col"].to_numpy(),
                              p.band_roles, list(p.indices))
        table = pd.concat([table, pd.DataFrame(values, columns=names)], axis=1)
        valid = ~np.isnan(values).any(axis=1)
        is_point = (table["source"] == FIELD).to_numpy()
        _warn_zero_fill(info, values, valid, is_point, table["row"].to_numpy(),
                        table["col"].to_numpy())
        _warn_negative_bands(info, values[valid])
        counts["field_points_on_nodata"] = int((is_point & ~valid).sum())
        counts["labelled_pixels_on_nodata"] = int((~is_point & ~valid).sum())
        table = table[valid].reset_index(drop=True)
        counts["field_points_usable"] = int((table["source"] == FIELD).sum())
        if points is not None:
            _warn_unusable_points(counts, Path(p.points).name)
        counts["labelled_pixels_usable"] = int((table["source"] == LABELLED).sum())
        if counts["labelled_pixels_usable"] == 0 and p.labels:
            raise DataError("no labelled pixel has data in every band; check the nodata values")

        table["land_cover"] = table["class_code"].map(classes)
        if p.mode == "binary":
            table["label"] = np.where(table["land_cover"] == p.positive_class, BUILT_UP, OTHER)
            positive = BUILT_UP
            class_list = [BUILT_UP, OTHER]
        else:
            table["label"] = table["land_cover"]
            positive = p.positive_class
            class_list = [classes[k] for k in sorted(classes)]
        columns = ["record_id", "source", "row", "col", "x", "y", "class_code", "land_cover",
                   "label", *names]
        table = table[columns]
        metadata = {
            "scene": info.as_dict(),
            "features": {"bands": list(info.bands), "band_roles": dict(p.band_roles),
                         "indices": list(p.indices), "columns": names},
            "classes": class_list,
            "class_codes": {str(k): v for k, v in classes.items()},
            "positive_label": positive,
            "positive_class": p.positive_class,
            "mode": p.mode,
            "counts": counts,
            "notes": notes,
        }
        roles = ColumnRoles(id="record_id", target="label", features=names,
                            groups=None, auxiliary=[])
        return Dataset(frame=table, roles=roles, name=self.dataset_name(directory),
                       sources=sources, metadata=metadata)

    def dataset_name(self, directory: Path) -> str:
        return directory.name or "scene"

    @staticmethod
    def _check_codes(codes: np.ndarray, classes: dict[int, str], path: Path) -> None:
        values = pd.to_numeric(pd.Series(codes), errors="coerce")
        unknown = sorted({str(v) for v, n in zip(codes, values, strict=True)
                          if pd.isna(n) or int(n) not in classes})
        if unknown:
            raise DataError(
                f"{path.name} has class code(s) {', '.join(unknown[:10])} that do not exist in "
                f"`classes` ({', '.join(f'{k}={v}' for k, v in sorted(classes.items()))}); "
                "add them to `classes` in [loader] or fix the reference data")


class LandsatNcLoader(SceneLoader):
    """The bundled North Carolina scene (see ``data/DATA.md`` for its source and quirks)."""

    params_type = LandsatNcParams

    def directory(self, base_dir: Path) -> Path:
        if self.params.directory is None:
            return BUNDLED
        return super().directory(base_dir)

    def load(self, base_dir: Path) -> Dataset:
        dataset = super().load(base_dir)
        defaults = LandsatNcParams()
        if (self.params.band_pattern, self.params.points) == (defaults.band_pattern,
                                                              defaults.points):
            # the bundled files (or a copy): not a user's own scene read through this loader
            dataset.metadata["notes"].append(CHANGE_NOTE)
        return dataset

    def dataset_name(self, directory: Path) -> str:
        return "landsat_nc"


def _warn_unusable_points(counts: dict[str, Any], name: str) -> None:
    """Warn when more than :data:`UNUSABLE_POINTS_SHARE` of the field points fall outside the
    scene or on nodata: the accuracy and area figures then rest on the others only, and a
    large share usually means the points' CRS or the scene is wrong."""
    total = counts["field_points_total"]
    outside, nodata = counts["field_points_outside_scene"], counts["field_points_on_nodata"]
    if not total or (outside + nodata) / total <= UNUSABLE_POINTS_SHARE:
        return
    parts, causes = [], []
    if outside:
        parts.append(f"{outside:,} ({outside / total:.1%}) outside the scene")
        causes.append("points outside the scene usually mean a wrong CRS of the points (the "
                      ".prj, or `vector_crs`), a scene other than the one the sample was drawn "
                      "for, or a sample drawn over a larger area")
    if nodata:
        parts.append(f"{nodata:,} ({nodata / total:.1%}) on pixels without data in some band")
        causes.append("points on nodata usually mean a band with gaps (leave it out of "
                      "`bands`) or masked areas (clouds, scan-line gaps)")
    lost = outside + nodata
    why = "; ".join(causes)
    _announce(
        f"{lost:,} of the {total:,} field points of {name} ({lost / total:.1%}) cannot be "
        f"used: {' and '.join(parts)}; the accuracy and area figures rest on the other "
        f"{counts['field_points_usable']:,} only. {why[0].upper()}{why[1:]}.")


def _warn_duplicates(x: np.ndarray, y: np.ndarray, codes: np.ndarray, index: Any,
                     name: str) -> int:
    """Warn about field points that repeat an earlier point's coordinates and class code
    (kept: each counts in the figures, as a sample drawn with replacement would have it);
    their number."""
    table = pd.DataFrame({"x": x, "y": y, "code": codes})
    repeated = table.duplicated(keep="first").to_numpy()
    count = int(repeated.sum())
    if count:
        first = int(np.nonzero(repeated)[0][0])
        same = table.iloc[:first][(table.iloc[:first] == table.iloc[first]).all(axis=1)]
        warnings.warn(
            f"{count:,} of the {len(table):,} field points of {name} repeat the coordinates and "
            f"class code of an earlier point (e.g. pt_{index[first]} repeats "
            f"pt_{index[same.index[0]]}): each is kept and counted as a separate point in the "
            "accuracy and area figures, which copies of one observation would weigh twice; "
            f"delete the copies from {name} if they are not separate observations",
            DuplicatePointsWarning, stacklevel=3)
    return count


class DuplicatePointsWarning(UserWarning):
    """Field points that repeat another's coordinates and class code."""


def _warn_negative_bands(info: SceneInfo, values: np.ndarray) -> None:
    """Warn about bands that read 0 or below at every record with data: reflectance lies in
    0 to 1, so a scale or offset that does not fit the stored values (Collection 2's on
    digital numbers) has sent the band below 0, and every index of it is clipped to 0."""
    if not len(values):
        return
    low, high = values[:, : len(info.bands)].min(axis=0), values[:, : len(info.bands)].max(axis=0)
    below = [f"band {b} reads {lo:.4g} to {hi:.4g}" for b, lo, hi in
             zip(info.bands, low, high, strict=True) if hi <= 0]
    if not below:
        return
    scaling = f"scale {info.scale:.7g} and offset {info.offset:.7g}" \
        if (info.scale, info.offset) != (1.0, 0.0) else "no scale or offset"
    warnings.warn(
        f"{'; '.join(below)} at all {len(values):,} labelled pixels and field points with data "
        f"(after {scaling}): reflectance lies between 0 and 1, so the indices of such a band "
        "are clipped and the model learns from no signal; check [loader] scale and offset "
        "against the product the bands come from (digital numbers of 0-255 take scale = 1 "
        "and offset = 0; Landsat Collection 2 Level-2 stores 7,273-43,636 for reflectance 0-1)",
        BandRangeWarning, stacklevel=3)


class BandRangeWarning(UserWarning):
    """A band that reads 0 or below everywhere after scale and offset."""


def _warn_zero_fill(info: SceneInfo, values: np.ndarray, valid: np.ndarray,
                    is_point: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> None:
    """Warn when records lie on pixels that hold one value in every band (a typical fill
    value, with fewer than four bands, and 255 there only in a run reaching the scene's left
    or right edge: see :mod:`mlstat_imagery.fill`) that is not the declared nodata: the fill
    around an image (0 around Sentinel-2 tiles, -99999 or 65535 in many exports), or fill
    whose nodata tag was lost or rewritten, which would be trained on, mapped and counted in
    the areas as land."""
    bands = values[:, : len(info.bands)].T
    found = np.where(valid, fill.constant_values(bands, info), np.nan)
    for value in fill.edge_values(bands, info).tolist():  # white in 8-bit RGB: at the edge
        held = np.nonzero(valid & (bands == np.float32(value)).all(axis=0))[0]
        if len(held):
            found[held[fill.on_edge_runs(info, rows[held], cols[held], value)]] = value
    for value, count in fill.value_counts(found).items():
        if count < fill.MIN_RECORDS and not fill.is_typical(value, info):
            continue
        on = found == np.float32(value)
        pixels, points = int((on & ~is_point).sum()), int((on & is_point).sum())
        shown = fill.stored_value(value, info)
        warnings.warn(
            f"{pixels:,} labelled pixel(s) and {points:,} field point(s) lie on pixels that "
            f"are {shown} in every band, and {fill.declared(info)}: that is usually the fill "
            "around the image, which is then trained on, mapped and counted in the areas as "
            "land; "
            f"{fill.fix(value, info)}", ZeroFillWarning, stacklevel=3)


class UnusableFieldPointsWarning(UserWarning):
    """Many field points fall outside the scene or on nodata (:data:`UNUSABLE_POINTS_SHARE`)."""


def _announce(message: str) -> None:
    """Warn with ``message`` (from ``load``), the same message once per process unless the
    warning filters ask for every occurrence: a run records its warnings with ``"always"``, so
    each run's report keeps it, while loading the same points on the same scene again (the
    conformance suite loads the bundled scene three times) does not print it again. Python's
    own once-per-location rule does not hold here: every ``catch_warnings`` resets it."""
    action = _filter_action(message, UnusableFieldPointsWarning)
    if action == "ignore" or (message in _ANNOUNCED and action not in ("always", "error")):
        return
    _ANNOUNCED.add(message)
    warnings.warn(message, UnusableFieldPointsWarning, stacklevel=3)


def _filter_action(message: str, category: type[Warning]) -> str:
    """The action of the first warning filter that matches a warning of this module (filters
    tied to a line number are not matched), else Python's default action."""
    for action, text, kind, module, lineno in warnings.filters:
        if (text is None or text.match(message)) and issubclass(category, kind) \
                and (module is None or module.match(__name__)) and not lineno:
            return action
    return warnings.defaultaction


def _vector_files(path: Path) -> list[Path]:
    """A shapefile is several files; fingerprint the ones that hold data."""
    if path.suffix.lower() != ".shp":
        return [path]
    return [q for q in (path.with_suffix(s) for s in (".shp", ".shx", ".dbf", ".prj"))
            if q.is_file()]


def _near_points(pixels: pd.DataFrame, points: pd.DataFrame, buffer: int) -> np.ndarray:
    """True for pixels within ``buffer`` pixels (Chebyshev distance) of a field point."""
    taken: set[tuple[int, int]] = set()
    for r, c in zip(points["row"], points["col"], strict=True):
        for dr in range(-buffer, buffer + 1):
            for dc in range(-buffer, buffer + 1):
                taken.add((int(r) + dr, int(c) + dc))
    return np.array([(int(r), int(c)) in taken for r, c in
                     zip(pixels["row"], pixels["col"], strict=True)], dtype=bool)
