"""The per-pixel random forest: bands, spectral indices and (optionally) their neighbourhood
means in, built-up probability out; an optional decision threshold on P(built-up) chosen on
held-out spatial blocks; maps the whole scene tile by tile. The context forest adds
synthetically mixed training data (see :mod:`mlstat_imagery.mixing`)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.components import Dataset
from mlstat_core.errors import DataError
from mlstat_core.sklearn_model import (
    SklearnModel,
    proba_column,
    refuse_infinite,
)
from mlstat_imagery.features import (
    band_column,
    context_margin,
    context_names,
    context_stack,
    derivable_indices,
    formula,
    record_indices,
)
from mlstat_imagery.fraction import FractionForest
from mlstat_imagery.mapping import SceneMapper
from mlstat_imagery.mixing import MIXTURE_STREAM, FeatureRecipe, MixtureSource
from mlstat_imagery.nodata import missing_rows, nodata_as_missing, without_class
from mlstat_imagery.params import ContextForestParams, ImageryForestParams
from mlstat_imagery.prevalence import adjusted_count, prevalence_weights
from mlstat_imagery.scene import (
    SceneInfo,
    gather_by_tile,
    pixel_positions,
    read_window,
    release_scene_files,
    require_scene_files,
)
from mlstat_imagery.splitters import block_ids
from mlstat_imagery.validation import best_threshold

SCENE_SAMPLE = 50_000
"""Scene pixels drawn at random (from the model seed) to estimate the scene's built-up share
for the 'cv' threshold (``threshold_prevalence = "scene"``); every pixel of a smaller scene.
Pixels with nodata are then left out, so fewer may remain."""
PIXEL_SAMPLE_LIMIT = 1_000_000
"""Scenes up to this many pixels are sampled pixel by pixel, which reads every tile holding a
sampled pixel (the whole scene, in practice); a larger scene is sampled in
:data:`SAMPLE_WINDOW`-pixel square windows at random places, so the cost stays that of
:data:`SCENE_SAMPLE` pixels whatever the scene's size."""
SAMPLE_WINDOW = 32
PREVALENCE_STREAM = 2008
"""Second entry of the scene sample's random seed ``[model seed, PREVALENCE_STREAM]``."""


@dataclass(frozen=True)
class Mixtures:
    """One fit's training pixels (their feature matrix) and synthetic mixtures."""

    matrix: np.ndarray
    source: MixtureSource
    features: np.ndarray
    fraction: np.ndarray


