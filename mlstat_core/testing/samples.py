"""Small real data sets, one per task type, that the conformance checks fit models on.

The files ship inside the package (``mlstat_core/testing/data``, sources in ``SOURCE.md``), so
the checks work in a fresh install without network or the project's data folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlstat_core.components import ColumnRoles, Dataset

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class SampleSpec:
    """Where a task's sample lives and which column plays which part."""

    task: str
    file: str
    target: str | None
    text: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    """Columns where 15% of values are removed at random (seeded); the truth is kept in
    ``metadata["truth"]`` so that imputation can be assessed."""

    @property
    def path(self) -> Path:
        return DATA_DIR / self.file


_BUDGET_FEATURES = ("wfood", "wfuel", "wcloth", "walc", "wtrans", "wother", "totexp", "income",
                    "age")

SAMPLES: dict[str, SampleSpec] = {
    "tabular_classification": SampleSpec(
        "tabular_classification", "budget_uk_sample.csv", target="children",
        features=_BUDGET_FEATURES),
    "tabular_regression": SampleSpec(
        "tabular_regression", "budget_uk_sample.csv", target="wfood",
        features=("totexp", "income", "age", "children")),
    "text_classification": SampleSpec(
        "text_classification", "ecoicop_pl_sample.csv", target="category", text=("product",)),
    "tabular_imputation": SampleSpec(
        "tabular_imputation", "budget_uk_sample.csv", target=None,
        features=(*_BUDGET_FEATURES, "children"), missing=("income", "totexp", "wfood")),
}
"""Task type -> its sample; tasks not listed here need a data set from the plugin author."""

SAMPLE_TASKS: tuple[str, ...] = tuple(SAMPLES)


def sample_dataset(task: str) -> Dataset:
    """The sample data set of a task type, as a loader would yield it."""
    import pandas as pd

    if task not in SAMPLES:
        raise KeyError(
            f"no sample data set for task {task!r}; samples exist for {', '.join(SAMPLE_TASKS)}. "
            "Pass your own with datasets={task: Dataset(...)}"
        )
    spec = SAMPLES[task]
    frame = pd.read_csv(spec.path, encoding="utf-8", keep_default_na=False,
                        dtype={c: str for c in spec.text})
    if spec.text:
        frame[spec.target] = frame[spec.target].astype(str)
    roles = ColumnRoles(target=spec.target, features=list(spec.features), text=list(spec.text))
    metadata = {"sample": True, "task": task}
    if spec.missing:
        import numpy as np

        truth = frame.copy()
        rng = np.random.default_rng(0)
        for column in spec.missing:
            frame[column] = frame[column].astype(float)
            frame.loc[rng.random(len(frame)) < 0.15, column] = np.nan
        metadata["truth"] = truth
    return Dataset(frame=frame, roles=roles, name=spec.path.stem, sources=[spec.path],
                   metadata=metadata)


def sample_split(dataset: Dataset, test_share: float = 0.25, seed: int = 0,
                 ) -> tuple[Dataset, Dataset]:
    """A seeded train / test split that keeps every class in training (classification)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = len(dataset)
    positions = rng.permutation(n)
    n_test = max(1, int(round(n * test_share)))
    test, train = np.sort(positions[:n_test]), np.sort(positions[n_test:])
    return dataset.subset(train), dataset.subset(test)
