"""Fill that no band file declares nodata: a constant that pads an image (0 around Sentinel-2
tiles, -9999, -99999 or 65535 in many exports), or the fill of a file whose nodata tag was lost
or declares another value. Read as data, it is trained on, mapped and counted as land.

A pixel is taken for fill when every band holds the same value there (land never reads the
same in four bands or more; with fewer, as in an RGB image whose grey pixels read alike,
only when it holds a typical fill value). The loader warns about
records on such pixels, the map counts them (``zero_fill_pixels`` and ``fill_values`` in
``map_summary.json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mlstat_imagery.scene import SceneInfo

TYPICAL_FILL = (0.0, -9999.0, -99999.0, -32768.0, 32767.0, 65535.0, 255.0, -3.4028235e38)
"""Stored values that fill images in common products and exports."""
MIN_BANDS = 4
"""From this many bands, any value held by every band is taken for fill; with fewer (an RGB
image, where grey pixels read alike in every band), only a typical fill value."""
MIN_RECORDS = 3
"""Records on one constant value (not a typical fill value) from which the loader warns."""
MIN_MAP_SHARE = 0.001
MIN_MAP_PIXELS = 50
"""Mapped pixels of one constant value are counted as fill from this share of the scene, and
at least this many."""


def constant_values(bands: np.ndarray, info: SceneInfo) -> np.ndarray:
    """For each pixel of ``bands`` (bands, ...), as read: the value it holds in every band
    where it looks like fill (see the module), NaN elsewhere."""
    first = bands[0]
    same = np.isfinite(first) & (bands == first).all(axis=0)
    if len(bands) < MIN_BANDS:  # grey roofs, roads and clouds read R = G = B
        same &= np.isin(first, _typical_read(info))
    return np.where(same, first, np.nan)


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


def fix(value: str) -> str:
    """How to declare ``value`` (as stored) nodata."""
    return (f"if it is fill, declare it nodata in each band file (gdal_edit.py -a_nodata {value} "
            "FILE) and run again; if it is a real value (saturated pixels), ignore this")


def _typical_read(info: SceneInfo) -> np.ndarray:
    stored = np.asarray(TYPICAL_FILL, dtype=np.float32)
    if (info.scale, info.offset) == (1.0, 0.0):
        return stored
    return stored * np.float32(info.scale) + np.float32(info.offset)
