"""The field-validation figures' intervals stay where the figures can be."""

import pytest


def test_accuracy_intervals_stay_within_0_and_1_and_areas_above_0():
    from mlstat_imagery.indicators import _interval

    assert _interval(0.98, 0.05, upper=1.0) == pytest.approx((0.93, 1.0))  # not above 1
    assert _interval(0.02, 0.05, upper=1.0) == pytest.approx((0.0, 0.07))
    assert _interval(120.0, 30.0) == (90.0, 150.0)  # an area (km2) has no upper bound


def field_context(tmp_path, truth: list[str], mapped: list[str]):
    """What the field-validation figures read: field points of these true and mapped classes
    on a map of 100 built-up and 300 other pixels of 1 ha."""
    import json
    from types import SimpleNamespace

    import pandas as pd
    from mlstat_imagery.mapping import SUMMARY_FILE

    from mlstat_core.components import ColumnRoles, Dataset

    ids = [f"p{i}" for i in range(len(truth))]
    frame = pd.DataFrame({"record_id": ids, "source": "field_point", "label": truth})
    test = Dataset(frame=frame, roles=ColumnRoles(id="record_id", target="label", features=[]),
                   metadata={"classes": ["built_up", "other"], "positive_label": "built_up"})
    summary = tmp_path / SUMMARY_FILE
    summary.write_text(json.dumps({"class_pixels": {"built_up": 100, "other": 300},
                                   "pixel_area_m2": 10_000}))
    return SimpleNamespace(test=test, predictions=pd.DataFrame({"prediction": mapped}),
                           model=SimpleNamespace(classes_=["built_up", "other"]),
                           outputs=[summary])


def test_a_map_class_without_field_points_is_a_warning_kept_in_the_details(tmp_path):
    """A quarter of the map is built-up, every field point falls there: the adjusted area of
    built-up (1 - 1/4 wrong) * 25% = 18.75% of the map rests on one stratum, the other 75%
    of the map has no point, and the figures said nothing about it."""
    from mlstat_imagery.indicators import FieldValidation

    ctx = field_context(tmp_path, ["built_up", "built_up", "built_up", "other"],
                        ["built_up"] * 4)
    with pytest.warns(UserWarning, match=r"^map class other covers 75\.0% of the mapped area "
                                         r"but no field point"):
        results = {r.name: r for r in FieldValidation().compute(ctx)}
    area = results["built_up_area_km2"]
    assert area.value == pytest.approx(0.1875 * 4.0)  # 400 pixels of 1 ha = 4 km2
    assert area.details["sampling_gaps"][0].startswith("map class other covers 75.0%")
    assert results["field_overall_accuracy"].details["sampling_gaps"] == \
        area.details["sampling_gaps"]
    assert "nodata" not in area.explanation  # every pixel of this scene has data


def test_the_area_explanation_says_nodata_pixels_are_not_estimated(tmp_path):
    """The bundled scene has 33,209 pixels without data (27 km²): the adjusted area is of the
    rest of the scene, which the explanation did not say."""
    import json
    from types import SimpleNamespace

    import pandas as pd
    from mlstat_imagery.indicators import FieldValidation
    from mlstat_imagery.mapping import SUMMARY_FILE

    from mlstat_core.components import ColumnRoles, Dataset

    truth = ["built_up", "built_up", "other", "other", "other"]
    mapped = ["built_up", "built_up", "built_up", "other", "other"]
    frame = pd.DataFrame({"record_id": list("abcde"), "source": "field_point", "label": truth})
    test = Dataset(frame=frame, roles=ColumnRoles(id="record_id", target="label", features=[]),
                   metadata={"classes": ["built_up", "other"], "positive_label": "built_up"})
    summary = tmp_path / SUMMARY_FILE
    summary.write_text(json.dumps({"class_pixels": {"built_up": 100, "other": 300},
                                   "nodata_pixels": 150, "pixel_area_m2": 10_000}))
    ctx = SimpleNamespace(test=test, predictions=pd.DataFrame({"prediction": mapped}),
                          model=SimpleNamespace(classes_=["built_up", "other"]),
                          outputs=[summary])
    area = {r.name: r for r in FieldValidation().compute(ctx)}["built_up_area_km2"]
    assert "The estimate covers the 4.0 km² of the scene with data in every band; the 1.5 " \
           "km² of nodata pixels (150) have no map class and are not estimated." \
        in area.explanation
    assert area.details["nodata_area_km2"] == pytest.approx(1.5)
    assert area.details["total_area_km2"] == pytest.approx(4.0)


def test_field_classes_the_model_never_learned_count_as_omissions(tmp_path):
    """Training blocks without forest: the forest field points failed the whole validation
    ("labels forest are not among the classes") instead of counting as omission errors."""
    import json
    from types import SimpleNamespace

    import pandas as pd
    from mlstat_imagery.indicators import FieldValidation
    from mlstat_imagery.mapping import SUMMARY_FILE

    from mlstat_core.components import ColumnRoles, Dataset

    truth = ["developed"] * 3 + ["water"] * 3 + ["forest"] * 2
    mapped = ["developed", "developed", "water", "water", "water", "water", "developed",
              "water"]
    frame = pd.DataFrame({"record_id": list("abcdefgh"), "source": "field_point",
                          "label": truth})
    test = Dataset(frame=frame, roles=ColumnRoles(id="record_id", target="label", features=[]),
                   metadata={"classes": ["developed", "forest", "water"],
                             "positive_label": "developed"})
    summary = tmp_path / SUMMARY_FILE
    summary.write_text(json.dumps({"class_pixels": {"developed": 100, "water": 300},
                                   "pixel_area_m2": 10_000}))
    ctx = SimpleNamespace(test=test, predictions=pd.DataFrame({"prediction": mapped}),
                          model=SimpleNamespace(classes_=["developed", "water"]),
                          outputs=[summary])
    with pytest.warns(UserWarning, match=r"^field class\(es\) forest \(2 points\) are not "
                                         r"among the model's classes \(developed, water\)"):
        results = {r.name: r for r in FieldValidation().compute(ctx)}
    details = results["field_overall_accuracy"].details
    assert details["classes"] == ["developed", "water", "forest"]
    # map rows, field columns: the forest points are a column with no row of their own
    assert details["matrix_map_rows_reference_columns"] == [[2, 0, 1], [1, 3, 1], [0, 0, 0]]
    assert details["field_classes_not_mapped"] == ["forest"]
    # hand-worked (Olofsson eq. 4, 9): W = (0.25, 0.75); forest = 0.25 * 1/3 + 0.75 * 1/5
    area = results["developed_area_km2"].details["all_classes"]
    assert area["forest"]["mapped_km2"] == 0
    assert area["forest"]["adjusted_km2"] == pytest.approx((0.25 / 3 + 0.75 / 5) * 4.0)
    assert results["field_overall_accuracy"].value == pytest.approx(0.25 * 2 / 3 + 0.75 * 3 / 5)
