"""Spectral indices and the feature table of pixels: numpy only, so it is easy to test.

Every index is a normalised difference of two bands (or a difference of two indices), so it
does not depend on whether the bands are digital numbers or reflectances.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    """(a - b) / (a + b); 0 where both are 0, NaN where either is NaN."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
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


def feature_stack(stack: np.ndarray, bands: list[str], band_roles: Mapping[str, str],
                  indices: list[str]) -> np.ndarray:
    """Bands then indices, shape (features, ...) from a band stack of shape (bands, ...)."""
    by_role = {role: stack[bands.index(band)] for role, band in band_roles.items()
               if band in bands}
    layers = [stack[i].astype(np.float64) for i in range(len(bands))]
    layers += [spectral_index(name, by_role) for name in indices]
    return np.stack(layers).astype(np.float32)
