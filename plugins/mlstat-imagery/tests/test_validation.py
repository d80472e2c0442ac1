"""Accuracy and area figures on hand-made matrices and Olofsson et al. (2014)'s example."""

from __future__ import annotations

import numpy as np
import pytest
from mlstat_imagery.validation import (
    cohen_kappa,
    confusion_matrix,
    overall_accuracy,
    producers_accuracy,
    sampling_gaps,
    stratified_estimates,
    users_accuracy,
)


def test_hand_made_matrix() -> None:
    # map rows, reference columns: 45 built-up correctly mapped, 5 omitted, 15 committed
    m = confusion_matrix(["b"] * 45 + ["o"] * 5 + ["b"] * 15 + ["o"] * 35,
                         ["b"] * 50 + ["o"] * 50, ["b", "o"])
    assert m.tolist() == [[45, 15], [5, 35]]
    assert overall_accuracy(m) == pytest.approx(0.8)
    # expected agreement (60*50 + 40*50) / 100^2 = 0.5 -> kappa (0.8 - 0.5) / 0.5
    assert cohen_kappa(m) == pytest.approx(0.6)
    assert users_accuracy(m, 0) == pytest.approx(45 / 60)
    assert producers_accuracy(m, 0) == pytest.approx(45 / 50)


def test_olofsson_worked_example() -> None:
    """Olofsson et al. 2014, section 5 (tables 8-10): 30 m pixels (0.09 ha)."""
    matrix = np.array([[66, 0, 5, 4], [0, 55, 8, 12], [1, 0, 153, 11], [2, 1, 9, 313]])
    mapped = [200_000, 150_000, 3_200_000, 6_450_000]
    est = stratified_estimates(matrix, mapped, pixel_area=0.09)
    assert est["area"] == pytest.approx([21_158, 11_686, 285_770, 581_386], abs=1)
    assert est["area_half_width"] == pytest.approx([6_158, 3_756, 15_510, 16_282], abs=1.5)
    assert est["users_accuracy"] == pytest.approx([0.88, 0.73, 0.93, 0.96], abs=0.005)
    assert est["producers_accuracy"] == pytest.approx([0.75, 0.85, 0.93, 0.96], abs=0.005)
    assert est["overall_accuracy"] == pytest.approx(0.95, abs=0.005)
    assert 1.96 * est["se_overall_accuracy"] == pytest.approx(0.02, abs=0.003)
    assert 1.96 * est["se_producers_accuracy"][0] == pytest.approx(0.21, abs=0.005)
    assert 1.96 * est["se_users_accuracy"][0] == pytest.approx(0.07, abs=0.005)


def test_map_classes_without_two_field_points_are_named() -> None:
    """Half the map is 'o' but no point is mapped 'o': the estimator's proportions then sum to
    0.5 (built-up 5/6 * 0.5, other 1/6 * 0.5), so the areas cover half the map, silently."""
    empty = np.array([[5, 1], [0, 0]])
    est = stratified_estimates(empty, [100, 100])
    assert est["proportion"].sum() == pytest.approx(0.5)  # what the gap costs
    assert sampling_gaps(empty, [100, 100], ["b", "o"]) == [
        "map class o covers 50.0% of the mapped area but no field point is mapped as it: the "
        "area-weighted accuracies and the error-adjusted areas leave that share out and are "
        "biased; add field points where the map shows o, or merge the class with another"]
    one = np.array([[5, 1], [1, 0]])
    assert stratified_estimates(one, [100, 100])["se_users_accuracy"][1] == 0  # no variance
    (gap,) = sampling_gaps(one, [100, 300], ["b", "o"])
    assert gap.startswith("map class o (75.0% of the mapped area) has one field point")
    assert "intervals are too narrow" in gap
    assert sampling_gaps(np.array([[5, 1], [1, 3]]), [100, 100], ["b", "o"]) == []
    # a class the map never shows needs no point
    assert sampling_gaps(np.array([[5, 1], [0, 0]]), [100, 0], ["b", "o"]) == []
