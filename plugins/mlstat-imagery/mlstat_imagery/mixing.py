"""Synthetically mixed training data (Okujeni et al. 2013, Remote Sensing of Environment 137,
"Support vector regression and synthetically mixed training data for quantifying urban land
cover"): linear mixtures of a built-up and a vegetated or bare training pixel, labelled by
the built-up fraction, teach a pixel classifier what low-density built-up land looks like when
the training polygons hold only dense cores.

Numpy only. A mixture mixes the bands (and the focal-mean bands) with one fraction; every
spectral index is recomputed from the mixed bands by :func:`feature_stack`, never mixed
(indices are not linear in the bands).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mlstat_core.errors import DataError
from mlstat_imagery.features import band_column, context_names, feature_names, feature_stack

MIXTURE_STREAM = 2013
"""Second entry of the mixtures' random seed ``[model seed, MIXTURE_STREAM]``: a stream of its
own, so the forest's randomness is that of the model seed alone."""


@dataclass(frozen=True)
class FeatureRecipe:
    """How the model's feature columns are made from bands: the bands, their spectral roles,
    the indices and the focal windows (``columns`` in the model's order)."""

    bands: list[str]
    band_roles: Mapping[str, str]
    indices: list[str]
    windows: list[int]
    columns: list[str]

    def band_positions(self) -> np.ndarray:
        """Column positions of the bands, shape (band sets, bands): the pixel's own bands,
        then the focal-mean bands of each window."""
        where = {name: i for i, name in enumerate(self.columns)}
        own = [band_column(b) for b in self.bands]
        sets = [own] + [context_names(own, [w]) for w in self.windows]
        missing = [c for names in sets for c in names if c not in where]
        if missing:
            raise DataError(f"synthetic mixtures need every band among the features; the model "
                            f"lacks {missing[:5]}")
        return np.array([[where[c] for c in names] for names in sets])


def mixed_features(pure: np.ndarray, partner: np.ndarray, fraction: np.ndarray,
                   recipe: FeatureRecipe) -> np.ndarray:
    """Features (n, columns) of the mixtures ``fraction * pure + (1 - fraction) * partner``.

    ``pure`` and ``partner`` are band values of shape (band sets, n, bands) as returned by
    :meth:`FeatureRecipe.band_positions` applied to a feature matrix; each band set is mixed
    with the same fraction and its indices are computed from the mixed bands."""
    f = np.asarray(fraction, dtype=np.float64)[None, :, None]
    mixed = f * pure.astype(np.float64) + (1.0 - f) * partner.astype(np.float64)
    values: dict[str, np.ndarray] = {}
    base = feature_names(recipe.bands, recipe.indices)
    name_sets = [base] + [context_names(base, [w]) for w in recipe.windows]
    for bands, names in zip(mixed, name_sets, strict=True):
        stack = feature_stack(bands.T, recipe.bands, recipe.band_roles, recipe.indices)
        values.update(zip(names, stack, strict=True))
    missing = [c for c in recipe.columns if c not in values]
    if missing:
        raise DataError(f"synthetic mixtures cannot compute the feature(s) {missing[:5]} from "
                        "the bands")
    return np.stack([values[c] for c in recipe.columns], axis=1).astype(np.float32)


class MixtureSource:
    """Draws synthetic mixtures from a set of real pixels (rows of a feature matrix)."""

    def __init__(self, matrix: np.ndarray, builtup: np.ndarray, partner: np.ndarray,
                 recipe: FeatureRecipe, share: float, builtup_fraction: float,
                 rng: np.random.Generator) -> None:
        """``builtup`` / ``partner``: booleans per row, the pixels that may be the built-up
        member / the other member of a mixture; ``share``: mixtures per real pixel;
        ``builtup_fraction``: the built-up fraction from which a mixture is labelled
        built-up."""
        self.bands = np.asarray(matrix)[:, recipe.band_positions()].transpose(1, 0, 2)
        ok = ~np.isnan(self.bands).any(axis=(0, 2))
        self.builtup = np.asarray(builtup, dtype=bool) & ok
        self.partner = np.asarray(partner, dtype=bool) & ok
        self.recipe = recipe
        self.share = share
        self.builtup_fraction = builtup_fraction
        self.rng = rng

    def draw(self, rows: Sequence[int] | np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """``share * len(rows)`` mixtures made only of the pixels in ``rows`` (default: all):
        features (n, columns) and built-up fractions (n,). Empty when ``rows`` holds no
        built-up or no partner pixel. :meth:`label` turns fractions into labels."""
        rows = np.arange(len(self.builtup)) if rows is None else np.asarray(rows, dtype=int)
        pure = rows[self.builtup[rows]]
        partner = rows[self.partner[rows]]
        n = int(round(self.share * len(rows)))
        if n == 0 or not len(pure) or not len(partner):
            return (np.empty((0, len(self.recipe.columns)), np.float32), np.empty(0))
        a, b = self.rng.choice(pure, n), self.rng.choice(partner, n)
        fraction = self.rng.uniform(0, 1, n)
        features = mixed_features(self.bands[:, a], self.bands[:, b], fraction, self.recipe)
        return features, fraction

    def label(self, fraction: np.ndarray) -> np.ndarray:
        """True where a mixture counts as built-up: fraction >= ``builtup_fraction``."""
        return np.asarray(fraction) >= self.builtup_fraction
