"""Params models of the imagery components: light (pydantic only), so discovery stays fast."""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from mlstat_core.components import InputFolder, InputPath, InputRef, Params

INDEX_NAMES = ("ndvi", "ndbi", "mndwi", "ndwi", "bu")
IndexName = Literal["ndvi", "ndbi", "mndwi", "ndwi", "bu"]

LANDSAT_NC_CLASSES = {1: "developed", 2: "agriculture", 3: "herbaceous", 4: "shrubland",
                      5: "forest", 6: "water", 7: "sediment"}
MIXTURE_CLASSES = ("forest", "herbaceous", "shrubland", "agriculture")
"""Land-cover classes of the bundled scene mixed with built-up pixels by the context forest."""
SceneFile = Annotated[str, InputPath("any", within="directory")]
"""A reference file of the scene, relative to its `directory` (checked to exist; a vector data
set may be a folder)."""
LANDSAT7_ROLES = {"blue": "10", "green": "20", "red": "30", "nir": "40", "swir1": "50",
                  "swir2": "70"}


class SceneParams(Params):
    """A multi-band scene, training labels (raster or polygons) and field reference points."""

    # the bundled scene, relative to the package (where the conformance suite reads it)
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "directory": "data/landsat_nc", "band_pattern": "lsat7_2000_{band}.tif",
        "bands": ["10", "20", "30", "40", "50"],
        "band_roles": {k: v for k, v in LANDSAT7_ROLES.items() if k != "swir2"},
        "labels": "landsat96_labelled_pixels.tif", "points": "landsat96_points.shp",
        "classes": {str(k): v for k, v in LANDSAT_NC_CLASSES.items()}}]})

    directory: InputFolder = Field(".", description="folder of the scene and reference "
                                                    "files; relative to the pipeline file")
    band_pattern: str = Field(
        description="band file name, relative to `directory`; '{band}' is replaced by each "
                    "band name (one file per band), without '{band}' the file holds all bands: "
                    "read by their names where the file names its bands as `bands` does, else "
                    "in the order of `bands`")
    bands: list[str] = Field(min_length=1, description="band names to use")
    scale: float = Field(1.0, gt=0, description="stored band values are multiplied by `scale`, "
                                                "then `offset` is added, to read reflectance "
                                                "(Landsat Collection 2 Level-2: 0.0000275; "
                                                "Sentinel-2 L2A: 0.0001)")
    offset: float = Field(0.0, description="added after `scale` (Landsat Collection 2 Level-2: "
                                           "-0.2; Sentinel-2 L2A from processing baseline "
                                           "04.00: -0.1); the indices are right only on values "
                                           "proportional to reflectance")
    band_roles: dict[str, str] = Field(
        default_factory=dict,
        description="spectral role -> band name (blue, green, red, nir, swir1, swir2); needed "
                    "for the indices")
    indices: list[IndexName] = Field(
        default_factory=lambda: ["ndvi", "ndbi", "mndwi"],
        description=f"spectral indices computed on the fly: {', '.join(INDEX_NAMES)}")
    labels: SceneFile | None = Field(None, description="training labels: a label raster (class "
                                                       "codes, .tif) or polygons (vector file); "
                                                       "relative to `directory`")
    labels_field: str = Field("id", description="attribute of the label polygons with the "
                                                "class code")
    points: SceneFile | None = Field(None, description="field reference points (vector file); "
                                                       "held out, never used in training; "
                                                       "relative to `directory`")
    points_field: str = Field("id", description="attribute of the points with the class code")
    points_layer: str | None = Field(None, description="layer of the points file that holds "
                                                       "the points, for a file of several "
                                                       "layers (a GeoPackage); such a file is "
                                                       "refused without it")
    labels_layer: str | None = Field(None, description="layer of the label polygons, for a "
                                                       "file of several layers")
    classes: dict[int, str] = Field(description="class code -> class name")
    positive_class: str = Field("developed", description="the built-up class")
    mode: Literal["binary", "multiclass"] = Field(
        "binary", description="binary: built_up against other; multiclass: every class")
    field_buffer: int = Field(1, ge=0, le=50, description="training pixels within this many "
                              "pixels of a field point are dropped (no leakage)")
    vector_crs: str | None = Field(None, description="CRS of vector files that carry none "
                                                     "(for example 'EPSG:32119')")
    grid_tolerance: float = Field(0.5, gt=0, le=5, description="CRSs whose coordinates differ by"
                                  " less than this many pixels are treated as one grid")

    @field_validator("vector_crs")
    @classmethod
    def _known_crs(cls, value: str | None) -> str | None:
        """A CRS PROJ can build (pyproj imported here only: discovery stays light)."""
        if value is None:
            return value
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(value)
        except CRSError:
            hint = ""
            code = re.fullmatch(r"\s*(EPSG|ESRI)\W*(\d+)\s*", value, flags=re.IGNORECASE)
            if code:
                authority, number = code[1].upper(), code[2]
                try:
                    CRS.from_user_input(f"{authority}:{number}")
                    hint = f" (did you mean \"{authority}:{number}\"?)"
                except CRSError:
                    hint = f" ({authority} has no CRS {number})"
            raise ValueError(f"not a CRS that PROJ knows{hint}; give an authority code "
                             "with a colon, for example \"EPSG:4326\" (latitude/longitude) "
                             "or \"EPSG:32119\", or a WKT or PROJ string") from None
        return value

    def input_paths(self) -> list[InputRef]:
        """Besides `directory`, `labels` and `points`: the band files `band_pattern` names in
        `directory` (one per band, or one file holding all bands)."""
        found = super().input_paths()
        if self.directory is None:  # the bundled scene (imagery.landsat_nc)
            return found
        files = {self.band_pattern.replace("{band}", band): f"the file of band {band!r}"
                 for band in self.bands} if "{band}" in self.band_pattern \
            else {self.band_pattern: "the file of every band"}
        return found + [InputRef("band_pattern", name, InputPath("file", within="directory"),
                                 self.directory, "directory",
                                 f"{what} (`band_pattern` with `bands`)")
                        for name, what in files.items()]

    @field_validator("band_pattern")
    @classmethod
    def _band_in_file_name(cls, value: str) -> str:
        """``{band}`` names the band in the file name; in a folder name (``{band}/scene.tif``)
        the scene reader would look for every band in the first band's folder."""
        folder = value.replace("\\", "/").rpartition("/")[0]
        if "{band}" in folder:
            raise ValueError(f"band_pattern {value!r} has {{band}} in a folder name; put the "
                             "band files in one folder and {band} in their file name (for "
                             "example 'bands/scene_{band}.tif')")
        return value

    @field_validator("band_roles")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        """Roles the indices know; a misspelt one ('NIR', 'swir') would be ignored and an
        index needing it refused at run time as if the role were not given."""
        unknown = [r for r in value if r not in LANDSAT7_ROLES]
        if unknown:
            hints = []
            for role in unknown:
                close = [role.lower()] if role.lower() in LANDSAT7_ROLES \
                    else sorted(difflib.get_close_matches(role.lower(), LANDSAT7_ROLES, n=2))
                hint = " or ".join(repr(c) for c in close)
                hints.append(f"{role!r}" + (f" (did you mean {hint}?)" if close else ""))
            raise ValueError(f"band_roles has unknown role(s) {', '.join(hints)}; the roles "
                             f"are {', '.join(LANDSAT7_ROLES)}")
        return value

    @model_validator(mode="after")
    def _roles(self) -> SceneParams:
        unknown = {r: b for r, b in self.band_roles.items() if b not in self.bands}
        if unknown:
            # roles of bands not loaded are dropped; indices needing them are refused later
            self.band_roles = {r: b for r, b in self.band_roles.items() if b in self.bands}
        if self.positive_class not in self.classes.values():
            raise ValueError(f"positive_class {self.positive_class!r} is not one of the classes "
                             f"{sorted(self.classes.values())}")
        unlabelled = {k: v for k, v in self.classes.items() if k <= 0}
        if unlabelled and self.labels is not None:
            # a label raster's 0 and a polygon coded 0 mean "unlabelled": the class would
            # silently get no training pixel
            listed = ", ".join(f"{k} = {v!r}" for k, v in sorted(unlabelled.items()))
            raise ValueError(f"classes has code(s) {listed}, but in `labels` 0 and below mark "
                             "unlabelled pixels, so that class would get no training pixel: "
                             "give it a code from 1 up in the labels, the points and "
                             "`classes` (for example 0 -> 2)")
        return self


