"""Spectral indices and the feature table of pixels: numpy only, so it is easy to test.

Every index is a normalised difference of two bands (or a difference of two indices), so it
does not depend on whether the bands are digital numbers or reflectances.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mlstat_core.errors import ConfigError

INDEX_ROLES: dict[str, tuple[str, ...]] = {
    "ndvi": ("nir", "red"),
    "ndbi": ("swir1", "nir"),
    "mndwi": ("green", "swir1"),
    "ndwi": ("green", "nir"),
    "bu": ("swir1", "nir", "red"),
}
"""Index -> the spectral roles it needs."""

INDEX_FORMULAS: dict[str, str] = {
    "ndvi": "(NIR - red) / (NIR + red)  (Rouse et al. 1974: vegetation)",
    "ndbi": "(SWIR1 - NIR) / (SWIR1 + NIR)  (Zha et al. 2003: built-up)",
    "mndwi": "(green - SWIR1) / (green + SWIR1)  (Xu 2006: open water)",
    "ndwi": "(green - NIR) / (green + NIR)  (McFeeters 1996: water)",
    "bu": "NDBI - NDVI  (Zha et al. 2003: built-up index)",
}


def normalised_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a - b) / (a + b) of the values clipped at 0, so that it stays in [-1, 1]; 0 where both
    are 0, NaN where either is NaN. A reflectance read with an offset (``offset`` in
    [loader]) is slightly below 0 on dark water and shadow, where the unclipped ratio runs far
    outside [-1, 1] (nir 0.003, red -0.002: NDVI 5)."""
    a = np.maximum(np.asarray(a, dtype=np.float64), 0.0)  # NaN stays NaN
    b = np.maximum(np.asarray(b, dtype=np.float64), 0.0)
    total = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total == 0, 0.0, (a - b) / np.where(total == 0, 1.0, total))
    return out


def spectral_index(name: str, bands: Mapping[str, np.ndarray]) -> np.ndarray:
    """One index from arrays keyed by spectral role (blue, green, red, nir, swir1, swir2)."""
    if name not in INDEX_ROLES:
        raise ConfigError(f"unknown spectral index {name!r}; known: {', '.join(INDEX_ROLES)}")
    missing = [r for r in INDEX_ROLES[name] if r not in bands]
    if missing:
        raise ConfigError(f"index {name!r} needs the {' and '.join(missing)} band(s); map them "
                          "in `band_roles` (role -> band name) of [loader]")
    if name == "ndvi":
        return normalised_difference(bands["nir"], bands["red"])
    if name == "ndbi":
        return normalised_difference(bands["swir1"], bands["nir"])
    if name == "mndwi":
        return normalised_difference(bands["green"], bands["swir1"])
    if name == "ndwi":
        return normalised_difference(bands["green"], bands["nir"])
    return (normalised_difference(bands["swir1"], bands["nir"])
            - normalised_difference(bands["nir"], bands["red"]))


def band_column(band: str) -> str:
    """Column name of a band in the feature table ('10' -> 'band_10')."""
    return f"band_{band}"


def check_indices(indices: list[str], band_roles: Mapping[str, str]) -> None:
    for name in indices:
        missing = [r for r in INDEX_ROLES.get(name, ()) if r not in band_roles]
        if missing:
            raise ConfigError(
                f"index {name!r} needs the {' and '.join(missing)} band(s), which are not among "
                "the loaded bands; add them to `bands` and `band_roles`, or drop the index")


def feature_names(bands: list[str], indices: list[str]) -> list[str]:
    return [band_column(b) for b in bands] + list(indices)


def formula(name: str) -> str:
    """An index's formula in the names of the spectral roles (``ndbi``: ``(SWIR1 - NIR) /
    (SWIR1 + NIR)``), without its reference."""
    return INDEX_FORMULAS[name].split("  (")[0]


