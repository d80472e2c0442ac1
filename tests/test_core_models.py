"""The built-in tabular models: what each does with missing values and categories."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlstat_core.builtins.models import (
    GradientBoostingModel,
    LogisticRegressionModel,
    RandomForestModel,
)
from mlstat_core.builtins.params import BoostingParams
from mlstat_core.components import ColumnRoles, Dataset

TASK = "tabular_classification"


def missing_means_b(records: int = 600) -> pd.DataFrame:
    """Class a has x in {0, 1, 2}; class b has x always missing: only the missingness tells."""
    rng = np.random.default_rng(0)
    y = np.where(np.arange(records) % 2 == 0, "a", "b")
    x = np.where(y == "a", rng.integers(0, 3, records).astype(float), np.nan)
    return pd.DataFrame({"x": x, "y": y})


def dataset(frame: pd.DataFrame, features: list[str]) -> Dataset:
    return Dataset(frame=frame.reset_index(drop=True),
                   roles=ColumnRoles(target="y", features=features), name="t")


def accuracy(model, frame: pd.DataFrame) -> float:
    return float((model.predict(frame)["prediction"] == frame["y"]).mean())


def fitted_boosting(frame: pd.DataFrame) -> GradientBoostingModel:
    return GradientBoostingModel(BoostingParams(), TASK).fit(dataset(frame, ["x"]))


def test_gradient_boosting_learns_from_missing_numbers_as_documented():
    """Missing numbers reach the trees (no median imputation), as plain
    HistGradientBoostingClassifier has them: the missingness alone separates the classes."""
    frame = missing_means_b()
    train, test = frame.iloc[:400], frame.iloc[400:]
    assert accuracy(fitted_boosting(train), test) == 1.0


def test_a_gradient_boosting_model_saved_with_an_imputer_loads_and_predicts_alike(
        tmp_path: Path, monkeypatch):
    """Run folders saved before keep the median imputer in their pipeline, and use it."""
    frame = missing_means_b()
    monkeypatch.setattr(GradientBoostingModel, "impute", True)  # the old preprocessing
    old = fitted_boosting(frame.iloc[:400])
    old.save(tmp_path / "model")
    monkeypatch.undo()
    loaded = GradientBoostingModel.load(tmp_path / "model")
    test = frame.iloc[400:]
    pd.testing.assert_frame_equal(loaded.predict(test), old.predict(test))
    assert accuracy(loaded, test) < 1.0  # the imputer is still there: b looks like a's x=1


def test_gradient_boosting_takes_categories_of_many_levels(tmp_path: Path):
    """Many one-hot columns made the prepared matrix sparse, which the trees refuse; the
    model fits, saves, loads and predicts."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"place": [f"p{i}" for i in rng.integers(0, 100, 2000)],
                          "x": rng.normal(size=2000), "y": rng.choice(["a", "b"], 2000)})
    frame.loc[:9, "x"] = np.nan
    model = GradientBoostingModel(BoostingParams(max_iter=5), TASK)
    model.fit(dataset(frame, ["place", "x"]))
    model.save(tmp_path / "model")
    loaded = GradientBoostingModel.load(tmp_path / "model")
    pd.testing.assert_frame_equal(loaded.predict(frame.head(50)), model.predict(frame.head(50)))


@pytest.mark.parametrize("model_type", [LogisticRegressionModel, RandomForestModel])
def test_other_models_still_impute_missing_numbers(model_type):
    """Logistic regression and random forests take no NaN: their median imputation stays."""
    frame = missing_means_b()
    model = model_type(task=TASK).fit(dataset(frame, ["x"]))
    predicted = model.predict(frame)
    assert predicted["prediction"].notna().all()
    assert type(model.estimator.named_steps["prepare"].named_transformers_["numeric"]
                .steps[0][1]).__name__ == "SimpleImputer"


def test_nullable_integer_columns_with_missing_values_train_and_score() -> None:
    import mlstat_core.builtins.models as models

    frame = pd.DataFrame({"x": pd.array([1, 2, None, 4] * 30, dtype="Int64"),
                          "y": ["a", "b", "a", "b"] * 30})
    data = Dataset(frame, ColumnRoles(target="y", features=["x"]))
    model = models.GradientBoostingModel(BoostingParams()).fit(data, None)
    assert len(model.predict(frame)) == len(frame)  # Parquet's nullable ints, pd.NA included


def in_a_new_process(code: str, **environment: str) -> str:
    """What ``code`` prints in a fresh Python process, with ``environment`` added."""
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **environment}, check=True).stdout


def test_small_fits_use_one_native_thread_even_when_sklearn_loads_it_late():
    """threadpoolctl limits only loaded libraries, and scikit-learn loads its OpenMP runtime
    with the estimators: a fresh process that imports them inside the limit still gets one
    thread for small data (four asked by the environment), and all four for large data."""
    code = ("from mlstat_core.threads import few_threads\n"
            "for records in (1_000, 1_000_000):\n"
            "    with few_threads(records):\n"
            "        from sklearn.ensemble import HistGradientBoostingRegressor  # noqa\n"
            "        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads\n"
            "        print(_openmp_effective_n_threads())\n")
    assert in_a_new_process(code, OMP_NUM_THREADS="4").split() == ["1", "4"]


def test_one_thread_reaches_the_blas_that_numpy_ships():
    """numpy 2's wheels bundle their own OpenBLAS (scipy-openblas, other symbol names), which
    threadpoolctl below 3.5 neither saw nor limited: fits said to run on one thread used two
    (and took 4x longer beside another busy process). In a fresh process asked for four BLAS
    threads, the library in numpy's folder is found and held to one inside the limit."""
    code = ("import json, numpy\n"
            "from pathlib import Path\n"
            "from threadpoolctl import threadpool_info\n"
            "from mlstat_core.threads import limited_threads\n"
            "libs = Path(numpy.__file__).parent.parent / 'numpy.libs'\n"
            "shipped = sorted(p.name for p in libs.glob('*openblas*')) if libs.is_dir() else []\n"
            "with limited_threads(1):\n"
            "    seen = {Path(i['filepath']).name: i['num_threads'] for i in threadpool_info()\n"
            "            if i['user_api'] == 'blas'}\n"
            "print(json.dumps({'shipped': shipped, 'seen': seen}))\n")
    found = json.loads(in_a_new_process(code, OPENBLAS_NUM_THREADS="4"))
    assert found["seen"] and set(found["seen"].values()) == {1}, found
    assert set(found["shipped"]) <= set(found["seen"]), f"numpy's BLAS not limited: {found}"
