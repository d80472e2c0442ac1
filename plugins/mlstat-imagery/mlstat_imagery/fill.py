"""Fill that no band file declares nodata: a constant that pads an image (0 around Sentinel-2
tiles, -9999, -99999 or 65535 in many exports), or the fill of a file whose nodata tag was lost
or declares another value. Read as data, it is trained on, mapped and counted as land.

A pixel is taken for fill when every band holds the same value there (land never reads the
same in four bands or more; with fewer, as in an RGB image whose grey pixels read alike,
only when it holds a typical fill value). 255, the top of 8-bit data, is both a fill value
(a white collar around an image) and data: a white roof, a cloud or snow reads 255 in every
band of an 8-bit RGB image. So with fewer than four bands it is taken for fill only in a run
of such pixels that reaches the left or right edge of the scene along its row, as the
collar around an image does (pixels with nodata on the way do not break the run); inside
the image it is data. The loader warns about records on such pixels, the map counts them
(``zero_fill_pixels`` and ``fill_values`` in ``map_summary.json``); neither changes what
is trained on or mapped. Their advice (:func:`fix`) is to declare the value nodata, except
for such an edge-run value: declared nodata, every white roof would be nodata too, so the
advice is a mask grown from the edges (GDAL's ``nearblack -white -setmask``), which the
loader reads as nodata.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mlstat_imagery.scene import SceneInfo

TYPICAL_FILL = (0.0, -9999.0, -99999.0, -32768.0, 32767.0, 65535.0, 255.0, -3.4028235e38)
"""Stored values that fill images in common products and exports."""
EDGE_FILL = (255.0,)
"""Typical fill values that are also data in an image of fewer than :data:`MIN_BANDS` bands
(white in 8-bit RGB): taken for fill there only in a run that reaches the left or right edge
of the scene (:func:`on_edge_runs`, :class:`EdgeRuns`)."""
MIN_BANDS = 4
"""From this many bands, any value held by every band is taken for fill; with fewer (an RGB
image, where grey pixels read alike in every band), only a typical fill value."""
MIN_RECORDS = 3
"""Records on one constant value (not a typical fill value) from which the loader warns."""
MIN_MAP_SHARE = 0.001
MIN_MAP_PIXELS = 50
"""Mapped pixels of one constant value are counted as fill from this share of the scene, and
at least this many."""
EDGE_STRIP = 64
"""Rows read at once to follow the records' rows to the scene's edges (:func:`on_edge_runs`)."""


def constant_values(bands: np.ndarray, info: SceneInfo) -> np.ndarray:
    """For each pixel of ``bands`` (bands, ...), as read: the value it holds in every band
    where it looks like fill (see the module), NaN elsewhere. With fewer than
    :data:`MIN_BANDS` bands, :data:`EDGE_FILL` values are left out: whether they are fill
    depends on the rest of the pixel's row (:func:`on_edge_runs`, :class:`EdgeRuns`)."""
    first = bands[0]
    same = np.isfinite(first) & (bands == first).all(axis=0)
    if len(bands) < MIN_BANDS:  # grey roofs, roads and clouds read R = G = B
        same &= np.isin(first, _typical_read(info)) & ~np.isin(first, edge_values(bands, info))
    return np.where(same, first, np.nan)


def edge_values(bands: np.ndarray, info: SceneInfo) -> np.ndarray:
    """The :data:`EDGE_FILL` values as read, for a stack of ``bands`` (bands, ...): none from
    :data:`MIN_BANDS` bands on, where they count as any other value."""
    if len(bands) >= MIN_BANDS:
        return np.zeros(0, dtype=np.float32)
    return _as_read(EDGE_FILL, info)


def _through(bands: np.ndarray, value: float) -> np.ndarray:
    """Pixels of ``bands`` (bands, rows, cols) that a run of ``value`` (as read) passes
    through: those holding it in every band, and nodata (NaN in some band). The one rule of
    what an edge run is, for the map (:class:`EdgeRuns`) and the loader
    (:func:`on_edge_runs`)."""
    return (bands == np.float32(value)).all(axis=0) | np.isnan(bands).any(axis=0)


