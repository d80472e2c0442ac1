"""Hand-built assessment contexts for the quality and report tests (imported by them), and
checks that the synthetic imputation context is what the other tests assume.

Data: the real UK budget survey (tests/data/budget_uk.csv, see tests/data/SOURCE.md).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.builtins.models import LogisticRegressionModel
from mlstat_core.builtins.params import LogisticParams
from mlstat_core.components import AssessContext, ColumnRoles, Dataset, Model
from mlstat_core.sklearn_model import classification_frame
from mlstat_core.tasks import TABULAR_CLASSIFICATION, TABULAR_IMPUTATION

DATA = Path(__file__).parent / "data" / "budget_uk.csv"
SHARES = ["wfood", "wfuel", "wcloth", "walc", "wtrans", "wother"]
FEATURES = [*SHARES, "totexp", "income", "age"]


def budget() -> pd.DataFrame:
    return pd.read_csv(DATA)


@lru_cache(maxsize=4)
def _fitted(seed: int) -> tuple[LogisticRegressionModel, Dataset, Dataset, Dataset]:
    data = Dataset(budget(), ColumnRoles(target="children", features=FEATURES), name="budget")
    order = np.random.default_rng(seed).permutation(len(data))
    train = data.subset(order[:900])
    validation = data.subset(order[900:1100])
    test = data.subset(order[1100:])
    model = LogisticRegressionModel(LogisticParams())
    model.seed = seed
    model.fit(train)
    return model, train, validation, test


def budget_context(seed: int = 0, validation: bool = False, **fields: Any) -> AssessContext:
    """A logistic regression predicting `children` from the budget data, assessed on 419
    held-out households."""
    model, train, valid, test = _fitted(seed)
    ctx = AssessContext(task=TABULAR_CLASSIFICATION, model=model, train=train, test=test,
                        predictions=model.predict(test.frame), seed=seed,
                        validation=valid if validation else None)
    for key, value in fields.items():
        setattr(ctx, key, value)
    return ctx


class StubModel(Model):
    """A model whose outputs are given: for contexts built from labels."""

    def __init__(self, classes: list[Any] | None = None, explanation: Any = None,
                 explained: pd.DataFrame | None = None) -> None:
        super().__init__(task="tabular_classification")
        self.classes_ = classes
        self._explanation = explanation
        self._explained = explained

    def fit(self, train: Dataset, validation: Dataset | None = None) -> StubModel:
        return self

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError

    def save(self, directory: Path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, directory: Path) -> StubModel:
        raise NotImplementedError

    def global_explanation(self) -> Any:
        return self._explanation

    def explain(self, frame: pd.DataFrame, top: int = 5) -> pd.DataFrame | None:
        return self._explained


def label_context(
    y_true: list[Any], y_pred: list[Any], confidence: list[float] | None = None,
    proba: np.ndarray | None = None, classes: list[Any] | None = None, seed: int = 0,
    **fields: Any,
) -> AssessContext:
    """A context whose truth and predictions are given directly."""
    frame = pd.DataFrame({"y": y_true, "x": np.arange(len(y_true))})
    data = Dataset(frame, ColumnRoles(target="y", features=["x"]))
    if proba is not None:
        predictions = classification_frame(frame.index, classes, proba)
        predictions["prediction"] = y_pred
    else:
        predictions = pd.DataFrame({"prediction": y_pred}, index=frame.index)
    if confidence is not None:
        predictions["confidence"] = confidence
    ctx = AssessContext(task=TABULAR_CLASSIFICATION, model=StubModel(classes), train=data,
                        test=data, predictions=predictions, seed=seed)
    for key, value in fields.items():
        setattr(ctx, key, value)
    return ctx


def imputation_context(shift: float = 0.0, seed: int = 3, share: float = 0.2,
                       truth: bool = True, mask: bool = False) -> AssessContext:
    """Budget households with `income` and `wfood` deleted at random (MCAR, ``share`` of the
    records each) and imputed: income by its linear regression on totexp in complete records (plus
    ``shift``), wfood by its median. The edit rule "budget shares sum to 1 (within 0.01)"
    fails where the imputed wfood breaks the sum.
    """
    rng = np.random.default_rng(seed)
    true = budget().iloc[:600].copy()
    given = true.copy()
    holes = {v: rng.random(len(true)) < share for v in ("income", "wfood")}
    for v, hole in holes.items():
        given.loc[hole, v] = np.nan
    completed = given.copy()
    ok = given["income"].notna()
    slope, intercept = np.polyfit(given.loc[ok, "totexp"], given.loc[ok, "income"], 1)
    completed.loc[holes["income"], "income"] = \
        intercept + slope * given.loc[holes["income"], "totexp"] + shift
    completed.loc[holes["wfood"], "wfood"] = given["wfood"].median()
    passes = (completed[SHARES].sum(axis=1) - 1).abs() <= 0.01
    data = Dataset(given, ColumnRoles(features=list(given.columns)), name="budget")
    metadata: dict[str, Any] = {"edit_pass": passes}
    if truth:
        metadata["truth"] = true[["income", "wfood"]]
    if mask:
        metadata["imputed_mask"] = pd.DataFrame(holes, index=true.index)
    data.metadata = metadata
    return AssessContext(task=TABULAR_IMPUTATION, model=StubModel(), train=data, test=data,
                         predictions=completed[["income", "wfood"]], seed=seed)


# --- checks of the builders ---------------------------------------------------------------------


def test_budget_data_is_the_real_survey() -> None:
    frame = budget()
    assert frame.shape == (1519, 10)
    assert np.allclose(frame[SHARES].sum(axis=1), 1, atol=0.01)
    assert set(frame["children"]) == {1, 2}


def test_imputation_context_injects_and_fills_the_holes() -> None:
    ctx = imputation_context()
    truth = ctx.test.metadata["truth"]
    holes = ctx.test.frame["income"].isna()
    assert 0.1 < holes.mean() < 0.3
    assert ctx.predictions["income"].notna().all()
    assert (ctx.predictions.loc[~holes, "income"] == truth.loc[~holes, "income"]).all()
    passes = ctx.test.metadata["edit_pass"]
    assert passes[ctx.test.frame["wfood"].notna()].all()
    assert not passes[ctx.test.frame["wfood"].isna()].all()