def derivable_indices(spec: Mapping[str, Any], columns: list[str]) -> list[str]:
    """The index columns among ``columns`` that can be computed from band columns among
    them as the loader computed them: the indices of ``spec`` (a loader's ``features``
    metadata: bands, band roles, indices) whose roles map to bands in ``columns``."""
    bands = list(spec.get("bands") or [])
    roles = {role: band_column(band) for role, band in (spec.get("band_roles") or {}).items()
             if band in bands}
    return [name for name in spec.get("indices") or [] if name in columns
            and name in INDEX_ROLES
            and all(roles.get(role) in columns for role in INDEX_ROLES[name])]


def record_indices(values: np.ndarray, columns: list[str], spec: Mapping[str, Any],
                   names: list[str]) -> dict[str, np.ndarray]:
    """The indices ``names`` (see :func:`derivable_indices`) of records whose ``columns``
    hold ``values`` (records, columns; bands as read, NaN for nodata), computed as
    :func:`feature_stack` computes them for the loader (float32)."""
    bands = list(spec.get("bands") or [])
    by_role = {role: values[:, columns.index(band_column(band))]
               for role, band in (spec.get("band_roles") or {}).items()
               if band in bands and band_column(band) in columns}
    return {name: spectral_index(name, by_role).astype(np.float32) for name in names}


def feature_stack(stack: np.ndarray, bands: list[str], band_roles: Mapping[str, str],
                  indices: list[str]) -> np.ndarray:
    """Bands then indices, shape (features, ...) from a band stack of shape (bands, ...)."""
    by_role = {role: stack[bands.index(band)] for role, band in band_roles.items()
               if band in bands}
    layers = [stack[i].astype(np.float64) for i in range(len(bands))]
    layers += [spectral_index(name, by_role) for name in indices]
    return np.stack(layers).astype(np.float32)


# --- neighbourhood (context) features ---------------------------------------------------------


def context_names(base: list[str], windows: list[int]) -> list[str]:
    """Names of the context features: each base feature over each focal window
    ('band_40' with window 3 -> 'band_40_mean3')."""
    return [f"{name}_mean{w}" for w in windows for name in base]


def context_margin(windows: list[int]) -> int:
    """Pixels of context a tile needs on each side for these windows."""
    return max(windows, default=1) // 2


def focal_mean(stack: np.ndarray, window: int) -> np.ndarray:
    """NaN-aware focal mean of each layer of ``stack`` (layers, rows, cols) over a square
    window: the mean of the valid pixels of the window (nodata and the area outside the
    array do not count); NaN where the window holds no valid pixel.

    Digital numbers are integers, so the float64 sums are exact and a tile read with
    ``context_margin`` pixels around it gives the same values as the whole scene."""
    from scipy.ndimage import uniform_filter

    valid = ~np.isnan(stack).any(axis=0)
    count = uniform_filter(valid.astype(np.float64), window, mode="constant")
    sums = uniform_filter(np.where(valid, stack, 0.0).astype(np.float64), (1, window, window),
                          mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 1e-9, sums / np.where(count > 1e-9, count, 1.0), np.nan)


def context_stack(bands_window: np.ndarray, bands: list[str], band_roles: Mapping[str, str],
                  indices: list[str], windows: list[int]) -> np.ndarray:
    """Features of a band window (bands, rows, cols), shape (features, rows, cols): bands and
    indices, then for each window the focal means of the bands and the indices computed on
    them (so a mixed neighbourhood gives the indices of the mixed spectrum). Pixels with
    nodata in any band are NaN in every feature: they are never classified."""
    base = feature_stack(bands_window, bands, band_roles, indices)
    if not windows:
        return base
    nodata = np.isnan(bands_window).any(axis=0)
    layers = [base]
    for window in windows:
        if window < 3 or window % 2 == 0:
            raise ConfigError(f"context window {window} must be odd and at least 3")
        mean = focal_mean(bands_window, window)
        layers.append(feature_stack(mean, bands, band_roles, indices))
    out = np.concatenate(layers)
    out[:, nodata] = np.nan
    return out
