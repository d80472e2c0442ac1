"""A raster scene: its grid (CRS, transform, size), its bands read through torchgeo, and the
placing of reference data (label rasters, polygons, points) on that grid.

A :class:`SceneInfo` is plain data (JSON-able), so it travels in ``Dataset.metadata`` and in a
saved model's state; :func:`read_window` reads any window of it (edges padded with NaN), which
is what the tiled whole-scene map and the CNN's patches use.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlstat_core.errors import DataError

BUNDLED_SCENE = Path(__file__).parent / "data" / "landsat_nc"
"""The scene shipped with the plugin (``imagery.landsat_nc`` without a ``directory``)."""
BUNDLED_MARK = "bundled:landsat_nc"
"""How a saved scene names :data:`BUNDLED_SCENE`: where the plugin is installed differs
from one machine to another (a run trained on a desktop is scored on a server)."""


def _portable(path: str) -> str:
    """``path`` as saved: under the bundled scene, by :data:`BUNDLED_MARK`."""
    try:
        inside = Path(path).resolve().relative_to(BUNDLED_SCENE.resolve())
    except (ValueError, OSError):
        return path
    return "/".join([BUNDLED_MARK, *inside.parts])


_BUNDLED_TAIL = ("mlstat_imagery", "data", "landsat_nc")
"""How the bundled scene's folder ends wherever the plugin is installed."""


def _installed(path: str) -> str:
    """A saved path as a path of this machine: :data:`BUNDLED_MARK` is this install's
    bundled scene, and so is a bundled scene's folder saved as an absolute path (before the
    mark) that is not on this machine (another install, another system)."""
    if path == BUNDLED_MARK or path.startswith(BUNDLED_MARK + "/"):
        return str(BUNDLED_SCENE.joinpath(*path[len(BUNDLED_MARK):].split("/")[1:]))
    parts = re.split(r"[\\/]", path)
    ends = [i for i in range(len(parts) - 2) if tuple(parts[i:i + 3]) == _BUNDLED_TAIL]
    if ends and not Path(path).exists():
        return str(BUNDLED_SCENE.joinpath(*parts[ends[-1] + 3:]))
    return path


