"""Spectral index formulas on known values."""

from __future__ import annotations

import numpy as np
import pytest
from mlstat_imagery.features import feature_stack, normalised_difference, spectral_index

from mlstat_core.errors import ConfigError

BANDS = {"green": np.array([40.0, 0.0]), "red": np.array([30.0, 0.0]),
         "nir": np.array([90.0, 0.0]), "swir1": np.array([60.0, 0.0])}


def test_index_values() -> None:
    assert spectral_index("ndvi", BANDS)[0] == pytest.approx((90 - 30) / (90 + 30))
    assert spectral_index("ndbi", BANDS)[0] == pytest.approx((60 - 90) / (60 + 90))
    assert spectral_index("mndwi", BANDS)[0] == pytest.approx((40 - 60) / (40 + 60))
    assert spectral_index("ndwi", BANDS)[0] == pytest.approx((40 - 90) / (40 + 90))
    assert spectral_index("bu", BANDS)[0] == pytest.approx(-0.2 - 0.5)
    assert spectral_index("ndvi", BANDS)[1] == 0.0  # 0 / 0 is 0, not NaN


def test_nan_propagates_and_missing_role_is_clear() -> None:
    assert np.isnan(normalised_difference(np.array([np.nan]), np.array([1.0])))[0]
    # reflectance read with an offset is slightly negative on dark water: NDVI was 5
    assert normalised_difference(np.array([0.003]), np.array([-0.002]))[0] == pytest.approx(1.0)
    assert normalised_difference(np.array([-0.01]), np.array([-0.02]))[0] == 0.0
    with pytest.raises(ConfigError, match="swir1"):
        spectral_index("ndbi", {"nir": np.ones(1)})


def test_feature_stack_order() -> None:
    stack = np.stack([np.full((2, 2), v) for v in (30.0, 90.0)])
    out = feature_stack(stack, ["30", "40"], {"red": "30", "nir": "40"}, ["ndvi"])
    assert out.shape == (3, 2, 2)
    assert out[2, 0, 0] == pytest.approx(0.5)