class LandsatNcParams(SceneParams):
    """The bundled North Carolina Landsat 7 scene (2000) with 1996 land-cover references."""

    directory: InputFolder | None = Field(None, description="folder of the files; default: "
                                                            "bundled")
    band_pattern: str = "lsat7_2000_{band}.tif"
    bands: list[str] = Field(
        default_factory=lambda: ["10", "20", "30", "40", "50"],
        description="band 70 (SWIR2) is left out by default: it misses 81,535 pixels and "
                    "would cut the usable field points from 752 to 562")
    band_roles: dict[str, str] = Field(default_factory=lambda: dict(LANDSAT7_ROLES))
    labels: SceneFile | None = Field("landsat96_labelled_pixels.tif",
                                     description="label raster or polygons; relative to "
                                                 "`directory`")
    points: SceneFile | None = Field("landsat96_points.shp",
                                     description="field reference points; relative to "
                                                 "`directory`")
    classes: dict[int, str] = Field(default_factory=lambda: dict(LANDSAT_NC_CLASSES))


class SpatialBlockParams(Params):
    block_size: int = Field(32, ge=1, le=4096, description="block side in pixels")
    validation_size: float = Field(0.15, ge=0, lt=1,
                                   description="share of blocks for validation")
    test_size: float = Field(0.0, ge=0, lt=1, description="share of blocks whose labelled pixels"
                             " join the test set (the field points always do)")

    @model_validator(mode="after")
    def _fits(self) -> SpatialBlockParams:
        if self.test_size + self.validation_size >= 1:
            raise ValueError("test_size + validation_size must be below 1")
        return self


