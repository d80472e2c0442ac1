"""Small surveys for tests: a synthetic one with two edit rules and a PMM model fitted on it,
and a pipeline trained from a test's own records and scored at several chunk sizes (what
`mlstat predict` gives a user, for predictions that must not depend on the chunk size)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from mlstat_editimpute.loaders import DATA_DIR
from mlstat_editimpute.models import PmmModel
from mlstat_editimpute.params import PmmParams

from mlstat_core.components import ColumnRoles, Dataset

RULES = ["spend_vs_income: spend <= 4 * income", "food_in_spend: food <= spend"]


def small_survey(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Incomes, spending, food spending and a region code 1-3 that pass :data:`RULES`."""
    rng = np.random.default_rng(seed)
    income = np.round(np.exp(rng.normal(7, 0.4, n)), -1)
    spend = np.round(income * rng.uniform(0.6, 0.8, n), -1)
    food = np.round(spend * rng.uniform(0.15, 0.25, n), 0)
    region = rng.integers(1, 4, n).astype(float)
    return pd.DataFrame({"income": income, "spend": spend, "food": food, "region": region})


def fitted_pmm(frame: pd.DataFrame, infos: dict | None = None, **params: object) -> PmmModel:
    """A PMM model with :data:`RULES` fitted on ``frame`` (``infos``: its metadata)."""
    meta = {"variables": infos} if infos else {}
    ds = Dataset(frame, ColumnRoles(features=list(frame.columns)), metadata=meta)
    return PmmModel(PmmParams(rules=RULES, max_iter=20, **params)).fit(ds)

PIPELINE = """
[pipeline]
name = "scored"
task = "tabular_imputation"
[loader]
component = "editimpute.survey"
path = "train.csv"
metadata = {meta}
[split]
component = "core.insample"
[model]
component = "editimpute.pmm"
rules = {rules}
rank_match = false
max_iter = 20
iterations = 1
"""


def scored_by_chunks(tmp_path: Path, train: pd.DataFrame, new: pd.DataFrame,
                     sizes: tuple[int, ...], rules: tuple[str, ...] = ()
                     ) -> list[tuple[pd.DataFrame, list[str]]]:
    """Train the pipeline on ``train`` (with the bundled metadata and ``rules`` beside the
    plugin's), score ``new`` in chunks of each of ``sizes``: the output and warnings of each."""
    from mlstat_core import engine
    from mlstat_core.predict import predict_file

    train.to_csv(tmp_path / "train.csv", index=False)
    new.to_csv(tmp_path / "new.csv", index=False)
    (tmp_path / "p.toml").write_text(PIPELINE.format(
        meta=json.dumps((DATA_DIR / "budget_uk_metadata.csv").as_posix()),
        rules=json.dumps(list(rules))))
    result = engine.run(tmp_path / "p.toml", out=tmp_path / "runs")
    scored = []
    for size in sizes:
        summary = predict_file(result.run_dir, tmp_path / "new.csv", tmp_path / f"{size}.csv",
                               chunk_size=size)
        scored.append((pd.read_csv(tmp_path / f"{size}.csv"), summary.warnings))
    return scored
