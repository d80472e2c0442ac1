"""What runs on the workers, without a Spark session: predictions conform to the schema."""

import pandas as pd
from mlstat_spark.worker import conform


def test_conform_orders_types_and_fills_missing_columns():
    frame = pd.DataFrame({"score": [1, None], "code": ["01.1", None], "n": [1.0, 2.0],
                          "ok": [True, False], "extra": [0, 0]})
    kinds = {"code": "string", "score": "double", "n": "long", "ok": "boolean",
             "absent": "string"}
    out = conform(frame, list(kinds), kinds)
    assert list(out.columns) == list(kinds)  # declared order; undeclared columns dropped
    assert str(out["score"].dtype) == "float64" and out["score"].isna().tolist() == [False, True]
    assert str(out["n"].dtype) == "Int64" and out["n"].tolist() == [1, 2]
    # numpy booleans and integers stay numpy, as the local engine writes them (no nulls)
    assert str(out["ok"].dtype) == "bool"
    assert str(conform(frame, ["extra"], {"extra": "long"})["extra"].dtype) == "int64"
    nullable = pd.DataFrame({"ok": [True, None], "n": pd.array([1, None], dtype="Int64")})
    held = conform(nullable, ["ok", "n"], {"ok": "boolean", "n": "long"})
    assert str(held["ok"].dtype) == "boolean" and str(held["n"].dtype) == "Int64"
    assert pd.api.types.is_string_dtype(out["code"].dtype) and out["code"].iloc[0] == "01.1"
    assert out["absent"].isna().all()


def test_a_partition_is_held_to_the_same_contract_as_the_local_engine():
    """Confidences given as percentages are refused on the workers too, naming the model;
    rows returned in another order are matched back to their records."""
    import pytest
    from mlstat_spark.worker import ROW_COLUMN, scored_partition

    from mlstat_core.components import ColumnRoles
    from mlstat_core.errors import ModelError
    from mlstat_core.registry import get_registry

    class Percent:
        roles = ColumnRoles(features=["x"])
        classes_ = ["a", "b"]

        def predict(self, frame):
            out = pd.DataFrame({"prediction": ["a"] * len(frame),
                                "confidence": [80.0] * len(frame)}, index=frame.index)
            return out.iloc[::-1] if len(frame) > 1 else out

    task = get_registry().tasks["tabular_classification"]
    batch = pd.DataFrame({"x": [1.0, 2.0], ROW_COLUMN: [7, 8]})
    with pytest.raises(ModelError, match="nso.percent.*not probabilities in \\[0, 1\\]"):
        scored_partition(batch.copy(), Percent(), ROW_COLUMN, task=task,
                         model_name="nso.percent")
    out = scored_partition(batch.copy(), Percent(), ROW_COLUMN)  # no task: no column check
    assert out["record_id"].tolist() == [7, 8] and out.index.tolist() == [7, 8]