class MapParams(Params):
    tile_size: int = Field(256, ge=16, le=4096, description="side of a map tile in pixels")
    write_map: bool = Field(True, description="write the GeoTIFF map and PNG preview")


class ImageryForestParams(MapParams):
    n_estimators: int = Field(200, ge=1, le=5000, description="number of trees")
    max_depth: int | None = Field(None, ge=1, description="depth limit of each tree")
    min_samples_leaf: int = Field(1, ge=1, description="smallest leaf")
    class_weight: Literal["balanced", "balanced_subsample"] | None = Field(
        "balanced", description="reweight rare classes (built-up is the minority)")
    n_jobs: int = Field(1, description="CPU cores to fit with and to score records with "
                                       "(-1: all; keep 1 on Spark, whose tasks share cores)")
    map_jobs: int = Field(-1, description="CPU cores to map a whole scene with (-1: all): "
                                          "it changes the speed, not the model")
    context_windows: list[int] = Field(
        default_factory=list,
        description="focal windows (odd sides in pixels, e.g. [3, 7]): the mean of the bands "
                    "over each window, and the indices of that mean, are added as features; "
                    "computed from the scene, tile by tile with a margin")
    threshold: Literal["argmax", "cv", "validation"] | float = Field(
        "argmax",
        description="decision rule for built-up (binary mode): 'argmax' (most probable class), "
                    "'cv' (threshold on P(built-up) maximising kappa in spatial-block "
                    "cross-validation of the labelled pixels, train and validation blocks), "
                    "'validation' (the same on the validation blocks only) or a number in "
                    "(0, 1); stored with the model")
    threshold_prevalence: Literal["scene", "training"] = Field(
        "scene",
        description="built-up share for which the 'cv' threshold maximises kappa: 'scene' "
                    "reweights the cross-validated records to the share of built-up land in "
                    "the scene, estimated from a random sample of scene pixels by adjusted "
                    "classify-and-count (no reference data used); 'training' keeps the "
                    "share of the labelled pixels (and mixtures) as it is. Needs the scene "
                    "(an imagery loader): without it the default falls back to 'training' "
                    "with a warning and an explicit 'scene' is an error")
    cv_folds: int = Field(5, ge=2, le=20, description="folds of the 'cv' threshold")
    cv_block_size: int = Field(32, ge=1, le=4096,
                               description="block side (pixels) of the 'cv' folds")

    @field_validator("context_windows")
    @classmethod
    def _odd_windows(cls, value: list[int]) -> list[int]:
        bad = [w for w in value if w < 3 or w % 2 == 0 or w > 255]
        if bad:
            raise ValueError(f"context_windows must be odd sides from 3 to 255; got {bad}")
        return value

    @field_validator("threshold", mode="before")
    @classmethod
    def _threshold_rule(cls, value: object) -> object:
        """Refuse a boolean (read as 1) and an unknown rule in one message, with the
        closest rule, instead of one message per member of the union."""
        rules = ("argmax", "cv", "validation")
        if isinstance(value, bool):
            raise ValueError("threshold must be 'argmax', 'cv', 'validation' or a number in "
                             "(0, 1), not a boolean")
        if isinstance(value, str) and value not in rules:
            try:
                float(value)
            except ValueError:
                close = difflib.get_close_matches(value.lower(), rules, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError("threshold must be 'argmax', 'cv', 'validation' or a number "
                                 f"in (0, 1){hint}") from None
        return value

    @field_validator("threshold")
    @classmethod
    def _threshold_range(cls, value: str | float) -> str | float:
        if isinstance(value, float) and not 0 < value < 1:
            raise ValueError("a numeric threshold must lie in (0, 1)")
        return value


class ContextForestParams(ImageryForestParams):
    """The forest with 3x3 neighbourhood means and a cross-validated decision threshold."""

    context_windows: list[int] = Field(
        default_factory=lambda: [3],
        description="focal windows (odd sides in pixels): band means and their indices")
    min_samples_leaf: int = Field(3, ge=1, description="smallest leaf (smaller trees: faster "
                                  "maps, smoother probabilities)")
    threshold: Literal["argmax", "cv", "validation"] | float = Field(
        "cv", description="'cv': threshold on P(built-up) maximising kappa in spatial-block "
                          "cross-validation of the labelled pixels; see random_forest")
    mixtures: float = Field(
        1.0, ge=0, le=10,
        description="synthetically mixed training data (Okujeni et al. 2013), binary mode: "
                    "this many mixtures per real training pixel, each a built-up pixel and a "
                    "pixel of `mixture_classes` mixed with a built-up fraction f ~ U(0, 1) "
                    "(bands and focal-mean bands mixed, indices recomputed); the 'cv' folds "
                    "get mixtures of their own pixels only. 0 turns it off (the plain context "
                    "forest). Needs the loader's `land_cover` column: without it, or in "
                    "multi-class mode, the default is skipped with a warning and an explicit "
                    "value is an error")
    mixture_builtup_fraction: float = Field(
        0.2, gt=0, lt=1,
        description="a mixture counts as built-up when its built-up fraction is at least "
                    "this (0.2: the NLCD counts land with 20% impervious cover as developed): "
                    "the label it learns from (mixture_target = 'label') and, either way, "
                    "the label of the held-out mixtures on which the 'cv' threshold is chosen")
    mixture_classes: list[str] = Field(
        default_factory=lambda: list(MIXTURE_CLASSES), min_length=1,
        description="land-cover classes (the loader's `land_cover` names) mixed with built-up "
                    "pixels: vegetated and bare land, not water")
    mixture_target: Literal["fraction", "label"] = Field(
        "fraction",
        description="what the forest learns from the mixtures: 'fraction' regresses the "
                    "built-up fraction (a random forest regression, as Okujeni et al. do; "
                    "P(built-up) is then the estimated fraction and the threshold is on it), "
                    "'label' classifies them as built-up when the fraction is at least "
                    "mixture_builtup_fraction. class_weight weighs the classes of a "
                    "classification only: the regression leaves it aside")


class CnnParams(MapParams):
    epochs: int = Field(20, ge=1, le=1000, description="passes over the training patches")
    patch_size: int = Field(64, ge=16, le=512, description="training patch side in pixels")
    width: int = Field(16, ge=4, le=256, description="channels of the first layer")
    learning_rate: float = Field(3e-3, gt=0, le=1)
    batch_size: int = Field(16, ge=1, le=1024)
    overlap: int = Field(16, ge=0, le=256, description="context pixels around each map tile")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: cuda if present")
    threads: int | None = Field(1, ge=1, description="torch CPU threads while training (fixed, "
                                                     "so that the model does not depend on the "
                                                     "machine's cores; None: torch's default)")
    class_weight: Literal["balanced"] | None = Field("balanced",
                                                     description="reweight rare classes")

    @model_validator(mode="after")
    def _multiple_of_four(self) -> CnnParams:
        if self.patch_size % 4:
            raise ValueError(f"patch_size must be a multiple of 4 (the U-Net pools twice); "
                             f"got {self.patch_size}")
        return self


class FieldValidationParams(Params):
    confidence: float = Field(0.95, gt=0.5, lt=1, description="level of the intervals")
    positive_class: str | None = Field(None, description="class whose area is estimated; "
                                       "default: the loader's built-up class")
