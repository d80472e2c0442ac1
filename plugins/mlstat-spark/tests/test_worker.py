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
    assert str(out["ok"].dtype) == "boolean"
    assert pd.api.types.is_string_dtype(out["code"].dtype) and out["code"].iloc[0] == "01.1"
    assert out["absent"].isna().all()
