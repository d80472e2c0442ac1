"""The core's built-in components, declared through the public hooks like any plugin."""

from __future__ import annotations

from typing import Any

from mlstat_core.components import ComponentSpec, NoParams
from mlstat_core.hookspecs import hookimpl

TABULAR = ("tabular_classification",)
REGRESSION = ("tabular_regression",)
_B = "mlstat_core.builtins"


@hookimpl
def mlstat_loaders() -> list[ComponentSpec]:
    from mlstat_core.builtins.params import TableParams

    return [ComponentSpec(
        name="table", kind="loader", factory=f"{_B}.loaders:TableLoader", params=TableParams,
        description="A CSV, Parquet or Excel table with column roles (id, target, features, "
                    "text, weights, groups).")]


@hookimpl
def mlstat_splitters() -> list[ComponentSpec]:
    from mlstat_core.builtins.params import (
        GroupParams,
        HoldoutParams,
        KFoldParams,
        StratifiedParams,
    )

    return [
        ComponentSpec("holdout", "splitter", f"{_B}.splitters:HoldoutSplitter", HoldoutParams,
                      description="Random train / validation / test partition."),
        ComponentSpec("stratified", "splitter", f"{_B}.splitters:StratifiedSplitter",
                      StratifiedParams,
                      description="Holdout keeping each class's share (classification tasks); "
                                  "a class of one record stays in training."),
        ComponentSpec("kfold", "splitter", f"{_B}.splitters:KFoldSplitter", KFoldParams,
                      description="k-fold cross-validation (stratified for classification "
                                  "tasks)."),
        ComponentSpec("insample", "splitter", f"{_B}.splitters:InSampleSplitter", NoParams,
                      description="No holdout: fit and assess on every record (editing and "
                                  "imputation)."),
        ComponentSpec("group", "splitter", f"{_B}.splitters:GroupSplitter", GroupParams,
                      description="Holdout keeping each group's records together; sizes are "
                                  "shares of groups."),
    ]


@hookimpl
def mlstat_models() -> list[ComponentSpec]:
    from mlstat_core.builtins.params import (
        BoostingParams,
        ForestParams,
        ForestRegressorParams,
        LogisticParams,
    )

    return [
        ComponentSpec("logistic_regression", "model", f"{_B}.models:LogisticRegressionModel",
                      LogisticParams, TABULAR,
                      "Multinomial logistic regression on scaled and one-hot encoded columns."),
        ComponentSpec("random_forest", "model", f"{_B}.models:RandomForestModel", ForestParams,
                      TABULAR, "Random forest classifier."),
        ComponentSpec("gradient_boosting", "model", f"{_B}.models:GradientBoostingModel",
                      BoostingParams, TABULAR,
                      "Histogram gradient boosting; handles missing numbers natively (no "
                      "imputation); missing categories take the most frequent one."),
        ComponentSpec("random_forest_regressor", "model",
                      f"{_B}.models:RandomForestRegressorModel", ForestRegressorParams,
                      REGRESSION, "Random forest regressor for a numeric target."),
        ComponentSpec("majority", "model", f"{_B}.models:MajorityModel", NoParams,
                      (*TABULAR, "text_classification"),
                      "Predicts the most frequent class: the baseline to beat (tables and "
                      "texts)."),
    ]


@hookimpl
def mlstat_engines() -> list[ComponentSpec]:
    return [ComponentSpec("local", "engine", "mlstat_core.predict:LocalEngine", NoParams,
                          description="In-process scoring in chunks of bounded memory.")]


@hookimpl
def mlstat_indicators() -> list[ComponentSpec]:
    from mlstat_core.quality.specs import INDICATORS

    return list(INDICATORS)


def conformance_options() -> dict[str, Any]:
    """Options of the conformance suite for the core's own components (its pytest test and
    ``python -m mlstat_core.testing core``): the params that have no default."""
    from mlstat_core.testing.samples import SAMPLES

    return {"examples": {
        "core.table": {"path": str(SAMPLES["tabular_classification"].path),
                       "target": "children"},
        "core.hierarchical_accuracy": {"levels": [1, 2]},
    }}