def _runs(through: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``through`` (rows, cols; see :func:`_through`): how many pixels from
    its left end, and how many to its right end, lie in one run (the whole width, both, where
    the run fills the row)."""
    width = through.shape[1]
    whole = through.all(axis=1)
    lead = np.where(whole, width, np.argmin(through, axis=1))
    trail = np.where(whole, width, np.argmin(through[:, ::-1], axis=1))
    return lead, trail


class EdgeRuns:
    """Mapped pixels of :data:`EDGE_FILL` values in runs that reach the left or right edge of
    the scene along their row, counted tile by tile in the order of
    :func:`~mlstat_imagery.scene.tiles` (strips of rows, each read left to right): one strip's
    rows are kept, a few numbers each."""

    def __init__(self, info: SceneInfo) -> None:
        self.info = info
        self.counts: dict[float, int] = {}
        self._open: dict[float, np.ndarray] = {}
        self._pending: dict[float, np.ndarray] = {}

    def add(self, bands: np.ndarray, valid: np.ndarray, col0: int) -> None:
        """One tile: its ``bands`` as read (bands, rows, cols), which pixels were mapped
        (``valid``) and its first column."""
        for value in edge_values(bands, self.info).tolist():
            through = _through(bands, value)
            hit = (bands == np.float32(value)).all(axis=0) & valid  # counted where mapped
            height, width = hit.shape
            if col0 == 0:
                self._open[value] = np.ones(height, dtype=bool)
                self._pending[value] = np.zeros(height, dtype=np.int64)
            is_open, pending = self._open[value], self._pending[value]
            lead, trail = _runs(through)
            whole = lead == width
            counted = np.concatenate([np.zeros((height, 1), np.int64),
                                      np.cumsum(hit, axis=1, dtype=np.int64)], axis=1)
            index = np.arange(height)
            from_left = counted[index, lead]
            to_right = counted[:, width] - counted[index, width - trail]
            found = int(from_left[is_open].sum())  # from the left edge of the scene
            pending = np.where(whole, pending + from_left, to_right)  # may reach the right
            pending[is_open & whole] = 0  # counted already
            is_open &= whole
            if col0 + width == self.info.width:
                found += int(pending.sum())
            self._pending[value] = pending
            if found:
                self.counts[value] = self.counts.get(value, 0) + found


def on_edge_runs(info: SceneInfo, rows: np.ndarray, cols: np.ndarray,
                 value: float) -> np.ndarray:
    """Whether each pixel (``rows``, ``cols``) lies in a run of pixels holding ``value`` (as
    read) in every band, or nodata, that reaches the left or right edge of the scene along its
    row: the rows are read across the scene, :data:`EDGE_STRIP` at a time."""
    from mlstat_imagery.scene import read_window

    out = np.zeros(len(rows), dtype=bool)
    wanted = np.unique(rows)
    start = 0
    while start < len(wanted):
        row0 = int(wanted[start])
        strip = wanted[(wanted >= row0) & (wanted < row0 + EDGE_STRIP)]
        start += len(strip)
        bands = read_window(info, row0, 0, int(strip[-1]) - row0 + 1, info.width)
        lead, trail = _runs(_through(bands, value))
        members = np.nonzero((rows >= row0) & (rows < row0 + EDGE_STRIP))[0]
        r, c = rows[members] - row0, cols[members]
        out[members] = (c < lead[r]) | (c >= info.width - trail[r])
    return out


def value_counts(values: np.ndarray) -> dict[float, int]:
    """How many of ``values`` (NaN: none) hold each value."""
    found, counts = np.unique(values[~np.isnan(values)], return_counts=True)
    return {float(v): int(n) for v, n in zip(found, counts, strict=True)}


def is_typical(value: float, info: SceneInfo) -> bool:
    """Whether ``value`` (as read) is a typical fill value as stored."""
    return bool(np.isin(np.float32(value), _typical_read(info)))


def stored_value(value: float, info: SceneInfo) -> str:
    """``value`` as read, shown as the band files store it (before scale and offset)."""
    stored = (value - info.offset) / info.scale if (info.scale, info.offset) != (1.0, 0.0) \
        else value
    return f"{round(stored, 3):g}"


def declared(info: SceneInfo) -> str:
    """What the band files declare as nodata, in words."""
    values = sorted({v for v in info.nodata.values() if v is not None})
    if not values and not info.masked:
        return "no band file declares a nodata value"
    shown = ", ".join(f"{v:g}" for v in values) or "a GDAL mask only"
    return f"the band files declare nodata {shown}, not this value"


def is_edge_fill(value: float, info: SceneInfo) -> bool:
    """Whether ``value`` (as read) is taken for fill only in runs that reach the scene's left
    or right edge: an :data:`EDGE_FILL` value in a scene of fewer than :data:`MIN_BANDS`
    bands (white in 8-bit RGB), which the image's white roofs and clouds hold too."""
    return len(info.bands) < MIN_BANDS and bool(np.isin(np.float32(value),
                                                        _as_read(EDGE_FILL, info)))


def fix(value: float, info: SceneInfo) -> str:
    """How to make the fill ``value`` (as read) nodata: declare it nodata in each band file;
    for an edge-run value (:func:`is_edge_fill`) that would make the white roofs and clouds
    inside the image nodata too, so mask the runs from the scene's edges instead: GDAL's
    ``nearblack -setmask`` writes a mask of the file (per dataset), which the loader reads as
    nodata (``SceneInfo.masked``)."""
    shown = stored_value(value, info)
    if is_edge_fill(value, info):
        return (f"if it is a collar around the image, do not declare {shown} nodata, which "
                "would also make every white roof and cloud inside the image nodata: mask the "
                "collar from the scene's edges inward (GDAL: nearblack -white -setmask -o "
                "OUT.tif FILE, for the image file or each band file; the loader reads the "
                "mask it writes as nodata), point band_pattern at the masked files and run "
                "again; if it is a real value (white roofs or clouds at the scene's edge), "
                "ignore this")
    return (f"if it is fill, declare it nodata in each band file (gdal_edit.py -a_nodata {shown} "
            "FILE) and run again; if it is a real value (saturated pixels), ignore this")


def _typical_read(info: SceneInfo) -> np.ndarray:
    return _as_read(TYPICAL_FILL, info)


def _as_read(stored: tuple[float, ...], info: SceneInfo) -> np.ndarray:
    """Stored values as read (times ``scale`` plus ``offset``), float32."""
    values = np.asarray(stored, dtype=np.float32)
    if (info.scale, info.offset) == (1.0, 0.0):
        return values
    return values * np.float32(info.scale) + np.float32(info.offset)
