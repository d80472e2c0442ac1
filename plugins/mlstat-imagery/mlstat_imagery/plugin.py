"""The imagery plugin's declarations: light, imports only mlstat_core's contract and params.

Components are referenced in pipeline files as ``imagery.<name>``; torch, torchgeo, rasterio,
geopandas and scikit-learn are imported only when a component is used.
"""

from __future__ import annotations

from typing import Any

from mlstat_core import hookimpl
from mlstat_core.components import ComponentSpec
from mlstat_imagery import params as P

RASTER = ("raster_segmentation",)
_M = "mlstat_imagery"


@hookimpl
def mlstat_loaders() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            "scene", "loader", f"{_M}.loaders:SceneLoader", P.SceneParams, RASTER,
            "A multi-band raster scene (one file per band or one multi-band file, read through "
            "torchgeo) with training labels (label raster or polygons) and field reference "
            "points; one row per labelled pixel or point, bands and spectral indices as "
            "features."),
        ComponentSpec(
            "landsat_nc", "loader", f"{_M}.loaders:LandsatNcLoader", P.LandsatNcParams, RASTER,
            "Bundled Landsat 7 ETM+ scene of North Carolina (2000, 489 x 443 pixels, 28.5 m) "
            "with 1996 land-cover labels and 1,000 field points; built-up against the rest."),
    ]


@hookimpl
def mlstat_splitters() -> list[ComponentSpec]:
    return [ComponentSpec(
        "spatial_blocks", "splitter", f"{_M}.splitters:SpatialBlockSplitter",
        P.SpatialBlockParams, RASTER,
        "Square blocks of N pixels assigned whole to train, validation or test (seeded); the "
        "field reference points are always held out for test.")]


@hookimpl
def mlstat_models() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            "random_forest", "model", f"{_M}.models:PixelForestModel",
            P.ImageryForestParams, RASTER,
            "Per-pixel random forest on bands and spectral indices; writes the whole-scene "
            "map (GeoTIFF: class and probability bands) and a PNG preview."),
        ComponentSpec(
            "context_forest", "model", f"{_M}.models:ContextForestModel",
            P.ContextForestParams, RASTER,
            "Per-pixel random forest on bands, indices and their 3x3 neighbourhood means, with "
            "a decision threshold on P(built-up) chosen by spatial-block cross-validation of "
            "the labelled pixels; tiled whole-scene map (memory flat in the scene size)."),
        ComponentSpec(
            "cnn", "model", f"{_M}.cnn:CnnModel", P.CnnParams, RASTER,
            "Small U-Net trained from random initialisation on patches around the labelled "
            "pixels (masked loss), cuda when present; tiled whole-scene map with overlap."),
    ]


@hookimpl
def mlstat_indicators() -> list[ComponentSpec]:
    return [ComponentSpec(
        "field_validation", "indicator", f"{_M}.indicators:FieldValidation",
        P.FieldValidationParams, RASTER,
        "Accuracy against the field reference points: confusion matrix, overall accuracy, "
        "Cohen's kappa, producer's and user's accuracy of built-up, and error-adjusted area "
        "of built-up with intervals (Olofsson et al. 2014).",
        dimension="accuracy")]


def conformance_options() -> dict[str, Any]:
    """Options of mlstat's conformance suite (its pytest tests and `python -m
    mlstat_core.testing imagery`): the core has no raster sample, so models, indicators and
    the block splitter are checked on the bundled scene; the CNN trains two epochs only, the
    forests 30 trees (the contract does not depend on the number; 200 made each check of the
    context forest take half a minute).
    The scene's warning on its unusable field points is left to the loaders' own checks."""
    import warnings
    from pathlib import Path

    from mlstat_imagery.loaders import LandsatNcLoader, UnusableFieldPointsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusableFieldPointsWarning)
        scene = LandsatNcLoader().load(Path("."))
    return {"datasets": {"raster_segmentation": scene, "splitter": scene},
            "examples": {"imagery.cnn": {"epochs": 2},
                         "imagery.random_forest": {"n_estimators": 30},
                         "imagery.context_forest": {"n_estimators": 30}}}