@dataclass
class SceneInfo:
    """Where a scene's bands are and the grid they are read on."""

    directory: str
    pattern: str
    bands: list[str]
    files: dict[str, str]
    crs_wkt: str
    epsg: int | None
    transform: list[float]
    """Affine (a, b, c, d, e, f): x = a*col + c, y = e*row + f."""
    width: int
    height: int
    nodata: dict[str, float | None]
    notes: list[str] = field(default_factory=list)
    scale: float = 1.0
    """Stored values times ``scale`` plus ``offset`` are the values read (reflectance); a
    scene saved before these existed reads its values as stored."""
    offset: float = 0.0
    masked: list[str] = field(default_factory=list)
    """Bands whose files carry a GDAL mask (an internal or ``.msk`` mask, for the file or the
    band, or an alpha band) and declare no nodata value: their masked pixels read as nodata.
    A scene saved before this existed lists none."""

    @property
    def multiband(self) -> bool:
        return "{band}" not in self.pattern

    @property
    def res(self) -> tuple[float, float]:
        return abs(self.transform[0]), abs(self.transform[4])

    @property
    def pixel_area(self) -> float:
        """Area of one pixel in m²: the CRS's unit converted (a scene in US survey feet gives
        m², not ft², so areas in km² hold whatever the unit)."""
        return self.res[0] * self.res[1] * metres_per_unit(self.crs()) ** 2

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        a, _, c, _, e, f = self.transform
        return c, f + e * self.height, c + a * self.width, f

    def affine(self) -> Any:
        from affine import Affine

        return Affine(*self.transform)

    def crs(self) -> Any:
        from pyproj import CRS

        return CRS.from_wkt(self.crs_wkt)

    def as_dict(self) -> dict[str, Any]:
        """As saved with a model: the bundled scene's paths by :data:`BUNDLED_MARK`, so that
        the model scores wherever the plugin is installed; a scene of the user's own keeps
        its path (the model reads its pixels there)."""
        data = asdict(self)
        data["directory"] = _portable(self.directory)
        data["files"] = {b: _portable(f) for b, f in self.files.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SceneInfo:
        info = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        info.directory = _installed(info.directory)
        info.files = {b: _installed(f) for b, f in info.files.items()}
        return info


def metres_per_unit(crs: Any) -> float:
    """Metres in one unit of a projected CRS's x axis (1 for metres, 0.3048... for feet)."""
    axes = crs.axis_info
    return float(axes[0].unit_conversion_factor) if axes else 1.0


def band_files(directory: Path, pattern: str, bands: list[str]) -> dict[str, Path]:
    """Band name -> file; every file must exist."""
    if "{band}" in pattern:
        files = {b: directory / pattern.replace("{band}", b) for b in bands}
    else:
        files = dict.fromkeys(bands, directory / pattern)
    missing = sorted({str(p) for p in files.values() if not p.is_file()})
    if missing:
        raise DataError(f"band file(s) missing: {', '.join(missing)}; check `directory`, "
                        "`band_pattern` and `bands` in [loader]")
    return files


def check_raster(path: Path, what: str, field_name: str) -> None:
    """One DataError naming ``path``, what is wrong and the fix when it is not a raster GDAL
    can read, is truncated or damaged (its header, or its last block: where an interrupted
    copy or download ends), or has no georeferencing or no CRS. Torchgeo skips files it
    cannot open and then says only that no dataset was found, so band files are checked
    before they reach it; ``field_name`` is the [loader] key that names the file."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioError
    from rasterio.windows import Window

    replace = (f"put the GeoTIFF there, or correct `{field_name}` in [loader] if the file is "
               "not one")
    if path.stat().st_size == 0:
        raise DataError(f"{what} {path} is empty (0 bytes); {replace}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        try:
            src = rasterio.open(path)
        except RasterioError as exc:
            if "not recognized as being in a supported file format" in str(exc):
                detail = "it holds text" if _looks_like_text(path) \
                    else "GDAL does not recognise its format"
                raise DataError(f"{what} {path} is not a raster ({detail}); {replace}") \
                    from None
            raise DataError(f"{what} {path} cannot be read (GDAL: {exc}); if it is "
                            "truncated or damaged, copy or download it again") from None
    with src:
        if src.transform.is_identity and not src.gcps[0]:
            kind = "a TIFF without GeoTIFF tags" if src.driver == "GTiff" \
                else f"a plain {src.driver} image"
            raise DataError(f"{what} {path} has no georeferencing ({kind}: nothing places its "
                            "pixels on the ground); give it as a GeoTIFF with its grid and "
                            "CRS (for example gdal_translate -a_ullr ... -a_srs EPSG:...)")
        if src.crs is None:
            raise DataError(f"{what} {path} has no CRS; give it one (gdal_edit.py -a_srs) so "
                            "that it can be placed on the scene grid")
        block_h, block_w = src.block_shapes[0]
        row0 = (src.height - 1) // block_h * block_h
        col0 = (src.width - 1) // block_w * block_w
        try:
            src.read(window=Window(col0, row0, src.width - col0, src.height - row0))
        except RasterioError as exc:
            raise DataError(f"{what} {path} is truncated or damaged: its last block cannot be "
                            f"read (GDAL: {exc}); copy or download it again") from None


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(512)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def gdal_mask(src: Any, index: int = 1) -> str | None:
    """The GDAL mask of band ``index`` of an open raster beyond a nodata value: None (none,
    or only the nodata value), ``"warpable"`` (a mask of the file or an alpha band, no nodata
    value: GDAL's warp honours it) or ``"not warpable"`` (a mask of the band alone, or one
    beside a nodata value: the warp ignores it)."""
    from rasterio.enums import MaskFlags

    flags = set(src.mask_flag_enums[index - 1])
    if flags & {MaskFlags.all_valid, MaskFlags.nodata}:
        return None
    honoured = src.nodatavals[index - 1] is None and MaskFlags.per_dataset in flags
    return "warpable" if honoured else "not warpable"


def open_scene(directory: Path, pattern: str, bands: list[str]) -> SceneInfo:
    """Index the scene's band files with torchgeo and describe the grid they are read on
    (the first file's CRS and resolution; other files are warped to it by torchgeo)."""
    import rasterio

    files = band_files(directory, pattern, bands)
    for path in dict.fromkeys(files.values()):
        check_raster(path, "band file", "band_pattern")
    forget_changed_scenes([str(p) for p in files.values()], str(directory))
    dataset = _raster_dataset(str(directory), pattern, tuple(bands))
    xmin, xmax, ymin, ymax = _xy_bounds(dataset)
    resx, resy = dataset.res
    width, height = round((xmax - xmin) / resx), round((ymax - ymin) / resy)
    order = file_band_names(next(iter(files.values())), bands) if "{band}" not in pattern \
        else None
    nodata: dict[str, float | None] = {}
    masked: list[str] = []
    for band, path in files.items():
        try:
            with rasterio.open(path) as src:
                index = order.index(band) + 1 if order is not None else 1
                if src.count < index:
                    raise DataError(f"{path} has {src.count} band(s) and `bands` lists "
                                    f"{len(bands)}, read in file order: list at most "
                                    f"{src.count} in `bands` (the file's bands, in order)")
                value = src.nodatavals[index - 1]
                mask = gdal_mask(src, index)
        except rasterio.errors.RasterioIOError as exc:
            raise DataError(f"cannot read band file {path}: {exc}") from None
        nodata[band] = None if value is None or (isinstance(value, float) and math.isnan(value)) \
            else float(value)
        if nodata[band] is None and mask:  # a mask of the file, of the band, or alpha
            masked.append(band)
    if order is not None:
        _warn_file_order(next(iter(files.values())), bands)
    with rasterio.open(next(iter(files.values()))) as first:
        crs = first.crs if first.crs is not None else dataset.crs
    if crs.is_geographic:
        raise DataError(
            f"band file {next(iter(files.values()))} is in a geographic CRS "
            f"({_crs_name(crs.to_wkt())}, degrees of latitude and longitude), where pixels "
            "have no fixed area on the ground, so mapped areas would be wrong; reproject the "
            "bands to a projected CRS in metres, for example UTM (gdalwarp -t_srs EPSG:326NN "
            "-tr 30 30 -r near IN.tif OUT.tif), and run again")
    notes = _grid_notes(files, crs, (resx, resy), bands[0])
    _warn_grids(files, crs)
    info = SceneInfo(
        directory=str(directory), pattern=pattern, bands=list(bands),
        files={b: str(p) for b, p in files.items()}, crs_wkt=crs.to_wkt(), epsg=crs.to_epsg(),
        transform=[resx, 0.0, xmin, 0.0, -resy, ymax], width=width, height=height,
        nodata=nodata, notes=notes, masked=masked)
    check_masked_files(info)
    return info


def stored_scaling(info: SceneInfo) -> dict[str, tuple[float, float]]:
    """The scale and offset that band files declare for each band (GDAL metadata, as
    ``gdal_edit.py -scale -offset`` writes them); 1 and 0 where a file declares none (or a
    value that is no number)."""
    import rasterio

    order = file_band_names(Path(info.files[info.bands[0]]), info.bands) \
        if info.multiband else None
    found: dict[str, tuple[float, float]] = {}
    for band, path in info.files.items():
        with rasterio.open(path) as src:
            index = order.index(band) if order is not None else 0
            scale, offset = src.scales[index], src.offsets[index]
        found[band] = (float(scale) if _finite(scale) and scale > 0 else 1.0,
                       float(offset) if _finite(offset) else 0.0)
    return found


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """The same scale and offset, but for float32 rounding (a scale carried over from netCDF
    reads 9.9999997e-05 for 0.0001)."""
    return math.isclose(a[0], b[0], rel_tol=1e-6) and math.isclose(a[1], b[1], rel_tol=1e-6,
                                                                    abs_tol=1e-9)


def scaling_warning(declared: dict[str, tuple[float, float]], scale: float, offset: float
                    ) -> str | None:
    """Why the loader's ``scale`` and ``offset`` do not read the bands as their files say
    (``declared``, from :func:`stored_scaling`), or None where they do: the files declare a
    scale or offset and the pipeline sets none (values read as stored) or others, or the
    bands declare different ones, which one ``scale`` and ``offset`` cannot read."""
    loader = (scale, offset)
    nothing = (1.0, 0.0)
    if all(_same(v, nothing) for v in declared.values()) or \
            all(_same(v, loader) for v in declared.values()):
        return None
    groups: list[tuple[tuple[float, float], list[str]]] = []
    for band, pair in declared.items():
        match = next((g for g in groups if _same(g[0], pair)), None)
        if match is None:
            groups.append((pair, [band]))
        else:
            match[1].append(band)
    shown = "; ".join(f"band{'s' if len(bands) > 1 else ''} {', '.join(bands)}: scale "
                      f"{_shown(s)}, offset {_shown(o)}" for (s, o), bands in groups)
    if len(groups) > 1:
        return (f"the band files declare different scales or offsets for their stored values "
                f"(GDAL metadata; {shown}), which one [loader] scale and offset cannot read "
                "as the files say; convert the bands to reflectance first (gdal_translate "
                "-unscale -ot Float32 IN.tif OUT.tif), or leave out the bands stored otherwise")
    (s, o), _ = groups[0]
    if _same(loader, (1.0, 0.0)):
        advice = " and ".join(part for part, needed in (
            (f"scale = {_shown(s)}", not _same((s, 0.0), nothing)),
            (f"offset = {_shown(o)}", not _same((1.0, o), nothing))) if needed)
        return (f"the band files declare a scale or offset for their stored values (GDAL "
                f"metadata; {shown}), and [loader] sets none, so the values are read as stored "
                "and indices such as NDVI are computed on stored numbers, not reflectance; set "
                f"[loader] {advice} to read them as the files say")
    return (f"the band files declare another scale or offset than [loader] scale = "
            f"{_shown(scale)}, offset = {_shown(offset)} ({shown}); the loader's are applied: "
            "check which is right for these files")


def _shown(value: float) -> str:
    """A scale or offset to 7 significant digits: float32's, and within the tolerance of
    :func:`_same`, so that a value copied from a message matches."""
    return f"{value:.7g}"


def _grid_notes(files: dict[str, Path], crs: Any, res: tuple[float, float],
                first: str) -> list[str]:
    """Plain-language notes on band files whose CRS or resolution differ from the scene grid
    (torchgeo warps them onto it, nearest neighbour)."""
    import rasterio

    notes = []
    for band, path in files.items():
        with rasterio.open(path) as src:
            other_crs = src.crs != crs
            other_res = any(abs(a - b) > 1e-6 * b for a, b in zip(src.res, res, strict=True))
            if other_crs or other_res:
                what = " and ".join(
                    x for x, flag in ((f"CRS {_crs_name(src.crs.to_wkt())}", other_crs),
                                      (f"resolution {src.res[0]:g} x {src.res[1]:g}", other_res))
                    if flag)
                notes.append(
                    f"band {band} ({path.name}) is on {what}: resampled onto the scene grid of "
                    f"band {first} ({_crs_name(crs.to_wkt())}, {res[0]:g} x {res[1]:g}) by "
                    "nearest neighbour, values unchanged")
    return notes


def _warn_grids(files: dict[str, Path], crs: Any) -> None:
    """Warn when band files cover other extents or have other pixel sizes than the first
    band's file, whose extent and pixel size the scene takes: a smaller first band shrinks the
    scene, a coarser one maps the whole scene at its pixel size, and a band smaller than the
    first leaves the rest without data."""
    import rasterio
    from rasterio.warp import transform_bounds

    paths = list(dict.fromkeys(files.values()))
    if len(paths) < 2:
        return
    first_band = next(iter(files))
    with rasterio.open(paths[0]) as src:
        bounds, res = tuple(src.bounds), src.res
    tolerance = max(res) / 2
    odd = []
    for band, path in list(files.items())[1:]:
        with rasterio.open(path) as src:
            same_crs = src.crs == crs
            other = tuple(src.bounds) if same_crs \
                else transform_bounds(src.crs, crs, *src.bounds)
            other_res = src.res if same_crs else None
        differs = []
        if same_crs and any(abs(a - b) > tolerance for a, b in zip(other, bounds, strict=True)) \
                or not same_crs and not _covers(other, bounds, tolerance):
            differs.append(f"covers {_extent(other)}")
        if other_res is not None and any(abs(a - b) > 1e-6 * b for a, b in
                                         zip(other_res, res, strict=True)):
            differs.append(f"has pixels of {other_res[0]:g} x {other_res[1]:g}")
        if differs:
            odd.append(f"band {band} ({path.name}) {' and '.join(differs)}")
    if odd:
        warnings.warn(
            f"the band files are not on one grid: {'; '.join(odd)}, while band {first_band} "
            f"({paths[0].name}), whose extent and pixel size the scene takes, covers "
            f"{_extent(bounds)} with pixels of {res[0]:g} x {res[1]:g}; the scene is mapped on "
            f"band {first_band}'s grid: land beyond it is left out, other bands are resampled "
            "to its pixels, and land a band does not cover has no data; bring the bands to one "
            "grid (gdalwarp -te XMIN YMIN XMAX YMAX -tr XRES YRES -r near) or put the band of "
            "the wanted grid first in `bands`", GridWarning, stacklevel=3)


def _covers(outer: tuple[float, ...], inner: tuple[float, ...], tolerance: float) -> bool:
    """Whether bounds ``outer`` hold bounds ``inner`` (within ``tolerance``): a band on another
    CRS covers the scene though its reprojected bounds are larger."""
    return outer[0] <= inner[0] + tolerance and outer[1] <= inner[1] + tolerance \
        and outer[2] >= inner[2] - tolerance and outer[3] >= inner[3] - tolerance


def _extent(bounds: tuple[float, ...]) -> str:
    left, bottom, right, top = bounds
    return f"x {left:,.0f} to {right:,.0f}, y {bottom:,.0f} to {top:,.0f}"


def file_band_names(path: Path, bands: list[str]) -> tuple[str, ...]:
    """The names of a multi-band file's bands, in file order, as the scene reads them: the
    file's own band names (descriptions) when they name every band of ``bands`` (matched
    regardless of case), so each band is read by its name; else ``bands``, read in file order.
    A file that names some of ``bands`` but not all is a DataError: reading it in file order
    would feed one band's values to another band's name."""
    import rasterio

    with rasterio.open(path) as src:
        names = [(d or "").strip() for d in src.descriptions]
    by_name = {name.casefold(): i for i, name in reversed(list(enumerate(names))) if name}
    found = [b for b in bands if b.strip().casefold() in by_name]
    if not found:
        return tuple(bands)
    if len(found) < len(bands):
        missing = [b for b in bands if b not in found]
        raise DataError(
            f"{path.name} names its bands {', '.join(n or '(unnamed)' for n in names)}, and "
            f"`bands` lists {', '.join(missing)}, which it does not name: list in `bands` the "
            "file's band names (each band is then read by its name), or names that match none "
            "of them to read the bands in file order")
    out = [f"#{i + 1}" for i in range(len(names))]
    for band in bands:
        out[by_name[band.strip().casefold()]] = band
    return tuple(out)


def _warn_file_order(path: Path, bands: list[str]) -> None:
    """Warn when a multi-band file's bands are read in file order while the file names its
    bands otherwise than `bands` or holds more bands than listed: each band may then be read
    under another band's name."""
    import rasterio

    with rasterio.open(path) as src:
        names, count = [(d or "").strip() for d in src.descriptions], src.count
    known = {n.casefold() for n in names if n}
    if any(b.strip().casefold() in known for b in bands) or \
            (not any(names) and count == len(bands)):  # read by name, or nothing to say
        return
    what = f"names its {count} bands {', '.join(n or '(unnamed)' for n in names)}" \
        if any(names) else f"holds {count} bands (unnamed)"
    message = (f"{path.name} {what}, and `bands` lists {', '.join(bands)}: the first "
               f"{len(bands)} of the file's bands were taken in file order as "
               f"{', '.join(bands)}, which may read one band under another's name; list in "
               "`bands` the file's band names (each is then read by its name)"
               + (", or name its bands (for example with rasterio's set_band_description)"
                  if not any(names) else ""))
    warnings.warn(message, BandOrderWarning, stacklevel=3)


def _xy_bounds(dataset: Any) -> tuple[float, float, float, float]:
    x, y = dataset.bounds[0], dataset.bounds[1]
    return float(x.start), float(x.stop), float(y.start), float(y.stop)


@functools.lru_cache(maxsize=8)
def _raster_dataset(directory: str, pattern: str, bands: tuple[str, ...]) -> Any:
    """A torchgeo RasterDataset over the band files (nearest resampling: values unchanged).

    It indexes the named files only (the first band's file, which locates the others), never
    the folder: torchgeo searches a folder's subfolders too and would mosaic any file of the
    same name there (an older scene kept in a subfolder) into this one."""
    from rasterio.enums import Resampling
    from torchgeo.datasets import RasterDataset

    name = Path(pattern).name
    if "{band}" in pattern:
        before, after = name.split("{band}", 1)
        attrs = {
            "filename_glob": name.replace("{band}", bands[0]),
            "filename_regex": re.escape(before) + "(?P<band>"
            + "|".join(re.escape(b) for b in bands) + ")" + re.escape(after) + "$",
            "separate_files": True,
            "all_bands": bands,
        }
        first = Path(directory) / pattern.replace("{band}", bands[0])
    else:
        first = Path(directory) / pattern
        attrs = {"filename_glob": name, "filename_regex": re.escape(name) + "$",
                 "separate_files": False, "all_bands": file_band_names(first, list(bands))}
    attrs.update(resampling=Resampling.nearest, is_image=True)
    cls = type("SceneBands", (RasterDataset,), attrs)
    try:
        return cls(paths=str(first), bands=list(bands), cache=True)
    except Exception as exc:  # torchgeo's DatasetNotFoundError and rasterio errors
        raise DataError(f"torchgeo could not index the scene in {directory} "
                        f"({pattern}): {exc}") from None


def require_scene_files(info: SceneInfo) -> None:
    """The scene's band files where they were when the scene was indexed: a saved model reads
    pixels' neighbourhoods (and maps) from the scene it was trained on, at that path."""
    missing = sorted({Path(f).name for f in info.files.values() if not Path(f).is_file()})
    if not missing:
        forget_changed_scenes(info.files.values(), info.directory)
    if missing:
        raise DataError(
            f"the model needs the scene it was trained on in {info.directory}, and "
            f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''} are no longer "
            "there: it reads each pixel's neighbourhood (and the map) from that scene's band "
            "files by row/col; put the scene back in that folder (a copy or a link), or train "
            "a new run on the new scene (docs/imagery.md, 'Running it cycle after cycle')")


def pixel_positions(frame: Any, info: SceneInfo) -> tuple[np.ndarray, np.ndarray]:
    """The ``row`` and ``col`` of records as integer arrays, each a pixel of the scene: a
    record without a whole-number position, or with one outside the scene, is a DataError
    that says how many records and shows one (predictions are not invented for them)."""
    import pandas as pd

    rows = pd.to_numeric(frame["row"], errors="coerce").to_numpy(dtype=np.float64)
    cols = pd.to_numeric(frame["col"], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(rows) | np.isnan(cols) | (rows % 1 != 0) | (cols % 1 != 0)
    if bad.any():
        i = int(np.nonzero(bad)[0][0])
        raise DataError(
            f"{int(bad.sum()):,} of the {len(frame):,} records scored together have no "
            f"whole-number pixel position (e.g. row {frame['row'].iloc[i]}, col "
            f"{frame['col'].iloc[i]}); give every record its row and col on the scene, or "
            "leave such records out")
    outside = (rows < 0) | (rows >= info.height) | (cols < 0) | (cols >= info.width)
    if outside.any():
        i = int(np.nonzero(outside)[0][0])
        raise DataError(
            f"{int(outside.sum()):,} of the {len(frame):,} records scored together lie outside "
            f"the scene the model was trained on (e.g. row {int(rows[i])}, col {int(cols[i])}; "
            f"the scene has {info.height:,} rows x {info.width:,} columns, numbered from 0): "
            "give positions on that scene, or leave those records out")
    return rows.astype(np.int64), cols.astype(np.int64)


def read_window(info: SceneInfo, row0: int, col0: int, height: int, width: int) -> np.ndarray:
    """Bands of a window, shape (bands, height, width), float32; nodata and the area outside
    the scene are NaN. The band files are not checked on each read (a map reads thousands of
    tiles): callers check once per batch (:func:`gather_by_tile`, the whole-scene map), and a
    scene that cannot be indexed is explained here."""
    key = (info.directory, info.pattern, tuple(info.bands), info.scale, info.offset)
    if _REUSED is not None and _REUSED.get("key") == key:
        r, c, kept = _REUSED["window"]
        if r <= row0 and c <= col0 and row0 + height <= r + kept.shape[1] \
                and col0 + width <= c + kept.shape[2]:
            return kept[:, row0 - r: row0 - r + height, col0 - c: col0 - c + width].copy()
    try:
        dataset = _raster_dataset(info.directory, info.pattern, tuple(info.bands))
    except DataError:
        require_scene_files(info)  # the band files checked only when they failed
        raise
    a, _, c, _, e, f = info.transform
    out = np.full((len(info.bands), height, width), np.nan, dtype=np.float32)
    # read only the part inside the scene, then place it
    r0, c0 = max(row0, 0), max(col0, 0)
    r1, c1 = min(row0 + height, info.height), min(col0 + width, info.width)
    if r0 >= r1 or c0 >= c1:
        return out
    xmin, xmax = c + a * c0, c + a * c1
    ymax, ymin = f + e * r0, f + e * r1
    try:
        sample = dataset[xmin:xmax:a, ymin:ymax:-e]
    except IndexError:
        return out
    data = sample["image"].numpy().astype(np.float32)
    if data.shape[1:] != (r1 - r0, c1 - c0):  # rounding at the edge of the grid
        data = data[:, : r1 - r0, : c1 - c0]
    for i, band in enumerate(info.bands):
        value = info.nodata.get(band)
        if value is not None:
            data[i][data[i] == np.float32(value)] = np.nan
    for band, valid in _masks(info, r0, c0, data.shape[1], data.shape[2]).items():
        data[info.bands.index(band)][~valid] = np.nan
    if info.scale != 1 or info.offset != 0:  # to reflectance; nodata stays NaN
        data = data * np.float32(info.scale) + np.float32(info.offset)
    out[:, r0 - row0: r0 - row0 + data.shape[1], c0 - col0: c0 - col0 + data.shape[2]] = data
    if _REUSED is not None:  # a copy: callers may change what they get
        _REUSED.update(key=key, window=(row0, col0, out.copy()))
    return out


_REUSED: dict[str, Any] | None = None
"""The last window read, while :func:`reused_reads` is on."""


@contextlib.contextmanager
def reused_reads() -> Iterator[None]:
    """Within: a window inside the last one :func:`read_window` read is cut from it, not read
    again (a map reads each tile's bands for the model, with a margin, then to count fill).
    Only for one pass over files that do not change meanwhile."""
    global _REUSED
    _REUSED = {}
    try:
        yield
    finally:
        _REUSED = None


def _masks(info: SceneInfo, row0: int, col0: int, height: int, width: int
           ) -> dict[str, np.ndarray]:
    """Where each masked band's file says there is data (GDAL mask), on the scene window
    (row0, col0, height, width): torchgeo mosaics masked pixels as 0, which would be read as
    a value. Masked files lie on the scene's grid (:func:`check_masked_files`); outside a
    file is no data. The files stay open between tiles (:func:`release_scene_files`)."""
    from rasterio.windows import Window

    out: dict[str, np.ndarray] = {}
    for band in info.masked:
        path = info.files[band]
        src, stamp = _opened(path)
        offset = _grid_offset(path, stamp, info.crs_wkt, tuple(info.transform))
        if offset is None:  # changed since the scene was opened
            raise DataError(f"band file {path} changed since the scene was read; run again")
        order = _file_bands(path, stamp, tuple(info.bands)) if info.multiband else None
        index = order.index(band) + 1 if order is not None else 1
        # the part of the window inside the file, read without GDAL's boundless reads (they
        # lose a mask of one band); outside the file is no data
        r0, c0 = row0 + offset[0], col0 + offset[1]
        top, left = max(r0, 0), max(c0, 0)
        bottom, right = min(r0 + height, src.height), min(c0 + width, src.width)
        valid = np.zeros((height, width), dtype=bool)
        if top < bottom and left < right:
            part = src.read_masks(index, window=Window(left, top, right - left, bottom - top))
            valid[top - r0: bottom - r0, left - c0: right - c0] = part > 0
        out[band] = valid
    return out


def check_masked_files(info: SceneInfo) -> None:
    """Refuse a masked band file that is not on the scene's grid (another CRS, resolution
    or a shift by part of a pixel): torchgeo resamples its values, and its mask could not be
    lined up with them pixel for pixel; a nodata value can."""
    for band in info.masked:
        path = info.files[band]
        if _grid_offset(path, _stamp(path), info.crs_wkt, tuple(info.transform)) is None:
            raise DataError(
                f"band file {path} marks missing pixels with a GDAL mask (it declares no "
                f"nodata value) and is not on the scene's grid (that of band "
                f"{info.bands[0]}: {scene_crs_name(info)}, {info.res[0]:g} x {info.res[1]:g}), "
                "so its mask cannot be lined up with its resampled values; "
                f"{onto_grid(path, info)}")


def onto_grid(path: str | Path, info: SceneInfo) -> str:
    """How to write a masked raster on the scene's grid with its mask as nodata: one gdalwarp
    where GDAL's warper honours the mask (a mask of the file or an alpha band, no nodata
    value), else two steps. Numbers in full: rounded, the grid would miss by a fraction."""
    import rasterio

    with rasterio.open(path) as src:
        honoured = gdal_mask(src) == "warpable"
    left, bottom, right, top = info.bounds
    crs = f"EPSG:{info.epsg}" if info.epsg else "<the CRS of the scene's first band>"
    warp = (f"gdalwarp -t_srs {crs} -tr {info.res[0]!r} {info.res[1]!r} -te {left!r} "
            f"{bottom!r} {right!r} {top!r} -r near -dstnodata 0")
    if honoured:
        return (f"write it on the scene's grid with its mask as nodata and run again: {warp} "
                "IN.tif OUT.tif (0, or another value it never takes)")
    return ("write it on the scene's grid with its masked pixels as nodata and run again, in "
            "two steps, as GDAL's warp does not honour this mask (of one band, or beside a "
            "nodata value): first write the masked pixels as a value V the data never take "
            "(`gdal_translate -b mask IN.tif MASK.tif`, then `gdal_calc.py -A IN.tif -B "
            "MASK.tif --outfile=FILLED.tif --calc=\"where(B>0,A,V)\" --NoDataValue=V`), then "
            f"{warp} -srcnodata V FILLED.tif OUT.tif (0, or another value it never takes)")


def _stamp(path: str) -> tuple[int, ...]:
    """What tells a file (and its ``.msk`` mask, if any) apart from the one that replaced it:
    inode, change and modification times, size."""
    stamp: tuple[int, ...] = ()
    for name in (path, f"{path}.msk", f"{path}.MSK"):
        if name == path or Path(name).exists():
            stat = Path(name).stat()
            stamp += (stat.st_ino, stat.st_ctime_ns, stat.st_mtime_ns, stat.st_size)
    return stamp


_OPENED: dict[str, tuple[tuple[int, ...], Any]] = {}
"""Masked band files kept open between tiles (opening one for each of thousands of small
tiles cost more than reading its mask): path -> (stamp, dataset)."""


def _opened(path: str) -> tuple[Any, tuple[int, ...]]:
    """The open dataset of a masked band file, opened again when the file changed."""
    import rasterio

    stamp = _stamp(path)
    kept = _OPENED.get(path)
    if kept is None or kept[0] != stamp:
        if kept is not None:
            kept[1].close()
        kept = _OPENED[path] = (stamp, rasterio.open(path))
    return kept[1], stamp


def release_scene_files() -> None:
    """Close the band files kept open (after a map or a batch of records: the masked ones
    kept between tiles, the file handles torchgeo caches), so that they can be replaced or
    deleted (Windows keeps open files locked) and the next batch reads them anew. The
    scenes' indexes are kept: :func:`forget_changed_scenes` drops those of replaced files."""
    from torchgeo.datasets import RasterDataset

    for _, dataset in _OPENED.values():
        dataset.close()
    _OPENED.clear()
    # a class-wide cache of torchgeo's, keyed by dataset and file (cache=True): it holds the
    # datasets and their open files until cleared
    RasterDataset._cached_load_warp_file.cache_clear()


_INDEXED: dict[str, tuple[tuple[int, ...], ...]] = {}
"""The stamps (:func:`_stamp`) of each indexed scene folder's band files when it was last
checked: a replaced file drops the folder's index."""


def forget_changed_scenes(files: Iterable[str], directory: str) -> None:
    """Drop the indexed scenes (:func:`_raster_dataset`) when a band file of ``directory``
    changed since it was last checked (replaced by a corrected scene between two runs of one
    process): the index holds the old file's extent and torchgeo's handles its content."""
    stamps = tuple(_stamp(f) for f in sorted(set(files)))
    if _INDEXED.get(directory, stamps) != stamps:
        release_scene_files()
        _raster_dataset.cache_clear()
    _INDEXED[directory] = stamps


@functools.lru_cache(maxsize=32)
def _file_bands(path: str, stamp: tuple[int, ...], bands: tuple[str, ...]
                ) -> tuple[str, ...]:
    """The bands of a multi-band file in file order (read once per file, not per tile)."""
    return file_band_names(Path(path), list(bands))


@functools.lru_cache(maxsize=32)
def _grid_offset(path: str, stamp: tuple[int, ...], crs_wkt: str,
                 transform: tuple[float, ...]) -> tuple[int, int] | None:
    """(row, col) in the file of the scene's pixel (0, 0), where the file lies on the scene's
    grid (same CRS and pixel size, shifted by whole pixels); None where it does not."""
    import rasterio
    from pyproj import CRS

    with rasterio.open(path) as src:
        if src.crs is None or CRS.from_wkt(src.crs.to_wkt()) != CRS.from_wkt(crs_wkt):
            return None
        a, b, c, d, e, f = tuple(src.transform)[:6]
    sa, _, sc, _, se, sf = transform
    if b or d or abs(a - sa) > 1e-6 * abs(sa) or abs(e - se) > 1e-6 * abs(se):
        return None
    col, row = (sc - c) / a, (sf - f) / e
    if abs(col - round(col)) > 1e-3 or abs(row - round(row)) > 1e-3:
        return None
    return round(row), round(col)


def tiles(info: SceneInfo, size: int) -> Iterator[tuple[int, int, int, int]]:
    """(row0, col0, height, width) of the tiles covering the scene."""
    for row0 in range(0, info.height, size):
        for col0 in range(0, info.width, size):
            yield row0, col0, min(size, info.height - row0), min(size, info.width - col0)


def gather_by_tile(info: SceneInfo, rows: np.ndarray, cols: np.ndarray, size: int,
                   compute: Callable[[int, int, int, int], np.ndarray],
                   out: np.ndarray) -> np.ndarray:
    """``out[i]`` = the values at pixel (rows[i], cols[i]) of ``compute(row0, col0, height,
    width)``, a (values, height, width) array computed once per tile of ``size`` pixels that
    holds any of the pixels: scattered pixels read with one tile in memory at a time. The
    scene's band files are checked once here, not on every tile read."""
    require_scene_files(info)
    keys = (rows // size) * 1_000_003 + cols // size
    try:
        for key in np.unique(keys):
            members = np.nonzero(keys == key)[0]
            row0 = int(rows[members[0]] // size) * size
            col0 = int(cols[members[0]] // size) * size
            h, w = min(size, info.height - row0), min(size, info.width - col0)
            out[members] = compute(row0, col0, h, w)[:, rows[members] - row0,
                                                     cols[members] - col0].T
    finally:
        release_scene_files()
    return out


# --- reference data on the grid ---------------------------------------------------------------


def crs_relation(source: Any, info: SceneInfo, tolerance: float) -> str:
    """'same', 'equivalent' (different definitions, same grid within ``tolerance`` pixels, such
    as NAD83 and NAD83(HARN) state plane) or 'different'."""
    from pyproj import CRS, Transformer

    source = CRS.from_user_input(source)
    target = info.crs()
    if source == target:
        return "same"
    xmin, ymin, xmax, ymax = info.bounds
    try:
        transformer = Transformer.from_crs(source, target, always_xy=True)
        x, y = transformer.transform((xmin + xmax) / 2, (ymin + ymax) / 2)
    except Exception:
        return "different"
    shift = math.hypot(x - (xmin + xmax) / 2, y - (ymin + ymax) / 2)
    return "equivalent" if math.isfinite(shift) and shift < tolerance * min(info.res) \
        else "different"


def _crs_name(crs: Any) -> str:
    """``EPSG:<code>`` when the CRS matches one as GDAL matches it (rasterio, and so the
    scene's ``epsg`` and ``map_summary.json``), else PROJ's match, else the CRS's name. A
    GeoTIFF's CRS often comes without its code (``PROJCS["unnamed", ...]``): GDAL finds it,
    PROJ's stricter match does not."""
    from pyproj import CRS
    from rasterio.crs import CRS as GdalCRS
    from rasterio.errors import CRSError

    text = crs if isinstance(crs, str) else crs.to_wkt()
    try:
        epsg = GdalCRS.from_user_input(text).to_epsg()
    except CRSError:  # a CRS GDAL cannot parse: PROJ's answer below
        epsg = None
    crs = CRS.from_user_input(text)
    epsg = epsg or crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def scene_crs_name(info: SceneInfo) -> str:
    """The scene's CRS as ``map_summary.json`` names it when it has an EPSG code."""
    return f"EPSG:{info.epsg}" if info.epsg else _crs_name(info.crs_wkt)


def _equivalent_note(path: Path, crs: Any, info: SceneInfo) -> str:
    return (f"{path.name} declares {_crs_name(crs)} and the scene {scene_crs_name(info)}: "
            "different definitions of the same grid (coordinates agree within the tolerance), "
            "treated as one grid without reprojection")


def label_raster_pixels(path: Path, info: SceneInfo, tolerance: float, notes: list[str],
                        block_rows: int = 512) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, cols and class codes of the labelled pixels of a label raster on the scene grid;
    a raster on another grid is warped onto it (nearest neighbour)."""
    import rasterio
    from rasterio.vrt import WarpedVRT
    from rasterio.windows import Window

    check_raster(path, "label raster", "labels")
    with rasterio.open(path) as src:
        relation = crs_relation(src.crs.to_wkt(), info, tolerance)
        same_grid = (src.width, src.height) == (info.width, info.height) and all(
            abs(u - v) < tolerance * min(info.res)
            for u, v in zip(tuple(src.transform)[:6], info.transform, strict=True))
        nodata = src.nodata
        if relation in ("same", "equivalent") and same_grid:
            if relation == "equivalent":
                notes.append(_equivalent_note(path, src.crs.to_wkt(), info))
            reader = src
        elif gdal_mask(src) == "not warpable":  # the warp would keep the masked labels
            raise DataError(
                f"label raster {path} marks unlabelled pixels with a GDAL mask and is not on "
                f"the scene's grid ({scene_crs_name(info)}, {info.res[0]:g} x "
                f"{info.res[1]:g}), and warping it would keep the masked labels; "
                f"{onto_grid(path, info)}")
        else:
            notes.append(f"{path.name} was warped onto the scene grid (nearest neighbour)")
            reader = WarpedVRT(src, crs=info.crs_wkt, transform=info.affine(), width=info.width,
                               height=info.height, resampling=rasterio.enums.Resampling.nearest)
        rows, cols, codes = [], [], []
        for row0 in range(0, info.height, block_rows):
            h = min(block_rows, info.height - row0)
            block = reader.read(1, window=Window(0, row0, info.width, h))
            valid = np.isfinite(block) if block.dtype.kind == "f" else np.ones(block.shape, bool)
            if nodata is not None:
                valid &= block != nodata
            if reader is src:  # GDAL's mask: nodata, a mask of the file or band, or alpha
                valid &= src.read_masks(1, window=Window(0, row0, info.width, h)) > 0
            valid &= block > 0
            r, c = np.nonzero(valid)
            rows.append(r + row0)
            cols.append(c)
            codes.append(block[r, c])
        if reader is not src:
            reader.close()
    if not rows or not sum(len(r) for r in rows):
        raise DataError(f"label raster {path} has no labelled pixel on the scene grid; check "
                        "its CRS and extent")
    values = np.concatenate(codes)
    fractional = values % 1 != 0
    if fractional.any():  # never rounded to a neighbouring class's code
        examples = ", ".join(f"{v:g}" for v in np.unique(values[fractional])[:5])
        raise DataError(
            f"label raster {path} has {int(fractional.sum()):,} labelled pixel(s) whose class "
            f"code is not a whole number ({examples}): a label raster resampled with bilinear "
            "or cubic interpolation blends the codes of neighbouring classes; resample it with "
            "nearest neighbour (gdalwarp -r near) or give the original")
    return np.concatenate(rows), np.concatenate(cols), values.astype(np.int64)


def read_vector(path: Path, vector_crs: str | None, info: SceneInfo, tolerance: float,
                notes: list[str], what: str, layer: str | None = None) -> Any:
    """A vector file (its ``layer``) on the scene's CRS (same-grid CRSs kept, others
    reprojected). A file of several layers needs ``layer``: reading its first one silently
    may read other data than meant."""
    import geopandas as gpd

    if not path.is_file():
        raise DataError(f"{what} file {path} does not exist")
    layers = _layers(path)
    setting = f"`{what}_layer` in [loader]"
    if layer is None and len(layers) > 1:
        raise DataError(f"{what} file {path} has {len(layers)} layers ({', '.join(layers)}): "
                        f"set {setting} to the one that holds the {what}")
    if layer is not None and layers and layer not in layers:
        raise DataError(f"{what} file {path} has no layer {layer!r} ({setting}); its layers "
                        f"are {', '.join(layers)}")
    try:
        frame = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:
        raise DataError(f"cannot read {what} file {path}: {exc}") from None
    if not isinstance(frame, gpd.GeoDataFrame):  # a table without geometry (a CSV)
        columns = ", ".join(str(c) for c in frame.columns[:12]) or "none"
        columns += ", ..." if len(frame.columns) > 12 else ""
        raise DataError(
            f"{what} file {path} has no geometry (columns: {columns}): give {what} as a vector "
            "file with its CRS (GeoPackage, shapefile or GeoJSON); a CSV of coordinates "
            "converts with, for example, ogr2ogr -oo X_POSSIBLE_NAMES=lon -oo "
            f"Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326 {path.stem}.gpkg {path.name}")
    if frame.crs is None:
        if vector_crs is None:
            raise DataError(f"{what} file {path} has no CRS (no .prj); set `vector_crs` in "
                            "[loader] to the CRS of its coordinates")
        frame = frame.set_crs(vector_crs)
    relation = crs_relation(frame.crs.to_wkt(), info, tolerance)
    if relation == "equivalent":
        notes.append(_equivalent_note(path, frame.crs.to_wkt(), info))
        frame = frame.set_crs(info.crs_wkt, allow_override=True)
    elif relation == "different":
        notes.append(f"{path.name} was reprojected from {_crs_name(frame.crs)} to the scene's "
                     f"{scene_crs_name(info)}")
        frame = frame.to_crs(info.crs_wkt)
    return frame


def _layers(path: Path) -> list[str]:
    """The layer names of a vector file (empty when they cannot be listed: the read that
    follows says why, or geopandas before 1.0)."""
    import geopandas as gpd

    try:
        return [str(name) for name in gpd.list_layers(path)["name"]]
    except Exception:
        return []


def polygon_pixels(frame: Any, field_name: str, info: SceneInfo, path: Path,
                   block_rows: int = 512) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, cols and class codes of the pixels whose centre lies in a labelled polygon."""
    from rasterio.features import rasterize
    from rasterio.windows import Window, transform

    numbers = whole_number_codes(class_codes(frame, field_name, "labels_field", path,
                                             "polygons"), field_name, "labels_field", path,
                                 "polygons")
    shapes = [(geom, int(code)) for geom, code in zip(frame.geometry, numbers, strict=True)
              if geom is not None]
    rows, cols, codes = [], [], []
    for row0 in range(0, info.height, block_rows):
        h = min(block_rows, info.height - row0)
        window_transform = transform(Window(0, row0, info.width, h), info.affine())
        block = rasterize(shapes, out_shape=(h, info.width), transform=window_transform,
                          fill=0, dtype="int32")
        r, c = np.nonzero(block > 0)
        rows.append(r + row0)
        cols.append(c)
        codes.append(block[r, c])
    rows_all = np.concatenate(rows)
    if not len(rows_all):
        raise DataError(f"no polygon of {path} covers a pixel centre of the scene; check its "
                        "CRS and extent")
    return rows_all, np.concatenate(cols), np.concatenate(codes).astype(np.int64)


def points_on_grid(frame: Any, field_name: str, info: SceneInfo,
                   path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each point: row, col, x, y, class code (row -1 when outside the scene)."""
    codes = whole_number_codes(class_codes(frame, field_name, "points_field", path, "points"),
                               field_name, "points_field", path, "points")
    geoms = frame.geometry
    missing = (geoms.isna() | geoms.is_empty).to_numpy()
    if missing.any():
        raise DataError(f"{int(missing.sum()):,} of the {len(geoms):,} points of {path.name} "
                        "have no coordinates (an empty geometry): give each of them its "
                        f"coordinates, or delete them from {path.name}")
    single = (geoms.geom_type == "MultiPoint") & (geoms.count_geometries() == 1)
    if single.any():  # single-part multipoints, as some GIS exports write points
        geoms = geoms.copy()
        geoms[single] = [g.geoms[0] for g in geoms[single]]
    if len(geoms) and not (geoms.geom_type == "Point").all():
        raise DataError(f"{path} holds {sorted(set(geoms.geom_type))} geometries, not points: "
                        "give one point per field observation")
    x = geoms.x.to_numpy(dtype=float)
    y = geoms.y.to_numpy(dtype=float)
    a, _, c, _, e, f = info.transform
    with np.errstate(invalid="ignore"):
        cols = np.floor((x - c) / a)
        rows = np.floor((y - f) / e)
    inside = np.isfinite(rows) & np.isfinite(cols) & (rows >= 0) & (rows < info.height) \
        & (cols >= 0) & (cols < info.width)
    rows = np.where(inside, rows, -1).astype(np.int64)
    cols = np.where(inside, cols, -1).astype(np.int64)
    return rows, cols, x, y, codes


def whole_number_codes(values: np.ndarray, field_name: str, setting: str, path: Path,
                       what: str) -> np.ndarray:
    """Class codes as integers; a code that is not a whole number (a class name, 1.5, "2.7")
    is a DataError naming the attribute and the setting, never truncated to another class."""
    import pandas as pd

    numbers = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(numbers) | (numbers % 1 != 0)
    if bad.any():
        examples = ", ".join(sorted({repr(v.item() if isinstance(v, np.generic) else v)
                                     for v in values[bad]})[:5])
        raise DataError(f"{path.name} has class code(s) {examples} in {field_name!r} (the "
                        f"`{setting}` attribute) that are not whole numbers: label {what} "
                        "with the numeric codes of `classes` in [loader], or set "
                        f"`{setting}` to the attribute that holds them")
    return numbers.astype(np.int64)


def class_codes(frame: Any, field_name: str, setting: str, path: Path, what: str) -> np.ndarray:
    """The class codes of a vector file's features: attribute ``field_name`` (the loader's
    ``setting``), which every feature must fill; a DataError names the setting otherwise."""
    if field_name not in frame.columns:
        others = ", ".join(str(c) for c in frame.columns if c != "geometry") or "none"
        raise DataError(f"{what} {path} have no attribute {field_name!r} (`{setting}` in "
                        f"[loader]); they have {others}: set `{setting}` to the attribute that "
                        "holds the class codes")
    codes = frame[field_name]
    blank = (codes.isna() | codes.astype(str).str.strip().eq("")).to_numpy()
    if blank.any():
        raise DataError(f"{int(blank.sum()):,} of the {len(codes):,} {what} of {path.name} "
                        f"have a blank class code (attribute {field_name!r}, set by "
                        f"`{setting}` in [loader]): give each of them its class code, or "
                        f"delete them from {path.name}")
    return codes.to_numpy()


class StoredScalingWarning(UserWarning):
    """Band files declare a scale or offset that the loader's settings do not apply."""


class BandOrderWarning(UserWarning):
    """A multi-band file's bands read in file order though it names them otherwise or holds
    more bands than `bands` lists."""


class GridWarning(UserWarning):
    """Band files of one scene on different extents or resolutions."""


class ZeroFillWarning(UserWarning):
    """Records or mapped pixels that are 0 in every band of a scene that declares no nodata:
    usually the fill around the image (:mod:`mlstat_imagery.loaders`, ``mapping``)."""


def declares_nodata(info: SceneInfo) -> bool:
    """Whether any band file of the scene declares a nodata value or carries a mask."""
    return any(info.nodata.get(band) is not None or band in info.masked
               for band in info.bands)
