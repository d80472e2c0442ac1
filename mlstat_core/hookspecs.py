"""The plugin contract: every hook a plugin may implement.

A plugin is a module registered under the entry-point group ``mlstat``; it implements any of
these hooks with ``@mlstat_core.hookimpl``. The component hooks only *declare* components
(returning :class:`~mlstat_core.components.ComponentSpec` objects); the code behind a spec is
imported when a pipeline first uses it. The lifecycle hooks let tracking and audit plugins
follow a run. The contract is versioned by :data:`CONTRACT_VERSION`; a plugin states the
versions it needs as a requirement on ``mlstat-core`` in its own ``pyproject.toml``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from mlstat_core.components import ComponentSpec
    from mlstat_core.tasks import TaskType

PROJECT = "mlstat"
CONTRACT_VERSION = "1.0"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def mlstat_tasks() -> list[TaskType]:
    """Declare task types this plugin introduces.

    Return a list of :class:`~mlstat_core.tasks.TaskType`. Built-in tasks are
    ``tabular_classification``, ``text_classification``, ``tabular_regression``,
    ``tabular_imputation`` and ``raster_segmentation``; declare a new one only when none of
    these fits what your loader yields and your model predicts.
    """


@hookspec
def mlstat_loaders() -> list[ComponentSpec]:
    """Declare data loaders.

    Return specs of ``kind="loader"``. The factory builds a
    :class:`~mlstat_core.components.Loader` whose ``load(base_dir)`` returns a ``Dataset``
    (a pandas frame, its column roles and the files it read, which are fingerprinted).
    """


@hookspec
def mlstat_splitters() -> list[ComponentSpec]:
    """Declare ways to split a data set into train, validation and test parts.

    Return specs of ``kind="splitter"``. The factory builds a
    :class:`~mlstat_core.components.Splitter` whose ``split(dataset, seed)`` returns one
    ``Split`` (holdout) or several (k-fold).
    """


@hookspec
def mlstat_transforms() -> list[ComponentSpec]:
    """Declare preprocessing steps (``kind="transform"``).

    The factory builds a :class:`~mlstat_core.components.Transform`: a function of one pandas
    partition applied before the model at fit and at predict time (text normalisation for
    tweets, say), listed in a pipeline file's ``[[preprocess]]`` tables and saved with the
    model, so that ``mlstat predict`` and every engine apply it too.
    """


@hookspec
def mlstat_models() -> list[ComponentSpec]:
    """Declare models.

    Return specs of ``kind="model"`` with the task types each serves. The factory builds a
    :class:`~mlstat_core.components.Model`: ``fit``, ``predict`` of one pandas partition,
    ``save`` to safe formats and ``load``.
    """


@hookspec
def mlstat_indicators() -> list[ComponentSpec]:
    """Declare quality indicators.

    Return specs of ``kind="indicator"``, each with its QF4SA ``dimension`` (accuracy,
    explainability, reproducibility, timeliness, cost_effectiveness) and the task types it
    serves. The factory builds an :class:`~mlstat_core.components.Indicator`.
    """


@hookspec
def mlstat_engines() -> list[ComponentSpec]:
    """Declare execution engines for batch prediction (``kind="engine"``).

    An engine scores a table with a saved model, partition by partition; ``local`` is built in.
    """


@hookspec
def mlstat_run_started(run: Any) -> None:
    """Called when a run starts, with a :class:`~mlstat_core.engine.RunInfo` (run id, folder,
    resolved config). For tracking and audit plugins; the return value is ignored."""


@hookspec
def mlstat_step_finished(run: Any, step: str, seconds: float, details: dict[str, Any]) -> None:
    """Called after each step of a run (``load``, ``split``, ``fit``, ``predict``,
    ``outputs``, ``assess``, ``persist``) with its duration in seconds and a few facts about
    it."""


@hookspec
def mlstat_run_finished(run: Any, result: Any) -> None:
    """Called when a run has succeeded, with its :class:`~mlstat_core.engine.RunResult`."""


@hookspec
def mlstat_run_failed(run: Any, error: BaseException) -> None:
    """Called when a run fails, with the error; the run folder already records the failure."""


COMPONENT_HOOKS: dict[str, str] = {
    "loader": "mlstat_loaders",
    "splitter": "mlstat_splitters",
    "transform": "mlstat_transforms",
    "model": "mlstat_models",
    "indicator": "mlstat_indicators",
    "engine": "mlstat_engines",
}
