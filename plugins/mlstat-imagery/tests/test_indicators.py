"""The field-validation figures' intervals stay where the figures can be."""

import pytest


def test_accuracy_intervals_stay_within_0_and_1_and_areas_above_0():
    from mlstat_imagery.indicators import _interval

    assert _interval(0.98, 0.05, upper=1.0) == pytest.approx((0.93, 1.0))  # not above 1
    assert _interval(0.02, 0.05, upper=1.0) == pytest.approx((0.0, 0.07))
    assert _interval(120.0, 30.0) == (90.0, 150.0)  # an area (km2) has no upper bound