class PixelForestModel(SceneMapper, SklearnModel):
    """scikit-learn's RandomForestClassifier on the feature columns the loader named, plus
    the neighbourhood means of ``context_windows`` read from the scene."""

    params_type = ImageryForestParams
    trusted_types = (*SklearnModel.trusted_types, "sklearn.tree._tree.Tree",
                     "mlstat_imagery.fraction.FractionForest")

    def __init__(self, params: ImageryForestParams | None = None, task: str = "") -> None:
        super().__init__(params, task)
        self.map_tile_size = self.params.tile_size
        self._synthetic: Mixtures | None = None

    def _forest(self, n_estimators: int, labels: tuple[Any, Any] | None = None) -> Any:
        """The forest: a classifier, or with ``labels`` (negative, positive) and a mixture
        target of fractions, a :class:`FractionForest`."""
        from sklearn.ensemble import RandomForestClassifier

        p: ImageryForestParams = self.params
        if labels is not None and self.regresses_fractions():
            if "class_weight" in p.model_fields_set and p.class_weight:
                warnings.warn(f"class_weight = {p.class_weight!r} is left aside: the forest "
                              "regresses built-up fractions (mixture_target = 'fraction'); "
                              "set mixture_target = 'label' to weigh classes", stacklevel=3)
            return FractionForest(n_estimators, labels=labels, max_depth=p.max_depth,
                                  min_samples_leaf=p.min_samples_leaf, n_jobs=p.n_jobs,
                                  random_state=self.seed)
        return RandomForestClassifier(
            n_estimators=n_estimators, max_depth=p.max_depth,
            min_samples_leaf=p.min_samples_leaf, class_weight=p.class_weight, n_jobs=p.n_jobs,
            random_state=self.seed)

    def regresses_fractions(self) -> bool:
        """Whether mixtures are learnt as fractions (a regression), not labels."""
        return getattr(self.params, "mixture_target", "label") == "fraction"

    def _mixture_target(self, truth: np.ndarray, fraction: np.ndarray,
                        source: MixtureSource) -> np.ndarray:
        """Targets of real pixels (booleans) then mixtures: fractions (1/0, f) or labels."""
        if self.regresses_fractions():
            return np.concatenate([truth.astype(np.float64), fraction])
        return np.concatenate([truth, source.label(fraction)])

    # -- fitting ----------------------------------------------------------------------------

    def fit(self, train: Dataset, validation: Dataset | None = None) -> PixelForestModel:
        if train.y.nunique() < 2:
            raise DataError(f"the training pixels hold one class only ({train.y.iloc[0]!r}); "
                            "a classifier needs two")
        windows = list(self.params.context_windows)
        features = train.metadata.get("features")
        if windows and (not features or "scene" not in train.metadata
                        or "row" not in train.frame.columns):
            raise DataError("context_windows need an imagery loader (scene metadata and "
                            "row/col columns)")
        self.extra_state = {}
        if features:
            base = list(train.roles.features)
            self.extra_state = {
                "features": features, "scene": train.metadata.get("scene"),
                "context_windows": windows, "inputs": base,
                "columns": base + context_names(base, windows)}
        self._mixing_rng = np.random.default_rng([self.seed, MIXTURE_STREAM])
        self.roles = train.roles
        self._synthetic = self._draw_mixtures(train)
        try:
            super().fit(train, validation)  # with build_estimator and training_data below
        finally:
            self._synthetic = None
        derived = self.derived_indices()
        if derived:  # new records need not carry them (see to_matrix)
            self.roles = replace(train.roles, features=[c for c in train.roles.features
                                                        if c not in derived])
        return self

    def inputs(self) -> list[str]:
        """The record columns the forest learnt from (bands and indices; before any context
        means): ``roles.features`` of the training data, kept as ``inputs`` in its state; a
        model saved before that has them in its roles."""
        assert self.roles is not None
        return list(self.extra_state.get("inputs") or self.roles.features)

    def derived_indices(self) -> list[str]:
        """The index columns that records to score may leave out: the imagery loader
        computed them from the bands (its ``features`` metadata says how), so
        :meth:`to_matrix` computes them alike from the records' band columns. None for a
        model trained on a table whose index columns came with it (how they were computed
        is not known), or fitted before they were left out of its roles."""
        spec = self.extra_state.get("features")
        if not spec or "inputs" not in self.extra_state:
            return []
        return derivable_indices(spec, self.inputs())

    def _draw_mixtures(self, train: Dataset) -> Mixtures | None:
        """The training pixels' features and their synthetic mixtures, or None when this fit
        has none (see :meth:`mixes`; a warning when no pair of pixels can be mixed)."""
        if not self.mixes(train):
            return None
        matrix = self.to_matrix(train.frame)
        source = self.mixture_source(
            train.frame, matrix, (train.y == train.metadata["positive_label"]).to_numpy())
        if source is None:
            return None
        features, fraction = source.draw()
        if not len(fraction):
            warnings.warn("synthetic mixtures skipped: the training pixels hold no usable pair "
                          "of a built-up and a mixture_classes pixel", stacklevel=3)
            self.extra_state["mixtures_skipped"] = "no usable pair of pixels"
            return None
        return Mixtures(matrix, source, features, fraction)

    def mixes(self, train: Dataset) -> bool:
        """Whether this fit adds synthetic mixtures to the training pixels: never for the
        per-pixel forest (see :class:`ContextForestModel`)."""
        return False

    def mixture_source(self, frame: pd.DataFrame, matrix: np.ndarray,
                       builtup: np.ndarray) -> MixtureSource | None:
        """Synthetic mixtures of the pixels of ``frame`` (``matrix``: their features,
        ``builtup``: which are built-up)."""
        return None

    def build_estimator(self, train: Dataset) -> Any:
        if self._synthetic is None:
            return self._forest(self.params.n_estimators)
        positive = train.metadata["positive_label"]
        other = next(c for c in train.y.unique() if c != positive)
        return self._forest(self.params.n_estimators, labels=(other, positive))

    def training_data(self, train: Dataset) -> tuple[Any, np.ndarray, np.ndarray | None]:
        """The training pixels, plus their synthetic mixtures when this fit has them."""
        mixed = self._synthetic
        if mixed is None:
            return super().training_data(train)
        positive = train.metadata["positive_label"]
        other = next(c for c in train.y.unique() if c != positive)
        truth = (train.y == positive).to_numpy()
        target = self._mixture_target(truth, mixed.fraction, mixed.source)
        if not self.regresses_fractions():
            target = np.where(target, positive, other).astype(object)
        weights = None
        if train.sample_weight is not None:  # a mixture weighs as much as an average pixel
            real = train.sample_weight.to_numpy(dtype=float)
            weights = np.concatenate([real, np.full(len(mixed.fraction), real.mean())])
        learnt = "the built-up fraction (random forest regression; P(built-up) is the " \
                 "estimated fraction)" if self.regresses_fractions() else \
                 f"a label (built-up from fraction {mixed.source.builtup_fraction:g})"
        self.extra_state["mixtures"] = {
            "synthetic_pixels": int(len(mixed.fraction)), "real_pixels": int(len(train)),
            "synthetic_builtup": int(mixed.source.label(mixed.fraction).sum()),
            "share": float(mixed.source.share),
            "builtup_fraction": float(mixed.source.builtup_fraction),
            "target": "fraction" if self.regresses_fractions() else "label",
            "method": "Okujeni et al. (2013): linear mixtures of a built-up and a "
                      f"vegetated/bare training pixel, fraction ~ U(0, 1); learnt as {learnt}"}
        return np.vstack([mixed.matrix, mixed.features]), target, weights

    def after_fit(self, train: Dataset, validation: Dataset | None) -> None:
        """Choose the decision threshold on P(built-up) (binary maps only)."""
        p: ImageryForestParams = self.params
        self.extra_state["threshold"] = None
        if p.threshold != "cv" and "threshold_prevalence" in p.model_fields_set:
            warnings.warn(f"threshold_prevalence applies to threshold = 'cv' only; with "
                          f"threshold = {p.threshold!r} it is ignored", stacklevel=3)
        classes = list(self.classes_ or [])
        positive = train.metadata.get("positive_label")
        if p.threshold == "argmax" or len(classes) != 2 or positive not in classes:
            return
        k = classes.index(positive)
        if isinstance(p.threshold, float):
            self.extra_state["threshold"] = {"value": float(p.threshold), "positive": positive,
                                             "method": "fixed"}
            return
        if p.threshold == "validation":
            if validation is None or len(validation) == 0 \
                    or validation.y.nunique() < 2:
                raise DataError("threshold = 'validation' needs validation blocks holding both "
                                "classes; set validation_size in [split] or use 'cv'")
            proba = self.estimator.predict_proba(self.to_matrix(validation.frame))[:, k]
            truth = (validation.y == positive).to_numpy()
            value, kappa = best_threshold(proba, truth)
            self.extra_state["threshold"] = {
                "value": value, "positive": positive, "method": "validation blocks",
                "kappa": kappa, "pixels": int(len(truth))}
            return
        frames = [train.frame] if validation is None else [train.frame, validation.frame]
        pool = pd.concat(frames)
        truth = (pool[train.roles.target] == positive).to_numpy()
        matrix = self.to_matrix(pool)
        groups = block_ids(pool["row"].to_numpy(), pool["col"].to_numpy(), p.cv_block_size) \
            if "row" in pool.columns else np.arange(len(pool))
        source = self.mixture_source(pool, matrix, truth) if "mixtures" in self.extra_state \
            else None
        scene = self._scene_sample()
        value, kappa, folds, prevalence = self._cv_threshold(matrix, truth, groups, source,
                                                             scene)
        method = f"{folds}-fold spatial-block cross-validation ({p.cv_block_size}-pixel " \
                 "blocks) of the train and validation pixels"
        if source is not None:
            method += "; each fold's forest also trains on mixtures of its own pixels and " \
                      "the held-out pixels are joined by mixtures of held-out pixels only"
        if prevalence is not None:
            method += "; kappa weighted to the scene's estimated built-up share"
        self.extra_state["threshold"] = {
            "value": value, "positive": positive, "method": method,
            "kappa": kappa, "pixels": int(len(truth))}
        if prevalence is not None:
            self.extra_state["threshold"]["prevalence"] = prevalence

    def _scene_sample(self) -> np.ndarray | None:
        """Features of up to :data:`SCENE_SAMPLE` random pixels of the scene (nodata left
        out), whose built-up share the 'cv' threshold is chosen for; None when it keeps the
        training records' share (``threshold_prevalence = "training"``, or by default when
        the data carry no scene: a warning says so)."""
        p: ImageryForestParams = self.params
        if p.threshold_prevalence == "training":
            return None
        if not self.extra_state.get("scene") or not self.extra_state.get("features"):
            reason = "the training data carry no scene (an imagery loader gives one)"
            if "threshold_prevalence" in p.model_fields_set:
                raise DataError(f"threshold_prevalence = 'scene' cannot be used: {reason}; "
                                "set threshold_prevalence = 'training'")
            warnings.warn(f"the 'cv' threshold keeps the training pixels' built-up share "
                          f"({reason}); set threshold_prevalence = 'training' to silence "
                          "this", stacklevel=4)
            self.extra_state["threshold_prevalence_skipped"] = reason
            return None
        info = SceneInfo.from_dict(self.extra_state["scene"])
        rng = np.random.default_rng([self.seed, PREVALENCE_STREAM])
        out = self._sample_pixels(info, rng) if info.height * info.width <= \
            PIXEL_SAMPLE_LIMIT or min(info.height, info.width) < SAMPLE_WINDOW \
            else self._sample_windows(info, rng)
        out = out[~np.isnan(out).any(axis=1)]
        if not len(out):
            raise DataError("the sampled scene pixels all have nodata in some band: the "
                            "scene's built-up share cannot be estimated; set "
                            "threshold_prevalence = 'training'")
        return out

    def _sample_pixels(self, info: SceneInfo, rng: np.random.Generator) -> np.ndarray:
        """Features of :data:`SCENE_SAMPLE` pixels drawn at random (all of a smaller scene)."""
        total = info.height * info.width
        picked = np.sort(rng.choice(total, size=min(SCENE_SAMPLE, total), replace=False))
        rows, cols = np.divmod(picked, info.width)
        out = np.full((len(picked), len(self.extra_state["columns"])), np.nan, np.float32)
        return gather_by_tile(info, rows, cols, self.map_tile_size,
                              lambda r, c, h, w: self._stack(info, r, c, h, w), out)

    def _sample_windows(self, info: SceneInfo, rng: np.random.Generator) -> np.ndarray:
        """Features of every pixel of square windows at random places, about
        :data:`SCENE_SAMPLE` pixels in all: a cost that does not grow with the scene."""
        require_scene_files(info)
        side = SAMPLE_WINDOW
        count = -(-SCENE_SAMPLE // (side * side))
        rows = rng.integers(0, info.height - side + 1, count)
        cols = rng.integers(0, info.width - side + 1, count)
        try:
            parts = [self._stack(info, int(r), int(c), side, side).reshape(-1, side * side).T
                     for r, c in zip(rows, cols, strict=True)]
        finally:
            release_scene_files()  # masked band files read for the windows
        return np.vstack(parts).astype(np.float32, copy=False)

    def _cv_threshold(self, matrix: np.ndarray, truth: np.ndarray, groups: np.ndarray,
                      source: MixtureSource | None = None, scene: np.ndarray | None = None,
                      ) -> tuple[float, float, int, dict[str, Any] | None]:
        """Out-of-fold P(built-up) of the pixels (spatial blocks as groups) and the threshold
        maximising kappa on them. With ``source``, each fold's forest also trains on mixtures
        of its fit pixels, and mixtures of the held-out pixels only join the scored set.

        With ``scene`` (features of scene pixels), kappa is maximised for the scene's
        built-up share rather than the scored set's: each fold's forest also scores the
        scene pixels, the share is estimated by adjusted classify-and-count at the
        unweighted threshold (:func:`~mlstat_imagery.prevalence.adjusted_count`), and the
        scored records are reweighted to it. Returns (threshold, kappa, folds, the share's
        figures or None)."""
        from sklearn.model_selection import GroupKFold

        folds = min(self.params.cv_folds, len(np.unique(groups)))
        if folds < 2:
            raise DataError("the labelled pixels fall in one block: the 'cv' threshold needs "
                            "two; use a smaller cv_block_size")
        out = np.full(len(truth), np.nan)
        extra_p: list[np.ndarray] = []
        extra_y: list[np.ndarray] = []
        scene_scores: list[np.ndarray] = []
        for fit_idx, held in GroupKFold(folds).split(matrix, truth, groups):
            if truth[fit_idx].all() or not truth[fit_idx].any():
                continue
            x, y = matrix[fit_idx], truth[fit_idx]
            labels = None
            if source is not None:
                sx, sf = source.draw(fit_idx)
                x, y = np.vstack([x, sx]), self._mixture_target(y, sf, source)
                labels = (False, True)
            forest = self._forest(min(100, self.params.n_estimators), labels=labels)
            forest.fit(x, y)
            k = list(forest.classes_).index(True)
            out[held] = forest.predict_proba(matrix[held])[:, k]
            if scene is not None:
                scene_scores.append(forest.predict_proba(scene)[:, k])
            if source is not None:
                hx, hf = source.draw(held)
                if len(hf):
                    extra_p.append(forest.predict_proba(hx)[:, k])
                    extra_y.append(source.label(hf))
        seen = ~np.isnan(out)
        scores = np.concatenate([out[seen], *extra_p])
        scored_truth = np.concatenate([truth[seen], *extra_y])
        if scored_truth.all() or not scored_truth.any():
            blocks = [len(np.unique(groups[side])) for side in (truth, ~truth)]
            raise DataError(
                "the 'cv' threshold found no fold that holds out pixels of both classes while "
                f"training on both: the built-up training pixels lie in {blocks[0]} and the "
                f"others in {blocks[1]} of the {self.params.cv_block_size}-pixel blocks; set a "
                "smaller `cv_block_size` in [model], add training labels elsewhere in the "
                "scene, or set `threshold` to 'argmax' or a number")
        value, kappa = best_threshold(scores, scored_truth)
        if scene is None:
            return value, kappa, folds, None
        share = adjusted_count(scene_scores, scores, scored_truth, value)
        weighted, weighted_kappa = best_threshold(
            scores, scored_truth, weight=prevalence_weights(scored_truth,
                                                            share["prevalence"]))
        prevalence = {
            "source": "scene", "estimate": share["prevalence"],
            "training_share": float(scored_truth.mean()), "scene_pixels": int(len(scene)),
            "share_at_unweighted_threshold": share["share_at_threshold"],
            "tpr": share["tpr"], "fpr": share["fpr"],
            "unweighted_threshold": value, "unweighted_kappa": kappa,
            "method": "adjusted classify-and-count (Forman 2008) of a random sample of scene "
                      "pixels scored by the folds' forests, at the unweighted threshold; the "
                      "cross-validated records reweighted to that share"}
        return weighted, weighted_kappa, folds, prevalence

    # -- features ---------------------------------------------------------------------------

    def to_matrix(self, frame: pd.DataFrame) -> Any:
        """The records' features, NaN where nodata: a band column holding the scene's nodata
        value, an empty value, or (with ``context_windows``) nodata in the scene at the
        record's pixel. An index column the records lack is computed from their band
        columns (:meth:`derived_indices`), and so is one they carry where a record leaves it
        empty; elsewhere it is used as given, with a warning where it differs from the bands'
        (:class:`IndexMismatchWarning`)."""
        inputs = self.inputs()
        base = self._record_features(frame, inputs)
        windows = self.extra_state.get("context_windows") or []
        if not windows:
            return base
        missing = [c for c in ("row", "col") if c not in frame.columns]
        if missing:
            raise DataError(f"the model uses neighbourhood features, read from the scene by "
                            f"pixel position: the records lack {missing}")
        info = SceneInfo.from_dict(self.extra_state["scene"])
        rows, cols = pixel_positions(frame, info)
        scene = self._scene_at(info, rows, cols)
        _warn_other_scene(base, inputs, scene, info)
        return np.hstack([base, scene[:, len(inputs):]])

    def _record_features(self, frame: pd.DataFrame, inputs: list[str]) -> np.ndarray:
        """The ``inputs`` of the records (records, inputs), NaN where nodata; the derived
        indices they lack, or leave empty in some records, computed from their bands."""
        derived = self.derived_indices()
        given = [c for c in inputs if c not in derived or c in frame.columns]
        # SklearnModel.predict checked the others (roles.input_columns()), not the index
        # columns that new records may leave out
        refuse_infinite(frame, [c for c in given if c in derived], advice=_index_advice)
        values = nodata_as_missing(frame[given].to_numpy(dtype=np.float32), given,
                                   (self.extra_state.get("scene") or {}).get("nodata") or {})
        out = np.full((len(frame), len(inputs)), np.nan, dtype=np.float32)  # ours to fill
        out[:, [inputs.index(c) for c in given]] = values
        if not derived or not len(frame):
            return out
        computed = record_indices(out, inputs, self.extra_state["features"], derived)
        differ = {}
        for name, index in computed.items():
            k = inputs.index(name)
            if name in frame.columns:
                differ[name] = (out[:, k].copy(), index)
                empty = np.isnan(out[:, k]) & ~np.isnan(index)  # left empty: the bands'
                out[empty, k] = index[empty]
            else:
                out[:, k] = index
        _warn_other_indices(differ, len(frame))
        return out

    def _stack(self, info: SceneInfo, row0: int, col0: int, height: int,
               width: int) -> np.ndarray:
        """All features of a window (features, height, width), NaN where nodata."""
        spec = self.extra_state.get("features")
        if not spec:
            raise DataError("the model was trained without a scene description; it cannot map")
        windows = self.extra_state.get("context_windows") or []
        m = context_margin(windows) if windows else 0
        bands = read_window(info, row0 - m, col0 - m, height + 2 * m, width + 2 * m)
        stack = context_stack(bands, spec["bands"], spec["band_roles"], spec["indices"],
                              windows)
        return stack[:, m:m + height, m:m + width]

    def _scene_at(self, info: SceneInfo, rows: np.ndarray, cols: np.ndarray,
                  tile: int = 256) -> np.ndarray:
        """All features (bands, indices, context) of the stored scene at these pixels."""
        out = np.full((len(rows), len(self.extra_state["columns"])), np.nan, dtype=np.float32)
        return gather_by_tile(info, rows, cols, tile,
                              lambda r, c, h, w: self._stack(info, r, c, h, w), out)

    # -- prediction and map ---------------------------------------------------------------------

    def threshold(self) -> dict[str, Any] | None:
        return self.extra_state.get("threshold")

    def probabilities(self, matrix: Any) -> np.ndarray:
        """The forest's probabilities; NaN for a record on nodata (see :meth:`to_matrix`),
        which the forest never sees."""
        unscored = missing_rows(matrix)
        proba = np.full((len(unscored), len(self.classes_ or [])), np.nan)
        if not unscored.all():
            proba[~unscored] = self.estimator.predict_proba(matrix[~unscored])
        return proba

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Class and probabilities of each record, by the threshold rule when one was chosen;
        no class for a record on nodata, as the map leaves such pixels, with a warning
        counting them."""
        out = super().predict(frame)
        classes = list(self.classes_ or [])
        unscored = out[[proba_column(c) for c in classes]].isna().any(axis=1).to_numpy()
        rule = self.threshold()
        if rule is not None and len(out):
            positive = rule["positive"]
            other = next(c for c in classes if c != positive)
            p = out[proba_column(positive)].to_numpy()
            chosen = p >= rule["value"]
            out["prediction"] = np.where(chosen, positive, other).astype(object)
            out["confidence"] = np.where(chosen, p, 1.0 - p)
        where = "in their band or index columns (the scene's nodata value, or empty)"
        if self.extra_state.get("context_windows"):
            where += " or in the scene at their row/col"
        bands = {band_column(b) for b in (self.extra_state.get("features") or {}).get("bands")
                 or []}
        given = set(self.inputs()) - set(self.derived_indices())  # an empty index: computed
        values = "band values" if given <= bands else "band and index values"
        return without_class(out, unscored, where, f"give them valid {values}, or leave "
                                                   "them out before scoring")

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class index of each pixel from probabilities (classes, ...): the threshold rule on
        P(built-up) when one was chosen, else the most probable class."""
        rule = self.threshold()
        if rule is None:
            return super().decide(proba)
        classes = list(self.classes_ or [])
        k = classes.index(rule["positive"])
        return np.where(proba[k] >= rule["value"], k, 1 - k)

    def scene_probabilities(self, info: SceneInfo, row0: int, col0: int, height: int,
                            width: int) -> np.ndarray:
        stack = self._stack(info, row0, col0, height, width)
        pixels = stack.reshape(stack.shape[0], -1).T
        valid = ~np.isnan(pixels).any(axis=1)
        out = np.full((pixels.shape[0], len(self.classes_ or [])), np.nan, dtype=np.float32)
        if valid.any():
            out[valid] = self.estimator.predict_proba(pixels[valid])
        return out.T.reshape(-1, height, width)

    @contextlib.contextmanager
    def for_mapping(self) -> Iterator[None]:
        """The trees run on ``map_jobs`` cores while a scene is mapped (same values), set once
        per map rather than per tile; ``n_jobs`` is restored afterwards."""
        jobs = self.estimator.n_jobs
        self.estimator.n_jobs = self.params.map_jobs
        try:
            yield
        finally:
            self.estimator.n_jobs = jobs

    def write_outputs(self, directory: Path, predictions: pd.DataFrame,
                      test: Dataset) -> list[Path]:
        return self.write_scene_outputs(directory, test)

    def global_explanation(self) -> dict[str, Any] | None:
        if self.estimator is None or self.roles is None:
            return None
        names = self.extra_state.get("columns") or list(self.roles.features)
        weights = self.estimator.feature_importances_
        out: dict[str, Any] = {"kind": "impurity_importance",
                               "features": {f: float(w) for f, w in zip(names, weights,
                                                                        strict=True)}}
        if self.threshold():
            out["threshold"] = self.threshold()
        return out


def _warn_other_scene(base: np.ndarray, columns: list[str], scene: np.ndarray,
                      info: SceneInfo) -> None:
    """Warn when records' band values differ from the stored scene's at their row/col: their
    neighbourhood means come from the stored scene, so the model would mix two scenes."""
    bands = [i for i, c in enumerate(columns) if c.startswith("band_")]
    if not bands or not len(base):
        return
    own, stored = base[:, bands], scene[:, bands]
    compared = ~(np.isnan(own).any(axis=1) | np.isnan(stored).any(axis=1))
    differs = compared & ~np.isclose(own, stored, rtol=1e-5, atol=1e-6).all(axis=1)
    count = int(differs.sum())
    if count:
        warnings.warn(
            f"{count:,} of the {int(compared.sum()):,} records with data "
            f"({count / compared.sum():.1%}) have band values other than the stored scene's at "
            f"their row/col ({info.directory}): the model reads each record's "
            "neighbourhood means from that scene, so their predictions mix two scenes; score "
            "another scene by training a run on it (docs/imagery.md, 'Running it cycle after "
            "cycle'), or give the records' row/col on the stored scene", OtherSceneWarning,
            stacklevel=3)


class OtherSceneWarning(UserWarning):
    """Records whose bands differ from the stored scene at their row/col (context forest)."""


INDEX_TOLERANCE = 0.01
"""How far a record's index column may lie from the index of its band columns without a
warning (indices written with two decimals stay within it)."""


def _index_advice(name: str) -> str:
    """What to do with infinite values in the index column ``name``, which the model
    computes from the record's band columns where left empty."""
    return (f"correct them, or leave them empty: the model computes an empty {name} from the "
            f"record's band columns ({formula(name)})")


def _warn_other_indices(pairs: dict[str, tuple[np.ndarray, np.ndarray]], total: int) -> None:
    """Warn when records' index columns (``pairs``: name -> (given, computed from their
    bands)) differ from their bands' by more than :data:`INDEX_TOLERANCE`: indices computed
    otherwise than the loader computed them for training (on digital numbers with an offset,
    scaled by 10,000, without counting negative bands as 0)."""
    found = []
    for name, (given, computed) in pairs.items():
        with np.errstate(invalid="ignore"):
            off = np.abs(given - computed) > INDEX_TOLERANCE  # NaN: not compared
        if off.any():
            i = int(np.nonzero(off)[0][0])
            found.append(f"{name} in {int(off.sum()):,} of the {total:,} (e.g. "
                         f"{given[i]:.4g} given, {computed[i]:.4g} from the bands: "
                         f"{formula(name)})")
    if found:
        warnings.warn(
            "records scored together carry index columns other than the index of their "
            f"band columns: {'; '.join(found)}. The model learnt each index "
            "as computed from the bands as read (after [loader] scale and offset, negative "
            "band values counted as 0) and scores the records' values as given; leave the "
            "index columns out and the model computes them from the band columns",
            IndexMismatchWarning, stacklevel=4)


class IndexMismatchWarning(UserWarning):
    """Records whose index columns differ from the index of their band columns."""


class ContextForestModel(PixelForestModel):
    """The forest with neighbourhood means (3x3 by default), synthetic mixtures and a decision
    threshold chosen by spatial-block cross-validation of the labelled pixels, for the
    scene's estimated built-up share (``threshold_prevalence``)."""

    params_type = ContextForestParams

    def __init__(self, params: ContextForestParams | None = None, task: str = "") -> None:
        super().__init__(params if params is not None else ContextForestParams(), task)

    def mixes(self, train: Dataset) -> bool:
        """Synthetic mixtures are on (``mixtures`` > 0) and the data allow them: a binary
        task and the loader's ``land_cover`` column. When they do not, a default is skipped
        with a warning (and the reason kept in the model's state); a value the user set is an
        error."""
        p: ContextForestParams = self.params
        if p.mixtures == 0:
            return False
        reason = self._no_mixtures_reason(train)
        if reason is None:
            return True
        if "mixtures" in p.model_fields_set:
            raise DataError(f"mixtures = {p.mixtures} cannot be used: {reason}; set "
                            "mixtures = 0 for the plain context forest")
        warnings.warn(f"synthetic mixtures skipped ({reason}): the plain context forest is "
                      "fitted; set mixtures = 0 in [model] to silence this", stacklevel=3)
        self.extra_state["mixtures_skipped"] = reason
        return False

    def _no_mixtures_reason(self, train: Dataset) -> str | None:
        p: ContextForestParams = self.params
        positive = train.metadata.get("positive_label")
        if train.y.nunique() != 2 or positive not in set(train.y):
            return "they need a binary task (built-up against other)"
        if not train.metadata.get("features") or "land_cover" not in train.frame.columns:
            return ("the training pixels have no multi-class `land_cover` column (an imagery "
                    "loader gives one)")
        cover = train.frame["land_cover"].astype(str)
        itself = sorted(set(cover[(train.y == positive).to_numpy()]) & set(p.mixture_classes))
        if itself:
            raise DataError(f"mixture_classes {itself} are built-up classes: name the "
                            "vegetated/bare classes to mix with built-up pixels")
        known = set(cover) | set((train.metadata.get("class_codes") or {}).values())
        unknown = [c for c in p.mixture_classes if c not in known]
        if unknown and "mixture_classes" in p.model_fields_set:
            raise DataError(f"mixture_classes {unknown} are not land-cover classes of the data "
                            f"({', '.join(sorted(known))})")
        if not cover.isin(p.mixture_classes).any():
            return (f"no training pixel is of the mixture_classes {p.mixture_classes} (the "
                    f"training pixels are {', '.join(sorted(set(cover)))}); label vegetated or "
                    "bare land in the training data, or name its classes in mixture_classes")
        return None

    def mixture_source(self, frame: pd.DataFrame, matrix: np.ndarray,
                       builtup: np.ndarray) -> MixtureSource | None:
        p: ContextForestParams = self.params
        spec = self.extra_state["features"]
        recipe = FeatureRecipe(list(spec["bands"]), dict(spec["band_roles"]),
                               list(spec["indices"]), list(self.extra_state["context_windows"]),
                               list(self.extra_state["columns"]))
        partner = frame["land_cover"].astype(str).isin(p.mixture_classes).to_numpy()
        return MixtureSource(matrix, builtup, partner, recipe, p.mixtures,
                             p.mixture_builtup_fraction, self._mixing_rng)
