"""Task types: the data contract between loaders, models and indicators.

A task type fixes what a loader yields (which column roles must be set), what a model's
predictions look like (which columns the prediction frame has) and so which indicators apply.
Plugins may declare new task types through the ``mlstat_tasks`` hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TaskType:
    """A kind of statistical ML task and the columns its predictions must carry."""

    name: str
    description: str
    needs_target: bool = True
    prediction_columns: tuple[str, ...] = ("prediction",)
    supervised: bool = True
    tags: tuple[str, ...] = field(default_factory=tuple)


TABULAR_CLASSIFICATION = TaskType(
    name="tabular_classification",
    description="Predict a categorical target from numeric and categorical columns.",
    prediction_columns=("prediction", "confidence"),
    tags=("classification",),
)
TEXT_CLASSIFICATION = TaskType(
    name="text_classification",
    description="Assign a code or label to free text (coding to a classification, sentiment).",
    prediction_columns=("prediction", "confidence"),
    tags=("classification", "text"),
)
TABULAR_REGRESSION = TaskType(
    name="tabular_regression",
    description="Predict a numeric target from numeric and categorical columns.",
    prediction_columns=("prediction",),
    tags=("regression",),
)
TABULAR_IMPUTATION = TaskType(
    name="tabular_imputation",
    description="Fill missing or wrong values in survey microdata consistently with edit rules.",
    needs_target=False,
    prediction_columns=(),
    supervised=False,
    tags=("imputation",),
)
RASTER_SEGMENTATION = TaskType(
    name="raster_segmentation",
    description="Classify each pixel of a raster scene (for example built-up against rural).",
    prediction_columns=("prediction", "confidence"),
    tags=("classification", "raster"),
)

BUILTIN_TASKS: tuple[TaskType, ...] = (
    TABULAR_CLASSIFICATION,
    TEXT_CLASSIFICATION,
    TABULAR_REGRESSION,
    TABULAR_IMPUTATION,
    RASTER_SEGMENTATION,
)


def is_classification(task: TaskType | str, tasks: dict[str, TaskType] | None = None) -> bool:
    """True when predictions of this task are class labels (so class metrics apply)."""
    if isinstance(task, str):
        known = tasks or {t.name: t for t in BUILTIN_TASKS}
        task = known[task]
    return "classification" in task.tags
