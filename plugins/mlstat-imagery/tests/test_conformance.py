"""The core's conformance suite on every imagery component (as any plugin author runs it), on
the bundled Landsat scene."""

from pathlib import Path

from mlstat_imagery.loaders import LandsatNcLoader
from mlstat_imagery.params import LANDSAT7_ROLES, LANDSAT_NC_CLASSES, CnnParams

from mlstat_core.testing import plugin_checks

SCENE = LandsatNcLoader().load(Path("."))

test_conformance = plugin_checks(
    "imagery", datasets={"raster_segmentation": SCENE, "splitter": SCENE}, examples={
    # the bundled scene, read through the generic loader (paths relative to the package)
    "imagery.scene": {"directory": "data/landsat_nc", "band_pattern": "lsat7_2000_{band}.tif",
                      "bands": ["10", "20", "30", "40", "50"], "band_roles": LANDSAT7_ROLES,
                      "labels": "landsat96_labelled_pixels.tif",
                      "points": "landsat96_points.shp",
                      "classes": {str(k): v for k, v in LANDSAT_NC_CLASSES.items()}},
    "imagery.cnn": CnnParams(epochs=2).model_dump(),
})
